/**
 * How many downloads the first sync runs at once, adapted to how the server copes (after
 * proton-bridge `syncservice/stage_download.go`, `limits.go`): start at `initial` (8), drop to
 * `min` (2) as soon as a reply is 429 or 5xx or the connection fails, and double again after every
 * `limit` successes in a row, never above `max` (32, the API team's recommended ceiling).
 *
 * The throttle learns about every attempt, including the ones the API client retries by itself,
 * when it is the client's request observer:
 *
 * ```ts
 * const throttle = new DownloadThrottle();
 * const client = new ApiClient({ baseURL, appVersion, onRequest: (e) => throttle.observe(e) });
 * ```
 *
 * Without that, it only sees the failures that reach the sync (after the client's retries).
 *
 * @module
 */
import type { RequestEvent } from "../api/mod.ts";

/** Limits of a {@link DownloadThrottle}. */
export interface ThrottleLimits {
  /** Parallel downloads at the start (default 8). */
  initial?: number;
  /** Parallel downloads after a 429/5xx (default 2). */
  min?: number;
  /** Ceiling (default 32). */
  max?: number;
}

/** An adaptive concurrency limit for downloads. */
export class DownloadThrottle {
  readonly min: number;
  readonly max: number;
  #limit: number;
  #active = 0;
  #streak = 0;
  #waiters: { priority: number; resolve: () => void }[] = [];
  #backoffs = 0;
  #observing = false;

  constructor(limits: ThrottleLimits = {}) {
    this.min = Math.max(1, Math.floor(limits.min ?? 2));
    this.max = Math.max(this.min, Math.floor(limits.max ?? 32));
    this.#limit = Math.min(this.max, Math.max(this.min, Math.floor(limits.initial ?? 8)));
  }

  /** Downloads allowed at once now. */
  get limit(): number {
    return this.#limit;
  }

  /** Downloads running now. */
  get active(): number {
    return this.#active;
  }

  /** How often the limit was cut back (for reports and tests). */
  get backoffs(): number {
    return this.#backoffs;
  }

  /**
   * The outcome of one download as the sync saw it (after the client's retries). Ignored once
   * {@link observe} has been called: then every attempt is seen there already.
   */
  outcome(ok: boolean): void {
    if (this.#observing) return;
    if (ok) this.success();
    else this.failure();
  }

  /** Feeds one request attempt's outcome (an API client `onRequest` observer). */
  observe(event: Pick<RequestEvent, "status" | "error">): void {
    this.#observing = true;
    const status = event.status;
    if (event.error !== undefined || status === undefined || status === 429 || status >= 500) {
      this.failure();
    } else if (status < 400) {
      this.success();
    }
  }

  /** A download went through: after `limit` in a row, the limit doubles (up to `max`). */
  success(): void {
    if (++this.#streak >= this.#limit && this.#limit < this.max) {
      this.#limit = Math.min(this.max, this.#limit * 2);
      this.#streak = 0;
      this.#wake();
    }
  }

  /** The server pushed back (429, 5xx, dropped connection): the limit falls to `min`. */
  failure(): void {
    this.#streak = 0;
    if (this.#limit !== this.min) this.#backoffs++;
    this.#limit = this.min;
  }

  /**
   * Runs `fn` when a slot is free; the slot is held until it settles. Waiters get slots strictly
   * by `priority` (lower first; the sync passes a message's position, so the attachments of an
   * early message are not stuck behind hundreds of later messages), then in arrival order.
   */
  async run<T>(fn: () => Promise<T>, priority = Number.MAX_SAFE_INTEGER): Promise<T> {
    if (this.#waiters.length > 0 || this.#active >= this.#limit) {
      await new Promise<void>((resolve) => {
        // Insert after every waiter of the same or a lower priority (stable).
        let lo = 0;
        let hi = this.#waiters.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (this.#waiters[mid].priority <= priority) lo = mid + 1;
          else hi = mid;
        }
        this.#waiters.splice(lo, 0, { priority, resolve });
      });
    } else {
      this.#active++;
    }
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#wake();
    }
  }

  /** Hands free slots to the first waiters (the slot is taken on their behalf). */
  #wake(): void {
    while (this.#waiters.length > 0 && this.#active < this.#limit) {
      this.#active++;
      this.#waiters.shift()!.resolve();
    }
  }
}
