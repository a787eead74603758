/**
 * Shared internals of the message, attachment and session-key modules: reading an encrypted
 * message, the two-step decryption that tells a wrong key from tampered data, signature status,
 * and encryption with error mapping. Not part of the public face (`mod.ts`).
 *
 * @module
 */
import * as openpgp from "openpgp";
import { CryptoError, errorMessage, toCryptoError } from "./errors.ts";
import { keyLabel, toPublicKeys } from "./keys.ts";
import { bytesEqual, concatBytes } from "./srp_hash.ts";
import { decryptSeipdV1, handlesAlgorithm, ModificationDetectedError } from "./seipd_v1.ts";
import { decryptEcdhKeyPacket } from "./ecdh_session_key.ts";

/** Result of a signature check; see `decryptMessage`. */
export type SignatureStatus = "valid" | "invalid" | "unsigned" | "not-checked";

const ARMOR_PREFIX = "-----BEGIN PGP";

/** True when `bytes` starts with an ASCII armor header (leading whitespace allowed). */
export function looksArmored(bytes: Uint8Array): boolean {
  let i = 0;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d || bytes[i] === 0x0a)
  ) i++;
  if (bytes.length - i < ARMOR_PREFIX.length) return false;
  for (let j = 0; j < ARMOR_PREFIX.length; j++) {
    if (bytes[i + j] !== ARMOR_PREFIX.charCodeAt(j)) return false;
  }
  return true;
}

/** Reads an armored or binary OpenPGP message; `bad-input` if it cannot be parsed. */
export async function readAnyMessage(
  input: string | Uint8Array,
  what = "message",
): Promise<openpgp.Message<Uint8Array>> {
  try {
    if (typeof input === "string") {
      return await openpgp.readMessage({ armoredMessage: input }) as openpgp.Message<Uint8Array>;
    }
    if (!(input instanceof Uint8Array)) {
      throw new CryptoError("bad-input", `Cannot read ${what}: expected a string or bytes`);
    }
    if (input.length === 0) throw new CryptoError("bad-input", `Cannot read ${what}: it is empty`);
    if (looksArmored(input)) {
      const text = new TextDecoder().decode(input);
      return await openpgp.readMessage({ armoredMessage: text }) as openpgp.Message<Uint8Array>;
    }
    return await openpgp.readMessage({ binaryMessage: input });
  } catch (err) {
    throw toCryptoError(err, "bad-input", `Cannot read ${what}`);
  }
}

/** Tags of the packets that carry a session key (PKESK, SKESK). */
const KEY_PACKET_TAGS = new Set<number>([
  openpgp.enums.packet.publicKeyEncryptedSessionKey,
  openpgp.enums.packet.symEncryptedSessionKey,
]);

/** Tags of the encrypted data packets (SED, SEIPD, AEAD). */
const DATA_PACKET_TAGS = new Set<number>([
  openpgp.enums.packet.symmetricallyEncryptedData,
  openpgp.enums.packet.symEncryptedIntegrityProtectedData,
  openpgp.enums.packet.aeadEncryptedData,
]);

/** The packet tag of a parsed openpgp.js packet (its class's static `tag`), or -1. */
function packetTag(packet: unknown): number {
  return ((packet as { constructor: { tag?: number } }).constructor.tag) ?? -1;
}

function packetTags(message: openpgp.Message<unknown>): number[] {
  return Array.from(message.packets, packetTag);
}

/** `bad-input` unless `message` has at least one key packet. */
export function requireKeyPackets(message: openpgp.Message<unknown>, what: string): void {
  if (!packetTags(message).some((t) => KEY_PACKET_TAGS.has(t))) {
    throw new CryptoError("bad-input", `Cannot decrypt ${what}: it has no session key packet`);
  }
}

/** `bad-input` unless `message` has an encrypted data packet. */
export function requireDataPacket(message: openpgp.Message<unknown>, what: string): void {
  if (!packetTags(message).some((t) => DATA_PACKET_TAGS.has(t))) {
    throw new CryptoError("bad-input", `Cannot decrypt ${what}: it is not an encrypted message`);
  }
}

