/**
 * The account connector: the {@link MailAccount} of one Proton account, over its index, the
 * update bus and the API (proton-api.md §5; ARCHITECTURE.md "Write path"). Each mutation calls
 * the API first; on success it changes the index in one store transaction, exactly as the event
 * loop will when it replays the same change from the event feed (so the replay finds nothing to
 * do), then publishes the updates with the caller's `origin`. On failure nothing local changes
 * and a {@link MailboxOperationError} says why.
 *
 * Mutations of one account run one at a time (in call order), so their API calls, commits and
 * published updates never interleave.
 *
 * **Address modes** (proton-api.md §5.9). Combined (the default): one connector shows the mail of
 * every address of the account; APPEND imports with the primary address unless `From` names
 * another of the account's addresses. Split (`addressMode: "split"`, or {@link
 * AccountConnector.forAddress} of a combined connector): the connector stands for one address.
 * Its `store` is `Store.forAddress` of the index (same mailboxes, same UIDs and UIDVALIDITY, only
 * that address's messages), so IMAP sessions over it see nothing else; STORE, COPY, MOVE and
 * EXPUNGE skip UIDs outside that view; APPEND imports and drafts with that address whatever
 * `From` says. The connectors of one account made with `forAddress` share one mutation queue and
 * one literal source. The official bridge keeps a separate gluon database per address instead;
 * one index with a filter needs no second sync and keeps UIDs when the mode changes.
 *
 * The parts: `store_flags.ts` (STORE), `copy_move.ts`, `expunge.ts`, `append.ts`,
 * `mailbox_admin.ts`, `recovery_mailbox.ts`, `literal_source.ts`, over `account_api.ts`.
 *
 * @example
 * ```ts ignore
 * const account = createAccountConnector({
 *   id: userId, primaryEmail, store, bus, client, keys: unlocked, literals: cache,
 * });
 * const { uid } = await account.append("session-1", inbox.id, { literal, flags: ["\\Seen"] });
 * ```
 *
 * @module
 */
import { SerialQueue } from "./serial_queue.ts";
import { InDoubtImports } from "./in_doubt_imports.ts";
import type { ReadBacks } from "./read_backs.ts";
import { type Address, AddressStatus, type ApiClient, type User } from "../api/mod.ts";
import type { KeyRing } from "../crypto/mod.ts";
import type {
  FlagChange,
  FlagUpdate,
  InternalMessageId,
  Mailbox,
  MailboxId,
  RemoteAddressId,
  Store,
  Uid,
  UidRange,
} from "../store/mod.ts";
import { buildFromApi } from "../sync/message_build.ts";
import type { MessageFetcher } from "../sync/event_apply.ts";
import { eventMessageFetcher } from "../sync/event_fetcher.ts";
import type { LiteralStore } from "../sync/event_loop.ts";
import type { MessageBuilder } from "../sync/initial_sync.ts";
import { syncApiFor } from "../sync/sync_api.ts";
import type {
  AppendRequest,
  AppendResult,
  CopyResult,
  MailAccount,
  StorageUsage,
} from "./account.ts";
import { type AccountApi, accountApiFor } from "./account_api.ts";
import { appendMessage, type SentLookup } from "./append.ts";
import {
  type ConnectorContext,
  isAllMail,
  isScheduled,
  requireMailbox,
} from "./connector_context.ts";
import { copyMessages, moveMessages } from "./copy_move.ts";
import { expungeDeletesPermanently, expungeMailbox } from "./expunge.ts";
import { flagsOfMailbox } from "./flag_mapping.ts";
import { LiteralSource } from "./literal_source.ts";
import { createMailbox, deleteMailbox, renameMailbox } from "./mailbox_admin.ts";
import { mailboxVisible } from "./mailbox_names.ts";
import { storeFlags } from "./store_flags.ts";
import type { UpdateBus } from "./update_bus.ts";

