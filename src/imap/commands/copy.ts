/**
 * COPY and UID COPY (RFC 3501 §6.4.7, RFC 4315 UIDPLUS): copies messages of the selected mailbox
 * to another one and answers `OK [COPYUID <uidvalidity> <source uids> <destination uids>]`, the
 * n-th source UID pairing with the n-th destination UID.
 *
 * What a copy means is the account's business (proton-api.md §5.4): into a label it adds the
 * label; into a folder or system mailbox the message moves on the server, and the source copy
 * disappears later through the update bus (reported at a point where EXPUNGE is allowed). Its
 * refusals (into All Mail or Scheduled, …) come back as `NO [code]`. A missing destination is
 * `NO [TRYCREATE]` (RFC 3501 §6.4.7), a sequence number beyond the mailbox `BAD`. UIDs that no
 * longer exist are skipped (RFC 3501 §6.4.8), and so are messages the destination holds already
 * (a message is in a mailbox once: no copy is made, and COPYUID names new copies only); when
 * nothing is left the answer is a plain OK.
 *
 * Real client lines:
 *
 * ```
 * 14 uid copy 1234,1240:1242 "Labels/Receipts"    (Thunderbird, drag with Ctrl)
 * 12 UID COPY 77 "Folders/Archive"                (mbsync)
 * 5.3 UID COPY 8:9 "Trash"                        (Apple Mail without MOVE)
 * ```
 *
 * @module
 */
import {
  bad,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  ok,
} from "../session/context.ts";
import { compactUidSet } from "../wire/mod.ts";
import {
  accountOf,
  isResult,
  refusal,
  selectableMailbox,
  syntaxError,
  viewOf,
} from "./command_support.ts";

/** COPY and UID COPY. */
export const copyCommand: CommandSpec = {
  names: ["COPY", "UID COPY"],
  states: ["selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const set = args.expectSequenceSet();
    const destination = args.expectMailbox();
    if (!args.end()) return syntaxError(args);
    const session = ctx.session;
    const view = viewOf(session);
    const uids = view.resolve(set, ctx.uid);
    if (uids === undefined) return bad("Invalid message number", "CLIENTBUG");
    const account = accountOf(session);
    const target = selectableMailbox(account, destination, "TRYCREATE");
    if (isResult(target)) return target;
    if (uids.length === 0) return ok("No messages copied");
    let result;
    try {
      result = await account.copy(session.id, view.mailboxId, uids, target.id);
    } catch (error) {
      return refusal(error);
    }
    // A copy into a folder may move messages out of this mailbox on the server: the bus reports
    // them, and the session writes the EXPUNGEs at the next point where they are allowed.
    if (result.sourceUids.length === 0) return ok("No messages copied");
    const code = `COPYUID ${result.uidValidity} ${compactUidSet(result.sourceUids, true)} ${
      compactUidSet(result.destUids, true)
    }`;
    return ok(`${ctx.name} completed`, code);
  },
};
