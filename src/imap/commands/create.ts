/**
 * CREATE (RFC 3501 §6.3.3): a new folder or label. Only names under `Folders/` and `Labels/` can be
 * created (proton-api.md §5.2); the account decides and calls the API first, and its refusals
 * come back as `NO [CANNOT]` and the like. A trailing delimiter (`CREATE "Folders/Work/"`, "I mean
 * to create children") is dropped (RFC 3501 §6.3.3); an existing name, INBOX in any case included,
 * is `NO [ALREADYEXISTS]` (RFC 5530).
 *
 * Real client lines:
 *
 * ```
 * 15 create "Folders/Work"              (Thunderbird, "New Folder…")
 * 8 CREATE "Labels/Receipts"            (mbsync with Create Near)
 * 7.12 CREATE "Folders/Caf&AOk-"        (Apple Mail, non-ASCII name in modified UTF-7)
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

/** The CREATE command. */
export const createCommand: CommandSpec = {
  names: ["CREATE"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    let name = args.expectMailbox();
    if (!args.end()) return syntaxError(args);
    while (name.endsWith(DELIMITER)) name = name.slice(0, -DELIMITER.length);
    if (name === "") return no("Mailbox name is empty", "CANNOT");
    if (name.split(DELIMITER).some((part) => part === "")) {
      return no("Mailbox name has an empty level", "CANNOT");
    }
    const account = accountOf(ctx.session);
    if (name.toUpperCase() === "INBOX" || account.mailboxByName(name)) {
      return no("Mailbox already exists", "ALREADYEXISTS");
    }
    try {
      await account.createMailbox(ctx.session.id, name);
    } catch (error) {
      return refusal(error);
    }
    return ok("CREATE completed");
  },
};
