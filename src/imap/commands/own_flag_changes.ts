/**
 * A session's own flag changes, echoed back by the update bus: STORE and a FETCH that sets
 * `\Seen` answer with the new flags themselves, so the copy the bus queued on the session's view
 * must not be written again at the next flush.
 *
 * Sessions take bus updates synchronously (`onDeliver`), so by the time the account's mutation
 * has returned its `FlagsChanged` is already queued on the view. The caller drops it, then reads
 * the flags it reports from the index, so a change another session made meanwhile is still in
 * what it writes, and anything queued later stays queued.
 *
 * @module
 */
import type { Uid } from "../../store/mod.ts";
import type { MailboxView } from "../state/mailbox_view.ts";

/** Drops the view's queued flag changes of `uids` (call right after the account's mutation). */
export function dropOwnFlagChanges(view: MailboxView, uids: Iterable<Uid>): void {
  view.forgetFlagChanges(uids);
}
