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
import type { Address, ApiClient } from "../api/mod.ts";
import type { KeyRing } from "../crypto/mod.ts";
import type {
  FlagChange,
  FlagUpdate,
  InternalMessageId,
  Mailbox,
  MailboxId,
  Store,
  Uid,
} from "../store/mod.ts";
import { buildFromApi } from "../sync/message_build.ts";
import type { MessageFetcher } from "../sync/event_apply.ts";
import { eventMessageFetcher } from "../sync/event_fetcher.ts";
import type { LiteralStore } from "../sync/event_loop.ts";
import type { MessageBuilder } from "../sync/initial_sync.ts";
import { syncApiFor } from "../sync/sync_api.ts";
import type { AppendRequest, AppendResult, CopyResult, MailAccount } from "./account.ts";
import { type AccountApi, accountApiFor } from "./account_api.ts";
import { appendMessage, type SentLookup } from "./append.ts";
import {
  type ConnectorContext,
  isAllMail,
  isScheduled,
  requireMailbox,
} from "./connector_context.ts";
import { copyMessages, moveMessages } from "./copy_move.ts";
import { expungeMailbox } from "./expunge.ts";
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
   * The address this connector stands for (split mode); default: the primary address, with
   * combined-mode rules (a `From` naming another of the account's addresses picks that one).
   */
  addressId?: string;
  /** Whether All Mail is listed (default true). */
  showAllMail?: boolean;
  /** APPEND to Sent: the remote ID of a message the SMTP side just sent with these bytes. */
  sentLookup?: SentLookup;
  /** Log lines (never message contents); default `console.warn`. */
  log?: (message: string) => void;
}

/** The builder used when none is given: in-process `buildFromApi` with the address keys. */
export function keyedBuilder(addressKeys: ReadonlyMap<string, KeyRing>): MessageBuilder {
  return {
    build: (message, attachments) =>
      buildFromApi(message, attachments, addressKeys.get(message.AddressID)),
  };
}

/** A queue that runs one task at a time, in order; a failed task does not stop the next. */
class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(task, task);
    this.#tail = next.catch(() => {});
    return next;
  }
}

/** The account connector (see the module notes). */
export class AccountConnector implements MailAccount {
  readonly id: string;
  readonly primaryEmail: string;
  readonly store: Store;
  readonly bus: UpdateBus;
  #ctx: ConnectorContext;
  #literals: LiteralSource;
  #queue = new SerialQueue();
  #showAllMail: boolean;
  #sentLookup: SentLookup | undefined;

  constructor(options: AccountConnectorOptions) {
    this.id = options.id;
    this.primaryEmail = options.primaryEmail;
    this.store = options.store;
    this.bus = options.bus;
    this.#showAllMail = options.showAllMail ?? true;
    this.#sentLookup = options.sentLookup;
    const api = options.api ?? (options.client ? accountApiFor(options.client) : undefined);
    if (!api) throw new TypeError("createAccountConnector needs `client` or `api`");
    const builder = options.builder ?? keyedBuilder(options.keys.addressKeys);
    const fetcher = options.fetcher ??
      (options.client ? eventMessageFetcher(syncApiFor(options.client), builder) : undefined);
    if (!fetcher) throw new TypeError("createAccountConnector needs `client` or `fetcher`");
    const addresses = options.keys.addresses;
    const primary = addresses[0]?.ID ?? "";
    this.#ctx = {
      id: options.id,
      store: options.store,
      bus: options.bus,
      api,
      literals: options.literals,
      fetcher,
      addresses,
      addressKeys: options.keys.addressKeys,
      addressId: options.addressId ?? primary,
      combined: options.addressId === undefined || options.addressId === primary,
      log: options.log ?? ((m) => console.warn(m)),
    };
    this.#literals = new LiteralSource(this.#ctx);
  }

  /** Whether All Mail is listed (the `all-mail-visibility` setting may change at run time). */
  get showAllMail(): boolean {
    return this.#showAllMail;
  }

  set showAllMail(value: boolean) {
    this.#showAllMail = value;
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
    change: { mode: FlagChange["mode"]; flags: readonly string[] },
  ): Promise<{ updates: FlagUpdate[]; deletedChanged: Uid[] }> {
    return this.#queue.run(() => storeFlags(this.#ctx, origin, mailbox, uids, change));
  }

  copy(
    origin: string,
    source: MailboxId,
    uids: readonly Uid[],
    destination: MailboxId,
  ): Promise<CopyResult> {
    return this.#queue.run(() => copyMessages(this.#ctx, origin, source, uids, destination));
  }

  move(
    origin: string,
    source: MailboxId,
    uids: readonly Uid[],
    destination: MailboxId,
  ): Promise<CopyResult> {
    return this.#queue.run(() => moveMessages(this.#ctx, origin, source, uids, destination));
  }

  expunge(origin: string, mailbox: MailboxId, uids?: readonly Uid[]): Promise<Uid[]> {
    return this.#queue.run(() => expungeMailbox(this.#ctx, origin, mailbox, uids));
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

  setSubscribed(mailbox: MailboxId, subscribed: boolean): void {
    requireMailbox(this.store, mailbox);
    this.store.mailboxes.update(mailbox, { subscribed });
  }

  #visible(mailbox: Mailbox): boolean {
    return mailboxVisible(mailbox.remoteId, {
      showAllMail: this.#showAllMail,
      messageCount: isScheduled(mailbox) ? this.store.membership.count(mailbox.id) : 1,
    });
  }
}

/** Creates the {@link MailAccount} of one account (see {@link AccountConnectorOptions}). */
export function createAccountConnector(options: AccountConnectorOptions): AccountConnector {
  return new AccountConnector(options);
}
