/**
 * SEARCH arguments (RFC 3501 §6.4.4, ESEARCH RFC 4731 §3.1, CONDSTORE RFC 7162 §3.1.5) parsed into
 * a tree of {@link SearchKey}s:
 *
 * ```
 * search = "SEARCH" [SP "RETURN" SP "(" [MIN / MAX / COUNT / ALL …] ")"] [SP "CHARSET" SP astring]
 *          1*(SP search-key)
 * ```
 *
 * Keys the index answers (flags, keywords, dates, sizes, MODSEQ) become `index` keys carrying a
 * store {@link SearchCriteria}; the date keys are resolved to UTC days here (RFC 3501 leaves the
 * zone to the server). `\Recent` is never set on this server (SELECT reports `RECENT 0`), so
 * `RECENT` and `NEW` match nothing and `OLD` matches everything. `$Forwarded` and `Forwarded` are
 * one stored flag bit (proton-api.md §5.3), so `KEYWORD` / `UNKEYWORD` of either test that bit.
 *
 * @module
 */
import { MessageFlag, type SearchCriteria } from "../../store/mod.ts";
import {
  type Decoder,
  type ImapDate,
  SequenceSet,
  SequenceSetError,
  startOfImapDate,
} from "../wire/mod.ts";

/** One search key (or a combination). */
export type SearchKey =
  | { readonly kind: "all" }
  | { readonly kind: "none" }
  /** Answered by the index alone. */
  | { readonly kind: "index"; readonly criteria: SearchCriteria }
  /** A sequence set (message numbers of the session's snapshot). */
  | { readonly kind: "seq"; readonly set: SequenceSet }
  | { readonly kind: "uid"; readonly set: SequenceSet }
  /** A header field contains a string (FROM, TO, CC, BCC, SUBJECT, HEADER). */
  | { readonly kind: "header"; readonly field: string; readonly value: string }
  /** The Date header's day (SENTBEFORE, SENTON, SENTSINCE). */
  | { readonly kind: "sent"; readonly op: "before" | "on" | "since"; readonly date: ImapDate }
  /** The decoded body (BODY) or header and body (TEXT) contains a string. */
  | { readonly kind: "text"; readonly scope: "body" | "text"; readonly value: string }
  | { readonly kind: "and"; readonly keys: readonly SearchKey[] }
  | { readonly kind: "or"; readonly left: SearchKey; readonly right: SearchKey }
  | { readonly kind: "not"; readonly key: SearchKey };

/** What ESEARCH `RETURN (…)` asked for (RFC 4731). */
export type SearchReturnOption = "MIN" | "MAX" | "COUNT" | "ALL";

/** A parsed SEARCH command (after the command name). */
export interface SearchRequest {
  /** The conjunction of the top-level keys. */
  readonly key: SearchKey;
  /** `CHARSET` as sent (upper case), if given. */
  readonly charset?: string;
  /** Set when `RETURN (…)` was given: answer with `* ESEARCH` (an empty list means ALL). */
  readonly returnOptions?: ReadonlySet<SearchReturnOption>;
  /** A MODSEQ key is used: the answer carries the highest mod-sequence (RFC 7162 §3.1.5). */
  readonly modseq: boolean;
}

/** Nesting of NOT / OR / parentheses allowed (far beyond what clients send). */
export const MAX_SEARCH_DEPTH = 100;

const DAY_SECONDS = 86_400;

const HEADER_KEYS: Record<string, string> = {
  BCC: "bcc",
  CC: "cc",
  FROM: "from",
  SUBJECT: "subject",
  TO: "to",
};

const FLAG_KEYS: Record<string, [number, boolean]> = {
  ANSWERED: [MessageFlag.Answered, true],
  UNANSWERED: [MessageFlag.Answered, false],
  DRAFT: [MessageFlag.Draft, true],
  UNDRAFT: [MessageFlag.Draft, false],
  FLAGGED: [MessageFlag.Flagged, true],
  UNFLAGGED: [MessageFlag.Flagged, false],
  SEEN: [MessageFlag.Seen, true],
  UNSEEN: [MessageFlag.Seen, false],
};

