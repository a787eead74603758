import assert from "node:assert/strict";
import { ConfigError, configFromText, loadConfig, parseDuration } from "./load.ts";
import { defaultConfig, envVarName, sections } from "./schema.ts";

const HOME = "/home/ann";
const ENV = { HOME };
const CTX = { os: "linux" as const, env: ENV, version: "1.2.3" };

function fromText(text: string | undefined, extra: Parameters<typeof configFromText>[1] = {
  file: "config.toml",
}) {
  return configFromText(text, { os: "linux", env: ENV, version: "1.2.3", ...extra });
}

/** The ConfigError message thrown for `text` (and options). */
function errorOf(text: string | undefined, extra?: Parameters<typeof configFromText>[1]): string {
  try {
    fromText(text, extra);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.message;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("configFromText() without a file gives every default", () => {
  const { config, sources, fileFound } = fromText(undefined);
  assert.deepEqual(config, defaultConfig(CTX));
  assert.equal(fileFound, false);
  assert.equal(config.imap.port, 1143);
  assert.equal(config.smtp.port, 1025);
  assert.equal(config.imap.security, "starttls");
  assert.equal(config.api.app_version, "linux-bridge@1.2.3");
  assert.equal(config.paths.data_dir, "/home/ann/.local/share/bridge");
  assert.equal(config.paths.cache_dir, "");
  assert.deepEqual(config.accounts, {});
  assert.deepEqual(sources["imap.port"], { kind: "default" });
});

Deno.test("defaults are valid on every platform and app_version names the platform", () => {
  const envs = {
    linux: ENV,
    darwin: { HOME: "/Users/ann" },
    windows: { USERPROFILE: "C:\\Users\\ann" },
  };
  for (const [os, env] of Object.entries(envs)) {
    const { config } = configFromText(undefined, {
      file: "c.toml",
      os: os as "linux",
      env,
      version: "3.0.0",
    });
    const apiOs = { linux: "linux", darwin: "macos", windows: "windows" }[os];
    assert.equal(config.api.app_version, `${apiOs}-bridge@3.0.0`);
  }
});

Deno.test("every key has a distinct BRIDGE_<SECTION>_<KEY> variable", () => {
  const names = sections().flatMap(([s, spec]) =>
    Object.keys(spec.keys).map((k) => envVarName(s, k))
  );
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes("BRIDGE_IMAP_PORT"));
  assert.ok(names.includes("BRIDGE_SMTP_SEND_DUPLICATE_WINDOW_SECONDS"));
});

Deno.test("file values override defaults and record file and line", () => {
  const text = "[imap]\n\nport = 1993\n[log]\nlevel = 'debug'\n";
  const { config, sources } = fromText(text);
  assert.equal(config.imap.port, 1993);
  assert.equal(config.log.level, "debug");
  assert.equal(config.imap.host, "127.0.0.1");
  assert.deepEqual(sources["imap.port"], { kind: "file", file: "config.toml", line: 3 });
  assert.deepEqual(sources["log.level"], { kind: "file", file: "config.toml", line: 5 });
  assert.deepEqual(sources["imap.host"], { kind: "default" });
});

Deno.test("environment overrides the file, parsed per key type", () => {
  const text = "[imap]\nport = 1993\n[mailboxes]\nshow_all_mail = true\n";
  const env = {
    ...ENV,
    BRIDGE_IMAP_PORT: "2993",
    BRIDGE_MAILBOXES_SHOW_ALL_MAIL: "false",
    BRIDGE_EVENTS_POLL_INTERVAL_SECONDS: "2m",
    BRIDGE_API_TRUSTED_MODULUS_KEYS: '["/a.asc", "/b.asc"]',
  };
  const { config, sources } = fromText(text, { file: "config.toml", env });
  assert.equal(config.imap.port, 2993);
  assert.equal(config.mailboxes.show_all_mail, false);
  assert.equal(config.events.poll_interval_seconds, 120);
  assert.deepEqual(config.api.trusted_modulus_keys, ["/a.asc", "/b.asc"]);
  assert.deepEqual(sources["imap.port"], { kind: "env", variable: "BRIDGE_IMAP_PORT" });
});

Deno.test("environment overrides defaults; empty variables count as unset", () => {
  const env = { ...ENV, BRIDGE_SMTP_PORT: "2525", BRIDGE_IMAP_PORT: "" };
  const { config } = fromText(undefined, { file: "c.toml", env });
  assert.equal(config.smtp.port, 2525);
  assert.equal(config.imap.port, 1143);
});

Deno.test("a single string[] value from the environment is a one-item list", () => {
  const env = { ...ENV, BRIDGE_API_TRUSTED_MODULUS_KEYS: "/keys/modulus.asc" };
  const { config } = fromText(undefined, { file: "c.toml", env });
  assert.deepEqual(config.api.trusted_modulus_keys, ["/keys/modulus.asc"]);
});

Deno.test("flags override the environment, the file and the defaults", () => {
  const text = "[imap]\nport = 1993\nhost = '127.0.0.2'\n";
  const env = { ...ENV, BRIDGE_IMAP_PORT: "2993", BRIDGE_LOG_LEVEL: "warn" };
  const { config, sources } = fromText(text, {
    file: "config.toml",
    env,
    flags: {
      imap: { port: 3993, host: "127.0.0.3" },
      log: { level: "error" },
      smtp: { port: "4025" },
    },
    flagNames: { "imap.port": "--imap-port" },
  });
  assert.equal(config.imap.port, 3993); // flag over env
  assert.equal(config.imap.host, "127.0.0.3"); // flag over file
  assert.equal(config.log.level, "error"); // flag over env
  assert.equal(config.smtp.port, 4025); // flag over default, text parsed
  assert.deepEqual(sources["imap.port"], { kind: "flag", flag: "--imap-port" });
  assert.deepEqual(sources["imap.host"], { kind: "flag" });
});

Deno.test("BRIDGE_DATA_DIR sets paths.data_dir, below a flag", () => {
  const env = { ...ENV, BRIDGE_DATA_DIR: "~/mail" };
  assert.equal(fromText(undefined, { file: "c", env }).config.paths.data_dir, "/home/ann/mail");
  const flagged = fromText(undefined, { file: "c", env, flags: { paths: { data_dir: "/d" } } });
  assert.equal(flagged.config.paths.data_dir, "/d");
  const both = { ...env, BRIDGE_PATHS_DATA_DIR: "/other" };
  assert.match(
    errorOf(undefined, { file: "c", env: both }),
    /BRIDGE_DATA_DIR and BRIDGE_PATHS_DATA_DIR/,
  );
});

Deno.test("relative paths in the file are relative to the file's folder", () => {
  const text = "[paths]\ndata_dir = 'data'\ncache_dir = '~/c'\n";
  const { config } = fromText(text, { file: "/etc/bridge/config.toml" });
  assert.equal(config.paths.data_dir, "/etc/bridge/data");
  assert.equal(config.paths.cache_dir, "/home/ann/c");
});

Deno.test("durations accept seconds and h/m/s strings", () => {
  assert.equal(parseDuration("90"), 90);
  assert.equal(parseDuration("1h30m"), 5400);
  assert.equal(parseDuration("45s"), 45);
  assert.equal(parseDuration("2m10s"), 130);
  assert.equal(parseDuration(""), undefined);
  assert.equal(parseDuration("5 minutes"), undefined);
  const text = "[events]\npoll_interval_seconds = '5m'\njitter_seconds = 0\n";
  const { config } = fromText(text);
  assert.equal(config.events.poll_interval_seconds, 300);
  assert.equal(config.events.jitter_seconds, 0);
});

Deno.test("accounts tables fill missing keys with defaults", () => {
  const text = '[accounts."alice@example.com"]\naddress_mode = "split"\n' +
    '[accounts."bob@example.com"]\n';
  const { config, sources } = fromText(text);
  assert.deepEqual(config.accounts, {
    "alice@example.com": { address_mode: "split" },
    "bob@example.com": { address_mode: "combined" },
  });
  assert.deepEqual(sources['accounts."alice@example.com".address_mode'], {
    kind: "file",
    file: "config.toml",
    line: 2,
  });
});

Deno.test("unknown section names the file and line", () => {
  assert.equal(
    errorOf("[imap]\nport = 1\n[imapp]\nx = 1\n"),
    "unknown section [imapp] at config.toml:3 (did you mean 'imap'?)",
  );
  assert.equal(errorOf("[frobnicate]\n"), "unknown section [frobnicate] at config.toml:1");
});

Deno.test("unknown key names the section, file and line", () => {
  assert.equal(
    errorOf("# bridge\n[imap]\nprot = 1143\n"),
    "unknown key 'prot' in [imap] at config.toml:3 (did you mean 'port'?)",
  );
  assert.equal(
    errorOf("port = 1\n"),
    "unknown key 'port' outside any section at config.toml:1 (keys belong in a section such as [imap])",
  );
  assert.equal(
    errorOf('[accounts."a@b.c"]\nmode = "split"\n'),
    "unknown key 'mode' in [accounts.\"a@b.c\"] at config.toml:2",
  );
});

Deno.test("wrong type names the key, file, line and both types", () => {
  assert.equal(
    errorOf('[imap]\nhost = "127.0.0.1"\n\nport = "1143"\n'),
    "imap.port at config.toml:4 must be an integer from 1 to 65535, got string",
  );
  assert.equal(
    errorOf("[imap]\nport = 1143.5\n"),
    "imap.port at config.toml:2 must be an integer from 1 to 65535, got float",
  );
  assert.equal(
    errorOf("[mailboxes]\nshow_all_mail = 'yes'\n"),
    "mailboxes.show_all_mail at config.toml:2 must be a boolean (true or false), got string",
  );
  assert.equal(
    errorOf("[api]\ntrusted_modulus_keys = ['a', 2]\n"),
    "api.trusted_modulus_keys at config.toml:2 must be an array of strings, got an array containing integer",
  );
  assert.equal(errorOf("imap = 3\n"), "[imap] at config.toml:1 must be a table, got integer");
  assert.match(
    errorOf("[events]\njitter_seconds = true\n"),
    /must be a duration in seconds.*got boolean/,
  );
});

Deno.test("out-of-range values name the range", () => {
  assert.equal(
    errorOf("[sync]\nworkers = 64\n"),
    "sync.workers at config.toml:2 must be between 1 and 32, got 64",
  );
  assert.equal(
    errorOf("[sync]\nmemory_budget_mb = 16\n"),
    "sync.memory_budget_mb at config.toml:2 must be between 32 and 4096, got 16",
  );
  assert.equal(
    errorOf("[imap]\nport = 99999999999999999999\n"),
    `imap.port at config.toml:2 must be between 1 and 65535, got ${Number.MAX_SAFE_INTEGER}`,
  );
  assert.equal(
    errorOf("[events]\npoll_interval_seconds = '2h'\n"),
    "events.poll_interval_seconds at config.toml:2 must be between 1 and 3600, got 7200",
  );
});

Deno.test("bad enum values list the allowed values", () => {
  assert.equal(
    errorOf("[imap]\nsecurity = 'tls'\n"),
    "imap.security at config.toml:2 must be one of starttls, ssl, none, got 'tls'",
  );
  assert.equal(
    errorOf("[log]\nformat = 1\n"),
    "log.format at config.toml:2 must be one of text, json, got integer",
  );
});

Deno.test("key checks reject empty hosts, non-http URLs and malformed app versions", () => {
  assert.equal(errorOf("[imap]\nhost = ''\n"), "imap.host at config.toml:2 must not be empty");
  assert.equal(
    errorOf("[api]\nurl = 'ftp://x'\n"),
    "api.url at config.toml:2 must be an https:// URL (http:// only on loopback)",
  );
  // Tokens and keys must not cross the network in clear; loopback (the reference server) may.
  assert.match(
    errorOf("[api]\nurl = 'http://api.example.test'\n"),
    /api.url at config.toml:2 must be https:\/\/ for a server that is not on this machine/,
  );
  for (const ok of ["http://127.0.0.1:8787", "http://localhost:1", "http://[::1]:2", "https://x"]) {
    assert.equal(fromText(`[api]\nurl = '${ok}'\n`).config.api.url, ok);
  }
  assert.match(
    errorOf("[api]\napp_version = 'bridge'\n"),
    /api.app_version at config.toml:2 must look like/,
  );
});

Deno.test("TOML syntax errors give file, line and column", () => {
  try {
    fromText("[imap]\nport = = 1\n");
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^invalid TOML at config\.toml:2:\d+: /);
    assert.equal(err.problems[0].line, 2);
    assert.match(err.problems[0].excerpt ?? "", /port = = 1/);
  }
  assert.match(errorOf("[imap\n"), /^invalid TOML at config\.toml:1:\d+/);
  assert.match(errorOf("[imap]\nport = 1\nport = 2\n"), /^invalid TOML at config\.toml:3:/);
});

