import assert from "node:assert/strict";
import { connect } from "node:net";
import { generateCertificate } from "../tls/certificate.ts";
import { isLoopback, startSmtpServer } from "./server.ts";

const handlers = {
  authenticator: { authenticate: () => Promise.resolve(null) },
  submission: { submit: () => Promise.resolve({}) },
  log: () => {},
};

Deno.test("server: loopback detection", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopback(h), h);
  }
  for (const h of ["0.0.0.0", "192.168.1.2", "::", "example.com"]) assert.ok(!isLoopback(h), h);
});

Deno.test("server: clear errors for missing or bad TLS credentials and a taken port", async () => {
  await assert.rejects(
    startSmtpServer({ ...handlers, security: "ssl" }),
    /SMTP security "ssl" needs a TLS certificate and key/,
  );
  await assert.rejects(
    startSmtpServer({ ...handlers, tls: { certPem: "x", keyPem: "y" } }),
    /unusable TLS certificate for SMTP/,
  );
  const a = await generateCertificate();
  const b = await generateCertificate();
  await assert.rejects(
    startSmtpServer({ ...handlers, tls: { certPem: a.certPem, keyPem: "junk" } }),
    /unusable TLS private key for SMTP/,
  );
  await assert.rejects(
    startSmtpServer({ ...handlers, tls: { certPem: a.certPem, keyPem: b.keyPem } }),
    /does not belong to its certificate/,
  );
  const first = await startSmtpServer({ ...handlers, tls: a });
  try {
    assert.equal(first.security, "starttls");
    assert.equal(first.hostname, "127.0.0.1");
    await assert.rejects(
      startSmtpServer({ ...handlers, port: first.port }),
      new RegExp(`SMTP port ${first.port} on 127.0.0.1 is already in use`),
    );
  } finally {
    await first.close();
  }
});

Deno.test("server: greets, counts connections, close() is idempotent", async () => {
  const server = await startSmtpServer({ ...handlers });
  assert.equal(server.security, "none");
  const sock = connect(server.port, "127.0.0.1");
  const greeting = await new Promise<string>((resolve) =>
    sock.once("data", (d) => resolve(String(d)))
  );
  assert.equal(greeting, "220 127.0.0.1 ESMTP bridge\r\n");
  assert.equal(server.connections, 1);
  const ended = new Promise<string>((resolve) => {
    let all = "";
    sock.on("data", (d) => (all += String(d)));
    sock.on("close", () => resolve(all));
  });
  await Promise.all([server.close(), server.close()]);
  assert.equal(await ended, "421 4.3.2 127.0.0.1 Service shutting down\r\n");
  assert.equal(server.connections, 0);
});