const SEQUENCE_SET_REGEXP = /^[0-9*:,]+$/;

/** The charsets SEARCH and SORT take (strings are read as UTF-8 for both). */
export const SEARCH_CHARSETS: readonly string[] = ["UTF-8", "US-ASCII"];

/**
 * Parses the SEARCH arguments. Errors are recorded on `args` (check `args.end()`); the request
 * returned then is meaningless. With a `CHARSET` not in {@link SEARCH_CHARSETS} the keys are left
 * unread (the caller refuses the charset).
 */
export function parseSearchRequest(args: Decoder): SearchRequest {
  let returnOptions: Set<SearchReturnOption> | undefined;
  if (args.optionalKeyword("RETURN")) {
    returnOptions = new Set();
    const list = args.expectList();
    while (!list.atEnd() && list.ok) {
      const option = list.expectKeyword();
      if (option === "MIN" || option === "MAX" || option === "COUNT" || option === "ALL") {
        returnOptions.add(option);
      } else if (option === "SAVE") {
        list.fail("RETURN (SAVE) needs SEARCHRES, which is not offered");
      } else if (option !== "") list.fail(`Unknown RETURN option ${option.slice(0, 40)}`);
    }
    // RFC 4731 §3.1: RETURN () is RETURN (ALL).
    if (returnOptions.size === 0) returnOptions.add("ALL");
  }
  let charset: string | undefined;
  if (args.optionalKeyword("CHARSET")) charset = args.expectAString().toUpperCase();
  if (charset !== undefined && !SEARCH_CHARSETS.includes(charset)) {
    // Not read: the strings are in that charset, not UTF-8. The caller answers NO [BADCHARSET]
    // (RFC 3501 §6.4.4: NO, not BAD), which lets a client convert them and try again.
    const refused: SearchRequest = { key: { kind: "and", keys: [] }, modseq: false, charset };
    return refused;
  }
  const { key, modseq } = parseSearchKeys(args);
  const request: {
    key: SearchKey;
    modseq: boolean;
    charset?: string;
    returnOptions?: ReadonlySet<SearchReturnOption>;
  } = { key, modseq };
  if (charset !== undefined) request.charset = charset;
  if (returnOptions) request.returnOptions = returnOptions;
  return request;
}

/**
 * Parses `1*(SP search-key)` up to the end of `args` (SEARCH after its RETURN and CHARSET, SORT
 * after its charset): their conjunction, and whether a MODSEQ key is among them. Errors are
 * recorded on `args`.
 */
export function parseSearchKeys(args: Decoder): { key: SearchKey; modseq: boolean } {
  const state = { modseq: false };
  const keys: SearchKey[] = [];
  while (!args.atEnd() && args.ok) keys.push(parseKey(args, 0, state));
  if (keys.length === 0) args.fail("Expected a search key");
  return { key: { kind: "and", keys }, modseq: state.modseq };
}

function index(criteria: SearchCriteria): SearchKey {
  return { kind: "index", criteria };
}

function keywordKey(keyword: string, present: boolean): SearchKey {
  const lower = keyword.toLowerCase();
  if (lower === "$forwarded" || lower === "forwarded") {
    return index(
      present ? { flagsSet: MessageFlag.Forwarded } : { flagsClear: MessageFlag.Forwarded },
    );
  }
  return index(present ? { keywords: [keyword] } : { notKeywords: [keyword] });
}

/** The first second (Unix) of an IMAP date, in UTC. */
function dayStart(date: ImapDate): number {
  return startOfImapDate(date) / 1000;
}

