/**
 * The first sync of an account: every message on the server downloaded once, decrypted, built
 * into its RFC 822 literal, indexed with its flags and mailboxes, the literal stored in the
 * encrypted cache. After proton-bridge `internal/services/syncservice` (proton-api.md §4.5), with
 * the differences explained below.
 *
 * ## Steps
 * 1. **Labels → mailboxes** ({@link applyLabels}), every run (cheap; picks up renames made while
 *    the bridge was down). Committed with `labelsDone` in the checkpoint.
 * 2. **Count**: `Total` of All Mail (label 5), once; kept in the checkpoint for reports.
 * 3. **Listing**: metadata pages newest → oldest (`Desc` + `EndID`, 150 per page), stopping at
 *    the checkpoint's `lastSyncedRemoteId`. Only IDs and sizes are kept (≈100 bytes a message).
 * 4. **Pipeline**, over the listed messages **oldest first**:
 *    download (`GET /mail/v4/messages/{id}` and its attachments; parallel under an adaptive
 *    {@link DownloadThrottle}: 8 at first, 2 after a 429/5xx, doubling back up to 32) →
 *    decrypt + build on the {@link BuildPool} workers → apply, in order, in batches. A
 *    {@link MemoryBudget} (default 64 MiB) bounds the bytes of all messages between the start of
 *    their download and the moment their literal is on disk, so memory stays flat whatever the
 *    mailbox holds. A message the server no longer has (HTTP 404/422) is skipped; one that fails
 *    to build is stored as a placeholder and recorded in the sync failures; neither stops the sync.
 *
 * ## UIDs: ascending from oldest to newest, and the same after any number of restarts
 * The index hands out a mailbox's UIDs in the order messages are added to it. Applying the pages
 * as they arrive (newest first, as the official bridge does) would give the newest message UID 1
 * in every mailbox, and clients that order by UID (mutt, K-9, `SEARCH ALL`) would list the
 * mailbox upside down. So the listing comes first, and messages are **applied in ascending
 * server order** (the reverse of the `Desc` listing, i.e. oldest first): in every mailbox, UIDs
 * then grow with message age, as if the mail had arrived one by one.
 *
 * The order is a function of the server's message list only, and batches are applied strictly in
 * that order, each batch in one transaction. A resumed run lists again from the top down to the
 * checkpoint and continues with the next message in the same order, so it assigns exactly the
 * UIDs an uninterrupted run would have: UIDs the killed run committed stay (re-applying a message
 * is idempotent: {@link applyMessages} keeps existing memberships), later ones continue from each
 * mailbox's UIDNEXT. (Mail that arrives while the sync runs is newer than everything listed: it
 * is picked up at the end of a resumed listing, or by the event loop; either way it gets the
 * highest UIDs.) The price is the listing before the first download: about one request per 150
 * messages, a second or two for 10,000 on a fast link.
 *
 * ## Checkpoint: nothing lost, nothing duplicated
 * Each batch is applied in one store transaction, which also writes the checkpoint:
 * `lastSyncedRemoteId` (the newest message covered) and `syncedCount`. The batch's literals are
 * written to the cache after that commit (overlapping the next batches' downloads, builds and
 * transactions), and a batch only becomes *covered* — eligible for a later transaction's
 * checkpoint — once its cache writes and those of every earlier batch are done. So the
 * checkpoint always covers messages whose index rows **and** literals are durable. After a kill
 * the resumed listing stops at the checkpoint; the messages after it that are already indexed
 * with a cached literal are skipped, and those indexed without one (killed between a commit and
 * its cache writes) are fetched and applied again — same content, same UIDs. If the checkpoint's
 * message was deleted on the server meanwhile the listing runs to the end and the same
 * per-message check keeps it correct.
 *
 * ## Errors
 * Transient failures (429, 5xx, dropped connections, timeouts) are retried per request by the
 * API client and then again here, with a growing delay (`retries`). When they persist, or on
 * anything that needs the user (signed out, human verification), the run stops with a
 * {@link SyncError}; what was committed stays, and the next run resumes from the checkpoint.
 * {@link syncUntilComplete} retries retryable errors after a cooldown.
 *
 * @module
 */
