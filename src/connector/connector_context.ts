/**
 * What every operation of the account connector works with (the store, the bus, the API port,
 * the literal cache, the message fetcher, keys and addresses), and small shared helpers: the
 * `NO` errors, mailbox look-ups with the checks every command makes, and publishing.
 *
 * @module
 */
import type { InDoubtImports } from "./in_doubt_imports.ts";
import type { ReadBacks } from "./read_backs.ts";
import {
  type Address,
  ApiError,
  ErrorCode,
  NetworkError,
  SignedOutError,
  SystemLabel,
} from "../api/mod.ts";
import type { KeyRing } from "../crypto/mod.ts";
import type {
  InternalMessageId,
  Mailbox,
  MailboxId,
  RemoteMessageId,
  Store,
  Uid,
} from "../store/mod.ts";
import type { MessageFetcher } from "../sync/event_apply.ts";
import type { LiteralStore } from "../sync/event_loop.ts";
import type { AccountApi } from "./account_api.ts";
import { type MailboxErrorCode, MailboxOperationError } from "./account.ts";
import type { UpdateBus } from "./update_bus.ts";
import type { UpdateData } from "./updates.ts";

/** Everything an operation needs. */
export interface ConnectorContext {
  /** The account's key on the bus. */
  readonly id: string;
  readonly store: Store;
  readonly bus: UpdateBus;
  readonly api: AccountApi;
  readonly literals: LiteralStore;
  /** Downloads and builds one message (as the event loop does). */
  readonly fetcher: MessageFetcher;
  /** The account's addresses, primary first. */
  readonly addresses: readonly Address[];
  /** Address ID → unlocked keys. */
  readonly addressKeys: ReadonlyMap<string, KeyRing>;
  /**
   * Whether the account's keys are not unlocked yet (served offline until the API answers), as
   * opposed to keys that failed to unlock (those addresses are missing from `addressKeys`).
   */
  readonly keysLocked?: boolean;
  /** The address this connector imports and drafts with by default (combined mode: primary). */
  readonly addressId: string;
  /** Whether `From` may pick another of the account's addresses (combined mode). */
  readonly combined: boolean;
  readonly log: (message: string) => void;
  /** The account's imports whose outcome is not known (`in_doubt_imports.ts`). */
  readonly inDoubt?: InDoubtImports;
  /** When the index took messages as read back (`read_backs.ts`), shared with the event loop. */
  readonly readBacks?: ReadBacks;
}

/** A message of a mailbox picked by UID. */
export interface Picked {
  uid: Uid;
  messageId: InternalMessageId;
  remoteId: RemoteMessageId | null;
  flags: number;
  deleted: boolean;
}

/** Throws `NO [code] message`. */
export function refuse(code: MailboxErrorCode, message: string, cause?: unknown): never {
  throw new MailboxOperationError(code, message, cause === undefined ? undefined : { cause });
}

/**
 * A failed API call as a {@link MailboxOperationError}: `UNAVAILABLE` for network trouble,
 * 429/5xx and a signed-out session (retry later), `ALREADYEXISTS` when the server says the name
 * is taken, `CANNOT` when it refused for another reason.
 */
export function apiFailure(what: string, error: unknown): MailboxOperationError {
  if (error instanceof MailboxOperationError) return error;
  if (error instanceof SignedOutError) {
    return new MailboxOperationError(
      "UNAVAILABLE",
      `${what}: the account is signed out`,
      { cause: error },
    );
  }
  if (
    error instanceof NetworkError ||
    (error instanceof ApiError && (error.status === 429 || error.status >= 500))
  ) {
    return new MailboxOperationError(
      "UNAVAILABLE",
      `${what}: the server cannot be reached now, try again later`,
      { cause: error },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  // The API's "already exists" (a folder or label name taken by a sibling, compared without
  // case) is RFC 5530's ALREADYEXISTS, which tells the client to pick another name.
  const code = error instanceof ApiError && error.code === ErrorCode.AlreadyExists
    ? "ALREADYEXISTS"
    : "CANNOT";
  return new MailboxOperationError(code, `${what}: the server refused (${detail})`, {
    cause: error,
  });
}

/** Runs an API call; its failure becomes a {@link MailboxOperationError}. */
export async function callApi<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw apiFailure(what, error);
  }
}

/** The mailbox, or `NO [NONEXISTENT]`. */
export function requireMailbox(store: Store, id: MailboxId): Mailbox {
  const mailbox = store.mailboxes.get(id);
  if (!mailbox) refuse("NONEXISTENT", "No such mailbox");
  return mailbox;
}

/** A mailbox that can hold messages (not a `\Noselect` placeholder), or `NO`. */
export function requireSelectable(store: Store, id: MailboxId): Mailbox {
  const mailbox = requireMailbox(store, id);
  if (mailbox.kind === "placeholder" || mailbox.attributes.includes("\\Noselect")) {
    refuse("CANNOT", `Mailbox ${mailbox.name} cannot hold messages`);
  }
  return mailbox;
}

/** Whether the mailbox is All Mail. */
export function isAllMail(mailbox: Mailbox): boolean {
  return mailbox.remoteId === SystemLabel.AllMail;
}

/** Whether the mailbox is Scheduled. */
export function isScheduled(mailbox: Mailbox): boolean {
  return mailbox.remoteId === SystemLabel.AllScheduled;
}

/** The messages under `uids` in a mailbox (UIDs not there are skipped), ascending by UID. */
export function pick(store: Store, mailbox: MailboxId, uids: readonly Uid[]): Picked[] {
  const wanted = [...new Set(uids)].filter((u) => Number.isInteger(u) && u > 0)
    .sort((a, b) => a - b);
  if (wanted.length === 0) return [];
  const ranges: { first: Uid; last: Uid }[] = [];
  for (const uid of wanted) {
    const last = ranges.at(-1);
    if (last && uid === last.last + 1) last.last = uid;
    else ranges.push({ first: uid, last: uid });
  }
  return store.membership.fetchRows(mailbox, ranges).map((r) => ({
    uid: r.uid,
    messageId: r.messageId,
    remoteId: r.remoteId,
    flags: r.flags,
    deleted: r.deleted,
  }));
}

/** Refs grouped by mailbox, UIDs ascending, mailboxes in order of first appearance. */
export function byMailbox(
  refs: readonly { mailbox: MailboxId; uid: Uid }[],
): Map<MailboxId, Uid[]> {
  const map = new Map<MailboxId, Uid[]>();
  for (const r of refs) {
    const list = map.get(r.mailbox) ?? [];
    list.push(r.uid);
    map.set(r.mailbox, list);
  }
  for (const list of map.values()) list.sort((a, b) => a - b);
  return map;
}

/** `MessagesCreated` per mailbox (as the event loop reports new messages). */
export function createdUpdates(refs: readonly { mailbox: MailboxId; uid: Uid }[]): UpdateData[] {
  return [...byMailbox(refs)].map(([mailbox, uids]) => ({
    kind: "MessagesCreated" as const,
    mailbox,
    uids,
  }));
}

/** `MessagesExpunged` per mailbox (as the event loop reports removed messages). */
export function expungedUpdates(refs: readonly { mailbox: MailboxId; uid: Uid }[]): UpdateData[] {
  return [...byMailbox(refs)].map(([mailbox, uids]) => ({
    kind: "MessagesExpunged" as const,
    mailbox,
    uids,
  }));
}

/** Publishes updates (if any) under the account's key with `origin`. */
export function publish(ctx: ConnectorContext, updates: readonly UpdateData[], origin: string) {
  if (updates.length > 0) ctx.bus.publish(ctx.id, updates, origin);
}
