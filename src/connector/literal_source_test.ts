import assert from "node:assert/strict";
import { type InternalMessageId, Store } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { fakeContext } from "./_fake_account.ts";
import { LiteralSource } from "./literal_source.ts";

Deno.test("literal: from the cache; rebuilt, cached and identical after a miss", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const id = f.add("a");
    let fetches = 0;
    const fetch = f.ctx.fetcher.fetch;
    const source = new LiteralSource({
      ...f.ctx,
      fetcher: {
        fetch: (r) => {
          fetches++;
          return fetch(r);
        },
      },
    });
    const first = await source.literal(id);
    assert.equal(fetches, 0);
    f.literals.delete(id);
    const [x, y] = await Promise.all([source.literal(id), source.literal(id)]);
    assert.equal(fetches, 1, "concurrent misses share one download");
    assert.deepEqual(x, first);
    assert.deepEqual(y, first);
    assert.deepEqual(f.literals.get(id), first);
  } finally {
    store.close();
  }
});

Deno.test("literal: unknown, gone and unreachable messages are clear errors", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const source = new LiteralSource(f.ctx);
    await assert.rejects(
      source.literal(999 as InternalMessageId),
      (e) => e instanceof MailboxOperationError && e.code === "NONEXISTENT",
    );
    const id = f.add("a");
    f.literals.delete(id);
    f.api.messages.delete("a");
    await assert.rejects(
      source.literal(id),
      (e) => e instanceof MailboxOperationError && e.code === "UNAVAILABLE",
    );
    const broken = new LiteralSource({
      ...f.ctx,
      fetcher: { fetch: () => Promise.reject(new Error("socket hang up")) },
    });
    await assert.rejects(
      broken.literal(id),
      (e) => e instanceof MailboxOperationError && e.code === "UNAVAILABLE",
    );
  } finally {
    store.close();
  }
});
