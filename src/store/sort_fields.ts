/**
 * The `message_sort_keys` table: per message, the values SORT compares (`src/mime`
 * `sort_fields.ts`: the Date field in UTC, the base subject, the first From / To / Cc local part,
 * the display keys), the strings already mapped for their collation and stored as UTF-8 BLOBs, so
 * that SQLite's BLOB order (bytewise) is SORT's order. `Membership.sortedUids` orders a mailbox
 * with one query instead of parsing every header block.
 *
 * Every write of `messages.header` writes the row in the same transaction ({@link
 * writeSortFields}); the row goes with its message (`ON DELETE CASCADE`).
 *
 * @module
 */
import { type Header, parseHeader, sortFields } from "../mime/mod.ts";
import type { InternalMessageId } from "./ids.ts";
import { writeSearchFields } from "./search_fields.ts";
import type { Sql } from "./sql.ts";

/** A field SORT orders by (the index's names for RFC 5256 / RFC 5957's keys). */
export type SortField =
  | "arrival"
  | "date"
  | "size"
  | "subject"
  | "from"
  | "to"
  | "cc"
  | "displayFrom"
  | "displayTo";

/** One step of an order: a field, descending when `reverse`. */
export interface SortStep {
  readonly field: SortField;
  readonly reverse: boolean;
}

/**
 * The SQL expression of each field over `mm` (mailbox_messages) and `k`
 * (message_sort_keys, LEFT JOINed: a message without a row sorts as if every string were empty
 * and it had no Date field).
 */
export const SORT_FIELD_SQL: Readonly<Record<SortField, string>> = {
  arrival: "mm.internal_date",
  date: "COALESCE(k.sent_date, mm.internal_date)",
  size: "mm.size",
  subject: "COALESCE(k.subject, x'')",
  from: "COALESCE(k.from_mailbox, x'')",
  to: "COALESCE(k.to_mailbox, x'')",
  cc: "COALESCE(k.cc_mailbox, x'')",
  displayFrom: "COALESCE(k.display_from, x'')",
  displayTo: "COALESCE(k.display_to, x'')",
};

const UPSERT = `INSERT OR REPLACE INTO message_sort_keys (message_id, sent_date, subject,
  from_mailbox, to_mailbox, cc_mailbox, display_from, display_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

const utf8 = new TextEncoder();

/** The column values of a header block, in the table's column order after `message_id`. */
export function sortFieldValues(header: Uint8Array | Header): (number | null | Uint8Array)[] {
  const f = sortFields(header);
  return [
    f.sentDate,
    utf8.encode(f.subject),
    utf8.encode(f.from),
    utf8.encode(f.to),
    utf8.encode(f.cc),
    utf8.encode(f.displayFrom),
    utf8.encode(f.displayTo),
  ];
}

/** Writes (or replaces) a message's row from its header block; call inside its transaction. */
export function writeSortFields(
  sql: Sql,
  id: InternalMessageId,
  header: Uint8Array | Header,
): void {
  sql.q(UPSERT).run(id, ...sortFieldValues(header));
}

/**
 * Writes every row derived from a message's header block (its search texts, `search_fields.ts`,
 * and its sort keys), parsing the block once; call inside the message's transaction.
 */
export function writeHeaderFields(sql: Sql, id: InternalMessageId, header: Uint8Array): void {
  const parsed = parseHeader(header).header;
  writeSearchFields(sql, id, parsed);
  writeSortFields(sql, id, parsed);
}
