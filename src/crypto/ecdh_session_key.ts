/**
 * Recovering a session key from a version 3 public-key encrypted session key packet (PKESK, RFC
 * 9580 §5.1) made to a Curve25519 ECDH key (algorithm 18 with the legacy `Curve25519` OID, the key
 * type of Proton address keys and of the keys this bridge generates), synchronously through
 * `node:crypto`.
 *
 * Why: openpgp.js does the same three steps — X25519, the RFC 6637 key derivation, AES key unwrap
 * (RFC 3394) — through WebCrypto, whose calls in Deno each cost tens of microseconds of main-thread
 * time (`importKey`, `deriveBits`, `unwrapKey`, `exportKey`) and suspend the build at every step;
 * in the first sync's CPU profile that was about 0.2 ms per message, a fifth of building it. Here
 * the whole key packet takes one X25519 (`diffieHellman`), one SHA-2 hash and one AES-ECB
 * decipher stepped through the unwrap: about 0.14 ms against 0.5 ms, with no await.
 *
 * Only what is certain is handled here; anything else — RSA and other key types, v6 packets, a
 * KDF hash or wrapping cipher outside SHA-256/384/512 and AES-128/192/256, a malformed packet, an
 * unwrap whose integrity check fails, a bad checksum — returns `undefined`, and the caller hands
 * the packet to openpgp.js, which decrypts it or produces its usual error. Nothing is logged.
 *
 * The steps (RFC 9580 §5.1.4–§5.1.6, RFC 6637 §7–§8):
 * 1. the packet body: `03 ‖ key ID (8) ‖ 18 ‖ MPI(0x40 ‖ ephemeral X25519 public key) ‖ len ‖ C`;
 * 2. `Z = X25519(d, V)`, where the secret key `d` is stored big-endian in the key packet and used
 *    in X25519's little-endian form;
 * 3. `KEK = Hash(00 00 00 01 ‖ Z ‖ Param)` truncated to the wrapping cipher's key size, with
 *    `Param = len(OID) ‖ OID ‖ 18 ‖ 03 01 ‖ hash ID ‖ cipher ID ‖ "Anonymous Sender    " ‖
 *    recipient fingerprint (20 bytes)`;
 * 4. `m = AES-KW-unwrap(KEK, C)`; `m = algorithm ‖ session key ‖ checksum (2) ‖ PKCS#5 padding`,
 *    the checksum being the sum of the key bytes modulo 65536.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
} from "node:crypto";
import type * as openpgp from "openpgp";
import type { SessionKey } from "./session_key.ts";
import { bytesEqual } from "./srp_hash.ts";

/** OpenPGP public-key algorithm ID of ECDH. */
const ECDH = 18;
/** The legacy Curve25519 OID, 1.3.6.1.4.1.3029.1.5.1 (RFC 9580 §9.2). */
const CURVE25519_OID = Uint8Array.from([
  0x2b,
  0x06,
  0x01,
  0x04,
  0x01,
  0x97,
  0x55,
  0x01,
  0x05,
  0x01,
]);
/** DER prefixes of an X25519 private key (PKCS #8) and public key (SPKI), RFC 8410. */
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");
const ANONYMOUS_SENDER = new TextEncoder().encode("Anonymous Sender    ");
const KDF_COUNTER = Uint8Array.from([0, 0, 0, 1]);

/** KDF hash algorithm IDs (RFC 9580 §9.5) → `node:crypto` names. */
const HASHES: Record<number, string> = { 8: "sha256", 9: "sha384", 10: "sha512" };
/** Wrapping cipher IDs (RFC 9580 §9.3) → key bytes; the same table names session key ciphers. */
const AES_KEY_BYTES: Record<number, number> = { 7: 16, 8: 24, 9: 32 };
/** Session key algorithm IDs → openpgp.js names (the AES family; others go to openpgp.js). */
const SESSION_ALGORITHMS: Record<number, string> = { 7: "aes128", 8: "aes192", 9: "aes256" };

/** What one Curve25519 ECDH key needs, computed once per key packet. */
interface PreparedKey {
  /** The low 64 bits of the v4 fingerprint. */
  keyId: Uint8Array;
  privateKey: KeyObject;
  hash: string;
  kekBytes: number;
  param: Uint8Array;
}

