/**
 * Runs a {@link SearchKey} tree over the selected mailbox and returns the matching UIDs.
 *
 * The universe is the session's snapshot (what the client was told) minus messages already gone
 * from the index, so NOT never "finds" an expunged message and numbers never point past what the
 * client knows. Each conjunction is narrowed cheapest first:
 *
 * 1. its index keys merged into one store query (`membership.search`), sequence and UID sets;
 * 2. sub-expressions (OR, NOT, parentheses) that need only the index;
 * 3. header keys: SUBJECT, FROM, TO, CC, BCC and HEADER of those fields from the search texts the
 *    index keeps (`membership.searchField`, one store query per UID range, SQLite doing the
 *    matching), each narrowing the next; then the others (HEADER of other fields or with CR/LF
 *    in the string, SENT*), all of them in one pass that reads each remaining message's stored
 *    header block once (500 blocks per store query);
 * 4. sub-expressions that need header blocks;
 * 5. BODY / TEXT keys, in one pass that loads each remaining message's literal once;
 * 6. the rest.
 *
 * OR evaluates its right side only on what the left side did not match; NOT subtracts. A literal
 * that cannot be loaded ends the search with the account's `MailboxOperationError`; one replaced
 * or expunged meanwhile (a rebuild gave it new UIDs) is left out and reported to `onGone`.
 *
 * @module
 */
import { MailboxOperationError } from "../../connector/account.ts";
import {
  type InternalMessageId,
  isIndexedSearch,
  type SearchCriteria,
  type Uid,
} from "../../store/mod.ts";
import type { MailboxView } from "../state/mailbox_view.ts";
import { compareImapDates, type ImapDate, imapDateOf, type SequenceSet } from "../wire/mod.ts";
import { HeaderSearch } from "./header_match.ts";
import { messageText } from "./message_text.ts";
import { type SearchKey, searchKeyCost } from "./search_keys.ts";

/** Header blocks held in memory at once by a header pass. */
const HEADER_SLICE = 500;

/** Missing UIDs a header query reads through rather than starting another query. */
const RANGE_GAP = 32;
/** Most UID ranges an index query is limited to (more: the whole mailbox is asked). */
const MAX_QUERY_RANGES = 64;

/** What a search needs besides the view. */
export interface SearchSource {
  /** The selected mailbox. */
  readonly view: MailboxView;
  /**
   * The RFC 822 bytes of a message (`MailAccount.literal`).
   * Throws the account's `MailboxOperationError` when it cannot be loaded now.
   */
  literal(message: InternalMessageId): Promise<Uint8Array>;
  /** Told of each message left out because it was replaced or expunged meanwhile. */
  onGone?(): void;
}

/** The UIDs of the selected mailbox matching `key`, ascending. */
export function runSearch(source: SearchSource, key: SearchKey): Promise<Uid[]> {
  return new SearchRun(source).run(key);
}

type Leaf = Extract<SearchKey, { kind: "header" | "sent" | "text" }>;

class SearchRun {
  readonly #source: SearchSource;
  readonly #view: MailboxView;
  #ids: Map<Uid, InternalMessageId> | undefined;

  constructor(source: SearchSource) {
    this.#source = source;
    this.#view = source.view;
  }

