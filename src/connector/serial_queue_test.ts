import assert from "node:assert/strict";
import { SerialQueue } from "./serial_queue.ts";

Deno.test("SerialQueue: one task at a time, in order; a failure does not stop the next", async () => {
  const q = new SerialQueue();
  const order: string[] = [];
  let release!: () => void;
  const first = q.run(async () => {
    order.push("a start");
    await new Promise<void>((r) => release = r);
    order.push("a end");
    throw new Error("a failed");
  });
  const second = q.run(() => {
    order.push("b");
    return 2;
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(order, ["a start"]);
  release();
  await assert.rejects(first, /a failed/);
  assert.equal(await second, 2);
  assert.deepEqual(order, ["a start", "a end", "b"]);
});
