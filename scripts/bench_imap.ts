/**
 * IMAP benchmark: the same messages served by bridge and by Dovecot, in one run, measured with the
 * same client.
 *
 * 1. The reference API server runs in its own process (`main.ts api-server --json --seed …
 *    --seed-messages N`: the seed's realistic size mix), and every message but the drafts is moved
 *    into the Inbox through its controls, so that INBOX holds (almost) all N messages.
 * 2. bridge: `bridge login` and `bridge serve --json --security none` as subprocesses on a fresh
 *    data directory; the time to the `ready` line is the first sync.
 * 3. Dovecot (Debian's `dovecot-imapd`, installed with apt-get when missing — through sudo when
 *    not root) runs as a private instance on 127.0.0.1 with a temporary config, passwd file and
 *    Maildir. The Maildir is filled with the literals bridge serves (`UID FETCH 1:* (UID FLAGS
 *    INTERNALDATE BODY.PEEK[])` from bridge's INBOX): same bytes, same flags (system flags and
 *    keywords), same internal dates (file mtime). Dovecot runs its mail processes as `nobody` when
 *    this script is root (it refuses UID 0).
 * 4. One untimed warm-up pass on each server (Dovecot builds its index and cache, bridge warms its
 *    caches), then `--repeat` timed passes, alternating servers. A pass is one fresh connection
 *    (LOGIN untimed) running, each timed from sending the command to its tagged response:
 *    `SELECT INBOX`, `UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)`, `UID FETCH 1:* BODY.PEEK[]`,
 *    `UID SEARCH HEADER Subject <word>`, `UID SEARCH SINCE <median date>`, `SORT (REVERSE DATE)
 *    UTF-8 ALL`, `SORT (SUBJECT) UTF-8 ALL` (not an issue-4 target; both servers must answer the
 *    same order), and `UID STORE` of `+FLAGS (\Flagged)` then `-FLAGS (\Flagged)` on the first
 *    1,000 UIDs.
 * 5. A table: median time per command on each server, the ratio bridge/Dovecot and the target
 *    (≤ 1.5×), plus cross-checks (both servers must answer the same number of messages and hits).
 *
 * The client is a minimal IMAP reader in this process (`_imap_bench_client.ts`): it streams
 * responses, skips literal bytes without copying them (except when filling the Maildir) and counts
 * responses, so the figures are server time plus loopback transfer, not client parsing.
 *
 * ```sh
 * deno run -A scripts/bench_imap.ts [--messages 10000] [--repeat 3] [--store 1000]
 *   [--subject report] [--data DIR] [--keep] [--json] [--profile]
 *   [--v8-flags=--max-semi-space-size=4,--expose-gc] [--glibc-default]
 * ```
 * serve runs with the V8 flags and environment of every launcher (`src/cli/launch_settings.ts`:
 * `deno task demo`, `deno task compile`, the bundle launcher), so the figures are the product's.
 * `--v8-flags` replaces the flags; `--glibc-default` leaves `MALLOC_MMAP_THRESHOLD_` out of serve's
 * environment (glibc's adjusting threshold), for comparison.
 * `--data DIR` keeps the reference server's data (later runs skip seeding); `--keep` keeps the
 * temporary directory (bridge data, Maildir, Dovecot config and log) and prints its path.
 * `--profile` starts serve with `--inspect` and, after the timed passes, runs one more bridge
 * pass with a CPU profile of serve's main thread per command: busy and idle time and the
 * functions with the most self time. Profiling slows serve down; the table comes from the
 * unprofiled passes.
 *
 * @module
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { BRIDGE_V8_FLAGS } from "../src/cli/launch_settings.ts";
import { plainServeArgs } from "../tests/_serve_process.ts";
import * as processes from "./_bench_processes.ts";
import {
  type CommandResult,
  type ImapClient,
  login,
  MONTHS,
  searchDate,
  searchHits,
} from "./_imap_bench_client.ts";
import { scriptArgs, usageError } from "./_script_args.ts";

const EMAIL = "bench@example.test";
const PASSWORD = "bench-password";
const DOVECOT_USER = "bench";
const DOVECOT_PASSWORD = "bench-dovecot-password";

const fail: (message: string) => never = usageError("bench_imap");
const values = scriptArgs("bench_imap", {
  messages: { type: "string" },
  repeat: { type: "string" },
  store: { type: "string" },
  subject: { type: "string" },
  data: { type: "string" },
  keep: { type: "boolean" },
  json: { type: "boolean" },
  profile: { type: "boolean" },
  "v8-flags": { type: "string" },
  "glibc-default": { type: "boolean" },
});

const N = Number(values.messages ?? "10000");
if (!Number.isInteger(N) || N < 1) fail("--messages must be a positive integer");
const REPEAT = Number(values.repeat ?? "3");
if (!Number.isInteger(REPEAT) || REPEAT < 1) fail("--repeat must be a positive integer");
const STORE = Number(values.store ?? "1000");
if (!Number.isInteger(STORE) || STORE < 1) fail("--store must be a positive integer");
const SUBJECT_WORD = values.subject ?? "report";
/**
 * SORT by message number (the Maildir holds bridge's INBOX in UID order, so both servers number
 * the messages alike and must answer the same order).
 */
