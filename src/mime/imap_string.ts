/**
 * IMAP string encoding for FETCH data (RFC 3501 §4.3, §9 `string` / `nstring`): chooses a quoted
 * string or a literal, as Dovecot does, so that ENVELOPE and BODYSTRUCTURE bytes match what
 * clients see from Dovecot.
 *
 * Inputs are either Unicode strings (written as UTF-8) or raw bytes (`Uint8Array`, written as
 * they are — use this for header values kept as binary strings, via `binaryToBytes`).
 *
 * @module
 */
import { binaryToBytes, ByteWriter, utf8Encode } from "./_bytes.ts";

/** Strings longer than this are always sent as literals. */
export const MAX_QUOTED_LENGTH = 1024;

function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? utf8Encode(value) : value;
}

function literal(bytes: Uint8Array): Uint8Array {
  return new ByteWriter().binary(`{${bytes.length}}\r\n`).bytes(bytes).finish();
}

/**
 * Encodes an IMAP `string`: a quoted string with `\"` and `\\` escapes when the value is short,
 * 7-bit, without CR, LF or NUL and with at most four characters to escape (Dovecot's rule);
 * otherwise a literal `{n}\r\n` followed by the bytes.
 */
export function imapString(value: string | Uint8Array): Uint8Array {
  const bytes = toBytes(value);
  if (bytes.length > MAX_QUOTED_LENGTH) return literal(bytes);
  let escapes = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x22 || b === 0x5c) {
      if (++escapes > 4) return literal(bytes);
    } else if (b === 0x0d || b === 0x0a || b === 0 || b >= 0x80) return literal(bytes);
  }
  const out = new Uint8Array(bytes.length + escapes + 2);
  let o = 0;
  out[o++] = 0x22;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x22 || b === 0x5c) out[o++] = 0x5c;
    out[o++] = b;
  }
  out[o++] = 0x22;
  return out;
}

const NIL = binaryToBytes("NIL");

/** Encodes an IMAP `nstring`: `NIL` for null/undefined, else {@link imapString}. */
export function imapNString(value: string | Uint8Array | null | undefined): Uint8Array {
  return value === null || value === undefined ? NIL : imapString(value);
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
  if (value === null || value === undefined) return NIL;
  const src = toBytes(value);
  let modify = false;
  let lastLwsp = true;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
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
  if (lastLwsp && src.length > 0) modify = true;
  if (!modify) {
    const out = new Uint8Array(src.length + 2);
    out[0] = 0x22;
    out.set(src, 1);
    out[src.length + 1] = 0x22;
    return out;
  }
  const collapsed: number[] = [];
  lastLwsp = true;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 0x0d || b === 0x0a || b === 0x09 || b === 0x20) {
      if (!lastLwsp) collapsed.push(0x20);
      lastLwsp = true;
    } else {
      collapsed.push(b === 0 ? 0x80 : b);
      lastLwsp = false;
    }
  }
  if (collapsed.length && collapsed[collapsed.length - 1] === 0x20) collapsed.pop();
  if (collapsed.length === 0) return binaryToBytes('""');
  return literal(new Uint8Array(collapsed));
}
