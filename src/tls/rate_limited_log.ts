/**
 * A log line that can repeat without bound (a connection refused because the server is full) is
 * written at most once per interval, with the count of the ones left out since: a local process
 * opening connections in a loop must not fill the log (a probe wrote 236,000 lines in 20 s).
 *
 * @module
 */

/** Options of {@link rateLimitedLog}. */
export interface RateLimitedLogOptions {
  /** Least ms between two written lines (default 10,000). */
  intervalMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

/**
 * Wraps `log`: the first line is written, then no more than one per `intervalMs`; a written line
 * after some were left out ends with `(N more like it in the last S s)`.
 */
export function rateLimitedLog(
  log: (line: string) => void,
  options: RateLimitedLogOptions = {},
): (line: string) => void {
  const intervalMs = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  let lastAt = -Infinity;
  let skipped = 0;
  return (line) => {
    const t = now();
    if (t - lastAt < intervalMs) {
      skipped++;
      return;
    }
    const seconds = Math.round((t - lastAt) / 1000);
    log(skipped === 0 ? line : `${line} (${skipped} more like it in the last ${seconds} s)`);
    lastAt = t;
    skipped = 0;
  };
}