  run(key: SearchKey): Promise<Uid[]> {
    const view = this.#view;
    // A UID or sequence set at the top (`UID SEARCH UID 1:100 UNSEEN`) narrows the candidates
    // before the store is asked which are still there: a large mailbox is not read whole.
    let candidates = view.uids;
    for (const set of this.#topLevelSets(key)) candidates = candidates.filter((u) => set.has(u));
    const present = new Set(
      view.store.membership.search(view.mailboxId, this.#within(candidates, {})),
    );
    return this.#eval(key, candidates.filter((u) => present.has(u)));
  }

  /** The UID and sequence sets an AND at the top of `key` (or `key` itself) requires. */
  #topLevelSets(key: SearchKey): Set<Uid>[] {
    const out: Set<Uid>[] = [];
    const visit = (k: SearchKey) => {
      if (k.kind === "and") k.keys.forEach(visit);
      else if (k.kind === "uid") out.push(new Set(this.#view.resolve(k.set, true)));
      else if (k.kind === "seq") out.push(new Set(this.#seqUids(k.set)));
    };
    visit(key);
    return out;
  }

  /**
   * `criteria` limited to the UID ranges of `candidates` when they are a small part of the
   * mailbox in a few ranges (an index query over them instead of the whole mailbox).
   */
  #within(candidates: readonly Uid[], criteria: SearchCriteria): SearchCriteria {
    if (candidates.length >= this.#view.uids.length / 4) return criteria;
    const ranges = nearRanges(candidates);
    return ranges.length <= MAX_QUERY_RANGES ? { ...criteria, uids: ranges } : criteria;
  }

  /** The internal message ID of a UID (loaded once for the whole mailbox). */
  #idOf(uid: Uid): InternalMessageId | undefined {
    if (!this.#ids) {
      const view = this.#view;
      const max = view.maxUid;
      const rows = max === 0 ? [] : view.store.membership.flagRows(view.mailboxId, [{
        first: 1 as Uid,
        last: max as Uid,
      }]);
      this.#ids = new Map(rows.map((r) => [r.uid, r.messageId]));
    }
    return this.#ids.get(uid);
  }

  async #eval(key: SearchKey, candidates: Uid[]): Promise<Uid[]> {
    if (candidates.length === 0) return candidates;
    switch (key.kind) {
      case "all":
        return candidates;
      case "none":
        return [];
      case "and":
        return await this.#and(key.keys, candidates);
      case "or": {
        const left = await this.#eval(key.left, candidates);
        const matched = new Set(left);
        const right = await this.#eval(key.right, candidates.filter((u) => !matched.has(u)));
        for (const u of right) matched.add(u);
        return candidates.filter((u) => matched.has(u));
      }
      case "not": {
        const matched = new Set(await this.#eval(key.key, candidates));
        return candidates.filter((u) => !matched.has(u));
      }
      default:
        return await this.#and([key], candidates);
    }
  }

  async #and(keys: readonly SearchKey[], candidates: Uid[]): Promise<Uid[]> {
    const flat: SearchKey[] = [];
    const flatten = (list: readonly SearchKey[]) => {
      for (const k of list) k.kind === "and" ? flatten(k.keys) : flat.push(k);
    };
    flatten(keys);
    const criteria: SearchCriteria[] = [];
    const sets: Set<Uid>[] = [];
    const leaves: Leaf[] = [];
    const composite: SearchKey[] = [];
    for (const k of flat) {
      switch (k.kind) {
        case "none":
          return [];
        case "all":
          break;
        case "index":
          criteria.push(k.criteria);
          break;
        case "seq":
          sets.push(new Set(this.#seqUids(k.set)));
          break;
        case "uid":
          sets.push(new Set(this.#view.resolve(k.set, true)));
          break;
        case "header":
        case "sent":
        case "text":
          leaves.push(k);
          break;
        default:
          composite.push(k);
      }
    }
    let result = candidates;
    for (const set of sets) result = result.filter((u) => set.has(u));
    if (criteria.length > 0 && result.length > 0) {
      const merged = mergeCriteria(criteria);
      if (merged === undefined) return [];
      const hits = new Set(
        this.#view.store.membership.search(this.#view.mailboxId, this.#within(result, merged)),
      );
      result = result.filter((u) => hits.has(u));
    }
    const byCost = (cost: number) => composite.filter((k) => searchKeyCost(k) === cost);
    for (const k of byCost(0)) result = await this.#eval(k, result);
    const headerLeaves = leaves.filter((k) => k.kind !== "text");
    if (headerLeaves.length > 0) result = this.#headerPass(headerLeaves, result);
    for (const k of byCost(1)) result = await this.#eval(k, result);
    const textLeaves = leaves.filter((k) => k.kind === "text");
    if (textLeaves.length > 0) result = await this.#textPass(textLeaves, result);
    for (const k of byCost(2)) result = await this.#eval(k, result);
    return result;
  }

  /** UIDs of the snapshot's sequence numbers in `set` (numbers beyond EXISTS match nothing). */
  #seqUids(set: SequenceSet): Uid[] {
    const uids = this.#view.uids;
    const out: Uid[] = [];
    for (const [a, b] of set.resolve(uids.length)) {
      for (let n = a; n <= b; n++) out.push(uids[n - 1]);
    }
    return out;
  }

  #headerPass(keys: Leaf[], candidates: Uid[]): Uid[] {
    const view = this.#view;
    // Keys the index's search texts answer (HeaderSearch.contains, precomputed) go first.
    let rest = candidates;
    const blockKeys: Leaf[] = [];
    for (const k of keys) {
      if (k.kind !== "header" || !isIndexedSearch(k.field, k.value)) {
        blockKeys.push(k);
        continue;
      }
      if (rest.length === 0) return rest;
      const hits = new Set(
        view.store.membership.searchField(view.mailboxId, nearRanges(rest), k.field, k.value),
      );
      rest = rest.filter((u) => hits.has(u));
    }
    if (blockKeys.length === 0 || rest.length === 0) return rest;
    const out: Uid[] = [];
    // One store query per slice (per UID range in it), not one per message.
    for (let i = 0; i < rest.length; i += HEADER_SLICE) {
      const slice = rest.slice(i, i + HEADER_SLICE);
      const wanted = new Set(slice);
      const rows = view.store.membership.headerRows(view.mailboxId, nearRanges(slice));
      for (const row of rows) {
        if (!wanted.has(row.uid)) continue;
        const header = new HeaderSearch(row.header);
        if (blockKeys.every((k) => this.#headerKeyMatches(k, header, row.uid))) {
          out.push(row.uid);
        }
      }
    }
    return out;
  }

  #headerKeyMatches(key: Leaf, header: HeaderSearch, uid: Uid): boolean {
    if (key.kind === "header") return header.contains(key.field, key.value);
    if (key.kind !== "sent") return false;
    // Without a usable Date field, the day of INTERNALDATE (UTC) stands in; RFC 3501 says nothing.
    const day = header.sentDate() ?? this.#internalDay(uid);
    if (day === undefined) return false;
    const c = compareImapDates(day, key.date);
    return key.op === "before" ? c < 0 : key.op === "on" ? c === 0 : c >= 0;
  }

  #internalDay(uid: Uid): ImapDate | undefined {
    const row = this.#view.store.membership.fetchRows(this.#view.mailboxId, [{
      first: uid,
      last: uid,
    }])[0];
    return row ? imapDateOf(row.internalDate * 1000) : undefined;
  }

  async #textPass(keys: Leaf[], candidates: Uid[]): Promise<Uid[]> {
    const needles = keys.map((k) => ({
      withHeader: k.kind === "text" && k.scope === "text",
      value: k.kind === "text" ? k.value.toLowerCase() : "",
    }));
    const out: Uid[] = [];
    for (const uid of candidates) {
      const id = this.#idOf(uid);
      if (id === undefined) continue;
      let literal: Uint8Array;
      try {
        literal = await this.#source.literal(id);
      } catch (error) {
        // Replaced (new UIDs) or expunged meanwhile: left out, and the caller told.
        if (
          error instanceof MailboxOperationError &&
          (error.code === "EXPUNGEISSUED" || error.code === "NONEXISTENT")
        ) {
          this.#source.onGone?.();
          continue;
        }
        throw error;
      }
      let body: string | undefined;
      let text: string | undefined;
      const ok = needles.every((n) => {
        if (n.withHeader) {
          text ??= messageText(literal, true);
          return text.includes(n.value);
        }
        body ??= messageText(literal, false);
        return body.includes(n.value);
      });
      if (ok) out.push(uid);
    }
    return out;
  }
}

