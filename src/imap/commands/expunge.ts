/**
 * EXPUNGE and UID EXPUNGE (RFC 3501 §6.4.3, RFC 4315 §2.1): removes the messages flagged
 * `\Deleted` from the selected mailbox (UID EXPUNGE: only those among the given UIDs) and reports
 * each as `* n EXPUNGE` before the tagged OK (the command's flush, expunges allowed).
 *
 * The account applies Proton's rules (proton-api.md §5.5): in a folder or label the message only
 * leaves that mailbox; in Trash and Drafts what is left nowhere else is deleted for good; All Mail
 * and Scheduled refuse (`NO [code]`). A read-only selection (EXAMINE) is `NO [CANNOT]`.
 *
 * Real client lines:
 *
 * ```
 * 19 expunge                    (Thunderbird, "Compact" / after marking deleted)
 * 20 UID EXPUNGE 1234           (Thunderbird saving a draft: the old copy goes)
 * 11 UID EXPUNGE 3:5            (mbsync with UIDPLUS)
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
import type { Uid } from "../../store/mod.ts";
import {
  accountOf,
  highestModseqCode,
  refusal,
  reportExpunged,
  syntaxError,
  viewOf,
} from "./command_support.ts";

/** EXPUNGE and UID EXPUNGE. */
export const expungeCommand: CommandSpec = {
  names: ["EXPUNGE", "UID EXPUNGE"],
  states: ["selected"],
  flush: "all",
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const set = ctx.uid ? args.expectSequenceSet() : undefined;
    if (!args.end()) return syntaxError(args);
    const session = ctx.session;
    const view = viewOf(session);
    if (view.readOnly) return no("Mailbox is read-only", "CANNOT");
    let only: Uid[] | undefined;
    if (set) {
      only = view.resolve(set, true) ?? [];
      if (only.length === 0) return ok(`${ctx.name} completed`);
    }
    let gone: Uid[];
    try {
      gone = await accountOf(session).expunge(session.id, view.mailboxId, only);
    } catch (error) {
      return refusal(error);
    }
    await reportExpunged(view, gone, session.id);
    // The command's flush then reports everything queued, up to the code's mod-sequence.
    return ok(
      `${ctx.name} completed`,
      gone.length > 0 ? await highestModseqCode(session, view) : undefined,
    );
  },
};