Deno.test("every problem is reported, not only the first", () => {
  try {
    fromText("[imap]\nport = 0\nprot = 1\n[sync]\nworkers = 'two'\n");
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => [p.key, p.line]), [
      ["imap.port", 2],
      [undefined, 3],
      ["sync.workers", 5],
    ]);
    assert.equal(err.message.split("\n").length, 3);
  }
});

Deno.test("bad environment values name the variable", () => {
  const cases: [Record<string, string>, string][] = [
    [
      { BRIDGE_IMAP_PORT: "abc" },
      "imap.port from BRIDGE_IMAP_PORT must be an integer from 1 to 65535, got 'abc'",
    ],
    [
      { BRIDGE_IMAP_PORT: "0" },
      "imap.port from BRIDGE_IMAP_PORT must be between 1 and 65535, got 0",
    ],
    [
      { BRIDGE_LOG_LEVEL: "loud" },
      "log.level from BRIDGE_LOG_LEVEL must be one of error, warn, info, debug, got 'loud'",
    ],
    [
      { BRIDGE_MAILBOXES_SHOW_ALL_MAIL: "maybe" },
      "mailboxes.show_all_mail from BRIDGE_MAILBOXES_SHOW_ALL_MAIL must be a boolean (true or false), got 'maybe'",
    ],
    [
      { BRIDGE_IMAP_PROT: "1" },
      "unknown key 'prot' in [imap] from BRIDGE_IMAP_PROT (did you mean 'port'?)",
    ],
  ];
  for (const [vars, message] of cases) {
    assert.equal(errorOf(undefined, { file: "c.toml", env: { ...ENV, ...vars } }), message);
  }
  assert.match(
    errorOf(undefined, { file: "c", env: { ...ENV, BRIDGE_ACCOUNTS_X: "1" } }),
    /BRIDGE_ACCOUNTS_X: \[accounts\] settings cannot come from the environment/,
  );
  // BRIDGE_* names outside the config sections belong to others and are left alone.
  assert.doesNotThrow(() =>
    fromText(undefined, { file: "c", env: { ...ENV, BRIDGE_VAULT_KEY: "x" } })
  );
});

