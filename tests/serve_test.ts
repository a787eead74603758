/**
 * `bridge serve` end to end: `bridge serve --demo --json` runs as a subprocess (reference API
 * server in-process, seeded demo account, first sync, listeners on free ports) and is driven from
 * outside the way a user or a script would:
 *
 * - the JSON lines on standard output (`starting`, `sync-progress`, `ready` with the exact
 *   documented shape);
 * - `bridge status --json` while it syncs and once ready (the shape of docs/STATUS.md), and
 *   `{"running":false}` with exit code 3 once it stopped;
 * - a second `bridge serve` on the same data directory is refused, naming the first one's PID;
 * - python3 `smtplib` submits through STARTTLS (certificate checked against the bridge's own) with
 *   the ready line's password, and the message reaches the index through the event loop;
 * - python3 `imaplib` logs in with that password (when this build has IMAP), LIST, SELECT INBOX;
 * - SIGTERM: exit code 0, the lock and control files removed, the kept demo directory intact.
 *
 * The subprocess keeps HOME and XDG_CACHE_HOME (Deno's module cache); XDG config and data point
 * into a temporary directory, and no BRIDGE_* variable leaks in. With `BRIDGE_TEST_BUNDLE` set,
 * `bridge` runs from the single-file build through its scoped launcher (`bridgeArgv`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { askStatus } from "../src/cli/status_command.ts";
import { LATEST_VERSION } from "../src/store/mod.ts";
import { BRIDGE_ENV, mallocMmapThreshold } from "../src/cli/launch_settings.ts";
import type { AccountStatus, StatusReport } from "../src/cli/status_report.ts";
import { runBridge, withTempDir } from "../src/cli/_cli_test_utils.ts";
import { runPythonJson } from "./_python_json.ts";
import { refMessages } from "./_ref_control.ts";
import { demoServeArgs, eventPollEnv, ServeProcess } from "./_serve_process.ts";

const DEMO_EMAIL = "demo@bridge.test";

const SMTP_SEND = String.raw`
import json, smtplib, ssl, sys
port, cafile, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.starttls(context=ssl.create_default_context(cafile=cafile))
s.login(user, password)
msg = ("From: Demo <%s>\r\nTo: %s\r\nSubject: serve test\r\nMessage-ID: <serve-test@bridge.test>\r\n"
       "\r\nHello from smtplib.\r\n" % (user, user))
refused = s.sendmail(user, [user], msg)
# Python's EmailMessage with non-ASCII text is 8bit, and send_message does not declare
# BODY=8BITMIME: accepted by default (smtp.accept_undeclared_8bit).
from email.message import EmailMessage
m = EmailMessage()
m["From"], m["To"], m["Subject"] = user, user, "eight-bit check"
m["Message-ID"] = "<serve-test-8bit@bridge.test>"
m.set_content("Gr\u00fc\u00dfe aus smtplib\n")
assert m["Content-Transfer-Encoding"] == "8bit", m["Content-Transfer-Encoding"]
refused8 = s.send_message(m)
s.quit()
print(json.dumps({"refused": refused, "refused8": refused8}))
`;

const SMTP_WRONG = String.raw`
import json, smtplib, ssl, sys
port, cafile, user = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.starttls(context=ssl.create_default_context(cafile=cafile))
try:
    s.login(user, "AAAAAAAAAAAAAAAAAAAAAA")
    print(json.dumps({"code": 235}))
except smtplib.SMTPAuthenticationError as e:
    print(json.dumps({"code": e.smtp_code}))
`;

const IMAP_CHECK = String.raw`
import imaplib, json, ssl, sys
port, cafile, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
m = imaplib.IMAP4("127.0.0.1", port)
m.starttls(ssl_context=ssl.create_default_context(cafile=cafile))
m.login(user, password)
typ, boxes = m.list()
typ, data = m.select("INBOX", readonly=True)
exists = int(data[0])
m.logout()
print(json.dumps({"boxes": [b.decode() for b in boxes], "exists": exists}))
`;

const IMAP_WAIT_FOR = String.raw`
import imaplib, json, ssl, sys, time
port, cafile, user, password, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
m = imaplib.IMAP4("127.0.0.1", port)
m.starttls(ssl_context=ssl.create_default_context(cafile=cafile))
m.login(user, password)
found = []
deadline = time.time() + 30
while time.time() < deadline:
    m.select("INBOX", readonly=True)
    typ, data = m.uid("SEARCH", None, "SUBJECT", '"%s"' % subject)
    found = data[0].split()
    if found:
        break
    time.sleep(0.5)
m.logout()
print(json.dumps({"found": len(found)}))
`;

/** Messages the reference server has in the demo account's Inbox (label "0"). */
async function serverInboxCount(apiUrl: string): Promise<number> {
  const messages = await refMessages(apiUrl, DEMO_EMAIL);
  return messages.filter((m) => m.LabelIDs.includes("0")).length;
}

