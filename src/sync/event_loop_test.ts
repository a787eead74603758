import assert from "node:assert/strict";
import { ApiError, type Event, NetworkError, SignedOutError } from "../api/mod.ts";
import { UpdateBus } from "../connector/update_bus.ts";
import type { Update } from "../connector/updates.ts";
import {
  type InternalMessageId,
  type RemoteEventId,
  type RemoteMessageId,
  Store,
} from "../store/mod.ts";
import { applyLabels, applyMessage } from "./apply.ts";
import {
  EventLoop,
  type EventLoopNotice,
  type EventLoopOptions,
  type EventSource,
  isTransientError,
  RETRY_ATTEMPTS,
  RETRY_CHUNK,
} from "./event_loop.ts";
import {
  event,
  fakeBuilt,
  fakeFetcher,
  indexView,
  label,
  metadata,
  SYSTEM_LABELS,
} from "./_event_test_utils.ts";

/** An event feed in memory: `push` appends an event, `collect` serves them like the API. */
class ScriptedSource implements EventSource {
  log: unknown[] = [];
  failNext: unknown[] = [];
  collects = 0;
  #n = 0;

  push(changes: Partial<Event> | ((id: string) => unknown)): string {
    const id = `e${++this.#n}`;
    this.log.push(typeof changes === "function" ? changes(id) : event(id, changes));
    return id;
  }

  #ids(): string[] {
    return this.log.map((e, i) =>
      (e as { EventID?: unknown })?.EventID as string ?? `bad-${i + 1}`
    );
  }

  latestEventId(): Promise<string> {
    const error = this.failNext.shift();
    if (error) return Promise.reject(error);
    return Promise.resolve(this.#ids().at(-1) ?? "e0");
  }

  collect(fromId: string): Promise<{ events: unknown[]; more: boolean }> {
    this.collects++;
    const error = this.failNext.shift();
    if (error) return Promise.reject(error);
    const ids = this.#ids();
    const start = fromId === "e0" ? 0 : ids.indexOf(fromId) + 1;
    if (start === 0 && fromId !== "e0") throw new Error(`unknown event ID ${fromId}`);
    const events = this.log.slice(start, start + 2);
    return Promise.resolve({ events, more: start + 2 < this.log.length });
  }
}

function setup(extra: Partial<EventLoopOptions> = {}) {
  const store = Store.open(":memory:");
  applyLabels(store, SYSTEM_LABELS);
  const source = new ScriptedSource();
  const f = fakeFetcher(new Map([["m1", "one"], ["m2", "two"], ["m3", "three"]]));
  const bus = new UpdateBus({ log: () => {} });
  const seen: string[] = [];
  const sub = bus.subscribe("acc", {
    name: "recorder",
    onUpdate: (u: Update) => {
      seen.push(`${store.sync.eventCursor()}:${u.kind}`);
    },
  });
  const notices: EventLoopNotice[] = [];
  const logs: string[] = [];
  const loop = new EventLoop({
    account: "acc",
    store,
    source,
    fetcher: f.fetcher,
    bus,
    intervalMs: 5,
    jitterMs: 0,
    retryBaseMs: 1,
    retryMaxMs: 20,
    onNotice: (n) => notices.push(n),
    log: (m) => logs.push(m),
    ...extra,
  });
  const done = async () => {
    await loop.stop();
    sub.unsubscribe();
    bus.close();
    store.close();
  };
  return { store, source, f, bus, seen, notices, logs, loop, done };
}

/** Polls until the loop found nothing new (or `n` polls passed). */
async function settle(loop: EventLoop, n = 50): Promise<void> {
  for (let i = 0; i < n; i++) {
    const outcome = await loop.pollNow();
    if (outcome === "idle" || outcome === "paused" || outcome === "stopped") return;
  }
  throw new Error("the loop did not settle");
}

const create = (id: string, over = {}) => ({ ID: id, Action: 1, Message: metadata(id, over) });

