/**
 * SUBSCRIBE (RFC 3501 §6.3.6): marks a mailbox subscribed (kept in the index only, the API has no
 * such notion). Only existing mailboxes can be subscribed: `NO [NONEXISTENT]` otherwise.
 *
 * Real client lines:
 *
 * ```
 * 16 subscribe "Folders/Work"        (Thunderbird, after CREATE)
 * a0015 SUBSCRIBE "Labels/Todo"      (mutt, `subscribe-to`)
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

/** The SUBSCRIBE command. */
export const subscribeCommand: CommandSpec = {
  names: ["SUBSCRIBE"],
  states: ["authenticated", "selected"],
  handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const name = args.expectMailbox();
    if (!args.end()) return Promise.resolve(syntaxError(args));
    const account = accountOf(ctx.session);
    const mailbox = account.mailboxByName(name);
    if (!mailbox) return Promise.resolve(no("Mailbox does not exist", "NONEXISTENT"));
    account.setSubscribed(mailbox.id, true);
    return Promise.resolve(ok("SUBSCRIBE completed"));
  },
};