const SORTS = ["SORT (REVERSE DATE) UTF-8 ALL", "SORT (SUBJECT) UTF-8 ALL"];
if (!/^[A-Za-z0-9]+$/.test(SUBJECT_WORD)) fail("--subject must be one ASCII word");
const log = (s: string) => {
  if (!values.json) console.error(s);
};

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/** `bridge serve --json` until its `ready` line; answers the IMAP port and password. */
async function startBridge(home: string, apiUrl: string, data: string) {
  const serve = processes.bridgeCommand(
    home,
    [
      "serve",
      ...plainServeArgs(apiUrl, "--data-dir", data, "--key-store", "file"),
    ],
    {
      stderr: "piped",
      denoFlags: [
        `--v8-flags=${values["v8-flags"] ?? BRIDGE_V8_FLAGS}`,
        ...(values.profile ? ["--inspect=127.0.0.1:0"] : []),
      ],
      glibcDefault: values["glibc-default"],
    },
  ).spawn();
  const started = performance.now();
  let stderr = "";
  const stderrDone = processes.eachLine(serve.stderr, (l) => {
    stderr += l + "\n";
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  let lastLog = 0;
  const ready = await new Promise<{ port: number; password: string }>((resolve, reject) => {
    processes.eachLine(serve.stdout, (line) => {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line);
      } catch {
        return;
      }
      if (e.event === "sync-progress" && performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`  bridge first sync: ${e.phase} ${e.done}/${e.total}`);
      }
      if (e.event === "ready") {
        const imap = e.imap as { port: number } | null;
        const accounts = e.accounts as { password: string }[];
        if (!imap) reject(new Error("bridge serve is not serving IMAP"));
        else resolve({ port: imap.port, password: accounts[0].password });
      }
    }).then(() => reject(new Error(`bridge serve exited before ready:\n${stderr}`)));
  });
  const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
  if (values.profile && !inspector) fail("--profile: serve printed no inspector address");
  return {
    child: serve,
    ...ready,
    inspector,
    seconds: (performance.now() - started) / 1000,
    stop: async () => {
      await processes.terminate(serve);
      await stderrDone;
    },
  };
}

