/**
 * SEARCH's header keys over a stored header block (RFC 3501 §6.4.4: FROM, TO, CC, BCC, SUBJECT,
 * HEADER, and the Date field for SENTBEFORE / SENTON / SENTSINCE), without the literal.
 *
 * A field matches when its search text (`fieldSearchText` of `src/mime`: the value unfolded,
 * 8-bit bytes read as UTF-8 (else windows-1252), RFC 2047 encoded words decoded, case-folded)
 * contains the string's `searchFold`. Every field of that name counts (two `To:` lines, say).
 * `HEADER name ""` matches any message that has the field (RFC 3501). Fields are delimited as
 * `parseHeader` delimits them (continuation lines, lines without a colon, bare LF).
 *
 * Most fields are plain ASCII, and for those decoding changes nothing: the block's bytes are
 * scanned for fields of the name, and a field whose value has neither 8-bit bytes nor `=?` is
 * searched as bytes (ASCII case folding) when the string is printable ASCII without spaces (it
 * then cannot straddle a fold). Only a field of that name with an encoded word or 8-bit bytes,
 * or a string with spaces or non-ASCII characters, is parsed and decoded — and only that field,
 * not the rest of the block.
 *
 * @module
 */
import {
  binaryToText,
  fieldSearchText,
  type Header,
  parseHeader,
  parseRfc5322Date,
  searchFold,
} from "../../mime/mod.ts";
import type { ImapDate } from "../wire/mod.ts";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const PLAIN_NEEDLE_REGEXP = /^[\x21-\x7e]+$/;
const NON_ASCII_REGEXP = /[\u0080-\uffff]/;
const DATE_DAY_REGEXP = /(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\b/i;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/** One message's header block, parsed at most once, for SEARCH header keys. */
export class HeaderSearch {
  readonly #bytes: Uint8Array;
  #header: Header | undefined;

  /** Wraps a header block (the bytes through the empty line that ends it). */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  #parsed(): Header {
    this.#header ??= parseHeader(this.#bytes).header;
    return this.#header;
  }

  /**
   * Whether some field `name` (case-insensitive) contains `needle`, compared case-insensitively
   * after decoding (see the module documentation).
   */
  contains(name: string, needle: string): boolean {
    const lowerNeedle = searchFold(needle);
    const key = name.toLowerCase();
    if (NON_ASCII_REGEXP.test(key)) return this.#containsParsed(key, lowerNeedle);
    const bytes = this.#bytes;
    const plain = PLAIN_NEEDLE_REGEXP.test(lowerNeedle);
    const pattern = plain ? asciiBytes(lowerNeedle) : undefined;
    let found = false;
    eachField(bytes, key, (start, valueStart, valueEnd, end) => {
      if (lowerNeedle === "") return found = true;
      if (pattern && isPlainValue(bytes, valueStart, valueEnd)) {
        return found = indexOfFolded(bytes, valueStart, valueEnd, pattern);
      }
      // This field only, parsed and decoded as the whole block would be.
      for (const value of parseHeader(bytes, start, end).header.getAll(key)) {
        if (fieldSearchText(value).includes(lowerNeedle)) return found = true;
      }
      return false;
    });
    return found;
  }

  /** {@link contains} through the whole parsed block (field names with non-ASCII characters). */
  #containsParsed(key: string, lowerNeedle: string): boolean {
    for (const value of this.#parsed().getAll(key)) {
      if (lowerNeedle === "") return true;
      if (fieldSearchText(value).includes(lowerNeedle)) return true;
    }
    return false;
  }

  /**
   * The day of the Date field as written (in the sender's zone, RFC 3501: "disregarding time and
   * timezone"), or undefined when there is none or it is not a date.
   */
  sentDate(): ImapDate | undefined {
    const raw = this.#parsed().get("date");
    if (raw === undefined) return undefined;
    const value = binaryToText(raw);
    if (parseRfc5322Date(value) === null) return undefined;
    const m = DATE_DAY_REGEXP.exec(value.replace(/\([^)]*\)/g, " "));
    if (!m) return undefined;
    const month = MONTHS.indexOf(m[2].toLowerCase()) + 1;
    if (month === 0) return undefined;
    let year = Number(m[3]);
    if (m[3].length === 2) year += year < 50 ? 2000 : 1900;
    else if (m[3].length === 3) year += 1900;
    return { year, month, day: Number(m[1]) };
  }
}

/**
 * Calls `fn` for each field named `key` (lower-case ASCII) with its byte range, the range of its
 * raw value (after the colon, without the final line break) and where it ends, in order, until
 * `fn` returns true. Delimits fields exactly as `parseHeader` does.
 */
function eachField(
  bytes: Uint8Array,
  key: string,
  fn: (start: number, valueStart: number, valueEnd: number, end: number) => boolean,
): void {
  const end = bytes.length;
  let pos = 0;
  /** The current field when its name is `key`: where it starts and where its value starts. */
  let start = -1;
  let valueStart = 0;
  let inField = false;
  let curEnd = 0;
  const flush = (): boolean => {
    if (start < 0) return false;
    let ve = curEnd;
    if (ve > valueStart && bytes[ve - 1] === LF) {
      ve--;
      if (ve > valueStart && bytes[ve - 1] === CR) ve--;
    }
    const s = start;
    start = -1;
    return fn(s, valueStart, ve, curEnd);
  };
  while (pos < end) {
    let nl = bytes.indexOf(LF, pos);
    if (nl < 0) nl = end - 1;
    const lineEnd = nl + 1;
    const first = bytes[pos];
    if (first === LF || (first === CR && pos + 1 < end && bytes[pos + 1] === LF)) break;
    if ((first === SP || first === TAB) && inField) {
      curEnd = lineEnd;
    } else {
      if (flush()) return;
      inField = true;
      curEnd = lineEnd;
      // A field of another name (or a line without a colon): nothing to find in it.
      if (key.length > 0 && lowerAscii(first) !== key.charCodeAt(0)) {
        pos = lineEnd;
        continue;
      }
      let colon = -1;
      for (let i = pos; i < lineEnd; i++) {
        const b = bytes[i];
        if (b === COLON) {
          colon = i;
          break;
        }
        if (b === LF) break;
      }
      if (colon > pos && nameIs(bytes, pos, colon, key)) {
        start = pos;
        valueStart = colon + 1;
      }
    }
    pos = lineEnd;
  }
  flush();
}

/** Whether the field name in `bytes[from, to)`, trailing blanks removed, is `key` (any case). */
function nameIs(bytes: Uint8Array, from: number, to: number, key: string): boolean {
  while (to > from && (bytes[to - 1] === SP || bytes[to - 1] === TAB)) to--;
  if (to - from !== key.length) return false;
  for (let i = 0; i < key.length; i++) {
    if (lowerAscii(bytes[from + i]) !== key.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether a raw value decodes to itself: only 7-bit bytes and no `=?`. */
function isPlainValue(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (b >= 0x80) return false;
    if (b === 0x3d && i + 1 < to && bytes[i + 1] === 0x3f) return false;
  }
  return true;
}

/** Whether `bytes[from, to)` contains `pattern` (lower-case ASCII), ASCII letters in any case. */
function indexOfFolded(bytes: Uint8Array, from: number, to: number, pattern: Uint8Array): boolean {
  const n = pattern.length;
  const p0 = pattern[0];
  for (let i = from; i + n <= to; i++) {
    if (lowerAscii(bytes[i]) !== p0) continue;
    let j = 1;
    while (j < n && lowerAscii(bytes[i + j]) === pattern[j]) j++;
    if (j === n) return true;
  }
  return false;
}

function lowerAscii(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
