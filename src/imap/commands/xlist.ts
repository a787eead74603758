/**
 * XLIST: Gmail's pre-RFC 6154 way to name special folders, which Outlook 2013 and 2016 use to find
 * Sent, Drafts, Trash and Junk when the server advertises it (IMAP.md, wildduck #91). It takes the
 * arguments of a plain LIST (reference and pattern) and answers `* XLIST (<attributes>) "/"
 * <name>` for the same names, with Gmail's attribute names: `\Inbox` on INBOX, `\AllMail` for
 * `\All`, `\Spam` for `\Junk`, `\Starred` for `\Flagged`; `\Sent`, `\Drafts`, `\Trash`,
 * `\Important` and the rest as on LIST. INBOX keeps its name (Gmail localizes it; clients select
 * INBOX by name anyway).
 *
 * Real client lines:
 *
 * ```
 * 4 XLIST "" "*"           (Outlook 2013/2016)
 * A003 XLIST "" "%"        (Gmail-era clients walking the tree)
 * ```
 *
 * @module
 */
import {
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  ok,
} from "../session/context.ts";
import { accountOf, DELIMITER, referenceAndPattern } from "./command_support.ts";
import { listLines } from "./list.ts";

/** RFC 6154 attribute (lower case) → the XLIST name for it. */
const XLIST_NAMES: ReadonlyMap<string, string> = new Map([
  ["\\all", "\\AllMail"],
  ["\\junk", "\\Spam"],
  ["\\flagged", "\\Starred"],
]);

/** The XLIST attributes of a LIST line for `name`. */
export function xlistAttributes(name: string, attributes: readonly string[]): string[] {
  const out = attributes.map((a) => XLIST_NAMES.get(a.toLowerCase()) ?? a);
  if (name.toUpperCase() === "INBOX") out.push("\\Inbox");
  return out;
}

/** The XLIST command. */
export const xlistCommand: CommandSpec = {
  names: ["XLIST"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = await referenceAndPattern(ctx, "XLIST");
    if ("status" in args) return args;
    const session = ctx.session;
    const request = {
      extended: false,
      reference: args.reference,
      patterns: [args.pattern],
      selectSubscribed: false,
      selectSpecialUse: false,
      recursiveMatch: false,
      returnSubscribed: false,
      returnStatus: undefined,
    };
    for (const line of listLines(request, accountOf(session).visibleMailboxes())) {
      const attributes = xlistAttributes(line.name, line.attributes);
      await session.respond((e) => {
        e.raw("* XLIST ").list(attributes, (enc, a) => enc.raw(a));
        e.raw(` "${DELIMITER}" `).mailbox(line.name).crlf();
      });
    }
    return ok("XLIST completed");
  },
};
