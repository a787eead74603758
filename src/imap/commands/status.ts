/**
 * STATUS (RFC 3501 §6.3.10): `* STATUS <mailbox> (<item> <value> …)` from the index, for any
 * selectable mailbox, the selected one included (allowed, if not recommended). Items: MESSAGES,
 * RECENT (always 0), UIDNEXT, UIDVALIDITY, UNSEEN, DELETED (RFC 9051), SIZE (RFC 8438),
 * DELETED-STORAGE (RFC 9208), HIGHESTMODSEQ (RFC 7162; asking for it turns CONDSTORE on, §3.1)
 * and APPENDLIMIT (RFC 7889 §3.1).
 *
 * Pending updates of the selected mailbox are flushed before the tagged OK, as the official bridge
 * does (expunges are allowed here, RFC 3501 §7.4.1).
 *
 * Real client lines:
 *
 * ```
 * a0012 STATUS "INBOX" (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)      (mutt)
 * 12 STATUS "Folders/Work" (UIDNEXT MESSAGES UNSEEN RECENT)              (Thunderbird)
 * 6.32 STATUS Sent (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)   (Apple Mail)
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
import { accountOf, isResult, refusal, selectableMailbox, syntaxError } from "./command_support.ts";
import { parseStatusItems, statusContext, writeStatus } from "./status_items.ts";

/** The STATUS command. */
export const statusCommand: CommandSpec = {
  names: ["STATUS"],
  states: ["authenticated", "selected"],
  flush: "all",
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const name = args.expectMailbox();
    const items = parseStatusItems(args);
    if (!args.end()) return syntaxError(args);
    const account = accountOf(ctx.session);
    const mailbox = selectableMailbox(account, name, "NONEXISTENT");
    if (isResult(mailbox)) return mailbox;
    let status;
    try {
      status = account.store.membership.status(mailbox.id);
    } catch (error) {
      return refusal(error);
    }
    if (items.includes("HIGHESTMODSEQ")) ctx.session.enable("CONDSTORE");
    await ctx.session.respond((e) =>
      writeStatus(
        e,
        mailbox.name,
        status,
        items,
        statusContext(account, mailbox, ctx.session.appendLimit),
      )
    );
    return ok("STATUS completed");
  },
};
