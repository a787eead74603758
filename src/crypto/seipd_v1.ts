/**
 * Decryption of a version 1 Symmetrically Encrypted and Integrity Protected Data packet (RFC 9580
 * §5.13.1, the SEIPD packet every Proton message body and attachment uses with AES) through
 * native AES.
 *
 * Why: openpgp.js decrypts SEIPD v1 with AES in CFB mode, and takes its native path only when
 * `node:crypto` offers an `aes-*-cfb` cipher. Deno's `node:crypto` does not, so openpgp.js falls
 * back to AES written in JavaScript: about 10 MB/s here, the largest single item of decrypting a
 * message body and the whole cost of a large attachment. CFB decryption needs only the block
 * cipher's *encryption* of the previous ciphertext block, so the keystream of the whole packet is
 * one AES-ECB encryption of `IV ‖ C₀ ‖ … ‖ Cₙ₋₂`, which `node:crypto` does natively.
 *
 * The packet layout (RFC 9580 §5.13.2): CFB with an all-zero IV over `prefix ‖ packets ‖ 0xD3
 * 0x14 ‖ SHA-1(prefix ‖ packets ‖ 0xD3 0x14)`, the prefix being one random block plus a copy of
 * its last two bytes. Like openpgp.js, the two check bytes of the prefix are not compared (that
 * would be a decryption oracle); the SHA-1 "modification detection code" is, and a mismatch is an
 * error. What lies between prefix and MDC is handed back as packet bytes for openpgp.js to parse.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createHash } from "node:crypto";

const BLOCK = 16;
/** Random prefix (one block) plus the repeated two bytes. */
const PREFIX = BLOCK + 2;
/** The MDC packet: tag 0xD3, length 0x14, 20 bytes of SHA-1. */
const MDC = 22;

/** openpgp.js session key algorithm names handled here → `node:crypto` ECB cipher names. */
const ECB: Record<string, { cipher: string; keyBytes: number }> = {
  aes128: { cipher: "aes-128-ecb", keyBytes: 16 },
  aes192: { cipher: "aes-192-ecb", keyBytes: 24 },
  aes256: { cipher: "aes-256-ecb", keyBytes: 32 },
};

let decrypted = 0;

/** Packets decrypted by {@link decryptSeipdV1} in this process (for tests and benchmarks). */
export function nativeDecryptions(): number {
  return decrypted;
}

/** Thrown when the MDC does not match: wrong key, or data corrupted or modified. */
export class ModificationDetectedError extends Error {
  constructor() {
    super("Modification detected: the integrity check of the encrypted data failed");
    this.name = "ModificationDetectedError";
  }
}

/** Whether {@link decryptSeipdV1} handles `algorithm` (an openpgp.js symmetric algorithm name). */
export function handlesAlgorithm(algorithm: string | null | undefined): boolean {
  return typeof algorithm === "string" && Object.hasOwn(ECB, algorithm);
}

/**
 * Decrypts the encrypted bytes of a SEIPD v1 packet (everything after its version byte) with
 * `key` and returns the packet bytes inside (between prefix and MDC).
 *
 * @param algorithm `aes128`, `aes192` or `aes256` (see {@link handlesAlgorithm}).
 * @param key The session key.
 * @param encrypted The packet's ciphertext.
 * @throws {ModificationDetectedError} when the MDC does not match (or the data is too short to
 *   hold one); {@link TypeError} for an algorithm or key size this does not handle.
 */
export function decryptSeipdV1(
  algorithm: string,
  key: Uint8Array,
  encrypted: Uint8Array,
): Uint8Array {
  const params = Object.hasOwn(ECB, algorithm) ? ECB[algorithm] : undefined;
  if (!params) throw new TypeError(`SEIPD v1 fast path: unsupported algorithm ${algorithm}`);
  if (key.length !== params.keyBytes) throw new TypeError("SEIPD v1 fast path: bad key size");
  const n = encrypted.length;
  if (n < PREFIX + MDC) throw new ModificationDetectedError();
  const blocks = Math.ceil(n / BLOCK);
  // Keystream block i = E(C[i-1]), with C[-1] = IV = 0: one ECB pass over IV ‖ C[0 .. blocks-2].
  const input = new Uint8Array(blocks * BLOCK);
  input.set(encrypted.subarray(0, (blocks - 1) * BLOCK), BLOCK);
  const cipher = createCipheriv(params.cipher, key, null);
  cipher.setAutoPadding(false);
  const stream = cipher.update(input);
  const tail = cipher.final();
  const keystream = tail.length === 0 ? stream : Buffer.concat([stream, tail]);
  if (keystream.length < n) throw new TypeError("SEIPD v1 fast path: short keystream");
  const plain = new Uint8Array(n);
  for (let i = 0; i < n; i++) plain[i] = encrypted[i] ^ keystream[i];
  const digest = createHash("sha1").update(plain.subarray(0, n - 20)).digest();
  const mdc = plain.subarray(n - 20);
  let diff = 0;
  for (let i = 0; i < 20; i++) diff |= digest[i] ^ mdc[i];
  if (diff !== 0 || plain[n - MDC] !== 0xD3 || plain[n - MDC + 1] !== 0x14) {
    throw new ModificationDetectedError();
  }
  decrypted++;
  return plain.subarray(PREFIX, n - MDC);
}