Deno.test("first start stores events/latest; paused until resume, then replays in order", async () => {
  const t = setup();
  try {
    t.source.push({}); // e1: before we start
    await t.loop.start();
    assert.equal(t.store.sync.eventCursor(), "e1");
    assert.equal(t.loop.status().state, "paused");
    t.source.push({ Messages: [create("m1")] });
    t.source.push({ Messages: [create("m2")] });
    t.source.push({ Messages: [{ ID: "m1", Action: 3, Message: metadata("m1", { Unread: 0 }) }] });
    assert.equal(await t.loop.pollNow(), "paused");
    assert.deepEqual(indexView(t.store), {});
    t.loop.resume();
    await settle(t.loop);
    assert.deepEqual(indexView(t.store), {
      "All Mail": [[1, "m1"], [2, "m2"]],
      INBOX: [[1, "m1"], [2, "m2"]],
    });
    // Each event's updates are published after its commit and acknowledged before the next.
    assert.deepEqual(t.seen, [
      "e2:MessagesCreated",
      "e2:MessagesCreated",
      "e3:MessagesCreated",
      "e3:MessagesCreated",
      "e4:FlagsChanged",
    ]);
    const status = t.loop.status();
    assert.equal(status.state, "running");
    assert.equal(status.cursor, "e4");
    assert.equal(status.eventsApplied, 3);
    assert.equal(t.source.collects >= 2, true); // More was followed
  } finally {
    await t.done();
  }
});

Deno.test("events during a first sync are replayed idempotently from the cursor taken before it", async () => {
  const t = setup();
  try {
    await t.loop.start(); // cursor e0 taken before the "sync"
    assert.equal(t.store.sync.eventCursor(), "e0");
    // While the sync runs: m1 arrives, the sync sees and indexes it, then it is read and m2 comes.
    t.source.push({ Messages: [create("m1")] });
    const synced = fakeBuilt("m1", "one");
    const applied = applyMessage(t.store, metadata("m1"), synced.built);
    t.source.push({ Messages: [{ ID: "m1", Action: 3, Message: metadata("m1", { Unread: 0 }) }] });
    t.source.push({ Messages: [create("m2")] });
    t.loop.resume();
    await settle(t.loop);
    assert.deepEqual(indexView(t.store), {
      "All Mail": [[1, "m1"], [2, "m2"]],
      INBOX: [[1, "m1"], [2, "m2"]],
    });
    assert.equal(t.store.messages.byRemoteId("m1" as RemoteMessageId), applied.id);
    assert.deepEqual(t.f.calls, ["m2"]); // m1 was not downloaded again
    assert.equal(t.store.sync.eventCursor(), "e3");
  } finally {
    await t.done();
  }
});

Deno.test("transient errors (500, 429, network) are retried without losing or repeating events", async () => {
  const t = setup({ startPaused: false });
  try {
    await t.loop.start();
    t.source.push({ Messages: [create("m1")] });
    t.source.failNext.push(
      new ApiError(500, 0, "Internal"),
      new ApiError(429, 0, "Too many"),
      new NetworkError("connection reset"),
    );
    assert.equal(await t.loop.pollNow(), "error");
    assert.equal(t.loop.status().consecutiveFailures >= 1, true);
    assert.equal(t.loop.status().lastError?.transient, true);
    await settle(t.loop);
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m1"]]);
    assert.equal(t.loop.status().consecutiveFailures, 0);
    assert.equal(t.notices.filter((n) => n.kind === "transient-error").length, 3);
    // A transient failure while downloading retries the same event.
    t.source.push({ Messages: [create("m2")] });
    t.f.failNext.push(new ApiError(503, 0, "Unavailable"));
    await settle(t.loop);
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m1"], [2, "m2"]]);
    assert.deepEqual(t.f.calls, ["m1", "m2", "m2"]);
  } finally {
    await t.done();
  }
});

