/**
 * `bridge status [--json] [--data-dir D] [--config F]`: asks the `bridge serve` running on the
 * data directory how it is doing, through its control endpoint (`<data>/serve.json`, see
 * `control_server.ts`). Prints the {@link StatusReport} (`--json`: as one JSON object, shape in
 * docs/STATUS.md; else as text).
 *
 * Exit code 0: serve is running and answered; 3: no serve is running on the data directory
 * (`--json` prints `{"running":false}`, the reason goes to standard error); 1: something answered
 * but not as expected (wrong token, damaged control file); 2: bad options.
 *
 * @module
 */
import { resolve } from "node:path";
import { type Command, parseCommandArgs, UsageError } from "./command.ts";
import { ConfigError, loadConfig } from "../config/mod.ts";
import {
  type ControlInfo,
  ControlUnreachableError,
  readControlInfo,
  requestStatus,
} from "./control_server.ts";
import { probeProcess } from "./lock_file.ts";
import {
  type AccountStatus,
  type ListenerStatus,
  type MemoryStatus,
  NOT_RUNNING_EXIT_CODE,
  type StatusReport,
} from "./status_report.ts";
import { VERSION } from "./version.ts";
import { formatDuration } from "../sync/mod.ts";

const HELP = `Usage: bridge status [options]

Shows what the running \`bridge serve\` is doing: listeners, and per account its state
(starting, syncing, ready, signed-out, error), first-sync progress, event polling, message and
mailbox counts.

Options:
  --json           print the report as one JSON object (see docs/STATUS.md)
  --data-dir D     the data directory of the serve to ask (default: paths.data_dir)
  --config F       the config file (default: BRIDGE_CONFIG, else the platform's)
  -h, --help       show this help

Exit code 0: running; 3: not running; 1: no usable answer.`;

interface StatusFlags {
  json: boolean;
  dataDir?: string;
  config?: string;
  help: boolean;
}

