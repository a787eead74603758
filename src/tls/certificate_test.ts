import "reflect-metadata";
import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  CertificateError,
  exportCert,
  generateCertificate,
  importCert,
  IMPORTED_MARKER,
  loadOrCreate,
} from "./certificate.ts";

const DAY = 86_400_000;

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "bridge_tls_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function hasOpenssl(): Promise<boolean> {
  try {
    const out = await new Deno.Command("openssl", { args: ["version"], stdout: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}
const OPENSSL = await hasOpenssl();

async function openssl(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success && args[0] !== "s_client") throw new Error(`openssl ${args[0]}: ${text}`);
  return text;
}

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

Deno.test("generateCertificate: self-signed ECDSA P-256 for 127.0.0.1, ::1, localhost, 2 years", async () => {
  const now = new Date("2030-01-15T12:00:00Z");
  const pair = await generateCertificate({ now });
  assert.match(pair.certPem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
  assert.match(pair.keyPem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
  const cert = new x509.X509Certificate(pair.certPem);
  assert.ok(await cert.isSelfSigned(crypto));
  assert.ok(await cert.verify({ date: now, publicKey: cert.publicKey }, crypto));
  const alg = cert.publicKey.algorithm as EcKeyAlgorithm;
  assert.equal(alg.name, "ECDSA");
  assert.equal(alg.namedCurve, "P-256");
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
  assert.deepEqual(
    san.names.toJSON().map((n) => `${n.type}:${n.value}`).sort(),
    ["dns:localhost", "ip:127.0.0.1", "ip:::1"],
  );
  assert.equal(cert.getExtension(x509.BasicConstraintsExtension)!.ca, false);
  const days = (cert.notAfter.getTime() - now.getTime()) / DAY;
  assert.ok(days > 729 && days <= 730, `validity ${days} days`);
  assert.ok(cert.notBefore <= now);
  // Serial numbers are random.
  const other = new x509.X509Certificate((await generateCertificate({ now })).certPem);
  assert.notEqual(other.serialNumber, cert.serialNumber);
});

/** Connects with node:tls trusting `ca`; resolves to the authorisation error, or "ok". */
function tryConnect(port: number, ca: string | undefined, servername?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: ca ? [ca] : undefined, servername });
    socket.once("secureConnect", () => {
      const result = socket.authorized ? "ok" : String(socket.authorizationError);
      socket.once("data", (d) => {
        socket.end();
        resolve(String(d).trim() === "hello" ? result : `bad data ${d}`);
      });
    });
    socket.once("error", (err) => resolve(err.message));
  });
}

