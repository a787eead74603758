/**
 * LIST (RFC 3501 §6.3.8) with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154), CHILDREN and
 * LIST-STATUS (RFC 5819).
 *
 * Real client lines:
 *
 * ```
 * 5 list (subscribed) "" "*" return (special-use)                      (Thunderbird)
 * 3 LIST "" "*" RETURN (SPECIAL-USE STATUS (UNSEEN))                     (iOS / Apple Mail)
 * 4 LIST "" "%"                                                          (Outlook.com, mbsync)
 * ```
 *
 * What is sent for each listed name: `* LIST (<attributes>) "/" <name>`, the name in modified
 * UTF-7. Attributes are the mailbox's own (`\Noselect`, `\Noinferiors` and the special-use ones,
 * also on plain LIST so Apple Mail does not invent its own Sent and Trash; `\Noinferiors` on every
 * `Labels/…` mailbox, since labels have no sub-labels), then `\HasChildren` or `\HasNoChildren`
 * (left out next to `\Noinferiors`, which implies `\HasNoChildren`, RFC 5258 §4),
 * then `\Subscribed` when asked for. `LIST "" ""` answers the delimiter: `(\Noselect) "/" ""`.
 *
 * Extended syntax: selection options `(SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE)`, several
 * patterns `("INBOX" "Folders/*")`, return options `RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS
 * (…))`. RECURSIVEMATCH adds `("CHILDINFO" ("SUBSCRIBED"))` to names with matching children
 * (RFC 5258 §3.5). With STATUS, `* STATUS` follows the `* LIST` of every selectable mailbox.
 * Unknown options are `BAD` (RFC 5258 §3).
 *
 * Names only implied by deeper ones (a parent that is not a mailbox) are listed when `%` stops at
 * their level: `\Noselect \HasChildren` (plain LIST) or `\NonExistent \HasChildren` (extended).
 *
 * @module
 */
import { type Mailbox, MailboxNotFoundError } from "../../store/mod.ts";
import {
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  ok,
} from "../session/context.ts";
import type { Decoder } from "../wire/mod.ts";
import {
  accountOf,
  DELIMITER,
  isSelectable,
  ownAttributes,
  syntaxError,
} from "./command_support.ts";
import { canonicalPattern, MailboxPattern } from "./mailbox_match.ts";
import { MailboxTree, type TreeEntry } from "./mailbox_tree.ts";
import { parseStatusItems, statusContext, type StatusItem, writeStatus } from "./status_items.ts";

/** RFC 6154 special-use attributes. */
export const SPECIAL_USE_ATTRIBUTES: readonly string[] = [
  "\\All",
  "\\Archive",
  "\\Drafts",
  "\\Flagged",
  "\\Junk",
  "\\Sent",
  "\\Trash",
  "\\Important",
];

const SPECIAL_USE_LOWER = new Set(SPECIAL_USE_ATTRIBUTES.map((a) => a.toLowerCase()));

/** Whether `mailbox` carries an RFC 6154 special-use attribute. */
export function isSpecialUse(mailbox: Mailbox): boolean {
  return mailbox.attributes.some((a) => SPECIAL_USE_LOWER.has(a.toLowerCase()));
}

/** A parsed LIST command. */
export interface ListRequest {
  /** Whether any RFC 5258 syntax was used (changes `\Noselect` into `\NonExistent`). */
  extended: boolean;
  reference: string;
  patterns: string[];
  selectSubscribed: boolean;
  selectSpecialUse: boolean;
  recursiveMatch: boolean;
  returnSubscribed: boolean;
  /** STATUS items to return after each selectable mailbox (RFC 5819), if asked. */
  returnStatus: StatusItem[] | undefined;
}

/** Parses the LIST arguments; returns `undefined` after recording an error in `args`. */
export function parseListArguments(args: Decoder): ListRequest | undefined {
  const request: ListRequest = {
    extended: false,
    reference: "",
    patterns: [],
    selectSubscribed: false,
    selectSpecialUse: false,
    recursiveMatch: false,
    returnSubscribed: false,
    returnStatus: undefined,
  };
  let remote = false;
  const selection = args.optionalList();
  if (selection) {
    request.extended = true;
    while (!selection.atEnd() && args.ok) {
      const option = selection.expectKeyword();
      if (!args.ok) break;
      switch (option) {
        case "SUBSCRIBED":
          request.selectSubscribed = true;
          request.returnSubscribed = true; // RFC 5258 §3.1: implies the return option
          break;
        case "REMOTE":
          remote = true; // nothing is remote here (RFC 2193 referrals are not used)
          break;
        case "RECURSIVEMATCH":
          request.recursiveMatch = true;
          break;
        case "SPECIAL-USE":
          request.selectSpecialUse = true;
          break;
        default:
          args.fail(`Unknown LIST selection option ${option}`);
      }
    }
    if (
      args.ok && request.recursiveMatch && !request.selectSubscribed && !request.selectSpecialUse
    ) {
      // RFC 5258 §3: RECURSIVEMATCH alone (or with REMOTE only) is an error.
      args.fail(
        remote
          ? "RECURSIVEMATCH needs a selection option other than REMOTE"
          : "RECURSIVEMATCH needs another selection option",
      );
    }
  }
  request.reference = args.expectMailbox();
  const patterns = args.optionalList();
  if (patterns) {
    request.extended = true;
    if (patterns.atEnd()) args.fail("Expected at least one mailbox pattern");
    while (!patterns.atEnd() && args.ok) request.patterns.push(patterns.expectListMailbox());
  } else {
    request.patterns.push(args.expectListMailbox());
  }
  if (args.ok && args.optionalKeyword("RETURN") !== undefined) {
    request.extended = true;
    const options = args.expectList();
    while (!options.atEnd() && args.ok) {
      const option = options.expectKeyword();
      if (!args.ok) break;
      switch (option) {
        case "SUBSCRIBED":
          request.returnSubscribed = true;
          break;
        case "CHILDREN": // always returned (CHILDREN capability)
        case "SPECIAL-USE": // always returned (RFC 6154 allows it on every LIST)
          break;
        case "STATUS": {
          const items = parseStatusItems(options);
          if (args.ok) request.returnStatus = [...(request.returnStatus ?? []), ...items];
          break;
        }
        default:
          args.fail(`Unknown LIST return option ${option}`);
      }
    }
  }
  if (!args.end()) return undefined;
  return request;
}

