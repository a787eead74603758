import assert from "node:assert/strict";
import { startFake } from "./_fake_test_server.ts";
import { collectEvents, getEvent, getLatestEventID } from "./events.ts";

Deno.test("events: latest, one event, collecting with More, no new events", async () => {
  // Event chain e0 → e1 → … → e5; e1..e4 say More.
  const srv = startFake((r) => {
    if (r.path === "/core/v4/events/latest") return { Code: 1000, EventID: "e0" };
    const id = r.path.split("/").pop()!;
    const n = Number(id.slice(1));
    if (n >= 5) return { Code: 1000, EventID: id, More: 0, Refresh: 0 };
    return {
      Code: 1000,
      EventID: `e${n + 1}`,
      More: n + 1 < 5 ? 1 : 0,
      Refresh: n + 1 === 3 ? 1 : 0,
      Messages: [{ ID: `m${n}`, Action: 1 }],
    };
  });
  try {
    const c = srv.client();
    assert.equal(await getLatestEventID(c), "e0");
    const e = await getEvent(c, "e0");
    assert.equal(e.EventID, "e1");
    assert.equal(e.More, 1);
    assert.equal((e as unknown as Record<string, unknown>).Code, undefined);

    const all = await collectEvents(c, "e0");
    assert.deepEqual(all.events.map((e) => e.EventID), ["e1", "e2", "e3", "e4", "e5"]);
    assert.equal(all.lastEventID, "e5");
    assert.equal(all.more, false);
    assert.equal(all.events[2].Refresh, 1);

    const capped = await collectEvents(c, "e0", 2);
    assert.deepEqual(capped.events.map((e) => e.EventID), ["e1", "e2"]);
    assert.equal(capped.more, true);

    const none = await collectEvents(c, "e5");
    assert.deepEqual(none, { events: [], lastEventID: "e5", more: false });
  } finally {
    await srv.close();
  }
});
