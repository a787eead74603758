/**
 * What the IMAP server asks of one account: the seam between IMAP state (`src/imap`) and the
 * account (API + index). IMAP sessions read the index directly (`store`, read side only) and go
 * through a {@link MailAccount} for everything that writes or needs the network: the literal of a
 * message (from the encrypted cache, rebuilt from the API on a miss), flag changes, COPY, MOVE,
 * EXPUNGE, APPEND and mailbox management.
 *
 * Every mutation follows one rule (ARCHITECTURE.md "Write path"): the remote call first; when it
 * succeeds, the local index change in one store transaction; then the typed updates on the
 * {@link UpdateBus} under the account's key, with `origin` set to the calling session, so that
 * session can skip what it reports itself and every other session hears of it at once. When the
 * remote call fails, nothing local changes and the method throws a {@link MailboxOperationError}
 * with a message fit for an IMAP `NO`.
 *
 * Names here are IMAP mailbox names as stored (decoded, `/` delimiter); the IMAP layer does modified
 * UTF-7 on the wire.
 *
 * @module
 */
import type {
  FlagChange,
  FlagUpdate,
  InternalMessageId,
  Mailbox,
  MailboxId,
  Store,
  Uid,
} from "../store/mod.ts";
import type { UpdateBus } from "./update_bus.ts";

/** Why a mailbox operation was refused; `code` becomes the IMAP response code. */
export type MailboxErrorCode =
  | "NONEXISTENT"
  | "ALREADYEXISTS"
  | "CANNOT"
  | "HASCHILDREN"
  | "NOPERM"
  | "LIMIT"
  | "TRYCREATE"
  | "UNAVAILABLE"
  | "SERVERBUG"
  | "OVERQUOTA"
  | "EXPUNGEISSUED";

/** A refused or failed mutation: `NO [code] message` to the client; the session keeps serving. */
export class MailboxOperationError extends Error {
  /** RFC 5530 response code. */
  readonly code: MailboxErrorCode;
  constructor(code: MailboxErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MailboxOperationError";
    this.code = code;
  }
}

/** The result of COPY or MOVE (UIDPLUS `COPYUID`): pairs in source UID order. */
export interface CopyResult {
  uidValidity: number;
  /** Source UIDs that were copied, ascending. */
  sourceUids: Uid[];
  /** The destination UID of each, same order. */
  destUids: Uid[];
  /** For MOVE: source UIDs now gone from the source mailbox (already committed and published). */
  expunged: Uid[];
}

/** The result of APPEND (UIDPLUS `APPENDUID`). */
export interface AppendResult {
  uidValidity: number;
  uid: Uid;
  /** The mailbox the message ended up in (the recovery mailbox when the API refused it). */
  mailbox: MailboxId;
  /** Set when the message went to the recovery mailbox instead: the reason, for the client. */
  recovered?: string;
  /**
   * Set when the message is stored on the server but is not in the index yet (it could not be
   * downloaded or indexed now; the event loop takes it later): why. `uid` and `uidValidity` are 0.
   * The APPEND succeeded: a client told otherwise would store it again.
   */
  pending?: string;
  /** Set when the server keeps the stored message in no mailbox this bridge shows. */
  nowhere?: boolean;
}

/** What APPEND hands over. */
export interface AppendRequest {
  /** The message exactly as the client sent it. */
  literal: Uint8Array;
  /** System flags and keywords as the client sent them (`\Seen`, `$Forwarded`, …). */
  flags: string[];
  /** INTERNALDATE as Unix seconds; now when the client gave none. */
  internalDate?: number;
}

/** The account's mail storage, in octets (RFC 9208 `STORAGE`, shown in units of 1024). */
export interface StorageUsage {
  /** What the account's messages take (the API's `UsedSpace`). */
  usedBytes: number;
  /** What the account's plan allows (the API's `MaxSpace`). */
  limitBytes: number;
}

/** One account as IMAP sessions see it. */
export interface MailAccount {
  /** The account's key on the update bus (the bridge user ID). */
  readonly id: string;
  /** The primary address (for greetings, logs and `ID`). */
  readonly primaryEmail: string;
  /**
   * Split address mode: the one address (API address ID) whose mail this view shows; `undefined`
   * in combined mode, where every address's mail is shown.
   */
  readonly addressId?: string;
  /**
   * The account's index as this login sees it; sessions only read from it. In split address mode
   * it is `Store.forAddress` of the index: the same mailboxes, UIDs and UIDVALIDITY, but only the
   * messages of {@link MailAccount.addressId} (SELECT, STATUS, SEARCH, FETCH and the snapshot all
   * read through it, so a UID of another address is simply not there).
   */
  readonly store: Store;
  /** Where this account's updates are published. */
  readonly bus: UpdateBus;
  /**
   * Why this login may no longer be used, or `undefined` while it may: in split address mode,
   * its address was disabled or removed since the login (the session ends with `* BYE` and the
   * reason before its next command). Optional: accounts without the notion are always usable.
   */
  unavailable?(): string | undefined;