Deno.test("a malformed event is reported, retried, then applied without its bad items", async () => {
  const t = setup({ startPaused: false, maxBadEventAttempts: 3 });
  try {
    await t.loop.start();
    const bad = t.source.push({
      Messages: [create("m1"), { ID: "x", Action: 3, Message: { ID: "x", LabelIDs: 7 } }],
    } as unknown as Partial<Event>);
    t.source.push({ Messages: [create("m2")] });
    assert.equal(await t.loop.pollNow(), "error");
    assert.equal(t.loop.status().badEvent?.eventId, bad);
    assert.equal(t.loop.status().badEvent?.attempts, 1);
    assert.equal(t.loop.status().badEvent?.skipped, false);
    assert.deepEqual(indexView(t.store), {});
    await settle(t.loop);
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m1"], [2, "m2"]]);
    const kinds = t.notices.map((n) => n.kind).filter((k) => k.startsWith("bad"));
    assert.deepEqual(kinds, ["bad-event", "bad-event", "bad-event", "bad-event-partially-applied"]);
    assert.match(t.logs.join("\n"), /without 1 bad item\(s\): message x: LabelIDs/);
    assert.equal(t.loop.status().skippedEvents, 0);
  } finally {
    await t.done();
  }
});

Deno.test("an event whose message cannot be downloaded is applied with it as a placeholder", async () => {
  const t = setup({ startPaused: false, maxBadEventAttempts: 2 });
  try {
    await t.loop.start();
    const bad = t.source.push({ Messages: [create("m1"), create("m3")] });
    t.source.push({ Messages: [create("m2")] });
    // m1's download fails on every attempt (m3 comes after it in the same event).
    const fetch = t.f.fetcher.fetch;
    t.f.fetcher.fetch = (id) => id === "m1" ? Promise.reject(new Error("cannot build")) : fetch(id);
    await settle(t.loop);
    // m1 is there, as a failed build (built again at the next start or address change).
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m1"], [2, "m3"], [3, "m2"]]);
    assert.deepEqual(
      t.store.messages.failedBuilds().map((f) => f.remoteId),
      ["m1"],
    );
    assert.equal(t.loop.status().skippedEvents, 0);
    const partial = t.notices.find((n) => n.kind === "bad-event-partially-applied");
    assert.deepEqual(partial, {
      kind: "bad-event-partially-applied",
      eventId: bad,
      dropped: [
        "message m1: not downloaded, kept as a placeholder to build again later: Error: cannot build",
      ],
    });
  } finally {
    await t.done();
  }
});

Deno.test("an event that keeps failing is skipped after N attempts with a clear notice", async () => {
  const storage: unknown[] = [];
  const t = setup({
    startPaused: false,
    maxBadEventAttempts: 2,
    onStorage: (s) => storage.push(s),
  });
  try {
    await t.loop.start();
    const bad = t.source.push({ Messages: [create("m1")], UsedSpace: 1234 });
    t.source.push({ Messages: [create("m2")] });
    // Even applied item by item (the third attempt) the event cannot be committed.
    const setEventCursor = t.store.sync.setEventCursor.bind(t.store.sync);
    let refusals = 3;
    t.store.sync.setEventCursor = (id) => {
      if (id === bad && refusals-- > 0) throw new Error("cannot build");
      setEventCursor(id);
    };
    await settle(t.loop);
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m2"]]);
    const status = t.loop.status();
    assert.equal(status.skippedEvents, 1);
    assert.equal(status.badEvent?.eventId, bad);
    assert.equal(status.badEvent?.skipped, true);
    assert.match(status.badEvent!.error, /cannot build/);
    assert.ok(t.notices.some((n) => n.kind === "bad-event-skipped" && n.eventId === bad));
    assert.match(t.logs.join("\n"), /bad event e1 \(last attempt, item by item\): Error: cannot/);
    assert.match(t.logs.join("\n"), /SKIPPED bad event e1 after 3 attempts/);
    // Its storage figures still count (they are the account's, not the index's).
    assert.deepEqual(storage, [{ UsedSpace: 1234 }]);
  } finally {
    await t.done();
  }
});

