/**
 * The key password ("salted key pass", proton-api.md §3.1): the passphrase of every user key,
 * derived from the mailbox password and the primary user key's salt. Bridge keeps this value, never
 * the password.
 *
 * go-srp `hash.go` `MailboxPassword`: bcrypt-base64-encode the 16-byte salt, bcrypt the password
 * with `$2y$10$` + that salt and keep the last 31 characters (the hash part) of the 60-character
 * result. go-proton-api `salt_types.go` `SaltForKey`: the salt is the `KeySalt` whose `ID` is the
 * primary user key's ID.
 *
 * @module
 */
import { bcryptHash } from "./bcrypt.ts";
import { fromBase64 } from "./base64.ts";
import { CryptoError, toCryptoError } from "./errors.ts";

/** One entry of `GET /core/v4/keys/salts`. */
export interface KeySaltLike {
  ID: string;
  KeySalt: string | null;
}

/**
 * Derives the key password from the mailbox password and the base64 key salt. A `null` or empty
 * salt means a legacy unsalted key: the key password is then the mailbox password itself.
 *
 * @param mailboxPassword The login password (one-password mode) or the mailbox password.
 * @param keySaltB64 The primary user key's `KeySalt` (base64 of 16 bytes), or null/"" if unsalted.
 * @returns The 31-character key password (or the mailbox password for unsalted keys).
 * @throws {CryptoError} `bad-input` when the salt is not base64 of 16 bytes.
 */
export function deriveKeyPassword(
  mailboxPassword: string,
  keySaltB64: string | null | undefined,
): string {
  if (typeof mailboxPassword !== "string") {
    throw new CryptoError("bad-input", "Cannot derive key password: the password is not a string");
  }
  if (keySaltB64 === null || keySaltB64 === undefined || keySaltB64 === "") {
    return mailboxPassword;
  }
  const salt = fromBase64(keySaltB64);
  if (salt.length !== 16) {
    throw new CryptoError(
      "bad-input",
      `Cannot derive key password: the key salt must be 16 bytes, got ${salt.length}`,
    );
  }
  let hashed: string;
  try {
    hashed = bcryptHash(mailboxPassword, salt);
  } catch (err) {
    throw toCryptoError(err, "bad-input", "Cannot derive key password");
  }
  return hashed.slice(-31);
}

/**
 * Picks the salt of the primary user key from `GET /core/v4/keys/salts`.
 *
 * @param keySalts The `KeySalts` list.
 * @param primaryKeyID The ID of the primary user key.
 * @returns Its base64 salt, or `""` when the key has no salt (legacy: use the password as it is).
 * @throws {CryptoError} `bad-input` when no entry has that ID.
 */
export function selectKeySalt(keySalts: readonly KeySaltLike[], primaryKeyID: string): string {
  const entry = (keySalts ?? []).find((s) => s?.ID === primaryKeyID);
  if (!entry) {
    throw new CryptoError("bad-input", `No key salt for the primary user key "${primaryKeyID}"`);
  }
  return entry.KeySalt ?? "";
}
