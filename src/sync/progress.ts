/**
 * First-sync progress: what the sync reports ({@link SyncProgress} through a {@link Reporter}),
 * a {@link ProgressMeter} that turns counts into a rate and an ETA, and two renderers the CLI
 * picks from: {@link TtyProgressRenderer} (one redrawn progress-bar line on a terminal) and
 * {@link JsonLinesRenderer} (one JSON object per line with `--json`):
 *
 * ```json
 * {"event":"sync-progress","account":"alice@example.test","done":1200,"total":10000,"rate":431.5,"eta":20.4}
 * ```
 *
 * `rate` is messages per second over the last few seconds (the whole run until then), `eta` the
 * seconds left at that rate (`null` while unknown). Nothing about message contents is reported.
 *
 * @module
 */

/** One progress report. */
export interface SyncProgress {
  /** The account (user name or address) being synced. */
  account: string;
  /** `labels`, `counting`, `listing`, `messages` or `done`. */
  phase: "labels" | "counting" | "listing" | "messages" | "done";
  /** Messages synced (indexed, or found gone on the server). */
  done: number;
  /** Messages to sync in all (0 while unknown). */
  total: number;
  /** Messages per second, recent average. */
  rate: number;
  /** Seconds left, or `null` while unknown. */
  eta: number | null;
  /**
   * In the `listing` phase: messages listed so far (the listing pages through every message's
   * metadata before the first download: at 150 a page, about a minute per 100,000 on the API).
   */
  listed?: number;
}

/** Receives progress (the sync calls it a few times per second at most, and at every phase). */
export interface Reporter {
  progress(progress: SyncProgress): void;
}

/** A reporter that drops everything. */
export const NULL_REPORTER: Reporter = { progress() {} };

/**
 * Computes the rate over a sliding window and the ETA, and decides when a report is due (at most
 * every `intervalMs`, always on phase changes and at the end).
 */
export class ProgressMeter {
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #intervalMs: number;
  #samples: { t: number; done: number }[] = [];
  #samplesPhase = "";
  #lastReport = -Infinity;
  #lastPhase = "";

