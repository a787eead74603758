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
import { createHash } from "node:crypto";
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
 * The passphrase may be bytes: address-key tokens are opaque bytes (go-proton-api's test server
 * hands out 32 random bytes, proton-api.md §3.1). Bytes that are valid UTF-8 take the ordinary
 * path; other bytes are fed to the key's S2K function as they are (see {@link unlockKeyRaw}),
 * since openpgp.js only accepts text passphrases.
 *
 * @param armoredPrivate The armored locked private key.
 * @param passphrase Its passphrase, as text or as the exact bytes.
 * @returns The unlocked key, ready to decrypt and sign.
 * @throws {CryptoError} `wrong-passphrase` when the passphrase is wrong, `bad-input` when the text
 * is not a private key.
 */
export async function unlockKey(
  armoredPrivate: string | Uint8Array,
  passphrase: string | Uint8Array,
): Promise<openpgp.PrivateKey> {
  if (passphrase instanceof Uint8Array) {
    const text = utf8OrUndefined(passphrase);
    if (text === undefined) return await unlockKeyRaw(armoredPrivate, passphrase);
    passphrase = text;
  }
  const key = await readPrivateKey(armoredPrivate);
  if (key.isDecrypted()) return key;
  if (typeof passphrase !== "string") {
    throw new CryptoError("bad-input", "Cannot unlock key: the passphrase is not a string");
  }
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch (err) {
    throw unlockError(key, err);
  }
}

/**
 * Unlocks an armored private key with a passphrase given as exact bytes, whatever they are
 * (RFC 4880 §3.7.1 simple, salted and iterated+salted S2K, computed here; the key material is
 * then decrypted and checked by openpgp.js). {@link unlockKey} uses it for byte passphrases that
 * are not UTF-8; for UTF-8 bytes both give the same result.
 *
 * @param armoredPrivate The armored locked private key.
 * @param passphrase The passphrase bytes.
 * @returns The unlocked key.
 * @throws {CryptoError} `wrong-passphrase` when the passphrase is wrong, `bad-input` when the text
 * is not a private key or a key packet uses an S2K other than simple/salted/iterated (Argon2).
 */
export async function unlockKeyRaw(
  armoredPrivate: string | Uint8Array,
  passphrase: Uint8Array,
): Promise<openpgp.PrivateKey> {
  const key = await readPrivateKey(armoredPrivate);
  if (key.isDecrypted()) return key;
  try {
    for (const k of key.getKeys()) {
      const packet = k.keyPacket as unknown as SecretKeyPacketInternals;
      if (packet.isDummy() || packet.isDecrypted()) continue;
      const s2k = packet.s2k;
      if (!s2k || !RAW_S2K_TYPES.has(s2k.type)) {
        throw new Error(`unsupported S2K type ${s2k?.type ?? "(none)"} for a byte passphrase`);
      }
      // openpgp.js would UTF-8-encode the passphrase; this S2K instance uses the bytes instead.
      s2k.produceKey = (_ignored: unknown, numBytes: number) =>
        Promise.resolve(rawS2K(s2k, passphrase, numBytes));
      try {
        await packet.decrypt("");
      } finally {
        delete (s2k as Partial<S2KInternals>).produceKey;
      }
    }
    await (key as unknown as PrivateKeyInternals).validate();
    return key;
  } catch (err) {
    try {
      (key as unknown as PrivateKeyInternals).clearPrivateParams();
    } catch {
      // Nothing was decrypted.
    }
    throw unlockError(key, err);
  }
}

function unlockError(key: openpgp.PrivateKey, err: unknown): CryptoError {
  const msg = errorMessage(err);
  const kind = /incorrect key passphrase/i.test(msg) ? "wrong-passphrase" : "bad-input";
  const what = kind === "wrong-passphrase" ? "wrong passphrase" : msg;
  return new CryptoError(kind, `Cannot unlock key ${keyLabel(key)}: ${what}`, { cause: err });
}

const strictUTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `bytes` as text when they are valid UTF-8 (so that encoding the text gives them back). */
function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

// openpgp.js 6.3.2 internals (pinned in deno.json) that unlockKeyRaw relies on; keys_test.ts
// checks them against openpgp.js's own decryption, so a change in a later version is caught.
interface S2KInternals {
  type: string;
  algorithm: number;
  salt?: Uint8Array;
  c?: number;
  produceKey(passphrase: unknown, numBytes: number, config?: unknown): Promise<Uint8Array>;
}
interface SecretKeyPacketInternals {
  s2k: S2KInternals | null;
  isDummy(): boolean;
  isDecrypted(): boolean | null;
  decrypt(passphrase: string): Promise<void>;
}

interface PrivateKeyInternals {
  validate(): Promise<void>;
  clearPrivateParams(): void;
}

const RAW_S2K_TYPES = new Set(["simple", "salted", "iterated"]);

/** OpenPGP hash algorithm IDs (RFC 4880 §9.4) → node:crypto names. */
const S2K_HASHES: Record<number, string> = {
  1: "md5",
  2: "sha1",
  3: "ripemd160",
  8: "sha256",
  9: "sha384",
  10: "sha512",
  11: "sha224",
};

/** RFC 4880 §3.7.1: `numBytes` of key from the passphrase bytes. */
function rawS2K(s2k: S2KInternals, passphrase: Uint8Array, numBytes: number): Uint8Array {
  const hashName = S2K_HASHES[s2k.algorithm];
  if (!hashName) throw new Error(`unsupported S2K hash algorithm ${s2k.algorithm}`);
  const salt = s2k.type === "simple" ? new Uint8Array(0) : (s2k.salt ?? new Uint8Array(0));
  const data = new Uint8Array(salt.length + passphrase.length);
  data.set(salt);
  data.set(passphrase, salt.length);
  let input = data;
  if (s2k.type === "iterated") {
    // The coded count (RFC 4880 §3.7.1.3), at least one full copy of salt ‖ passphrase.
    const c = s2k.c ?? 0;
    const count = Math.max((16 + (c & 15)) << ((c >> 4) + 6), data.length);
    input = new Uint8Array(count);
    input.set(data.subarray(0, Math.min(data.length, count)));
    for (let filled = data.length; filled < count; filled *= 2) {
      input.copyWithin(filled, 0, Math.min(filled, count - filled));
    }
  }
  const out = new Uint8Array(numBytes);
  for (let done = 0, prefix = 0; done < numBytes; prefix++) {
    const h = createHash(hashName);
    if (prefix > 0) h.update(new Uint8Array(prefix));
    h.update(input);
    const digest = h.digest();
    const n = Math.min(digest.length, numBytes - done);
    out.set(digest.subarray(0, n), done);
    done += n;
  }
  return out;
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
