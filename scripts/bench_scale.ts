/**
 * Scale benchmark: `bridge serve` on one big mailbox (100,000 messages by default), from the first
 * sync to a restart and the IMAP commands whose cost grows with the mailbox. What the manual probe
 * of `docs/BENCHMARKS.md` ("Scale: 100,000 messages") did, in one run:
 *
 * 1. The reference API server runs in its own process (`main.ts api-server --json --seed …
 *    --seed-messages N`: the seed's realistic size mix; the time to its address line is the
 *    seeding), and every message but the drafts is moved into the Inbox through its controls, as
 *    `bench_imap.ts` does, so that INBOX holds (almost) all N messages.
 * 2. `bridge login` into a fresh data directory, then `bridge serve --json --security none` as a
 *    subprocess with the launchers' environment and V8 flags (`src/cli/launch_settings.ts`). Its
 *    VmRSS and VmHWM are read from `/proc/PID/status` every 0.5 s. Figures: the time to the
 *    `ready` event (the first sync), the longest silence between two `sync-progress` lines (and
 *    whether the `listing` phase reports `listed` as it goes), the peak RSS of the first sync
 *    (VmHWM at `ready`), the RSS 10 s after `ready`.
 * 3. serve is stopped (SIGTERM: the time to its exit) and started again on the same data
 *    directory: the time to `ready`, the RSS at `ready` and 10 s later.
 * 4. Against the restarted serve, one connection, each command timed from sending it to its tagged
 *    response: `LOGIN`, `SELECT INBOX`, `UID FETCH 1:* (FLAGS)`, `UID FETCH` of the last 50 UIDs
 *    `(ENVELOPE BODY.PEEK[HEADER])`, `UID SEARCH UNSEEN`, `UID SEARCH SINCE <the Inbox's median
 *    date>`, `UID SEARCH UID 1:100 UNSEEN`, `UID SEARCH HEADER Subject report`, `UID STORE`
 *    `+FLAGS` then `-FLAGS (\Flagged)` on the first 1,000 UIDs (the messages that were flagged get
 *    their flag back afterwards, untimed, so that a kept `--data` stays as seeded), and, unless
 *    `--no-text`, `UID SEARCH TEXT "zqxjvkbw"` (no hit: every literal is decrypted and read) with
 *    serve's peak RSS during it.
 * 5. A table (figure, value) with the 1-minute load average when the script started and after the
 *    IMAP commands (a shared machine makes the figures rough); with `--json` one JSON object.
 *
 * The client is a minimal IMAP reader in this process (`_imap_bench_client.ts`): it streams
 * responses, skips literal bytes without copying them and keeps only the untagged lines it is
 * asked for, parsing them after the timing, so the figures are server time plus loopback transfer.
 *
 * ```sh
 * deno run -A scripts/bench_scale.ts [--messages 100000] [--data DIR] [--keep] [--json] [--no-text]
 * ```
 * `--data DIR` keeps the reference server's data in DIR (a later run with the same DIR skips the
 * seeding, which takes minutes at 100,000: `--messages` then only applies to a new DIR); `--keep`
 * keeps the temporary directory (bridge's data, config and vault) and prints its path. Every
 * subprocess is stopped and the temporary directory removed also when a step fails or on SIGINT.
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
  ImapClient,
  quote,
  searchDate,
  searchHits,
} from "./_imap_bench_client.ts";
import { intArg, scriptArgs } from "./_script_args.ts";

const SCRIPT = "bench_scale";
const EMAIL = "bench@example.test";
const PASSWORD = "bench-password";
/** How often serve's memory is read. */
const SAMPLE_MS = 500;
/** How long after `ready` the settled RSS is read. */
const SETTLE_MS = 10_000;
/** UIDs of the `UID STORE` commands (the first ones). */
const STORE_COUNT = 1000;
/** UIDs of the `UID FETCH (ENVELOPE BODY.PEEK[HEADER])` (the last ones). */
const LAST_COUNT = 50;
/** A subject word of the seed (many hits). */
const SUBJECT_WORD = "report";
/** A word in no seeded message: TEXT must read every literal to find nothing. */
const NO_HIT_WORD = "zqxjvkbw";