/** `no-key` for an empty key list. */
export function requireKeys(keys: readonly unknown[] | undefined, what: string): void {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new CryptoError("no-key", `Cannot ${what}: no key given`);
  }
}

/**
 * Decrypts the session key(s) of `message` with `decryptionKeys`.
 * Failure means none of the keys fits: `wrong-key`.
 */
export async function decryptSessionKeysOf(
  message: openpgp.Message<unknown>,
  decryptionKeys: readonly openpgp.PrivateKey[],
  what: string,
): Promise<openpgp.DecryptedSessionKey[]> {
  requireKeys(decryptionKeys, `decrypt ${what}`);
  requireKeyPackets(message, what);
  for (const k of decryptionKeys) {
    if (!k.isDecrypted()) {
      throw new CryptoError("bad-input", `Cannot decrypt ${what}: key ${keyLabel(k)} is locked`);
    }
  }
  const native = decryptKeyPacketsNatively(message, decryptionKeys);
  if (native.length > 0) return native;
  try {
    const keys = await openpgp.decryptSessionKeys({
      message: message as openpgp.Message<Uint8Array>,
      decryptionKeys: [...decryptionKeys],
    });
    if (keys.length === 0) throw new Error("no session key found");
    return keys;
  } catch (err) {
    throw new CryptoError(
      "wrong-key",
      `Cannot decrypt ${what}: none of the ${decryptionKeys.length} key(s) can open it (${
        errorMessage(err)
      })`,
      { cause: err },
    );
  }
}

/**
 * The session keys of the PKESK packets `ecdh_session_key.ts` can open without openpgp.js
 * (Curve25519 ECDH keys), without duplicates. Empty when any key packet made for one of
 * `decryptionKeys` is left over: then openpgp.js decides, as it would have without this path.
 */
function decryptKeyPacketsNatively(
  message: openpgp.Message<unknown>,
  decryptionKeys: readonly openpgp.PrivateKey[],
): openpgp.DecryptedSessionKey[] {
  const found: openpgp.DecryptedSessionKey[] = [];
  for (const packet of message.packets) {
    if (packetTag(packet) !== openpgp.enums.packet.publicKeyEncryptedSessionKey) continue;
    let body: Uint8Array;
    try {
      body = (packet as unknown as { write(): Uint8Array }).write();
    } catch {
      continue;
    }
    const key = decryptEcdhKeyPacket(body, decryptionKeys);
    if (!key) {
      if (mayBeFor(body, decryptionKeys)) return [];
      continue;
    }
    const algorithm = key.algorithm as openpgp.enums.symmetricNames;
    if (!found.some((k) => k.algorithm === algorithm && bytesEqual(k.data, key.data))) {
      found.push({ data: key.data, algorithm });
    }
  }
  return found;
}

/**
 * Whether a PKESK body may be made for one of `keys`: anything but a v3 packet naming another
 * key ID (a wildcard ID, a v6 packet or unreadable bytes may be).
 */
function mayBeFor(body: Uint8Array, keys: readonly openpgp.PrivateKey[]): boolean {
  if (body.length < 10 || body[0] !== 3) return true;
  const id = body.subarray(1, 9);
  if (id.every((b) => b === 0)) return true;
  const hex = Array.from(id, (b) => b.toString(16).padStart(2, "0")).join("");
  return keys.some((k) => k.getKeyIDs().some((kid) => kid.toHex() === hex));
}

/**
 * Decrypts `message` with known session keys. A failure here means corrupt or modified data:
 * `tampered`. Returns the plaintext bytes and the signature status.
 */