/**
 * Ascending UIDs as ranges, bridging gaps of up to {@link RANGE_GAP} UIDs (their rows are read
 * and skipped), so a slice with holes costs a few queries, not one per hole.
 */
function nearRanges(uids: readonly Uid[]): { first: Uid; last: Uid }[] {
  const out: { first: Uid; last: Uid }[] = [];
  for (const uid of uids) {
    const last = out[out.length - 1];
    if (last && uid > last.last && uid - last.last <= RANGE_GAP + 1) last.last = uid;
    else out.push({ first: uid, last: uid });
  }
  return out;
}

/**
 * One store query for several index keys: bounds tighten (latest SINCE, earliest BEFORE, …),
 * flag and keyword lists add up. `undefined` when they contradict (DELETED UNDELETED).
 */
export function mergeCriteria(list: readonly SearchCriteria[]): SearchCriteria | undefined {
  const out: {
    flagsSet?: number;
    flagsClear?: number;
    deleted?: boolean;
    keywords?: string[];
    notKeywords?: string[];
    since?: number;
    before?: number;
    larger?: number;
    smaller?: number;
    modseq?: number;
  } = {};
  const max = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.max(a, b);
  const min = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.min(a, b);
  for (const c of list) {
    if (c.flagsSet) out.flagsSet = (out.flagsSet ?? 0) | c.flagsSet;
    if (c.flagsClear) out.flagsClear = (out.flagsClear ?? 0) | c.flagsClear;
    if (c.deleted !== undefined) {
      if (out.deleted !== undefined && out.deleted !== c.deleted) return undefined;
      out.deleted = c.deleted;
    }
    if (c.keywords) out.keywords = [...(out.keywords ?? []), ...c.keywords];
    if (c.notKeywords) out.notKeywords = [...(out.notKeywords ?? []), ...c.notKeywords];
    const since = max(out.since, c.since);
    if (since !== undefined) out.since = since;
    const before = min(out.before, c.before);
    if (before !== undefined) out.before = before;
    const larger = max(out.larger, c.larger);
    if (larger !== undefined) out.larger = larger;
    const smaller = min(out.smaller, c.smaller);
    if (smaller !== undefined) out.smaller = smaller;
    const modseq = max(out.modseq, c.modseq);
    if (modseq !== undefined) out.modseq = modseq;
  }
  if ((out.flagsSet ?? 0) & (out.flagsClear ?? 0)) return undefined;
  return out;
}