function demoAccount(report: StatusReport): AccountStatus {
  const a = report.accounts.find((x) => x.email === DEMO_EMAIL);
  assert.ok(a, `no ${DEMO_EMAIL} in ${JSON.stringify(report.accounts)}`);
  return a;
}

Deno.test({
  name: "serve --demo --json: ready line, status, lock, SMTP (and IMAP), SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  await withTempDir(async (home) => {
    const demoDir = join(home, "demo");
    const serve = new ServeProcess(home, demoServeArgs(demoDir), { env: eventPollEnv(1) });
    try {
      const starting = await serve.waitFor("starting");
      assert.equal(starting.dataDir, demoDir);
      assert.equal(starting.demo, true);

      await t.step("status reflects the first sync, then ready", async () => {
        const states = new Set<string>();
        let sawProgress = false;
        while (!serve.events.some((e) => e.event === "ready")) {
          const outcome = await askStatus(demoDir);
          if (outcome.kind === "running") {
            for (const a of outcome.report.accounts) {
              states.add(a.state);
              if (a.state === "syncing" && a.sync.done > 0 && a.sync.total === 300) {
                sawProgress = true;
              }
            }
          }
          if (
            serve.events.some((e) =>
              e.event === "error" && !/NOT available/.test(String(e.message))
            )
          ) {
            assert.fail(`serve reported an error: ${JSON.stringify(serve.events)}`);
          }
          await new Promise((r) => setTimeout(r, 100));
          if (serve.events.length > 2000) break;
        }
        assert.ok(states.has("syncing"), `states seen: ${[...states]}`);
        assert.ok(sawProgress, "no status showed first-sync progress");
        const progress = serve.events.filter((e) => e.event === "sync-progress");
        assert.ok(progress.length >= 2);
        assert.deepEqual(
          Object.keys(progress[0]).sort(),
          ["account", "done", "eta", "event", "phase", "rate", "total"],
        );
        // The listing says how far it got.
        const listing = progress.filter((e) => e.phase === "listing");
        assert.ok(listing.length >= 1);
        for (const e of listing) assert.equal(typeof e.listed, "number");
      });

      const ready = await serve.waitFor("ready");
      const accounts = ready.accounts as { email: string; password: string }[];
      const smtp = ready.smtp as { host: string; port: number; security: string } | null;
      const imap = ready.imap as { host: string; port: number; security: string } | null;

      await t.step("the ready line has the documented shape", () => {
        assert.deepEqual(Object.keys(ready).sort(), ["accounts", "event", "imap", "smtp"]);
        assert.equal(accounts.length, 1);
        assert.deepEqual(Object.keys(accounts[0]).sort(), ["email", "password"]);
        assert.equal(accounts[0].email, DEMO_EMAIL);
        assert.match(accounts[0].password, /^[A-Za-z0-9_-]{22}$/);
        assert.ok(smtp, "SMTP must be listening");
        assert.deepEqual(Object.keys(smtp).sort(), ["host", "listen", "port", "security"]);
        assert.equal(smtp.host, "127.0.0.1");
        assert.equal(smtp.security, "starttls");
        assert.ok(smtp.port > 0);
        if (imap) {
          assert.deepEqual(Object.keys(imap).sort(), ["host", "listen", "port", "security"]);
          assert.ok(imap.port > 0 && imap.port !== smtp.port);
        }
        // The password appears in the ready line only, never in the logs.
        assert.ok(!serve.stderr.includes(accounts[0].password));
      });

      await t.step("bridge status --json: running, ready account, counts", async () => {
        const out = await runBridge(home, {}, "status", "--json", "--data-dir", demoDir);
        assert.equal(out.code, 0, out.stderr);
        const report = JSON.parse(out.stdout) as StatusReport;
        assert.equal(report.running, true);
        assert.equal(report.format, 1);
        assert.equal(report.demo, true);
        assert.equal(report.dataDir, demoDir);
        assert.equal(report.pid, starting.pid);
        assert.equal(report.listeners.smtp.state, "listening");
        assert.equal(report.listeners.smtp.port, smtp!.port);
        // The soft memory limit is enforced where V8 has gc(), and glibc's mmap threshold fixed
        // where the environment says so: the bundle launcher does both (as the demo task does);
        // the plain `deno run` of these tests neither.
        const launched = !!Deno.env.get("BRIDGE_TEST_BUNDLE");
        assert.ok(report.memory.rssMB > 20, `rss ${report.memory.rssMB} MB`);
        assert.equal(report.memory.softLimitMiB, 240);
        assert.equal(report.memory.softLimitActive, launched);
        assert.ok(report.memory.forcedCollections >= 0);
        // (Inherited when the test's own environment sets it.)
        const threshold = launched
          ? Number(BRIDGE_ENV.MALLOC_MMAP_THRESHOLD_)
          : mallocMmapThreshold();
        assert.equal(report.memory.mallocMmapThreshold, threshold);
        const a = demoAccount(report);
        assert.equal(a.state, "ready");
        assert.equal(a.reason, null);
        assert.equal(a.sync.firstSyncDone, true);
        assert.equal(a.sync.phase, "done");
        assert.equal(a.sync.done, 300);
        assert.equal(a.counts.messages, 300);
        assert.ok((a.counts.mailboxes ?? 0) >= 10);
        assert.ok(["running", "paused"].includes(a.events.state ?? ""));
        assert.equal(a.events.pollIntervalSeconds, 1);
        // The demo account's 300 seeded messages take space on its 1 GiB plan (what GETQUOTA says).
        assert.ok(a.storage && a.storage.usedBytes > 300 * 200, JSON.stringify(a.storage));
        assert.equal(a.storage.limitBytes, 1024 ** 3);
        assert.ok(!out.stdout.includes(accounts[0].password), "status must not show passwords");
        const text = await runBridge(home, {}, "status", "--data-dir", demoDir);
        assert.equal(text.code, 0);
        assert.match(text.stdout, /demo@bridge\.test: ready/);
        assert.match(text.stdout, /300 messages/);
        assert.match(text.stdout, /storage: +[\d.,]+ MB of 1,074 MB \(\d+ %\)/);
        assert.match(
          text.stdout,
          launched
            ? /memory: +[\d.]+ MB resident; soft limit 240 MiB, \d+ forced collections?\n/
            : threshold === null
            ? /memory: +[\d.]+ MB resident; soft limit 240 MiB not enforced .*; MALLOC_MMAP_THRESHOLD_ not set/
            : /memory: +[\d.]+ MB resident; soft limit 240 MiB not enforced \(V8 runs without --expose-gc\)\n/,
        );
      });

      await t.step("a second serve on the same data directory is refused", async () => {
        const second = await runBridge(
          home,
          {},
          "serve",
          "--demo",
          "--demo-data",
          demoDir,
          "--imap-port",
          "0",
          "--smtp-port",
          "0",
        );
        assert.equal(second.code, 1);
        assert.match(second.stderr, new RegExp(`PID ${starting.pid}`));
        assert.match(second.stderr, /already using the data directory/);
        // The first one is unharmed.
        const outcome = await askStatus(demoDir);
        assert.equal(outcome.kind, "running");
      });

      const cafile = join(demoDir, "cert.pem");
      const apiUrl = (JSON.parse(
        (await runBridge(home, {}, "status", "--json", "--data-dir", demoDir))
          .stdout,
      ) as StatusReport).apiUrl;
      if (imap) {
        await t.step("IMAP: LOGIN with the ready line's password, LIST, SELECT INBOX", async () => {
          const r = await runPythonJson(home, IMAP_CHECK, [
            String(imap.port),
            cafile,
            DEMO_EMAIL,
            accounts[0].password,
          ]) as { boxes: string[]; exists: number };
          assert.ok(r.boxes.some((b) => /"INBOX"|INBOX$/.test(b)), JSON.stringify(r.boxes));
          assert.ok(r.boxes.some((b) => /Folders\/Work/.test(b)), JSON.stringify(r.boxes));
          const seeded = await serverInboxCount(apiUrl);
          assert.ok(seeded > 0);
          assert.equal(r.exists, seeded);
        });
      }

      await t.step("SMTP: a wrong password is refused, the right one sends", async () => {
        const wrong = await runPythonJson(home, SMTP_WRONG, [
          String(smtp!.port),
          cafile,
          DEMO_EMAIL,
        ]);
        assert.deepEqual(wrong, { code: 535 });
        const sent = await runPythonJson(home, SMTP_SEND, [
          String(smtp!.port),
          cafile,
          DEMO_EMAIL,
          accounts[0].password,
        ]);
        assert.deepEqual(sent, { refused: {}, refused8: {} });
        // The event loop (1 s interval) brings the sent copy and the received one into the index.
        const deadline = Date.now() + 30_000;
        let a: AccountStatus | undefined;
        while (Date.now() < deadline) {
          const outcome = await askStatus(demoDir);
          assert.equal(outcome.kind, "running");
          if (outcome.kind !== "running") break;
          a = demoAccount(outcome.report);
          if ((a.counts.messages ?? 0) > 300 && a.events.eventsApplied > 0) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        assert.ok(a && (a.counts.messages ?? 0) > 300, `index: ${JSON.stringify(a)}`);
        assert.equal(a.smtp.sent, 2);
        assert.equal(a.smtp.failed, 0);
        assert.notEqual(a.events.lastEventAt, null);
        if (imap) {
          const r = await runPythonJson(home, IMAP_WAIT_FOR, [
            String(imap.port),
            cafile,
            DEMO_EMAIL,
            accounts[0].password,
            "serve test",
          ]);
          assert.deepEqual(r, { found: 1 });
        }
      });

      await t.step("SIGTERM: exit 0, lock and control file gone, data kept", async () => {
        const code = await serve.stop("SIGTERM");
        assert.equal(code, 0, serve.stderr);
        assert.deepEqual(serve.events.slice(-2).map((e) => e.event), ["stopping", "stopped"]);
        const names = [...Deno.readDirSync(demoDir)].map((e) => e.name);
        assert.ok(!names.includes("serve.lock"), names.join(" "));
        assert.ok(!names.includes("serve.json"), names.join(" "));
        assert.ok(names.includes("vault.enc"));
        assert.ok(names.includes("accounts"));
        const out = await runBridge(home, {}, "status", "--json", "--data-dir", demoDir);
        assert.equal(out.code, 3);
        assert.deepEqual(JSON.parse(out.stdout), { running: false });
      });
    } finally {
      await serve.stop("SIGKILL").catch(() => {});
    }
  }, "bridge_serve_test_");
});

