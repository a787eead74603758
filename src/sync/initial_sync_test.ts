/**
 * The first-sync pipeline against a fake API and builder (no HTTP, no crypto): resume after a
 * stop at every batch, messages gone meanwhile (422), failed builds, a deleted checkpoint
 * message, a cache write lost by a kill, aborts and persistent server errors. The real thing over
 * HTTP is tested in `tests/initial_sync_test.ts` and `tests/sync_kill_resume_test.ts`.
 */
import assert from "node:assert/strict";
import { ApiError, type Label, type Message, type MessageMetadata } from "../api/mod.ts";
import { PAGE_CACHE_KIB, type RemoteMessageId } from "../store/mod.ts";
import { type InitialSyncOptions, runInitialSync, SyncError } from "./initial_sync.ts";
import { contentOf, failedBuild } from "./message_build.ts";
import type { SyncApi } from "./sync_api.ts";
import type { SyncProgress } from "./progress.ts";
import { dumpIndex, tempIndex } from "./_sync_test_utils.ts";

const LABELS: Label[] = [
  { ID: "0", Name: "Inbox", Path: "Inbox", Type: 4, Color: "" },
  { ID: "5", Name: "All Mail", Path: "All Mail", Type: 4, Color: "" },
  { ID: "L1", Name: "Work", Path: "Work", Type: 1, Color: "" },
];

function meta(n: number): MessageMetadata {
  return {
    ID: `m${String(n).padStart(4, "0")}`,
    AddressID: "a",
    LabelIDs: n % 3 === 0 ? ["0", "5", "L1"] : ["0", "5"],
    ExternalID: "",
    Subject: `s${n}`,
    Sender: { Name: "", Address: "x@y.z" },
    ToList: [],
    CCList: [],
    BCCList: [],
    ReplyTos: [],
    Flags: 1,
    Time: 1_700_000_000 + n,
    Size: 100,
    Unread: n % 2 === 1 ? 1 : 0,
    IsReplied: 0,
    IsRepliedAll: 0,
    IsForwarded: 0,
    NumAttachments: 0,
  };
}

/** A server holding messages m0000…, oldest first; IDs sort by age like the reference server's. */
class FakeApi implements SyncApi {
  messages: MessageMetadata[];
  gone = new Set<string>();
  failing = 0;
  calls = 0;
  /** Called before each full-message fetch (to stop a sync at a chosen point). */
  onFetch?: (id: string) => void;

  constructor(count: number) {
    this.messages = Array.from({ length: count }, (_, i) => meta(i));
  }
  labels() {
    return Promise.resolve(LABELS);
  }
  messageCount() {
    return Promise.resolve(this.messages.length);
  }
  async *metadataNewestFirst(pageSize: number) {
    const desc = [...this.messages].reverse();
    for (let i = 0; i < desc.length; i += pageSize) {
      await Promise.resolve();
      yield desc.slice(i, i + pageSize);
    }
  }
  message(id: string): Promise<Message> {
    this.calls++;
    this.onFetch?.(id);
    if (this.failing > 0) {
      this.failing--;
      return Promise.reject(new ApiError(503, 0, "Service Unavailable"));
    }
    const m = this.messages.find((x) => x.ID === id);
    if (!m || this.gone.has(id)) return Promise.reject(new ApiError(422, 2501, "gone"));
    return Promise.resolve({
      ...m,
      Header: "",
      ParsedHeaders: {},
      Body: `body of ${id}`,
      MIMEType: "text/plain",
      Attachments: [],
    });
  }
  attachment(): Promise<Uint8Array> {
    return Promise.reject(new Error("no attachments here"));
  }
}

const builder = {
  build(message: Message) {
    if (message.Subject === "s13") {
      return Promise.resolve(failedBuild(message, "broken on purpose"));
    }
    const literal = new TextEncoder().encode(
      `Subject: ${message.Subject}\r\nMessage-Id: <${message.ID}@x>\r\n\r\n${message.Body}\r\n`,
    );
    return Promise.resolve(contentOf(literal, "ok"));
  },
};

