import assert from "node:assert/strict";
import { Store } from "./store.ts";
import type { InternalMessageId } from "./ids.ts";
import { sampleMessage } from "./_test_utils.ts";

Deno.test("appended copies: a digest names one message and goes with it", () => {
  const store = Store.open(":memory:");
  try {
    const add = (n: number) => store.messages.insert({ ...sampleMessage(n), keywords: [] });
    const a = add(1);
    const b = add(2);
    const digest = new Uint8Array(32).fill(7);
    assert.equal(store.appendedCopies.find(digest), undefined);
    store.appendedCopies.record(digest, a);
    assert.equal(store.appendedCopies.find(digest), a);
    store.appendedCopies.record(digest, b); // the last one recorded
    assert.equal(store.appendedCopies.find(digest), b);
    store.messages.delete(b as InternalMessageId);
    assert.equal(store.appendedCopies.find(digest), undefined);
  } finally {
    store.close();
  }
});