/** The unlocked keys the connector needs (`UnlockedAccount` of `src/api/unlock.ts` fits). */
export interface ConnectorKeys {
  /** The account's addresses, sorted by `Order` (first = primary). */
  addresses: Address[];
  /** Address ID → its unlocked keys. */
  addressKeys: ReadonlyMap<string, KeyRing>;
  /**
   * The user as the API describes it, for its storage figures (`UsedSpace`, `MaxSpace`), which
   * the account runtime keeps current from events; without it there is no quota to report.
   */
  user?: Pick<User, "UsedSpace" | "MaxSpace">;
  /**
   * True while the keys are not unlocked yet (an account served offline: unlocking needs the
   * API); the runtime fills them in place and clears it once they are.
   */
  locked?: boolean;
}

/** Options of {@link createAccountConnector}. */
export interface AccountConnectorOptions {
  /** The account's key on the update bus (the bridge user ID). */
  id: string;
  /** The primary address. */
  primaryEmail: string;
  store: Store;
  bus: UpdateBus;
  /** A logged-in API client; or give `api` (and `fetcher`) directly. */
  client?: ApiClient;
  /** The API port (default: `accountApiFor(client)`). */
  api?: AccountApi;
  /** The unlocked account. */
  keys: ConnectorKeys;
  /** The literal cache (`LiteralCache` fits). */
  literals: LiteralStore;
  /**
   * Builds downloaded messages (default: `buildFromApi` in process with the address keys; pass
   * the sync's `BuildPool` to share its workers).
   */
  builder?: MessageBuilder;
  /** Downloads and builds one message (default: over `client` with `builder`). */
  fetcher?: MessageFetcher;
  /**
   * The address APPEND imports and drafts with by default; default: the primary address. In
   * combined mode a `From` naming another of the account's addresses picks that one. Without
   * `addressMode`, giving another address than the primary turns that off (the older contract).
   */
  addressId?: string;
  /**
   * `split`: this connector stands for `addressId` alone (default: the primary address): IMAP
   * sees only that address's messages, and APPEND always uses it (see the module notes).
   * `combined`: every address's mail. Default: combined.
   */
  addressMode?: "combined" | "split";
  /** Whether All Mail is listed (default true). */
  showAllMail?: boolean;
  /** APPEND to Sent: the remote ID of a message the SMTP side just sent with these bytes. */
  sentLookup?: SentLookup;
  /** Log lines (never message contents); default `console.warn`. */
  log?: (message: string) => void;
  /**
   * The account's change queue, shared with the event loop's commits (`serial_queue.ts`);
   * default: a queue of this connector's own.
   */
  queue?: SerialQueue;
  /** The account's read-backs, shared with the event loop (`read_backs.ts`). */
  readBacks?: ReadBacks;
}

/**
 * Retry limits of the API calls a mail client waits on: one retry, after at most 10 s of
 * `Retry-After`. A server that asks for longer gets the command answered `NO [UNAVAILABLE]` (try
 * again later) instead of holding it, and every change queued behind it, for minutes.
 */
export const INTERACTIVE_LIMITS = { maxRetries: 1, maxRetryAfterMs: 10_000 } as const;

/** The builder used when none is given: in-process `buildFromApi` with the address keys. */
export function keyedBuilder(addressKeys: ReadonlyMap<string, KeyRing>): MessageBuilder {
  return {
    build: (message, attachments) =>
      buildFromApi(message, attachments, addressKeys.get(message.AddressID)),
  };
}

/** What the connectors of one account share (see {@link AccountConnector.forAddress}). */
interface Shared {
  queue: SerialQueue;
  inDoubt: InDoubtImports;
  literals: LiteralSource | undefined;
  showAllMail: boolean;
}

/** The account connector (see the module notes). */
export class AccountConnector implements MailAccount {
  readonly id: string;
  readonly primaryEmail: string;
  readonly addressId: string | undefined;
  readonly store: Store;
  readonly bus: UpdateBus;
  readonly #options: AccountConnectorOptions;
  #ctx: ConnectorContext;
  #literals: LiteralSource;
  #shared: Shared;
  #sentLookup: SentLookup | undefined;

