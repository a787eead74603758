import assert from "node:assert/strict";
import { LABEL, sampleMessage, tempStore, withMailboxes } from "./_test_utils.ts";
import type { RemoteEventId, RemoteMessageId } from "./ids.ts";
import type { SyncCheckpoint } from "./sync_state.ts";

const CHECKPOINT: SyncCheckpoint = {
  phase: "messages",
  labelsDone: true,
  totalCount: 250,
  syncedCount: 150,
  lastSyncedRemoteId: "msg-150" as RemoteMessageId,
};

Deno.test("checkpoint, failures and cursor round-trip and survive a restart", () => {
  const t = tempStore({ now: () => 1_700_000_123_456 });
  try {
    assert.equal(t.store.sync.checkpoint(), undefined);
    assert.equal(t.store.sync.eventCursor(), undefined);
    t.store.transaction(() => {
      t.store.sync.saveCheckpoint(CHECKPOINT);
      t.store.sync.recordFailure("bad-1" as RemoteMessageId, "no address key");
      t.store.sync.recordFailure("bad-2" as RemoteMessageId, "corrupt attachment");
      t.store.sync.setEventCursor("ev-42" as RemoteEventId);
    });
    const store = t.reopen();
    assert.deepEqual(store.sync.checkpoint(), CHECKPOINT);
    assert.equal(store.sync.eventCursor(), "ev-42");
    assert.deepEqual(store.sync.failures(), [
      { remoteId: "bad-1", reason: "no address key", failedAt: 1_700_000_123 },
      { remoteId: "bad-2", reason: "corrupt attachment", failedAt: 1_700_000_123 },
    ]);
    store.transaction(() => store.sync.clearFailure("bad-1" as RemoteMessageId));
    assert.deepEqual(store.sync.failures().map((f) => f.remoteId), ["bad-2"]);
    store.transaction(() => store.sync.saveCheckpoint({ ...CHECKPOINT, phase: "done" }));
    assert.equal(store.sync.checkpoint()!.phase, "done");
  } finally {
    t.cleanup();
  }
});

Deno.test("the writers refuse to run outside a transaction", () => {
  const t = tempStore();
  try {
    const { sync } = t.store;
    assert.throws(() => sync.setEventCursor("ev" as RemoteEventId), /outside a transaction/);
    assert.throws(() => sync.saveCheckpoint(CHECKPOINT), /outside a transaction/);
    assert.throws(() => sync.recordFailure("x" as RemoteMessageId, "r"), /outside a transaction/);
    assert.throws(() => sync.clearFailure("x" as RemoteMessageId), /outside a transaction/);
    assert.throws(() => sync.resetSync(), /outside a transaction/);
    assert.equal(sync.eventCursor(), undefined);
  } finally {
    t.cleanup();
  }
});

Deno.test("a rolled-back event leaves both its changes and the cursor where they were", () => {
  const t = tempStore();
  try {
    const { store } = t;
    const boxes = withMailboxes(store);
    store.transaction(() => {
      const id = store.messages.upsertFromSync(sampleMessage(1)).id;
      store.membership.setMessageLabels(id, [LABEL.inbox]);
      store.sync.setEventCursor("ev-1" as RemoteEventId);
    });

    // The next event fails half-way through being applied.
    assert.throws(() =>
      store.transaction(() => {
        const id = store.messages.upsertFromSync(sampleMessage(2)).id;
        store.membership.setMessageLabels(id, [LABEL.inbox]);
        store.sync.setEventCursor("ev-2" as RemoteEventId);
        throw new Error("malformed event");
      }), /malformed event/);
    assert.equal(store.sync.eventCursor(), "ev-1");
    assert.equal(store.messages.byRemoteId("msg-2" as RemoteMessageId), undefined);
    assert.deepEqual(store.membership.uids(boxes.inbox.id), [1]);

    // Same for a checkpoint and the batch it counts.
    store.transaction(() => store.sync.saveCheckpoint(CHECKPOINT));
    assert.throws(() =>
      store.transaction(() => {
        store.messages.upsertFromSync(sampleMessage(3));
        store.sync.saveCheckpoint({ ...CHECKPOINT, syncedCount: 300 });
        throw new Error("killed");
      })
    );
    assert.deepEqual(store.sync.checkpoint(), CHECKPOINT);
    assert.equal(store.messages.byRemoteId("msg-3" as RemoteMessageId), undefined);

    // Applying the event again then works once.
    store.transaction(() => {
      const id = store.messages.upsertFromSync(sampleMessage(2)).id;
      store.membership.setMessageLabels(id, [LABEL.inbox]);
      store.sync.setEventCursor("ev-2" as RemoteEventId);
    });
    assert.deepEqual(store.membership.uids(boxes.inbox.id), [1, 2]);
    assert.equal(store.sync.eventCursor(), "ev-2");
  } finally {
    t.cleanup();
  }
});
