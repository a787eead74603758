/**
 * RENAME (RFC 3501 §6.3.5): renames (or moves) a user folder or label; its children follow. The
 * account calls the API first and decides what is possible (folders stay under `Folders/`, labels
 * under `Labels/`); its refusals come back as `NO [code]`.
 *
 * INBOX cannot be renamed, as with the official bridge (RFC 3501's "move INBOX's messages into a
 * new mailbox" has no Proton equivalent), nor can the other system mailboxes or the `Folders` and
 * `Labels` parents: `NO [CANNOT]`. An unknown source is `NO [NONEXISTENT]`, a taken destination
 * `NO [ALREADYEXISTS]` (RFC 5530). A trailing delimiter on the new name is dropped.
 *
 * Real client lines:
 *
 * ```
 * 31 rename "Folders/Work" "Folders/Projects"       (Thunderbird, "Rename…")
 * 31 rename "Folders/Work" "Folders/Archive/Work"   (Thunderbird, drag a folder into another)
 * 8.2 RENAME "Labels/Todo" "Labels/To do"           (Apple Mail)
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
import { accountOf, DELIMITER, refusal, syntaxError } from "./command_support.ts";

/** The RENAME command. */
export const renameCommand: CommandSpec = {
  names: ["RENAME"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const from = args.expectMailbox();
    let to = args.expectMailbox();
    if (!args.end()) return syntaxError(args);
    while (to.endsWith(DELIMITER)) to = to.slice(0, -DELIMITER.length);
    if (from === "INBOX") return no("INBOX cannot be renamed", "CANNOT");
    const account = accountOf(ctx.session);
    const mailbox = account.mailboxByName(from);
    if (!mailbox) return no("Mailbox does not exist", "NONEXISTENT");
    if (mailbox.kind === "system" || mailbox.kind === "placeholder") {
      return no("System mailboxes cannot be renamed", "CANNOT");
    }
    if (to === "" || to.split(DELIMITER).some((part) => part === "")) {
      return no("New mailbox name is empty or has an empty level", "CANNOT");
    }
    if (to.toUpperCase() === "INBOX" || account.mailboxByName(to)) {
      return no("Mailbox already exists", "ALREADYEXISTS");
    }
    if (to.startsWith(mailbox.name + DELIMITER)) {
      if (mailbox.kind === "label") return no("Labels have no sub-labels", "CANNOT");
      return no("A mailbox cannot be moved below itself", "CANNOT");
    }
    try {
      await account.renameMailbox(ctx.session.id, mailbox.id, to);
    } catch (error) {
      return refusal(error);
    }
    return ok("RENAME completed");
  },
};
