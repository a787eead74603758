/**
 * A counting semaphore for first syncs: `sync.workers` accounts download at the same time, the
 * others wait their turn (their state stays `syncing` with phase `null` meanwhile).
 *
 * @module
 */

/** Up to `size` holders at once; the rest wait in arrival order. */
export class SyncSlots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  /** `size` is at least 1. */
  constructor(size: number) {
    this.#free = Math.max(1, Math.floor(size));
  }

  /** Holders waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for a slot; resolves to its release function (call it once). Rejects with the signal's
   * reason when `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(release);
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }
}