function options(
  api: SyncApi,
  index: Awaited<ReturnType<typeof tempIndex>>,
  extra: Partial<InitialSyncOptions> = {},
): InitialSyncOptions {
  return {
    api,
    store: index.store,
    cache: index.cache,
    builder,
    batchSize: 4,
    batchWaitMs: 0,
    retries: 1,
    retryDelayMs: 0,
    sleep: () => Promise.resolve(),
    ...extra,
  };
}

Deno.test("first sync: UIDs ascend with age, a failed build is recorded, a rerun is a no-op", async () => {
  const api = new FakeApi(30);
  const index = await tempIndex();
  try {
    const reports: SyncProgress[] = [];
    const result = await runInitialSync(options(api, index, {
      pageSize: 7,
      progressIntervalMs: 0,
      reporter: { progress: (p) => reports.push(p) },
    }));
    assert.equal(result.synced, 30);
    // The listing reports as it pages (a large mailbox lists for a minute before downloading).
    assert.deepEqual(
      reports.filter((p) => p.phase === "listing").map((p) => p.listed),
      [0, 7, 14, 21, 28, 30],
    );
    assert.equal(result.failed, 1);
    assert.deepEqual(index.store.sync.failures().map((f) => f.remoteId), ["m0013"]);
    const inbox = index.store.mailboxes.byName("INBOX")!;
    const rows = index.store.membership.fetchRows(inbox.id, [{
      first: 1 as never,
      last: 100 as never,
    }]);
    assert.deepEqual(rows.map((r) => r.remoteId), api.messages.map((m) => m.ID));
    assert.deepEqual(rows.map((r) => r.uid), rows.map((_, i) => i + 1));
    const work = index.store.mailboxes.byName("Labels/Work")!;
    assert.equal(index.store.membership.count(work.id), 10);
    const again = await runInitialSync(options(api, index));
    assert.equal(again.status, "already-complete");
  } finally {
    await index.cleanup();
  }
});

Deno.test("first sync: stopped before every batch in turn, resumed, identical to one run", async () => {
  const api = new FakeApi(26);
  api.gone.add("m0007");
  const reference = await tempIndex();
  try {
    await runInitialSync(options(api, reference));
    const want = await dumpIndex(reference.store, reference.cache);
    const strip = (s: string) => s.replace(/uidvalidity=\d+ /g, "");
    for (const stopAfter of [0, 1, 3, 5, 9, 14, 22, 25]) {
      const index = await tempIndex();
      try {
        // First run: abort once `stopAfter` messages were fetched.
        const controller = new AbortController();
        let fetched = 0;
        api.onFetch = () => {
          if (++fetched > stopAfter) controller.abort(new Error("killed"));
        };
        await assert.rejects(runInitialSync(options(api, index, { signal: controller.signal })));
        api.onFetch = undefined;
        const partial = index.store.sync.checkpoint()!;
        assert.notEqual(partial.phase, "done");
        // As if killed between the last commit and its cache writes: the newest message is
        // indexed, its literal missing, and the checkpoint does not cover it.
        const indexed = api.messages.map((m) => m.ID).filter((id) =>
          index.store.messages.byRemoteId(id as RemoteMessageId) !== undefined
        );
        const newest = indexed.at(-1);
        if (newest !== undefined) {
          const id = index.store.messages.byRemoteId(newest as RemoteMessageId)!;
          await index.cache.delete(id);
          index.store.transaction(() =>
            index.store.sync.saveCheckpoint({
              ...partial,
              lastSyncedRemoteId: (indexed.at(-2) ?? null) as RemoteMessageId | null,
              syncedCount: Math.max(0, indexed.length - 1),
            })
          );
        }
        const resumed = await runInitialSync(options(api, index));
        assert.equal(resumed.status, "complete");
        assert.equal(
          strip(await dumpIndex(index.store, index.cache)),
          strip(want),
          `stopped after ${stopAfter}`,
        );
      } finally {
        await index.cleanup();
      }
    }
  } finally {
    api.onFetch = undefined;
    await reference.cleanup();
  }
});

