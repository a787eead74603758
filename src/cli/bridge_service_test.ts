import assert from "node:assert/strict";
import { defaultConfig } from "../config/mod.ts";
import { BridgeService } from "./bridge_service.ts";
import { prepareDemoDir, removeDemoDir, startDemo } from "./demo.ts";
import { ServeOutput } from "./serve_output.ts";
import { VaultWriter } from "./vault_writer.ts";
import { VERSION } from "./version.ts";

/** The demo back end (reference server + signed-in vault) with `messages` messages. */
async function withDemo(
  messages: number,
  fn: (ctx: {
    service: BridgeService;
    apiUrl: string;
    events: Record<string, unknown>[];
    logs: string[];
    config: ReturnType<typeof defaultConfig>;
    vault: VaultWriter;
  }) => Promise<void>,
): Promise<void> {
  const dir = await prepareDemoDir();
  const demo = await startDemo({ dir, appVersion: `linux-bridge@${VERSION}`, messages });
  const events: Record<string, unknown>[] = [];
  const logs: string[] = [];
  const output = new ServeOutput({
    json: true,
    level: "debug",
    format: "text",
    stdout: (s) => events.push(JSON.parse(s)),
    stderr: (s) => logs.push(s),
    stderrIsTerminal: false,
  });
  const config = defaultConfig({ os: "linux", env: { HOME: dir.root }, version: VERSION });
  config.api.url = demo.apiUrl;
  config.paths.data_dir = dir.root;
  config.events.poll_interval_seconds = 1;
  config.events.jitter_seconds = 0;
  const vault = new VaultWriter(dir.root, "file");
  let service: BridgeService | undefined;
  try {
    service = await BridgeService.start({
      config,
      dataDir: dir.root,
      imapPort: 0,
      smtpPort: 0,
      vault,
      accounts: await vault.accounts(),
      output,
      parts: {},
      demo: true,
      runtime: { retryDelayMs: 200, buildWorkers: 0 },
    });
    await fn({ service, apiUrl: demo.apiUrl, events, logs, config, vault });
  } finally {
    await service?.stop();
    await demo.close();
    await removeDemoDir(dir);
  }
}

