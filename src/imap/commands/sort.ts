/**
 * SORT and UID SORT (RFC 5256 §3), with the DISPLAYFROM and DISPLAYTO keys of SORT=DISPLAY
 * (RFC 5957): the messages SEARCH would find, in the order of the sort criteria.
 *
 * ```
 * sort = ["UID" SP] "SORT" SP "(" [REVERSE SP] key *(SP [REVERSE SP] key) ")" SP charset
 *        1*(SP search-key)
 * ```
 *
 * Real client lines:
 * - Roundcube: `A0004 UID SORT (REVERSE DATE) UTF-8 ALL` and, with a quick filter,
 *   `A0005 UID SORT (ARRIVAL) UTF-8 ALL UNSEEN`
 * - Alpine: `00000009 SORT (SUBJECT) US-ASCII ALL`
 * - Roundcube with SORT=DISPLAY: `A0006 UID SORT (DISPLAYFROM) UTF-8 NOT DELETED`
 *
 * Answers `* SORT n …` with message numbers (UIDs for UID SORT) in sort order, and with a MODSEQ
 * search key and a match `(MODSEQ m)`, m the highest mod-sequence of the matches (RFC 7162
 * §3.1.5). The charset is required; UTF-8 and US-ASCII are accepted, anything else gets
 * `NO [BADCHARSET (UTF-8 US-ASCII)]`. ESORT's `RETURN` is not offered (BAD). How each key orders is
 * in `sort_order.ts`.
 *
 * @module
 */
import type { Decoder } from "../wire/mod.ts";
import {
  bad,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  ok,
} from "../session/context.ts";
import { charsetRefusal, highestModseq, searchSelected } from "./search.ts";
import { parseSearchKeys } from "./search_keys.ts";
import {
  needsHeader,
  SORT_KEYS,
  type SortCriterion,
  type SortKey,
  type SortKeyed,
  sortKeyed,
  sortValues,
} from "./sort_order.ts";

/** Rows read from the index per query (only their sort values are kept). */
const ROW_SLICE = 2_000;

/** SORT and UID SORT. */
export const sortCommand: CommandSpec = {
  names: ["SORT", "UID SORT"],
  states: ["selected"],
  flush: "no-expunge",
  handle: handleSort,
};

/** Parses `"(" [REVERSE SP] key *(SP [REVERSE SP] key) ")"`; errors are recorded on `args`. */
export function parseSortCriteria(args: Decoder): SortCriterion[] {
  if (args.peek()?.kind !== "list") {
    args.fail("SORT needs a parenthesised list of sort criteria");
    return [];
  }
  const list = args.expectList();
  const criteria: SortCriterion[] = [];
  let reverse = false;
  while (!list.atEnd() && list.ok) {
    const word = list.expectKeyword();
    if (word === "") break;
    if (word === "REVERSE") {
      if (reverse) list.fail("REVERSE REVERSE is not a sort criterion");
      reverse = true;
      continue;
    }
    if (!SORT_KEYS.has(word)) {
      list.fail(`Unknown sort key ${word.slice(0, 40)}`);
      break;
    }
    criteria.push({ key: word as SortKey, reverse });
    reverse = false;
  }
  if (reverse) list.fail("REVERSE must be followed by a sort key");
  if (criteria.length === 0) list.fail("SORT needs at least one sort key");
  return criteria;
}

async function handleSort(ctx: CommandContext): Promise<CommandResult> {
  const { args, session } = ctx;
  const view = session.view;
  const account = session.account;
  if (!view || !account) throw new Error("SORT ran without a selected mailbox");
  if (args.optionalKeyword("RETURN")) {
    return bad("SORT RETURN needs ESORT, which is not offered", "CLIENTBUG");
  }
  const criteria = parseSortCriteria(args);
  const charset = args.ok ? args.expectAString().toUpperCase() : "";
  const { key, modseq } = args.ok ? parseSearchKeys(args) : { key: undefined, modseq: false };
  if (!args.end() || !key) return bad(args.error?.message ?? "Invalid SORT arguments", "CLIENTBUG");
  const refused = charsetRefusal(charset);
  if (refused) return refused;
  const found = await searchSelected(ctx, key, modseq);
  if (!Array.isArray(found)) return found;
  const withHeader = needsHeader(criteria);
  const keyed: SortKeyed[] = [];
  for (let i = 0; i < found.length; i += ROW_SLICE) {
    const slice = found.slice(i, i + ROW_SLICE);
    const wanted = new Set(slice);
    const rows = view.store.membership.sortRows(
      view.mailboxId,
      view.toUidRanges(slice),
      withHeader,
    );
    for (const row of rows) {
      if (!wanted.has(row.uid)) continue;
      keyed.push(sortValues({ ...row, seq: view.seqOf(row.uid)! }, criteria));
    }
  }
  const sorted = sortKeyed(keyed, criteria);
  let line = "* SORT";
  if (sorted.length > 0) {
    line += " " + (ctx.uid ? sorted : sorted.map((u) => view.seqOf(u)!)).join(" ");
  }
  if (modseq && sorted.length > 0) line += ` (MODSEQ ${highestModseq(ctx, found)})`;
  await session.respond((e) => e.raw(line).crlf());
  return ok(`${ctx.name} completed`);
}
