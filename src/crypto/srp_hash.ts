/**
 * The arithmetic and hashing primitives of Proton's SRP (go-srp `hash.go`, `srp.go`):
 * the "expanded SHA-512" hash H, little-endian big-integer conversions, modular exponentiation
 * and strict standard base64.
 *
 * Every big integer of the protocol travels as a little-endian byte string of exactly
 * 2048 / 8 = 256 bytes (go-srp `toInt` / `fromInt` reverse the bytes).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { SrpError } from "./srp_error.ts";

/** Bit length of every SRP integer Proton uses. */
export const SRP_BIT_LENGTH = 2048;

/** Byte length of every SRP integer Proton uses. */
export const SRP_BYTE_LENGTH = SRP_BIT_LENGTH / 8;

/**
 * H: SHA512(data‖0x00) ‖ SHA512(data‖0x01) ‖ SHA512(data‖0x02) ‖ SHA512(data‖0x03), 256 bytes.
 *
 * @param data The bytes to hash.
 * @returns The 256-byte digest.
 */
export function expandHash(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(256);
  for (let i = 0; i < 4; i++) {
    const h = createHash("sha512");
    h.update(data);
    h.update(Uint8Array.of(i));
    out.set(h.digest(), i * 64);
  }
  return out;
}

/**
 * Reads a little-endian unsigned integer.
 *
 * @param bytes Little-endian bytes (any length).
 * @returns The integer.
 */
export function bytesToBigIntLE(bytes: Uint8Array): bigint {
  let hex = "";
  for (let i = bytes.length - 1; i >= 0; i--) hex += bytes[i]!.toString(16).padStart(2, "0");
  return hex === "" ? 0n : BigInt("0x" + hex);
}

/**
 * Writes a non-negative integer as exactly `len` little-endian bytes (zero-padded).
 *
 * @param n The integer, `0 <= n < 256^len`.
 * @param len The output length, 256 by default.
 * @returns The little-endian bytes.
 * @throws {RangeError} When `n` is negative or does not fit.
 */
export function bigIntToBytesLE(n: bigint, len: number = SRP_BYTE_LENGTH): Uint8Array {
  if (n < 0n) throw new RangeError("Cannot encode a negative integer");
  const hex = n.toString(16);
  if (hex.length > len * 2) {
    throw new RangeError(`Integer does not fit in ${len} bytes`);
  }
  const padded = hex.padStart(len * 2, "0");
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[len - 1 - i] = parseInt(padded.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/**
 * Non-negative remainder of `a` modulo `m`.
 *
 * @param a Any integer.
 * @param m A positive modulus.
 * @returns `a mod m` in `[0, m)`.
 */
export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/**
 * `base^exponent mod modulus` by left-to-right square-and-multiply.
 *
 * @param base Any integer (reduced modulo `modulus` first).
 * @param exponent A non-negative exponent.
 * @param modulus A positive modulus.
 * @returns The result in `[0, modulus)`.
 */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus <= 0n) throw new RangeError("Modulus must be positive");
  if (exponent < 0n) throw new RangeError("Exponent must not be negative");
  if (modulus === 1n) return 0n;
  const b = mod(base, modulus);
  let result = 1n;
  const bits = exponent.toString(2);
  for (let i = 0; i < bits.length; i++) {
    result = (result * result) % modulus;
    if (bits.charCodeAt(i) === 49 /* "1" */) result = (result * b) % modulus;
  }
  return result;
}

/** Number of significant bits of a non-negative integer (0 for 0). */
export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Constant-time (for equal lengths) comparison of two byte strings.
 *
 * @returns Whether both have the same length and content.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const BASE64_REGEXP = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Encodes bytes as padded standard base64 (Go's `base64.StdEncoding`).
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes padded standard base64 strictly, as Go's `base64.StdEncoding.DecodeString` does for
 * the SRP fields: padding required, no whitespace inside.
 *
 * @param text The base64 text.
 * @param what What the text is, for the error message.
 * @returns The bytes.
 * @throws {SrpError} `bad-input` when the text is not valid base64.
 */
export function decodeBase64(text: string, what: string): Uint8Array {
  if (typeof text !== "string" || !BASE64_REGEXP.test(text)) {
    throw new SrpError("bad-input", `Invalid base64 in ${what}`);
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