Deno.test("first sync: the checkpoint's message deleted meanwhile; new mail arrives", async () => {
  const api = new FakeApi(20);
  const index = await tempIndex();
  try {
    const controller = new AbortController();
    let fetched = 0;
    api.onFetch = () => {
      if (++fetched > 12) controller.abort(new Error("killed"));
    };
    await assert.rejects(runInitialSync(options(api, index, { signal: controller.signal })));
    api.onFetch = undefined;
    const marker = index.store.sync.checkpoint()!.lastSyncedRemoteId!;
    assert.ok(marker);
    api.messages = api.messages.filter((m) => m.ID !== marker);
    api.messages.push(meta(100));
    const result = await runInitialSync(options(api, index));
    assert.equal(result.status, "complete");
    const ids = new Set(api.messages.map((m) => m.ID));
    // Every server message is indexed; the deleted one stays (the event loop removes it).
    for (const id of ids) {
      assert.ok(index.store.messages.byRemoteId(id as RemoteMessageId) !== undefined, id);
    }
    const inbox = index.store.mailboxes.byName("INBOX")!;
    const uids = index.store.membership.uids(inbox.id);
    assert.equal(
      index.store.membership.messageAt(inbox.id, uids.at(-1)!),
      index.store.messages.byRemoteId("m0100" as RemoteMessageId),
      "new mail gets the top UID",
    );
  } finally {
    api.onFetch = undefined;
    await index.cleanup();
  }
});

Deno.test("first sync: persistent 503s stop the run with a retryable SyncError", async () => {
  const api = new FakeApi(5);
  api.failing = 1000;
  const index = await tempIndex();
  try {
    const err = await runInitialSync(options(api, index)).catch((e) => e);
    assert.ok(err instanceof SyncError);
    assert.equal(err.retryable, true);
    assert.equal(index.store.messages.count(), 0);
    api.failing = 1; // One more blip, then it works.
    const waits: string[] = [];
    const ok = await runInitialSync(options(api, index, {
      retryDelayMs: 1000,
      onTransientError: (what, error, retry, delayMs) =>
        waits.push(`${what}: ${error}; retry ${retry} in ${delayMs} ms`),
    }));
    assert.equal(ok.synced, 5);
    // The wait is told, so the sync does not look like one that runs.
    assert.equal(waits.length, 1);
    assert.match(waits[0], /^Downloading a message: .*Status=503.*; retry 1 in 1000 ms$/);
  } finally {
    await index.cleanup();
  }
});

Deno.test("first sync: SQLite's page cache is 8 MiB while messages are applied, restored after", async () => {
  const api = new FakeApi(12);
  const index = await tempIndex();
  const other = await tempIndex();
  try {
    const { store } = index;
    const seen = new Set<number>();
    const watching = {
      build(message: Message) {
        seen.add(store.pageCacheKiB);
        return builder.build(message);
      },
    };
    // A run that stops restores it as well as one that completes.
    api.failing = 1000;
    assert.ok(await runInitialSync(options(api, index)).catch((e) => e) instanceof SyncError);
    assert.equal(store.pageCacheKiB, PAGE_CACHE_KIB);
    api.failing = 0;
    await runInitialSync(options(api, index, { builder: watching }));
    assert.deepEqual([...seen], [8192]);
    assert.equal(store.pageCacheKiB, PAGE_CACHE_KIB);
    // A cache already smaller than that is left as it is.
    other.store.pageCacheKiB = 1024;
    const seenOther = new Set<number>();
    await runInitialSync(options(api, other, {
      builder: {
        build(message: Message) {
          seenOther.add(other.store.pageCacheKiB);
          return builder.build(message);
        },
      },
    }));
    assert.deepEqual([...seenOther], [1024]);
    assert.equal(other.store.pageCacheKiB, 1024);
  } finally {
    await index.cleanup();
    await other.cleanup();
  }
});
