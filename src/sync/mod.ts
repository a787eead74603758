/**
 * `src/sync`: getting the server's mail into the local index and keeping it there.
 *
 * - First sync: {@link runInitialSync} / {@link syncUntilComplete} (labels → mailboxes, count,
 *   listing, download → decrypt + build on a {@link BuildPool} → apply in batches with a
 *   checkpoint; resumable after a kill, UIDs ascending oldest → newest and identical however often
 *   it was interrupted), over a {@link SyncApi} ({@link syncApiFor} an `ApiClient`), with a
 *   {@link DownloadThrottle} and a {@link MemoryBudget}.
 * - Writing remote state into the store, for the sync and the event loop alike: `apply.ts`
 *   ({@link applyLabels}, {@link applyLabel}, {@link deleteLabel}, {@link applyMessage},
 *   {@link applyMessageMetadata}, {@link deleteMessage}).
 * - Building a message: {@link buildFromApi} (never throws; failures become placeholders).
 * - Progress: {@link Reporter}, {@link ProgressMeter}, {@link TtyProgressRenderer},
 *   {@link JsonLinesRenderer}.
 *
 * @example
 * ```ts
 * const throttle = new DownloadThrottle();
 * const client = new ApiClient({ baseURL, appVersion, onRequest: (e) => throttle.observe(e) });
 * // … login, unlock → account
 * const pool = await BuildPool.create({ keys: account.addressKeys });
 * try {
 *   await syncUntilComplete({
 *     api: syncApiFor(client), store, cache, builder: pool, throttle,
 *     account: "alice@example.test", reporter: new TtyProgressRenderer(),
 *   });
 * } finally {
 *   pool.close();
 * }
 * ```
 *
 * @module
 */
export {
  applyLabel,
  applyLabels,
  applyMessage,
  applyMessageMetadata,
  type BuiltContent,
  deleteLabel,
  deleteMessage,
  exposedLabelIds,
  type LabelApplied,
  type LabelsApplied,
  type MessageApplied,
  type MessageDeleted,
  messageFlags,
} from "./apply.ts";
export {
  type AttachmentData,
  buildFromApi,
  type BuildOptions,
  type BuildOutput,
  contentOf,
  failedBuild,
} from "./message_build.ts";
export { BuildPool, type BuildPoolOptions } from "./build_pool.ts";
export { DownloadThrottle, type ThrottleLimits } from "./download_throttle.ts";
export { MemoryBudget } from "./memory_budget.ts";
export { exposedGc, HeapGovernor, type HeapGovernorOptions } from "./heap_governor.ts";
export { type SyncApi, syncApiFor } from "./sync_api.ts";
export {
  type InitialSyncOptions,
  type InitialSyncResult,
  type MessageBuilder,
  type RetryOptions,
  runInitialSync,
  SyncError,
  syncUntilComplete,
} from "./initial_sync.ts";
export {
  currentProgress,
  formatDuration,
  JsonLinesRenderer,
  NULL_REPORTER,
  ProgressMeter,
  type Reporter,
  type SyncProgress,
  type TextSink,
  TtyProgressRenderer,
} from "./progress.ts";
export {
  apiEventSource,
  EventLoop,
  type EventLoopNotice,
  type EventLoopOptions,
  type EventLoopState,
  type EventLoopStatus,
  type EventSource,
  isTransientError,
} from "./event_loop.ts";
export { checkEvent, MalformedEventError, type MessageFetcher } from "./event_apply.ts";
export { eventMessageFetcher } from "./event_fetcher.ts";