Deno.test({
  name: "serve --demo: a kept demo directory starts again with the same password, already synced",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withTempDir(async (home) => {
    const demoDir = join(home, "demo");
    const args = demoServeArgs(demoDir);
    const first = new ServeProcess(home, args);
    let password: string;
    try {
      const ready = await first.waitFor("ready");
      password = (ready.accounts as { password: string }[])[0].password;
      assert.equal(await first.stop("SIGINT"), 0);
    } finally {
      await first.stop("SIGKILL").catch(() => {});
    }
    const second = new ServeProcess(home, args);
    try {
      const ready = await second.waitFor("ready");
      assert.equal((ready.accounts as { password: string }[])[0].password, password);
      // No message was downloaded again: the sync only refreshed labels.
      const progress = second.events.filter((e) => e.event === "sync-progress");
      assert.ok(progress.every((e) => e.phase !== "messages"), JSON.stringify(progress));
      // SIGHUP reloads: nothing changed, nothing needs a restart, the account stays.
      second.child.kill("SIGHUP");
      const reload = await second.waitFor("reload", { timeoutMs: 20_000 });
      assert.deepEqual(reload.needsRestart, []);
      assert.deepEqual(reload.accountsRemoved, []);
      assert.equal(await second.stop("SIGTERM"), 0);
    } finally {
      await second.stop("SIGKILL").catch(() => {});
    }
    // An index from a newer bridge: a clear error, no retries, the file left as it is.
    const accounts = join(demoDir, "accounts");
    const [user] = [...Deno.readDirSync(accounts)].map((e) => e.name);
    const index = join(accounts, user, "index.sqlite");
    const db = new DatabaseSync(index);
    db.prepare("INSERT INTO schema_version VALUES (?, 'from a newer bridge', 0)").run(
      LATEST_VERSION + 1,
    );
    db.close();
    const before = await Deno.readFile(index);
    const third = new ServeProcess(home, args);
    try {
      const ready = await third.waitFor("ready");
      assert.deepEqual(ready.accounts, []);
      const account = third.events.find((e) => e.event === "account" && e.state === "error");
      assert.ok(account, JSON.stringify(third.events));
      assert.match(String(account.reason), /written by a newer bridge \(schema version \d+;/);
      assert.doesNotMatch(String(account.reason), /trying again/);
      assert.equal(await third.stop("SIGTERM"), 0);
    } finally {
      await third.stop("SIGKILL").catch(() => {});
    }
    assert.deepEqual(await Deno.readFile(index), before);
  }, "bridge_serve_test_");
});

Deno.test('status: no serve running answers {"running":false} with exit code 3', async () => {
  await withTempDir(async (home) => {
    const out = await runBridge(home, {}, "status", "--json", "--data-dir", join(home, "nothing"));
    assert.equal(out.code, 3);
    assert.deepEqual(JSON.parse(out.stdout), { running: false });
    assert.match(out.stderr, /no bridge serve is running/);
  }, "bridge_serve_test_");
});

const IMPLICIT_TLS = String.raw`
import imaplib, json, smtplib, ssl, sys
imap_port, smtp_port, cafile, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
out = {}
s = smtplib.SMTP_SSL("127.0.0.1", smtp_port, context=ssl.create_default_context(cafile=cafile), timeout=60)
s.login(user, password)
out["smtp"] = s.noop()[0]
s.quit()
if imap_port != "none":
    m = imaplib.IMAP4_SSL("127.0.0.1", int(imap_port), ssl_context=ssl.create_default_context(cafile=cafile))
    m.login(user, password)
    typ, data = m.select("INBOX", readonly=True)
    out["imap"] = typ
    m.logout()
print(json.dumps(out))
`;

Deno.test({
  name: "serve --demo --security ssl: implicit TLS for IMAP and SMTP",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withTempDir(async (home) => {
    const demoDir = join(home, "demo");
    const serve = new ServeProcess(home, demoServeArgs(demoDir, "--security", "ssl"));
    try {
      const ready = await serve.waitFor("ready");
      const smtp = ready.smtp as { port: number; security: string };
      const imap = ready.imap as { port: number; security: string } | null;
      assert.equal(smtp.security, "ssl");
      if (imap) assert.equal(imap.security, "ssl");
      const password = (ready.accounts as { password: string }[])[0].password;
      const r = await runPythonJson(home, IMPLICIT_TLS, [
        imap ? String(imap.port) : "none",
        String(smtp.port),
        join(demoDir, "cert.pem"),
        DEMO_EMAIL,
        password,
      ]);
      assert.deepEqual(r, imap ? { smtp: 250, imap: "OK" } : { smtp: 250 });
      assert.equal(await serve.stop("SIGTERM"), 0);
    } finally {
      await serve.stop("SIGKILL").catch(() => {});
    }
  }, "bridge_serve_test_");
});

Deno.test({
  name: "serve --host 0.0.0.0: the listening event and log say every interface, and warn",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withTempDir(async (home) => {
    const serve = new ServeProcess(home, demoServeArgs(join(home, "demo"), "--host", "0.0.0.0"));
    try {
      const listening = await serve.waitFor("listening");
      for (const which of ["imap", "smtp"] as const) {
        const l = listening[which] as { host: string; listen: string; port: number };
        assert.equal(l.listen, "0.0.0.0", which);
        assert.equal(l.host, "127.0.0.1", which);
        const name = which.toUpperCase();
        await serve.until(
          `${name} warning`,
          () =>
            serve.stderr.includes(`${name} listening on 0.0.0.0:${l.port}`) &&
              serve.stderr.includes(`${name} is reachable from other machines`) || undefined,
        );
      }
      assert.equal(await serve.stop("SIGTERM"), 0, serve.stderr);
    } finally {
      await serve.stop("SIGKILL").catch(() => {});
    }
  }, "bridge_serve_test_");
});

/** Reads from `conn` until `done(text so far)`; the text. */
async function readUntil(conn: Deno.Conn, done: (text: string) => boolean): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!done(text)) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

