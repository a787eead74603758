/**
 * What the send pipeline needs of an account: its API client, its unlocked keys, its addresses,
 * its mail settings and the address mode. The SMTP server's authenticator returns one of these
 * (it extends {@link AccountRef}), so every submission carries the account it is sent from.
 *
 * {@link sendingAccount} builds one from a logged-in client and its {@link UnlockedAccount}. By
 * default addresses and mail settings are asked from the API on every send (the official bridge
 * fetches mail settings per send too), so a disabled address or a changed setting takes effect at
 * once; a caller that keeps them current through the event loop can pass its own getters.
 *
 * The object is a plain record of values and closures: `{ ...account, username }` makes a copy
 * for another login name of the same account.
 *
 * @module
 */
import type { ApiClient } from "../api/transport.ts";
import type { UnlockedAccount } from "../api/unlock.ts";
import { getAddresses } from "../api/addresses.ts";
import { getMailSettings } from "../api/mail_settings.ts";
import type { Address, MailSettings } from "../api/types.ts";
import { unlockAddressKeys } from "../crypto/address_keys.ts";
import type { KeyRing } from "../crypto/key_ring.ts";
import type { AccountRef } from "./authenticator.ts";

/** Combined: any address of the account may send; split: only the address logged in with. */
export type AddressMode = "combined" | "split";

/** An account the send pipeline can send from. */
export interface SendingAccount extends AccountRef {
  /** The bridge's user ID (the API user ID). */
  readonly id: string;
  /** The address the SMTP client logged in with. */
  readonly username: string;
  /** A logged-in API client of the account. */
  readonly client: ApiClient;
  /** The account's unlocked user and address keys. */
  readonly unlocked: UnlockedAccount;
  /** Address mode of the account (split: the sender must be {@link username}). */
  readonly addressMode: AddressMode;
  /** The account's addresses as of now, sorted by `Order` (first = primary). */
  addresses(): Promise<readonly Address[]>;
  /** The account's mail settings as of now (`Sign`, `PGPScheme`, `AttachPublicKey`…). */
  mailSettings(): Promise<MailSettings>;
  /**
   * The unlocked keys of one address, first key first. An address added after login has its
   * keys unlocked on first use.
   * @throws {CryptoError} when they cannot be unlocked.
   */
  addressKeys(address: Address): Promise<KeyRing>;
  /**
   * A predicate "the local index holds this message as of now" (a lost draft reply is never
   * taken for a message known before the request; one indexed since may be it).
   */
  knownAsOfNow(): (messageID: string) => boolean;
}

/** Options of {@link sendingAccount}. */
export interface SendingAccountOptions {
  /** The login name (an address of the account). */
  username: string;
  /** The account ID; default the API user ID. */
  id?: string;
  /** Default `combined`. */
  addressMode?: AddressMode;
  /** Current addresses; default `GET /core/v4/addresses` on every call. */
  addresses?: () => Promise<readonly Address[]>;
  /** Current mail settings; default `GET /mail/v4/settings` on every call. */
  mailSettings?: () => Promise<MailSettings>;
  /** See {@link SendingAccount.knownAsOfNow}; default: nothing known. */
  knownAsOfNow?: () => (messageID: string) => boolean;
}

/**
 * A {@link SendingAccount} for a logged-in client and its unlocked keys.
 *
 * @example
 * ```ts ignore
 * const unlocked = await unlock(client, mailboxPassword);
 * const account = sendingAccount(client, unlocked, { username: "alice@proton.test" });
 * ```
 */
export function sendingAccount(
  client: ApiClient,
  unlocked: UnlockedAccount,
  options: SendingAccountOptions,
): SendingAccount {
  const extra = new Map<string, Promise<KeyRing>>();
  return {
    id: options.id ?? unlocked.user.ID,
    username: options.username,
    client,
    unlocked,
    addressMode: options.addressMode ?? "combined",
    addresses: options.addresses ?? (() => getAddresses(client)),
    mailSettings: options.mailSettings ?? (() => getMailSettings(client)),
    knownAsOfNow: options.knownAsOfNow ?? (() => () => false),
    addressKeys(address: Address): Promise<KeyRing> {
      const have = unlocked.addressKeys.get(address.ID);
      if (have) return Promise.resolve(have);
      let pending = extra.get(address.ID);
      if (!pending) {
        pending = unlockAddressKeys(address.Keys ?? [], unlocked.userKeys, unlocked.keyPassword);
        pending.catch(() => extra.delete(address.ID));
        extra.set(address.ID, pending);
      }
      return pending;
    },
  };
}