Deno.test("a full disk fails the event as it is: retried with backoff, never skipped or cut", async () => {
  const t = setup({ startPaused: false, maxBadEventAttempts: 2 });
  try {
    await t.loop.start();
    const full = t.source.push({ Messages: [create("m1"), create("m2")] });
    // The disk is full for a while: every commit of this event fails.
    const setEventCursor = t.store.sync.setEventCursor.bind(t.store.sync);
    let failures = 5;
    t.store.sync.setEventCursor = (id) => {
      if (id === full && failures-- > 0) throw new Error("database or disk is full");
      setEventCursor(id);
    };
    for (let i = 0; i < 5; i++) assert.equal(await t.loop.pollNow(), "error");
    assert.deepEqual(indexView(t.store), {});
    const status = t.loop.status();
    assert.equal(status.consecutiveFailures, 5);
    assert.equal(status.lastError?.transient, true);
    assert.equal(status.skippedEvents, 0);
    assert.equal(status.badEvent, undefined);
    // Space again: the whole event is applied.
    await settle(t.loop);
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m1"], [2, "m2"]]);
    assert.ok(!t.notices.some((n) => n.kind.startsWith("bad-event")));
  } finally {
    await t.done();
  }
});

/**
 * Folders Work and Work/2024, the loop started, and one event that creates label L9, moves Work
 * under its own child (the store refuses it on every attempt: a RangeError) and creates m1.
 */
async function startWithRefusedFolderMove(t: ReturnType<typeof setup>): Promise<void> {
  applyLabels(t.store, [
    ...SYSTEM_LABELS,
    label("F1", 3, "Work"),
    label("F2", 3, "2024", { ParentID: "F1", Path: "Work/2024" }),
  ]);
  await t.loop.start();
  t.source.push({
    Labels: [
      { ID: "L9", Action: 1, Label: label("L9", 1, "New") },
      {
        ID: "F1",
        Action: 2,
        Label: label("F1", 3, "Work", { ParentID: "F2", Path: "Work/2024/Work" }),
      },
    ],
    Messages: [create("m1")],
  });
}

Deno.test("a full disk during the item-by-item attempt drops nothing: the event is retried", async () => {
  const t = setup({ startPaused: false, maxBadEventAttempts: 2 });
  try {
    await startWithRefusedFolderMove(t);
    // The disk is full just when the item-by-item attempt creates the label's mailbox.
    const createMailbox = t.store.mailboxes.create.bind(t.store.mailboxes);
    let creations = 0;
    t.store.mailboxes.create = (spec) => {
      if (spec.remoteId === "L9" && ++creations === 3) {
        throw new Error("database or disk is full");
      }
      return createMailbox(spec);
    };
    for (let i = 0; i < 2; i++) assert.equal(await t.loop.pollNow(), "error");
    assert.equal(creations, 3);
    assert.equal(t.store.sync.eventCursor(), "e0", "not committed without the label");
    assert.equal(t.store.mailboxes.byRemoteId("L9" as never), undefined);
    assert.ok(!t.notices.some((n) => n.kind === "bad-event-partially-applied"));
    // Space again: the next attempt, item by item, keeps the label and the message.
    await settle(t.loop);
    assert.equal(t.store.mailboxes.byRemoteId("L9" as never)?.name, "Labels/New");
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m1"]]);
  } finally {
    await t.done();
  }
});

Deno.test("a reply without an EventID is never skipped, only retried", async () => {
  const t = setup({ startPaused: false, maxBadEventAttempts: 1 });
  try {
    await t.loop.start();
    t.source.push(() => ({ Messages: [] }));
    for (let i = 0; i < 3; i++) assert.equal(await t.loop.pollNow(), "error");
    assert.equal(t.store.sync.eventCursor(), "e0");
    assert.equal(t.loop.status().skippedEvents, 0);
    assert.ok(t.notices.some((n) => n.kind === "bad-reply"));
  } finally {
    await t.done();
  }
});

