/**
 * Session keys of split messages: recovering the session key from key packets, re-encrypting it to
 * another key (send packages: `BodyKeyPacket`, `AttachmentKeyPackets`), handing it out in clear
 * (`BodyKey`, `AttachmentKeys`) and decrypting a data packet with it (proton-api.md §1.10, §3.6).
 *
 * @module
 */
import * as openpgp from "openpgp";
import {
  decryptSessionKeysOf,
  decryptWithSessionKeys,
  encryptBytes,
  readAnyMessage,
  type SignatureStatus,
} from "./_pgp.ts";
import { CryptoError, errorMessage, toCryptoError } from "./errors.ts";
import { keyLabel, toPublicKeys } from "./keys.ts";
import { splitMessage } from "./split.ts";

/** A symmetric session key, as the send API's `{Key, Algorithm}` carries it (base64 aside). */
export interface SessionKey {
  /** The raw key bytes. */
  data: Uint8Array;
  /** openpgp.js's symmetric algorithm name, which matches Proton's: `aes256`, `aes128`… */
  algorithm: string;
}

/** Key sizes in bytes of the symmetric algorithms a session key may use. */
const KEY_SIZES: Record<string, number> = {
  aes128: 16,
  aes192: 24,
  aes256: 32,
  tripledes: 24,
  cast5: 16,
  blowfish: 16,
  twofish: 32,
};

function checkSessionKey(sessionKey: SessionKey, what: string): openpgp.SessionKey {
  if (!sessionKey || !(sessionKey.data instanceof Uint8Array)) {
    throw new CryptoError("bad-input", `Cannot ${what}: the session key has no key bytes`);
  }
  const algorithm = String(sessionKey.algorithm).toLowerCase();
  const size = KEY_SIZES[algorithm];
  if (size === undefined) {
    throw new CryptoError(
      "bad-input",
      `Cannot ${what}: unknown session key algorithm "${sessionKey.algorithm}"`,
    );
  }
  if (sessionKey.data.length !== size) {
    throw new CryptoError(
      "bad-input",
      `Cannot ${what}: a ${algorithm} session key has ${size} bytes, got ${sessionKey.data.length}`,
    );
  }
  return { data: sessionKey.data, algorithm: algorithm as openpgp.enums.symmetricNames };
}

/**
 * Recovers the session key from binary key packets (a whole message works too).
 *
 * @param keyPackets Binary PKESK packet(s), as the API's base64-decoded `KeyPackets`.
 * @param decryptionKeys Unlocked private keys.
 * @returns The session key.
 * @throws {CryptoError} `bad-input` for unreadable packets, `wrong-key` when no key opens them.
 */
export async function decryptSessionKey(
  keyPackets: Uint8Array,
  decryptionKeys: openpgp.PrivateKey[],
): Promise<SessionKey> {
  const message = await readAnyMessage(keyPackets, "key packets");
  const [key] = await decryptSessionKeysOf(message, decryptionKeys, "key packets");
  if (!key?.algorithm) {
    throw new CryptoError(
      "bad-input",
      "Cannot decrypt key packets: the key packet does not name its algorithm (v6 key packet)",
    );
  }
  return { data: key.data, algorithm: key.algorithm };
}

/**
 * Encrypts a session key to one public key.
 *
 * @param sessionKey The session key.
 * @param publicKey The recipient (a private key is used through its public part).
 * @returns One binary PKESK packet.
 * @throws {CryptoError} `bad-input` for a malformed session key, `no-key` when the key cannot
 * encrypt.
 */
export async function encryptSessionKey(
  sessionKey: SessionKey,
  publicKey: openpgp.PublicKey | openpgp.PrivateKey,
): Promise<Uint8Array> {
  const sk = checkSessionKey(sessionKey, "encrypt session key");
  if (!publicKey || typeof (publicKey as openpgp.Key).isPrivate !== "function") {
    throw new CryptoError("no-key", "Cannot encrypt session key: no key given");
  }
  const [key] = toPublicKeys([publicKey]);
  try {
    return await openpgp.encryptSessionKey({
      data: sk.data,
      algorithm: sk.algorithm,
      encryptionKeys: key!,
      format: "binary",
    });
  } catch (err) {
    const kind = /key packet|encryption key/i.test(errorMessage(err)) ? "no-key" : "bad-input";
    throw toCryptoError(err, kind, `Cannot encrypt session key to key ${keyLabel(key!)}`);
  }
}