  constructor(options: AccountConnectorOptions, shared?: Shared) {
    this.#options = options;
    this.id = options.id;
    this.primaryEmail = options.primaryEmail;
    this.bus = options.bus;
    this.#shared = shared ??
      {
        queue: options.queue ?? new SerialQueue(),
        inDoubt: new InDoubtImports(),
        literals: undefined,
        showAllMail: options.showAllMail ?? true,
      };
    this.#sentLookup = options.sentLookup;
    const api = options.api ??
      (options.client ? accountApiFor(options.client.withLimits(INTERACTIVE_LIMITS)) : undefined);
    if (!api) throw new TypeError("createAccountConnector needs `client` or `api`");
    const builder = options.builder ?? keyedBuilder(options.keys.addressKeys);
    const fetcher = options.fetcher ??
      (options.client ? eventMessageFetcher(syncApiFor(options.client), builder) : undefined);
    if (!fetcher) throw new TypeError("createAccountConnector needs `client` or `fetcher`");
    const addresses = options.keys.addresses;
    const primary = addresses[0]?.ID ?? "";
    const split = options.addressMode === "split";
    const addressId = options.addressId ?? primary;
    this.addressId = split ? addressId : undefined;
    this.store = split ? options.store.forAddress(addressId as RemoteAddressId) : options.store;
    this.#ctx = {
      id: options.id,
      store: options.store,
      bus: options.bus,
      api,
      literals: options.literals,
      fetcher,
      addresses,
      addressKeys: options.keys.addressKeys,
      get keysLocked() {
        return options.keys.locked === true;
      },
      // Read when needed: a connector made before the keys unlocked (an account served offline)
      // gets its addresses filled in place later, the primary among them.
      get addressId() {
        return options.addressId ?? addresses[0]?.ID ?? "";
      },
      combined: split
        ? false
        : options.addressMode === "combined" || options.addressId === undefined ||
          options.addressId === primary,
      log: options.log ?? ((m) => console.warn(m)),
      inDoubt: this.#shared.inDoubt,
      readBacks: options.readBacks,
    };
    this.#literals = this.#shared.literals ??= new LiteralSource(this.#ctx);
  }

  /**
   * Split mode: why this address's login may no longer be used (disabled or removed since; the
   * account's address list is updated in place when address events arrive). Combined mode:
   * always usable.
   */
  unavailable(): string | undefined {
    if (this.addressId === undefined) return undefined;
    const address = this.#ctx.addresses.find((a) => a.ID === this.addressId);
    if (!address) return "this address was removed from the account";
    if (address.Status !== AddressStatus.Enabled) return "this address was disabled";
    return undefined;
  }

  /**
   * The split-mode connector of one of the account's addresses (an API address ID): the same
   * account, index, bus and API, sharing this connector's mutation queue and literal source,
   * showing only that address's messages (see the module notes).
   */
  forAddress(addressId: string): AccountConnector {
    return new AccountConnector(
      { ...this.#options, addressMode: "split", addressId },
      this.#shared,
    );
  }

  /** Whether All Mail is listed (the `all-mail-visibility` setting may change at run time). */
  get showAllMail(): boolean {
    return this.#shared.showAllMail;
  }

  set showAllMail(value: boolean) {
    this.#shared.showAllMail = value;
  }

  visibleMailboxes(): Mailbox[] {
    return this.store.mailboxes.list().filter((m) => this.#visible(m));
  }

  mailboxByName(name: string): Mailbox | undefined {
    const mailbox = name.toUpperCase() === "INBOX"
      ? this.store.mailboxes.byName("INBOX")
      : this.store.mailboxes.byName(name);
    return mailbox && this.#visible(mailbox) ? mailbox : undefined;
  }

  mailboxFlags(mailbox: Mailbox): { flags: string[]; permanentFlags: string[] } {
    return flagsOfMailbox(isAllMail(mailbox));
  }

  literal(message: InternalMessageId): Promise<Uint8Array> {
    return this.#literals.literal(message);
  }

  storeFlags(
    origin: string,
    mailbox: MailboxId,
    uids: readonly Uid[],
    change: { mode: FlagChange["mode"]; flags: readonly string[]; unchangedSince?: bigint },
  ): Promise<{ updates: FlagUpdate[]; deletedChanged: Uid[]; modified?: Uid[] }> {
    return this.#queue.run(() =>
      storeFlags(this.#ctx, origin, mailbox, this.#inView(mailbox, uids), change)
    );
  }

  copy(
    origin: string,
    source: MailboxId,
    uids: readonly Uid[],
    destination: MailboxId,
  ): Promise<CopyResult> {
    return this.#queue.run(() =>
      copyMessages(this.#ctx, origin, source, this.#inView(source, uids), destination)
    );
  }

  move(
    origin: string,
    source: MailboxId,
    uids: readonly Uid[],
    destination: MailboxId,
  ): Promise<CopyResult> {
    return this.#queue.run(() =>
      moveMessages(this.#ctx, origin, source, this.#inView(source, uids), destination)
    );
  }

  expunge(origin: string, mailbox: MailboxId, uids?: readonly Uid[]): Promise<Uid[]> {
    return this.#queue.run(() => {
      // Split mode: only this address's \Deleted messages (the full store would take them all).
      const picked = this.addressId === undefined
        ? uids
        : uids === undefined
        ? this.store.membership.search(mailbox, { deleted: true })
        : this.#inView(mailbox, uids);
      return expungeMailbox(this.#ctx, origin, mailbox, picked);
    });
  }

  append(origin: string, mailbox: MailboxId, request: AppendRequest): Promise<AppendResult> {
    return this.#queue.run(() =>
      appendMessage(this.#ctx, origin, mailbox, request, { sentLookup: this.#sentLookup })
    );
  }

  createMailbox(origin: string, name: string): Promise<Mailbox> {
    return this.#queue.run(() => createMailbox(this.#ctx, origin, name));
  }

  renameMailbox(origin: string, mailbox: MailboxId, newName: string): Promise<void> {
    return this.#queue.run(() => renameMailbox(this.#ctx, origin, mailbox, newName));
  }

  deleteMailbox(origin: string, mailbox: MailboxId): Promise<void> {
    return this.#queue.run(() => deleteMailbox(this.#ctx, origin, mailbox));
  }

  storageUsage(): StorageUsage | undefined {
    const user = this.#options.keys.user;
    const used = Number(user?.UsedSpace);
    const limit = Number(user?.MaxSpace);
    if (!Number.isSafeInteger(used) || !Number.isSafeInteger(limit) || used < 0 || limit < 0) {
      return undefined;
    }
    return { usedBytes: used, limitBytes: limit };
  }

  expungeFreesStorage(mailbox: Mailbox): boolean {
    return expungeDeletesPermanently(mailbox.remoteId);
  }

  setSubscribed(mailbox: MailboxId, subscribed: boolean): void {
    requireMailbox(this.store, mailbox);
    this.store.mailboxes.update(mailbox, { subscribed });
  }

  get #queue(): SerialQueue {
    return this.#shared.queue;
  }

  /**
   * The UIDs of `uids` this connector's view holds, in the order given: all of them in combined
   * mode; in split mode those of this address's messages (another address's UID is not there).
   */
  #inView(mailbox: MailboxId, uids: readonly Uid[]): readonly Uid[] {
    if (this.addressId === undefined || uids.length === 0) return uids;
    const sorted = [...uids].sort((a, b) => a - b);
    const ranges: UidRange[] = [];
    for (const u of sorted) {
      const last = ranges[ranges.length - 1];
      if (last && u <= last.last + 1) last.last = Math.max(last.last, u) as Uid;
      else ranges.push({ first: u, last: u });
    }
    const own = new Set(this.store.membership.search(mailbox, { uids: ranges }));
    return uids.filter((u) => own.has(u));
  }

  #visible(mailbox: Mailbox): boolean {
    return mailboxVisible(mailbox.remoteId, {
      showAllMail: this.#shared.showAllMail,
      messageCount: isScheduled(mailbox) ? this.store.membership.count(mailbox.id) : 1,
    });
  }
}

/** Creates the {@link MailAccount} of one account (see {@link AccountConnectorOptions}). */
export function createAccountConnector(options: AccountConnectorOptions): AccountConnector {
  return new AccountConnector(options);
}
