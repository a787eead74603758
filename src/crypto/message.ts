/**
 * Whole OpenPGP messages: message bodies (proton-api.md §3.2), drafts, imports and address-key
 * tokens. Data is always carried as a binary literal, so both text and bytes come back exactly as
 * they went in; text is UTF-8.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import {
  decryptSessionKeysOf,
  decryptWithSessionKeys,
  encryptBytes,
  readAnyMessage,
  type SignatureStatus,
} from "./_pgp.ts";

export type { SignatureStatus } from "./_pgp.ts";

/** Options of {@link encryptMessage} and {@link encryptMessageBinary}. */
export interface EncryptMessageOptions {
  /** The plaintext; a string is encrypted as its UTF-8 bytes. */
  data: string | Uint8Array;
  /** Recipients (private keys are used through their public part). */
  encryptionKeys: (openpgp.PublicKey | openpgp.PrivateKey)[];
  /** Unlocked keys that sign the message inside the encryption (optional). */
  signingKeys?: openpgp.PrivateKey[];
}

/** What {@link decryptMessage} returns. */
export interface DecryptedMessage {
  /** The plaintext bytes, exactly as encrypted. */
  data: Uint8Array;
  /**
   * `valid` when a signature verifies with one of the verification keys, `invalid` when the
   * message is signed but none verifies, `unsigned` when there is no signature, `not-checked` when
   * the message is signed but no verification keys were given.
   */
  signature: SignatureStatus;
}

/**
 * Encrypts (and optionally signs) data to the given keys.
 *
 * @param opts Data, recipients and optional signing keys.
 * @returns The armored PGP message.
 * @throws {CryptoError} `no-key` without a usable recipient key, `bad-input` for a locked signing
 * key or bad data.
 */
export function encryptMessage(opts: EncryptMessageOptions): Promise<string> {
  return encryptBytes(opts, "armored");
}

/**
 * Like {@link encryptMessage} but returns the binary message.
 *
 * @param opts Data, recipients and optional signing keys.
 * @returns The binary PGP message.
 */
export function encryptMessageBinary(opts: EncryptMessageOptions): Promise<Uint8Array> {
  return encryptBytes(opts, "binary");
}

/**
 * Decrypts an armored or binary message and checks its signature when verification keys are
 * given. The signature status never throws; callers that require a valid signature check it.
 *
 * @param armoredOrBinary The message, armored text or binary bytes (armored bytes work too).
 * @param decryptionKeys Unlocked private keys; any of them may hold the session key.
 * @param verificationKeys Public keys to verify signatures with (optional).
 * @returns The plaintext bytes and the signature status.
 * @throws {CryptoError} `bad-input` when the input is not an encrypted OpenPGP message, `no-key`
 * without keys, `wrong-key` when no key opens it, `tampered` when the data fails its integrity check.
 */
export async function decryptMessage(
  armoredOrBinary: string | Uint8Array,
  decryptionKeys: openpgp.PrivateKey[],
  verificationKeys?: openpgp.PublicKey[],
): Promise<DecryptedMessage> {
  const message = await readAnyMessage(armoredOrBinary, "message");
  const sessionKeys = await decryptSessionKeysOf(message, decryptionKeys, "message");
  return await decryptWithSessionKeys(
    message,
    sessionKeys as openpgp.SessionKey[],
    verificationKeys,
    "message",
  );
}
