import assert from "node:assert/strict";
import { runBridge, withTempDir } from "./_cli_test_utils.ts";

const bridge = runBridge;
const withDir = (fn: (dir: string) => Promise<void>) => withTempDir(fn);

Deno.test("bridge config check on a valid file prints values and sources, exit 0", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/bridge.toml`;
    await Deno.writeTextFile(
      file,
      '[imap]\nport = 1993\n[accounts."a@b.example"]\naddress_mode = "split"\n',
    );
    const r = await bridge(dir, { BRIDGE_SMTP_PORT: "2525" }, "config", "check", "--config", file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /The configuration is valid/);
    assert.match(r.stdout, new RegExp(`port = 1993 +# ${file}:2\\n`));
    assert.match(r.stdout, /port = 2525 +# environment BRIDGE_SMTP_PORT\n/);
    assert.match(r.stdout, /security = "starttls" +# default\n/);
    assert.match(r.stdout, /\[accounts\."a@b\.example"\]\naddress_mode = "split" +# /);
  });
});

Deno.test("bridge config check --json on a valid file prints values with sources", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/bridge.toml`;
    await Deno.writeTextFile(file, "[log]\nlevel = 'debug'\n");
    const r = await bridge(
      dir,
      { BRIDGE_IMAP_PORT: "1993" },
      "config",
      "check",
      "--json",
      "--config",
      file,
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.valid, true);
    assert.equal(out.file, file);
    assert.deepEqual(out.values["log.level"], { value: "debug", source: "file", file, line: 2 });
    assert.deepEqual(out.values["imap.port"], {
      value: 1993,
      source: "env",
      variable: "BRIDGE_IMAP_PORT",
    });
    assert.deepEqual(out.values["smtp.port"], { value: 1025, source: "default" });
  });
});

Deno.test("bridge config check on an invalid file names file, line and key, exit 1", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/bad.toml`;
    await Deno.writeTextFile(file, "[imap]\nprot = 1143\nport = 'x'\n[sync]\nworkers = 99\n");
    const r = await bridge(dir, {}, "config", "check", "--config", file);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /the configuration .* is invalid/);
    assert.ok(r.stderr.includes(`unknown key 'prot' in [imap] at ${file}:2`), r.stderr);
    assert.ok(r.stderr.includes(`imap.port at ${file}:3 must be an integer`), r.stderr);
    assert.ok(r.stderr.includes(`sync.workers at ${file}:5 must be between 1 and 32, got 99`));
  });
});

Deno.test("bridge config check: a modulus key file that cannot be read is an error, exit 1", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/keys.toml`;
    await Deno.writeTextFile(file, '[api]\ntrusted_modulus_keys = ["missing.asc"]\n');
    const r = await bridge(dir, {}, "config", "check", "--config", file);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /api\.trusted_modulus_keys: cannot read the modulus key file .*missing\.asc/,
    );
    await Deno.writeTextFile(`${dir}/missing.asc`, "not a key");
    const j = await bridge(dir, {}, "config", "check", "--config", file, "--json");
    assert.equal(j.code, 1);
    assert.match(JSON.parse(j.stdout).errors[0].message, /is not an armored OpenPGP public key/);
  });
});

Deno.test("bridge config check reports TOML syntax errors with line and column", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/syntax.toml`;
    await Deno.writeTextFile(file, "[imap]\nport = = 1\n");
    const r = await bridge(dir, {}, "config", "check", "--config", file);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`invalid TOML at ${file}:2:`), r.stderr);
    const j = await bridge(dir, {}, "config", "check", "--json", "--config", file);
    assert.equal(j.code, 1);
    const out = JSON.parse(j.stdout);
    assert.equal(out.valid, false);
    assert.equal(out.errors[0].line, 2);
  });
});

Deno.test("bridge config check: bad environment values and missing named files, exit 1", async () => {
  await withDir(async (dir) => {
    const env = await bridge(dir, { BRIDGE_IMAP_PORT: "abc" }, "config", "check");
    assert.equal(env.code, 1);
    assert.match(env.stderr, /imap\.port from BRIDGE_IMAP_PORT must be an integer/);
    const missing = await bridge(dir, {}, "config", "check", "--config", `${dir}/none.toml`);
    assert.equal(missing.code, 1);
    assert.ok(
      missing.stderr.includes(`config file ${dir}/none.toml (named by --config) does not exist`),
    );
    const byEnv = await bridge(dir, { BRIDGE_CONFIG: `${dir}/gone.toml` }, "config", "check");
    assert.equal(byEnv.code, 1);
    assert.match(byEnv.stderr, /named by BRIDGE_CONFIG/);
  });
});

Deno.test("bridge config init writes the default file, refuses to overwrite without --force", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config/bridge/config.toml`;
    const first = await bridge(dir, {}, "config", "init");
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.stdout.includes(file));
    const text = await Deno.readTextFile(file);
    assert.match(text, /^# port = 1143$/m);

    const check = await bridge(dir, {}, "config", "check");
    assert.equal(check.code, 0, check.stderr);
    assert.ok(check.stdout.includes(`Config file: ${file} (the platform default)`));
    assert.doesNotMatch(check.stdout, /# (?!default)/, "every value is a default");

    await Deno.writeTextFile(file, "[imap]\nport = 1\n");
    const again = await bridge(dir, {}, "config", "init");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists; use --force to overwrite it/);
    assert.equal(await Deno.readTextFile(file), "[imap]\nport = 1\n");

    const forced = await bridge(dir, {}, "config", "init", "--force");
    assert.equal(forced.code, 0);
    assert.equal(await Deno.readTextFile(file), text);

    const other = `${dir}/elsewhere/b.toml`;
    const named = await bridge(dir, {}, "config", "init", "--config", other);
    assert.equal(named.code, 0);
    assert.equal(await Deno.readTextFile(other), text);
  });
});

Deno.test("bridge config --help and usage errors", async () => {
  await withDir(async (dir) => {
    const help = await bridge(dir, {}, "config", "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: bridge config <init\|check>/);
    const none = await bridge(dir, {}, "config");
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing subcommand/);
    const bad = await bridge(dir, {}, "config", "check", "--frobnicate");
    assert.equal(bad.code, 2);
    const listed = await bridge(dir, {}, "--help");
    assert.match(listed.stdout, /^ {2}config {2,}/m);
  });
});
