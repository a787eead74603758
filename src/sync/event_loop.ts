/**
 * The per-account event loop (proton-api.md §4.6; after proton-bridge
 * `internal/services/userevents/service.go`): polls `GET /core/v4/events/{cursor}`, applies each
 * event in order in **one** store transaction together with the new cursor (ARCHITECTURE
 * invariant 4), puts new literals into the cache, publishes the event's updates on the bus and
 * waits for every subscriber's acknowledgement before taking the next event.
 *
 * Life cycle:
 * - {@link EventLoop.start}: with no stored cursor, asks `events/latest` and stores it, so the
 *   cursor is taken **before** a first sync begins. The loop then stays paused (by default) until
 *   {@link EventLoop.resume}: call it once the first sync ended, and every event since the cursor
 *   is replayed (applying is idempotent, so what the sync already saw changes nothing).
 * - Each tick follows `More` (up to 50 events per call), then sleeps the poll interval (default
 *   20 s + 0–10 s jitter; clock, sleep and randomness are injectable).
 * - `Refresh & 1`: the index is rebuilt (every UIDVALIDITY bumped, upward) in the same
 *   transaction as the cursor, `UidValidityBumped` is published, then the injected `resync()`
 *   runs (a first sync) while the loop waits; afterwards it replays from the refresh event.
 * - Failed builds of an earlier run (`retryFailedBuilds`): after each tick's events, up to
 *   {@link RETRY_CHUNK} of them are downloaded and built again, as an event without items at the
 *   current cursor; those that build now replace their placeholder (new UIDs, as a changed
 *   draft), the others stay. Each is tried once per start; a transient error retries the chunk on
 *   the next tick, at most {@link RETRY_ATTEMPTS} times.
 *
 * Errors:
 * - Transient (network, timeouts, 429, 5xx): nothing is applied, the same events are retried
 *   with exponential backoff. The API client has already retried a few times by then.
 * - Signed out: the loop stops with state `signed-out`.
 * - A bad event (items of the wrong shape, or an event whose application fails for another
 *   reason): logged, counted in `status().badEvent`, retried; after `maxBadEventAttempts` it is
 *   applied once more item by item, each label and message item in a savepoint of its own: items
 *   of a bad shape and items whose application throws are dropped, messages that cannot be
 *   downloaded (for a reason that does not pass by waiting) are indexed as failed builds (built
 *   again later), all listed in a `bad-event-partially-applied` notice; the others applied. A
 *   full disk, an I/O error or a locked index is never a reason to drop: the event fails as it is
 *   and is retried with backoff. If even that fails, the event is skipped (the cursor moves past it
 *   alone) and a `bad-event-skipped` notice is sent. A reply without an `EventID` can never be
 *   skipped and is retried with backoff.
 *
 * @module
 */
import {
  type AddressEvent,
  type ApiClient,
  ApiError,
  collectEvents,
  getLatestEventID,
  type Label,
  type MailSettings,
  NetworkError,
  SignedOutError,
} from "../api/mod.ts";
import type { UpdateBus } from "../connector/update_bus.ts";
import {
  type InternalMessageId,
  isStorageFailure,
  type RemoteEventId,
  type RemoteMessageId,
  type Store,
} from "../store/mod.ts";
import { coalesceMessageItems } from "./event_coalesce.ts";
import {
  applyPreparedEvent,
  type EventApplied,
  type MessageFetcher,
  prepareEvent,
} from "./event_apply.ts";

/** Where events come from (the API client, or a test double). */
export interface EventSource {
  /** `GET /core/v4/events/latest`. */
  latestEventId(): Promise<string>;
  /** Events after `fromId`, following `More` (raw replies, shapes unchecked). */
  collect(fromId: string): Promise<{ events: unknown[]; more: boolean }>;
}

/** The API as an {@link EventSource}. */
export function apiEventSource(client: ApiClient, maxPerCall = 50): EventSource {
  return {
    latestEventId: () => getLatestEventID(client),
    async collect(fromId) {
      const r = await collectEvents(client, fromId, maxPerCall);
      return { events: r.events, more: r.more };
    },
  };
}

