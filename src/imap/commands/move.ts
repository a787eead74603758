/**
 * MOVE and UID MOVE (RFC 6851): moves messages of the selected mailbox to another one. The answer
 * comes in the RFC 6851 §4.3 order: first `* OK [COPYUID <uidvalidity> <source> <destination>]`,
 * then `* n EXPUNGE` for every moved message (the command's flush, expunges allowed), then the
 * tagged OK.
 *
 * The account applies Proton's rules (proton-api.md §5.4): All Mail and Scheduled are refused as
 * source or destination, INBOX↔Sent too (`NO [code]`); a move from a folder into a label keeps the
 * message in the folder, so only the UIDs the account reports as gone get an EXPUNGE. A read-only
 * selection (EXAMINE) cannot move (`NO [CANNOT]`); neither can a mailbox onto itself, where
 * labelling would do nothing and unlabelling would lose the message. A missing destination is
 * `NO [TRYCREATE]`; a sequence number beyond the mailbox `BAD`.
 *
 * Real client lines:
 *
 * ```
 * 18 uid move 1234 "Trash"                     (Thunderbird, Delete key with MOVE)
 * 13 UID MOVE 5:7 "Folders/Archive"            (mbsync)
 * 7.9 UID MOVE 88 "Archive"                    (Apple Mail, Archive button)
 * ```
 *
 * @module
 */
import {
  bad,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  no,
  ok,
} from "../session/context.ts";
import { compactUidSet } from "../wire/mod.ts";
import {
  accountOf,
  isResult,
  refusal,
  reportExpunged,
  selectableMailbox,
  syntaxError,
  viewOf,
} from "./command_support.ts";

/** MOVE and UID MOVE. */
export const moveCommand: CommandSpec = {
  names: ["MOVE", "UID MOVE"],
  states: ["selected"],
  flush: "all",
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const set = args.expectSequenceSet();
    const destination = args.expectMailbox();
    if (!args.end()) return syntaxError(args);
    const session = ctx.session;
    const view = viewOf(session);
    const uids = view.resolve(set, ctx.uid);
    if (uids === undefined) return bad("Invalid message number", "CLIENTBUG");
    if (view.readOnly) return no("Mailbox is read-only", "CANNOT");
    const account = accountOf(session);
    const target = selectableMailbox(account, destination, "TRYCREATE");
    if (isResult(target)) return target;
    if (target.id === view.mailboxId) {
      return no("Source and destination are the same mailbox", "CANNOT");
    }
    if (uids.length === 0) return ok("No messages moved");
    let result;
    try {
      result = await account.move(session.id, view.mailboxId, uids, target.id);
    } catch (error) {
      return refusal(error);
    }
    if (result.sourceUids.length > 0) {
      const code = `COPYUID ${result.uidValidity} ${compactUidSet(result.sourceUids, true)} ${
        compactUidSet(result.destUids, true)
      }`;
      await session.respond((e) => e.raw(`* OK [${code}] Moved`).crlf());
    }
    // The EXPUNGEs follow in the flush before the tagged OK (RFC 6851 §4.3).
    await reportExpunged(view, result.expunged, session.id);
    return ok(`${ctx.name} completed`);
  },
};
