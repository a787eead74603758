/**
 * A byte budget shared by everything the first sync holds in memory at once: downloaded
 * messages and attachments, their decrypted and built forms, and literals waiting to be written.
 * A message's estimate is reserved before its download starts and released once its literal is in
 * the cache (or it was dropped), so the sync's memory stays bounded whatever the mailbox holds
 * (proton-bridge `syncservice/limits.go` sizes its stages the same way).
 *
 * One item larger than the whole budget is still let through when nothing else is reserved, so
 * a huge message cannot stall the sync.
 *
 * @module
 */

/** A counting semaphore over bytes. */
export class MemoryBudget {
  /** The budget in bytes. */
  readonly capacity: number;
  #used = 0;
  #peak = 0;
  #waiters: { bytes: number; resolve: () => void }[] = [];

  constructor(capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`Memory budget must be positive, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** The most bytes reserved at once so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Waits until `bytes` fit (first come, first served), then reserves them. */
  acquire(bytes: number): Promise<void> {
    const n = Math.max(0, bytes);
    if (this.#waiters.length === 0 && this.#fits(n)) {
      this.#take(n);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push({ bytes: n, resolve }));
  }

  /** Gives back bytes reserved earlier. */
  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - Math.max(0, bytes));
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0].bytes)) {
      const next = this.#waiters.shift()!;
      this.#take(next.bytes);
      next.resolve();
    }
  }

  /** Lets every waiter through at once (the sync is stopping; they release right away). */
  cancelWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) {
      this.#take(waiter.bytes);
      waiter.resolve();
    }
  }

  #fits(bytes: number): boolean {
    return this.#used === 0 || this.#used + bytes <= this.capacity;
  }

  #take(bytes: number): void {
    this.#used += bytes;
    if (this.#used > this.#peak) this.#peak = this.#used;
  }
}