Deno.test({
  name: "bridge service: accounts sync and serve, reload, missing parts reported, signed out",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withDemo(25, async ({ service, apiUrl, events, logs, config }) => {
    // Without parts, the listeners are reported unavailable: never faked.
    const early = service.status();
    assert.equal(early.listeners.imap.state, "unavailable");
    assert.match(early.listeners.imap.reason ?? "", /IMAP server/);
    assert.equal(early.listeners.smtp.state, "unavailable");
    assert.equal(early.warnings.length, 3);
    assert.equal(early.ready, false);
    assert.equal(service.imapAddress, undefined);

    await service.settled();
    const [rt] = service.accounts;
    assert.equal(rt.state, "ready", logs.join(""));
    const report = service.status();
    assert.equal(report.running, true);
    assert.equal(report.format, 1);
    const a = report.accounts[0];
    assert.equal(a.email, "demo@bridge.test");
    assert.equal(a.counts.messages, 25);
    assert.equal(a.sync.done, 25);
    assert.equal(a.sync.total, 25);
    assert.equal(a.sync.firstSyncDone, true);
    assert.equal(a.imapSessions, null);
    assert.deepEqual(a.smtp, { sent: 0, failed: 0, duplicatesSuppressed: 0 });
    assert.deepEqual(service.readyAccounts(), [{ email: a.email, password: rt.bridgePassword }]);
    assert.ok(events.some((e) => e.event === "account" && e.state === "ready"));
    assert.ok(events.some((e) => e.event === "sync-progress" && e.phase === "done"));
    // The first sync was recorded in the vault.
    const vaultNow = await new VaultWriter(report.dataDir, "file").accounts();
    assert.equal(vaultNow[0].sync.firstSyncDone, true);

    // The event loop polls (1 s) and its cursor age is known.
    const deadline = Date.now() + 10_000;
    while (service.status().accounts[0].events.lastPollAt === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const polled = service.status().accounts[0].events;
    assert.equal(polled.state, "running");
    assert.notEqual(polled.cursorAgeSeconds, null);

    // Reload: the log level and poll interval apply, listener settings need a restart.
    const next = structuredClone(config);
    next.log.level = "warn";
    next.events.poll_interval_seconds = 2;
    next.imap.port = 9999;
    const result = await service.reload(next);
    assert.deepEqual(result.applied, ["log.level", "events"]);
    assert.deepEqual(result.needsRestart, ["imap"]);
    assert.equal(service.status().logLevel, "warn");
    assert.equal(service.status().accounts[0].events.pollIntervalSeconds, 2);
    assert.equal(service.status().accounts[0].events.state, "running");

    // The session is revoked on the server: the account is signed out, not crashed.
    for (const path of ["revoke-sessions", "expire-access-tokens"]) {
      const r = await fetch(`${apiUrl}/ref/v1/users/demo@bridge.test/${path}`, { method: "POST" });
      assert.equal(r.status, 200);
      await r.body?.cancel();
    }
    const until = Date.now() + 15_000;
    while ((rt.state as string) !== "signed-out" && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(rt.state as string, "signed-out");
    const out = service.status().accounts[0];
    assert.match(out.reason ?? "", /bridge login demo@bridge\.test/);
    assert.equal(out.events.state, "signed-out");
    assert.equal(out.counts.messages, 25, "the index stays");
    assert.ok(events.some((e) => e.event === "error" && /revoked/.test(String(e.message))));
    assert.throws(() => rt.smtpAccount("demo@bridge.test"), /signed out/);
  });
});

Deno.test({
  name: "bridge service: an account removed from the vault stops, one signed in again restarts",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withDemo(3, async ({ service, config, vault }) => {
    await service.settled();
    let r = await service.reload(config);
    assert.deepEqual(r.accountsRemoved, []);
    assert.equal(service.accounts.length, 1);
    // Another session in the vault (signed in again while serve could not be told): the old
    // runtime stops and a new one starts on that session.
    const before = service.accounts[0];
    const stored = await vault.accounts();
    r = await service.reload(config, stored.map((a) => ({ ...a, authUid: "another-session" })));
    assert.deepEqual(r.accountsRestarted, ["demo@bridge.test"]);
    assert.deepEqual(r.accountsAdded, []);
    assert.equal(service.accounts.length, 1);
    assert.notEqual(service.accounts[0], before);
    assert.equal(service.accounts[0].sessionUid, "another-session");
    // No session in the vault (the server revoked it): nothing to restart on.
    r = await service.reload(config, stored.map((a) => ({ ...a, authUid: "", refreshToken: "" })));
    assert.deepEqual(r.accountsRestarted, []);
    r = await service.reload(config, []);
    assert.deepEqual(r.accountsRemoved, ["demo@bridge.test"]);
    assert.equal(service.accounts.length, 0);
    assert.deepEqual(service.status().accounts, []);
  });
});

Deno.test({
  name: "bridge service: reload applies the address mode (file first, else the vault's)",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withDemo(3, async ({ service, config, vault }) => {
    await service.settled();
    const [rt] = service.accounts;
    const email = "demo@bridge.test";
    assert.equal(service.status().accounts[0].addressMode, "combined");
    assert.deepEqual(service.status().accounts[0].imapLogins, [email]);

    // The file's table wins and applies at once; no restart asked for.
    const split = structuredClone(config);
    split.accounts = { [email.toUpperCase()]: { address_mode: "split" } };
    let r = await service.reload(split);
    assert.deepEqual(r.applied, [`accounts."${email}".address_mode`]);
    assert.deepEqual(r.needsRestart, []);
    assert.equal(rt.addressMode, "split");
    assert.equal(service.status().accounts[0].addressMode, "split");
    assert.equal(rt.smtpAccount(email).addressMode, "split");
    r = await service.reload(split, await vault.accounts());
    assert.deepEqual(r.applied, []);

    // Without a table, the vault's mode (`bridge mode`) applies.
    const accounts = await vault.accounts();
    r = await service.reload(config, accounts);
    assert.deepEqual(r.applied, [`accounts."${email}".address_mode`]);
    assert.equal(rt.addressMode, "combined");
    r = await service.reload(config, accounts.map((a) => ({ ...a, addressMode: "split" })));
    assert.equal(rt.addressMode, "split");
    // A reload that cannot read the vault keeps the vault mode last read.
    r = await service.reload(config);
    assert.deepEqual(r.applied, []);
    assert.equal(rt.addressMode, "split");
  });
});
