/**
 * `scripts/api_dump.ts` end to end: a subprocess logs in to a reference server, pages and
 * decrypts everything, prints counts; refuses an untrusted modulus.
 */
import assert from "node:assert/strict";
import { startApiServer } from "../src/api_server/server.ts";
import { totpCode } from "../src/crypto/totp.ts";

const SCRIPT = new URL("../scripts/api_dump.ts", import.meta.url).pathname;

async function dump(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("api_dump: pages and decrypts a seeded mailbox, prints counts", async () => {
  const server = await startApiServer({ port: 0, quiet: true });
  try {
    await server.createUser({ email: "dump@example.test", password: "pw", messages: 40 });
    const r = await dump([
      "--url",
      server.url,
      "--user",
      "dump@example.test",
      "--password",
      "pw",
      "--trust-server-modulus",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.messages, 40);
    assert.equal(summary.failures, 0);
    assert.ok(summary.bytes > 0);
    assert.match(r.stderr, /warning: trusting the SRP modulus key/);
    assert.doesNotMatch(r.stdout + r.stderr, /pw\b/);
  } finally {
    await server.close();
  }
});

Deno.test("api_dump: two passwords and TOTP with a modulus key file; untrusted modulus refused", async () => {
  const server = await startApiServer({ port: 0, quiet: true });
  const dir = await Deno.makeTempDir();
  try {
    const secret = "JBSWY3DPEHPK3PXP";
    await server.createUser({
      email: "two@example.test",
      password: "login-pw",
      mailboxPassword: "mbox-pw",
      totpSecret: secret,
      messages: 5,
    });
    const keyFile = `${dir}/modulus.asc`;
    await Deno.writeTextFile(keyFile, server.modulusPublicKey);
    const base = ["--url", server.url, "--user", "two@example.test", "--password", "login-pw"];
    const ok = await dump([
      ...base,
      "--mailbox-password",
      "mbox-pw",
      "--totp",
      totpCode(secret),
      "--trust-modulus-key",
      keyFile,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /messages: +5 \(of 5 listed\)/);
    assert.match(ok.stdout, /failures: +0/);

    // A key that did not sign the modulus: refused before any password proof is sent.
    const { PROTON_MODULUS_PUBKEY } = await import("../src/crypto/srp_constants.ts");
    const otherKey = `${dir}/proton.asc`;
    await Deno.writeTextFile(otherKey, PROTON_MODULUS_PUBKEY);
    const refused = await dump([...base, "--trust-modulus-key", otherKey]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /modulus/);

    const usage = await dump(["--url", server.url]);
    assert.equal(usage.code, 2);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