function parseKey(d: Decoder, depth: number, state: { modseq: boolean }): SearchKey {
  if (depth > MAX_SEARCH_DEPTH) {
    d.fail("Search keys are nested too deeply");
    return { kind: "none" };
  }
  const t = d.peek();
  if (t?.kind === "list") {
    const sub = d.expectList();
    const keys: SearchKey[] = [];
    while (!sub.atEnd() && sub.ok) keys.push(parseKey(sub, depth + 1, state));
    if (keys.length === 0) d.fail("Expected a search key inside parentheses");
    return { kind: "and", keys };
  }
  const word = t?.kind === "atom" ? t.value : t?.kind === "number" ? t.text : undefined;
  if (word === "$") {
    d.fail("$ needs SEARCHRES, which is not offered");
    return { kind: "none" };
  }
  if (word !== undefined && SEQUENCE_SET_REGEXP.test(word)) {
    return { kind: "seq", set: sequenceSet(d, word) };
  }
  const name = d.expectKeyword();
  if (name === "") return { kind: "none" };
  if (name in FLAG_KEYS) {
    const [bit, set] = FLAG_KEYS[name];
    return index(set ? { flagsSet: bit } : { flagsClear: bit });
  }
  if (name in HEADER_KEYS) {
    return { kind: "header", field: HEADER_KEYS[name], value: d.expectAString() };
  }
  switch (name) {
    case "ALL":
    case "OLD":
      return { kind: "all" };
    case "NEW":
    case "RECENT":
      return { kind: "none" };
    case "DELETED":
      return index({ deleted: true });
    case "UNDELETED":
      return index({ deleted: false });
    case "KEYWORD":
      return keywordKey(d.expectAtom(), true);
    case "UNKEYWORD":
      return keywordKey(d.expectAtom(), false);
    case "BEFORE":
      return index({ before: dayStart(d.expectDate()) });
    case "SINCE":
      return index({ since: dayStart(d.expectDate()) });
    case "ON": {
      const start = dayStart(d.expectDate());
      return index({ since: start, before: start + DAY_SECONDS });
    }
    case "SENTBEFORE":
      return { kind: "sent", op: "before", date: d.expectDate() };
    case "SENTON":
      return { kind: "sent", op: "on", date: d.expectDate() };
    case "SENTSINCE":
      return { kind: "sent", op: "since", date: d.expectDate() };
    case "LARGER":
      return index({ larger: d.expectNumber() });
    case "SMALLER":
      return index({ smaller: d.expectNumber() });
    case "BODY":
      return { kind: "text", scope: "body", value: d.expectAString() };
    case "TEXT":
      return { kind: "text", scope: "text", value: d.expectAString() };
    case "HEADER": {
      const field = d.expectAString().toLowerCase();
      return { kind: "header", field, value: d.expectAString() };
    }
    case "UID": {
      const w = d.peek();
      const text = w?.kind === "atom" ? w.value : w?.kind === "number" ? w.text : "";
      return { kind: "uid", set: sequenceSet(d, text) };
    }
    case "NOT":
      return { kind: "not", key: parseKey(d, depth + 1, state) };
    case "OR": {
      const left = parseKey(d, depth + 1, state);
      const right = parseKey(d, depth + 1, state);
      return { kind: "or", left, right };
    }
    case "MODSEQ": {
      // RFC 7162 §3.1.5: an optional metadata entry name and type; mod-sequences are kept per
      // message here, so the entry only narrows nothing.
      if (d.peek()?.kind === "quoted") {
        d.expectString();
        d.expectKeyword("PRIV", "SHARED", "ALL");
      }
      const value = d.expectModSeq();
      state.modseq = true;
      return index({
        modseq: value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value),
      });
    }
  }
  d.fail(`Unknown search key ${name.slice(0, 40)}`);
  return { kind: "none" };
}

function sequenceSet(d: Decoder, text: string): SequenceSet {
  try {
    const set = SequenceSet.parse(text);
    d.take();
    return set;
  } catch (e) {
    if (!(e instanceof SequenceSetError)) throw e;
    d.fail(e.message);
    return new SequenceSet([]);
  }
}

/** Whether a key needs more than the index (header blocks or literals). */
export function searchKeyCost(key: SearchKey): 0 | 1 | 2 {
  switch (key.kind) {
    case "header":
    case "sent":
      return 1;
    case "text":
      return 2;
    case "and":
      return key.keys.reduce<0 | 1 | 2>((m, k) => Math.max(m, searchKeyCost(k)) as 0 | 1 | 2, 0);
    case "or":
      return Math.max(searchKeyCost(key.left), searchKeyCost(key.right)) as 0 | 1 | 2;
    case "not":
      return searchKeyCost(key.key);
    default:
      return 0;
  }
}
