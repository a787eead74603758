/**
 * The event feed (proton-api.md §1.11):
 *
 * ```
 * GET /core/v4/events/latest   → {"EventID"}
 * GET /core/v4/events/{id}     → {"EventID", "Refresh", "More", "Messages"?, "Labels"?, "Addresses"?, …}
 * ```
 *
 * `{id}` returns the event(s) after that ID, merged up to the log's item limit, with `More: 1`
 * when more remain; asking with the newest ID returns that same ID and nothing else. An unknown
 * ID answers 400 Code 2001 (`EventLog.next`).
 *
 * @module
 */
import { ok, type Router } from "./http.ts";
import type { EventLog } from "./event_log.ts";

/** Registers the event routes (authenticated). */
export function registerEventRoutes(router: Router, events: EventLog): void {
  router.add("GET", "/core/v4/events/latest", (req) => ok({ EventID: events.latest(req.userID) }));
  router.add(
    "GET",
    "/core/v4/events/:id",
    (req) => ok({ ...events.next(req.userID, req.params.id) }),
  );
}
