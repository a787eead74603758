/**
 * The change feed (go-proton-api `event.go`; proton-api.md §1.11).
 *
 * @module
 */
import { field, seg } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";
import type { Event } from "./types.ts";

/** Most events collected per call, as go-proton-api (`maxCollectedEvents`). */
export const MAX_COLLECTED_EVENTS = 50;

/** `GET /core/v4/events/latest` → the current event ID (start point after a full sync). */
export async function getLatestEventID(client: ApiClient): Promise<string> {
  const path = "/core/v4/events/latest";
  return field<string>(await client.get(path), "EventID", "GET", path);
}

/**
 * `GET /core/v4/events/{id}` → the event **after** `eventID`. When nothing happened since, the
 * returned `EventID` equals `eventID`.
 */
export async function getEvent(client: ApiClient, eventID: string): Promise<Event> {
  const path = `/core/v4/events/${seg(eventID)}`;
  const reply = await client.get(path);
  const id = field<string>(reply, "EventID", "GET", path);
  const { Code: _code, ...rest } = reply;
  return {
    ...(rest as unknown as Event),
    EventID: id,
    Refresh: typeof reply.Refresh === "number" ? reply.Refresh : 0,
    More: reply.More ? 1 : 0,
  };
}

/** What {@link collectEvents} found. */
export interface CollectedEvents {
  /** New events in order (empty when nothing happened). */
  events: Event[];
  /** The ID to continue from (the last event's ID, or `fromID` when there was none). */
  lastEventID: string;
  /** Whether the server still has more (the `max` cap was hit). */
  more: boolean;
}

/**
 * Reads events after `fromID`, following `More` up to `max` events. Stops at the first event with
 * `More: 0`, or when the server answers with the ID it was asked for ("no new events").
 */
export async function collectEvents(
  client: ApiClient,
  fromID: string,
  max = MAX_COLLECTED_EVENTS,
): Promise<CollectedEvents> {
  const events: Event[] = [];
  let last = fromID;
  for (;;) {
    const event = await getEvent(client, last);
    if (event.EventID === last) return { events, lastEventID: last, more: false };
    events.push(event);
    last = event.EventID;
    if (!event.More) return { events, lastEventID: last, more: false };
    if (events.length >= max) return { events, lastEventID: last, more: true };
  }
}