  /** `now` in milliseconds (default `performance.now`). */
  constructor(options: { now?: () => number; windowMs?: number; intervalMs?: number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#windowMs = options.windowMs ?? 5_000;
    this.#intervalMs = options.intervalMs ?? 250;
  }

  /**
   * Records the count and returns the report to send, or `undefined` when the last one was sent
   * less than `intervalMs` ago (unless `force`, a phase change, or `done === total`).
   */
  sample(
    account: string,
    phase: SyncProgress["phase"],
    done: number,
    total: number,
    force = false,
    listed?: number,
  ): SyncProgress | undefined {
    const t = this.#now();
    // The rate is the current phase's: the samples of the listing (no message done for a minute
    // at 100,000) would make the first downloads look hours from the end. `done` keeps the rate
    // the messages ended with.
    if (phase !== this.#samplesPhase && phase !== "done") {
      this.#samples = [];
      this.#samplesPhase = phase;
    }
    this.#samples.push({ t, done });
    // Only the window's samples: after a stall (the server slow for a minute) the rate is the one
    // since it ended, not an average over the stall.
    while (this.#samples.length > 1 && t - this.#samples[0].t > this.#windowMs) {
      this.#samples.shift();
    }
    const due = force || phase !== this.#lastPhase || t - this.#lastReport >= this.#intervalMs ||
      (total > 0 && done >= total);
    if (!due) return undefined;
    this.#lastReport = t;
    this.#lastPhase = phase;
    const first = this.#samples[0];
    const seconds = (t - first.t) / 1000;
    const rate = seconds > 0 ? Math.max(0, done - first.done) / seconds : 0;
    const left = Math.max(0, total - done);
    // Known only once the messages are counted: before that (labels, counting) the total is 0
    // and "nothing left" would be a lie.
    const counted = phase === "done" || (phase === "messages" && total > 0);
    // No ETA from a rate that shows as 0 (a crawl would read as days).
    const eta = !counted ? null : left === 0 ? 0 : round(rate) > 0 ? left / rate : null;
    return {
      account,
      phase,
      done,
      total,
      rate: round(rate),
      eta: eta === null ? null : round(eta),
      ...(listed === undefined ? {} : { listed }),
    };
  }
}

/** How long without a report before {@link currentProgress} calls the rate 0 (ms). */
export const STALE_PROGRESS_MS = 10_000;

/**
 * `progress` as of `now`: the rate is a recent one, so a sync that has reported nothing for
 * {@link STALE_PROGRESS_MS} (waiting for the server) or does not run (`running` false: stopped by
 * an error) runs at 0 and its end is unknown. A finished sync stays as it was.
 */
export function currentProgress(
  progress: SyncProgress,
  reportedAt: number,
  now: number,
  running: boolean,
): SyncProgress {
  if (progress.phase === "done") return progress;
  if (running && now - reportedAt <= STALE_PROGRESS_MS) return progress;
  return { ...progress, rate: 0, eta: null };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Writes text somewhere (a terminal, a file). */
export type TextSink = (text: string) => void;

function stdoutSink(): TextSink {
  const encoder = new TextEncoder();
  return (text) => {
    Deno.stdout.writeSync(encoder.encode(text));
  };
}

/** `1:05:03`, `4:07`, `0:09`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** A progress bar redrawn in place on a terminal (`\r`), ended with a newline when done. */
export class TtyProgressRenderer implements Reporter {
  readonly #write: TextSink;
  readonly #width: number;
  #open = false;

  /** `write` defaults to stdout; `width` is the bar's width in characters. */
  constructor(options: { write?: TextSink; width?: number } = {}) {
    this.#write = options.write ?? stdoutSink();
    this.#width = options.width ?? 30;
  }

  /** Draws one line. */
  progress(p: SyncProgress): void {
    this.#write("\r\x1b[2K" + this.line(p));
    this.#open = true;
    if (p.phase === "done") {
      this.#write("\n");
      this.#open = false;
    }
  }

  /** Ends a line left open (e.g. when the sync failed). */
  finish(): void {
    if (this.#open) this.#write("\n");
    this.#open = false;
  }

  /** The text of one line, without control characters. */
  line(p: SyncProgress): string {
    if (p.phase === "listing") {
      return `${p.account}: listing messages… ${p.listed ?? 0}` +
        `${p.total > 0 ? `/${p.total}` : ""} listed`;
    }
    if (p.phase !== "messages" && p.phase !== "done") return `${p.account}: ${p.phase}…`;
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : p.phase === "done" ? 1 : 0;
    const filled = Math.round(fraction * this.#width);
    const bar = "#".repeat(filled) + ".".repeat(this.#width - filled);
    const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
    const eta = p.phase === "done"
      ? "done"
      : p.eta === null
      ? "ETA --:--"
      : `ETA ${formatDuration(p.eta)}`;
    return `${p.account}: [${bar}] ${pct} ${p.done}/${p.total} ${Math.round(p.rate)} msg/s ${eta}`;
  }
}

/** One JSON object per report: `{"event":"sync-progress", account, phase, done, total, rate, eta}`. */
export class JsonLinesRenderer implements Reporter {
  readonly #write: TextSink;

  /** `write` defaults to stdout. */
  constructor(options: { write?: TextSink } = {}) {
    this.#write = options.write ?? stdoutSink();
  }

  /** Writes one line. */
  progress(p: SyncProgress): void {
    this.#write(
      JSON.stringify({
        event: "sync-progress",
        account: p.account,
        phase: p.phase,
        done: p.done,
        total: p.total,
        rate: p.rate,
        eta: p.eta,
        ...(p.listed === undefined ? {} : { listed: p.listed }),
      }) + "\n",
    );
  }
}
