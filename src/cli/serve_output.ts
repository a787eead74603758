/**
 * What `bridge serve` writes, and where:
 *
 * - **Log lines** on standard error, from `log.level` up (`error` < `warn` < `info` < `debug`),
 *   as text (`2024-05-01T10:00:00.000Z warn  message`) or, with `log.format = "json"`, one JSON
 *   object per line (`{"time","level","msg",…fields}`). The level can change while running
 *   (SIGHUP).
 * - **Events** with `--json`: one JSON object per line on standard output, each with an `event`
 *   field (`starting`, `sync-progress`, `account`, `listening`, `ready`, `error`, `reload`,
 *   `stopping`, `stopped`). Without `--json` nothing goes to standard output but the human
 *   "ready" block.
 * - **First-sync progress**: with `--json`, `sync-progress` events; on a terminal, one progress
 *   bar per account redrawn in place on standard error; otherwise an `info` log line per account
 *   every few seconds and at each phase change.
 *
 * Callers never pass secrets or message contents here; the ready event's bridge passwords are the
 * documented exception (they are what a script needs to connect).
 *
 * @module
 */
import {
  type Reporter,
  type SyncProgress,
  type TextSink,
  TtyProgressRenderer,
} from "../sync/mod.ts";

/** Log levels, least to most verbose. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;

/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of {@link ServeOutput}. */
export interface ServeOutputOptions {
  /** `--json`: events on standard output. */
  json: boolean;
  level: LogLevel;
  /** `log.format`. */
  format: "text" | "json";
  /** Standard output (default: the process's). */
  stdout?: TextSink;
  /** Standard error (default: the process's). */
  stderr?: TextSink;
  /** Whether standard error is a terminal (default: asks the process). */
  stderrIsTerminal?: boolean;
  /** Unix ms (tests). */
  now?: () => number;
  /** Least ms between two progress log lines of one account when not on a terminal. */
  progressLogIntervalMs?: number;
}

function sink(stream: { writeSync(p: Uint8Array): number }): TextSink {
  const encoder = new TextEncoder();
  return (text) => {
    const bytes = encoder.encode(text);
    let written = 0;
    try {
      while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
    } catch {
      // A closed pipe (the reader went away) must not take the server down.
    }
  };
}

/** The output channels of one `serve` run. */
export class ServeOutput {
  readonly json: boolean;
  #level: LogLevel;
  #format: "text" | "json";
  readonly #stdout: TextSink;
  readonly #stderr: TextSink;
  readonly #tty: boolean;
  readonly #now: () => number;
  readonly #progressInterval: number;
  /** TTY progress lines, by account, in first-seen order; drawn as a block at the bottom. */
  readonly #bars = new Map<string, string>();
  #barsDrawn = 0;
  readonly #bar = new TtyProgressRenderer({ write: () => {} });
  readonly #lastProgressLog = new Map<string, { at: number; phase: string }>();

  constructor(options: ServeOutputOptions) {
    this.json = options.json;
    this.#level = options.level;
    this.#format = options.format;
    this.#stdout = options.stdout ?? sink(Deno.stdout);
    this.#stderr = options.stderr ?? sink(Deno.stderr);
    this.#tty = options.stderrIsTerminal ?? safeIsTerminal();
    this.#now = options.now ?? Date.now;
    this.#progressInterval = options.progressLogIntervalMs ?? 5_000;
  }

  /** The level in force. */
  get level(): LogLevel {
    return this.#level;
  }

  /** Changes the level (SIGHUP). */
  setLevel(level: LogLevel): void {
    this.#level = level;
  }

  /**
   * Sets the log line format (`log.format`): serve makes its output before the configuration is
   * loaded, to report a bad one.
   */
  setFormat(format: "text" | "json"): void {
    this.#format = format;
  }

  /** Whether a message at `level` would be written. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this.#level);
  }

  /** Writes a log line on standard error if `level` is enabled. */
  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    if (!this.enabled(level)) return;
    const time = new Date(this.#now()).toISOString();
    const line = this.#format === "json"
      ? JSON.stringify({ time, level, msg: message, ...fields })
      : `${time} ${level.padEnd(5)} ${escapeControls(message + formatFields(message, fields))}`;
    this.#aboveBars(() => this.#stderr(line + "\n"));
  }

