/**
 * Unlocking a user's keys (proton-api.md §3.1): user keys with the key password, address keys
 * either through their token (modern scheme: the passphrase is a random token encrypted to and
 * signed by the user key) or directly with the key password (legacy scheme). Also the server side
 * of the token scheme, {@link makeAddressKeyToken}.
 *
 * go-proton-api `keyring.go` `Keys.Unlock`, `Key.Unlock`, `getPassphraseFromToken`.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { signDetached, verifyDetached } from "./attachment.ts";
import { CryptoError, errorMessage, toCryptoError } from "./errors.ts";
import { unlockKey } from "./keys.ts";
import { KeyRing } from "./key_ring.ts";
import { decryptMessage, encryptMessage } from "./message.ts";

/** The fields of an API key object (`User.Keys[]`, `Address.Keys[]`) that unlocking reads. */
export interface ApiKeyLike {
  ID: string;
  /** Armored locked private key. */
  PrivateKey: string;
  /** Address keys, token scheme: armored message holding the passphrase, encrypted to the user key. */
  Token?: string | null;
  /** Address keys, token scheme: armored detached signature of the token by the user key. */
  Signature?: string | null;
  Primary?: number;
  /** 1 when the key is active. A missing field counts as active. */
  Active?: number;
  Flags?: number;
}

function isActive(key: ApiKeyLike): boolean {
  return (key.Active ?? 1) === 1;
}

/** Failure of one key, kept to explain why none unlocked. */
interface KeyFailure {
  id: string;
  error: CryptoError;
}

function noneUnlocked(what: string, failures: KeyFailure[]): CryptoError {
  const first = failures[0]!.error;
  // Report the most telling kind: a bad token signature beats a wrong passphrase.
  const kind = failures.some((f) => f.error.kind === "bad-signature")
    ? "bad-signature"
    : failures.every((f) => f.error.kind === first.kind)
    ? first.kind
    : "wrong-passphrase";
  const details = failures.map((f) => `${f.id}: ${f.error.message}`).join("; ");
  return new CryptoError(kind, `Cannot unlock any ${what} key (${details})`, { cause: first });
}

function checkKeyList(keys: readonly ApiKeyLike[], what: string): ApiKeyLike[] {
  if (!Array.isArray(keys)) {
    throw new CryptoError("bad-input", `Cannot unlock ${what} keys: expected a list of keys`);
  }
  const active = keys.filter((k) => k && isActive(k));
  if (active.length === 0) {
    throw new CryptoError("no-key", `Cannot unlock ${what} keys: there is no active key`);
  }
  return active;
}

/**
 * Unlocks the active user keys with the key password. Keys that fail are skipped; the ring keeps
 * API order.
 *
 * @param keys `User.Keys`.
 * @param keyPassword The key password ({@link deriveKeyPassword}).
 * @returns The user key ring.
 * @throws {CryptoError} `no-key` when no key is active, `wrong-passphrase` when none unlocks.
 */
export async function unlockUserKeys(
  keys: ApiKeyLike[],
  keyPassword: string,
): Promise<KeyRing> {
  const active = checkKeyList(keys, "user");
  const unlocked: openpgp.PrivateKey[] = [];
  const failures: KeyFailure[] = [];
  for (const key of active) {
    try {
      unlocked.push(await unlockKey(key.PrivateKey, keyPassword));
    } catch (err) {
      failures.push({ id: key.ID, error: toCryptoError(err, "bad-input", "Cannot unlock key") });
    }
  }
  if (unlocked.length === 0) throw noneUnlocked("user", failures);
  return new KeyRing(unlocked);
}

/**
 * Recovers an address key's passphrase from its token: decrypt with the user keys, verify the
 * detached signature over the token bytes with the user keys. The passphrase is the token's exact
 * bytes (go-proton-api `getPassphraseFromToken` uses `GetBinary()`): Proton's tokens are hex
 * text, but go-proton-api's test server uses 32 random bytes, which are not valid UTF-8.
 *
 * @throws {CryptoError} `wrong-key` when no user key opens the token, `bad-signature` when the
 * signature does not verify.
 */
export async function passphraseFromToken(
  token: string,
  signature: string,
  userKeyRing: KeyRing,
): Promise<Uint8Array> {
  let data: Uint8Array;
  try {
    ({ data } = await decryptMessage(token, [...userKeyRing.keys]));
  } catch (err) {
    throw toCryptoError(err, "bad-input", "Cannot decrypt the address key token");
  }
  let ok: boolean;
  try {
    ok = await verifyDetached(data, signature, userKeyRing.publicKeys());
  } catch (err) {
    throw new CryptoError(
      "bad-signature",
      `The address key token signature is unreadable: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  if (!ok) {
    throw new CryptoError("bad-signature", "The address key token signature is not valid");
  }
  return data;
}

/**
 * Unlocks the active address keys of one address: token scheme when the key has both `Token` and
 * `Signature`, otherwise the key password. Keys that fail are skipped.
 *
 * @param keys `Address.Keys`.
 * @param userKeyRing The unlocked user keys ({@link unlockUserKeys}).
 * @param keyPassword The key password, for legacy address keys.
 * @returns The address key ring, first unlocked key first.
 * @throws {CryptoError} `no-key` when no key is active; when none unlocks, `bad-signature` if a
 * token signature failed, else the common kind of the failures (usually `wrong-passphrase`).
 */
export async function unlockAddressKeys(
  keys: ApiKeyLike[],
  userKeyRing: KeyRing,
  keyPassword: string,
): Promise<KeyRing> {
  const active = checkKeyList(keys, "address");
  const unlocked: openpgp.PrivateKey[] = [];
  const failures: KeyFailure[] = [];
  for (const key of active) {
    try {
      const passphrase = key.Token && key.Signature
        ? await passphraseFromToken(key.Token, key.Signature, userKeyRing)
        : keyPassword;
      unlocked.push(await unlockKey(key.PrivateKey, passphrase));
    } catch (err) {
      failures.push({ id: key.ID, error: toCryptoError(err, "bad-input", "Cannot unlock key") });
    }
  }
  if (unlocked.length === 0) throw noneUnlocked("address", failures);
  return new KeyRing(unlocked);
}

/** What {@link makeAddressKeyToken} returns. */
export interface AddressKeyToken {
  /** The address key passphrase: 64 hex characters (32 random bytes). */
  passphrase: string;
  /** Armored message holding the passphrase, encrypted to the user key. */
  Token: string;
  /** Armored detached signature of the passphrase bytes by the user key. */
  Signature: string;
}

/**
 * Server side of the token scheme: a fresh random passphrase for a new address key, encrypted to
 * and signed by the user key.
 *
 * @param userKey The unlocked primary user key.
 * @returns The passphrase (lock the address key with it) and the `Token`/`Signature` fields.
 */
export async function makeAddressKeyToken(userKey: openpgp.PrivateKey): Promise<AddressKeyToken> {
  const random = crypto.getRandomValues(new Uint8Array(32));
  const passphrase = Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
  const bytes = new TextEncoder().encode(passphrase);
  const Token = await encryptMessage({ data: bytes, encryptionKeys: [userKey] });
  const Signature = await signDetached(bytes, userKey, { armor: true });
  return { passphrase, Token, Signature };
}
