/**
 * The in-process update bus: producers (the event loop, the connector after an IMAP mutation)
 * publish typed updates for one account; every subscriber of that account receives each update
 * once, in publish order, with an acknowledgement of its own (see `updates.ts`).
 *
 * {@link UpdateBus.publishAndWait} resolves when every subscriber acknowledged, or when the
 * acknowledgement timeout passed: a stuck session is logged and left behind (its queue keeps the
 * updates in order), never allowed to wedge the event loop.
 *
 * Single-threaded by construction: publish appends to each subscriber's queue synchronously, so
 * two publishes can never interleave.
 *
 * A producer that commits to the index and then awaits something before publishing (the event
 * loop and the connector write the literal cache in between) {@link UpdateBus.hold}s the account
 * over that gap, so that {@link UpdateBus.settled} can tell a session when everything committed
 * has reached it: QRESYNC's `[HIGHESTMODSEQ]` on EXPUNGE and CLOSE must not cover a change the
 * session has not been given yet.
 *
 * @example
 * ```ts ignore
 * const bus = new UpdateBus();
 * const sub = bus.subscribe("account-1");
 * (async () => {
 *   for await (const update of sub) {
 *     session.queue(update);
 *     update.ack();
 *   }
 * })();
 * await bus.publishAndWait("account-1", [{ kind: "MessagesCreated", mailbox, uids }]);
 * ```
 *
 * @module
 */
import { describeUpdate, type Update, type UpdateData, withAck } from "./updates.ts";

/** Where the bus reports stuck or failing subscribers. */
export type BusLogger = (message: string) => void;

/** Options of {@link UpdateBus}. */
export interface UpdateBusOptions {
  /** How long {@link UpdateBus.publishAndWait} waits for acknowledgements; default 10,000 ms. */
  ackTimeoutMs?: number;
  /** Log sink; default `console.warn`. */
  log?: BusLogger;
}

/** What {@link UpdateBus.publishAndWait} observed. */
export interface PublishResult {
  /** Subscribers (by name) that had not acknowledged every update when the timeout passed. */
  timedOut: string[];
  /** Subscribers that acknowledged with an error, and the first error each gave. */
  failed: { subscriber: string; error: unknown }[];
}

/** A receiver of one account's updates: an async iterator, or a callback. */
export interface Subscription extends AsyncIterable<Update> {
  /** A name for logs (given to `subscribe`, or generated). */
  readonly name: string;
  /** Updates delivered but not yet taken from the iterator. */
  readonly pending: number;
  /** The next update, or `undefined` once unsubscribed. */
  next(): Promise<Update | undefined>;
  /** Stops receiving. Updates not yet acknowledged are acknowledged so nobody waits for them. */
  unsubscribe(): void;
}

/** Options of {@link UpdateBus.subscribe}. */
export interface SubscribeOptions {
  /** A name for logs (e.g. `imap-session-12`). */
  name?: string;
  /**
   * Callback mode: called for each update in order, one at a time; the update is acknowledged
   * when it returns (or its promise settles), with the error if it throws. Without it, read the
   * subscription as an async iterator and call `update.ack()` yourself.
   */
  onUpdate?: (update: Update) => void | Promise<void>;
  /**
   * Synchronous mode: called inside `publish` for each update, before `publish` returns, so a
   * producer's own session has the update in its state as soon as the mutation's call returns
   * (IMAP sessions use this to report their own changes before the tagged response). Must not
   * block; the update is acknowledged when it returns, with the error if it throws.
   */
  onDeliver?: (update: Update) => void;
}

class Subscriber implements Subscription {
  readonly name: string;
  #queue: Update[] = [];
  #waiting: ((u: Update | undefined) => void) | undefined;
  #closed = false;
  #unacked = new Set<Update>();
  #onClose: () => void;
  #sync: ((update: Update) => void) | undefined;

  constructor(name: string, onClose: () => void, sync?: (update: Update) => void) {
    this.name = name;
    this.#onClose = onClose;
    this.#sync = sync;
  }