Deno.test("refresh: rebuild, UidValidityBumped, resync hook, then replay from the refresh", async () => {
  const resyncs: string[] = [];
  const t: ReturnType<typeof setup> = setup({
    startPaused: false,
    resync: () => {
      resyncs.push(t.store.sync.eventCursor()!);
      // During the resync, something new arrives; it must be applied afterwards.
      t.source.push({ Messages: [create("m3")] });
      return Promise.resolve();
    },
  });
  try {
    await t.loop.start();
    t.source.push({ Messages: [create("m1")] });
    await settle(t.loop);
    const validity = t.store.mailboxes.byName("INBOX")!.uidValidity;
    t.source.push({ Refresh: 1 });
    await settle(t.loop);
    assert.deepEqual(resyncs, ["e2"]);
    assert.ok(t.store.mailboxes.byName("INBOX")!.uidValidity > validity);
    assert.deepEqual(indexView(t.store).INBOX, [[2, "m3"]]);
    assert.ok(t.seen.includes("e2:UidValidityBumped"));
    assert.ok(t.notices.some((n) => n.kind === "refresh"));
    assert.equal(t.loop.status().state, "running");
  } finally {
    await t.done();
  }
});

Deno.test("a stuck session cannot wedge the loop", async () => {
  const t = setup({ startPaused: false, ackTimeoutMs: 20 });
  const stuck = t.bus.subscribe("acc", { name: "stuck-session" });
  try {
    await t.loop.start();
    t.source.push({ Messages: [create("m1")] });
    t.source.push({ Messages: [create("m2")] });
    await settle(t.loop);
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m1"], [2, "m2"]]);
    assert.equal(stuck.pending, 4);
  } finally {
    stuck.unsubscribe();
    await t.done();
  }
});

Deno.test("signed out: the loop stops and says so", async () => {
  const t = setup({ startPaused: false });
  try {
    await t.loop.start();
    t.source.failNext.push(new SignedOutError());
    assert.equal(await t.loop.pollNow(), "stopped");
    assert.equal(t.loop.status().state, "signed-out");
    assert.ok(t.notices.some((n) => n.kind === "signed-out"));
  } finally {
    await t.done();
  }
});

Deno.test("the poll interval has jitter and backoff grows per failure, capped", async () => {
  const sleeps: number[] = [];
  const t = setup({
    startPaused: false,
    intervalMs: 20_000,
    jitterMs: 10_000,
    random: () => 0.5,
    retryBaseMs: 1_000,
    retryMaxMs: 3_000,
    sleep: (ms, signal) => {
      sleeps.push(ms);
      return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
    },
  });
  try {
    await t.loop.start();
    for (let i = 0; i < 4; i++) t.source.failNext.push(new ApiError(502, 0, "Bad gateway"));
    for (let i = 0; i < 4; i++) await t.loop.pollNow();
    await t.loop.pollNow();
    await t.loop.pollNow();
    // (Whether the wait after the very first poll started before the first pollNow depends on
    // timing; a wake that comes first skips it.)
    assert.deepEqual(sleeps.filter((ms) => ms !== 25_000), [1_000, 2_000, 3_000, 3_000]);
    assert.deepEqual(sleeps.slice(-2), [25_000, 25_000]);
  } finally {
    await t.done();
  }
});

Deno.test("start retries events/latest on transient errors", async () => {
  const t = setup();
  try {
    t.source.failNext.push(new ApiError(500, 0, "x"));
    await t.loop.start();
    assert.equal(t.store.sync.eventCursor(), "e0");
    assert.equal(t.notices[0].kind, "transient-error");
  } finally {
    await t.done();
  }
});

