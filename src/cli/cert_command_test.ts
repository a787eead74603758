import assert from "node:assert/strict";
import { join } from "node:path";
import { generateCertificate } from "../tls/mod.ts";
import { runBridge, withTempDir } from "./_cli_test_utils.ts";

/** Runs `bridge <args>` with XDG config/data under `home`. */
function bridge(home: string, ...args: string[]) {
  return runBridge(home, {}, ...args);
}

function withDir(fn: (dir: string) => Promise<void>) {
  return withTempDir(fn, "bridge_cert_cli_");
}

Deno.test("bridge cert export: generates on first use, prints the certificate only", async () => {
  await withDir(async (home) => {
    const data = join(home, "d");
    const r = await bridge(home, "cert", "export", "--data-dir", data);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    assert.ok(!r.stdout.includes("PRIVATE KEY"));
    assert.match(r.stderr, /Generated a new certificate/);
    assert.equal(r.stdout, await Deno.readTextFile(join(data, "cert.pem")));
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(join(data, "key.pem"))).mode! & 0o777, 0o600);
    }
    // Second run: same certificate, no "generated" notice.
    const again = await bridge(home, "cert", "export", "--data-dir", data);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, r.stdout);
    assert.equal(again.stderr, "");

    const out = join(home, "exported.pem");
    const toFile = await bridge(home, "cert", "export", "--data-dir", data, "--out", out);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.match(toFile.stdout, /Wrote the certificate to .*exported\.pem\nSHA-256 fingerprint: /);
    assert.equal(await Deno.readTextFile(out), r.stdout);
  });
});

Deno.test("bridge cert import: a valid pair is used; a bad one is refused with exit 1", async () => {
  await withDir(async (home) => {
    const data = join(home, "d");
    const mine = await generateCertificate();
    const stranger = await generateCertificate();
    await Deno.writeTextFile(join(home, "mine.crt"), mine.certPem);
    await Deno.writeTextFile(join(home, "mine.key"), mine.keyPem);
    await Deno.writeTextFile(join(home, "stranger.key"), stranger.keyPem);

    const bad = await bridge(
      home,
      "cert",
      "import",
      "--data-dir",
      data,
      "--cert",
      join(home, "mine.crt"),
      "--key",
      join(home, "stranger.key"),
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^bridge cert import: .*private key does not belong to the certificate/,
    );
    await assert.rejects(Deno.stat(join(data, "cert.pem")), Deno.errors.NotFound);

    const ok = await bridge(
      home,
      "cert",
      "import",
      "--data-dir",
      data,
      "--cert",
      join(home, "mine.crt"),
      "--key",
      join(home, "mine.key"),
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Imported the certificate into /);
    assert.match(ok.stdout, /Names: +127\.0\.0\.1, ::1, localhost/);
    const exported = await bridge(home, "cert", "export", "--data-dir", data);
    assert.equal(exported.stdout, mine.certPem);

    const missing = await bridge(
      home,
      "cert",
      "import",
      "--data-dir",
      data,
      "--cert",
      join(home, "nope.crt"),
      "--key",
      join(home, "mine.key"),
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Cannot read the certificate file .*nope\.crt/);
  });
});

Deno.test("bridge cert: usage errors exit 2", async () => {
  await withDir(async (home) => {
    for (
      const args of [
        ["cert"],
        ["cert", "install"],
        ["cert", "import", "--cert", "a.pem"],
        ["cert", "import", "--key", "a.pem"],
        ["cert", "export", "--cert", "a.pem"],
        ["cert", "import", "--cert", "a", "--key", "b", "--out", "c"],
        ["cert", "export", "extra"],
      ]
    ) {
      const r = await bridge(home, ...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^bridge cert: /);
    }
    const help = await bridge(home, "cert", "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: bridge cert <export\|import>/);
  });
});