/**
 * Decrypts a data packet with a known session key. A wrong session key cannot be told from
 * modified data: both fail the integrity check.
 *
 * @param dataPacket The binary encrypted data packet (a whole binary message works too).
 * @param sessionKey The session key.
 * @returns The plaintext bytes.
 * @throws {CryptoError} `bad-input` for unreadable input, `tampered` when the integrity check
 * fails.
 */
export async function decryptWithSessionKey(
  dataPacket: Uint8Array,
  sessionKey: SessionKey,
): Promise<Uint8Array> {
  const sk = checkSessionKey(sessionKey, "decrypt data packet");
  const message = await readAnyMessage(dataPacket, "data packet");
  const { data } = await decryptWithSessionKeys(message, [sk], undefined, "data packet");
  return data;
}

/**
 * Like {@link decryptWithSessionKey}, and also checks the signature inside the data packet
 * against `verificationKeys` (a send package body is encrypted *and signed* by the sender).
 *
 * @param dataPacket The binary encrypted data packet.
 * @param sessionKey The session key.
 * @param verificationKeys Public keys that may have signed it.
 * @returns The plaintext and the signature status (`valid`, `invalid`, `unsigned`, or
 * `not-checked` when no keys were given).
 * @throws {CryptoError} as {@link decryptWithSessionKey}.
 */
export async function decryptAndVerifyWithSessionKey(
  dataPacket: Uint8Array,
  sessionKey: SessionKey,
  verificationKeys: openpgp.PublicKey[],
): Promise<{ data: Uint8Array; signature: SignatureStatus }> {
  const sk = checkSessionKey(sessionKey, "decrypt data packet");
  const message = await readAnyMessage(dataPacket, "data packet");
  return await decryptWithSessionKeys(message, [sk], verificationKeys, "data packet");
}

/** What {@link encryptAndSplit} returns. */
export interface EncryptedSplit {
  /** Binary PKESK packet(s) to `encryptionKey`. */
  keyPackets: Uint8Array;
  /** The binary encrypted data packet. */
  dataPacket: Uint8Array;
  /** The session key of the data packet, for other recipients' key packets. */
  sessionKey: SessionKey;
}

/**
 * Encrypts (and optionally signs) data to one key and splits the result, returning the session
 * key too: what a send package needs (gopenpgp `encSplit`).
 *
 * @param data The plaintext; a string is encrypted as UTF-8.
 * @param encryptionKey The key the key packets are made for (usually the sender's address key).
 * @param signingKey An unlocked key signing inside the encryption (optional).
 * @returns Key packets, data packet and session key.
 */
export async function encryptAndSplit(
  data: string | Uint8Array,
  encryptionKey: openpgp.PublicKey | openpgp.PrivateKey,
  signingKey?: openpgp.PrivateKey,
): Promise<EncryptedSplit> {
  if (!encryptionKey || typeof (encryptionKey as openpgp.Key).isPrivate !== "function") {
    throw new CryptoError("no-key", "Cannot encrypt message: no key given");
  }
  const encryptionKeys = toPublicKeys([encryptionKey]);
  let sessionKey: openpgp.SessionKey;
  try {
    sessionKey = await openpgp.generateSessionKey({ encryptionKeys });
  } catch (err) {
    throw toCryptoError(err, "no-key", "Cannot encrypt message");
  }
  const binary = await encryptBytes(
    { data, encryptionKeys, sessionKey, ...(signingKey ? { signingKeys: [signingKey] } : {}) },
    "binary",
  );
  const { keyPackets, dataPacket } = splitMessage(binary);
  return {
    keyPackets,
    dataPacket,
    sessionKey: { data: sessionKey.data, algorithm: sessionKey.algorithm },
  };
}