/** The literal cache as the loop uses it (`LiteralCache` fits). */
export interface LiteralStore {
  get(id: InternalMessageId): Promise<Uint8Array | undefined>;
  put(id: InternalMessageId, literal: Uint8Array): Promise<void>;
  delete(id: InternalMessageId): Promise<void>;
}

/** What the loop is doing. */
export type EventLoopState =
  | "created"
  | "paused"
  | "running"
  | "resyncing"
  | "stopped"
  | "signed-out";

/** A notice for the UI or logs ("clear error event"). */
export type EventLoopNotice =
  | { kind: "applied"; eventId: string; updates: number }
  | { kind: "transient-error"; error: string; failures: number; retryInMs: number }
  | { kind: "bad-reply"; error: string; failures: number; retryInMs: number }
  | { kind: "bad-event"; eventId: string; attempt: number; error: string }
  | { kind: "bad-event-partially-applied"; eventId: string; dropped: string[] }
  | { kind: "bad-event-skipped"; eventId: string; attempts: number; error: string }
  | { kind: "refresh"; eventId: string }
  | { kind: "resync-failed"; error: string }
  | { kind: "signed-out"; error: string };

/** A snapshot of the loop for `status` commands and tests. */
export interface EventLoopStatus {
  state: EventLoopState;
  /** The stored cursor (the last event whose changes are in the index). */
  cursor: string | undefined;
  /** Events applied since start. */
  eventsApplied: number;
  /** Unix ms of the last poll that reached the server. */
  lastPollAt: number | undefined;
  /** Failures in a row (reset by a successful poll). */
  consecutiveFailures: number;
  /** The last error, if the last poll failed. */
  lastError: { message: string; at: number; transient: boolean } | undefined;
  /** The event being retried or last skipped because it was bad. */
  badEvent:
    | { eventId: string; attempts: number; error: string; skipped: boolean; at: number }
    | undefined;
  /** Events skipped as bad since start. */
  skippedEvents: number;
}

/** Options of {@link EventLoop}. */
/** What the loop asks of the read-backs of mail clients' changes (`EventLoopOptions.readBacks`). */
export interface ReadBackClock {
  /** The clock the read-backs are timed by (ms). */
  now(): number;
  /** Whether the message was read back (and the index took it) later than `time`. */
  newerThan(remoteId: string, time: number): boolean;
}

export interface EventLoopOptions {
  /** The account's key on the update bus. */
  account: string;
  store: Store;
  source: EventSource;
  /** Downloads and builds messages the events create (see `eventMessageFetcher`). */
  fetcher: MessageFetcher;
  bus: UpdateBus;
  /** The literal cache; without one, literals are not cached (a later FETCH rebuilds). */
  literals?: LiteralStore;
  /** A full resync after a Refresh (the first sync); the loop waits for it. */
  resync?: () => Promise<void>;
  /**
   * Runs the commit of each event (one synchronous index transaction) where no change of a mail
   * client is under way: the account's change queue (`src/connector/serial_queue.ts`), so that
   * a change's read-back never lands after, and over, a newer event. Default: at once.
   */
  exclusive?: <T>(commit: () => T) => Promise<T>;
  /**
   * When mail clients' changes read messages back (`src/connector/read_backs.ts`): an event's
   * update of a message read back after the event was fetched is older than the index and is left
   * out (see `ApplyOptions.newerHere`). Its clock times the fetches.
   */
  readBacks?: ReadBackClock;
  /**
   * Address items of an event, in order, **before** the event's messages are downloaded and built
   * (so a new address's keys are unlocked in time for mail sent to it in the same event). Called
   * again if the event is retried; a failure is logged and the event still applies.
   */
  onAddresses?: (items: AddressEvent[]) => void | Promise<void>;
  /**
   * The account's new mail settings, once the event that carries them committed (the SMTP side
   * keeps them instead of asking the API on every send). A failure is logged.
   */
  onMailSettings?: (settings: MailSettings) => void | Promise<void>;
  /**
   * The account's storage figures when an event carries them (a top-level `UsedSpace`, or a
   * `User` with `UsedSpace` and `MaxSpace`), once the event committed; only the fields present
   * are given (IMAP QUOTA reports them).
   */
  onStorage?: (storage: { UsedSpace?: number; MaxSpace?: number }) => void;
  /** Notices (errors, skipped events). */
  onNotice?: (notice: EventLoopNotice) => void;
  /** The account's labels when known (folder paths then follow `ParentID` exactly). */
  labels?: readonly Label[];
  /**
   * Messages the index held as failed builds from an earlier run (remote IDs, taken before this
   * run's first sync): built again once the loop runs (see the module notes). A worker that
   * stopped, a key unlocked since, a builder fixed by an upgrade: a placeholder is not forever.
   */
  retryFailedBuilds?: readonly RemoteMessageId[];
  /** Start paused until {@link EventLoop.resume} (default true: a first sync may be running). */
  startPaused?: boolean;
  /** Poll interval in ms (default 20,000). */
  intervalMs?: number;
  /** Up to this much random extra wait per poll in ms (default 10,000). */
  jitterMs?: number;
  /** First retry delay after a failure in ms (default 5,000), doubled per failure in a row. */
  retryBaseMs?: number;
  /** Longest retry delay in ms (default 300,000). */
  retryMaxMs?: number;
  /** Attempts of a bad event before its bad items are dropped / it is skipped (default 3). */
  maxBadEventAttempts?: number;
  /** How long to wait for sessions to acknowledge an event's updates (bus default otherwise). */
  ackTimeoutMs?: number;
  /** Waits `ms` unless `signal` aborts first (tests inject fake time). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform [0, 1) for jitter. */
  random?: () => number;
  /** Unix ms. */
  now?: () => number;
  /** Log lines (never message contents); default `console.warn`. */
  log?: (message: string) => void;
}