Deno.test("bad flag values name the flag", () => {
  assert.equal(
    errorOf(undefined, {
      file: "c",
      flags: { imap: { port: "x" } },
      flagNames: { "imap.port": "--imap-port" },
    }),
    "imap.port from --imap-port must be an integer from 1 to 65535, got 'x'",
  );
  assert.equal(
    errorOf(undefined, { file: "c", flags: { imap: { security: "tls" } } }),
    "imap.security from the command line must be one of starttls, ssl, none, got 'tls'",
  );
});

Deno.test("flags for an unknown section are reported", () => {
  assert.equal(
    errorOf(undefined, { file: "c", flags: { nope: { x: 1 } } as never }),
    "unknown section [nope] from the command line",
  );
});

Deno.test("require_tls_login with a listener without TLS is refused (nobody could log in)", () => {
  assert.equal(
    errorOf("[server]\nrequire_tls_login = true\n[smtp]\nsecurity = 'none'\n"),
    "server.require_tls_login at config.toml:2 is true and smtp.security at config.toml:4 is " +
      "'none': no client could log in; set smtp.security to starttls or ssl",
  );
  assert.equal(
    fromText("[server]\nrequire_tls_login = true\n").config.server.require_tls_login,
    true,
  );
});

Deno.test("plaintext listeners off loopback are refused unless allowed", () => {
  const text = "[imap]\nhost = '0.0.0.0'\nsecurity = 'none'\n";
  assert.equal(
    errorOf(text),
    "imap.host at config.toml:2 is '0.0.0.0', not a loopback address, and imap.security at " +
      "config.toml:3 is 'none': passwords would cross the network in clear; set imap.security " +
      "to starttls or ssl, or set server.allow_non_loopback = true",
  );
  assert.doesNotThrow(() => fromText(text + "[server]\nallow_non_loopback = true\n"));
  assert.doesNotThrow(() => fromText("[imap]\nhost = '0.0.0.0'\nsecurity = 'ssl'\n"));
  for (const host of ["localhost", "127.0.0.5", "::1", "[::1]"]) {
    assert.doesNotThrow(() => fromText(`[smtp]\nhost = '${host}'\nsecurity = 'none'\n`));
  }
});