import {
  ApiError,
  HumanVerificationRequiredError,
  type Message,
  type MessageMetadata,
  NetworkError,
  SignedOutError,
} from "../api/mod.ts";
import type {
  InternalMessageId,
  LiteralCache,
  RemoteMessageId,
  Store,
  SyncCheckpoint,
} from "../store/mod.ts";
import { applyLabels, applyMessages } from "./apply.ts";
import { DownloadThrottle } from "./download_throttle.ts";
import type { HeapGovernor } from "./heap_governor.ts";
import { MemoryBudget } from "./memory_budget.ts";
import type { AttachmentData, BuildOptions, BuildOutput } from "./message_build.ts";
import { NULL_REPORTER, ProgressMeter, type Reporter, type SyncProgress } from "./progress.ts";
import type { SyncApi } from "./sync_api.ts";

/**
 * Decrypts and builds messages (a `BuildPool`, or anything with its `build`). Never rejects.
 * `options.compress` asks for {@link BuildOutput.compressed} as well; a builder may ignore it
 * (the literal is then compressed when it is written to the cache).
 */
export interface MessageBuilder {
  build(
    message: Message,
    attachments: AttachmentData,
    options?: BuildOptions,
  ): Promise<BuildOutput>;
}

/** Options of {@link runInitialSync}. */
export interface InitialSyncOptions {
  /** The API (see `syncApiFor(client)`). */
  api: SyncApi;
  /** The account's index. */
  store: Store;
  /** The account's literal cache. */
  cache: LiteralCache;
  /** Where messages are decrypted and built (a `BuildPool`). */
  builder: MessageBuilder;
  /** Name shown in progress reports. */
  account?: string;
  /** Progress receiver. */
  reporter?: Reporter;
  /** Download concurrency (wire it to the client's `onRequest` to see retried attempts too). */
  throttle?: DownloadThrottle;
  /** Metadata page size (default and maximum 150). */
  pageSize?: number;
  /** Most messages applied per transaction (default 64). */
  batchSize?: number;
  /** How long a batch waits to fill up once its first message is ready, in ms (default 100). */
  batchWaitMs?: number;
  /** Bytes in flight across download, build and apply (default 64 MiB). */
  memoryBudget?: number;
  /** Most messages between download start and cache write at once (default 256). */
  maxInFlight?: number;
  /** Retries of a transiently failing request after the client's own (default 6). */
  retries?: number;
  /** First retry delay in ms, doubled per retry, at most 30 s (default 1000). */
  retryDelayMs?: number;
  /** Waits `ms` (tests). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Told when a request failed transiently and is about to be tried again (`retry` of `retries`,
   * after `delayMs`), so that a sync waiting on the server does not look like one that runs.
   */
  onTransientError?: (what: string, error: string, retry: number, delayMs: number) => void;
  /** Least time between two progress reports in ms (default 250; phase changes always report). */
  progressIntervalMs?: number;
  /** Stops the sync (it then rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * The process's soft limit on resident memory, checked after each batch (one governor for every
   * account's sync; see `heap_governor.ts`). Without one nothing is checked.
   */
  heap?: HeapGovernor;
}

/** What {@link runInitialSync} did. */
export interface InitialSyncResult {
  /** `already-complete`: an earlier run finished; only labels were refreshed. */
  status: "complete" | "already-complete";
  /** The server's message count (All Mail), as counted when the sync started. */
  serverCount: number;
  /** Messages synced over all runs (including this one). */
  synced: number;
  /** Messages downloaded and built in this run. */
  built: number;
  /** Of those, stored as failed placeholders. */
  failed: number;
  /** Messages found gone on the server in this run (skipped). */
  gone: number;
  /** Messages found already indexed and cached (a resumed run). */
  present: number;
  /** Bytes downloaded in this run (message bodies and attachment packets). */
  downloadedBytes: number;
  /** Literal bytes written to the cache in this run. */
  literalBytes: number;
  /** Wall-clock seconds of this run. */
  seconds: number;
  /** The most bytes the memory budget had reserved at once. */
  peakBudgetBytes: number;
}

/** The sync stopped; committed work stays and the next run resumes from the checkpoint. */
export class SyncError extends Error {
  override name = "SyncError";
  /** Whether retrying later may help (a transient server or network failure). */
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.retryable = retryable;
  }
}

/** One message to sync, from the listing. */
interface PlanItem {
  id: RemoteMessageId;
  size: number;
  /** Position in the plan (download priority). */
  seq: number;
}

/** What a build's `literal` becomes once its compressed form is there (see `fetchAndBuild`). */
const NO_LITERAL = new Uint8Array(0);

