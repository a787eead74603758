/**
 * Throttling of failed logins (SMTP `AUTH`, IMAP `LOGIN`/`AUTHENTICATE`) per client address, shared by all sessions of a server.
 *
 * Each failure from an address within the window makes the reply to the next failure wait
 * longer (`base · 2^(n-1)`, capped). Successful logins are never delayed, so a misconfigured
 * client on the same (loopback) address slows only itself. Past `lockoutFailures` failures in
 * the window the address is "locked": a failure then also ends the connection at once. A locked
 * address can still log in with the right password, because on loopback every client shares
 * 127.0.0.1 and an old client with a stale password must not lock out the good one; the bridge
 * password is random, so the delays alone make guessing hopeless.
 *
 * @module
 */

/** Options of {@link AuthThrottle}. */
export interface AuthThrottleOptions {
  /** Delay after the first failure in the window, ms. */
  baseDelayMs: number;
  /** Largest delay, ms. */
  maxDelayMs: number;
  /** Failures in the window from which the address counts as locked. */
  lockoutFailures: number;
  /** How long a failure counts, ms. */
  windowMs: number;
  /** Clock (ms); default `Date.now`. */
  now?: () => number;
}

/** What {@link AuthThrottle.recordFailure} decided. */
export interface FailureVerdict {
  /** Wait this long before answering the failed attempt. */
  delayMs: number;
  /** The address has too many failures: close the connection after the reply. */
  locked: boolean;
}

/** Per-address counts of failed logins with a sliding window. */
export class AuthThrottle {
  readonly #opts: Required<AuthThrottleOptions>;
  readonly #failures = new Map<string, number[]>();

  constructor(options: AuthThrottleOptions) {
    this.#opts = { now: Date.now, ...options };
  }

  /** Failures from `address` still inside the window. */
  failures(address: string): number {
    return this.#recent(address).length;
  }

  /** Whether `address` is past the lockout threshold. */
  isLocked(address: string): boolean {
    return this.failures(address) >= this.#opts.lockoutFailures;
  }

  /** Counts a failure from `address` and says how to answer it. */
  recordFailure(address: string): FailureVerdict {
    const list = this.#recent(address);
    list.push(this.#opts.now());
    this.#failures.set(address, list);
    this.#prune();
    const n = list.length;
    const delayMs = Math.min(
      this.#opts.maxDelayMs,
      this.#opts.baseDelayMs * 2 ** Math.min(n - 1, 30),
    );
    return { delayMs, locked: n >= this.#opts.lockoutFailures };
  }

  #recent(address: string): number[] {
    const since = this.#opts.now() - this.#opts.windowMs;
    return (this.#failures.get(address) ?? []).filter((t) => t > since);
  }

  /** Keeps the map from growing without bound under many addresses. */
  #prune(): void {
    if (this.#failures.size < 1024) return;
    const since = this.#opts.now() - this.#opts.windowMs;
    for (const [key, list] of this.#failures) {
      if (!list.some((t) => t > since)) this.#failures.delete(key);
    }
  }
}
