/**
 * SEARCH's header keys over a stored header block (RFC 3501 §6.4.4: FROM, TO, CC, BCC, SUBJECT,
 * HEADER, and the Date field for SENTBEFORE / SENTON / SENTSINCE), without the literal.
 *
 * A field matches when its value — unfolded, 8-bit bytes read as UTF-8 (else windows-1252),
 * RFC 2047 encoded words decoded — contains the string, compared case-insensitively. Every field
 * of that name counts (two `To:` lines, say). `HEADER name ""` matches any message that has the
 * field (RFC 3501).
 *
 * Most messages do not match a given string, so the block is first searched as raw bytes: when
 * the string is plain ASCII without spaces and the block has no encoded word, a block that does
 * not contain it anywhere cannot match, and nothing is parsed.
 *
 * @module
 */
import {
  binaryToText,
  bytesToBinary,
  decodeEncodedWords,
  type Header,
  parseHeader,
  parseRfc5322Date,
} from "../../mime/mod.ts";
import type { ImapDate } from "../wire/mod.ts";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const PLAIN_NEEDLE_REGEXP = /^[\x21-\x7e]+$/;
const DATE_DAY_REGEXP = /(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\b/i;

/** One message's header block, parsed at most once, for SEARCH header keys. */
export class HeaderSearch {
  readonly #bytes: Uint8Array;
  #lower: string | undefined;
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
    const lowerNeedle = needle.toLowerCase();
    if (lowerNeedle !== "" && PLAIN_NEEDLE_REGEXP.test(lowerNeedle)) {
      this.#lower ??= bytesToBinary(this.#bytes).toLowerCase();
      if (!this.#lower.includes(lowerNeedle) && !this.#lower.includes("=?")) return false;
    }
    for (const value of this.#parsed().getAll(name)) {
      if (lowerNeedle === "") return true;
      if (decodeEncodedWords(binaryToText(value)).toLowerCase().includes(lowerNeedle)) return true;
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