/** What one poll ended with. */
export type TickOutcome = "idle" | "applied" | "more" | "error" | "paused" | "stopped";

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Whether an error is worth retrying unchanged: network, timeout, 429, 5xx. */
export function isTransientError(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof ApiError) return error.status === 429 || error.status >= 500;
  if (error instanceof DOMException) {
    return error.name === "AbortError" || error.name === "TimeoutError";
  }
  return error instanceof TypeError && /fetch|network|connection/i.test(error.message);
}

function message(error: unknown): string {
  if (error instanceof ApiError) return error.describe();
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Failed builds of an earlier run retried per tick (one event without items each). */
export const RETRY_CHUNK = 50;
/** Transient failures of one retry chunk before it is left as it is until the next start. */
export const RETRY_ATTEMPTS = 3;

/** The event loop of one account. */
export class EventLoop {
  #o: Required<
    Pick<
      EventLoopOptions,
      | "intervalMs"
      | "jitterMs"
      | "retryBaseMs"
      | "retryMaxMs"
      | "maxBadEventAttempts"
      | "sleep"
      | "random"
      | "now"
      | "log"
    >
  >;
  #opts: EventLoopOptions;
  /** When the events being applied were fetched, by the read-backs' clock. */
  #fetchedAt: number | undefined;
  #labels: Map<string, Label>;
  #state: EventLoopState = "created";
  #paused: boolean;
  #stopped = false;
  #wake = new AbortController();
  #wakePending = false;
  #running: Promise<void> | undefined;
  #attempts = new Map<string, number>();
  #tickWaiters: ((outcome: TickOutcome) => void)[] = [];
  /** Failed builds of an earlier run still to retry, and how the retries went. */
  #retry: {
    queue: RemoteMessageId[];
    attempts: number;
    total: number;
    rebuilt: number;
    stillFailed: number;
  };
  #status: Omit<EventLoopStatus, "state" | "cursor"> = {
    eventsApplied: 0,
    lastPollAt: undefined,
    consecutiveFailures: 0,
    lastError: undefined,
    badEvent: undefined,
    skippedEvents: 0,
  };

  constructor(options: EventLoopOptions) {
    this.#opts = options;
    this.#o = {
      intervalMs: options.intervalMs ?? 20_000,
      jitterMs: options.jitterMs ?? 10_000,
      retryBaseMs: options.retryBaseMs ?? 5_000,
      retryMaxMs: options.retryMaxMs ?? 300_000,
      maxBadEventAttempts: Math.max(1, options.maxBadEventAttempts ?? 3),
      sleep: options.sleep ?? defaultSleep,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      log: options.log ?? ((m) => console.warn(m)),
    };
    this.#labels = new Map((options.labels ?? []).map((l) => [l.ID, l]));
    this.#paused = options.startPaused ?? true;
    const queue = [...new Set(options.retryFailedBuilds ?? [])];
    this.#retry = { queue, attempts: 0, total: queue.length, rebuilt: 0, stillFailed: 0 };
  }

  /**
   * Failed builds of an earlier run this loop has not retried yet (`retryFailedBuilds` minus what
   * it did), for a loop that replaces it.
   */
  pendingRetries(): RemoteMessageId[] {
    return [...this.#retry.queue];
  }

  /** A snapshot of the loop's state. */
  status(): EventLoopStatus {
    return {
      state: this.#state,
      cursor: this.#opts.store.sync.eventCursor(),
      ...this.#status,
      lastError: this.#status.lastError && { ...this.#status.lastError },
      badEvent: this.#status.badEvent && { ...this.#status.badEvent },
    };
  }

  /**
   * Makes sure a cursor is stored (asking `events/latest` when there is none; transient errors
   * are retried with backoff), then starts the loop, paused unless `startPaused: false`. Resolves
   * once the cursor is stored. Calling it again does nothing.
   */
  async start(): Promise<void> {
    if (this.#running || this.#stopped) return;
    const { store } = this.#opts;
    while (store.sync.eventCursor() === undefined && !this.#stopped) {
      try {
        const latest = await this.#opts.source.latestEventId();
        store.transaction(() => store.sync.setEventCursor(latest as RemoteEventId));
        this.#pollSucceeded();
      } catch (error) {
        if (error instanceof SignedOutError) return this.#signedOut(error);
        const delay = this.#pollFailed(error, isTransientError(error));
        await this.#sleep(delay);
      }
    }
    if (this.#stopped) return;
    this.#state = this.#paused ? "paused" : "running";
    this.#running = this.#run();
  }

  /** Pauses after the current event (e.g. while the connection is down, or a sync runs). */
  pause(): void {
    if (this.#stopped) return;
    this.#paused = true;
    if (this.#state === "running") this.#state = "paused";
  }

  /** Resumes polling at once, from the stored cursor (replaying what came in meanwhile). */
  resume(): void {
    if (this.#stopped || !this.#paused) return;
    this.#paused = false;
    if (this.#state === "paused") this.#state = "running";
    this.#wakeUp();
  }

  /**
   * Polls now instead of at the end of the current wait; resolves with the outcome of that
   * poll (`"paused"` at once when paused, `"stopped"` when stopped).
   */
  pollNow(): Promise<TickOutcome> {
    if (this.#stopped) return Promise.resolve("stopped");
    if (this.#paused || !this.#running) return Promise.resolve("paused");
    const p = new Promise<TickOutcome>((resolve) => this.#tickWaiters.push(resolve));
    this.#wakeUp();
    return p;
  }

  /** Stops after the current event; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#state !== "signed-out") this.#state = "stopped";
    this.#wakeUp();
    await this.#running;
    this.#flushTickWaiters("stopped");
  }

  /** Ends the current wait, or (when the loop is not waiting) the next one before it starts. */
  #wakeUp(): void {
    this.#wakePending = true;
    this.#wake.abort();
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#stopped) return;
    if (this.#wakePending) {
      this.#wakePending = false;
      return;
    }
    this.#wake = new AbortController();
    await this.#o.sleep(Math.max(0, ms), this.#wake.signal);
    this.#wakePending = false;
  }

  #flushTickWaiters(outcome: TickOutcome): void {
    const waiters = this.#tickWaiters;
    this.#tickWaiters = [];
    for (const w of waiters) w(outcome);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#paused) {
        this.#flushTickWaiters("paused");
        await this.#sleep(this.#o.retryMaxMs);
        continue;
      }
      const waiters = this.#tickWaiters;
      this.#tickWaiters = [];
      let outcome: TickOutcome;
      try {
        outcome = await this.#tick();
      } catch (error) {
        // A bug in the loop itself: report it and keep serving (invariant 7).
        this.#o.log(`event loop ${this.#opts.account}: unexpected error: ${message(error)}`);
        outcome = "error";
        this.#pollFailed(error, false);
      }
      for (const w of waiters) w(outcome);
      if (this.#stopped) break;
      if (outcome === "more") continue;
      const delay = outcome === "error"
        ? this.#retryDelay()
        : this.#o.intervalMs + Math.floor(this.#o.random() * this.#o.jitterMs);
      await this.#sleep(delay);
    }
    this.#flushTickWaiters("stopped");
  }

  #retryDelay(): number {
    const n = Math.max(1, this.#status.consecutiveFailures);
    return Math.min(this.#o.retryBaseMs * 2 ** Math.min(n - 1, 30), this.#o.retryMaxMs);
  }

  #pollSucceeded(): void {
    this.#status.lastPollAt = this.#o.now();
    this.#status.consecutiveFailures = 0;
    this.#status.lastError = undefined;
  }

  /** Records a failed poll; returns the delay before the next try. */
  #pollFailed(error: unknown, transient: boolean): number {
    this.#status.consecutiveFailures++;
    this.#status.lastError = { message: message(error), at: this.#o.now(), transient };
    const delay = this.#retryDelay();
    const failures = this.#status.consecutiveFailures;
    const notice: EventLoopNotice = transient
      ? { kind: "transient-error", error: message(error), failures, retryInMs: delay }
      : { kind: "bad-reply", error: message(error), failures, retryInMs: delay };
    this.#notify(notice);
    // Whoever takes the notices reports the failure (serve logs it once); else it is logged here.
    if (!this.#opts.onNotice) {
      this.#o.log(
        `event loop ${this.#opts.account}: ${
          transient ? "transient error" : "error"
        } (${failures} in a row), retrying in ${delay} ms: ${message(error)}`,
      );
    }
    return delay;
  }

  #notify(notice: EventLoopNotice): void {
    try {
      this.#opts.onNotice?.(notice);
    } catch (error) {
      this.#o.log(`event loop ${this.#opts.account}: notice handler failed: ${message(error)}`);
    }
  }

  #signedOut(error: unknown): void {
    this.#stopped = true;
    this.#state = "signed-out";
    this.#status.lastError = { message: message(error), at: this.#o.now(), transient: false };
    this.#notify({ kind: "signed-out", error: message(error) });
    this.#o.log(`event loop ${this.#opts.account}: signed out, stopping`);
    this.#wakeUp();
  }

  async #tick(): Promise<TickOutcome> {
    const { store, source } = this.#opts;
    const cursor = store.sync.eventCursor();
    if (cursor === undefined) return "error";
    let collected;
    try {
      collected = await source.collect(cursor);
    } catch (error) {
      if (error instanceof SignedOutError) {
        this.#signedOut(error);
        return "stopped";
      }
      this.#pollFailed(error, isTransientError(error));
      return "error";
    }
    this.#status.lastPollAt = this.#o.now();
    // Every event collected was made by now (for the read-backs of mail clients' changes).
    this.#fetchedAt = this.#opts.readBacks?.now();
    // A tick whose events cannot be applied (a full disk) is a failure in a row like a poll that
    // fails: the retries back off.
    const outcome = await this.#applyCollected(collected);
    if (outcome !== "error") this.#pollSucceeded();
    return outcome;
  }

  /** Applies what one poll collected (see {@link #tick}). */
  async #applyCollected(
    collected: { events: unknown[]; more: boolean },
  ): Promise<TickOutcome> {
    let applied = 0;
    // Later items of the batch say where each message ended: skip the detours (event_coalesce.ts).
    for (const raw of coalesceMessageItems(collected.events)) {
      if (this.#stopped) return "stopped";
      const result = await this.#applyOne(raw);
      if (result === "stopped" || result === "error") return result;
      applied++;
      if (result === "refreshed") {
        await this.#resync();
        return this.#stopped ? "stopped" : "more";
      }
      if (this.#paused) return "paused";
    }
    if (collected.more) return "more";
    if (this.#stopped) return "stopped";
    if (this.#paused) return "paused";
    if (this.#retry.queue.length > 0) {
      const outcome = await this.#retryFailedChunk();
      if (outcome !== "ok") return outcome;
      if (this.#retry.queue.length > 0) return "more";
      applied++;
    }
    return applied > 0 ? "applied" : "idle";
  }

  /** Builds the next chunk of an earlier run's failed builds again (see the module notes). */
  async #retryFailedChunk(): Promise<"ok" | "error" | "stopped"> {
    const { store, account } = this.#opts;
    const retry = this.#retry;
    const cursor = store.sync.eventCursor();
    if (cursor === undefined) return "error";
    const chunk = retry.queue.slice(0, RETRY_CHUNK);
    try {
      const result = await this.#applyEvent({ EventID: cursor }, false, new Set(chunk));
      retry.rebuilt += result.rebuilt;
      retry.stillFailed += result.stillFailed;
    } catch (error) {
      if (error instanceof SignedOutError) {
        this.#signedOut(error);
        return "stopped";
      }
      // A full disk passes too, and does not use up the chunk's attempts.
      if (isStorageFailure(error)) {
        this.#pollFailed(error, true);
        return "error";
      }
      if (isTransientError(error) && ++retry.attempts < RETRY_ATTEMPTS) {
        this.#pollFailed(error, true);
        return "error";
      }
      this.#o.log(
        `event loop ${account}: ${chunk.length} message(s) that failed to build in an earlier ` +
          `run could not be built again now, left as they are: ${message(error)}`,
      );
    }
    retry.attempts = 0;
    retry.queue.splice(0, chunk.length);
    if (retry.queue.length === 0) {
      this.#o.log(
        `event loop ${account}: of ${retry.total} message(s) that failed to build in an earlier ` +
          `run, ${retry.rebuilt} were rebuilt; ${retry.stillFailed} still fail`,
      );
    }
    return "ok";
  }

  /** Applies one event with its retry and skip rules. */
  async #applyOne(raw: unknown): Promise<"ok" | "refreshed" | "error" | "stopped"> {
    const rawId = typeof (raw as { EventID?: unknown })?.EventID === "string"
      ? (raw as { EventID: string }).EventID
      : undefined;
    for (;;) {
      const attempts = rawId === undefined ? 0 : this.#attempts.get(rawId) ?? 0;
      try {
        const applied = await this.#applyEvent(raw, attempts >= this.#o.maxBadEventAttempts);
        if (rawId !== undefined) this.#attempts.delete(rawId);
        if (this.#status.badEvent?.eventId === rawId && !this.#status.badEvent?.skipped) {
          this.#status.badEvent = undefined;
        }
        return applied.refreshed ? "refreshed" : "ok";
      } catch (error) {
        if (error instanceof SignedOutError) {
          this.#signedOut(error);
          return "stopped";
        }
        // A full disk or a locked index passes: the event is retried as it is (with backoff),
        // never applied in part or skipped.
        if (isTransientError(error) || isStorageFailure(error)) {
          this.#pollFailed(error, true);
          return "error";
        }
        if (rawId === undefined) {
          // Without an ID the event cannot be skipped; keep retrying (with backoff).
          this.#pollFailed(error, false);
          return "error";
        }
        const n = attempts + 1;
        this.#attempts.set(rawId, n);
        this.#status.badEvent = {
          eventId: rawId,
          attempts: n,
          error: message(error),
          skipped: false,
          at: this.#o.now(),
        };
        this.#notify({ kind: "bad-event", eventId: rawId, attempt: n, error: message(error) });
        const max = this.#o.maxBadEventAttempts;
        this.#o.log(
          `event loop ${this.#opts.account}: bad event ${rawId} (${
            n > max ? "last attempt, item by item" : `attempt ${n}/${max}`
          }): ${message(error)}`,
        );
        if (n < this.#o.maxBadEventAttempts) {
          this.#status.consecutiveFailures++;
          this.#status.lastError = { message: message(error), at: this.#o.now(), transient: false };
          return "error";
        }
        if (n === this.#o.maxBadEventAttempts) {
          continue; // once more, applying the items that can be applied and dropping the others
        }
        this.#skip(rawId, n, error);
        // What a skipped event says about storage is still true (the figures are the account's,
        // not the index's).
        const storage = storageOf(raw);
        if (storage && this.#opts.onStorage) this.#opts.onStorage(storage);
        return "ok";
      }
    }
  }

  #skip(eventId: string, attempts: number, error: unknown): void {
    const { store } = this.#opts;
    store.transaction(() => store.sync.setEventCursor(eventId as RemoteEventId));
    this.#attempts.delete(eventId);
    this.#status.skippedEvents++;
    this.#status.badEvent = {
      eventId,
      attempts,
      error: message(error),
      skipped: true,
      at: this.#o.now(),
    };
    this.#notify({ kind: "bad-event-skipped", eventId, attempts, error: message(error) });
    this.#o.log(
      `event loop ${this.#opts.account}: SKIPPED bad event ${eventId} after ${attempts} attempts; ` +
        `the index may miss its changes until a resync: ${message(error)}`,
    );
  }

  async #applyEvent(
    raw: unknown,
    acceptProblems: boolean,
    retryBuilds?: ReadonlySet<RemoteMessageId>,
  ): Promise<EventApplied & { stillFailed: number }> {
    const { store, fetcher, literals, bus, account } = this.#opts;
    const addressItems = rawAddressItems(raw);
    // Keys reloaded for changed addresses: messages that failed to build (e.g. for want of a
    // key) are built again with this event, and replaced where they now build.
    let keysReloaded = false;
    if (addressItems.length > 0 && this.#opts.onAddresses) {
      try {
        await this.#opts.onAddresses(addressItems);
        keysReloaded = true;
      } catch (error) {
        this.#o.log(`event loop ${account}: address handler failed: ${message(error)}`);
      }
    }
    // A retry chunk downloads messages no event named: one that cannot be downloaded now for a
    // reason other than a transient one (a 4xx, a malformed reply) stays as it is, counted as
    // still failing, instead of failing the other 49 with it.
    let undownloadable = 0;
    const chunkFetcher: MessageFetcher = retryBuilds === undefined ? fetcher : {
      fetch: (id) =>
        fetcher.fetch(id).catch((error) => {
          if (error instanceof SignedOutError || isTransientError(error)) throw error;
          undownloadable++;
          this.#o.log(`event loop ${account}: retrying a failed build: ${message(error)}`);
          return undefined;
        }),
    };
    const prepared = await prepareEvent(raw, store, chunkFetcher, {
      acceptProblems,
      readLiteral: literals ? (id) => literals.get(id).catch(() => undefined) : undefined,
      rebuildFailed: keysReloaded || (retryBuilds ?? false),
      // On the last attempt at an event that keeps failing, a message that cannot be downloaded
      // (for a reason that does not pass by waiting) is indexed as a failed build, to be built
      // again later, instead of failing the event or being left out.
      ...(acceptProblems
        ? {
          placeholderWhenUndownloadable: (error: unknown) =>
            error instanceof SignedOutError || isTransientError(error) ||
              isStorageFailure(error)
              ? undefined
              : message(error),
        }
        : {}),
    });
    const labels = new Map(this.#labels);
    let release = () => {};
    let applied: EventApplied;
    try {
      const commit = () => {
        // Committed changes reach sessions only after the cache work below: the bus knows, so
        // a session can wait for them (UpdateBus.settled) before it names a HIGHESTMODSEQ.
        release = bus.hold(account);
        // Asked now, at the commit: a change that ran while this event waited has read back.
        const readBacks = this.#opts.readBacks;
        const fetchedAt = this.#fetchedAt;
        const newerHere = readBacks && fetchedAt !== undefined
          ? (id: RemoteMessageId) => readBacks.newerThan(id, fetchedAt)
          : undefined;
        return store.transaction(() => {
          const r = applyPreparedEvent(store, prepared, labels, {
            isolate: acceptProblems,
            newerHere,
          });
          store.sync.setEventCursor(prepared.event.eventId);
          return r;
        });
      };
      applied = this.#opts.exclusive ? await this.#opts.exclusive(commit) : commit();
      this.#labels = labels;
      this.#status.eventsApplied++;
      const dropped = [...prepared.problems, ...applied.dropped];
      if (dropped.length > 0) {
        this.#notify({ kind: "bad-event-partially-applied", eventId: applied.eventId, dropped });
        this.#o.log(
          `event loop ${account}: event ${applied.eventId} applied without ${dropped.length} bad item(s): ${
            dropped.join("; ")
          }`,
        );
      }
      if (keysReloaded && (applied.rebuilt > 0 || prepared.stillFailed > 0)) {
        this.#o.log(
          `event loop ${account}: after the address change, ${applied.rebuilt} message(s) that had ` +
            `failed to build were rebuilt; ${prepared.stillFailed} still fail`,
        );
      }
      if (applied.gone.length > 0) {
        this.#o.log(
          `event loop ${account}: ${applied.gone.length} message(s) of event ${applied.eventId} were gone`,
        );
      }
      // After commit: cache work (a failure only costs a rebuild at FETCH time), then sessions.
      if (literals) {
        for (const { id, literal } of applied.literalsToPut) {
          await literals.put(id, literal).catch((e) =>
            this.#o.log(`event loop ${account}: literal cache put failed: ${message(e)}`)
          );
        }
        for (const id of applied.literalsToDelete) {
          await literals.delete(id).catch(() => {});
        }
      }
      const settings = (raw as { MailSettings?: unknown } | null)?.MailSettings;
      if (settings && typeof settings === "object" && this.#opts.onMailSettings) {
        try {
          await this.#opts.onMailSettings(settings as MailSettings);
        } catch (error) {
          this.#o.log(`event loop ${account}: mail settings handler failed: ${message(error)}`);
        }
      }
      const storage = storageOf(raw);
      if (storage && this.#opts.onStorage) this.#opts.onStorage(storage);
      if (applied.updates.length > 0) {
        const acknowledged = bus.publishAndWait(account, applied.updates, {
          timeoutMs: this.#opts.ackTimeoutMs,
        });
        release(); // published (synchronously): sessions have them
        await acknowledged;
      }
    } finally {
      release();
    }
    this.#notify({ kind: "applied", eventId: applied.eventId, updates: applied.updates.length });
    if (applied.refreshed) this.#notify({ kind: "refresh", eventId: applied.eventId });
    return { ...applied, stillFailed: prepared.stillFailed + undownloadable };
  }

  /** After a Refresh: run the injected resync until it succeeds (or the loop stops). */
  async #resync(): Promise<void> {
    const { resync, account } = this.#opts;
    if (!resync) {
      this.#o.log(`event loop ${account}: refresh applied but no resync hook is set`);
      return;
    }
    this.#state = "resyncing";
    let failures = 0;
    while (!this.#stopped) {
      try {
        await resync();
        break;
      } catch (error) {
        if (error instanceof SignedOutError) return this.#signedOut(error);
        failures++;
        const delay = Math.min(this.#o.retryBaseMs * 2 ** (failures - 1), this.#o.retryMaxMs);
        this.#notify({ kind: "resync-failed", error: message(error) });
        this.#o.log(
          `event loop ${account}: resync failed (${failures}), retrying in ${delay} ms: ${
            message(error)
          }`,
        );
        await this.#sleep(delay);
      }
    }
    if (!this.#stopped) this.#state = this.#paused ? "paused" : "running";
  }
}