/** The parts of an openpgp.js key packet read here. */
interface KeyPacketLike {
  version?: number;
  algorithm?: unknown;
  publicParams?: { oid?: { toHex?: () => string }; kdfParams?: { hash?: number; cipher?: number } };
  privateParams?: { d?: unknown } | null;
  isDecrypted?: () => boolean | null;
  getFingerprintBytes?: () => Uint8Array | null;
}

const prepared = new WeakMap<object, PreparedKey | null>();
const OID_HEX = Array.from(CURVE25519_OID, (b) => b.toString(16).padStart(2, "0")).join("");

let recovered = 0;

/** Session keys recovered by {@link decryptEcdhKeyPacket} in this process (tests, benchmarks). */
export function nativeKeyPacketDecryptions(): number {
  return recovered;
}

/** The Curve25519 ECDH key packets of `keys` (primary and subkeys), prepared for use. */
function ecdhKeysOf(keys: readonly openpgp.PrivateKey[]): PreparedKey[] {
  const out: PreparedKey[] = [];
  for (const key of keys) {
    for (const packet of [key.keyPacket, ...key.subkeys.map((s) => s.keyPacket)]) {
      const ready = prepare(packet as unknown as KeyPacketLike);
      if (ready) out.push(ready);
    }
  }
  return out;
}

function prepare(packet: KeyPacketLike): PreparedKey | undefined {
  if (packet.algorithm !== "ecdh" && packet.algorithm !== ECDH) return undefined;
  if (!packet.isDecrypted?.()) {
    // Locked again (or cleared): forget the copy of its secret too.
    prepared.delete(packet);
    return undefined;
  }
  const cached = prepared.get(packet);
  if (cached !== undefined) return cached ?? undefined;
  let ready: PreparedKey | null = null;
  try {
    ready = build(packet);
  } catch {
    ready = null;
  }
  prepared.set(packet, ready);
  return ready ?? undefined;
}

function build(packet: KeyPacketLike): PreparedKey | null {
  if (packet.version !== 4) return null;
  const params = packet.publicParams;
  if (params?.oid?.toHex?.() !== OID_HEX) return null;
  const hashId = Number(params.kdfParams?.hash);
  const cipherId = Number(params.kdfParams?.cipher);
  const hash = HASHES[hashId];
  const kekBytes = AES_KEY_BYTES[cipherId];
  const d = packet.privateParams?.d;
  const fingerprint = packet.getFingerprintBytes?.();
  if (!hash || !kekBytes || !(d instanceof Uint8Array) || d.length !== 32) return null;
  if (!(fingerprint instanceof Uint8Array) || fingerprint.length !== 20) return null;
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519, Buffer.from(d).reverse()]),
    format: "der",
    type: "pkcs8",
  });
  const param = new Uint8Array(1 + CURVE25519_OID.length + 5 + ANONYMOUS_SENDER.length + 20);
  let at = 0;
  param[at++] = CURVE25519_OID.length;
  param.set(CURVE25519_OID, at);
  at += CURVE25519_OID.length;
  param.set([ECDH, 3, 1, hashId, cipherId], at);
  at += 5;
  param.set(ANONYMOUS_SENDER, at);
  param.set(fingerprint, at + ANONYMOUS_SENDER.length);
  return { keyId: fingerprint.slice(12), privateKey, hash, kekBytes, param };
}

/**
 * Decrypts one PKESK packet body (the bytes after the packet header) with whichever of `keys` it
 * was made for, when that is a Curve25519 ECDH key.
 *
 * @param body The packet body, e.g. openpgp.js's `packet.write()` of a parsed PKESK packet.
 * @param keys Unlocked private keys.
 * @returns The session key, or `undefined` when this path does not handle the packet or no key
 *   opens it (the caller then asks openpgp.js).
 */
