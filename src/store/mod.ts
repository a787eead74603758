/**
 * The per-account local index (SQLite) and the encrypted literal cache. All SQL of the bridge lives
 * in this folder; callers see plain values and branded IDs, and IMAP or Proton notions only as the
 * strings and numbers they computed.
 *
 * - {@link Store} (`Store.open(path)`): `mailboxes` (names, kinds, UIDVALIDITY), `messages`
 *   (precomputed FETCH data, flags, `upsertFromSync`), `membership` (UIDs, `selectInfo`,
 *   `fetchRows`, `search`, `setMessageLabels`, `changedSince`), `sync` (checkpoint and event
 *   cursor, written inside `store.transaction`). `store.forAddress(id)` is one address's view of
 *   it (split address mode: the read side of `membership` shows only that address's messages).
 * - {@link LiteralCache} (`await LiteralCache.open(dir, secret)`): the built literals, compressed and
 *   encrypted, appended to segment files; a miss is `undefined`, never an error.
 *
 * @module
 */
export type {
  InternalMessageId,
  MailboxId,
  RemoteAddressId,
  RemoteEventId,
  RemoteLabelId,
  RemoteMessageId,
  Uid,
} from "./ids.ts";
export { PAGE_CACHE_KIB, Store, type StoreOptions } from "./store.ts";
export { UID_VALIDITY_EPOCH_S } from "./counters.ts";
export {
  type Mailbox,
  Mailboxes,
  MailboxExistsError,
  type MailboxKind,
  MailboxNotFoundError,
  type MailboxPatch,
  type MailboxRenamed,
  type NewMailbox,
} from "./mailboxes.ts";
export {
  ALL_MESSAGE_FLAGS,
  type FlagChange,
  type FlagUpdate,
  type MessageContent,
  MessageFlag,
  MessageNotFoundError,
  Messages,
  type NewMessage,
  type StoredMessage,
  SYNCED_KEEP,
  type SyncedMessage,
  type UpsertResult,
} from "./messages.ts";
export {
  type FetchRow,
  type FlagRow,
  type LabelChange,
  type MailboxStatus,
  MAX_UID,
  Membership,
  type MembershipRef,
  normalizeRanges,
  type SearchCriteria,
  type SelectInfo,
  type UidRange,
} from "./membership.ts";
export { AddressMembership } from "./address_membership.ts";
export { isIndexedSearch } from "./search_fields.ts";
export { type SortField, type SortStep } from "./sort_fields.ts";
export { BulkInsert, type BulkInserted, type BulkMessage } from "./bulk_insert.ts";
export { type SyncCheckpoint, type SyncFailure, SyncState } from "./sync_state.ts";
export { IndexTooNewError, LATEST_VERSION, type Migration, MIGRATIONS } from "./migrations.ts";
export {
  compressLiteral,
  decompressLiteral,
  LiteralCache,
  type LiteralCacheOptions,
} from "./literal_cache.ts";
export type { LiteralPackStats } from "./literal_pack.ts";
export { isStorageFailure } from "./storage_failure.ts";
