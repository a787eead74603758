/**
 * Coalescing the message items of a batch of events before they are applied one by one.
 *
 * A message item carries the message's metadata **as it was when the event was recorded**. When
 * the loop is behind by several events that touch the same message (a MOVE is a label call and
 * an unlabel call; a client marks a message read, then moves it), applying each item in turn
 * walks the index through the intermediate states: the message briefly re-enters a mailbox it
 * had already left here, with a new UID, and leaves it again. IMAP clients see phantom messages
 * and UIDs are burned.
 *
 * Within one collected batch (and within one event, which may merge several changes) the final
 * state is known, so every non-delete item of a message is given the metadata of the message's
 * **last** non-delete item in the batch, and items of a
 * message that a later item of the batch deletes are dropped (the delete still applies). Each
 * event is still applied in order, with its own cursor; replaying the batch ends in the same
 * state, only without the detours.
 *
 * Raw events are not trusted here: anything that does not look like an event with a message list
 * is passed through untouched (the shape check comes later), and only metadata objects whose `ID`
 * matches their item are used.
 *
 * @module
 */
import { EventAction } from "../api/mod.ts";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function items(event: unknown): Record<string, unknown>[] | undefined {
  if (!isObject(event) || !Array.isArray(event.Messages)) return undefined;
  return event.Messages as Record<string, unknown>[];
}

/**
 * The events with their message items coalesced (see the module notes). The input is not
 * modified; events without message items are returned as they are.
 */
export function coalesceMessageItems(events: readonly unknown[]): unknown[] {
  // Positions count items across the whole batch, in order (one reply may merge several events,
  // so one event can hold several items of the same message).
  const latest = new Map<string, { at: number; metadata: Record<string, unknown> }>();
  const deletedAt = new Map<string, number>();
  let at = 0;
  for (const event of events) {
    for (const item of items(event) ?? []) {
      at++;
      if (!isObject(item) || typeof item.ID !== "string") continue;
      if (item.Action === EventAction.Delete) {
        deletedAt.set(item.ID, at);
      } else if (isObject(item.Message) && item.Message.ID === item.ID) {
        latest.set(item.ID, { at, metadata: item.Message });
      }
    }
  }
  if (latest.size === 0) return [...events];
  at = 0;
  return events.map((event) => {
    const list = items(event);
    if (!list) return event;
    let changed = false;
    const out: unknown[] = [];
    for (const item of list) {
      at++;
      if (!isObject(item) || typeof item.ID !== "string" || item.Action === EventAction.Delete) {
        out.push(item);
        continue;
      }
      const deleted = deletedAt.get(item.ID);
      if (deleted !== undefined && deleted > at) {
        changed = true;
        continue;
      }
      const last = latest.get(item.ID);
      if (last && last.at > at && isObject(item.Message) && item.Message.ID === item.ID) {
        out.push({ ...item, Message: last.metadata });
        changed = true;
        continue;
      }
      out.push(item);
    }
    return changed ? { ...(event as Record<string, unknown>), Messages: out } : event;
  });
}
