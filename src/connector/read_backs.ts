/**
 * When the index last took a message's metadata as read back from the server after a mail
 * client's change (COPY, MOVE, EXPUNGE: `remote_refresh.ts`). The event loop asks it at each
 * commit: an update item of an event fetched before that read-back describes the message as it
 * was before it, and applying it would take the message back where it was (a message moved out of
 * a label came back there under a new UID until the next event removed it again). Such items are
 * left out; the change's own event, fetched later, says the same as the read-back.
 *
 * Only read-backs count: they hold each message's whole state as of their request, so leaving
 * an older item out loses nothing. A change that is not read back (STORE applies the bits the
 * API set) is not recorded: its call may have changed nothing on the server, and then no later
 * event would bring what the older item held.
 *
 * Times are the moment the read-back request was sent, so "fetched before" is certain: every
 * event of a poll that returned before then was made before the server answered the read-back.
 * Entries older than {@link READ_BACK_MEMORY_MS} are dropped (an event loop is never that far
 * behind a poll it has made).
 *
 * @module
 */

/** How long a read-back is remembered. */
export const READ_BACK_MEMORY_MS = 10 * 60_000;

/** The read-backs of one account (see the module notes). */
export class ReadBacks {
  readonly #at = new Map<string, number>();
  readonly #clock: () => number;

  /** `clock`: ms, monotonic enough (tests inject one). */
  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /** The clock read-backs and event fetches are timed by. */
  now(): number {
    return this.#clock();
  }

  /** The index took these messages' metadata as read back by a request sent at `sentAt`. */
  record(remoteIds: Iterable<string>, sentAt: number): void {
    const now = this.#clock();
    for (const [id, at] of this.#at) if (now - at > READ_BACK_MEMORY_MS) this.#at.delete(id);
    for (const id of remoteIds) this.#at.set(id, Math.max(this.#at.get(id) ?? -Infinity, sentAt));
  }

  /** Whether the message was read back by a request sent after `time`. */
  newerThan(remoteId: string, time: number): boolean {
    const at = this.#at.get(remoteId);
    return at !== undefined && at > time;
  }
}
