/**
 * The values SORT compares (RFC 5256 §3, RFC 5957 §3), computed once from a message's header
 * block so the index can keep them (`src/store/sort_fields.ts`) and order a mailbox in one query.
 *
 * | field | value |
 * |---|---|
 * | `sentDate` | the Date field in UTC, Unix seconds; null when missing or unparsable (SORT then uses INTERNALDATE, §2.2) |
 * | `subject` | the base subject ({@link baseSubject}) of the decoded Subject |
 * | `from`, `to`, `cc` | the local part (`addr-mailbox`) of the field's first address (group markers skipped); "" without one |
 * | `displayFrom`, `displayTo` | the first address's decoded display name, else its `mailbox@host`; "" without one |
 *
 * The strings come already mapped for their collation, so comparing their UTF-8 bytes (SQLite's
 * BLOB order; also code point order) is the comparison SORT asks for: `i;ascii-casemap` (ASCII
 * letters in upper case) for the RFC 5256 keys, RFC 5957's `i;unicode-casemap` for the display
 * keys, approximated by compatibility decomposition and upper case.
 *
 * @module
 */
import { parseAddressList } from "./address.ts";
import { binaryToText } from "./_bytes.ts";
import { baseSubject } from "./base_subject.ts";
import { parseRfc5322Date } from "./date.ts";
import { decodeEncodedWords } from "./encoded_word.ts";
import { type Header, parseHeader } from "./header.ts";

/** See the module documentation. */
export interface SortFields {
  readonly sentDate: number | null;
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly displayFrom: string;
  readonly displayTo: string;
}

/**
 * The {@link SortFields} of a header block (the bytes through the empty line that ends it, or the
 * block already parsed).
 */
export function sortFields(block: Uint8Array | Header): SortFields {
  const header = block instanceof Uint8Array ? parseHeader(block).header : block;
  const date = header.get("date");
  const ms = date === undefined ? undefined : parseRfc5322Date(date)?.getTime();
  const subject = header.get("subject");
  const from = firstAddress(header, "from");
  const to = firstAddress(header, "to");
  return {
    sentDate: ms === undefined || Number.isNaN(ms) ? null : Math.floor(ms / 1000),
    subject: asciiCasemap(
      baseSubject(subject === undefined ? "" : decodeEncodedWords(binaryToText(subject))),
    ),
    from: asciiCasemap(from?.mailbox ?? ""),
    to: asciiCasemap(to?.mailbox ?? ""),
    cc: asciiCasemap(firstAddress(header, "cc")?.mailbox ?? ""),
    displayFrom: unicodeCasemap(display(from)),
    displayTo: unicodeCasemap(display(to)),
  };
}

interface FirstAddress {
  name: string | null;
  mailbox: string;
  host: string;
}

/** The first address of a field that is an address, not a group marker. */
function firstAddress(header: Header, field: string): FirstAddress | undefined {
  const value = header.get(field);
  if (value === undefined) return undefined;
  for (const a of parseAddressList(value)) {
    if (a.host === null || a.mailbox === null) continue;
    return { name: a.name, mailbox: binaryToText(a.mailbox), host: binaryToText(a.host) };
  }
  return undefined;
}

function display(address: FirstAddress | undefined): string {
  if (!address) return "";
  const name = address.name === null ? "" : decodeEncodedWords(binaryToText(address.name)).trim();
  return name !== "" ? name : `${address.mailbox}@${address.host}`;
}

/** `i;ascii-casemap`: ASCII letters in upper case, nothing else changed. */
function asciiCasemap(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/**
 * `i;unicode-casemap` (RFC 5051: titlecase, then decomposition), approximated by compatibility
 * decomposition and upper case: letters then sort before `[\\]^_\``, as with titlecase.
 */
function unicodeCasemap(s: string): string {
  return s.normalize("NFKD").toUpperCase();
}
