/**
 * CLOSE (RFC 3501 §6.4.2): expunges the `\Deleted` messages of the selected mailbox without any
 * untagged EXPUNGE (when it was opened read-write), then ends the selection. It always succeeds
 * (mbsync expunges with CLOSE; a refused CLOSE broke it with gluon, gluon #426): when the account
 * cannot expunge, an untagged `* NO [code] …` says so and the messages stay, still `\Deleted`.
 *
 * Real client lines:
 *
 * ```
 * 14 CLOSE                     (mbsync with Expunge Both)
 * a0020 CLOSE                  (mutt, leaving a folder with deletions)
 * 33 close                     (Thunderbird, "expunge on exit")
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
import { MailboxOperationError } from "../../connector/account.ts";
import { accountOf, highestModseqCode, oneLine, syntaxError, viewOf } from "./command_support.ts";

/** The CLOSE command. */
export const closeCommand: CommandSpec = {
  names: ["CLOSE"],
  states: ["selected"],
  // Nothing may be reported: the selection ends with this command.
  flush: "none",
  async handle(ctx: CommandContext): Promise<CommandResult> {
    if (!ctx.args.end()) return syntaxError(ctx.args);
    const session = ctx.session;
    const view = viewOf(session);
    // With QRESYNC the tagged OK carries a HIGHESTMODSEQ, which the client takes as its next
    // resynchronization point: what other sessions and the event loop changed is reported first
    // (as after any command), and the code is the mod-sequence reached then, before CLOSE's own
    // expunge, which stays silent; the client's next QRESYNC SELECT names those UIDs again in
    // VANISHED (EARLIER), which is harmless, where a later value could skip a change for good.
    let code: string | undefined;
    if (session.enabled.has("QRESYNC") && view.fate === "ok") {
      code = await highestModseqCode(session, view);
      await session.flushUpdates(true);
    }
    let expunged = 0;
    if (!view.readOnly && view.fate === "ok") {
      try {
        expunged = (await accountOf(session).expunge(session.id, view.mailboxId)).length;
      } catch (error) {
        if (!(error instanceof MailboxOperationError)) throw error;
        const text = oneLine(error.message);
        await session.respond((e) => e.raw(`* NO [${error.code}] ${text}`).crlf());
      }
    }
    if (expunged === 0) code = undefined;
    view.clearPending();
    session.unselect();
    return ok("CLOSE completed", code);
  },
};
