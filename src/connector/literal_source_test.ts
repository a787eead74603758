import assert from "node:assert/strict";
import { type InternalMessageId, MessageFlag, type RemoteMessageId, Store } from "../store/mod.ts";
import type { BuiltContent } from "../sync/apply.ts";
import { MailboxOperationError } from "./account.ts";
import type { ConnectorContext } from "./connector_context.ts";
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

/** A source whose rebuilds come out as `change` makes them. */
function rebuildingAs(
  ctx: ConnectorContext,
  change: (built: BuiltContent) => BuiltContent,
): LiteralSource {
  return new LiteralSource({
    ...ctx,
    fetcher: {
      fetch: async (r) => {
        const m = (await ctx.fetcher.fetch(r))!;
        return { ...m, built: change(m.built) };
      },
    },
  });
}

Deno.test("literal: a rebuild that is another literal replaces the message under new UIDs", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const id = f.add("a", { LabelIDs: ["0", "5", "10"] });
    // A client's marks, kept only here: a keyword and \\Answered.
    store.messages.setFlags([id], {
      mode: "add",
      flags: MessageFlag.Answered,
      keywords: ["$Work"],
    });
    const inbox = store.mailboxes.byName("INBOX")!.id;
    store.membership.setDeleted(inbox, [store.membership.uidOf(inbox, id)!], true);
    const before = store.membership.memberships(id);
    assert.equal(before.length, 3);
    f.literals.delete(id);
    f.published.length = 0;
    // What another builder would make: other bytes (here only the digest says so).
    const source = rebuildingAs(f.ctx, (b) => ({ ...b, literalSha256: new Uint8Array(32) }));
    await assert.rejects(
      source.literal(id),
      (e) => e instanceof MailboxOperationError && e.code === "EXPUNGEISSUED",
    );
    assert.equal(store.messages.get(id), undefined, "the old message is gone");
    const now = store.messages.byRemoteId("a" as RemoteMessageId)!;
    assert.notEqual(now, id);
    const after = store.membership.memberships(now);
    assert.deepEqual(after.map((m) => m.mailbox), before.map((m) => m.mailbox));
    for (const m of after) {
      const was = before.find((b) => b.mailbox === m.mailbox)!;
      assert.ok(m.uid > was.uid, `a new UID in mailbox ${m.mailbox}`);
      const [row] = store.membership.flagRows(m.mailbox, [{ first: m.uid, last: m.uid }]);
      assert.equal(row.deleted, m.mailbox === inbox, "\\Deleted carried where it was set");
    }
    assert.deepEqual(store.messages.get(now)!.keywords, ["$Work"], "keywords carried");
    assert.ok(store.messages.get(now)!.flags & MessageFlag.Answered, "\\Answered carried");
    assert.ok(f.literals.has(now), "the new literal is cached under the new ID");
    assert.ok(!f.literals.has(id));
    await new Promise((resolve) => setTimeout(resolve, 0)); // the bus delivers asynchronously
    assert.deepEqual(f.published.map((p) => p.update.kind), [
      "MessagesExpunged",
      "MessagesExpunged",
      "MessagesExpunged",
      "MessagesCreated",
      "MessagesCreated",
      "MessagesCreated",
    ]);
    // The new UIDs serve the new literal from the cache: nothing is replaced twice.
    assert.deepEqual(await source.literal(now), f.literals.get(now));
  } finally {
    store.close();
  }
});

Deno.test("literal: a rebuild that fails is not served in place of a built message", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const id = f.add("a");
    f.literals.delete(id);
    const source = rebuildingAs(f.ctx, (b) => ({ ...b, status: "failed", reason: "no key" }));
    await assert.rejects(
      source.literal(id),
      (e) => e instanceof MailboxOperationError && e.code === "UNAVAILABLE",
    );
    assert.ok(store.messages.get(id), "the message and its UIDs stay");
    assert.equal(f.literals.has(id), false, "nothing cached");
    assert.equal(f.published.length, 0);
    // A placeholder (an earlier failed build) whose rebuild fails with another reason (other
    // bytes): not replaced either.
    const failed = f.add("b");
    store.messages.upsertFromSync({
      ...store.messages.get(failed)!,
      remoteId: "b" as RemoteMessageId,
      buildError: "another",
    });
    f.literals.delete(failed);
    const other = rebuildingAs(
      f.ctx,
      (b) => ({ ...b, status: "failed", reason: "two", literalSha256: new Uint8Array(32) }),
    );
    await assert.rejects(
      other.literal(failed),
      (e) => e instanceof MailboxOperationError && e.code === "UNAVAILABLE",
    );
    assert.ok(store.messages.get(failed), "its UIDs stay");
  } finally {
    store.close();
  }
});
