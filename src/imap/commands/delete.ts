/**
 * DELETE (RFC 3501 §6.3.4): removes a user folder or label (the account calls the API first).
 * INBOX, the other system mailboxes and the `Folders` / `Labels` parents cannot be deleted
 * (`NO [CANNOT]`); an unknown name is `NO [NONEXISTENT]` (RFC 5530). Messages stay in their other
 * mailboxes (All Mail at least). Deleting the mailbox this session has selected is allowed and ends
 * the selection quietly (other sessions with it selected are told with `BYE`, by the session).
 *
 * Real client lines:
 *
 * ```
 * 21 delete "Folders/Old"             (Thunderbird, after emptying the folder into Trash)
 * 5 DELETE "Labels/Temp"              (mbsync with Remove Far)
 * 9.4 DELETE "Folders/Work/2023"      (Apple Mail)
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
import { accountOf, refusal, syntaxError } from "./command_support.ts";

/** The DELETE command. */
export const deleteCommand: CommandSpec = {
  names: ["DELETE"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const name = args.expectMailbox();
    if (!args.end()) return syntaxError(args);
    if (name === "INBOX") return no("INBOX cannot be deleted", "CANNOT"); // RFC 3501 §6.3.4
    const account = accountOf(ctx.session);
    const mailbox = account.mailboxByName(name);
    if (!mailbox) return no("Mailbox does not exist", "NONEXISTENT");
    if (mailbox.kind === "system" || mailbox.kind === "placeholder") {
      return no("System mailboxes cannot be deleted", "CANNOT");
    }
    try {
      await account.deleteMailbox(ctx.session.id, mailbox.id);
    } catch (error) {
      return refusal(error);
    }
    if (ctx.session.view?.mailboxId === mailbox.id) ctx.session.unselect();
    return ok("DELETE completed");
  },
};
