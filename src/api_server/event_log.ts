/**
 * The reference server's event feed: an ordered log of changes per user, served by
 * `GET /core/v4/events/latest` and `GET /core/v4/events/{id}`.
 *
 * Each change recorded with {@link EventLog.append} becomes one event with a fresh opaque ID.
 * `next(user, id)` returns the event after `id`, merging following events while the merged item
 * count stays within `maxItems`, and sets `More: 1` when events remain (go-proton-api follows
 * `More`). Asking with the newest ID returns that same ID and no items ("no new events").
 *
 * @module
 */
import type { Db } from "./db.ts";
import { ApiServerError } from "./http.ts";
import type { AddressEvent, Event, LabelEvent, MessageEvent } from "../api/types.ts";

/** The changes of one event (everything but `EventID` and `More`). */
export interface EventChanges {
  Refresh?: number;
  Messages?: MessageEvent[];
  Labels?: LabelEvent[];
  Addresses?: AddressEvent[];
  User?: Event["User"];
  MailSettings?: Event["MailSettings"];
  UsedSpace?: number;
}

interface StoredEvent extends Record<string, unknown> {
  EventID: string;
  UserID: string;
  Seq: number;
  Changes: EventChanges;
}

/** Per-user ordered event log kept in the server's {@link Db} (kind `event`). */
export class EventLog {
  #db: Db;
  #seq = new Map<string, number>();
  #byUser = new Map<string, StoredEvent[]>();
  /** Most items merged into one reply before `More` is set. */
  maxItems: number;

  /** Loads the existing log from `db`. */
  constructor(db: Db, maxItems = 50) {
    this.#db = db;
    this.maxItems = maxItems;
    for (const ev of db.list<StoredEvent>("event")) this.#push(ev);
  }

  #push(ev: StoredEvent) {
    let list = this.#byUser.get(ev.UserID);
    if (!list) this.#byUser.set(ev.UserID, list = []);
    list.push(ev);
    this.#seq.set(ev.UserID, Math.max(this.#seq.get(ev.UserID) ?? 0, ev.Seq));
  }

  /** Records one event for `userID` and returns its ID. An empty change list is still an event. */
  append(userID: string, changes: EventChanges): string {
    const seq = (this.#seq.get(userID) ?? 0) + 1;
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    const rand = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
    const ev: StoredEvent = {
      EventID: `${seq.toString(36)}.${rand}`,
      UserID: userID,
      Seq: seq,
      Changes: changes,
    };
    this.#db.put("event", `${userID}/${seq}`, ev);
    this.#push(ev);
    return ev.EventID;
  }

  /** The newest event ID of `userID`, creating an initial empty event if there is none. */
  latest(userID: string): string {
    const list = this.#byUser.get(userID);
    if (list && list.length > 0) return list[list.length - 1].EventID;
    return this.append(userID, {});
  }

  /** The event after `eventID` (merged up to {@link maxItems} items), as the API returns it. */
  next(userID: string, eventID: string): Event {
    const list = this.#byUser.get(userID) ?? [];
    const at = list.findIndex((e) => e.EventID === eventID);
    if (at < 0) throw new ApiServerError(400, 2001, "Invalid event ID");
    const out: Event = { EventID: eventID, Refresh: 0, More: 0 };
    let items = 0;
    let i = at + 1;
    for (; i < list.length; i++) {
      const c = list[i].Changes;
      const n = (c.Messages?.length ?? 0) + (c.Labels?.length ?? 0) + (c.Addresses?.length ?? 0);
      if (i > at + 1 && items + n > this.maxItems) break;
      items += n;
      out.EventID = list[i].EventID;
      out.Refresh |= c.Refresh ?? 0;
      if (c.Messages) (out.Messages ??= []).push(...c.Messages);
      if (c.Labels) (out.Labels ??= []).push(...c.Labels);
      if (c.Addresses) (out.Addresses ??= []).push(...c.Addresses);
      if (c.User) out.User = c.User;
      if (c.MailSettings) out.MailSettings = c.MailSettings;
      if (c.UsedSpace !== undefined) out.UsedSpace = c.UsedSpace;
    }
    if (i < list.length) out.More = 1;
    return out;
  }
}