export async function decryptWithSessionKeys(
  message: openpgp.Message<Uint8Array>,
  sessionKeys: openpgp.SessionKey[],
  verificationKeys: readonly openpgp.PublicKey[] | undefined,
  what: string,
): Promise<{ data: Uint8Array; signature: SignatureStatus }> {
  requireDataPacket(message, what);
  const fast = await decryptNatively(message, sessionKeys, verificationKeys, what);
  if (fast) return fast;
  let result: openpgp.DecryptMessageResult & { data: Uint8Array };
  try {
    result = await openpgp.decrypt({
      message,
      sessionKeys,
      format: "binary",
      expectSigned: false,
      ...(verificationKeys && verificationKeys.length > 0
        ? { verificationKeys: [...verificationKeys] }
        : {}),
    });
  } catch (err) {
    throw toCryptoError(err, "tampered", `Cannot decrypt ${what}: the data is corrupt or modified`);
  }
  const signature = await signatureStatus(
    result.signatures,
    !!verificationKeys && verificationKeys.length > 0,
  );
  return { data: result.data, signature };
}

/** The parts of openpgp.js's SEIPD packet object read here. */
interface SeipdPacket {
  version: number | null;
  encrypted: unknown;
}

/** Packets openpgp.js allows inside a SEIPD packet (literal, compressed, one-pass signature,
 * signature). */
const SEIPD_INNER_TAGS = new Set<number>([
  openpgp.enums.packet.literalData,
  openpgp.enums.packet.compressedData,
  openpgp.enums.packet.onePassSignature,
  openpgp.enums.packet.signature,
]);

/** openpgp.js's in-memory "array stream" (an Array of chunks with these methods). */
interface ArrayStreamLike extends Array<unknown> {
  clone(): ArrayStreamLike;
  readToEnd<T>(join: (chunks: unknown[]) => T): Promise<T>;
}

/**
 * The ciphertext of a parsed packet as bytes. openpgp.js keeps it as bytes or as an array stream
 * of chunks (what `readMessage` gives for bytes in memory); the stream is read through a clone,
 * so openpgp.js can still read the original if this path hands the message back. `undefined`
 * for anything else (a real stream).
 */
async function ciphertextOf(encrypted: unknown): Promise<Uint8Array | undefined> {
  if (encrypted instanceof Uint8Array) return encrypted;
  const stream = encrypted as Partial<ArrayStreamLike>;
  if (
    !Array.isArray(encrypted) || typeof stream.clone !== "function" ||
    typeof stream.readToEnd !== "function"
  ) {
    return undefined;
  }
  const chunks = await stream.clone().readToEnd((parts) => parts.slice());
  if (!chunks.every((c) => c instanceof Uint8Array)) return undefined;
  const parts = chunks as Uint8Array[];
  return parts.length === 1 ? parts[0] : concatBytes(...parts);
}

/**
 * The common case through native AES (`seipd_v1.ts`): one SEIPD v1 packet, an AES session key,
 * ciphertext in memory. Returns `undefined` for anything else (SEIPD v2, other ciphers, several
 * data packets, no literal data inside), which openpgp.js then decrypts as before. A session key
 * whose MDC fails is skipped; when none fits, the error is openpgp.js's `tampered`, as before.
 */
async function decryptNatively(
  message: openpgp.Message<Uint8Array>,
  sessionKeys: openpgp.SessionKey[],
  verificationKeys: readonly openpgp.PublicKey[] | undefined,
  what: string,
): Promise<{ data: Uint8Array; signature: SignatureStatus } | undefined> {
  const data = message.packets.filter((p) => DATA_PACKET_TAGS.has(packetTag(p)));
  if (data.length !== 1) return undefined;
  const packet = data[0] as unknown as SeipdPacket;
  if (
    packetTag(packet) !== openpgp.enums.packet.symEncryptedIntegrityProtectedData ||
    packet.version !== 1
  ) {
    return undefined;
  }
  const encrypted = await ciphertextOf(packet.encrypted);
  if (!encrypted) return undefined;
  let inner: Uint8Array | undefined;
  let tampered = false;
  for (const sk of sessionKeys) {
    if (!handlesAlgorithm(sk.algorithm)) return undefined;
    try {
      inner = decryptSeipdV1(sk.algorithm as string, sk.data, encrypted);
      break;
    } catch (err) {
      if (!(err instanceof ModificationDetectedError)) return undefined;
      tampered = true;
    }
  }
  if (!inner) {
    if (tampered) {
      throw new CryptoError("tampered", `Cannot decrypt ${what}: the data is corrupt or modified`);
    }
    return undefined;
  }
  let plain: openpgp.Message<Uint8Array>;
  try {
    plain = await openpgp.readMessage({ binaryMessage: inner });
  } catch {
    return undefined;
  }
  // Only what openpgp.js accepts inside an SEIPD packet; anything else goes to openpgp.js, which
  // refuses it as before.
  if (!plain.packets.every((p) => SEIPD_INNER_TAGS.has(packetTag(p)))) return undefined;
  const literal = plain.getLiteralData();
  if (!(literal instanceof Uint8Array)) return undefined;
  const checked = !!verificationKeys && verificationKeys.length > 0;
  let signatures: Awaited<ReturnType<typeof plain.verify>>;
  try {
    signatures = await plain.verify(checked ? [...verificationKeys] : []);
  } catch {
    return undefined;
  }
  return { data: literal, signature: await signatureStatus(signatures, checked) };
}

