/**
 * The order SORT answers in (RFC 5256 §3, RFC 5957 for DISPLAYFROM / DISPLAYTO): messages are
 * compared by each criterion in turn, `REVERSE` turning the one after it around, and messages that
 * are equal by every criterion keep their sequence-number order (never reversed).
 *
 * What each key compares:
 *
 * | key | value |
 * |---|---|
 * | ARRIVAL | INTERNALDATE |
 * | DATE | the Date field, in UTC; without a Date field that parses, INTERNALDATE (§2.2) |
 * | SIZE | RFC822.SIZE |
 * | SUBJECT | the base subject ({@link baseSubject}) of the decoded Subject |
 * | FROM, TO, CC | the local part (`addr-mailbox`) of the field's first address; "" without one |
 * | DISPLAYFROM, DISPLAYTO | the first address's decoded display name, else its `mailbox@host` |
 *
 * Strings compare with the `i;ascii-casemap` collation RFC 5256 prescribes (ASCII letters
 * without case, everything else by code point, which is UTF-8 octet order), the DISPLAY keys
 * with RFC 5957's `i;unicode-casemap` (here: compatibility decomposition, then lower case).
 *
 * @module
 */
import {
  binaryToText,
  decodeEncodedWords,
  type Header,
  parseAddressList,
  parseHeader,
  parseRfc5322Date,
} from "../../mime/mod.ts";
import type { Uid } from "../../store/mod.ts";
import { baseSubject } from "./base_subject.ts";

/** A SORT key (RFC 5256 §3, RFC 5957 §3). */
export type SortKey =
  | "ARRIVAL"
  | "CC"
  | "DATE"
  | "FROM"
  | "SIZE"
  | "SUBJECT"
  | "TO"
  | "DISPLAYFROM"
  | "DISPLAYTO";

/** The keys, for parsing. */
export const SORT_KEYS: ReadonlySet<string> = new Set<SortKey>([
  "ARRIVAL",
  "CC",
  "DATE",
  "FROM",
  "SIZE",
  "SUBJECT",
  "TO",
  "DISPLAYFROM",
  "DISPLAYTO",
]);

/** One sort criterion: a key, descending with `REVERSE`. */
export interface SortCriterion {
  readonly key: SortKey;
  readonly reverse: boolean;
}

/** What the order needs of one message. */
export interface SortItem {
  readonly uid: Uid;
  /** Its sequence number in the session's snapshot (the last tie-break). */
  readonly seq: number;
  /** INTERNALDATE, Unix seconds. */
  readonly internalDate: number;
  /** RFC822.SIZE. */
  readonly size: number;
  /** The stored header block. */
  readonly header: Uint8Array;
}

/** Whether any criterion needs the header block (the others are in the index rows). */
export function needsHeader(criteria: readonly SortCriterion[]): boolean {
  return criteria.some((c) => c.key !== "ARRIVAL" && c.key !== "SIZE");
}

/** A message with the values its criteria compare (the header block no longer needed). */
export interface SortKeyed {
  readonly uid: Uid;
  readonly seq: number;
  readonly values: readonly (number | string)[];
}

/** The values `criteria` compare for one message, in criteria order. */
export function sortValues(item: SortItem, criteria: readonly SortCriterion[]): SortKeyed {
  let parsed: Header | undefined;
  const header = () => parsed ??= parseHeader(item.header).header;
  return {
    uid: item.uid,
    seq: item.seq,
    values: criteria.map((c) => sortValue(item, c.key, header)),
  };
}

/** The UIDs in SORT order, from {@link sortValues} of the same criteria. */
export function sortKeyed(keyed: SortKeyed[], criteria: readonly SortCriterion[]): Uid[] {
  keyed.sort((a, b) => {
    for (let i = 0; i < criteria.length; i++) {
      const c = compareValues(a.values[i], b.values[i]);
      if (c !== 0) return criteria[i].reverse ? -c : c;
    }
    return a.seq - b.seq;
  });
  return keyed.map((k) => k.uid);
}

/** The UIDs of `items` in SORT order. */
export function sortOrder(items: readonly SortItem[], criteria: readonly SortCriterion[]): Uid[] {
  return sortKeyed(items.map((item) => sortValues(item, criteria)), criteria);
}

function sortValue(item: SortItem, key: SortKey, header: () => Header): number | string {
  switch (key) {
    case "ARRIVAL":
      return item.internalDate;
    case "SIZE":
      return item.size;
    case "DATE": {
      const date = header().get("date");
      const ms = date === undefined ? undefined : parseRfc5322Date(date)?.getTime();
      return ms === undefined || Number.isNaN(ms) ? item.internalDate : Math.floor(ms / 1000);
    }
    case "SUBJECT": {
      const subject = header().get("subject");
      const decoded = subject === undefined ? "" : decodeEncodedWords(binaryToText(subject));
      return asciiCasemap(baseSubject(decoded));
    }
    case "FROM":
    case "TO":
    case "CC": {
      const first = firstAddress(header(), key.toLowerCase());
      return asciiCasemap(first?.mailbox ?? "");
    }
    case "DISPLAYFROM":
    case "DISPLAYTO": {
      const first = firstAddress(header(), key === "DISPLAYFROM" ? "from" : "to");
      if (!first) return "";
      const name = first.name === null ? "" : decodeEncodedWords(binaryToText(first.name)).trim();
      return unicodeCasemap(name !== "" ? name : `${first.mailbox}@${first.host}`);
    }
  }
}

/** The first address of a field that is an address, not a group marker (mailbox text decoded). */
function firstAddress(
  header: Header,
  field: string,
): { name: string | null; mailbox: string; host: string } | undefined {
  const value = header.get(field);
  if (value === undefined) return undefined;
  for (const a of parseAddressList(value)) {
    if (a.host === null || a.mailbox === null) continue;
    return { name: a.name, mailbox: binaryToText(a.mailbox), host: binaryToText(a.host) };
  }
  return undefined;
}

/** `i;ascii-casemap`: ASCII letters in upper case, nothing else changed. */
function asciiCasemap(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** `i;unicode-casemap`, approximated by compatibility decomposition and lower case. */
function unicodeCasemap(s: string): string {
  return s.normalize("NFKD").toLowerCase();
}

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareCodePoints(String(a), String(b));
}

/**
 * Compares by Unicode code point (the order of the UTF-8 octets): UTF-16 code units compare the
 * same way except surrogates, which stand for code points above every other unit's.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