type Outcome =
  | { kind: "present" }
  | { kind: "gone" }
  | { kind: "built"; metadata: MessageMetadata; output: BuildOutput };

interface Slot {
  item: PlanItem;
  reserved: number;
  settled: boolean;
  outcome?: Outcome;
  error?: unknown;
}

const PHASE_MESSAGES = "messages";
const PHASE_DONE = "done";
const GONE = Symbol("gone");
/** SQLite's page cache while the pipeline runs, in KiB (see `Store.pageCacheKiB`). */
const SYNC_PAGE_CACHE_KIB = 8 * 1024;

/** Bytes a message is assumed to occupy from download to cache write. */
function estimate(size: number): number {
  return 16 * 1024 + 4 * Math.max(0, Number(size) || 0);
}

/** Runs (or resumes) the first sync. See the module notes. */
export async function runInitialSync(options: InitialSyncOptions): Promise<InitialSyncResult> {
  const started = performance.now();
  const { api, store, cache, builder } = options;
  const account = options.account ?? "";
  const reporter = options.reporter ?? NULL_REPORTER;
  const throttle = options.throttle ?? new DownloadThrottle();
  const pageSize = Math.min(150, Math.max(1, Math.floor(options.pageSize ?? 150)));
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 64));
  const batchWaitMs = Math.max(0, options.batchWaitMs ?? 100);
  const budget = new MemoryBudget(options.memoryBudget ?? 64 * 1024 * 1024);
  const maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? 256));
  const retries = Math.max(0, Math.floor(options.retries ?? 6));
  const retryDelayMs = Math.max(0, options.retryDelayMs ?? 1000);
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const signal = options.signal;
  const meter = new ProgressMeter({ intervalMs: options.progressIntervalMs });
  const report = (
    phase: SyncProgress["phase"],
    done: number,
    total: number,
    force = false,
    listed?: number,
  ) => {
    const p = meter.sample(account, phase, done, total, force, listed);
    if (p) reporter.progress(p);
  };
  const checkAborted = () => {
    if (signal?.aborted) throw signal.reason ?? new SyncError("The sync was stopped", true);
  };

  /** Calls the API, retrying transient failures; `GONE` for 404/422 when `goneOk`. */
  async function call<T>(
    what: string,
    fn: () => Promise<T>,
    goneOk: true,
  ): Promise<T | typeof GONE>;
  async function call<T>(what: string, fn: () => Promise<T>, goneOk?: false): Promise<T>;
  async function call<T>(what: string, fn: () => Promise<T>, goneOk = false) {
    for (let attempt = 0;; attempt++) {
      checkAborted();
      try {
        const value = await fn();
        return value;
      } catch (e) {
        if (signal?.aborted) throw signal.reason ?? e;
        if (goneOk && e instanceof ApiError && (e.status === 422 || e.status === 404)) {
          return GONE;
        }
        if (!isTransient(e)) {
          throw new SyncError(`${what} failed: ${describe(e)}`, false, { cause: e });
        }
        if (attempt >= retries) {
          throw new SyncError(
            `${what} failed ${attempt + 1} times, the last time with: ${describe(e)}`,
            true,
            { cause: e },
          );
        }
        const delayMs = Math.min(30_000, retryDelayMs * 2 ** attempt);
        options.onTransientError?.(what, describe(e), attempt + 1, delayMs);
        await sleep(delayMs);
      }
    }
  }

  // 1. Labels → mailboxes (every run).
  const before = store.sync.checkpoint();
  report("labels", before?.syncedCount ?? 0, before?.totalCount ?? 0, true);
  const labels = await call("Listing labels", () => api.labels());
  let checkpoint: SyncCheckpoint = {
    phase: before?.phase === PHASE_DONE ? PHASE_DONE : PHASE_MESSAGES,
    labelsDone: true,
    totalCount: before?.totalCount ?? null,
    syncedCount: before?.syncedCount ?? 0,
    lastSyncedRemoteId: before?.lastSyncedRemoteId ?? null,
  };
  store.transaction(() => {
    applyLabels(store, labels);
    store.sync.saveCheckpoint(checkpoint);
  });
  const result: InitialSyncResult = {
    status: "complete",
    serverCount: checkpoint.totalCount ?? 0,
    synced: checkpoint.syncedCount,
    built: 0,
    failed: 0,
    gone: 0,
    present: 0,
    downloadedBytes: 0,
    literalBytes: 0,
    seconds: 0,
    peakBudgetBytes: 0,
  };
  if (checkpoint.phase === PHASE_DONE) {
    result.status = "already-complete";
    result.seconds = (performance.now() - started) / 1000;
    report("done", checkpoint.syncedCount, checkpoint.syncedCount, true);
    return result;
  }

  // 2. Count (once).
  if (checkpoint.totalCount === null) {
    report("counting", checkpoint.syncedCount, 0, true);
    const total = await call("Counting messages", () => api.messageCount());
    checkpoint = { ...checkpoint, totalCount: total };
    store.transaction(() => store.sync.saveCheckpoint(checkpoint));
    result.serverCount = total;
  }

  // 3. Listing, newest first, down to the checkpoint; then oldest first.
  const listingTotal = checkpoint.totalCount ?? 0;
  report("listing", checkpoint.syncedCount, listingTotal, true, 0);
  const stopAt = checkpoint.lastSyncedRemoteId;
  const plan = await call("Listing messages", async () => {
    const items: PlanItem[] = [];
    const seen = new Set<string>();
    outer: for await (const page of api.metadataNewestFirst(pageSize)) {
      for (const m of page) {
        if (m.ID === stopAt) break outer;
        if (typeof m.ID !== "string" || seen.has(m.ID)) continue;
        seen.add(m.ID);
        items.push({ id: m.ID as RemoteMessageId, size: Number(m.Size) || 0, seq: 0 });
      }
      checkAborted();
      report("listing", checkpoint.syncedCount, listingTotal, false, items.length);
    }
    items.reverse();
    items.forEach((item, i) => item.seq = i);
    return items;
  });

  // 4. Pipeline.
  const baseDone = checkpoint.syncedCount;
  const total = baseDone + plan.length;
  let done = baseDone;
  report("messages", done, total, true);

  const queue: Slot[] = [];
  let producing = true;
  let fatal: unknown = undefined;
  let wake: () => void = () => {};
  let changed = new Promise<void>((r) => wake = r);
  const notify = () => {
    const w = wake;
    changed = new Promise<void>((r) => wake = r);
    w();
  };
  const inFlight = new Set<Promise<void>>();

  async function fetchAndBuild(item: PlanItem): Promise<Outcome> {
    const message = await call(
      "Downloading a message",
      () => throttled(throttle, item.seq, () => api.message(item.id)),
      true,
    );
    if (message === GONE) return { kind: "gone" };
    const attachments = new Map<string, Uint8Array>();
    let gone = false;
    let bytes = typeof message.Body === "string" ? message.Body.length : 0;
    await Promise.all((message.Attachments ?? []).map(async (a) => {
      const data = await call(
        "Downloading an attachment",
        () => throttled(throttle, item.seq, () => api.attachment(a.ID)),
        true,
      );
      if (data === GONE) gone = true;
      else {
        attachments.set(a.ID, data);
        bytes += data.length;
      }
    }));
    if (gone) return { kind: "gone" };
    result.downloadedBytes += bytes;
    const output = await builder.build(message, attachments, { compress: true });
    // Once compressed, only the compressed bytes are written: the literal is let go here rather
    // than held until its batch is written (long enough to reach V8's old generation).
    if (output.compressed) output.literal = NO_LITERAL;
    return { kind: "built", metadata: metadataOf(message), output };
  }

  const producer = (async () => {
    try {
      for (const item of plan) {
        if (fatal !== undefined || signal?.aborted) break;
        const known = store.messages.byRemoteId(item.id);
        if (known !== undefined && await cache.has(known)) {
          queue.push({ item, reserved: 0, settled: true, outcome: { kind: "present" } });
          notify();
          continue;
        }
        while (queue.length >= maxInFlight && fatal === undefined && !signal?.aborted) {
          await changed;
        }
        if (fatal !== undefined || signal?.aborted) break;
        const reserved = estimate(item.size);
        await budget.acquire(reserved);
        if (fatal !== undefined || signal?.aborted) {
          budget.release(reserved);
          break;
        }
        const slot: Slot = { item, reserved, settled: false };
        const work = fetchAndBuild(item).then(
          (outcome) => {
            slot.outcome = outcome;
          },
          (error) => {
            slot.error = error;
            fatal ??= error;
          },
        ).finally(() => {
          slot.settled = true;
          inFlight.delete(work);
          notify();
        });
        inFlight.add(work);
        queue.push(slot);
        notify();
      }
    } catch (e) {
      fatal ??= e;
    } finally {
      producing = false;
      notify();
    }
  })();

  // Batches whose literals are being written, oldest first. Cache writes of batch n overlap the
  // downloads, builds and transactions of later batches; the checkpoint only moves past a batch
  // once its writes, and those of every earlier batch, are done.
  interface Writing {
    done: number;
    marker: RemoteMessageId | null;
    finished: boolean;
    promise: Promise<void>;
  }
  const writing: Writing[] = [];
  const maxWritingBatches = 4;
  let marker = checkpoint.lastSyncedRemoteId;
  let covered = { done: baseDone, marker: checkpoint.lastSyncedRemoteId };
  const advanceCovered = () => {
    while (writing.length > 0 && writing[0].finished) {
      const w = writing.shift()!;
      covered = { done: w.done, marker: w.marker };
    }
  };
  // The pipeline appends to the index and reads back little of it, so a small page cache does;
  // the store's own (64 MiB) would end up holding the whole index, 28 MB at 10,000 messages, for
  // nothing (docs/BENCHMARKS.md). Restored once everything in flight is done.
  const pageCacheKiB = store.pageCacheKiB;
  store.pageCacheKiB = Math.min(pageCacheKiB, SYNC_PAGE_CACHE_KIB);
  try {
    for (;;) {
      while (!(queue.length > 0 && queue[0].settled) && !(queue.length === 0 && !producing)) {
        await changed;
      }
      if (queue.length === 0 || queue[0].error !== undefined || signal?.aborted) break;
      if (fatal !== undefined) break;
      // Fill the batch: a transaction per handful of messages would spend more time committing
      // than applying. Wait a little for the messages behind the head, unless nothing more can
      // come.
      const fillStarted = performance.now();
      for (;;) {
        let ready = 0;
        while (ready < batchSize && ready < queue.length && queue[ready].settled) {
          if (queue[ready].error !== undefined) break;
          ready++;
        }
        const more = ready < batchSize && (producing || queue.length > ready) &&
          (ready === queue.length || queue[ready].error === undefined) && fatal === undefined;
        const left = batchWaitMs - (performance.now() - fillStarted);
        if (!more || left <= 0) break;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([changed, new Promise<void>((r) => timer = setTimeout(r, left))]);
        clearTimeout(timer);
      }
      const batch: Slot[] = [];
      while (batch.length < batchSize && queue.length > 0 && queue[0].settled) {
        if (queue[0].error !== undefined) break;
        batch.push(queue.shift()!);
      }
      advanceCovered();
      const writes: { id: InternalMessageId; output: BuildOutput }[] = [];
      store.transaction(() => {
        const built = batch.flatMap((slot) =>
          slot.outcome!.kind === "built" ? [slot.outcome as Outcome & { kind: "built" }] : []
        );
        const applied = applyMessages(
          store,
          built.map((o) => ({ metadata: o.metadata, built: o.output })),
        );
        applied.forEach((a, i) => writes.push({ id: a.id, output: built[i].output }));
        store.sync.saveCheckpoint({
          ...checkpoint,
          syncedCount: covered.done,
          lastSyncedRemoteId: covered.marker,
        });
      });
      let reserved = 0;
      for (const slot of batch) {
        const outcome = slot.outcome!;
        reserved += slot.reserved;
        if (outcome.kind === "gone") {
          result.gone++;
        } else {
          marker = slot.item.id;
          if (outcome.kind === "present") result.present++;
          else {
            result.built++;
            result.literalBytes += outcome.output.literalSize;
            if (outcome.output.status === "failed") result.failed++;
          }
        }
        slot.outcome = undefined;
      }
      done += batch.length;
      const entry: Writing = { done, marker, finished: false, promise: Promise.resolve() };
      entry.promise = Promise.all(
        writes.map((w) =>
          w.output.compressed
            ? cache.putCompressed(w.id, w.output.compressed)
            : cache.put(w.id, w.output.literal)
        ),
      )
        .then(() => {
          entry.finished = true;
        }, (e) => {
          fatal ??= new SyncError(`Writing the literal cache failed: ${describe(e)}`, false, {
            cause: e,
          });
        })
        .finally(() => {
          budget.release(reserved);
          notify();
        });
      writing.push(entry);
      while (writing.length > maxWritingBatches && fatal === undefined) {
        await writing[0].promise;
        advanceCovered();
      }
      notify();
      report("messages", done, total);
      options.heap?.check();
    }
  } catch (e) {
    fatal ??= e;
  } finally {
    // Let everything in flight finish before returning: nothing may write after we are gone.
    if (fatal === undefined && (signal?.aborted || queue.length > 0)) {
      fatal = signal?.reason ?? new SyncError("The sync was stopped", true);
    }
    budget.cancelWaiters();
    notify();
    await producer;
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    await Promise.allSettled(writing.map((w) => w.promise));
    for (const slot of queue) budget.release(slot.reserved);
    result.peakBudgetBytes = budget.peak;
    try {
      store.pageCacheKiB = pageCacheKiB;
    } catch {
      // The index was closed meanwhile; whatever stopped the sync is the error to report.
    }
    if (fatal !== undefined) {
      // A stop, not a crash: record what is fully done so the next run need not redo it.
      const saved = covered.done;
      advanceCovered();
      if (covered.done !== saved) {
        try {
          store.transaction(() =>
            store.sync.saveCheckpoint({
              ...checkpoint,
              syncedCount: covered.done,
              lastSyncedRemoteId: covered.marker,
            })
          );
        } catch {
          // The index is unwritable; the error that stopped the sync is the one to report.
        }
      }
    }
  }
  if (fatal !== undefined) throw fatal;
  checkAborted();

  checkpoint = {
    ...checkpoint,
    phase: PHASE_DONE,
    syncedCount: done,
    lastSyncedRemoteId: marker,
  };
  store.transaction(() => store.sync.saveCheckpoint(checkpoint));
  result.synced = done;
  result.seconds = (performance.now() - started) / 1000;
  report("done", done, total, true);
  return result;
}