export function decryptEcdhKeyPacket(
  body: Uint8Array,
  keys: readonly openpgp.PrivateKey[],
): SessionKey | undefined {
  // 03 ‖ key ID ‖ 18 ‖ MPI(263 bits: 0x40 ‖ 32 bytes) ‖ len ‖ C
  if (body.length < 1 + 8 + 1 + 2 + 33 + 1 || body[0] !== 3 || body[9] !== ECDH) return undefined;
  if (((body[10] << 8) | body[11]) !== 263 || body[12] !== 0x40) return undefined;
  const ephemeral = body.subarray(13, 45);
  const wrappedLength = body[45];
  const wrapped = body.subarray(46);
  if (wrapped.length !== wrappedLength || wrappedLength < 24 || wrappedLength % 8 !== 0) {
    return undefined;
  }
  const keyId = body.subarray(1, 9);
  const wildcard = keyId.every((b) => b === 0);
  const candidates = ecdhKeysOf(keys).filter((k) => wildcard || bytesEqual(k.keyId, keyId));
  if (candidates.length === 0) return undefined;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({
      key: Buffer.concat([SPKI_X25519, ephemeral]),
      format: "der",
      type: "spki",
    });
  } catch {
    return undefined;
  }
  for (const key of candidates) {
    try {
      const shared = diffieHellman({ privateKey: key.privateKey, publicKey });
      const kek = createHash(key.hash).update(KDF_COUNTER).update(shared).update(key.param)
        .digest().subarray(0, key.kekBytes);
      const m = unwrapKey(kek, wrapped);
      const sessionKey = m && sessionKeyOf(m);
      if (sessionKey) {
        recovered++;
        return sessionKey;
      }
    } catch {
      // Not this key (or not this path): try the next, then openpgp.js.
    }
  }
  return undefined;
}

/**
 * AES key unwrap (RFC 3394 §2.2.2, the index-based form) with the default IV `A6…A6`.
 * `undefined` when the integrity check fails.
 */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Uint8Array | undefined {
  const cipher = kek.length === 16
    ? "aes-128-ecb"
    : kek.length === 24
    ? "aes-192-ecb"
    : kek.length === 32
    ? "aes-256-ecb"
    : undefined;
  if (!cipher || wrapped.length < 24 || wrapped.length % 8 !== 0) return undefined;
  const n = wrapped.length / 8 - 1;
  const a = wrapped.slice(0, 8);
  const r = wrapped.slice(8);
  const decipher = createDecipheriv(cipher, kek, null);
  decipher.setAutoPadding(false);
  const block = new Uint8Array(16);
  for (let j = 5; j >= 0; j--) {
    for (let i = n; i >= 1; i--) {
      const t = n * j + i;
      block.set(a, 0);
      block[7] ^= t & 0xff;
      block[6] ^= (t >>> 8) & 0xff;
      block[5] ^= (t >>> 16) & 0xff;
      block[4] ^= (t >>> 24) & 0xff;
      block.set(r.subarray((i - 1) * 8, i * 8), 8);
      const out = decipher.update(block);
      a.set(out.subarray(0, 8));
      r.set(out.subarray(8, 16), (i - 1) * 8);
    }
  }
  let diff = 0;
  for (let k = 0; k < 8; k++) diff |= a[k] ^ 0xa6;
  return diff === 0 ? r : undefined;
}

/** `algorithm ‖ key ‖ checksum ‖ PKCS#5 padding` → the session key, if every part checks out. */
function sessionKeyOf(m: Uint8Array): SessionKey | undefined {
  const pad = m[m.length - 1];
  if (pad < 1 || pad > 8 || pad > m.length) return undefined;
  for (let i = m.length - pad; i < m.length; i++) if (m[i] !== pad) return undefined;
  const unpadded = m.subarray(0, m.length - pad);
  const algorithm = SESSION_ALGORITHMS[unpadded[0]];
  const size = AES_KEY_BYTES[unpadded[0]];
  if (!algorithm || unpadded.length !== 1 + size + 2) return undefined;
  const key = unpadded.slice(1, 1 + size);
  let sum = 0;
  for (const b of key) sum = (sum + b) & 0xffff;
  if (sum !== ((unpadded[1 + size] << 8) | unpadded[2 + size])) return undefined;
  return { data: key, algorithm };
}