  get pending(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  deliver(update: Update): void {
    if (this.#closed) {
      update.ack();
      return;
    }
    if (this.#sync) {
      try {
        this.#sync(update);
        update.ack();
      } catch (error) {
        update.ack(error ?? new Error("update handler failed"));
      }
      return;
    }
    this.#unacked.add(update);
    update.applied.then(() => this.#unacked.delete(update), () => this.#unacked.delete(update));
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w(update);
    } else {
      this.#queue.push(update);
    }
  }

  next(): Promise<Update | undefined> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  unsubscribe(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    for (const u of this.#unacked) u.ack();
    this.#unacked.clear();
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.(undefined);
    this.#onClose();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Update> {
    for (;;) {
      const u = await this.next();
      if (u === undefined) return;
      yield u;
    }
  }
}

/** Per-account publish/subscribe of {@link Update}s. */
export class UpdateBus {
  #accounts = new Map<string, Set<Subscriber>>();
  #ackTimeoutMs: number;
  #log: BusLogger;
  #counter = 0;
  /** Producers per account that committed changes they have not published yet. */
  #holds = new Map<string, number>();
  #settledWaiters = new Map<string, (() => void)[]>();

  constructor(options: UpdateBusOptions = {}) {
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.#log = options.log ?? ((m) => console.warn(m));
  }

  /** Subscribes to one account's updates (see {@link SubscribeOptions} for the two modes). */
  subscribe(account: string, options: SubscribeOptions = {}): Subscription {
    const name = options.name ?? `subscriber-${++this.#counter}`;
    let set = this.#accounts.get(account);
    if (!set) {
      set = new Set();
      this.#accounts.set(account, set);
    }
    const subscribers = set;
    const sub = new Subscriber(name, () => {
      subscribers.delete(sub);
      if (subscribers.size === 0) this.#accounts.delete(account);
    }, options.onDeliver);
    subscribers.add(sub);
    if (options.onUpdate) this.#drive(sub, options.onUpdate);
    return sub;
  }

  /** How many subscribers an account has. */
  subscriberCount(account: string): number {
    return this.#accounts.get(account)?.size ?? 0;
  }

  /**
   * Hands each update to every current subscriber of the account, in order, and returns the
   * per-subscriber copies (each with its own acknowledgement). Does not wait.
   */
  publish(
    account: string,
    updates: UpdateData | readonly UpdateData[],
    origin?: string,
  ): { subscriber: string; update: Update }[] {
    const list = Array.isArray(updates) ? updates : [updates as UpdateData];
    const subs = [...(this.#accounts.get(account) ?? [])];
    const out: { subscriber: string; update: Update }[] = [];
    for (const data of list) {
      for (const sub of subs) {
        const update = withAck(data, origin);
        out.push({ subscriber: sub.name, update });
        sub.deliver(update);
      }
    }
    return out;
  }

  /**
   * Publishes, then waits until every subscriber acknowledged every update or `timeoutMs`
   * (default: the bus's) passed. Never rejects: stuck and failing subscribers are logged and
   * reported in the result.
   */
  async publishAndWait(
    account: string,
    updates: UpdateData | readonly UpdateData[],
    options: { origin?: string; timeoutMs?: number } = {},
  ): Promise<PublishResult> {
    const delivered = this.publish(account, updates, options.origin);
    const result: PublishResult = { timedOut: [], failed: [] };
    if (delivered.length === 0) return result;
    const failedBy = new Map<string, unknown>();
    const all = Promise.all(
      delivered.map(({ subscriber, update }) =>
        update.applied.catch((error) => {
          if (!failedBy.has(subscriber)) failedBy.set(subscriber, error);
        })
      ),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), options.timeoutMs ?? this.#ackTimeoutMs);
    });
    try {
      const outcome = await Promise.race([all.then(() => "done" as const), timeout]);
      if (outcome === "timeout") {
        const stuck = new Set<string>();
        for (const { subscriber, update } of delivered) {
          if (!update.acked) stuck.add(subscriber);
        }
        result.timedOut = [...stuck];
        const first = delivered.find((d) => !d.update.acked);
        this.#log(
          `update bus: ${stuck.size} subscriber(s) did not acknowledge in time (` +
            `${[...stuck].join(", ")}; first pending: ${
              first ? describeUpdate(first.update) : "?"
            }); continuing`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
    for (const [subscriber, error] of failedBy) {
      result.failed.push({ subscriber, error });
      this.#log(
        `update bus: subscriber ${subscriber} failed to apply an update: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    return result;
  }

  /**
   * Marks that a producer is about to commit changes of `account` that it will publish after an
   * await; call the returned function once they are published (or abandoned). Idempotent.
   */
  hold(account: string): () => void {
    this.#holds.set(account, (this.#holds.get(account) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#holds.get(account) ?? 1) - 1;
      if (n > 0) {
        this.#holds.set(account, n);
        return;
      }
      this.#holds.delete(account);
      for (const w of this.#settledWaiters.get(account)?.splice(0) ?? []) w();
      this.#settledWaiters.delete(account);
    };
  }

  /**
   * Resolves `true` once no producer holds back committed changes of `account` (at once when none
   * does), or `false` when `timeoutMs` (default 5,000) passed first.
   */
  settled(account: string, timeoutMs = 5_000): Promise<boolean> {
    if (!this.#holds.has(account)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const list = this.#settledWaiters.get(account);
        const i = list?.indexOf(done) ?? -1;
        if (i >= 0) list!.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const list = this.#settledWaiters.get(account) ?? [];
      list.push(done);
      this.#settledWaiters.set(account, list);
    });
  }

  /** Unsubscribes everyone (on shutdown). */
  close(): void {
    for (const set of [...this.#accounts.values()]) {
      for (const sub of [...set]) sub.unsubscribe();
    }
  }

  async #drive(sub: Subscriber, onUpdate: (u: Update) => void | Promise<void>): Promise<void> {
    for (;;) {
      const update = await sub.next();
      if (update === undefined) return;
      try {
        await onUpdate(update);
        update.ack();
      } catch (error) {
        update.ack(error ?? new Error("update handler failed"));
      }
    }
  }
}