const values = scriptArgs(SCRIPT, {
  messages: { type: "string" },
  data: { type: "string" },
  keep: { type: "boolean" },
  json: { type: "boolean" },
  "no-text": { type: "boolean" },
});
const N = intArg(SCRIPT, values.messages, "messages", 100_000);
const log = (s: string) => {
  if (!values.json) console.error(s);
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const seconds = (ms: number) => round(ms / 1000, 2);
const mib = (kib: number) => round(kib / 1024);

// ---------------------------------------------------------------------------------------------
// Memory of a process, from /proc
// ---------------------------------------------------------------------------------------------

/** VmRSS and VmHWM (the peak RSS since the process started) at one moment, in KiB. */
interface MemorySample {
  /** `performance.now()` of the reading. */
  at: number;
  rssKiB: number;
  hwmKiB: number;
}

/** VmRSS and VmHWM of process `pid` (Linux); `undefined` once it is gone. */
async function readMemory(pid: number): Promise<MemorySample | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { at: performance.now(), rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Reads a process's memory every {@link SAMPLE_MS} until stopped; keeps every sample. */
class MemorySampler {
  readonly samples: MemorySample[] = [];
  readonly #pid: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #busy = false;

  constructor(pid: number) {
    this.#pid = pid;
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      this.now().finally(() => this.#busy = false);
    }, SAMPLE_MS);
  }

  /** Reads the memory now (besides the regular samples) and keeps it. */
  async now(): Promise<MemorySample | undefined> {
    const m = await readMemory(this.#pid);
    if (m) this.samples.push(m);
    return m;
  }

  /**
   * The peak RSS between two readings, in KiB: VmHWM at `to` when it rose since `from` (exact),
   * else the highest VmRSS sampled in between (the peak of the interval lies below an earlier one).
   */
  peakKiB(from: MemorySample, to: MemorySample): number {
    if (to.hwmKiB > from.hwmKiB) return to.hwmKiB;
    let peak = Math.max(from.rssKiB, to.rssKiB);
    for (const s of this.samples) {
      if (s.at >= from.at && s.at <= to.at) peak = Math.max(peak, s.rssKiB);
    }
    return peak;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/** One `sync-progress` line of serve, with when it came (ms since serve was started). */
interface ProgressLine {
  atMs: number;
  phase: string;
  listed: number | undefined;
}

/** A running `bridge serve --json`. */
interface Serve {
  child: Deno.ChildProcess;
  sampler: MemorySampler;
  /** Settles on the `ready` event (IMAP port and the account's bridge password). */
  ready: Promise<{ port: number; password: string; ms: number; memory: MemorySample | undefined }>;
  progress: ProgressLine[];
  /** SIGTERM, then waits for the exit (once; later calls answer the same). */
  stop(): Promise<{ ms: number; code: number }>;
}

/** Starts `bridge serve --json --security none` on `data` with the launchers' V8 flags. */
function startServe(home: string, apiUrl: string, data: string, label: string): Serve {
  const started = performance.now();
  const child = processes.bridgeCommand(
    home,
    ["serve", ...plainServeArgs(apiUrl, "--data-dir", data, "--key-store", "file")],
    { stderr: "piped", denoFlags: [`--v8-flags=${BRIDGE_V8_FLAGS}`] },
  ).spawn();
  const sampler = new MemorySampler(child.pid);
  let stderr = "";
  const stderrDone = processes.eachLine(child.stderr, (l) => {
    stderr += l + "\n";
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const progress: ProgressLine[] = [];
  let lastLog = 0;
  let resolveReady: (r: { port: number; password: string }) => void = () => {};
  let rejectReady: (e: Error) => void = () => {};
  const readyEvent = new Promise<{ port: number; password: string }>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const stdoutDone = processes.eachLine(child.stdout, (line) => {
    const at = performance.now();
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    if (e.event === "sync-progress") {
      progress.push({
        atMs: at - started,
        phase: String(e.phase),
        listed: typeof e.listed === "number" ? e.listed : undefined,
      });
      if (at - lastLog > 5000) {
        lastLog = at;
        const listed = typeof e.listed === "number" ? `, ${e.listed} listed` : "";
        log(`  ${label}: ${e.phase} ${e.done}/${e.total}${listed}`);
      }
    }
    if (e.event === "ready") {
      const imap = e.imap as { port: number } | null;
      const accounts = e.accounts as { password: string }[];
      if (!imap || !accounts[0]) rejectReady(new Error(`${label}: serve is not serving IMAP`));
      else resolveReady({ port: imap.port, password: accounts[0].password });
    }
  }).catch(() => {}).then(async () => {
    await stderrDone.catch(() => {});
    rejectReady(new Error(`${label}: bridge serve exited before ready:\n${stderr}`));
  });
  let stopped: Promise<{ ms: number; code: number }> | undefined;
  return {
    child,
    sampler,
    progress,
    ready: readyEvent.then(async (r) => {
      const ms = performance.now() - started;
      return { ...r, ms, memory: await sampler.now() };
    }),
    stop: () =>
      stopped ??= (async () => {
        const t0 = performance.now();
        const status = await processes.terminate(child);
        const ms = performance.now() - t0;
        sampler.stop();
        await stdoutDone;
        return { ms, code: status.code };
      })(),
  };
}

/** The longest silence between consecutive `sync-progress` lines, and around them. */
function progressGaps(progress: ProgressLine[], readyMs: number) {
  let longest = { ms: 0, from: "", to: "" };
  for (let i = 1; i < progress.length; i++) {
    const ms = progress[i].atMs - progress[i - 1].atMs;
    if (ms > longest.ms) longest = { ms, from: progress[i - 1].phase, to: progress[i].phase };
  }
  const listing = progress.filter((p) => p.phase === "listing");
  const listed = listing.map((p) => p.listed).filter((n) => n !== undefined);
  return {
    lines: progress.length,
    longestGapSeconds: seconds(longest.ms),
    longestGapBetween: progress.length < 2 ? null : `${longest.from} → ${longest.to}`,
    firstLineSeconds: progress.length ? seconds(progress[0].atMs) : null,
    lastLineToReadySeconds: progress.length ? seconds(readyMs - progress.at(-1)!.atMs) : null,
    listingLines: listing.length,
    listingReportsListed: listed.length > 0,
    maxListed: listed.length ? Math.max(...listed) : null,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The IMAP commands
// ---------------------------------------------------------------------------------------------

/** One timed command. */
interface Op {
  command: string;
  ms: number;
  responses: number;
  bytes: number;
  /** Hits of a SEARCH, EXISTS of SELECT, messages of a FETCH or STORE. */
  count: number;
}

function op(command: string, r: CommandResult, count = r.responses): Op {
  return { command, ms: round(r.ms), responses: r.responses, bytes: r.bytes, count };
}

/** Sorted UIDs as a compact UID set (`1:5,7,9:12`). */
function uidSet(uids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < uids.length;) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j] + 1) j++;
    parts.push(i === j ? String(uids[i]) : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Runs the timed commands on one connection; `serve`'s sampler gives the peak RSS during TEXT. */
async function imapPass(
  port: number,
  password: string,
  since: string,
  serve: Serve,
): Promise<{ ops: Op[]; text: { op: Op; peakRssMB: number } | null }> {
  const c = await ImapClient.connect(port);
  const ops: Op[] = [];
  let text: { op: Op; peakRssMB: number } | null = null;
  try {
    ops.push(op("LOGIN", await c.ok(`LOGIN ${quote(EMAIL)} ${quote(password)}`)));
    const select = await c.ok("SELECT INBOX", { keepText: true });
    const exists = select.texts.find((t) => / EXISTS\r?\n$/.test(t)) ?? "";
    ops.push(op("SELECT INBOX", select, Number(/^\* (\d+) EXISTS/.exec(exists)?.[1] ?? 0)));
    const flags = await c.ok("UID FETCH 1:* (FLAGS)", { keepText: true });
    ops.push(op("UID FETCH 1:* (FLAGS)", flags));

    // Untimed: the UIDs and which are flagged, from the texts kept.
    const uids: number[] = [];
    const flagged = new Set<number>();
    for (const t of flags.texts) {
      const uid = Number(/[( ]UID (\d+)/.exec(t)?.[1]);
      if (!uid) continue;
      uids.push(uid);
      if (/FLAGS \([^)]*\\Flagged/.test(t)) flagged.add(uid);
    }
    uids.sort((a, b) => a - b);
    if (uids.length === 0) throw new Error("INBOX is empty");
    const last = uids.slice(-LAST_COUNT);
    const lastSet = `${last[0]}:${last.at(-1)}`;
    ops.push(op(
      `UID FETCH <last ${last.length}> (ENVELOPE BODY.PEEK[HEADER])`,
      await c.ok(`UID FETCH ${lastSet} (ENVELOPE BODY.PEEK[HEADER])`),
    ));
    for (
      const search of [
        "UID SEARCH UNSEEN",
        `UID SEARCH SINCE ${since}`,
        "UID SEARCH UID 1:100 UNSEEN",
        `UID SEARCH HEADER Subject ${SUBJECT_WORD}`,
      ]
    ) {
      const r = await c.ok(search, { keepText: true });
      ops.push(op(search, r, searchHits(r)));
    }
    const stored = uids.slice(0, STORE_COUNT);
    const storeSet = `${stored[0]}:${stored.at(-1)}`;
    const n = stored.length;
    ops.push(op(
      `UID STORE <first ${n}> +FLAGS (\\Flagged)`,
      await c.ok(`UID STORE ${storeSet} +FLAGS (\\Flagged)`),
    ));
    ops.push(op(
      `UID STORE <first ${n}> -FLAGS (\\Flagged)`,
      await c.ok(`UID STORE ${storeSet} -FLAGS (\\Flagged)`),
    ));
    const restore = stored.filter((u) => flagged.has(u));
    if (restore.length) await c.ok(`UID STORE ${uidSet(restore)} +FLAGS.SILENT (\\Flagged)`);

    if (!values["no-text"]) {
      const before = await serve.sampler.now();
      const r = await c.ok(`UID SEARCH TEXT ${quote(NO_HIT_WORD)}`, { keepText: true });
      const after = await serve.sampler.now();
      text = {
        op: op(`UID SEARCH TEXT "${NO_HIT_WORD}"`, r, searchHits(r)),
        peakRssMB: before && after ? mib(serve.sampler.peakKiB(before, after)) : NaN,
      };
      ops.push(text.op);
    }
  } finally {
    await c.close();
  }
  return { ops, text };
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const loadBefore = loadavg()[0];
const dataReused = values.data !== undefined &&
  await Deno.stat(values.data).then(() => true, () => false);
const home = await Deno.makeTempDir({ prefix: "bench_scale_" });
/** Run last to first. */
const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  return cleaning ??= (async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    if (values.keep) log(`kept ${home}`);
    else await Deno.remove(home, { recursive: true }).catch(() => {});
  })();
}
const onSignal = () => {
  log("interrupted: stopping the subprocesses");
  cleanUp().finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);
let exitCode = 0;
try {
  const figures = await measure();
  if (values.json) console.log(JSON.stringify(figures));
  else printTable(figures);
} catch (e) {
  // After SIGINT or SIGTERM the subprocesses are being stopped: what fails then is no news.
  if (!cleaning) {
    console.error(`${SCRIPT}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  exitCode = 1;
} finally {
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  await cleanUp();
}
Deno.exit(exitCode);

/** Steps 1 to 4; answers the figures. Every process it starts is in `cleanups`. */
async function measure() {
  // 1. The reference server, everything in the Inbox.
  log(
    dataReused
      ? `reference server: reusing ${values.data}`
      : `reference server: seeding ${N} messages`,
  );
  const api = await processes.startApiServer({
    home,
    email: EMAIL,
    password: PASSWORD,
    messages: N,
    data: values.data,
    onChild: (child) => cleanups.push(() => processes.terminate(child)),
  });
  log(`  ready in ${seconds(api.ms)} s`);
  const inbox = await processes.everythingToInbox(api.url, EMAIL);
  const times = [...inbox.inboxTimes].sort((a, b) => a - b);
  const since = searchDate(new Date((times[Math.floor(times.length / 2)] ?? 0) * 1000));
  log(`  ${inbox.moved} messages moved into the Inbox, which holds ${times.length}`);

  // 2. bridge login, then the first sync.
  const data = join(home, "bridge-data");
  const loginMs = await processes.bridgeLogin(home, {
    api,
    email: EMAIL,
    password: PASSWORD,
    data,
  });

  log("bridge serve: first sync");
  const first = startServe(home, api.url, data, "first sync");
  cleanups.push(first.stop);
  const firstReady = await first.ready;
  log(`  ready in ${seconds(firstReady.ms)} s`);
  await sleep(SETTLE_MS);
  const firstSettled = await first.sampler.now();
  const firstSampledPeak = Math.max(
    0,
    ...first.sampler.samples.filter((s) => s.at <= (firstReady.memory?.at ?? 0)).map((s) =>
      s.rssKiB
    ),
  );
  const gaps = progressGaps(first.progress, firstReady.ms);

  // 3. Restart on the same data directory.
  const firstStop = await first.stop();
  log(`bridge serve: stopped in ${seconds(firstStop.ms)} s (exit ${firstStop.code}); restart`);
  const second = startServe(home, api.url, data, "restart");
  cleanups.push(second.stop);
  const secondReady = await second.ready;
  log(`  ready in ${seconds(secondReady.ms)} s`);
  await sleep(SETTLE_MS);
  const secondSettled = await second.sampler.now();

  // 4. IMAP against the restarted serve.
  log(`IMAP commands against the restarted serve (SEARCH SINCE ${since})`);
  const imap = await imapPass(secondReady.port, secondReady.password, since, second);
  const afterImap = await second.sampler.now();
  const loadAfter = loadavg()[0];

  // 5. Figures.
  const mem = (m: MemorySample | undefined) => m ? mib(m.rssKiB) : null;
  return {
    date: new Date().toISOString(),
    messages: N,
    inbox: times.length,
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    loadAverage1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
    seed: { reused: dataReused, seconds: seconds(api.ms), movedToInbox: inbox.moved },
    loginSeconds: seconds(loginMs),
    firstSync: {
      readySeconds: seconds(firstReady.ms),
      progress: gaps,
      peakRssMB: firstReady.memory ? mib(firstReady.memory.hwmKiB) : null,
      sampledPeakRssMB: mib(firstSampledPeak),
      rssAtReadyMB: mem(firstReady.memory),
      rssAfter10sMB: mem(firstSettled),
    },
    stop: { seconds: seconds(firstStop.ms), exitCode: firstStop.code },
    restart: {
      readySeconds: seconds(secondReady.ms),
      rssAtReadyMB: mem(secondReady.memory),
      rssAfter10sMB: mem(secondSettled),
      progressLines: second.progress.length,
    },
    since,
    imap: imap.ops,
    textSearch: imap.text && { ...imap.text.op, peakRssMB: imap.text.peakRssMB },
    rssAfterImapMB: mem(afterImap),
    peakRssSinceRestartMB: afterImap ? mib(afterImap.hwmKiB) : null,
  };
}

/** What {@link Op.count} counts for `command`. */
function countOf(command: string): string {
  if (command.startsWith("SELECT")) return "EXISTS";
  return command.includes("SEARCH") ? "hits" : "messages";
}

/** The figures as two columns, figure and value. */
function printTable(f: Awaited<ReturnType<typeof measure>>): void {
  const p = f.firstSync.progress;
  const s = (x: number | null) => x === null ? "—" : `${x} s`;
  const m = (x: number | null) => x === null ? "—" : `${x} MB`;
  const rows: [string, string][] = [
    ["messages in INBOX (seeded)", `${f.inbox} (${f.messages})`],
    [
      f.seed.reused ? "api-server ready (seed reused)" : "seeding (api-server ready)",
      `${f.seed.seconds} s`,
    ],
    ["bridge login", `${f.loginSeconds} s`],
    ["first sync: serve start → ready", `${f.firstSync.readySeconds} s`],
    ["  sync-progress lines", String(p.lines)],
    ["  serve start → first sync-progress", s(p.firstLineSeconds)],
    [
      "  longest gap between sync-progress lines",
      `${p.longestGapSeconds} s (${p.longestGapBetween ?? "fewer than two lines"})`,
    ],
    ["  last sync-progress → ready", s(p.lastLineToReadySeconds)],
    [
      "  listing reports listed",
      `${p.listingReportsListed ? "yes" : "NO"} (${p.listingLines} lines, up to ${
        p.maxListed ?? 0
      })`,
    ],
    ["  peak RSS (VmHWM at ready)", m(f.firstSync.peakRssMB)],
    ["  peak RSS sampled every 0.5 s", m(f.firstSync.sampledPeakRssMB)],
    [
      "  RSS at ready / 10 s after",
      `${m(f.firstSync.rssAtReadyMB)} / ${m(f.firstSync.rssAfter10sMB)}`,
    ],
    ["stop (SIGTERM → exit)", `${f.stop.seconds} s (exit ${f.stop.exitCode})`],
    ["restart: serve start → ready", `${f.restart.readySeconds} s`],
    [
      "  RSS at ready / 10 s after",
      `${m(f.restart.rssAtReadyMB)} / ${m(f.restart.rssAfter10sMB)}`,
    ],
    ...f.imap.map((o): [string, string] => [
      `IMAP ${o.command}`,
      `${o.ms.toFixed(1)} ms` +
      (o.command === "LOGIN" ? "" : ` (${o.count} ${countOf(o.command)})`),
    ]),
    ...(f.textSearch
      ? [["  peak RSS during TEXT", m(f.textSearch.peakRssMB)] as [string, string]]
      : []),
    ["RSS after the IMAP commands", m(f.rssAfterImapMB)],
    ["peak RSS since the restart", m(f.peakRssSinceRestartMB)],
    [
      "load average (1 min) at start → after IMAP",
      `${f.loadAverage1m.before} → ${f.loadAverage1m.after}`,
    ],
  ];
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  console.log(`\nbridge at scale: ${f.inbox} messages, ${f.cores} cores, Deno ${f.deno}`);
  console.log(`${"figure".padEnd(w)}value`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}${v}`);
}