  /** Shorthands. */
  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }
  /** A warning. */
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }
  /** Information. */
  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }
  /** Debugging detail. */
  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }

  /** With `--json`: writes `{"event": name, …fields}` on standard output. */
  event(name: string, fields: Record<string, unknown> = {}): void {
    if (!this.json) return;
    this.#stdout(JSON.stringify({ event: name, ...fields }) + "\n");
  }

  /**
   * An error the user must see: a log line, and with `--json` an `error` event
   * (`{"event":"error","message",…fields}`).
   */
  failure(message: string, fields: Record<string, unknown> = {}): void {
    this.error(message, fields);
    this.event("error", { message, ...fields });
  }

  /** Writes text on standard output as is (the human ready block). */
  print(text: string): void {
    this.#aboveBars(() => this.#stdout(text));
  }

  /** The first-sync progress receiver (see the module notes). */
  progressReporter(): Reporter {
    return { progress: (p) => this.#progress(p) };
  }

  #progress(p: SyncProgress): void {
    if (this.json) {
      this.event("sync-progress", {
        account: p.account,
        phase: p.phase,
        done: p.done,
        total: p.total,
        rate: p.rate,
        eta: p.eta,
        ...(p.listed === undefined ? {} : { listed: p.listed }),
      });
      return;
    }
    if (this.#tty) {
      if (!this.enabled("info")) return;
      const line = this.#bar.line(p);
      if (p.phase === "done") {
        // The finished line leaves the block and scrolls up with later output.
        this.#bars.delete(p.account);
        this.#aboveBars(() => this.#stderr(line + "\n"));
        return;
      }
      this.#bars.set(p.account, line);
      this.#redrawBars();
      return;
    }
    const last = this.#lastProgressLog.get(p.account);
    const t = this.#now();
    if (last && last.phase === p.phase && t - last.at < this.#progressInterval) return;
    this.#lastProgressLog.set(p.account, { at: t, phase: p.phase });
    const eta = p.eta === null ? "" : `, about ${Math.ceil(p.eta)} s left`;
    this.info(
      p.phase === "messages" || p.phase === "done"
        ? `first sync of ${p.account}: ${p.done}/${p.total} messages (${p.phase})${eta}`
        : p.phase === "listing"
        ? `first sync of ${p.account}: listing messages, ${p.listed ?? 0}` +
          `${p.total > 0 ? ` of ${p.total}` : ""} listed`
        : `first sync of ${p.account}: ${p.phase}`,
    );
  }

  /** Ends the progress block (before exiting). */
  finish(): void {
    this.#bars.clear();
    this.#barsDrawn = 0;
  }

  /** Clears the bar block, runs `write`, draws the block again below it. */
  #aboveBars(write: () => void): void {
    if (this.#barsDrawn === 0) return write();
    this.#stderr(`\x1b[${this.#barsDrawn}A\r\x1b[J`);
    this.#barsDrawn = 0;
    write();
    this.#redrawBars();
  }

  #redrawBars(): void {
    let text = this.#barsDrawn > 0 ? `\x1b[${this.#barsDrawn}A` : "";
    for (const line of this.#bars.values()) text += `\r\x1b[2K${line}\n`;
    this.#barsDrawn = this.#bars.size;
    if (text !== "") this.#stderr(text);
  }
}

/**
 * A text log line's message with control characters written as escapes (`\n`, `\x1b`, `\u2028`,
 * `\u202e`): messages can carry what a client sent (a user name that failed to log in), and a line
 * break, a terminal escape or a bidirectional override in it must not forge a line, reach the
 * terminal or make the line read in another order than it is written.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** C0 and C1 controls, line and paragraph separators, and bidirectional marks and overrides. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** ` (k=v …)` for the fields the message does not already show. */
function formatFields(message: string, fields: Record<string, unknown>): string {
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined && !(typeof v === "string" && message.includes(v)))
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return parts.length === 0 ? "" : ` (${parts.join(" ")})`;
}

function safeIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/** Whether `text` names a log level. */
export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}