/**
 * Settles every `verified` promise (an unobserved rejection would crash Deno) and summarises them:
 * `valid` when at least one signature verifies with the given keys.
 */
export async function signatureStatus(
  signatures: openpgp.DecryptMessageResult["signatures"],
  checked: boolean,
): Promise<SignatureStatus> {
  const outcomes = await Promise.allSettled(signatures.map((s) => s.verified));
  if (signatures.length === 0) return "unsigned";
  if (!checked) return "not-checked";
  return outcomes.some((o) => o.status === "fulfilled" && o.value === true) ? "valid" : "invalid";
}

/** Options of {@link encryptBytes}. */
export interface EncryptBytesOptions {
  data: string | Uint8Array;
  encryptionKeys: readonly (openpgp.PublicKey | openpgp.PrivateKey)[];
  signingKeys?: readonly openpgp.PrivateKey[];
  sessionKey?: openpgp.SessionKey;
}

/** Turns text into UTF-8 bytes; bytes pass through. `bad-input` for anything else. */
export function toBytes(data: string | Uint8Array, what: string): Uint8Array {
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (data instanceof Uint8Array) return data;
  throw new CryptoError("bad-input", `Cannot ${what}: the data must be a string or bytes`);
}

/**
 * Encrypts (and signs) bytes as a binary literal, so text and bytes both round-trip exactly
 * (openpgp.js's text mode would rewrite line endings).
 */
export async function encryptBytes(
  opts: EncryptBytesOptions,
  format: "armored",
): Promise<string>;
export async function encryptBytes(
  opts: EncryptBytesOptions,
  format: "binary",
): Promise<Uint8Array>;
export async function encryptBytes(
  opts: EncryptBytesOptions,
  format: "armored" | "binary",
): Promise<string | Uint8Array> {
  const bytes = toBytes(opts.data, "encrypt message");
  requireKeys(opts.encryptionKeys, "encrypt message");
  const signingKeys = opts.signingKeys ?? [];
  for (const k of signingKeys) {
    if (!k.isPrivate() || !k.isDecrypted()) {
      throw new CryptoError(
        "bad-input",
        `Cannot encrypt message: signing key ${keyLabel(k)} is not an unlocked private key`,
      );
    }
  }
  const encryptionKeys = toPublicKeys(opts.encryptionKeys);
  try {
    const message = await openpgp.createMessage({ binary: bytes, format: "binary" });
    const base = {
      message,
      encryptionKeys,
      ...(signingKeys.length > 0 ? { signingKeys: [...signingKeys] } : {}),
      ...(opts.sessionKey ? { sessionKey: opts.sessionKey } : {}),
    };
    return format === "armored"
      ? await openpgp.encrypt({ ...base, format: "armored" })
      : await openpgp.encrypt({ ...base, format: "binary" });
  } catch (err) {
    const msg = errorMessage(err);
    const kind = /could not find valid (encryption )?key packet|no valid encryption key/i.test(msg)
      ? "no-key"
      : "bad-input";
    throw toCryptoError(err, kind, "Cannot encrypt message");
  }
}
