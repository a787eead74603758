/**
 * Reading literals a few messages ahead for FETCH. Loading one literal has asynchronous steps
 * (the cache decrypts with WebCrypto off the main thread; a miss downloads the message), so
 * awaiting each literal just before encoding it leaves the process idle between messages. A
 * {@link LiteralPrefetch} starts the loads of the next messages while the current one is
 * encoded and written: decryption of the next ones overlaps the socket writes and the
 * decompression of this one.
 *
 * What is read ahead is bounded by a number of messages and by their RFC822.SIZE, so a run of
 * large messages does not pile up in memory: a message is always loaded when its turn comes, the
 * ones after it only while the bytes loaded and not yet taken stay under the limit.
 *
 * Results come back in order and unchanged: {@link LiteralPrefetch.take} resolves or rejects
 * exactly as the loader did for that message. A load that is started and never taken (the command
 * stopped on an error) is not reported as an unhandled rejection.
 *
 * @module
 */
import type { InternalMessageId } from "../../store/mod.ts";

/** Messages read ahead of the one being written. */
export const PREFETCH_DEPTH = 8;

/** Bytes (by RFC822.SIZE) read ahead at most, besides the message being written. */
export const PREFETCH_BYTES = 8 * 1024 * 1024;

/** One message whose literal may be needed. */
export interface PrefetchItem {
  messageId: InternalMessageId;
  /** RFC822.SIZE, for the bound. */
  size: number;
}

/** Options of {@link LiteralPrefetch}. */
export interface PrefetchOptions {
  /** Messages read ahead (default {@link PREFETCH_DEPTH}). */
  depth?: number;
  /** Bytes read ahead (default {@link PREFETCH_BYTES}). */
  bytes?: number;
}

/** Loads the literals of a list of messages in order, a few ahead of the caller. */
export class LiteralPrefetch {
  readonly #load: (id: InternalMessageId) => Promise<Uint8Array>;
  readonly #items: readonly PrefetchItem[];
  readonly #depth: number;
  readonly #bytes: number;
  readonly #started = new Map<number, Promise<Uint8Array>>();
  /** Index of the next item not started yet. */
  #next = 0;
  /** Sizes of the started items not taken yet. */
  #ahead = 0;

  /** `load` is the account's literal reader; `items` the messages in the order they are taken. */
  constructor(
    load: (id: InternalMessageId) => Promise<Uint8Array>,
    items: readonly PrefetchItem[],
    options: PrefetchOptions = {},
  ) {
    this.#load = load;
    this.#items = items;
    this.#depth = Math.max(0, options.depth ?? PREFETCH_DEPTH);
    this.#bytes = Math.max(0, options.bytes ?? PREFETCH_BYTES);
  }

  /**
   * The literal of item `index` (started now if it was not yet), after starting the loads of the
   * items after it that fit the bounds. Items are taken in increasing order; each at most once.
   */
  take(index: number): Promise<Uint8Array> {
    // Items the caller passed over are dropped (their loads finish unobserved).
    for (const i of this.#started.keys()) {
      if (i >= index) continue;
      this.#started.delete(i);
      this.#ahead -= this.#items[i].size;
    }
    if (index >= this.#next) this.#start(index);
    const promise = this.#started.get(index);
    if (promise === undefined) throw new RangeError(`Literal ${index} was already taken`);
    this.#started.delete(index);
    this.#ahead -= this.#items[index].size;
    while (
      this.#next < this.#items.length &&
      this.#next - index <= this.#depth &&
      this.#ahead + this.#items[this.#next].size <= this.#bytes
    ) {
      this.#start(this.#next);
    }
    return promise;
  }

  #start(index: number): void {
    const item = this.#items[index];
    let promise: Promise<Uint8Array>;
    try {
      promise = this.#load(item.messageId);
    } catch (error) {
      promise = Promise.reject(error);
    }
    // Marked handled now; the caller still sees the rejection when it takes the item.
    promise.catch(() => {});
    this.#started.set(index, promise);
    this.#ahead += item.size;
    this.#next = index + 1;
  }
}
