/**
 * OpenPGP keys: generation (what the reference server and tests hand out), reading armored keys,
 * unlocking and locking with a passphrase, fingerprints.
 *
 * Keys are v4 keys as gpg and Proton's gopenpgp expect: `ecc` is an EdDSA primary key with an
 * ECDH curve25519 subkey (openpgp.js 6 calls that curve `curve25519Legacy`), `rsa` is RSA with
 * an RSA subkey.
 *
 * @module
 */
import * as openpgp from "openpgp";
import { CryptoError, errorMessage, toCryptoError } from "./errors.ts";

/** Options of {@link generateKey}. */
export interface GenerateKeyOptions {
  /** Display name of the user ID (optional). */
  name?: string;
  /** Email of the user ID. */
  email: string;
  /** `ecc` (default, curve25519) or `rsa`. */
  type?: "ecc" | "rsa";
  /** RSA modulus size, 2048 by default; only with `type: "rsa"`. */
  rsaBits?: number;
  /** Passphrase the armored private key is locked with; must not be empty. */
  passphrase: string;
}

/** What {@link generateKey} returns. */
export interface GeneratedKey {
  /** Armored private key, locked with the passphrase. */
  privateKey: string;
  /** Armored public key. */
  publicKey: string;
  /** Primary key fingerprint, lowercase hex. */
  fingerprint: string;
}

/**
 * Generates a new key pair and returns it armored and locked.
 *
 * @param opts See {@link GenerateKeyOptions}.
 * @returns The armored locked private key, the armored public key and the fingerprint.
 * @throws {CryptoError} `bad-input` for an empty passphrase, an email openpgp.js refuses or a bad
 * RSA size.
 */
export async function generateKey(opts: GenerateKeyOptions): Promise<GeneratedKey> {
  if (typeof opts.passphrase !== "string" || opts.passphrase === "") {
    throw new CryptoError("bad-input", "Cannot generate key: the passphrase is empty");
  }
  const type = opts.type ?? "ecc";
  if (type !== "ecc" && type !== "rsa") {
    throw new CryptoError("bad-input", `Cannot generate key: unknown key type "${type}"`);
  }
  const rsaBits = opts.rsaBits ?? 2048;
  if (type === "rsa" && (!Number.isInteger(rsaBits) || rsaBits < 2048 || rsaBits > 8192)) {
    throw new CryptoError("bad-input", `Cannot generate key: unsupported RSA size ${rsaBits}`);
  }
  const userID = opts.name ? { name: opts.name, email: opts.email } : { email: opts.email };
  try {
    const { privateKey, publicKey } = type === "ecc"
      ? await openpgp.generateKey({
        type: "ecc",
        curve: "curve25519Legacy",
        userIDs: [userID],
        passphrase: opts.passphrase,
        format: "object",
      })
      : await openpgp.generateKey({
        type: "rsa",
        rsaBits,
        userIDs: [userID],
        passphrase: opts.passphrase,
        format: "object",
      });
    return {
      privateKey: privateKey.armor(),
      publicKey: publicKey.armor(),
      fingerprint: privateKey.getFingerprint().toLowerCase(),
    };
  } catch (err) {
    throw toCryptoError(err, "bad-input", `Cannot generate key for "${opts.email}"`);
  }
}

/**
 * Reads an armored (or binary) private key without unlocking it.
 *
 * @param armored The armored private key, or its binary form.
 * @returns The (still locked) key.
 * @throws {CryptoError} `bad-input` when the text is not a private key.
 */
export async function readPrivateKey(armored: string | Uint8Array): Promise<openpgp.PrivateKey> {
  try {
    return typeof armored === "string"
      ? await openpgp.readPrivateKey({ armoredKey: armored })
      : await openpgp.readPrivateKey({ binaryKey: armored });
  } catch (err) {
    throw toCryptoError(err, "bad-input", "Cannot read private key");
  }
}

/**
 * Reads an armored (or binary) public key. A private key is accepted and its public part returned.
 *
 * @param armored The armored public key, or its binary form.
 * @returns The public key.
 * @throws {CryptoError} `bad-input` when the text is not a key.
 */
export async function readPublicKey(armored: string | Uint8Array): Promise<openpgp.PublicKey> {
  let key: openpgp.Key;
  try {
    key = typeof armored === "string"
      ? await openpgp.readKey({ armoredKey: armored })
      : await openpgp.readKey({ binaryKey: armored });
  } catch (err) {
    throw toCryptoError(err, "bad-input", "Cannot read public key");
  }
  return key.isPrivate() ? key.toPublic() : key as openpgp.PublicKey;
}

/**
 * Unlocks an armored private key. A key that is not locked at all is returned as it is.
 *
 * @param armoredPrivate The armored locked private key.
 * @param passphrase Its passphrase.
 * @returns The unlocked key, ready to decrypt and sign.
 * @throws {CryptoError} `wrong-passphrase` when the passphrase is wrong, `bad-input` when the text
 * is not a private key.
 */
export async function unlockKey(
  armoredPrivate: string | Uint8Array,
  passphrase: string,
): Promise<openpgp.PrivateKey> {
  const key = await readPrivateKey(armoredPrivate);
  if (key.isDecrypted()) return key;
  if (typeof passphrase !== "string") {
    throw new CryptoError("bad-input", "Cannot unlock key: the passphrase is not a string");
  }
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch (err) {
    const msg = errorMessage(err);
    const kind = /incorrect key passphrase/i.test(msg) ? "wrong-passphrase" : "bad-input";
    const what = kind === "wrong-passphrase" ? "wrong passphrase" : msg;
    throw new CryptoError(kind, `Cannot unlock key ${keyLabel(key)}: ${what}`, { cause: err });
  }
}

/**
 * Locks an unlocked private key with `passphrase` and returns it armored. `key` itself stays
 * unlocked (openpgp.js works on a copy).
 *
 * @param key An unlocked private key.
 * @param passphrase The new passphrase; must not be empty.
 * @returns The armored locked key.
 * @throws {CryptoError} `bad-input` when the key is locked already or the passphrase is empty.
 */
export async function lockKey(key: openpgp.PrivateKey, passphrase: string): Promise<string> {
  if (typeof passphrase !== "string" || passphrase === "") {
    throw new CryptoError("bad-input", "Cannot lock key: the passphrase is empty");
  }
  try {
    const locked = await openpgp.encryptKey({ privateKey: key, passphrase });
    return locked.armor();
  } catch (err) {
    throw toCryptoError(err, "bad-input", `Cannot lock key ${keyLabel(key)}`);
  }
}

/**
 * The primary key fingerprint in lowercase hex.
 *
 * @param key Any key.
 * @returns 40 hex characters for v4 keys.
 */
export function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toLowerCase();
}

/**
 * The armored public part of a private key.
 *
 * @param privateKey A private key, locked or not.
 * @returns The armored public key.
 */
export function publicKeyOf(privateKey: openpgp.PrivateKey): string {
  return privateKey.toPublic().armor();
}

/** Public keys of a list that may contain private keys (openpgp.js wants public ones to encrypt). */
export function toPublicKeys(
  keys: readonly (openpgp.PublicKey | openpgp.PrivateKey)[],
): openpgp.PublicKey[] {
  return keys.map((k) => k.isPrivate() ? (k as openpgp.PrivateKey).toPublic() : k);
}

/** A short label for messages: the key ID in hex. */
export function keyLabel(key: openpgp.Key): string {
  try {
    return key.getKeyID().toHex();
  } catch {
    return "(unknown)";
  }
}
