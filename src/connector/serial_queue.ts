/**
 * A queue that runs one task at a time, in order; a failed task does not stop the next. One per
 * account: every change a mail client makes (an API call, the read-back, the index commit) runs
 * in it, and so does the event loop's commit of each event, so that an event is applied either
 * before such a change begins or after it has committed, never between its read-back and its
 * commit (where the older read-back would overwrite the event's newer state for good).
 *
 * @module
 */

/** See the module notes. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` once every task queued before it has settled. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    const next = this.#tail.then(task, task);
    this.#tail = next.catch(() => {});
    return next;
  }
}