Deno.test("literals go to the cache after commit and leave it on delete", async () => {
  const cache = new Map<number, Uint8Array>();
  const t = setup({
    startPaused: false,
    literals: {
      get: (id: InternalMessageId) => Promise.resolve(cache.get(id)),
      put: (id: InternalMessageId, l: Uint8Array) => {
        cache.set(id, l);
        return Promise.resolve();
      },
      delete: (id: InternalMessageId) => {
        cache.delete(id);
        return Promise.resolve();
      },
    },
  });
  try {
    await t.loop.start();
    t.source.push({ Messages: [create("m1")] });
    await settle(t.loop);
    const id = t.store.messages.byRemoteId("m1" as RemoteMessageId)!;
    assert.equal(new TextDecoder().decode(cache.get(id)), "Subject: m1\r\n\r\none\r\n");
    t.source.push({ Messages: [{ ID: "m1", Action: 0 }] });
    await settle(t.loop);
    assert.equal(cache.size, 0);
  } finally {
    await t.done();
  }
});

Deno.test("address items reach the hook before the event's messages; transient classification", async () => {
  const got: string[] = [];
  const t = setup({
    startPaused: false,
    onAddresses: (items) => {
      const indexed = t.store.messages.byRemoteId("m3" as RemoteMessageId) !== undefined;
      got.push(...items.map((a) => `${a.ID}:${a.Action}:${indexed ? "after" : "before"}`));
    },
  });
  try {
    await t.loop.start();
    t.source.push({ Addresses: [{ ID: "a1", Action: 2 }] });
    await settle(t.loop);
    t.source.push({
      Addresses: [{ ID: "a2", Action: 1 }],
      Messages: [create("m3")],
    });
    await settle(t.loop);
    assert.ok(t.store.messages.byRemoteId("m3" as RemoteMessageId) !== undefined);
    assert.deepEqual(got, ["a1:2:before", "a2:1:before"]);
  } finally {
    await t.done();
  }
  assert.equal(isTransientError(new ApiError(429, 0, "")), true);
  assert.equal(isTransientError(new ApiError(503, 0, "")), true);
  assert.equal(isTransientError(new ApiError(422, 2501, "")), false);
  assert.equal(isTransientError(new Error("x")), false);
});

Deno.test("an address event that reloaded the keys rebuilds the placeholders of failed builds", async () => {
  let keys = false;
  const t = setup({
    startPaused: false,
    fetcher: {
      fetch(remoteId) {
        const out = fakeBuilt(remoteId);
        if (!keys) out.built = { ...out.built, status: "failed", reason: "no unlocked key" };
        return Promise.resolve(out);
      },
    },
    onAddresses: () => {
      keys = true;
    },
  });
  try {
    await t.loop.start();
    t.source.push({ Messages: [create("m1")] });
    await settle(t.loop);
    assert.equal(t.store.messages.failedBuilds().length, 1);
    t.seen.length = 0;
    t.source.push({ Addresses: [{ ID: "a1", Action: 3 }] }); // e.g. the address's keys changed
    await settle(t.loop);
    assert.deepEqual(t.store.messages.failedBuilds(), []);
    assert.deepEqual(indexView(t.store), { "All Mail": [[2, "m1"]], INBOX: [[2, "m1"]] });
    assert.deepEqual(t.seen, [
      "e2:MessagesExpunged",
      "e2:MessagesExpunged",
      "e2:MessagesCreated",
      "e2:MessagesCreated",
    ]);
    assert.ok(t.logs.some((l) => /1 message\(s\) that had failed to build were rebuilt/.test(l)));
  } finally {
    await t.done();
  }
});

/** Puts `ids` into the index as failed builds (what an earlier run left). */
function seedFailed(store: Store, ids: string[]): void {
  for (const id of ids) {
    const out = fakeBuilt(id);
    applyMessage(store, metadata(id), { ...out.built, status: "failed", reason: "worker stopped" });
  }
}

