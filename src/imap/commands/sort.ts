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
 * `NO [BADCHARSET (UTF-8 US-ASCII)]`. ESORT's `RETURN` is not offered (BAD).
 *
 * The order comes from the index in one query (`Membership.sortedUids`) over the sort keys it
 * keeps per message (`src/mime/sort_fields.ts`: what each key compares and in which collation),
 * between the lowest and the highest UID the search found; what the search did not find is left
 * out of the answer.
 *
 * @module
 */
import type { SortField, SortStep } from "../../store/mod.ts";
import type { Decoder } from "../wire/mod.ts";
import {
  bad,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
} from "../session/context.ts";
import { charsetRefusal, highestModseq, searchSelected } from "./search.ts";
import { parseSearchKeys } from "./search_keys.ts";

/** The sort keys (RFC 5256 §3, RFC 5957 §3) and the index field each orders by. */
const SORT_KEYS: Readonly<Record<string, SortField>> = {
  ARRIVAL: "arrival",
  CC: "cc",
  DATE: "date",
  FROM: "from",
  SIZE: "size",
  SUBJECT: "subject",
  TO: "to",
  DISPLAYFROM: "displayFrom",
  DISPLAYTO: "displayTo",
};

/** SORT and UID SORT. */
export const sortCommand: CommandSpec = {
  names: ["SORT", "UID SORT"],
  states: ["selected"],
  flush: "no-expunge",
  handle: handleSort,
};

/** Parses `"(" [REVERSE SP] key *(SP [REVERSE SP] key) ")"`; errors are recorded on `args`. */
export function parseSortCriteria(args: Decoder): SortStep[] {
  if (args.peek()?.kind !== "list") {
    args.fail("SORT needs a parenthesised list of sort criteria");
    return [];
  }
  const list = args.expectList();
  const criteria: SortStep[] = [];
  let reverse = false;
  while (!list.atEnd() && list.ok) {
    const word = list.expectKeyword();
    if (word === "") break;
    if (word === "REVERSE") {
      if (reverse) list.fail("REVERSE REVERSE is not a sort criterion");
      reverse = true;
      continue;
    }
    if (!Object.hasOwn(SORT_KEYS, word)) {
      list.fail(`Unknown sort key ${word.slice(0, 40)}`);
      break;
    }
    criteria.push({ field: SORT_KEYS[word], reverse });
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
  // Refused before the keys are read: their strings are in that charset, not UTF-8.
  const refused = charsetRefusal(charset);
  if (refused && args.ok) return refused;
  const { key, modseq } = args.ok ? parseSearchKeys(args) : { key: undefined, modseq: false };
  if (!args.end() || !key) return bad(args.error?.message ?? "Invalid SORT arguments", "CLIENTBUG");
  const searched = await searchSelected(ctx, key, modseq);
  if (!("uids" in searched)) return searched;
  const found = searched.uids;
  const wanted = new Set(found);
  const sorted = found.length === 0 ? [] : view.store.membership
    .sortedUids(view.mailboxId, criteria, found[0], found[found.length - 1])
    .filter((u) => wanted.has(u));
  let line = "* SORT";
  if (sorted.length > 0) {
    line += " " + (ctx.uid ? sorted : sorted.map((u) => view.seqOf(u)!)).join(" ");
  }
  if (modseq && sorted.length > 0) line += ` (MODSEQ ${highestModseq(ctx, found)})`;
  await session.respond((e) => e.raw(line).crlf());
  return searched.done;
}
