/**
 * UNSUBSCRIBE (RFC 3501 §6.3.7): clears a mailbox's subscription (index only). Unsubscribing a
 * mailbox that is not subscribed succeeds; an unknown name is `NO [NONEXISTENT]`.
 *
 * Real client lines:
 *
 * ```
 * 22 unsubscribe "Folders/Old"           (Thunderbird, before DELETE)
 * a0016 UNSUBSCRIBE "Labels/Todo"        (mutt, `unsubscribe-from`)
 * ```
 *
 * @module
 */
import {
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  no,
  ok,
} from "../session/context.ts";
import { accountOf, syntaxError } from "./command_support.ts";

/** The UNSUBSCRIBE command. */
export const unsubscribeCommand: CommandSpec = {
  names: ["UNSUBSCRIBE"],
  states: ["authenticated", "selected"],
  handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const name = args.expectMailbox();
    if (!args.end()) return Promise.resolve(syntaxError(args));
    const account = accountOf(ctx.session);
    const mailbox = account.mailboxByName(name);
    if (!mailbox) return Promise.resolve(no("Mailbox does not exist", "NONEXISTENT"));
    account.setSubscribed(mailbox.id, false);
    return Promise.resolve(ok("UNSUBSCRIBE completed"));
  },
};
