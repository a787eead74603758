import assert from "node:assert/strict";
import { DownloadThrottle } from "./download_throttle.ts";

Deno.test("DownloadThrottle: backs off to min on 429/5xx/drops, doubles back after successes", () => {
  const t = new DownloadThrottle({ initial: 8, min: 2, max: 32 });
  assert.equal(t.limit, 8);
  for (let i = 0; i < 8; i++) t.observe({ status: 200 });
  assert.equal(t.limit, 16);
  t.observe({ status: 429 });
  assert.equal(t.limit, 2);
  assert.equal(t.backoffs, 1);
  t.observe({ status: 200 });
  t.observe({ status: 200 });
  assert.equal(t.limit, 4);
  t.observe({ error: "NetworkError" });
  assert.equal(t.limit, 2);
  t.observe({ status: 503 });
  assert.equal(t.backoffs, 2, "already at min: not counted again");
  t.observe({ status: 422 });
  assert.equal(t.limit, 2, "a 4xx says nothing about load");
  for (let i = 0; i < 100; i++) t.observe({ status: 200 });
  assert.equal(t.limit, 32);
  // Once observing the client, the sync's own outcome reports are ignored.
  t.outcome(false);
  assert.equal(t.limit, 32);
});

Deno.test("DownloadThrottle.run: never more than the limit at once, lower priority first", async () => {
  const t = new DownloadThrottle({ initial: 2, min: 1, max: 2 });
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const gates: (() => void)[] = [];
  const job = (n: number, priority: number) =>
    t.run(async () => {
      running++;
      most = Math.max(most, running);
      order.push(n);
      await new Promise<void>((r) => gates.push(r));
      running--;
    }, priority);
  const all = [job(1, 5), job(2, 5), job(3, 9), job(4, 1), job(5, 5)];
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(order, [1, 2]);
  while (order.length < 5 || gates.length > 0) {
    gates.shift()?.();
    await new Promise((r) => setTimeout(r, 0));
  }
  await Promise.all(all);
  assert.equal(most, 2);
  assert.deepEqual(order, [1, 2, 4, 5, 3]);
});