/** Options of {@link syncUntilComplete}. */
export interface RetryOptions {
  /** Runs at most (default 5). */
  attempts?: number;
  /** Wait between runs in ms (default 20 000, Bridge's `SyncRetryCooldown`). */
  cooldownMs?: number;
  /** Told about each failed run before the cooldown. */
  onRetry?: (error: SyncError, attempt: number) => void;
}

/**
 * Runs {@link runInitialSync} until it completes, retrying after a cooldown when it stops with a
 * retryable {@link SyncError}. Other errors, and the last retryable one, are thrown.
 */
export async function syncUntilComplete(
  options: InitialSyncOptions,
  retry: RetryOptions = {},
): Promise<InitialSyncResult> {
  const attempts = Math.max(1, Math.floor(retry.attempts ?? 5));
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  for (let attempt = 1;; attempt++) {
    try {
      return await runInitialSync(options);
    } catch (e) {
      if (!(e instanceof SyncError) || !e.retryable || attempt >= attempts) throw e;
      if (options.signal?.aborted) throw e;
      retry.onRetry?.(e, attempt);
      await sleep(retry.cooldownMs ?? 20_000);
    }
  }
}

/** Runs a download under the throttle and tells it how it went (when it does not observe the
 * client itself). */
async function throttled<T>(
  throttle: DownloadThrottle,
  priority: number,
  fn: () => Promise<T>,
): Promise<T> {
  return await throttle.run(async () => {
    try {
      const value = await fn();
      throttle.outcome(true);
      return value;
    } catch (e) {
      throttle.outcome(!isTransient(e));
      throw e;
    }
  }, priority);
}

function isTransient(e: unknown): boolean {
  if (e instanceof SignedOutError || e instanceof HumanVerificationRequiredError) return false;
  if (e instanceof NetworkError) return true;
  if (e instanceof ApiError) return e.status === 429 || e.status >= 500;
  return false;
}

function describe(e: unknown): string {
  if (e instanceof ApiError) return e.describe();
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The metadata part of a full message (drops the body and attachment objects). */
function metadataOf(m: Message): MessageMetadata {
  return {
    ID: m.ID,
    AddressID: m.AddressID,
    LabelIDs: m.LabelIDs,
    ExternalID: m.ExternalID,
    Subject: m.Subject,
    Sender: m.Sender,
    ToList: m.ToList,
    CCList: m.CCList,
    BCCList: m.BCCList,
    ReplyTos: m.ReplyTos,
    Flags: m.Flags,
    Time: m.Time,
    Size: m.Size,
    Unread: m.Unread,
    IsReplied: m.IsReplied,
    IsRepliedAll: m.IsRepliedAll,
    IsForwarded: m.IsForwarded,
    NumAttachments: m.NumAttachments,
  };
}