  /**
   * The mailboxes a client should see (LIST): hidden ones (All Mail when configured off,
   * Scheduled while empty) left out; placeholders (`Folders`, `Labels`) included.
   */
  visibleMailboxes(): Mailbox[];

  /** The mailbox named `name` (INBOX case-insensitively), if it exists and is visible. */
  mailboxByName(name: string): Mailbox | undefined;

  /** FLAGS and PERMANENTFLAGS of a mailbox (proton-api.md §5.3). */
  mailboxFlags(mailbox: Mailbox): { flags: string[]; permanentFlags: string[] };

  /**
   * The RFC 822 bytes of a message, identical every time it is asked (ARCHITECTURE invariant 3):
   * from the encrypted literal cache, or downloaded and rebuilt (and cached) on a miss.
   * @throws {MailboxOperationError} `UNAVAILABLE` when it can be neither read nor rebuilt now.
   */
  literal(message: InternalMessageId): Promise<Uint8Array>;

  /**
   * STORE: applies a flag change to UIDs of a mailbox. `\Seen`, `\Flagged` and `$Forwarded` /
   * `Forwarded` reach the API first; `\Answered`, `\Draft` and keywords are local; `\Deleted` is per
   * mailbox. Returns the messages whose flags changed (message flags) and the UIDs whose
   * `\Deleted` changed, both already published with `origin`.
   *
   * `unchangedSince` (CONDSTORE, RFC 7162 §3.1.3): only UIDs whose mod-sequence is at most that
   * are changed, checked when the change runs (after mutations queued before it); the others are
   * returned in `modified`. An account that leaves `modified` out relies on the caller's check.
   */
  storeFlags(
    origin: string,
    mailbox: MailboxId,
    uids: readonly Uid[],
    change: { mode: FlagChange["mode"]; flags: readonly string[]; unchangedSince?: bigint },
  ): Promise<{ updates: FlagUpdate[]; deletedChanged: Uid[]; modified?: Uid[] }>;

  /** COPY (proton-api.md §5.4): into a label adds it, into a folder moves it on the server. */
  copy(
    origin: string,
    source: MailboxId,
    uids: readonly Uid[],
    destination: MailboxId,
  ): Promise<CopyResult>;

  /** MOVE (proton-api.md §5.4). */
  move(
    origin: string,
    source: MailboxId,
    uids: readonly Uid[],
    destination: MailboxId,
  ): Promise<CopyResult>;

  /**
   * EXPUNGE / CLOSE / UID EXPUNGE (proton-api.md §5.5): removes the `\Deleted` UIDs (only those in
   * `uids` when given) from the mailbox; in Trash and Drafts deletes permanently what is left
   * nowhere else. Returns the expunged UIDs, ascending (already committed and published).
   */
  expunge(origin: string, mailbox: MailboxId, uids?: readonly Uid[]): Promise<Uid[]>;

  /** APPEND (proton-api.md §5.6). Never loses the message: refused imports go to recovery. */
  append(origin: string, mailbox: MailboxId, request: AppendRequest): Promise<AppendResult>;

  /** CREATE under `Folders/` or `Labels/` (API first). */
  createMailbox(origin: string, name: string): Promise<Mailbox>;

  /** RENAME of a user folder or label (API first); children follow. */
  renameMailbox(origin: string, mailbox: MailboxId, newName: string): Promise<void>;

  /** DELETE of a user folder or label (API first). */
  deleteMailbox(origin: string, mailbox: MailboxId): Promise<void>;

  /**
   * The storage the account's plan allows and what its mail uses (GETQUOTA, GETQUOTAROOT), as
   * the API last reported it (at login, then in events); `undefined` when not known. Every
   * address of the account shares it. Optional: accounts without it report no quota root.
   */
  storageUsage?(): StorageUsage | undefined;

  /**
   * Whether EXPUNGE in `mailbox` deletes messages for good, freeing storage (Trash and Drafts,
   * proton-api.md §5.5); elsewhere it only takes a folder or label off. STATUS DELETED-STORAGE
   * is 0 where it does not. Optional: without it, every mailbox is taken to.
   */
  expungeFreesStorage?(mailbox: Mailbox): boolean;

  /** SUBSCRIBE / UNSUBSCRIBE (local). */
  setSubscribed(mailbox: MailboxId, subscribed: boolean): void;

  /**
   * Split address mode: the view of one of the account's addresses (an API address ID), with
   * {@link MailAccount.addressId} set to it. IMAP sessions never call this; the login check
   * does, to hand a login of that address its view.
   */
  forAddress?(addressId: string): MailAccount;
}