async function run(cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { ok: out.success, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function exists(cmd: string): Promise<string | undefined> {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin"]) {
    try {
      await Deno.stat(join(dir, cmd));
      return join(dir, cmd);
    } catch {
      // next
    }
  }
  return undefined;
}

/** The dovecot binary, installed from Debian (`dovecot-imapd`) when missing. */
async function ensureDovecot(): Promise<string> {
  const found = await exists("dovecot");
  if (found) return found;
  log("dovecot not found: installing dovecot-imapd with apt-get");
  const root = Deno.uid() === 0;
  const env = { ...Deno.env.toObject(), DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args: string[]) =>
    root ? run("apt-get", args, env) : run("sudo", ["-E", "apt-get", ...args], env);
  let r = await apt(["install", "-y", "--no-install-recommends", "dovecot-imapd"]);
  if (!r.ok) {
    await apt(["update"]);
    r = await apt(["install", "-y", "--no-install-recommends", "dovecot-imapd"]);
  }
  if (!r.ok) fail(`apt-get install dovecot-imapd failed:\n${r.stderr}`);
  const installed = await exists("dovecot");
  if (!installed) fail("dovecot-imapd installed but no dovecot binary found");
  return installed;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function idOf(flag: "-u" | "-g", name: string): Promise<number> {
  const r = await run("id", [flag, name]);
  if (!r.ok) fail(`id ${flag} ${name}: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** Writes the private Dovecot config and passwd file; answers the config path and mail owner. */
async function dovecotConfig(dir: string, port: number) {
  const root = Deno.uid() === 0;
  // Dovecot refuses to run mail processes as root: as root, mail belongs to nobody.
  const uid = root ? await idOf("-u", "nobody") : Deno.uid()!;
  const gid = root ? await idOf("-g", "nobody") : Deno.gid()!;
  const me = root ? "" : (await run("id", ["-un"])).stdout.trim();
  for (const sub of ["run", "state", "home", "maildir/cur", "maildir/new", "maildir/tmp"]) {
    await Deno.mkdir(join(dir, sub), { recursive: true });
  }
  await Deno.writeTextFile(
    join(dir, "passwd"),
    `${DOVECOT_USER}:{PLAIN}${DOVECOT_PASSWORD}:${uid}:${gid}::${join(dir, "home")}\n`,
  );
  const lines = [
    "# Private Dovecot for scripts/bench_imap.ts (loopback only, no TLS).",
    "protocols = imap",
    "listen = 127.0.0.1",
    `base_dir = ${join(dir, "run")}`,
    `state_dir = ${join(dir, "state")}`,
    `log_path = ${join(dir, "dovecot.log")}`,
    "ssl = no",
    "disable_plaintext_auth = no",
    "auth_mechanisms = plain login",
    `mail_location = maildir:${join(dir, "maildir")}:LAYOUT=fs`,
    "first_valid_uid = 1",
    "first_valid_gid = 1",
    "passdb {",
    "  driver = passwd-file",
    `  args = scheme=PLAIN username_format=%u ${join(dir, "passwd")}`,
    "}",
    "userdb {",
    "  driver = static",
    `  args = uid=${uid} gid=${gid} home=${join(dir, "home")}`,
    "}",
    "service imap-login {",
    "  inet_listener imap {",
    "    address = 127.0.0.1",
    `    port = ${port}`,
    "  }",
    "  inet_listener imaps {",
    "    port = 0",
    "  }",
    ...(root ? [] : ["  chroot ="]),
    "}",
    "protocol imap {",
    "  mail_max_userip_connections = 50",
    "}",
  ];
  if (!root) {
    // Rootless Dovecot: every service runs as this user, without chroot.
    lines.push(
      `default_internal_user = ${me}`,
      `default_internal_group = ${(await run("id", ["-gn"])).stdout.trim()}`,
      `default_login_user = ${me}`,
      "service anvil {",
      "  chroot =",
      "}",
    );
  }
  const conf = join(dir, "dovecot.conf");
  await Deno.writeTextFile(conf, lines.join("\n") + "\n");
  return { conf, uid, gid };
}

async function waitForPort(port: number, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (true) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      if (Date.now() > deadline) fail(`${what} does not listen on ${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Filling the Maildir from bridge
// ---------------------------------------------------------------------------------------------

const MAILDIR_FLAGS: Record<string, string> = {
  "\\Draft": "D",
  "\\Flagged": "F",
  "\\Answered": "R",
  "\\Seen": "S",
  "\\Deleted": "T",
};

/** `"05-Mar-2022 10:30:00 +0000"` → Date. */
function parseInternalDate(s: string): Date {
  const m = /^ ?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(s);
  if (!m) throw new Error(`bad INTERNALDATE ${s}`);
  const utc = Date.UTC(+m[3], MONTHS.indexOf(m[2]), +m[1], +m[4], +m[5], +m[6]);
  const offset = (m[7] === "-" ? -1 : 1) * (+m[8] * 60 + +m[9]) * 60_000;
  return new Date(utc - offset);
}

/**
 * Copies bridge's INBOX into the Maildir: one file per message in `cur/`, named so that Dovecot
 * assigns UIDs in bridge's order, flags in the name, keywords in `dovecot-keywords`, the internal
 * date as mtime. Answers what it wrote.
 */
async function fillMaildir(
  bridge: ImapClient,
  maildir: string,
): Promise<{ count: number; bytes: number; dates: Date[] }> {
  await bridge.ok("SELECT INBOX");
  const keywords: string[] = [];
  const dates: Date[] = [];
  let count = 0;
  let bytes = 0;
  const r = await bridge.ok("UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])", {
    onResponse: (resp) => {
      if (!/^\* \d+ FETCH /.test(resp.text)) return;
      const flags = /FLAGS \(([^)]*)\)/.exec(resp.text)?.[1].split(" ").filter(Boolean) ?? [];
      const date = parseInternalDate(/INTERNALDATE "([^"]+)"/.exec(resp.text)![1]);
      const literal = resp.literals[0];
      if (!literal) throw new Error(`FETCH without BODY[]: ${resp.text.slice(0, 200)}`);
      let letters = "";
      const kw: string[] = [];
      for (const f of flags) {
        if (MAILDIR_FLAGS[f]) letters += MAILDIR_FLAGS[f];
        else if (!f.startsWith("\\")) {
          let k = keywords.indexOf(f);
          if (k < 0 && keywords.length < 26) k = keywords.push(f) - 1;
          if (k >= 0) kw.push(String.fromCharCode(97 + k));
        }
      }
      letters = [...letters].sort().join("") + kw.sort().join("");
      count++;
      const base = `${1_000_000 + count}.M${count}P${Deno.pid}.bench,S=${literal.length}`;
      const file = join(maildir, "cur", `${base}:2,${letters}`);
      Deno.writeFileSync(file, literal);
      Deno.utimeSync(file, date, date);
      dates.push(date);
      bytes += literal.length;
    },
  });
  if (r.responses < count) throw new Error("lost FETCH responses");
  await Deno.writeTextFile(
    join(maildir, "dovecot-keywords"),
    keywords.map((k, i) => `${i} ${k}\n`).join(""),
  );
  await bridge.ok("UNSELECT");
  return { count, bytes, dates };
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await Deno.chown(path, uid, gid);
  for await (const e of Deno.readDir(path)) {
    const p = join(path, e.name);
    if (e.isDirectory) await chownTree(p, uid, gid);
    else await Deno.chown(p, uid, gid);
  }
}

// ---------------------------------------------------------------------------------------------
// The measured pass
// ---------------------------------------------------------------------------------------------

interface Op {
  name: string;
  ms: number;
  responses: number;
  bytes: number;
  /** Hits of a SEARCH or SORT, EXISTS of SELECT. */
  count?: number;
  /** The message numbers a SORT answered, in order (both servers must agree). */
  order?: string;
}

/** The numbers of a `* SORT` response, as one string. */
function sortOrder(r: CommandResult): string {
  const line = r.texts.find((t) => t.startsWith("* SORT"));
  return line ? line.trim().split(" ").slice(2).join(" ") : "";
}

/** Called around each measured command of a pass (`--profile`). */
interface PassHooks {
  before(command: string): Promise<void>;
  after(command: string): Promise<void>;
}

/** One pass of the measured commands on a fresh connection. */
async function pass(
  port: number,
  user: string,
  password: string,
  since: string,
  hooks?: PassHooks,
): Promise<Op[]> {
  const conn = await login(port, user, password);
  const ops: Op[] = [];
  const add = (name: string, r: CommandResult, count?: number, order?: string) =>
    ops.push({ name, ms: r.ms, responses: r.responses, bytes: r.bytes, count, order });
  const c = {
    async ok(command: string, opts: { keepText?: boolean } = {}): Promise<CommandResult> {
      const measured = !command.startsWith("UID SEARCH ALL");
      if (measured) await hooks?.before(command);
      const r = await conn.ok(command, opts);
      if (measured) await hooks?.after(command);
      return r;
    },
    close: () => conn.close(),
  };
  try {
    const select = await c.ok("SELECT INBOX", { keepText: true });
    const existsLine = select.texts.find((t) => / EXISTS\r?\n$/.test(t));
    add("SELECT INBOX", select, Number(/^\* (\d+) EXISTS/.exec(existsLine ?? "")?.[1]));
    add(
      "UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)",
      await c.ok("UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)"),
    );
    add("UID FETCH 1:* BODY.PEEK[]", await c.ok("UID FETCH 1:* BODY.PEEK[]"));
    const header = await c.ok(`UID SEARCH HEADER Subject ${SUBJECT_WORD}`, { keepText: true });
    add(`UID SEARCH HEADER Subject ${SUBJECT_WORD}`, header, searchHits(header));
    const sinceR = await c.ok(`UID SEARCH SINCE ${since}`, { keepText: true });
    add(`UID SEARCH SINCE ${since}`, sinceR, searchHits(sinceR));
    for (const sort of SORTS) {
      const r = await c.ok(sort, { keepText: true });
      const order = sortOrder(r);
      add(sort, r, order === "" ? 0 : order.split(" ").length, order);
    }
    const all = await c.ok("UID SEARCH ALL", { keepText: true });
    const uids = (all.texts.find((t) => t.startsWith("* SEARCH")) ?? "").trim().split(" ")
      .slice(2).map(Number).sort((a, b) => a - b);
    const n = Math.min(STORE, uids.length);
    const set = `${uids[0]}:${uids[n - 1]}`;
    add(`UID STORE ${n} +FLAGS (\\Flagged)`, await c.ok(`UID STORE ${set} +FLAGS (\\Flagged)`), n);
    add(`UID STORE ${n} -FLAGS (\\Flagged)`, await c.ok(`UID STORE ${set} -FLAGS (\\Flagged)`), n);
  } finally {
    await c.close();
  }
  return ops;
}

/** Per sequence number: RFC822.SIZE and ENVELOPE as the server wrote them (untimed). */
async function envelopes(port: number, user: string, password: string): Promise<string[]> {
  const c = await login(port, user, password);
  try {
    await c.ok("EXAMINE INBOX");
    const r = await c.ok("FETCH 1:* (RFC822.SIZE ENVELOPE)", { keepText: true });
    return r.texts.filter((t) => /^\* \d+ FETCH /.test(t)).map((t) => {
      const size = /RFC822\.SIZE (\d+)/.exec(t)?.[1];
      const at = t.indexOf("ENVELOPE (");
      const env = at < 0 ? "" : t.slice(at + 9).replace(/\)\r?\n$/, "");
      return `${size} ${env.replace(/ ?RFC822\.SIZE \d+/, "").trim()}`;
    });
  } finally {
    await c.close();
  }
}

/**
 * Compares what both servers say about the same messages: sizes must be equal (same bytes);
 * ENVELOPEs may differ only where one server writes a string differently (quoted vs literal).
 */
function compareEnvelopes(a: string[], b: string[]) {
  let sizes = 0;
  let envs = 0;
  const examples: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const [sa, ...ra] = (a[i] ?? "").split(" ");
    const [sb, ...rb] = (b[i] ?? "").split(" ");
    if (sa !== sb) sizes++;
    if (ra.join(" ") !== rb.join(" ")) {
      envs++;
      if (examples.length < 3) {
        examples.push(`#${i + 1}\n  bridge:  ${ra.join(" ")}\n  dovecot: ${rb.join(" ")}`);
      }
    }
  }
  return {
    messages: Math.max(a.length, b.length),
    sizesDiffer: sizes,
    envelopesDiffer: envs,
    examples,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Peak and current RSS of a process, from /proc (Linux), in MB. */
async function rssOf(pid: number): Promise<{ peakMB: number; rssMB: number } | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { peakMB: round(kb("VmHWM") / 1024), rssMB: round(kb("VmRSS") / 1024) };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// --profile: CPU profiles of serve's main thread through the inspector
// ---------------------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** A connection to serve's inspector. */
class Inspector {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, (result: unknown) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.id === undefined) return;
      this.#pending.get(msg.id)?.(msg.result ?? msg.error);
      this.#pending.delete(msg.id);
    };
  }

  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot connect to the inspector at ${url}`));
    });
    const inspector = new Inspector(ws);
    await inspector.call("Profiler.enable");
    await inspector.call("Profiler.setSamplingInterval", { interval: 200 });
    return inspector;
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    const done = new Promise<unknown>((r) => this.#pending.set(id, r));
    this.#ws.send(JSON.stringify({ id, method, params }));
    return done;
  }

  close(): void {
    this.#ws.close();
  }
}

/** One bridge pass with a CPU profile per command; prints busy, idle and the top functions. */
async function profiledPass(url: string, run: (hooks: PassHooks) => Promise<Op[]>) {
  const inspector = await Inspector.connect(url);
  const report: Record<string, unknown>[] = [];
  try {
    await run({
      before: async () => {
        await inspector.call("Profiler.start");
      },
      after: async (command) => {
        const { profile } = await inspector.call("Profiler.stop") as {
          profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
        };
        const byId = new Map(profile.nodes.map((n) => [n.id, n]));
        const functions = new Map<string, number>();
        let busy = 0;
        let idle = 0;
        for (let i = 0; i < profile.samples.length; i++) {
          const frame = byId.get(profile.samples[i])?.callFrame;
          const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
          if (!frame) continue;
          if (frame.functionName === "(idle)") {
            idle += ms;
            continue;
          }
          busy += ms;
          const where = frame.url ? frame.url.replace(/^.*\/(src|ext|node)\//, "$1/") : "";
          const name = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`;
          functions.set(name, (functions.get(name) ?? 0) + ms);
        }
        const top = [...functions].sort((a, b) => b[1] - a[1]).slice(0, 12);
        report.push({
          command,
          busyMs: round(busy),
          idleMs: round(idle),
          top: top.map(([name, ms]) => ({ name, ms: round(ms) })),
        });
        log(`profile: ${command}: busy ${round(busy)} ms, idle ${round(idle)} ms`);
        for (const [name, ms] of top) log(`  ${round(ms).toFixed(1).padStart(8)} ms  ${name}`);
      },
    });
  } finally {
    inspector.close();
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const dovecotBin = await ensureDovecot();
const dovecotVersion = (await run(dovecotBin, ["--version"])).stdout.trim();
const home = await Deno.makeTempDir({ prefix: "bench_imap_" });
await Deno.chmod(home, 0o755);
const cleanups: (() => Promise<unknown>)[] = [];
let exitCode = 0;
try {
  // 1. The reference server, everything in the Inbox.
  log(`reference server: seeding ${N} messages (skipped when --data already has them)`);
  const api = await processes.startApiServer({
    home,
    glibcDefault: values["glibc-default"],
    email: EMAIL,
    password: PASSWORD,
    messages: N,
    data: values.data,
    onChild: (child) => cleanups.push(() => processes.terminate(child)),
  });
  log(`  ready in ${(api.ms / 1000).toFixed(1)} s`);
  const moved = await processes.everythingToInbox(api.url, EMAIL);
  log(`  ${moved.moved} messages moved into the Inbox, which holds ${moved.inboxTimes.length}`);

  // 2. bridge.
  const data = join(home, "bridge-data");
  await processes.bridgeLogin(home, {
    glibcDefault: values["glibc-default"],
    api,
    email: EMAIL,
    password: PASSWORD,
    data,
  });
  log("bridge serve: first sync");
  const bridge = await startBridge(home, api.url, data);
  cleanups.unshift(bridge.stop);
  log(`  ready in ${bridge.seconds.toFixed(1)} s (IMAP port ${bridge.port})`);

  // 3. Dovecot with the same literals.
  const dovecotDir = join(home, "dovecot");
  const dovecotPort = freePort();
  const dc = await dovecotConfig(dovecotDir, dovecotPort);
  const filler = await login(bridge.port, EMAIL, bridge.password);
  const t0 = performance.now();
  const filled = await fillMaildir(filler, join(dovecotDir, "maildir"));
  await filler.close();
  log(
    `Maildir: ${filled.count} messages, ${round(filled.bytes / 1e6)} MB copied from bridge in ${
      round((performance.now() - t0) / 1000)
    } s`,
  );
  await chownTree(join(dovecotDir, "maildir"), dc.uid, dc.gid);
  await chownTree(join(dovecotDir, "home"), dc.uid, dc.gid);
  const dovecot = new Deno.Command(dovecotBin, {
    args: ["-F", "-c", dc.conf],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  cleanups.unshift(() => processes.terminate(dovecot));
  await waitForPort(dovecotPort, 15_000, "dovecot");
  log(`dovecot: ${dovecotVersion} on 127.0.0.1:${dovecotPort}`);

  const sorted = [...filled.dates].sort((a, b) => a.getTime() - b.getTime());
  const since = searchDate(sorted[Math.floor(sorted.length / 2)] ?? new Date());
  const servers = {
    bridge: () => pass(bridge.port, EMAIL, bridge.password, since),
    bridgeWith: (hooks: PassHooks) => pass(bridge.port, EMAIL, bridge.password, since, hooks),
    dovecot: () => pass(dovecotPort, DOVECOT_USER, DOVECOT_PASSWORD, since),
  };

  // 4. Warm-up, then timed passes, alternating.
  const warm = performance.now();
  const warmDovecot = await servers.dovecot();
  log(`warm-up: dovecot ${round((performance.now() - warm) / 1000)} s (index and cache built)`);
  const warmB = performance.now();
  await servers.bridge();
  log(`warm-up: bridge ${round((performance.now() - warmB) / 1000)} s`);
  void warmDovecot;
  const envCheck = compareEnvelopes(
    await envelopes(bridge.port, EMAIL, bridge.password),
    await envelopes(dovecotPort, DOVECOT_USER, DOVECOT_PASSWORD),
  );
  log(
    `cross-check of ${envCheck.messages} messages: RFC822.SIZE differs for ${envCheck.sizesDiffer}, ENVELOPE for ${envCheck.envelopesDiffer}`,
  );
  for (const e of envCheck.examples) log(e);
  const loadBefore = loadavg()[0];
  const runs: Record<"bridge" | "dovecot", Op[][]> = { bridge: [], dovecot: [] };
  for (let i = 0; i < REPEAT; i++) {
    const order: ("bridge" | "dovecot")[] = i % 2 ? ["dovecot", "bridge"] : ["bridge", "dovecot"];
    for (const s of order) {
      runs[s].push(await servers[s]());
      log(
        `  pass ${i + 1}/${REPEAT} ${s}: ${
          round(runs[s].at(-1)!.reduce((n, o) => n + o.ms, 0))
        } ms`,
      );
    }
  }
  const loadAfter = loadavg()[0];
  if (bridge.inspector) await profiledPass(bridge.inspector, servers.bridgeWith);

  // 5. Figures.
  const names = runs.bridge[0].map((o) => o.name);
  const rows = names.map((name, i) => {
    const b = median(runs.bridge.map((r) => r[i].ms));
    const d = median(runs.dovecot.map((r) => r[i].ms));
    const bo = runs.bridge[0][i];
    const dov = runs.dovecot[0][i];
    return {
      command: name,
      bridgeMs: round(b),
      dovecotMs: round(d),
      ratio: round(b / d, 2),
      meetsTarget: b / d <= 1.5,
      bridgeResponses: bo.responses,
      dovecotResponses: dov.responses,
      bridgeMB: round(bo.bytes / 1e6, 2),
      dovecotMB: round(dov.bytes / 1e6, 2),
      bridgeCount: bo.count,
      dovecotCount: dov.count,
    };
  });
  const mismatches = rows.filter((r, i) =>
    r.bridgeCount !== r.dovecotCount ||
    runs.bridge[0][i].order !== runs.dovecot[0][i].order ||
    (r.command.startsWith("UID FETCH") && r.bridgeResponses !== r.dovecotResponses)
  ).map((r) => r.command);
  const figures = {
    date: new Date().toISOString(),
    messages: N,
    inbox: filled.count,
    inboxMB: round(filled.bytes / 1e6),
    repeat: REPEAT,
    since,
    subjectWord: SUBJECT_WORD,
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    dovecot: dovecotVersion,
    bridgeFirstSyncSeconds: round(bridge.seconds),
    bridgeServeMemory: await rssOf(bridge.child.pid),
    loadAverage1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
    rows,
    mismatches,
    crossCheck: {
      messages: envCheck.messages,
      sizesDiffer: envCheck.sizesDiffer,
      envelopesDiffer: envCheck.envelopesDiffer,
    },
  };
  if (values.json) console.log(JSON.stringify(figures));
  else {
    const w = [46, 11, 12, 7, 8];
    const pad = (cells: string[]) =>
      cells.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join(" ");
    console.log(
      `\nIMAP, ${filled.count} messages in INBOX (${figures.inboxMB} MB), median of ${REPEAT}`,
    );
    console.log(pad(["command", "bridge ms", "dovecot ms", "ratio", "≤ 1.5×"]));
    for (const r of rows) {
      console.log(pad([
        r.command,
        r.bridgeMs.toFixed(1),
        r.dovecotMs.toFixed(1),
        r.ratio.toFixed(2),
        r.meetsTarget ? "yes" : "NO",
      ]));
    }
    console.log(
      `first sync ${figures.bridgeFirstSyncSeconds} s; bridge serve RSS ${
        JSON.stringify(figures.bridgeServeMemory)
      }; load ${figures.loadAverage1m.before} → ${figures.loadAverage1m.after}; ${dovecotVersion}`,
    );
    for (const r of rows) {
      if (r.bridgeCount !== undefined) {
        console.log(`  ${r.command}: bridge ${r.bridgeCount}, dovecot ${r.dovecotCount}`);
      }
    }
    if (mismatches.length) console.log(`MISMATCH between the servers: ${mismatches.join("; ")}`);
  }
  if (mismatches.length || envCheck.sizesDiffer) exitCode = 1;
} finally {
  for (const c of cleanups) await c().catch(() => {});
  if (values.keep) log(`kept ${home}`);
  else await Deno.remove(home, { recursive: true });
}
Deno.exit(exitCode);
