import assert from "node:assert/strict";
import type { MailboxId, Uid } from "../store/mod.ts";
import { UpdateBus } from "./update_bus.ts";
import type { MessagesCreated } from "./updates.ts";

const created = (uid: number): MessagesCreated => ({
  kind: "MessagesCreated",
  mailbox: 1 as MailboxId,
  uids: [uid as Uid],
});

Deno.test("iterator subscribers get every update in order; publishAndWait waits for acks", async () => {
  const bus = new UpdateBus();
  const seen: number[][] = [[], []];
  const subs = [bus.subscribe("acc", { name: "a" }), bus.subscribe("acc", { name: "b" })];
  const done = subs.map(async (sub, i) => {
    for await (const u of sub) {
      assert.equal(u.kind, "MessagesCreated");
      seen[i].push((u as MessagesCreated).uids[0]);
      await new Promise((r) => setTimeout(r, 1));
      u.ack();
    }
  });
  const result = await bus.publishAndWait("acc", [created(1), created(2), created(3)]);
  assert.deepEqual(result, { timedOut: [], failed: [] });
  assert.deepEqual(seen, [[1, 2, 3], [1, 2, 3]]);
  await bus.publishAndWait("acc", created(4));
  assert.deepEqual(seen[0], [1, 2, 3, 4]);
  bus.close();
  await Promise.all(done);
  assert.equal(bus.subscriberCount("acc"), 0);
});

Deno.test("accounts are separate; no subscribers means nothing to wait for", async () => {
  const bus = new UpdateBus();
  const got: string[] = [];
  const sub = bus.subscribe("one", {
    onUpdate: (u) => {
      got.push(u.kind);
    },
  });
  assert.deepEqual(await bus.publishAndWait("two", created(1)), { timedOut: [], failed: [] });
  await bus.publishAndWait("one", created(1));
  assert.deepEqual(got, ["MessagesCreated"]);
  sub.unsubscribe();
  assert.equal(bus.subscriberCount("one"), 0);
});

Deno.test("callback mode acknowledges after the callback, with its error", async () => {
  const logs: string[] = [];
  const bus = new UpdateBus({ log: (m) => logs.push(m) });
  const order: string[] = [];
  bus.subscribe("acc", {
    name: "slow",
    onUpdate: async (u) => {
      await new Promise((r) => setTimeout(r, 5));
      order.push(`slow:${(u as MessagesCreated).uids[0]}`);
    },
  });
  bus.subscribe("acc", {
    name: "broken",
    onUpdate: () => {
      throw new Error("cannot apply");
    },
  });
  const result = await bus.publishAndWait("acc", [created(1), created(2)]);
  assert.deepEqual(order, ["slow:1", "slow:2"]);
  assert.equal(result.timedOut.length, 0);
  assert.equal(result.failed.length, 1);
  assert.equal(result.failed[0].subscriber, "broken");
  assert.match(logs.join("\n"), /broken failed to apply an update: cannot apply/);
  bus.close();
});

Deno.test("a stuck subscriber times out, is logged, and does not block the others", async () => {
  const logs: string[] = [];
  const bus = new UpdateBus({ ackTimeoutMs: 30, log: (m) => logs.push(m) });
  const stuck = bus.subscribe("acc", { name: "stuck" });
  const got: number[] = [];
  bus.subscribe("acc", {
    name: "fine",
    onUpdate: (u) => {
      got.push((u as MessagesCreated).uids[0]);
    },
  });
  const started = Date.now();
  const result = await bus.publishAndWait("acc", created(7));
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual(result.timedOut, ["stuck"]);
  assert.deepEqual(got, [7]);
  assert.match(logs[0], /did not acknowledge in time \(stuck; first pending: MessagesCreated/);
  // The stuck one still has the update, in order, when it wakes up.
  assert.equal(stuck.pending, 1);
  const u = await stuck.next();
  assert.deepEqual((u as MessagesCreated).uids, [7]);
  u!.ack();
  stuck.unsubscribe();
  const quick = await bus.publishAndWait("acc", created(8), { timeoutMs: 5_000 });
  assert.deepEqual(quick, { timedOut: [], failed: [] });
  assert.deepEqual(got, [7, 8]);
  bus.close();
});

Deno.test("unsubscribe ends the iterator and acknowledges pending updates", async () => {
  const bus = new UpdateBus({ ackTimeoutMs: 5_000 });
  const sub = bus.subscribe("acc");
  const wait = bus.publishAndWait("acc", [created(1), created(2)]);
  sub.unsubscribe();
  assert.deepEqual(await wait, { timedOut: [], failed: [] });
  assert.equal(await sub.next(), undefined);
});

Deno.test("UpdateBus: onDeliver runs inside publish and acknowledges", async () => {
  const bus = new UpdateBus({ log: () => {} });
  const seen: string[] = [];
  bus.subscribe("acc", { onDeliver: (u) => seen.push(u.kind) });
  const delivered = bus.publish("acc", [
    { kind: "MessagesCreated", mailbox: 1 as never, uids: [1 as never] },
    { kind: "MessagesExpunged", mailbox: 1 as never, uids: [1 as never] },
  ]);
  assert.deepEqual(seen, ["MessagesCreated", "MessagesExpunged"]);
  assert.ok(delivered.every((d) => d.update.acked));
  const result = await bus.publishAndWait("acc", {
    kind: "MessagesCreated",
    mailbox: 1 as never,
    uids: [2 as never],
  });
  assert.deepEqual(result, { timedOut: [], failed: [] });
});

Deno.test("hold/settled: a session can wait until committed changes are published", async () => {
  const bus = new UpdateBus({ log: () => {} });
  assert.equal(await bus.settled("acc"), true, "nothing held: at once");
  const first = bus.hold("acc");
  const second = bus.hold("acc");
  let settled: boolean | undefined;
  const waiting = bus.settled("acc").then((v) => settled = v);
  const other = await bus.settled("other");
  assert.equal(other, true, "another account is not held");
  first();
  first(); // idempotent
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(settled, undefined, "still held by the second producer");
  second();
  await waiting;
  assert.equal(settled, true);
  // A producer that never releases: the wait gives up.
  bus.hold("acc");
  assert.equal(await bus.settled("acc", 20), false);
  bus.close();
});
