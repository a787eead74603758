import assert from "node:assert/strict";
import * as tls from "node:tls";
import { generateCertificate } from "./certificate.ts";
import { startListener } from "./listener.ts";
import type { NodeSocketConnection } from "./socket_connection.ts";

Deno.test("implicit TLS: a connection that never starts its handshake is closed in time", async () => {
  const pair = await generateCertificate();
  const logs: string[] = [];
  const accepted: NodeSocketConnection[] = [];
  const listener = await startListener({
    protocol: "IMAP",
    hostname: "127.0.0.1",
    port: 0,
    security: "ssl",
    tls: pair,
    handshakeTimeoutMs: 300,
    onConnection: (conn) => accepted.push(conn),
    log: (m) => logs.push(m),
  });
  try {
    // Plain TCP, nothing sent: closed after the handshake limit.
    const idle = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    const started = Date.now();
    const read = await Promise.race([
      idle.read(new Uint8Array(16)),
      new Promise<"open">((r) => setTimeout(() => r("open"), 3000)),
    ]);
    assert.equal(read, null, "closed by the server");
    assert.ok(Date.now() - started < 2000);
    idle.close();
    assert.match(logs.join("\n"), /no TLS handshake within 300 ms; closed/);
    // A real client completes its handshake and is not cut by the limit afterwards.
    const client = tls.connect({
      host: "127.0.0.1",
      port: listener.port,
      rejectUnauthorized: false,
    });
    await new Promise<void>((resolve, reject) => {
      client.once("secureConnect", () => resolve());
      client.once("error", reject);
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(accepted.length, 1);
    assert.equal(client.destroyed, false);
    client.destroy();
    for (const conn of accepted) conn.destroy();
  } finally {
    await listener.close();
  }
});
