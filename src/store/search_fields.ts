/**
 * The `message_search_fields` table: per message, the search text (`src/mime`
 * `header_search_text.ts`: unfolded, decoded, case-folded, several fields of a name joined by
 * `SEARCH_TEXT_SEPARATOR`) of its Subject, From, To, Cc and Bcc fields, as UTF-8 bytes, or NULL
 * when the header block has no such field. SEARCH answers those keys from it without reading
 * header blocks (`Membership.searchField`).
 *
 * Every write of `messages.header` writes the row in the same transaction ({@link
 * writeSearchFields}); the row goes with its message (`ON DELETE CASCADE`).
 *
 * The texts are compared as bytes (`instr` on BLOBs), which is a substring test on the strings
 * when both are well-formed UTF-16 (UTF-8 is self-synchronising) and copes with NUL characters,
 * which SQLite's text functions do not.
 *
 * @module
 */
import {
  type Header,
  INDEXED_SEARCH_FIELDS,
  type IndexedSearchField,
  indexedSearchTexts,
  SEARCH_TEXT_SEPARATOR,
  searchFold,
} from "../mime/mod.ts";
import type { InternalMessageId } from "./ids.ts";
import type { Sql } from "./sql.ts";

/** The column of each field. */
export const SEARCH_FIELD_COLUMNS: Readonly<Record<IndexedSearchField, string>> = {
  subject: "subject_text",
  from: "from_text",
  to: "to_text",
  cc: "cc_text",
  bcc: "bcc_text",
};

const UPSERT = `INSERT OR REPLACE INTO message_search_fields
  (message_id, subject_text, from_text, to_text, cc_text, bcc_text) VALUES (?, ?, ?, ?, ?, ?)`;

const utf8 = new TextEncoder();

/**
 * Whether `Membership.searchField` answers SEARCH for header `field` (lower case, as the
 * SEARCH parser gives it) containing `needle`: the field is indexed and the folded string holds
 * no lone surrogate (which UTF-8 cannot carry). A folded string has no line break, so it cannot
 * straddle two fields joined by `SEARCH_TEXT_SEPARATOR`.
 */
export function isIndexedSearch(field: string, needle: string): field is IndexedSearchField {
  if (!(INDEXED_SEARCH_FIELDS as readonly string[]).includes(field)) return false;
  const folded = searchFold(needle);
  return folded.isWellFormed() && !folded.includes(SEARCH_TEXT_SEPARATOR);
}

/** The folded search string as the table compares it. */
export function searchFieldNeedle(needle: string): Uint8Array {
  return utf8.encode(searchFold(needle));
}

/** The column values of a header block, in {@link INDEXED_SEARCH_FIELDS} order. */
export function searchFieldValues(header: Uint8Array | Header): (Uint8Array | null)[] {
  const texts = indexedSearchTexts(header);
  return INDEXED_SEARCH_FIELDS.map((f) => {
    const text = texts[f];
    return text === null ? null : utf8.encode(text);
  });
}

/** Writes (or replaces) a message's row from its header block; call inside its transaction. */
export function writeSearchFields(
  sql: Sql,
  id: InternalMessageId,
  header: Uint8Array | Header,
): void {
  sql.q(UPSERT).run(id, ...searchFieldValues(header));
}