Deno.test({
  name: "serve with server.require_tls_login: no login before TLS on loopback either",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withTempDir(async (home) => {
    const serve = new ServeProcess(home, demoServeArgs(join(home, "demo")), {
      env: { BRIDGE_SERVER_REQUIRE_TLS_LOGIN: "true" },
    });
    try {
      const listening = await serve.waitFor("listening");
      const ports = listening as unknown as Record<"imap" | "smtp", { port: number }>;
      const imap = await Deno.connect({ hostname: "127.0.0.1", port: ports.imap.port });
      try {
        const greeting = await readUntil(imap, (t) => t.includes("\r\n"));
        assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED /);
        await imap.write(new TextEncoder().encode("a1 LOGIN demo@bridge.test x\r\n"));
        assert.match(
          await readUntil(imap, (t) => t.includes("\r\n")),
          /^a1 NO \[PRIVACYREQUIRED\]/,
        );
      } finally {
        imap.close();
      }
      const smtp = await Deno.connect({ hostname: "127.0.0.1", port: ports.smtp.port });
      try {
        await readUntil(smtp, (t) => t.includes("\r\n"));
        await smtp.write(new TextEncoder().encode("EHLO probe\r\n"));
        const ehlo = await readUntil(smtp, (t) => /^250 /m.test(t));
        assert.match(ehlo, /^250-STARTTLS\r$/m);
        assert.doesNotMatch(ehlo, /AUTH/);
      } finally {
        smtp.close();
      }
      assert.equal(await serve.stop("SIGTERM"), 0, serve.stderr);
    } finally {
      await serve.stop("SIGKILL").catch(() => {});
    }
  }, "bridge_serve_test_");
});

