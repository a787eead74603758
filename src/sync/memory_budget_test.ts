import assert from "node:assert/strict";
import { MemoryBudget } from "./memory_budget.ts";

Deno.test("MemoryBudget: waits until bytes fit, first come first served, lets a giant through alone", async () => {
  const b = new MemoryBudget(100);
  await b.acquire(60);
  let second = false;
  let third = false;
  const p2 = b.acquire(50).then(() => second = true);
  const p3 = b.acquire(10).then(() => third = true);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual([second, third], [false, false], "FIFO: the small one waits too");
  b.release(60);
  await Promise.all([p2, p3]);
  assert.equal(b.used, 60);
  b.release(60);
  await b.acquire(500);
  assert.equal(b.used, 500, "larger than the budget, but alone");
  let late = false;
  const p4 = b.acquire(1).then(() => late = true);
  b.cancelWaiters();
  await p4;
  assert.ok(late);
  assert.equal(b.peak, 501);
  assert.throws(() => new MemoryBudget(0), RangeError);
});
