/**
 * A soft limit on the process's resident memory: checked after every batch of a first sync, and
 * every few seconds at any time ({@link HeapGovernor.watch}).
 *
 * Why: what a first sync holds at any moment is small (the in-flight budget, one batch), but V8
 * frees the old generation only at its next mark-compact, and it lets the heap grow well past the
 * live data before running one: in `scripts/bench_sync.ts` (10,000 messages) about 40 KB of heap
 * and 40 KB of external memory per message are promoted and wait for the next mark-compact, which
 * comes every ~1,000 messages, so the resident size climbs to ~290–310 MB. V8 offers
 * no flag to make the heap grow less without also slowing compiled code (`--optimize-for-size`
 * cost 20–25 % of sync throughput). So the sync checks the resident size after each batch and,
 * above the soft limit, asks for a full collection itself — at most once per `minGapMs`, so a
 * live set above the limit costs one collection per interval and no more. (Freed pages mostly stay
 * with the process, so the resident size seldom falls after a collection; the collections keep it
 * from growing. Asking again only after a further growth of 4–16 MiB gave fewer collections but
 * peaks up to 20 MB higher in `bench_sync`; a forced collection took 13–27 ms there, since
 * marking is per object and message bytes are external.)
 *
 * Outside first syncs the same holds for the one-off large allocations of a big message (sending a
 * 20 MB attachment allocates ~300 MB of buffers on the way: the SMTP data, the decoded and the
 * encrypted attachment, the upload; receiving one, the download, the decryption, the literal and
 * its cache form), which V8 would keep until some later collection: serve's periodic check
 * collects them. A collection that leaves the size above the limit (a live set that large, or
 * memory the C allocator keeps: glibc hands large freed blocks back to the system only with a
 * fixed `MALLOC_MMAP_THRESHOLD_`, which the launchers set) makes the periodic checks back off,
 * doubling the wait up to five minutes, until the size is under the limit again.
 *
 * Collections can only be asked for when the runtime exposes `gc()` (V8 flag `--expose-gc`, set
 * by `deno task demo`, `deno task compile` and the bundle launcher); without it the governor
 * does nothing. One governor serves the whole process (the resident size is the process's),
 * whatever number of accounts sync at once.
 *
 * @module
 */

/** Options of {@link HeapGovernor}. */
export interface HeapGovernorOptions {
  /** Resident size, in bytes, above which a collection is asked for; 0 turns it off. */
  softLimitBytes: number;
  /** Least time between two forced collections (default 1,000 ms). */
  minGapMs?: number;
  /** A full collection (default: the runtime's `gc()` when exposed, else none). */
  gc?: (() => void) | undefined;
  /** The process's resident size in bytes (default `Deno.memoryUsage().rss`). */
  rss?: () => number;
  /** Clock in ms (default `performance.now()`). */
  now?: () => number;
  /** First wait of the periodic checks after a collection that left the size above the limit. */
  backoffMs?: number;
  /** Longest such wait (default 300,000 ms). */
  maxBackoffMs?: number;
}

/** The runtime's `gc()` when V8 runs with `--expose-gc`, else `undefined`. */
export function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? () => (gc as () => void)() : undefined;
}

/** Forces full collections while the resident size is above a soft limit. */
export class HeapGovernor {
  readonly #limit: number;
  readonly #gap: number;
  readonly #gc: (() => void) | undefined;
  readonly #rss: () => number;
  readonly #now: () => number;
  readonly #backoffBase: number;
  readonly #backoffMax: number;
  #last = -Infinity;
  #forced = 0;
  #backoff = 0;
  #quietUntil = -Infinity;

  constructor(options: HeapGovernorOptions) {
    this.#limit = Math.max(0, options.softLimitBytes);
    this.#gap = Math.max(0, options.minGapMs ?? 1000);
    this.#gc = "gc" in options ? options.gc : exposedGc();
    this.#rss = options.rss ?? (() => Deno.memoryUsage().rss);
    this.#now = options.now ?? (() => performance.now());
    this.#backoffBase = Math.max(1, options.backoffMs ?? 10_000);
    this.#backoffMax = Math.max(this.#backoffBase, options.maxBackoffMs ?? 300_000);
  }

  /** Whether it can act: a limit is set and a collection can be asked for. */
  get active(): boolean {
    return this.#limit > 0 && this.#gc !== undefined;
  }

  /** Collections forced so far. */
  get forced(): number {
    return this.#forced;
  }

  /**
   * Asks for a full collection when the resident size is above the limit and the last forced
   * one is at least `minGapMs` ago. Returns whether it did.
   */
  check(): boolean {
    if (!this.active) return false;
    const now = this.#now();
    if (now - this.#last < this.#gap) return false;
    if (this.#rss() <= this.#limit) return false;
    this.#last = now;
    this.#forced++;
    this.#gc!();
    return true;
  }

  /**
   * One periodic check: as {@link check}, but after a collection that left the resident size
   * above the limit, the next periodic ones wait (10 s, doubling up to the maximum) until the
   * size has been under the limit again. Returns whether it collected.
   */
  periodic(): boolean {
    if (!this.active) return false;
    if (this.#rss() <= this.#limit) {
      this.#backoff = 0;
      this.#quietUntil = -Infinity;
      return false;
    }
    if (this.#now() < this.#quietUntil || !this.check()) return false;
    if (this.#rss() > this.#limit) {
      this.#backoff = this.#backoff === 0
        ? this.#backoffBase
        : Math.min(this.#backoff * 2, this.#backoffMax);
      this.#quietUntil = this.#now() + this.#backoff;
    } else {
      this.#backoff = 0;
    }
    return true;
  }

  /**
   * Runs {@link periodic} every `intervalMs` (default 5,000) on a timer that does not keep the
   * process alive; returns the function that stops it. Does nothing when not {@link active}.
   */
  watch(intervalMs = 5_000): () => void {
    if (!this.active) return () => {};
    const timer = setInterval(() => this.periodic(), Math.max(1, intervalMs));
    Deno.unrefTimer(timer);
    return () => clearInterval(timer);
  }
}
