/**
 * IMAP string encoding for FETCH data (RFC 3501 §4.3, §9 `string` / `nstring`): chooses a quoted
 * string or a literal, as Dovecot does, so that ENVELOPE and BODYSTRUCTURE bytes match what
 * clients see from Dovecot.
 *
 * The public functions take either Unicode strings (written as UTF-8) or raw bytes (`Uint8Array`,
 * written as they are — use this for header values kept as binary strings, via `binaryToBytes`)
 * and return bytes. The `*Binary` variants work on binary strings (one char per byte) in and out,
 * which is what the ENVELOPE and BODYSTRUCTURE serialisers use to avoid small allocations.
 *
 * @module
 */
import { binaryToBytes, bytesToBinary, utf8Encode } from "./_bytes.ts";

/** Strings longer than this are always sent as literals. */
export const MAX_QUOTED_LENGTH = 1024;

function toBinary(value: string | Uint8Array): string {
  if (typeof value !== "string") return bytesToBinary(value);
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) return bytesToBinary(utf8Encode(value));
  }
  return value;
}

/**
 * {@link imapString} on a binary string: a quoted string with `\"` and `\\` escapes when the value
 * is short, 7-bit, without CR, LF or NUL and with at most four characters to escape (Dovecot's
 * rule); otherwise a literal `{n}\r\n` followed by the bytes.
 */
export function imapStringBinary(s: string): string {
  if (s.length > MAX_QUOTED_LENGTH) return `{${s.length}}\r\n${s}`;
  let escapes = 0;
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b === 0x22 || b === 0x5c) {
      if (++escapes > 4) return `{${s.length}}\r\n${s}`;
    } else if (b === 0x0d || b === 0x0a || b === 0 || b >= 0x80) return `{${s.length}}\r\n${s}`;
  }
  return '"' + (escapes ? s.replace(/["\\]/g, "\\$&") : s) + '"';
}

/** Encodes an IMAP `string` (see {@link imapStringBinary} for the rule). */
export function imapString(value: string | Uint8Array): Uint8Array {
  return binaryToBytes(imapStringBinary(toBinary(value)));
}

/** Encodes an IMAP `nstring`: `NIL` for null/undefined, else {@link imapString}. */
export function imapNString(value: string | Uint8Array | null | undefined): Uint8Array {
  return value === null || value === undefined ? binaryToBytes("NIL") : imapString(value);
}

/** {@link imapNString} on a binary string. */
export function imapNStringBinary(s: string | null | undefined): string {
  return s === null || s === undefined ? "NIL" : imapStringBinary(s);
}

/**
 * {@link imapStringForHumans} on a binary string (`null` gives `NIL`).
 */
export function imapStringForHumansBinary(s: string | null | undefined): string {
  if (s === null || s === undefined) return "NIL";
  let modify = false;
  let lastLwsp = true;
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b === 0x0d || b === 0x0a || b === 0x09) {
      modify = true;
      lastLwsp = true;
    } else if (b === 0x20) {
      if (lastLwsp) modify = true;
      lastLwsp = true;
    } else {
      if (b === 0 || b >= 0x80 || b === 0x22 || b === 0x5c) modify = true;
      lastLwsp = false;
    }
  }
  if (lastLwsp && s.length > 0) modify = true;
  if (!modify) return '"' + s + '"';
  let out = "";
  lastLwsp = true;
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b === 0x0d || b === 0x0a || b === 0x09 || b === 0x20) {
      if (!lastLwsp) out += " ";
      lastLwsp = true;
    } else {
      out += b === 0 ? "\x80" : s[i];
      lastLwsp = false;
    }
  }
  if (out.endsWith(" ")) out = out.slice(0, -1);
  if (out.length === 0) return '""';
  return `{${out.length}}\r\n${out}`;
}

/**
 * Encodes a string meant for humans (ENVELOPE subject and display names) the way Dovecot does
 * (`imap_append_string_for_humans`): when it has no CR, LF, TAB, NUL, 8-bit byte, `"`, `\`,
 * leading, trailing or repeated spaces it is sent as a plain quoted string; otherwise it is sent as
 * a literal in which every run of whitespace (including line breaks) becomes one space, leading and
 * trailing whitespace is removed and NUL becomes 0x80. A string of only whitespace becomes `""`.
 * Null gives `NIL`.
 */
export function imapStringForHumans(value: string | Uint8Array | null | undefined): Uint8Array {
  return binaryToBytes(
    imapStringForHumansBinary(value === null || value === undefined ? value : toBinary(value)),
  );
}
