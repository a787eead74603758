/**
 * Typed updates: what changed in an account's index, told to everyone who keeps a view of it
 * (IMAP sessions, IDLE). After gluon `imap/update_*.go`, with one difference: here the producer
 * (event loop or connector) has **already committed** the change to the store when it publishes;
 * an update tells sessions what to report, it does not ask anyone to write.
 *
 * Each update carries an acknowledgement (gluon's `updateWaiter`): `applied` settles once the
 * receiver called `ack()` (it has taken the update into its state), or rejects when it called
 * `ack(error)`. The event loop waits for it before taking the next event.
 *
 * How a session uses them, per kind (every one may concern a mailbox it has not selected):
 * - `MessagesCreated`: new UIDs in a mailbox (`* n EXISTS`).
 * - `MessagesExpunged`: UIDs gone from a mailbox (`* n EXPUNGE` at a safe point).
 * - `MembershipChanged`: one message's move or label change; `added` are new UIDs (as
 *   MessagesCreated), `removed` are gone (as MessagesExpunged). A change is published either as
 *   MembershipChanged or as MessagesCreated/MessagesExpunged, never both.
 * - `FlagsChanged`: new flags of messages, wherever they are (`* n FETCH (FLAGS …)`).
 * - `MailboxCreated` / `MailboxRenamed` / `MailboxDeleted`: the mailbox list changed; a session
 *   with a deleted mailbox selected must end the selection (`BYE` or `NO` per RFC 3501 §6.3.4).
 * - `UidValidityBumped`: the index was rebuilt; a session with one of these mailboxes selected
 *   must drop it (clients resync from scratch).
 *
 * @module
 */
import type {
  InternalMessageId,
  MailboxId,
  RemoteLabelId,
  RemoteMessageId,
  Uid,
} from "../store/mod.ts";

/** One message in one mailbox. */
export interface UidRef {
  mailbox: MailboxId;
  uid: Uid;
}

/** A mailbox was created. */
export interface MailboxCreated {
  readonly kind: "MailboxCreated";
  mailbox: MailboxId;
  name: string;
  remoteId: RemoteLabelId | null;
  attributes: string[];
}

/** A mailbox was renamed (children renamed along are separate updates). */
export interface MailboxRenamed {
  readonly kind: "MailboxRenamed";
  mailbox: MailboxId;
  oldName: string;
  newName: string;
}

/** A mailbox was deleted, with every UID in it. */
export interface MailboxDeleted {
  readonly kind: "MailboxDeleted";
  mailbox: MailboxId;
  name: string;
}

/** Messages were added to a mailbox under these UIDs (ascending). */
export interface MessagesCreated {
  readonly kind: "MessagesCreated";
  mailbox: MailboxId;
  uids: Uid[];
}

/** The flags of some messages changed; `memberships` says where each one is. */
export interface FlagsChanged {
  readonly kind: "FlagsChanged";
  changes: {
    messageId: InternalMessageId;
    /** Store `MessageFlag` bits. */
    flags: number;
    keywords: string[];
    modseq: number;
    memberships: UidRef[];
  }[];
}

/** One message changed mailboxes (move, label, unlabel): UIDs it got and UIDs it lost. */
export interface MembershipChanged {
  readonly kind: "MembershipChanged";
  messageId: InternalMessageId;
  remoteId: RemoteMessageId | null;
  added: UidRef[];
  removed: UidRef[];
}

/** UIDs were removed from a mailbox (ascending). */
export interface MessagesExpunged {
  readonly kind: "MessagesExpunged";
  mailbox: MailboxId;
  uids: Uid[];
}

/** The index was rebuilt: these mailboxes have a new UIDVALIDITY and no messages (yet). */
export interface UidValidityBumped {
  readonly kind: "UidValidityBumped";
  mailboxes: { mailbox: MailboxId; uidValidity: number }[];
}

/** What an update says, without its acknowledgement. */
export type UpdateData =
  | MailboxCreated
  | MailboxRenamed
  | MailboxDeleted
  | MessagesCreated
  | FlagsChanged
  | MembershipChanged
  | MessagesExpunged
  | UidValidityBumped;

/** The names of the update kinds. */
export type UpdateKind = UpdateData["kind"];

/** The acknowledgement every update carries. */
export interface Acknowledgement {
  /** Settles when the receiver called {@link Acknowledgement.ack}: resolves, or rejects with the
   * error it gave. Never an unhandled rejection. */
  readonly applied: Promise<void>;
  /** Marks the update applied (or failed, with `error`). Later calls do nothing. */
  ack(error?: unknown): void;
  /** Whether `ack` was called. */
  readonly acked: boolean;
  /** Who caused the change (e.g. a session ID), so it can skip what it already reported. */
  readonly origin?: string;
}

/** An update with its acknowledgement. */
export type Update<T extends UpdateData = UpdateData> = T & Acknowledgement;

/**
 * Gives update data an acknowledgement of its own. The data is copied (shallowly), so one data
 * value can be handed to several receivers, each acknowledging separately.
 *
 * @example
 * ```ts ignore
 * const u = withAck({ kind: "MessagesCreated", mailbox, uids: [uid] });
 * queueForSession(u);
 * await u.applied; // after the session called u.ack()
 * ```
 */
export function withAck<T extends UpdateData>(data: T, origin?: string): Update<T> {
  let resolve!: () => void;
  let reject!: (reason: unknown) => void;
  const applied = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Whoever awaits `applied` still sees the rejection; nobody awaiting it is not a crash.
  applied.catch(() => {});
  let acked = false;
  const { applied: _a, ack: _k, acked: _d, origin: _o, ...plain } = data as
    & T
    & Partial<
      Acknowledgement
    >;
  return {
    ...(plain as unknown as T),
    applied,
    origin,
    get acked() {
      return acked;
    },
    ack(error?: unknown) {
      if (acked) return;
      acked = true;
      if (error === undefined) resolve();
      else reject(error);
    },
  };
}

/** The update data without its acknowledgement (for logs and comparisons in tests). */
export function updateData<T extends UpdateData>(update: T | Update<T>): T {
  const { applied: _a, ack: _k, acked: _d, origin: _o, ...plain } = update as
    & T
    & Partial<
      Acknowledgement
    >;
  return plain as unknown as T;
}

/** A one-line description for logs: kind and counts, never names of messages or contents. */
export function describeUpdate(update: UpdateData): string {
  switch (update.kind) {
    case "MailboxCreated":
    case "MailboxDeleted":
      return `${update.kind} mailbox=${update.mailbox}`;
    case "MailboxRenamed":
      return `${update.kind} mailbox=${update.mailbox}`;
    case "MessagesCreated":
    case "MessagesExpunged":
      return `${update.kind} mailbox=${update.mailbox} uids=${update.uids.length}`;
    case "FlagsChanged":
      return `${update.kind} messages=${update.changes.length}`;
    case "MembershipChanged":
      return `${update.kind} message=${update.messageId} +${update.added.length} -${update.removed.length}`;
    case "UidValidityBumped":
      return `${update.kind} mailboxes=${update.mailboxes.length}`;
  }
}