Deno.test("node:tls serves the generated certificate; clients validate 127.0.0.1 and localhost", async () => {
  const pair = await generateCertificate();
  const server = tls.createServer({ cert: pair.certPem, key: pair.keyPem }, (s) => s.end("hello"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    assert.equal(await tryConnect(port, pair.certPem), "ok"); // IP SAN 127.0.0.1
    assert.equal(await tryConnect(port, pair.certPem, "localhost"), "ok"); // DNS SAN
    // Not trusted without the certificate as CA, and not valid for other names.
    assert.match(await tryConnect(port, undefined), /self-signed/);
    assert.match(await tryConnect(port, pair.certPem, "example.com"), /does not match/);
    const stranger = await generateCertificate();
    assert.match(await tryConnect(port, stranger.certPem), /unable to verify/);

    if (OPENSSL) {
      await withDir(async (dir) => {
        await Deno.writeTextFile(join(dir, "ca.pem"), pair.certPem);
        const base = ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", "ca.pem"];
        const byIp = await openssl(
          [...base, "-verify_return_error", "-verify_ip", "127.0.0.1"],
          dir,
        );
        assert.match(byIp, /Verify return code: 0 \(ok\)/);
        const byName = await openssl(
          [
            ...base,
            "-servername",
            "localhost",
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
          ],
          dir,
        );
        assert.match(byName, /Verify return code: 0 \(ok\)/);
        const wrong = await openssl([...base, "-verify_hostname", "example.com"], dir);
        assert.match(wrong, /Verify return code: 62 \(hostname mismatch\)/);
      });
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("Deno.listenTls serves the generated certificate; Deno.connectTls validates it", async () => {
  const pair = await generateCertificate();
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: pair.certPem,
    key: pair.keyPem,
  });
  const serving = (async () => {
    for await (const conn of listener) {
      try {
        await conn.write(new TextEncoder().encode("hi"));
      } catch { /* client went away */ }
      conn.close();
    }
  })();
  try {
    for (const hostname of ["127.0.0.1", "localhost"]) {
      const conn = await Deno.connectTls({
        hostname,
        port: listener.addr.port,
        caCerts: [pair.certPem],
      });
      const buf = new Uint8Array(2);
      assert.equal(await conn.read(buf), 2);
      assert.equal(new TextDecoder().decode(buf), "hi");
      conn.close();
    }
  } finally {
    listener.close();
    await serving;
  }
});

Deno.test("loadOrCreate: creates cert.pem and a 0600 key.pem once, then loads them", async () => {
  await withDir(async (base) => {
    const dir = join(base, "data");
    const first = await loadOrCreate(dir);
    assert.equal(first.action, "created");
    assert.equal(first.source, "generated");
    assert.equal(first.certFile, join(dir, "cert.pem"));
    assert.equal(first.keyFile, join(dir, "key.pem"));
    assert.deepEqual(first.names.sort(), ["127.0.0.1", "::1", "localhost"].sort());
    assert.match(first.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(await Deno.readTextFile(first.certFile), first.certPem);
    assert.equal(await Deno.readTextFile(first.keyFile), first.keyPem);
    if (Deno.build.os !== "windows") {
      assert.equal(mode(first.keyFile), 0o600);
      assert.equal(mode(first.certFile), 0o644);
    }
    const second = await loadOrCreate(dir);
    assert.equal(second.action, "loaded");
    assert.equal(second.fingerprint, first.fingerprint);
    assert.equal(second.note, undefined);
    // No temporary files are left behind.
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["cert.pem", "key.pem"]);
  });
});

Deno.test("loadOrCreate: renews within 30 days of expiry and after it, not before", async () => {
  await withDir(async (dir) => {
    const first = await loadOrCreate(dir);
    const expiry = first.notAfter.getTime();
    const early = await loadOrCreate(dir, { now: new Date(expiry - 31 * DAY) });
    assert.equal(early.action, "loaded");
    assert.equal(early.fingerprint, first.fingerprint);

    const soon = new Date(expiry - 29 * DAY);
    const renewed = await loadOrCreate(dir, { now: soon });
    assert.equal(renewed.action, "renewed");
    assert.notEqual(renewed.fingerprint, first.fingerprint);
    assert.match(renewed.note ?? "", /expired or was about to/);
    assert.ok(renewed.notAfter.getTime() - soon.getTime() > 729 * DAY);

    const late = new Date(renewed.notAfter.getTime() + DAY);
    const again = await loadOrCreate(dir, { now: late });
    assert.equal(again.action, "renewed");
    assert.equal((await loadOrCreate(dir, { now: late })).action, "loaded");
  });
});

Deno.test("loadOrCreate: a damaged or half-missing generated pair is replaced", async () => {
  await withDir(async (dir) => {
    const first = await loadOrCreate(dir);
    await Deno.writeTextFile(first.certFile, "garbage");
    const a = await loadOrCreate(dir);
    assert.equal(a.action, "renewed");
    assert.match(a.note ?? "", /unusable: .*holds no PEM certificate/);

    await Deno.remove(a.keyFile);
    const b = await loadOrCreate(dir);
    assert.equal(b.action, "renewed");
    assert.match(b.note ?? "", /key\.pem was missing/);

    // A key from another pair: mismatched.
    const other = await generateCertificate();
    await Deno.writeTextFile(b.keyFile, other.keyPem);
    const c = await loadOrCreate(dir);
    assert.equal(c.action, "renewed");
    assert.match(c.note ?? "", /does not belong to the certificate/);
  });
});

Deno.test("exportCert: the certificate only, to a string or a file; made first if missing", async () => {
  await withDir(async (dir) => {
    const pem = await exportCert(join(dir, "data"));
    assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
    assert.ok(!pem.includes("PRIVATE KEY"));
    assert.equal(pem, await Deno.readTextFile(join(dir, "data", "cert.pem")));
    const out = join(dir, "exported.pem");
    assert.equal(await exportCert(join(dir, "data"), out), pem);
    assert.equal(await Deno.readTextFile(out), pem);
    await assert.rejects(
      exportCert(join(dir, "data"), join(dir, "no", "such", "dir", "x.pem")),
      (err: Error) => err instanceof CertificateError && /Cannot write .*x\.pem/.test(err.message),
    );
  });
});

/** Writes a pair into `dir` under the given names; returns the paths. */
async function writePair(dir: string, name: string, pem: { certPem: string; keyPem: string }) {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await Deno.writeTextFile(cert, pem.certPem);
  await Deno.writeTextFile(key, pem.keyPem);
  return { cert, key };
}

Deno.test("importCert: a valid pair replaces the generated one and is never auto-renewed", async () => {
  await withDir(async (base) => {
    const dir = join(base, "data");
    const generated = await loadOrCreate(dir);
    const mine = await generateCertificate({ validDays: 90 });
    const files = await writePair(base, "mine", mine);
    const info = await importCert(dir, files.cert, files.key);
    assert.equal(info.source, "imported");
    assert.equal(info.action, "imported");
    assert.notEqual(info.fingerprint, generated.fingerprint);
    assert.equal(await Deno.readTextFile(join(dir, "cert.pem")), mine.certPem);
    assert.ok(await Deno.stat(join(dir, IMPORTED_MARKER)));
    if (Deno.build.os !== "windows") assert.equal(mode(join(dir, "key.pem")), 0o600);

    const loaded = await loadOrCreate(dir);
    assert.deepEqual([loaded.source, loaded.action], ["imported", "loaded"]);
    assert.equal(loaded.fingerprint, info.fingerprint);
    // Expiring soon: kept, with a note.
    const soon = await loadOrCreate(dir, { now: new Date(info.notAfter.getTime() - 5 * DAY) });
    assert.equal(soon.fingerprint, info.fingerprint);
    assert.match(soon.note ?? "", /expires in [45] days/);
    // Expired: an error, the files stay.
    await assert.rejects(
      loadOrCreate(dir, { now: new Date(info.notAfter.getTime() + DAY) }),
      (err: Error) =>
        err instanceof CertificateError &&
        /imported certificate .* unusable: the certificate expired/s
          .test(err.message) &&
        err.message.includes(IMPORTED_MARKER),
    );
    assert.equal(await Deno.readTextFile(join(dir, "cert.pem")), mine.certPem);
  });
});

Deno.test("importCert refuses bad pairs with clear errors and changes nothing", async () => {
  await withDir(async (base) => {
    const dir = join(base, "data");
    const current = await loadOrCreate(dir);
    const a = await generateCertificate();
    const b = await generateCertificate();
    const expired = await generateCertificate({
      now: new Date(Date.now() - 10 * DAY),
      validDays: 1,
    });
    const future = await generateCertificate({ now: new Date(Date.now() + 10 * DAY) });
    const pa = await writePair(base, "a", a);
    const pb = await writePair(base, "b", b);
    const pe = await writePair(base, "expired", expired);
    const pf = await writePair(base, "future", future);
    const garbage = join(base, "garbage.txt");
    await Deno.writeTextFile(garbage, "hello\n");
    const encrypted = join(base, "enc.key");
    await Deno.writeTextFile(
      encrypted,
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    const cases: [string, string, RegExp][] = [
      [pa.cert, pb.key, /private key does not belong to the certificate/],
      [pe.cert, pe.key, /certificate expired on/],
      [pf.cert, pf.key, /not valid yet/],
      [garbage, pa.key, /garbage\.txt holds no PEM certificate/],
      [pa.cert, garbage, /garbage\.txt holds no PEM private key/],
      [pa.cert, encrypted, /enc\.key is encrypted; decrypt it first/],
      [pa.key, pa.cert, /a\.key holds no PEM certificate/],
      [join(base, "missing.crt"), pa.key, /Cannot read the certificate file .*missing\.crt/],
      [pa.cert, join(base, "missing.key"), /Cannot read the private key file .*missing\.key/],
    ];
    for (const [cert, key, pattern] of cases) {
      await assert.rejects(importCert(dir, cert, key), (err: Error) => {
        assert.ok(err instanceof CertificateError, err.message);
        assert.match(err.message, pattern);
        return true;
      });
    }
    const after = await loadOrCreate(dir);
    assert.deepEqual([after.fingerprint, after.source], [current.fingerprint, "generated"]);
  });
});

Deno.test({
  name: "importCert accepts an openssl RSA (PKCS #1) chain and an EC (SEC1) key, storing PKCS #8",
  ignore: !OPENSSL,
  fn: async () => {
    await withDir(async (base) => {
      const dir = join(base, "data");
      await openssl(["genrsa", "-traditional", "-out", "rsa.key", "2048"], base);
      await openssl([
        "req",
        "-x509",
        "-new",
        "-key",
        "rsa.key",
        "-subj",
        "/CN=mail.example.test",
        "-addext",
        "subjectAltName=DNS:mail.example.test",
        "-days",
        "30",
        "-out",
        "rsa.crt",
      ], base);
      // A chain file: the leaf, then another certificate.
      const other = await generateCertificate();
      const chain = (await Deno.readTextFile(join(base, "rsa.crt"))) + other.certPem;
      await Deno.writeTextFile(join(base, "chain.crt"), chain);
      assert.match(await Deno.readTextFile(join(base, "rsa.key")), /BEGIN RSA PRIVATE KEY/);
      const rsa = await importCert(dir, join(base, "chain.crt"), join(base, "rsa.key"));
      assert.deepEqual(rsa.names, ["mail.example.test"]);
      assert.match(rsa.subject, /CN=mail\.example\.test/);
      assert.match(await Deno.readTextFile(join(dir, "key.pem")), /^-----BEGIN PRIVATE KEY-----/);
      assert.equal(
        (await Deno.readTextFile(join(dir, "cert.pem"))).match(/BEGIN CERTIFICATE/g)?.length,
        2,
      );

      await openssl(
        ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key"],
        base,
      );
      await openssl([
        "req",
        "-x509",
        "-new",
        "-key",
        "ec.key",
        "-subj",
        "/CN=localhost",
        "-days",
        "30",
        "-out",
        "ec.crt",
      ], base);
      assert.match(await Deno.readTextFile(join(base, "ec.key")), /BEGIN EC PRIVATE KEY/);
      const ec = await importCert(dir, join(base, "ec.crt"), join(base, "ec.key"));
      assert.equal(ec.subject, "CN=localhost");
      // The stored pair serves TLS.
      const listener = Deno.listenTls({
        port: 0,
        hostname: "127.0.0.1",
        cert: ec.certPem,
        key: ec.keyPem,
      });
      listener.close();
    });
  },
});