/** The well-formed `Addresses` items of a raw event (ID and Action present), in order. */
function rawAddressItems(raw: unknown): AddressEvent[] {
  const items = (raw as { Addresses?: unknown } | null)?.Addresses;
  if (!Array.isArray(items)) return [];
  return items.filter((a): a is AddressEvent =>
    typeof a === "object" && a !== null && typeof (a as { ID?: unknown }).ID === "string" &&
    typeof (a as { Action?: unknown }).Action === "number"
  );
}

/**
 * The storage figures of an event: its top-level `UsedSpace`, and `UsedSpace` / `MaxSpace` of
 * its `User` (a top-level value wins, it is the newer); non-negative integers only.
 */
function storageOf(raw: unknown): { UsedSpace?: number; MaxSpace?: number } | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const event = raw as { UsedSpace?: unknown; User?: { UsedSpace?: unknown; MaxSpace?: unknown } };
  const size = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  const out: { UsedSpace?: number; MaxSpace?: number } = {};
  const user = event.User && typeof event.User === "object" ? event.User : undefined;
  if (size(user?.UsedSpace)) out.UsedSpace = user!.UsedSpace as number;
  if (size(user?.MaxSpace)) out.MaxSpace = user!.MaxSpace as number;
  if (size(event.UsedSpace)) out.UsedSpace = event.UsedSpace as number;
  return out.UsedSpace === undefined && out.MaxSpace === undefined ? undefined : out;
}
