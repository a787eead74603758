/**
 * Attachments (proton-api.md §1.6, §3.3): stored split into key packets and a data packet, uploaded
 * with a binary detached signature over the plaintext. Also the general detached sign/verify.
 *
 * @module
 */
import * as openpgp from "openpgp";
import { looksArmored, signatureStatus, toBytes } from "./_pgp.ts";
import { CryptoError, toCryptoError } from "./errors.ts";
import { keyLabel } from "./keys.ts";
import { decryptMessage } from "./message.ts";
import { encryptAndSplit } from "./session_key.ts";
import { joinMessage } from "./split.ts";

/** What {@link encryptAttachment} returns: the three upload parts. */
export interface EncryptedAttachment {
  /** Binary PKESK packet(s) to the encryption key (`KeyPackets`). */
  keyPackets: Uint8Array;
  /** The binary encrypted data packet (`DataPacket`). */
  dataPacket: Uint8Array;
  /** Binary detached signature over the plaintext (`Signature`). */
  signature: Uint8Array;
}

/**
 * Encrypts an attachment to one key (the sender's address key), splits it and signs the plaintext
 * with a detached binary signature (gopenpgp `EncryptAttachment` + `SignDetached`).
 *
 * @param data The attachment bytes.
 * @param encryptionKey The key the key packets are made for.
 * @param signingKey The unlocked key that signs the plaintext.
 * @returns Key packets, data packet and detached signature.
 */
export async function encryptAttachment(
  data: Uint8Array,
  encryptionKey: openpgp.PublicKey | openpgp.PrivateKey,
  signingKey: openpgp.PrivateKey,
): Promise<EncryptedAttachment> {
  const bytes = toBytes(data, "encrypt attachment");
  const signature = await signDetached(bytes, signingKey);
  const { keyPackets, dataPacket } = await encryptAndSplit(bytes, encryptionKey);
  return { keyPackets, dataPacket, signature };
}

/**
 * Decrypts an attachment from its key packets and data packet.
 *
 * @param keyPackets Binary key packets (base64-decoded `KeyPackets`).
 * @param dataPacket The downloaded data packet.
 * @param decryptionKeys Unlocked keys of the address.
 * @returns The attachment bytes.
 * @throws {CryptoError} as {@link decryptMessage}.
 */
export async function decryptAttachment(
  keyPackets: Uint8Array,
  dataPacket: Uint8Array,
  decryptionKeys: openpgp.PrivateKey[],
): Promise<Uint8Array> {
  const { data } = await decryptMessage(joinMessage(keyPackets, dataPacket), decryptionKeys);
  return data;
}

/** Options of {@link signDetached}. */
export interface SignDetachedOptions {
  /** Return an armored signature instead of binary. */
  armor?: boolean;
}

/**
 * Makes a detached signature over the data (binary signature type; text is signed as its UTF-8
 * bytes).
 *
 * @param data The data to sign.
 * @param signingKey An unlocked private key.
 * @param opts `armor: true` for armored output.
 * @returns The binary signature, or the armored one with `armor: true`.
 * @throws {CryptoError} `bad-input` when the key is locked or cannot sign.
 */
export function signDetached(
  data: Uint8Array | string,
  signingKey: openpgp.PrivateKey,
  opts?: { armor?: false },
): Promise<Uint8Array>;
export function signDetached(
  data: Uint8Array | string,
  signingKey: openpgp.PrivateKey,
  opts: { armor: true },
): Promise<string>;
export function signDetached(
  data: Uint8Array | string,
  signingKey: openpgp.PrivateKey,
  opts?: SignDetachedOptions,
): Promise<Uint8Array | string>;
export async function signDetached(
  data: Uint8Array | string,
  signingKey: openpgp.PrivateKey,
  opts: SignDetachedOptions = {},
): Promise<Uint8Array | string> {
  const bytes = toBytes(data, "sign");
  if (!signingKey || typeof signingKey.isPrivate !== "function" || !signingKey.isPrivate()) {
    throw new CryptoError("bad-input", "Cannot sign: the signing key is not a private key");
  }
  if (!signingKey.isDecrypted()) {
    throw new CryptoError("bad-input", `Cannot sign: key ${keyLabel(signingKey)} is locked`);
  }
  try {
    const message = await openpgp.createMessage({ binary: bytes, format: "binary" });
    return opts.armor
      ? await openpgp.sign({ message, signingKeys: signingKey, detached: true, format: "armored" })
      : await openpgp.sign({ message, signingKeys: signingKey, detached: true, format: "binary" });
  } catch (err) {
    throw toCryptoError(err, "bad-input", `Cannot sign with key ${keyLabel(signingKey)}`);
  }
}

/**
 * Reads an armored or binary detached signature.
 *
 * @throws {CryptoError} `bad-input` when it is not a signature.
 */
export async function readSignature(signature: Uint8Array | string): Promise<openpgp.Signature> {
  try {
    if (typeof signature === "string") {
      return await openpgp.readSignature({ armoredSignature: signature });
    }
    if (!(signature instanceof Uint8Array) || signature.length === 0) {
      throw new CryptoError("bad-input", "Cannot read signature: it is empty");
    }
    if (looksArmored(signature)) {
      return await openpgp.readSignature({
        armoredSignature: new TextDecoder().decode(signature),
      });
    }
    return await openpgp.readSignature({ binarySignature: signature });
  } catch (err) {
    throw toCryptoError(err, "bad-input", "Cannot read signature");
  }
}

/**
 * Checks a detached signature over `data` with any of `keys`.
 *
 * @param data The signed bytes.
 * @param signature The detached signature, binary or armored.
 * @param keys Public keys that may have made it. With none, the answer is `false`.
 * @returns True when the signature verifies with one of the keys.
 * @throws {CryptoError} `bad-input` when the signature cannot be read at all.
 */
export async function verifyDetached(
  data: Uint8Array | string,
  signature: Uint8Array | string,
  keys: openpgp.PublicKey[],
): Promise<boolean> {
  const bytes = toBytes(data, "verify");
  const sig = await readSignature(signature);
  if (!Array.isArray(keys) || keys.length === 0) return false;
  let result: openpgp.VerifyMessageResult<Uint8Array>;
  try {
    const message = await openpgp.createMessage({ binary: bytes, format: "binary" });
    result = await openpgp.verify({
      message,
      signature: sig,
      verificationKeys: keys,
      format: "binary",
      expectSigned: false,
    });
  } catch {
    return false;
  }
  return (await signatureStatus(result.signatures, true)) === "valid";
}
