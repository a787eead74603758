/**
 * Unlocking the account's keys after login (proton-bridge `internal/bridge/user.go` `loginUser`;
 * proton-api.md §3.1): user → key salts → key password from the **primary** user key's salt →
 * user keys → each address' keys. The key password (31 characters, not the mailbox password) is
 * what the vault stores; {@link unlockWithKeyPassword} uses it on restart.
 *
 * @module
 */
import type { KeyRing } from "../crypto/key_ring.ts";
import { deriveKeyPassword, selectKeySalt } from "../crypto/key_password.ts";
import { unlockAddressKeys, unlockUserKeys } from "../crypto/address_keys.ts";
import { getAddresses } from "./addresses.ts";
import { getKeySalts } from "./keys.ts";
import { getUser } from "./users.ts";
import type { ApiClient } from "./transport.ts";
import type { Address, User } from "./types.ts";

/** The unlocked account. */
export interface UnlockedAccount {
  user: User;
  /** Addresses sorted by `Order` (first = primary). */
  addresses: Address[];
  /** The salted key password: what the vault stores (never the mailbox password). */
  keyPassword: string;
  userKeys: KeyRing;
  /** Address ID → its unlocked keys (addresses whose keys could not be unlocked are absent). */
  addressKeys: Map<string, KeyRing>;
  /** Address ID → why its keys could not be unlocked. */
  addressKeyErrors: Map<string, Error>;
}

/** The primary user key: `Primary: 1`, else the first key. */
function primaryKeyID(user: User): string {
  const keys = user.Keys ?? [];
  const primary = keys.find((k) => k.Primary === 1) ?? keys[0];
  if (!primary) throw new Error("the user has no keys");
  return primary.ID;
}

/**
 * Derives the key password from the mailbox password (the login password in one-password mode)
 * and unlocks every key.
 */
export async function unlock(client: ApiClient, mailboxPassword: string): Promise<UnlockedAccount> {
  const user = await getUser(client);
  const salts = await getKeySalts(client);
  const keyPassword = deriveKeyPassword(mailboxPassword, selectKeySalt(salts, primaryKeyID(user)));
  return await unlockAll(client, user, keyPassword);
}

/** Unlocks every key with a stored key password (restart path: no password, no salts). */
export async function unlockWithKeyPassword(
  client: ApiClient,
  keyPassword: string,
): Promise<UnlockedAccount> {
  return await unlockAll(client, await getUser(client), keyPassword);
}

async function unlockAll(
  client: ApiClient,
  user: User,
  keyPassword: string,
): Promise<UnlockedAccount> {
  const userKeys = await unlockUserKeys(user.Keys, keyPassword);
  const addresses = await getAddresses(client);
  const addressKeys = new Map<string, KeyRing>();
  const addressKeyErrors = new Map<string, Error>();
  for (const address of addresses) {
    try {
      addressKeys.set(address.ID, await unlockAddressKeys(address.Keys, userKeys, keyPassword));
    } catch (e) {
      addressKeyErrors.set(address.ID, e instanceof Error ? e : new Error(String(e)));
    }
  }
  return { user, addresses, keyPassword, userKeys, addressKeys, addressKeyErrors };
}
