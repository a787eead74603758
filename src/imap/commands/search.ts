/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8), with ESEARCH `RETURN (MIN MAX COUNT ALL)`
 * (RFC 4731) and the CONDSTORE `MODSEQ` key (RFC 7162 §3.1.5).
 *
 * Real client lines:
 * - Thunderbird: `8 UID SEARCH UNDELETED SINCE 1-Mar-2024` and, for a filter,
 *   `11 UID SEARCH OR FROM "alice" SUBJECT "alice"`
 * - mutt: `a0007 UID SEARCH CHARSET UTF-8 TEXT "invoice"`
 * - iOS Mail with CONDSTORE and ESEARCH: `5 UID SEARCH RETURN (ALL) 1:* NOT DELETED` and
 *   `6 UID SEARCH RETURN (COUNT) MODSEQ 12345`
 *
 * Answers `* SEARCH n …` with message numbers (UIDs for UID SEARCH), ascending; with a MODSEQ key
 * and at least one match `* SEARCH … (MODSEQ m)`, m the highest mod-sequence of the matches. With
 * RETURN, `* ESEARCH (TAG "tag") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ m]`: MIN, MAX
 * and ALL are left out when nothing matched, COUNT never is (RFC 4731 §3.1); with only MIN and/or
 * MAX the MODSEQ is that of those messages (RFC 7162 §3.1.5 with ESEARCH).
 *
 * `CHARSET` may be UTF-8 or US-ASCII (strings are read as UTF-8 either way); others get
 * `NO [BADCHARSET (UTF-8 US-ASCII)]`. How each key is evaluated is in `search_query.ts`.
 *
 * @module
 */
import { MailboxOperationError } from "../../connector/account.ts";
import type { Uid } from "../../store/mod.ts";
import {
  bad,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  no,
  ok,
} from "../session/context.ts";
import { compactUidSet } from "../wire/mod.ts";
import {
  parseSearchRequest,
  SEARCH_CHARSETS,
  type SearchKey,
  type SearchReturnOption,
} from "./search_keys.ts";
import { runSearch } from "./search_query.ts";

/** SEARCH and UID SEARCH. */
export const searchCommand: CommandSpec = {
  names: ["SEARCH", "UID SEARCH"],
  states: ["selected"],
  flush: "no-expunge",
  handle: handleSearch,
};

async function handleSearch(ctx: CommandContext): Promise<CommandResult> {
  const { args, session } = ctx;
  const view = session.view;
  const account = session.account;
  if (!view || !account) throw new Error("SEARCH ran without a selected mailbox");
  const request = parseSearchRequest(args);
  // Before the keys, which were not read in a charset refused.
  const refused = request.charset === undefined ? undefined : charsetRefusal(request.charset);
  if (refused && args.ok) return refused;
  if (!args.end()) return bad(args.error?.message ?? "Invalid SEARCH arguments", "CLIENTBUG");
  const found = await searchSelected(ctx, request.key, request.modseq);
  if (!("uids" in found)) return found;
  const { uids } = found;
  const numbers = ctx.uid ? uids : uids.map((u) => view.seqOf(u)!);
  const highest = (picked: readonly Uid[]): number | undefined =>
    request.modseq && picked.length > 0 ? highestModseq(ctx, picked) : undefined;
  let line: string;
  if (request.returnOptions) {
    const opts = request.returnOptions;
    // RFC 7162 §3.1.5 with ESEARCH: MIN/MAX alone report the mod-sequence of those messages.
    const picked = opts.has("ALL") || opts.has("COUNT") ? uids : [
      ...(opts.has("MIN") ? uids.slice(0, 1) : []),
      ...(opts.has("MAX") ? uids.slice(-1) : []),
    ];
    line = esearchLine(ctx.tag, ctx.uid, opts, numbers, highest(picked));
  } else {
    line = searchLine(numbers, highest(uids));
  }
  await session.respond((e) => e.raw(line).crlf());
  return found.done;
}

/** `NO [BADCHARSET (…)]` for a charset SEARCH and SORT do not take (upper case), else nothing. */
export function charsetRefusal(charset: string): CommandResult | undefined {
  if (SEARCH_CHARSETS.includes(charset)) return undefined;
  return no("Unsupported charset", `BADCHARSET (${SEARCH_CHARSETS.join(" ")})`);
}

/**
 * The UIDs of the selected mailbox matching `key`, ascending (SEARCH and SORT), with the result
 * to end the command with once they are written: OK, or `NO [EXPUNGEISSUED]` (RFC 5530) when
 * messages it had to read were replaced or expunged meanwhile (their new UIDs come with the next
 * EXISTS; searching again finds them). Or the `NO` to answer at once when a message it had to read
 * cannot be loaded now. A MODSEQ key turns CONDSTORE on (RFC 7162 §3.1).
 */
export async function searchSelected(
  ctx: CommandContext,
  key: SearchKey,
  modseq: boolean,
): Promise<{ uids: Uid[]; done: CommandResult } | CommandResult> {
  const { session } = ctx;
  const view = session.view!;
  const account = session.account!;
  if (modseq && !session.enabled.has("CONDSTORE")) session.enable("CONDSTORE");
  let gone = 0;
  try {
    const uids = await runSearch({
      view,
      literal: (id) => account.literal(id),
      onGone: () => gone++,
    }, key);
    const done = gone === 0 ? ok(`${ctx.name} completed`) : no(
      `${gone} message(s) were replaced or expunged meanwhile and left out; search again`,
      "EXPUNGEISSUED",
    );
    return { uids, done };
  } catch (error) {
    if (!(error instanceof MailboxOperationError)) throw error;
    return no(
      `Some messages could not be searched now: ${error.message.replace(/[\r\n]+/g, " ")}`,
      error.code,
    );
  }
}

/** The highest mod-sequence among `uids` of the selected mailbox (RFC 7162 §3.1.5). */
export function highestModseq(ctx: CommandContext, uids: readonly Uid[]): number {
  const view = ctx.session.view!;
  let max = 0;
  for (const row of view.store.membership.flagRows(view.mailboxId, view.toUidRanges(uids))) {
    if (row.modseq > max) max = row.modseq;
  }
  return max;
}

/** `* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ m]` (RFC 4731 §3.1). */
function esearchLine(
  tag: string,
  uid: boolean,
  opts: ReadonlySet<SearchReturnOption>,
  found: readonly number[],
  modseq: number | undefined,
): string {
  let out = `* ESEARCH (TAG ${quote(tag)})${uid ? " UID" : ""}`;
  if (found.length > 0) {
    if (opts.has("MIN")) out += ` MIN ${found[0]}`;
    if (opts.has("MAX")) out += ` MAX ${found[found.length - 1]}`;
  }
  if (opts.has("COUNT")) out += ` COUNT ${found.length}`;
  if (opts.has("ALL") && found.length > 0) out += ` ALL ${compactUidSet(found)}`;
  if (modseq !== undefined) out += ` MODSEQ ${modseq}`;
  return out;
}

function searchLine(numbers: readonly number[], modseq: number | undefined): string {
  let out = "* SEARCH";
  if (numbers.length > 0) out += " " + numbers.join(" ");
  if (modseq !== undefined) out += ` (MODSEQ ${modseq})`;
  return out;
}

function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, "\\$&") + '"';
}
