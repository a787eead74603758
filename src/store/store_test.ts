import assert from "node:assert/strict";
import { LABEL, sampleMessage, tempStore, withMailboxes } from "./_test_utils.ts";
import type { RemoteEventId } from "./ids.ts";
import { LATEST_VERSION } from "./migrations.ts";
import { PAGE_CACHE_KIB, Store } from "./store.ts";

Deno.test("Store.open() creates a WAL file at the latest schema and reopens it", () => {
  const t = tempStore();
  try {
    assert.equal(t.store.schemaVersion, LATEST_VERSION);
    t.store.mailboxes.create({ name: "INBOX", kind: "system" });
    assert.ok(Deno.statSync(`${t.path}-wal`).isFile);
    const again = t.reopen();
    assert.deepEqual(again.mailboxes.list().map((m) => m.name), ["INBOX"]);
    // Every commit on the disk before it returns: a power cut must not take back UIDs clients
    // saw (the event replay would give them to other messages).
    assert.equal(again.durableCommits, true);
  } finally {
    t.cleanup();
  }
});

Deno.test("Store.open() keeps the index files readable by their owner only", () => {
  const t = tempStore();
  try {
    t.store.mailboxes.create({ name: "INBOX", kind: "system" });
    for (const f of [t.path, `${t.path}-wal`, `${t.path}-shm`]) {
      assert.equal(Deno.statSync(f).mode! & 0o777, 0o600, f);
    }
    // An index from before (created with the umask) is tightened when opened.
    t.store.close();
    Deno.chmodSync(t.path, 0o644);
    const again = t.reopen();
    assert.equal(Deno.statSync(t.path).mode! & 0o777, 0o600);
    assert.deepEqual(again.mailboxes.list().map((m) => m.name), ["INBOX"]);
  } finally {
    t.cleanup();
  }
});

Deno.test("transaction() commits together or not at all", () => {
  const t = tempStore();
  try {
    const { store } = t;
    store.transaction(() => {
      store.mailboxes.create({ name: "A", kind: "folder" });
      store.mailboxes.create({ name: "B", kind: "folder" });
    });
    assert.throws(() =>
      store.transaction(() => {
        store.mailboxes.create({ name: "C", kind: "folder" });
        throw new Error("boom");
      }), /boom/);
    assert.deepEqual(store.mailboxes.list().map((m) => m.name), ["A", "B"]);
    // A failing call inside a transaction rolls back only itself; the caller may carry on.
    store.transaction(() => {
      store.mailboxes.create({ name: "D", kind: "folder" });
      assert.throws(() => store.mailboxes.rename(store.mailboxes.byName("A")!.id, "B"));
      assert.throws(() =>
        store.transaction(() => {
          store.mailboxes.create({ name: "E", kind: "folder" });
          throw new Error("inner");
        })
      );
      store.mailboxes.create({ name: "F", kind: "folder" });
    });
    assert.deepEqual(store.mailboxes.list().map((m) => m.name), ["A", "B", "D", "F"]);
    assert.equal(store.transaction(() => 42), 42);
  } finally {
    t.cleanup();
  }
});

Deno.test("transaction() refuses an async callback and rolls it back", () => {
  const t = tempStore();
  try {
    assert.throws(
      () =>
        t.store.transaction(() => {
          t.store.mailboxes.create({ name: "A", kind: "folder" });
          return Promise.resolve();
        }),
      TypeError,
    );
    assert.deepEqual(t.store.mailboxes.list(), []);
  } finally {
    t.cleanup();
  }
});

Deno.test("rebuild() empties the index, bumps every UIDVALIDITY and keeps UIDNEXT", () => {
  const t = tempStore();
  try {
    const { store } = t;
    const boxes = withMailboxes(store);
    const id = store.messages.upsertFromSync(sampleMessage(1)).id;
    store.membership.setMessageLabels(id, [LABEL.inbox, LABEL.allMail]);
    store.transaction(() => {
      store.sync.saveCheckpoint({
        phase: "messages",
        labelsDone: true,
        totalCount: 1,
        syncedCount: 1,
        lastSyncedRemoteId: null,
      });
      store.sync.setEventCursor("ev-1" as RemoteEventId);
    });
    const before = store.mailboxes.require(boxes.inbox.id);

    store.transaction(() => {
      store.rebuild();
      store.sync.setEventCursor("ev-2" as RemoteEventId);
    });
    const after = store.mailboxes.require(boxes.inbox.id);
    assert.ok(after.uidValidity > before.uidValidity);
    assert.equal(after.uidNext, before.uidNext);
    assert.equal(store.messages.count(), 0);
    assert.deepEqual(store.membership.uids(boxes.inbox.id), []);
    assert.equal(store.sync.checkpoint(), undefined);
    assert.equal(store.sync.eventCursor(), "ev-2");
    assert.equal(store.mailboxes.list().length, 6);
    // The same remote message comes back under a new internal ID and a new UID.
    const again = store.messages.upsertFromSync(sampleMessage(1)).id;
    assert.ok(again > id);
    assert.deepEqual(store.membership.setMessageLabels(again, [LABEL.inbox]).added, [
      { mailbox: boxes.inbox.id, uid: before.uidNext },
    ]);
  } finally {
    t.cleanup();
  }
});

Deno.test("close() is idempotent and a memory store works", () => {
  const store = Store.open(":memory:");
  store.mailboxes.create({ name: "INBOX", kind: "system" });
  store.close();
  store.close();
});

Deno.test("pageCacheKiB: 64 MiB after open, settable, shared with address views", () => {
  const t = tempStore();
  try {
    const { store } = t;
    assert.equal(PAGE_CACHE_KIB, 65536);
    assert.equal(store.pageCacheKiB, PAGE_CACHE_KIB);
    store.pageCacheKiB = 8192;
    assert.equal(store.pageCacheKiB, 8192);
    const view = store.forAddress("addr" as never);
    assert.equal(view.pageCacheKiB, 8192);
    view.pageCacheKiB = 2048;
    assert.equal(store.pageCacheKiB, 2048);
    for (const bad of [0, -1, 1.5, NaN]) {
      assert.throws(() => store.pageCacheKiB = bad, RangeError);
    }
    assert.equal(store.pageCacheKiB, 2048);
    // Writes and reads work as before with a small cache.
    store.mailboxes.create({ name: "INBOX", kind: "system" });
    assert.equal(t.reopen().pageCacheKiB, PAGE_CACHE_KIB);
  } finally {
    t.cleanup();
  }
});