/** The attributes of an existing mailbox in a LIST response. */
function attributesOf(
  mailbox: Mailbox,
  tree: MailboxTree,
  withSubscribed: boolean,
): string[] {
  const out = ownAttributes(mailbox);
  if (!out.some((a) => a.toLowerCase() === "\\noinferiors")) {
    out.push(tree.hasChildren(mailbox.name) ? "\\HasChildren" : "\\HasNoChildren");
  }
  if (withSubscribed && mailbox.subscribed) out.push("\\Subscribed");
  return out;
}

/** One line of the LIST answer, before encoding. */
export interface ListLine {
  name: string;
  attributes: string[];
  childInfo: string[] | undefined;
  /** The mailbox to report STATUS for, when it is selectable. */
  status: Mailbox | undefined;
}

/** Computes the LIST answer for `request` over `mailboxes` (the account's visible ones). */
export function listLines(request: ListRequest, mailboxes: readonly Mailbox[]): ListLine[] {
  const tree = new MailboxTree(mailboxes, DELIMITER);
  const patterns = request.patterns
    .filter((p) => p !== "")
    .map((p) => new MailboxPattern(canonicalPattern(request.reference, p), DELIMITER));
  const matches = (name: string) => patterns.some((p) => p.matches(name));
  const criteria: string[] = [];
  if (request.selectSubscribed) criteria.push("SUBSCRIBED");
  if (request.selectSpecialUse) criteria.push("SPECIAL-USE");
  const meets = (m: Mailbox | undefined): boolean =>
    m !== undefined && (!request.selectSubscribed || m.subscribed) &&
    (!request.selectSpecialUse || isSpecialUse(m));

  const lines: ListLine[] = [];
  for (const entry of tree.entries) {
    if (!matches(entry.name)) continue;
    const line = lineFor(entry);
    if (line) lines.push(line);
  }
  return lines;

  function lineFor(entry: TreeEntry): ListLine | undefined {
    const m = entry.mailbox;
    if (criteria.length === 0) {
      if (m) {
        return {
          name: m.name,
          attributes: attributesOf(m, tree, request.returnSubscribed),
          childInfo: undefined,
          status: isSelectable(m) ? m : undefined,
        };
      }
      // An implied parent: listed when no deeper name matches, i.e. `%` stopped at its level.
      if (tree.descendants(entry.name).some((d) => matches(d.name))) return undefined;
      return {
        name: entry.name,
        attributes: [request.extended ? "\\NonExistent" : "\\Noselect", "\\HasChildren"],
        childInfo: undefined,
        status: undefined,
      };
    }
    const self = meets(m);
    const childMatch = request.recursiveMatch && tree.descendants(entry.name).some(meets);
    if (!self && !childMatch) return undefined;
    let attributes: string[];
    if (m) attributes = attributesOf(m, tree, request.returnSubscribed);
    else attributes = ["\\NonExistent", "\\HasChildren"];
    return {
      name: entry.name,
      attributes,
      childInfo: childMatch ? criteria : undefined,
      status: m && isSelectable(m) ? m : undefined,
    };
  }
}

/** The LIST command. */
export const listCommand: CommandSpec = {
  names: ["LIST"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const request = parseListArguments(ctx.args);
    if (!request) return syntaxError(ctx.args);
    const session = ctx.session;
    const account = accountOf(session);
    if (request.patterns.every((p) => p === "")) {
      // RFC 3501 §6.3.8: the hierarchy delimiter and the root name (no namespace prefix here).
      await session.respond((e) => e.raw(`* LIST (\\Noselect) "${DELIMITER}" `).string("").crlf());
      return ok("LIST completed");
    }
    const status = request.returnStatus;
    if (status?.includes("HIGHESTMODSEQ")) session.enable("CONDSTORE"); // RFC 7162 §3.1
    for (const line of listLines(request, account.visibleMailboxes())) {
      await session.respond((e) => {
        e.raw("* LIST ").list(line.attributes, (enc, a) => enc.raw(a));
        e.raw(` "${DELIMITER}" `).mailbox(line.name);
        if (line.childInfo) {
          e.raw(' ("CHILDINFO" ').list(line.childInfo, (enc, c) => enc.quoted(c)).raw(")");
        }
        e.crlf();
      });
      if (status && line.status) {
        const mailbox = line.status;
        let values;
        try {
          values = account.store.membership.status(mailbox.id);
        } catch (error) {
          if (error instanceof MailboxNotFoundError) continue; // deleted while we were listing
          throw error;
        }
        await session.respond((e) =>
          writeStatus(
            e,
            mailbox.name,
            values,
            status,
            statusContext(account, mailbox, session.appendLimit),
          )
        );
      }
    }
    return ok("LIST completed");
  },
};
