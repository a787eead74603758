/**
 * LSUB (RFC 3501 §6.3.9): the subscribed mailboxes whose names match, as `* LSUB (<attributes>)
 * "/" <name>`, with `\Noselect` and `\Noinferiors` as LIST shows them (labels are `\Noinferiors`). When `%` stops at a
 * level whose name is not subscribed but has subscribed mailboxes below, that name is listed with
 * `\Noselect` (RFC 3501 §6.3.9). INBOX is subscribed unless the client unsubscribed it: Evolution
 * hides every folder when `LSUB "" INBOX` is empty (gluon #331).
 *
 * Real client lines:
 *
 * ```
 * 4 lsub "" "*"                (Thunderbird without LIST-EXTENDED)
 * A0005 LSUB "" "INBOX"        (Evolution)
 * a0010 LSUB "" "*"            (mutt with imap_check_subscribed)
 * ```
 *
 * @module
 */
import type { Mailbox } from "../../store/mod.ts";
import {
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  ok,
} from "../session/context.ts";
import { accountOf, DELIMITER, ownAttributes, referenceAndPattern } from "./command_support.ts";
import { canonicalPattern, MailboxPattern } from "./mailbox_match.ts";
import { MailboxTree } from "./mailbox_tree.ts";

const LSUB_ATTRIBUTES = new Set(["\\noselect", "\\noinferiors"]);

function lsubAttributes(mailbox: Mailbox): string[] {
  return ownAttributes(mailbox).filter((a) => LSUB_ATTRIBUTES.has(a.toLowerCase()));
}

/** The LSUB command. */
export const lsubCommand: CommandSpec = {
  names: ["LSUB"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = await referenceAndPattern(ctx, "LSUB");
    if ("status" in args) return args;
    const session = ctx.session;
    const matcher = new MailboxPattern(canonicalPattern(args.reference, args.pattern), DELIMITER);
    const tree = new MailboxTree(accountOf(session).visibleMailboxes(), DELIMITER);
    for (const entry of tree.entries) {
      if (!matcher.matches(entry.name)) continue;
      let attributes: string[];
      if (entry.mailbox?.subscribed) {
        attributes = lsubAttributes(entry.mailbox);
      } else {
        const below = tree.descendants(entry.name).filter((m) => m.subscribed);
        if (below.length === 0 || below.some((m) => matcher.matches(m.name))) continue;
        attributes = ["\\Noselect"];
      }
      await session.respond((e) => {
        e.raw("* LSUB ").list(attributes, (enc, a) => enc.raw(a));
        e.raw(` "${DELIMITER}" `).mailbox(entry.name).crlf();
      });
    }
    return ok("LSUB completed");
  },
};
