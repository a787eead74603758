/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA-1, 6 digits, 30-second
 * steps, secrets in RFC 4648 base32 as authenticator apps show them. The reference server checks
 * `POST /auth/v4/2fa` codes with {@link verifyTotp}; tests and the demo compute codes with
 * {@link totpCode}.
 *
 * Times are Unix seconds, like every time on the Proton wire.
 *
 * @module
 */
import { createHmac } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Length of one TOTP time step, in seconds (RFC 6238 §4.1 default). */
export const TOTP_STEP_SECONDS = 30;

/** Decodes RFC 4648 base32 (case-insensitive; spaces, dashes and `=` padding ignored). */
export function base32Decode(text: string): Uint8Array {
  const clean = text.toUpperCase().replace(/[\s=-]/g, "");
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`invalid base32 character '${ch}'`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return new Uint8Array(out);
}

/** Encodes bytes as RFC 4648 base32 without padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(value >>> bits) & 31];
    }
    value &= 0xff;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** RFC 4226 HOTP value of `counter` with `digits` digits (zero-padded). */
export function hotp(key: Uint8Array, counter: number, digits = 6): string {
  const msg = new Uint8Array(8);
  // Counters stay far below 2^53, so splitting into two 32-bit halves is exact.
  new DataView(msg.buffer).setUint32(0, Math.floor(counter / 2 ** 32));
  new DataView(msg.buffer).setUint32(4, counter >>> 0);
  const mac = createHmac("sha1", key).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) |
    mac[offset + 3];
  return (bin % 10 ** digits).toString().padStart(digits, "0");
}

/**
 * The TOTP code of a base32 secret at `time` (Unix seconds; default now).
 *
 * @example
 * ```ts
 * // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 with 8 digits.
 * totpCode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59); // "287082"
 * ```
 */
export function totpCode(secretBase32: string, time = Date.now() / 1000, digits = 6): string {
  return hotp(base32Decode(secretBase32), Math.floor(time / TOTP_STEP_SECONDS), digits);
}

/**
 * Whether `code` is the TOTP code of `secretBase32` at `time` (Unix seconds; default now),
 * accepting `window` steps of clock drift either side.
 */
export function verifyTotp(
  secretBase32: string,
  code: string,
  time = Date.now() / 1000,
  window = 1,
): boolean {
  return totpStep(secretBase32, code, time, window) !== undefined;
}

/**
 * The time step (RFC 6238 §4.2 counter) whose code `code` is, within `window` steps of `time`,
 * or `undefined`: a verifier records it so that a code is accepted once (RFC 6238 §5.2).
 */
export function totpStep(
  secretBase32: string,
  code: string,
  time = Date.now() / 1000,
  window = 1,
): number | undefined {
  const trimmed = code.trim();
  if (!/^\d{6}$/.test(trimmed)) return undefined;
  const key = base32Decode(secretBase32);
  const step = Math.floor(time / TOTP_STEP_SECONDS);
  for (let d = -window; d <= window; d++) {
    if (step + d >= 0 && hotp(key, step + d) === trimmed) return step + d;
  }
  return undefined;
}

/** A fresh random TOTP secret: 20 bytes (160 bits, RFC 4226 §4 recommendation) in base32. */
export function generateTotpSecret(): string {
  return base32Encode(crypto.getRandomValues(new Uint8Array(20)));
}
