import assert from "node:assert/strict";
import type { InternalMessageId } from "../../store/mod.ts";
import { LiteralPrefetch } from "./literal_prefetch.ts";

const id = (n: number) => n as InternalMessageId;

/** A loader whose loads the test resolves by hand, recording what was asked when. */
function manualLoader() {
  const started: number[] = [];
  const pending = new Map<
    number,
    { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }
  >();
  const load = (messageId: InternalMessageId) => {
    started.push(messageId);
    return new Promise<Uint8Array>((resolve, reject) => {
      pending.set(messageId, { resolve, reject });
    });
  };
  return { started, pending, load };
}

Deno.test("LiteralPrefetch reads ahead up to its depth and hands literals back in order", async () => {
  const l = manualLoader();
  const items = [1, 2, 3, 4, 5, 6].map((n) => ({ messageId: id(n), size: 10 }));
  const p = new LiteralPrefetch(l.load, items, { depth: 2 });
  assert.deepEqual(l.started, []);
  const first = p.take(0);
  assert.deepEqual(l.started, [1, 2, 3]);
  // Resolved out of order, taken in order, each with its own bytes.
  l.pending.get(3)!.resolve(new Uint8Array([3]));
  l.pending.get(1)!.resolve(new Uint8Array([1]));
  assert.deepEqual(await first, new Uint8Array([1]));
  const second = p.take(1);
  assert.deepEqual(l.started, [1, 2, 3, 4]);
  l.pending.get(2)!.resolve(new Uint8Array([2]));
  assert.deepEqual(await second, new Uint8Array([2]));
  assert.deepEqual(await p.take(2), new Uint8Array([3]));
  assert.deepEqual(l.started, [1, 2, 3, 4, 5]);
  // Passing over item 3 (the caller did not need it) is allowed; a taken item cannot come again.
  const sixth = p.take(5);
  assert.deepEqual(l.started, [1, 2, 3, 4, 5, 6]);
  l.pending.get(6)!.resolve(new Uint8Array([6]));
  assert.deepEqual(await sixth, new Uint8Array([6]));
  assert.throws(() => p.take(2), RangeError);
});

Deno.test("LiteralPrefetch keeps what it reads ahead under the byte bound", () => {
  const l = manualLoader();
  const sizes = [100, 600, 300, 200, 50, 5000, 10];
  const items = sizes.map((size, i) => ({ messageId: id(i + 1), size }));
  const p = new LiteralPrefetch(l.load, items, { depth: 10, bytes: 1000 });
  void p.take(0);
  // 600 + 300 fit, 200 more would not.
  assert.deepEqual(l.started, [1, 2, 3]);
  void p.take(1);
  assert.deepEqual(l.started, [1, 2, 3, 4, 5]);
  // Larger than the bound: loaded only when its turn comes, and nothing after it before that.
  void p.take(2);
  void p.take(3);
  void p.take(4);
  assert.deepEqual(l.started, [1, 2, 3, 4, 5]);
  void p.take(5);
  assert.deepEqual(l.started, [1, 2, 3, 4, 5, 6, 7]);
});

Deno.test("LiteralPrefetch: a failed load rejects when taken, and unobserved failures stay quiet", async () => {
  const l = manualLoader();
  const items = [1, 2, 3].map((n) => ({ messageId: id(n), size: 1 }));
  const p = new LiteralPrefetch(l.load, items);
  const first = p.take(0);
  l.pending.get(1)!.reject(new Error("gone"));
  l.pending.get(2)!.reject(new Error("never taken"));
  await assert.rejects(first, /gone/);
  // A loader that throws instead of rejecting.
  const throwing = new LiteralPrefetch(() => {
    throw new TypeError("sync");
  }, items);
  await assert.rejects(throwing.take(0), TypeError);
  // Let the rejection of item 2 settle: an unhandled one would fail this test.
  await new Promise((r) => setTimeout(r, 0));
});
