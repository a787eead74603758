import assert from "node:assert/strict";
import { SyncSlots } from "./sync_slots.ts";

Deno.test("sync slots: at most `size` holders, the rest in arrival order", async () => {
  const slots = new SyncSlots(2);
  const order: string[] = [];
  const a = await slots.acquire();
  const b = await slots.acquire();
  const c = slots.acquire().then((r) => (order.push("c"), r));
  const d = slots.acquire().then((r) => (order.push("d"), r));
  await Promise.resolve();
  assert.equal(slots.waiting, 2);
  a();
  a(); // a second call does nothing
  const rc = await c;
  assert.deepEqual(order, ["c"]);
  b();
  const rd = await d;
  assert.deepEqual(order, ["c", "d"]);
  rc();
  rd();
  const e = await slots.acquire();
  const f = await slots.acquire();
  e();
  f();
});

Deno.test("sync slots: an aborted wait leaves the queue", async () => {
  const slots = new SyncSlots(1);
  const held = await slots.acquire();
  const ac = new AbortController();
  const waiting = slots.acquire(ac.signal);
  ac.abort(new Error("stopping"));
  await assert.rejects(waiting, /stopping/);
  assert.equal(slots.waiting, 0);
  held();
  (await slots.acquire())();
  await assert.rejects(slots.acquire(ac.signal), /stopping/);
});
