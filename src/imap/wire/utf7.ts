/**
 * Modified UTF-7 for IMAP mailbox names (RFC 3501 §5.1.3).
 *
 * Printable US-ASCII (0x20–0x7e) stands for itself except `&`, written `&-`. Everything else is
 * UTF-16 in base64 with `,` instead of `/`, no padding, between `&` and `-`. The decoder is strict:
 * it refuses what RFC 3501 forbids (8-bit or control characters, unterminated or empty shifts,
 * printable ASCII inside base64, non-zero or excess padding bits, broken surrogate pairs, and
 * "null shifts" `-&` that end one base64 run and start another), so that every accepted name has
 * exactly one encoding and `encodeMailboxName(decodeMailboxName(x)) === x`.
 *
 * @example
 * ```ts ignore
 * import { decodeMailboxName, encodeMailboxName } from "./utf7.ts";
 * encodeMailboxName("Café ☕"); // "Caf&AOk- &JhU-"
 * decodeMailboxName("~peter/mail/&ZeVnLIqe-/&U,BTFw-"); // "~peter/mail/日本語/台北"
 * ```
 *
 * @module
 */

/** Raised by {@link decodeMailboxName} for a name that is not valid modified UTF-7. */
export class Utf7Error extends SyntaxError {
  /** Creates the error; `message` says what is wrong (sentence case, no final period). */
  constructor(message: string) {
    super(message);
    this.name = "Utf7Error";
  }
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function isPrintable(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}

/**
 * Encodes a Unicode mailbox name as modified UTF-7. Lone surrogates (not representable) become
 * U+FFFD first.
 */
export function encodeMailboxName(name: string): string {
  const s = name.toWellFormed();
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isPrintable(c)) {
      out += c === 0x26 ? "&-" : s[i];
      i++;
      continue;
    }
    // A run of characters that need base64: collect their UTF-16 code units.
    let bits = 0;
    let nbits = 0;
    out += "&";
    while (i < s.length && !isPrintable(s.charCodeAt(i))) {
      bits = (bits << 16) | s.charCodeAt(i);
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        out += ALPHABET[(bits >> nbits) & 0x3f];
      }
      bits &= (1 << nbits) - 1;
      i++;
    }
    if (nbits > 0) out += ALPHABET[(bits << (6 - nbits)) & 0x3f];
    out += "-";
  }
  return out;
}

/**
 * Decodes a modified UTF-7 mailbox name. Throws {@link Utf7Error} with a precise reason when the
 * name is not valid modified UTF-7.
 */
export function decodeMailboxName(encoded: string): string {
  let out = "";
  let i = 0;
  let lastShiftEnd = -1; // index just after the '-' that closed the previous base64 run
  while (i < encoded.length) {
    const c = encoded.charCodeAt(i);
    if (!isPrintable(c)) {
      throw new Utf7Error(
        `Mailbox name has a character that must be modified-UTF-7 encoded at offset ${i}`,
      );
    }
    if (c !== 0x26) {
      out += encoded[i];
      i++;
      continue;
    }
    // '&'
    if (encoded.charCodeAt(i + 1) === 0x2d) {
      out += "&";
      i += 2;
      continue;
    }
    if (lastShiftEnd === i) {
      throw new Utf7Error(
        `Mailbox name has two adjacent base64 runs at offset ${i} (a null shift, not allowed)`,
      );
    }
    const start = i;
    i++;
    let bits = 0;
    let nbits = 0;
    let units: number[] = [];
    for (;;) {
      if (i >= encoded.length) {
        throw new Utf7Error(`Mailbox name has an unterminated base64 run at offset ${start}`);
      }
      const d = encoded.charCodeAt(i);
      if (d === 0x2d) break;
      const v = d < 128 ? DECODE[d] : -1;
      if (v < 0) {
        throw new Utf7Error(`Mailbox name has an invalid base64 character at offset ${i}`);
      }
      bits = (bits << 6) | v;
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units.push((bits >> nbits) & 0xffff);
        bits &= (1 << nbits) - 1;
      }
      i++;
    }
    if (nbits >= 6 || bits !== 0) {
      throw new Utf7Error(`Mailbox name has a badly padded base64 run at offset ${start}`);
    }
    if (units.length === 0) {
      throw new Utf7Error(`Mailbox name has an empty base64 run at offset ${start}`);
    }
    for (let k = 0; k < units.length; k++) {
      const u = units[k];
      if (isPrintable(u)) {
        throw new Utf7Error(
          `Mailbox name encodes printable ASCII in base64 at offset ${start} (must represent itself)`,
        );
      }
      if (u >= 0xd800 && u <= 0xdbff) {
        const next = units[k + 1];
        if (next === undefined || next < 0xdc00 || next > 0xdfff) {
          throw new Utf7Error(`Mailbox name has a broken UTF-16 surrogate pair at offset ${start}`);
        }
        k++;
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        throw new Utf7Error(`Mailbox name has a broken UTF-16 surrogate pair at offset ${start}`);
      }
    }
    for (const u of units) out += String.fromCharCode(u);
    units = [];
    i++; // the '-'
    lastShiftEnd = i;
  }
  return out;
}

/** True when `encoded` is valid modified UTF-7 (see {@link decodeMailboxName}). */
export function isValidMailboxName(encoded: string): boolean {
  try {
    decodeMailboxName(encoded);
    return true;
  } catch {
    return false;
  }
}