Deno.test("failed builds of an earlier run are built again once, in chunks, after the tick's events", async () => {
  const ids = Array.from({ length: RETRY_CHUNK + 10 }, (_, i) => `f${i + 1}`);
  const stillBroken = new Set(["f2", "f60"]);
  const fetched: string[] = [];
  /** The poll each retry download happened in. */
  const pollOf: number[] = [];
  const t = setup({
    startPaused: false,
    retryFailedBuilds: [...ids, "f1"] as RemoteMessageId[],
    fetcher: {
      fetch(remoteId) {
        fetched.push(remoteId);
        if (remoteId.startsWith("f")) pollOf.push(t.source.collects);
        if (remoteId === "f3") return Promise.resolve(undefined); // deleted meanwhile
        const out = fakeBuilt(remoteId);
        if (stillBroken.has(remoteId)) {
          out.built = { ...out.built, status: "failed", reason: "still no key" };
        }
        return Promise.resolve(out);
      },
    },
  });
  try {
    seedFailed(t.store, ids);
    assert.equal(t.store.messages.failedBuilds().length, ids.length);
    assert.deepEqual(t.loop.pendingRetries(), ids, "deduplicated, in order");
    t.store.transaction(() => t.store.sync.setEventCursor("e0" as RemoteEventId));
    t.source.push({ Messages: [create("m1")] });
    await t.loop.start();
    await settle(t.loop);
    // The poll's event first, then one chunk per poll; each once (f1 was named twice), in order;
    // nothing more on later polls.
    assert.equal(fetched[0], "m1");
    assert.deepEqual(fetched.filter((id) => id.startsWith("f")), ids);
    assert.equal(new Set(pollOf.slice(0, RETRY_CHUNK)).size, 1);
    assert.equal(pollOf[RETRY_CHUNK], pollOf[0] + 1);
    await t.loop.pollNow();
    assert.equal(fetched.filter((id) => id.startsWith("f")).length, ids.length);
    assert.deepEqual(t.loop.pendingRetries(), []);
    assert.deepEqual(
      t.store.messages.failedBuilds().map((f) => f.remoteId).sort(),
      ["f2", "f3", "f60"],
    );
    // A rebuilt message has a new UID (a UID's bytes never change), clients were told.
    const inbox = indexView(t.store).INBOX;
    const f1 = inbox.find(([, id]) => id === "f1")!;
    assert.ok(f1[0] > ids.length, `f1 has UID ${f1[0]}`);
    assert.ok(t.seen.some((s) => s.endsWith(":MessagesExpunged")));
    assert.ok(
      t.logs.some((l) =>
        l.includes(
          `of ${ids.length} message(s) that failed to build in an earlier run, ` +
            `${ids.length - 3} were rebuilt; 2 still fail`,
        )
      ),
      t.logs.join("\n"),
    );
  } finally {
    await t.done();
  }
});

Deno.test("a message of a retry chunk that cannot be downloaded does not fail the others", async () => {
  const t = setup({
    startPaused: false,
    retryFailedBuilds: ["f1", "f2", "f3"] as RemoteMessageId[],
    fetcher: {
      fetch(remoteId) {
        if (remoteId === "f2") return Promise.reject(new ApiError(400, 2001, "invalid ID"));
        return Promise.resolve(fakeBuilt(remoteId));
      },
    },
  });
  try {
    seedFailed(t.store, ["f1", "f2", "f3"]);
    await t.loop.start();
    await settle(t.loop);
    assert.deepEqual(t.store.messages.failedBuilds().map((f) => f.remoteId), ["f2"]);
    assert.ok(
      t.logs.some((l) => /of 3 message\(s\) .* 2 were rebuilt; 1 still fail/.test(l)),
      t.logs.join("\n"),
    );
    assert.equal(t.loop.status().consecutiveFailures, 0);
  } finally {
    await t.done();
  }
});

Deno.test("a retry chunk that keeps failing transiently is left for the next start", async () => {
  let failures = 0;
  const t = setup({
    startPaused: false,
    retryFailedBuilds: ["f1", "f2"] as RemoteMessageId[],
    fetcher: {
      fetch() {
        failures++;
        return Promise.reject(new NetworkError("connection reset"));
      },
    },
  });
  try {
    seedFailed(t.store, ["f1", "f2"]);
    await t.loop.start();
    await settle(t.loop);
    // RETRY_ATTEMPTS tries of the chunk (each downloads both), then left as it is.
    assert.equal(failures, 2 * RETRY_ATTEMPTS);
    assert.equal(t.store.messages.failedBuilds().length, 2);
    assert.ok(
      t.logs.some((l) => /2 message\(s\) that failed to build .* left as they are/.test(l)),
    );
    assert.equal(t.loop.status().consecutiveFailures, 0);
    await t.loop.pollNow();
    assert.equal(failures, 2 * RETRY_ATTEMPTS);
  } finally {
    await t.done();
  }
});

