/**
 * IDLE (RFC 2177): `+ idling`, then mailbox updates are written as they arrive (EXISTS, EXPUNGE,
 * FETCH FLAGS), with `* OK Still here` every keepalive interval so NATs and clients keep the
 * connection, until the client sends `DONE`. An IDLE longer than the limit (35 minutes) ends with
 * a logout; clients re-issue IDLE at least every 29 minutes (RFC 2177), some at exactly 29.
 *
 * Real client lines: Thunderbird `8 IDLE` … `DONE`, Apple Mail `12 IDLE`, K-9 `15 IDLE`.
 *
 * @module
 */
import { bad, type CommandSpec, ok } from "../session/context.ts";

/** IDLE. */
export const idleCommand: CommandSpec = {
  names: ["IDLE"],
  states: ["authenticated", "selected"],
  flush: "all",
  async handle({ args, session }) {
    if (!args.end()) return bad("IDLE takes no arguments");
    await session.respond((e) => e.raw("+ idling").crlf());
    const { keepaliveMs, maxIdleMs } = session.idleLimits;
    const started = Date.now();
    for (;;) {
      await session.flushUpdates(true);
      if (session.view && session.view.fate !== "ok") return ok("IDLE ended");
      if (session.ending) return ok("IDLE ended");
      const timer = new AbortController();
      const wait = Math.min(keepaliveMs, Math.max(0, started + maxIdleMs - Date.now()));
      const handle = setTimeout(() => timer.abort(), wait);
      let woke: "input" | "updates";
      try {
        woke = await session.waitForInputOrUpdates(timer.signal);
      } finally {
        clearTimeout(handle);
      }
      if (woke === "input") {
        const line = await session.readLine();
        if (line === undefined) return ok("IDLE ended by disconnect");
        if (line.trim().toUpperCase() === "DONE") return ok("IDLE terminated");
        return bad("Expected DONE to end IDLE");
      }
      if (timer.signal.aborted) {
        if (Date.now() - started >= maxIdleMs) {
          session.logout(); // the session writes `* BYE` before the tagged OK
          return ok("IDLE ended");
        }
        await session.respond((e) => e.raw("* OK Still here").crlf());
      }
    }
  },
};
