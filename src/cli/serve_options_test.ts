import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "./command.ts";
import { ConfigError, loadServeConfig, parseServeFlags } from "./serve_options.ts";
import { withTempDir } from "./_cli_test_utils.ts";

Deno.test("serve flags: parsed, with clear refusals", () => {
  const f = parseServeFlags([
    "--host",
    "127.0.0.2",
    "--imap-port",
    "0",
    "--smtp-port",
    "2525",
    "--security",
    "ssl",
    "--log-level",
    "debug",
    "--json",
  ]);
  assert.equal(f.host, "127.0.0.2");
  assert.equal(f.imapPort, 0);
  assert.equal(f.smtpPort, 2525);
  assert.equal(f.security, "ssl");
  assert.equal(f.logLevel, "debug");
  assert.equal(f.json, true);
  assert.equal(f.demo, false);
  assert.equal(f.keyStore, "auto");
  const bad: [string[], RegExp][] = [
    [["--imap-port", "70000"], /--imap-port must be a port number/],
    [["--smtp-port", "x"], /--smtp-port must be a port number/],
    [["--security", "tls"], /--security must be starttls, ssl or none/],
    [["--log-level", "loud"], /--log-level must be one of error, warn, info, debug/],
    [["--demo-data", "d"], /--demo-data only goes with --demo/],
    [["--demo", "--data-dir", "d"], /--demo-data DIR instead of --data-dir/],
    [["--host", " "], /--host must not be empty/],
    [["--key-store", "x"], /--key-store must be auto, keychain or file/],
    [["extra"], /unexpected argument 'extra'/],
    [["--nope"], /nope/],
  ];
  for (const [args, message] of bad) {
    assert.throws(
      () => parseServeFlags(args),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("serve config: flags > environment > file > defaults", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "config.toml");
    await Deno.writeTextFile(
      file,
      '[imap]\nport = 2143\nsecurity = "ssl"\n[smtp]\nport = 2025\n[log]\nlevel = "warn"\n' +
        "[events]\npoll_interval_seconds = 60\n",
    );
    const env = { HOME: dir, BRIDGE_IMAP_PORT: "3143", BRIDGE_LOG_LEVEL: "error" };

    // File over defaults, environment over file.
    let c = await loadServeConfig(parseServeFlags(["--config", file]), {}, env);
    assert.equal(c.loaded.config.imap.port, 3143);
    assert.equal(c.imapPort, 3143);
    assert.equal(c.loaded.config.smtp.port, 2025);
    assert.equal(c.loaded.config.imap.security, "ssl");
    assert.equal(c.loaded.config.smtp.security, "starttls");
    assert.equal(c.loaded.config.log.level, "error");
    assert.equal(c.loaded.config.events.poll_interval_seconds, 60);
    assert.equal(c.loaded.config.imap.host, "127.0.0.1");

    // Flags over everything; --host and --security set both servers.
    c = await loadServeConfig(
      parseServeFlags([
        "--config",
        file,
        "--imap-port",
        "4143",
        "--security",
        "none",
        "--log-level",
        "debug",
        "--host",
        "localhost",
        "--data-dir",
        join(dir, "d"),
        "--api-url",
        "http://127.0.0.1:9",
      ]),
      {},
      env,
    );
    assert.equal(c.imapPort, 4143);
    assert.equal(c.loaded.config.imap.security, "none");
    assert.equal(c.loaded.config.smtp.security, "none");
    assert.equal(c.loaded.config.imap.host, "localhost");
    assert.equal(c.loaded.config.smtp.host, "localhost");
    assert.equal(c.loaded.config.log.level, "debug");
    assert.equal(c.dataDir, join(dir, "d"));
    assert.equal(c.loaded.config.api.url, "http://127.0.0.1:9");
    assert.deepEqual(c.loaded.sources["imap.port"], { kind: "flag", flag: "--imap-port" });
    assert.deepEqual(c.loaded.sources["smtp.port"], { kind: "file", file, line: 5 });

    // Port 0 on the command line: any free port, whatever the config says.
    c = await loadServeConfig(parseServeFlags(["--config", file, "--smtp-port", "0"]), {}, env);
    assert.equal(c.smtpPort, 0);
    assert.equal(c.loaded.config.smtp.port, 2025);

    // Demo overrides beat --data-dir's place and the config's API URL.
    c = await loadServeConfig(parseServeFlags(["--demo"]), {
      dataDir: join(dir, "demo"),
      apiUrl: "http://127.0.0.1:1",
    }, env);
    assert.equal(c.dataDir, join(dir, "demo"));
    assert.equal(c.loaded.config.api.url, "http://127.0.0.1:1");
  });
});

Deno.test("serve config: a plaintext non-loopback listener needs the explicit override", async () => {
  await withTempDir(async (dir) => {
    const env = { HOME: dir };
    const flags = parseServeFlags(["--host", "0.0.0.0", "--security", "none"]);
    const err = await loadServeConfig(flags, {}, env).catch((e) => e);
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /imap\.host from --host is '0\.0\.0\.0'/);
    assert.match(err.message, /server\.allow_non_loopback/);
    const ok = await loadServeConfig(
      parseServeFlags(["--host", "0.0.0.0", "--security", "none", "--allow-non-loopback"]),
      {},
      env,
    );
    assert.equal(ok.loaded.config.server.allow_non_loopback, true);
    // With TLS a non-loopback address is fine.
    const tls = await loadServeConfig(parseServeFlags(["--host", "0.0.0.0"]), {}, env);
    assert.equal(tls.loaded.config.imap.security, "starttls");
  });
});

Deno.test("serve config: a bad environment value names the variable", async () => {
  await withTempDir(async (dir) => {
    const err = await loadServeConfig(parseServeFlags([]), {}, {
      HOME: dir,
      BRIDGE_SMTP_PORT: "99999",
    }).catch((e) => e);
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /BRIDGE_SMTP_PORT/);
  });
});
