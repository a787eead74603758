/**
 * The text a header field is searched as (IMAP SEARCH FROM, TO, CC, BCC, SUBJECT and HEADER,
 * RFC 3501 §6.4.4): its unfolded value with 8-bit bytes read as UTF-8 (else windows-1252) and
 * RFC 2047 encoded words decoded, then folded with {@link searchFold} (whitespace runs as one
 * space, lower case). A search string
 * matches a field when its {@link searchFold} is a substring of the field's search text.
 *
 * The IMAP search (`src/imap/commands/header_match.ts`) and the index (`src/store`, which keeps
 * the search text of {@link INDEXED_SEARCH_FIELDS} per message) both compute it here, so that the
 * two answer alike. A change to what these functions return leaves texts stored by an older build
 * behind: it needs a store migration that computes them again.
 *
 * @module
 */
import { binaryToText } from "./_bytes.ts";
import { decodeEncodedWords } from "./encoded_word.ts";
import { type Header, parseHeader } from "./header.ts";

/** The fields whose search text the index keeps (the fields of SEARCH's own keys). */
export const INDEXED_SEARCH_FIELDS = ["subject", "from", "to", "cc", "bcc"] as const;

/** One of {@link INDEXED_SEARCH_FIELDS}. */
export type IndexedSearchField = typeof INDEXED_SEARCH_FIELDS[number];

/**
 * What joins the search texts of several fields of one name in {@link headerSearchText}. A search
 * string that contains it (after {@link searchFold}) could match across two fields, so it must be
 * compared field by field instead.
 */
export const SEARCH_TEXT_SEPARATOR = "\n";

/**
 * Folding for SEARCH, the same for field texts and search strings: every run of spaces, tabs and
 * line breaks becomes one space — as ENVELOPE shows the field (`imap_string.ts`), so that a
 * subject folded with a tab or holding "AW:  Angebot" is found as the client displays it — then
 * `toLowerCase` (context-sensitive: fold each field on its own, never a joined text).
 */
export function searchFold(text: string): string {
  return text.replace(WHITESPACE_RUN, " ").toLowerCase();
}

const WHITESPACE_RUN = /[ \t\r\n]{2,}|[\t\r\n]/g;

/**
 * The search text of one field value: `rawValue` is an unfolded binary string (as
 * {@link Header.getAll} gives).
 */
export function fieldSearchText(rawValue: string): string {
  return searchFold(decodeEncodedWords(binaryToText(rawValue)));
}

/**
 * The search texts of every field `name` (case-insensitive) of a parsed header, in order, joined
 * by {@link SEARCH_TEXT_SEPARATOR}; `null` when the header has no such field (an empty field
 * gives `""`).
 */
export function headerSearchText(header: Header, name: string): string | null {
  const values = header.getAll(name);
  if (values.length === 0) return null;
  return values.map(fieldSearchText).join(SEARCH_TEXT_SEPARATOR);
}

/**
 * {@link headerSearchText} of each of {@link INDEXED_SEARCH_FIELDS} in a header block (the bytes
 * through the empty line that ends it, or the block already parsed).
 */
export function indexedSearchTexts(
  block: Uint8Array | Header,
): Record<IndexedSearchField, string | null> {
  const header = block instanceof Uint8Array ? parseHeader(block).header : block;
  return {
    subject: headerSearchText(header, "subject"),
    from: headerSearchText(header, "from"),
    to: headerSearchText(header, "to"),
    cc: headerSearchText(header, "cc"),
    bcc: headerSearchText(header, "bcc"),
  };
}