function parseFlags(args: string[]): StatusFlags {
  const { values, positionals } = parseCommandArgs(args, {
    json: { type: "boolean" },
    "data-dir": { type: "string" },
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  for (const name of ["data-dir", "config"] as const) {
    if (values[name] !== undefined && values[name].trim() === "") {
      throw new UsageError(`--${name} must not be empty`);
    }
  }
  return {
    json: values.json ?? false,
    dataDir: values["data-dir"],
    config: values.config,
    help: values.help ?? false,
  };
}

/** The outcome of asking: a report, or why there is none. */
export type StatusOutcome =
  | { kind: "running"; report: StatusReport }
  | { kind: "not-running"; reason: string }
  | { kind: "failed"; reason: string };

/** Asks the serve of `dataDir` for its report. */
export async function askStatus(dataDir: string): Promise<StatusOutcome> {
  let info: ControlInfo | undefined;
  try {
    info = await readControlInfo(dataDir);
  } catch (err) {
    return { kind: "failed", reason: errorText(err) };
  }
  if (!info) {
    return { kind: "not-running", reason: `no bridge serve is running on ${dataDir}` };
  }
  if (await probeProcess({ pid: info.pid, startedAt: info.startedAt }) === "dead") {
    return {
      kind: "not-running",
      reason: `no bridge serve is running on ${dataDir} (process ${info.pid} is gone)`,
    };
  }
  try {
    return { kind: "running", report: await requestStatus(info) };
  } catch (err) {
    if (err instanceof ControlUnreachableError) {
      return {
        kind: "not-running",
        reason: `no bridge serve answers on ${dataDir} (${err.message})`,
      };
    }
    return { kind: "failed", reason: errorText(err) };
  }
}

async function dataDirOf(flags: StatusFlags): Promise<string> {
  const loaded = await loadConfig({
    file: flags.config,
    version: VERSION,
    flags: flags.dataDir === undefined ? {} : { paths: { data_dir: resolve(flags.dataDir) } },
    flagNames: { "paths.data_dir": "--data-dir" },
  });
  return resolve(loaded.config.paths.data_dir);
}

/** Runs `bridge status`; resolves to the exit code. */
export async function runStatus(args: string[]): Promise<number> {
  const flags = parseFlags(args);
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  let dataDir: string;
  try {
    dataDir = await dataDirOf(flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`bridge status: invalid configuration:\n${err.message}`);
      return 1;
    }
    throw err;
  }
  const outcome = await askStatus(dataDir);
  switch (outcome.kind) {
    case "running":
      console.log(
        flags.json ? JSON.stringify(outcome.report) : formatStatus(outcome.report),
      );
      return 0;
    case "not-running":
      if (flags.json) console.log(JSON.stringify({ running: false }));
      else console.log("bridge is not running.");
      console.error(`bridge status: ${outcome.reason}`);
      return NOT_RUNNING_EXIT_CODE;
    case "failed":
      console.error(`bridge status: ${outcome.reason}`);
      return 1;
  }
}

/** The report as text. */
export function formatStatus(r: StatusReport, now = Date.now()): string {
  const lines = [
    `bridge ${r.version}, running (PID ${r.pid}) for ${formatDuration(r.uptimeSeconds)}` +
    `${r.demo ? " in demo mode" : ""}; ${r.ready ? "ready" : "not ready yet"}`,
    `  data directory: ${r.dataDir}`,
    `  API:            ${r.apiUrl}`,
    `  IMAP:           ${listener(r.listeners.imap)}`,
    `  SMTP:           ${listener(r.listeners.smtp)}`,
    `  memory:         ${memory(r.memory)}`,
  ];
  if (r.accounts.length === 0) lines.push("", "No accounts (`bridge login` adds one).");
  for (const a of r.accounts) lines.push("", ...account(a, now));
  if (r.warnings.length > 0) {
    lines.push("", "Warnings:", ...r.warnings.map((w) => `  - ${w}`));
  }
  return lines.join("\n");
}

function memory(m: MemoryStatus): string {
  const limit = m.softLimitMiB === 0
    ? "no soft limit"
    : m.softLimitActive
    ? `soft limit ${m.softLimitMiB} MiB, ${m.forcedCollections} forced collection${
      m.forcedCollections === 1 ? "" : "s"
    }`
    : `soft limit ${m.softLimitMiB} MiB not enforced (V8 runs without --expose-gc)`;
  // Only where it matters: glibc's own threshold keeps freed message buffers (Linux).
  const allocator = m.mallocMmapThreshold === null && Deno.build.os === "linux"
    ? "; MALLOC_MMAP_THRESHOLD_ not set (freed buffers stay with the process)"
    : "";
  return `${m.rssMB} MB resident; ${limit}${allocator}`;
}

function listener(l: ListenerStatus): string {
  if (l.state !== "listening") {
    return `${l.state.toUpperCase()}${l.reason ? `: ${l.reason}` : ""}`;
  }
  const n = l.connections ?? 0;
  return `${l.host}:${l.port} (${l.security}), ${n} connection${n === 1 ? "" : "s"}`;
}

function account(a: AccountStatus, now: number): string[] {
  const out = [`${a.email}: ${a.state}${a.reason ? ` (${a.reason})` : ""}`];
  const s = a.sync;
  if (a.state === "syncing" || (s.phase !== null && s.phase !== "done")) {
    const pct = s.total > 0 ? ` ${Math.floor((100 * s.done) / s.total)}%` : "";
    const eta = s.eta === null ? "" : `, ${formatDuration(s.eta)} left`;
    out.push(
      s.phase === "listing"
        ? `  first sync:  listing messages, ${s.listed ?? 0}` +
          `${s.total > 0 ? ` of ${s.total}` : ""} listed`
        : `  first sync:  ${s.phase ?? "waiting"} ${s.done}/${s.total}${pct}, ` +
          `${Math.round(s.rate)} msg/s${eta}`,
    );
  } else if (s.firstSyncDone) {
    out.push(`  first sync:  done${s.finishedAt ? ` (${s.finishedAt})` : ""}`);
  }
  if (s.failedMessages > 0) out.push(`  unreadable:  ${s.failedMessages} messages`);
  out.push(
    `  index:       ${a.counts.messages ?? "?"} messages, ${a.counts.mailboxes ?? "?"} mailboxes`,
  );
  if (a.storage && a.storage.limitBytes > 0) {
    const { usedBytes, limitBytes } = a.storage;
    const pct = Math.round(usedBytes / limitBytes * 100);
    out.push(`  storage:     ${megabytes(usedBytes)} of ${megabytes(limitBytes)} (${pct} %)`);
  }
  const e = a.events;
  const ago = (iso: string | null) =>
    iso === null ? "never" : `${formatDuration((now - Date.parse(iso)) / 1000)} ago`;
  out.push(
    `  events:      ${e.state ?? "not started"}, last poll ${ago(e.lastPollAt)}, last change ` +
      `${ago(e.lastEventAt)}, every ${e.pollIntervalSeconds} s`,
  );
  if (e.lastError) {
    out.push(
      `  last error:  ${e.lastError.message} (${ago(e.lastError.at)}, ${e.consecutiveFailures} ` +
        "in a row)",
    );
  }
  if (a.imapSessions !== null) {
    out.push(`  IMAP:        ${a.imapSessions} session${a.imapSessions === 1 ? "" : "s"}`);
  }
  const dup = a.smtp.duplicatesSuppressed === null
    ? ""
    : `, ${a.smtp.duplicatesSuppressed} duplicates not resent`;
  out.push(`  SMTP:        ${a.smtp.sent} sent, ${a.smtp.failed} failed${dup}`);
  return out;
}

/** Bytes as MB (10⁶), one decimal below 10 MB. */
function megabytes(bytes: number): string {
  const mb = bytes / 1e6;
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb).toLocaleString("en-US")} MB`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `status` entry of the command table. */
export const statusCommand: Command = {
  name: "status",
  summary: "show what the running `bridge serve` is doing (--json for scripts)",
  run: runStatus,
};
