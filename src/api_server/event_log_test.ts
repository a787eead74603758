import assert from "node:assert/strict";
import { MemoryDb } from "./db.ts";
import { EventLog } from "./event_log.ts";
import { ApiServerError } from "./http.ts";

Deno.test("EventLog: latest, next, no-new-events, More and merge", () => {
  const log = new EventLog(new MemoryDb(), 3);
  const first = log.latest("u");
  assert.equal(log.latest("u"), first);
  assert.deepEqual(log.next("u", first), { EventID: first, Refresh: 0, More: 0 });
  const m = (id: string) => ({ ID: id, Action: 0 });
  log.append("u", { Messages: [m("a"), m("b")] });
  const e2 = log.append("u", { Messages: [m("c")] });
  const e3 = log.append("u", { Messages: [m("d")], Refresh: 1 });
  const one = log.next("u", first);
  assert.equal(one.EventID, e2);
  assert.deepEqual(one.Messages?.map((x) => x.ID), ["a", "b", "c"]);
  assert.equal(one.More, 1);
  const two = log.next("u", e2);
  assert.equal(two.EventID, e3);
  assert.equal(two.Refresh, 1);
  assert.equal(two.More, 0);
  assert.throws(() => log.next("u", "bogus"), ApiServerError);
  assert.throws(() => log.next("other", first), ApiServerError);
});

Deno.test("EventLog reloads from the Db", () => {
  const db = new MemoryDb();
  const log = new EventLog(db);
  const id = log.append("u", { Labels: [{ ID: "L", Action: 0 }] });
  assert.equal(new EventLog(db).latest("u"), id);
});