Deno.test("account tables must be named by an email address", () => {
  assert.equal(
    errorOf("[accounts.bob]\naddress_mode = 'split'\n"),
    "[accounts.\"bob\"] at config.toml:1: 'bob' is not an email address",
  );
});

Deno.test("loadConfig() reads the file named by --config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/bridge.toml`;
    await Deno.writeTextFile(file, "[imap]\nport = 1993\n");
    const loaded = await loadConfig({ file, env: ENV, os: "linux" });
    assert.equal(loaded.config.imap.port, 1993);
    assert.equal(loaded.fileFound, true);
    assert.equal(loaded.fileNamedBy, "flag");
    assert.deepEqual(loaded.sources["imap.port"], { kind: "file", file, line: 2 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() prefers --config to BRIDGE_CONFIG, and BRIDGE_CONFIG to the default", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.toml`, "[imap]\nport = 1001\n");
    await Deno.writeTextFile(`${dir}/b.toml`, "[imap]\nport = 1002\n");
    await Deno.mkdir(`${dir}/cfg/bridge`, { recursive: true });
    await Deno.writeTextFile(`${dir}/cfg/bridge/config.toml`, "[imap]\nport = 1003\n");
    const env = { HOME: dir, XDG_CONFIG_HOME: `${dir}/cfg`, BRIDGE_CONFIG: `${dir}/b.toml` };
    const byFlag = await loadConfig({ file: `${dir}/a.toml`, env, os: "linux" });
    assert.equal(byFlag.config.imap.port, 1001);
    const byEnv = await loadConfig({ env, os: "linux" });
    assert.equal(byEnv.config.imap.port, 1002);
    assert.equal(byEnv.fileNamedBy, "env");
    const byDefault = await loadConfig({ env: { ...env, BRIDGE_CONFIG: "" }, os: "linux" });
    assert.equal(byDefault.config.imap.port, 1003);
    assert.equal(byDefault.file, `${dir}/cfg/bridge/config.toml`);
    assert.equal(byDefault.fileNamedBy, "default");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig(): a missing default file means defaults, a missing named file is an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { HOME: dir };
    const loaded = await loadConfig({ env, os: "linux" });
    assert.equal(loaded.fileFound, false);
    assert.equal(loaded.file, `${dir}/.config/bridge/config.toml`);
    assert.equal(loaded.config.imap.port, 1143);
    await assert.rejects(
      loadConfig({ file: `${dir}/nope.toml`, env, os: "linux" }),
      (err) =>
        err instanceof ConfigError &&
        err.message === `config file ${dir}/nope.toml (named by --config) does not exist`,
    );
    await assert.rejects(
      loadConfig({ env: { ...env, BRIDGE_CONFIG: `${dir}/gone.toml` }, os: "linux" }),
      new RegExp(`config file ${dir}/gone.toml \\(named by BRIDGE_CONFIG\\) does not exist`),
    );
    await assert.rejects(
      loadConfig({ file: dir, env, os: "linux" }),
      (err) =>
        err instanceof ConfigError && err.message.startsWith(`cannot read config file ${dir}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() without HOME reports a ConfigError", async () => {
  await assert.rejects(
    loadConfig({ env: {}, os: "linux" }),
    (err) => err instanceof ConfigError && /HOME is not set/.test(err.message),
  );
});
