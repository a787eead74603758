/**
 * A session's own flag changes, echoed back by the update bus: STORE and a FETCH that sets
 * `\Seen` answer with the new flags themselves, so the copy the bus queues on the session's view
 * must not be written again at the next flush.
 *
 * The bus delivers in microtasks after `publish`; waiting one macrotask lets every delivery
 * finish, then the view forgets the queued changes of those UIDs. The caller reads the flags it
 * reports *after* this, so a change another session made meanwhile is still in what it writes,
 * and anything queued later stays queued.
 *
 * @module
 */
import type { Uid } from "../../store/mod.ts";
import type { MailboxView } from "../state/mailbox_view.ts";

/** Waits until the bus has delivered what was published, then drops the view's queued flag
 * changes of `uids`. */
export async function dropOwnFlagChanges(view: MailboxView, uids: Iterable<Uid>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  view.forgetFlagChanges(uids);
}