Deno.test("mail settings of an event reach their hook after the event committed", async () => {
  const got: unknown[] = [];
  const t = setup({
    startPaused: false,
    onMailSettings: (settings) => {
      got.push({ sign: settings.Sign, cursor: t.store.sync.eventCursor() });
    },
  });
  try {
    await t.loop.start();
    const id = t.source.push((eventId) => ({
      EventID: eventId,
      More: 0,
      Refresh: 0,
      MailSettings: { Sign: 1, PGPScheme: 16 },
    }));
    t.source.push({ Messages: [create("m1")] });
    await settle(t.loop);
    assert.deepEqual(got, [{ sign: 1, cursor: id }]);
  } finally {
    await t.done();
  }
});

Deno.test("storage figures of an event reach their hook: UsedSpace, and a User's limit", async () => {
  const got: unknown[] = [];
  const t = setup({
    startPaused: false,
    onStorage: (storage) => got.push({ ...storage, cursor: t.store.sync.eventCursor() }),
  });
  try {
    await t.loop.start();
    const first = t.source.push((eventId) => ({
      EventID: eventId,
      More: 0,
      Refresh: 0,
      Messages: [create("m1")],
      UsedSpace: 4096,
    }));
    t.source.push({ Messages: [create("m2")] }); // no figures: no call
    const third = t.source.push((eventId) => ({
      EventID: eventId,
      More: 0,
      Refresh: 0,
      User: { ID: "u", UsedSpace: 5000, MaxSpace: 2 ** 31 },
    }));
    const fourth = t.source.push((eventId) => ({
      EventID: eventId,
      More: 0,
      Refresh: 0,
      UsedSpace: -1, // not a size: ignored, as is a User without figures
      User: { ID: "u", MaxSpace: "lots" },
    }));
    await settle(t.loop);
    assert.deepEqual(got, [
      { UsedSpace: 4096, cursor: first },
      { UsedSpace: 5000, MaxSpace: 2 ** 31, cursor: third },
    ]);
    assert.equal(t.store.sync.eventCursor(), fourth);
  } finally {
    await t.done();
  }
});

Deno.test("a failure inside an event rolls back all of it, the cursor included (invariant 4)", async () => {
  const t = setup({ startPaused: false, maxBadEventAttempts: 5 });
  try {
    await startWithRefusedFolderMove(t);
    assert.equal(await t.loop.pollNow(), "error");
    assert.equal(t.store.sync.eventCursor(), "e0");
    assert.equal(t.store.mailboxes.byRemoteId("L9" as never), undefined);
    assert.deepEqual(indexView(t.store), {});
    assert.deepEqual(t.seen, []);
    assert.match(t.loop.status().badEvent!.error, /under itself/);
    // After the retries, the event is applied item by item: the folder move the store refuses
    // is dropped, the label and the message it came with are not lost.
    await settle(t.loop);
    assert.equal(t.store.sync.eventCursor(), "e1");
    assert.equal(t.store.mailboxes.byRemoteId("L9" as never)?.name, "Labels/New");
    assert.equal(t.store.mailboxes.byRemoteId("F1" as never)?.name, "Folders/Work");
    assert.deepEqual(indexView(t.store).INBOX, [[1, "m1"]]);
    assert.equal(t.loop.status().skippedEvents, 0);
    const partial = t.notices.find((n) => n.kind === "bad-event-partially-applied");
    assert.match(JSON.stringify(partial), /label F1: .*under itself/);
  } finally {
    await t.done();
  }
});