Deno.test({
  name: "serve with log.format json: every log line on standard error is a JSON object",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withTempDir(async (home) => {
    const serve = new ServeProcess(home, demoServeArgs(join(home, "demo")), {
      env: { BRIDGE_LOG_FORMAT: "json" },
    });
    try {
      await serve.waitFor("ready");
      assert.equal(await serve.stop("SIGTERM"), 0, serve.stderr);
      const lines = serve.stderr.split("\n").filter((l) => l !== "");
      assert.ok(lines.length > 3, serve.stderr);
      for (const line of lines) {
        const entry = JSON.parse(line);
        assert.equal(typeof entry.time, "string", line);
        assert.equal(typeof entry.level, "string", line);
        assert.equal(typeof entry.msg, "string", line);
      }
    } finally {
      await serve.stop("SIGKILL").catch(() => {});
    }
  }, "bridge_serve_test_");
});

Deno.test({
  name: "bridge info shows the ports a running serve listens on, not only the configured ones",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withTempDir(async (home) => {
    const demoDir = join(home, "demo");
    const serve = new ServeProcess(home, demoServeArgs(demoDir));
    try {
      const ready = await serve.waitFor("ready");
      const ports = ready as unknown as Record<"imap" | "smtp", { port: number }>;
      const info = await runBridge(
        home,
        {},
        "info",
        DEMO_EMAIL,
        "--json",
        "--data-dir",
        demoDir,
        "--key-store",
        "file",
      );
      assert.equal(info.code, 0, info.stderr);
      const settings = JSON.parse(info.stdout);
      assert.equal(settings.imap.port, ports.imap.port);
      assert.equal(settings.smtp.port, ports.smtp.port);
      assert.notEqual(settings.imap.port, 1143);
      assert.equal(await serve.stop("SIGTERM"), 0, serve.stderr);
    } finally {
      await serve.stop("SIGKILL").catch(() => {});
    }
  }, "bridge_serve_test_");
});
