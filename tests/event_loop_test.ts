/**
 * The event loop over real HTTP against the reference server (`src/api_server`): every kind of
 * remote change is made through the server's `/ref/v1/` controls (as another client would), the
 * loop polls on a short interval, and the test checks that the index changed correctly (the
 * index matches the server; UIDs of untouched memberships stay; UIDNEXT only grows) and that the
 * update bus saw the right updates, in order.
 *
 * Also: events during a simulated first sync are replayed from the cursor taken before it; a
 * malformed event (mangled by a small proxy in front of the server) does not wedge the loop; 500,
 * 429 and dropped connections on the event feed are retried until the index converges; a Refresh
 * rebuilds the index with larger UIDVALIDITYs and resyncs.
 */
import assert from "node:assert/strict";
import { type ApiServer, startApiServer } from "../src/api_server/mod.ts";
import {
  ApiClient,
  getLabels,
  type Label,
  login,
  type MessageMetadata,
  unlock,
  type UnlockedAccount,
} from "../src/api/mod.ts";
import { UpdateBus } from "../src/connector/update_bus.ts";
import type { UpdateData } from "../src/connector/updates.ts";
import { LiteralCache, Store } from "../src/store/mod.ts";
import {
  applyLabels,
  BuildPool,
  exposedLabelIds,
  messageFlags,
  runInitialSync,
  type SyncApi,
  syncApiFor,
} from "../src/sync/mod.ts";
import type { MessageFetcher } from "../src/sync/event_apply.ts";
import { eventMessageFetcher } from "../src/sync/event_fetcher.ts";
import {
  apiEventSource,
  EventLoop,
  type EventLoopNotice,
  type EventLoopOptions,
} from "../src/sync/event_loop.ts";

const EMAIL = "events@example.test";
const PASSWORD = "event loop password";

interface Harness {
  server: ApiServer;
  client: ApiClient;
  account: UnlockedAccount;
  userID: string;
  store: Store;
  cache: LiteralCache;
  pool: BuildPool;
  bus: UpdateBus;
  loop: EventLoop;
  fetcher: MessageFetcher;
  /** Updates as the recorder subscriber saw them, mailbox IDs as names. */
  seen: unknown[][];
  notices: EventLoopNotice[];
  /** Calls a control route. */
  control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Delivers a received message; returns its ID. */
  deliver(subject: string, extra?: Record<string, unknown>): Promise<string>;
  /** Waits until the loop applied everything the server has, and published it. */
  caughtUp(): Promise<void>;
  /** Drains the recorded updates. */
  take(): unknown[][];
  close(): Promise<void>;
}

async function harness(
  options: {
    seed?: number;
    proxy?: (path: string, json: Record<string, unknown>) => void;
    loop?: (h: () => Harness) => Partial<EventLoopOptions>;
  } = {},
): Promise<Harness> {
  const server = await startApiServer({ port: 0, quiet: true });
  const cleanups: (() => unknown)[] = [() => server.close()];
  try {
    const user = await server.createUser({
      email: EMAIL,
      password: PASSWORD,
      messages: options.seed ?? 0,
    });
    let baseURL = server.url;
    if (options.proxy) {
      const proxy = startProxy(server.url, options.proxy);
      cleanups.unshift(() => proxy.shutdown());
      baseURL = `http://127.0.0.1:${proxy.addr.port}`;
    }
    const client = new ApiClient({
      baseURL,
      appVersion: "linux-bridge@3.21.1",
      sleep: () => Promise.resolve(),
      random: () => 0,
      maxRetries: 1,
    });
    await login(client, {
      username: EMAIL,
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    const account = await unlock(client, PASSWORD);
    const dir = await Deno.makeTempDir({ prefix: "event-loop-test-" });
    cleanups.unshift(() => Deno.remove(dir, { recursive: true }));
    const store = Store.open(`${dir}/index.sqlite`);
    cleanups.unshift(() => store.close());
    const cache = await LiteralCache.open(
      `${dir}/cache`,
      crypto.getRandomValues(new Uint8Array(32)),
    );
    const pool = await BuildPool.create({ keys: account.addressKeys, workers: 0 });
    cleanups.unshift(() => pool.close());
    const labels: Label[] = await getLabels(client);
    applyLabels(store, labels);

    const bus = new UpdateBus({ log: () => {} });
    cleanups.unshift(() => bus.close());
    const seen: unknown[][] = [];
    bus.subscribe("acc", { name: "recorder", onUpdate: (u) => void seen.push(named(store, u)) });
    const fetcher = eventMessageFetcher(syncApiFor(client), pool);
    const notices: EventLoopNotice[] = [];
    const ref: { h?: Harness } = {};
    const loop = new EventLoop({
      account: "acc",
      store,
      source: apiEventSource(client),
      fetcher,
      bus,
      literals: cache,
      labels,
      intervalMs: 50,
      jitterMs: 0,
      retryBaseMs: 20,
      retryMaxMs: 200,
      onNotice: (n) => notices.push(n),
      log: () => {},
      ...options.loop?.(() => ref.h!),
    });
    cleanups.unshift(() => loop.stop());

    const control = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}/ref/v1/${path}`, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json as Record<string, unknown>;
    };
    const h: Harness = {
      server,
      client,
      account,
      userID: user.UserID,
      store,
      cache,
      pool,
      bus,
      loop,
      fetcher,
      seen,
      notices,
      control,
      async deliver(subject, extra = {}) {
        const r = await control("POST", "deliver", {
          To: EMAIL,
          From: { Name: "Sender", Address: "sender@elsewhere.test" },
          Subject: subject,
          Text: `Body of ${subject}`,
          ...extra,
        });
        return r.MessageID as string;
      },
      async caughtUp() {
        const latest = server.events.latest(user.UserID);
        await until(() => store.sync.eventCursor() === latest, `cursor reaches ${latest}`);
        // Ticks are sequential: a finished poll after the commit means its updates were acked.
        await loop.pollNow();
      },
      take() {
        return seen.splice(0);
      },
      async close() {
        for (const c of cleanups) await c();
      },
    };
    ref.h = h;
    return h;
  } catch (e) {
    for (const c of cleanups) await c();
    throw e;
  }
}

/** A tiny HTTP proxy in front of the server that lets a test rewrite event replies. */
function startProxy(
  upstream: string,
  mangle: (path: string, json: Record<string, unknown>) => void,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    headers.delete("host");
    const body = req.method === "GET" || req.method === "HEAD"
      ? undefined
      : new Uint8Array(await req.arrayBuffer());
    const res = await fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers,
      body,
    });
    if (url.pathname.startsWith("/core/v4/events/") && res.ok) {
      const json = await res.json();
      mangle(url.pathname, json);
      return Response.json(json, { status: res.status });
    }
    const out = new Headers(res.headers);
    out.delete("content-length");
    out.delete("content-encoding");
    return new Response(await res.arrayBuffer(), { status: res.status, headers: out });
  });
}

async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function named(store: Store, u: UpdateData): unknown[] {
  const name = (id: number) => store.mailboxes.get(id as never)?.name ?? `#${id}`;
  switch (u.kind) {
    case "MessagesCreated":
    case "MessagesExpunged":
      return [u.kind, name(u.mailbox), u.uids];
    case "MembershipChanged":
      return [
        u.kind,
        u.added.map((r) => `${name(r.mailbox)}:${r.uid}`),
        u.removed.map((r) => `${name(r.mailbox)}:${r.uid}`),
      ];
    case "FlagsChanged":
      return [u.kind, ...u.changes.map((c) => c.flags)];
    case "MailboxCreated":
    case "MailboxDeleted":
      return [u.kind, u.name];
    case "MailboxRenamed":
      return [u.kind, u.oldName, u.newName];
    case "UidValidityBumped":
      return [u.kind, u.mailboxes.length];
  }
}

/** mailbox name → remote message ID → UID. */
type Snapshot = Map<string, Map<string, number>>;

function snapshot(store: Store): Snapshot {
  const out: Snapshot = new Map();
  for (const m of store.mailboxes.list()) {
    const rows = store.membership.fetchRows(m.id, [{
      first: 1 as never,
      last: 0xFFFF_FFFF as never,
    }]);
    out.set(m.name, new Map(rows.map((r) => [r.remoteId ?? "", r.uid as number])));
  }
  return out;
}

/** Memberships present before and after keep their UID. */
function assertUidsKept(before: Snapshot, after: Snapshot): void {
  for (const [mailbox, rows] of before) {
    for (const [id, uid] of rows) {
      const now = after.get(mailbox)?.get(id);
      if (now !== undefined) assert.equal(now, uid, `${id} in ${mailbox} changed UID`);
    }
  }
}

function uidNexts(store: Store): Map<number, number> {
  return new Map(store.mailboxes.list().map((m) => [m.id as number, m.uidNext as number]));
}

function assertUidNextGrew(before: Map<number, number>, store: Store): void {
  for (const m of store.mailboxes.list()) {
    const was = before.get(m.id);
    if (was !== undefined) assert.ok(m.uidNext >= was, `UIDNEXT of ${m.name} decreased`);
  }
}

/** The index holds exactly the server's messages, in the right mailboxes, with the right flags. */
async function assertMatchesServer(h: Harness): Promise<void> {
  const { Messages } = await h.control("GET", `users/${EMAIL}/messages`) as unknown as {
    Messages: MessageMetadata[];
  };
  const want = new Map<string, string[]>();
  for (const m of Messages) {
    for (const label of exposedLabelIds(m.LabelIDs)) {
      const box = h.store.mailboxes.byRemoteId(label)!;
      assert.ok(box, `no mailbox for label ${label}`);
      want.set(box.name, [...(want.get(box.name) ?? []), m.ID]);
    }
    const id = h.store.messages.byRemoteId(m.ID as never);
    assert.ok(id !== undefined, `message ${m.ID} is not indexed`);
    assert.equal(h.store.messages.get(id)!.flags, messageFlags(m), `flags of ${m.ID}`);
  }
  const have = snapshot(h.store);
  for (const [name, rows] of have) {
    assert.deepEqual([...rows.keys()].sort(), (want.get(name) ?? []).sort(), `mailbox ${name}`);
  }
  assert.equal(h.store.messages.count(), Messages.length);
}

/** The real first sync (`runInitialSync`) into the harness's index and cache. */
async function firstSync(h: Harness, api: SyncApi = syncApiFor(h.client)): Promise<void> {
  const result = await runInitialSync({ api, store: h.store, cache: h.cache, builder: h.pool });
  assert.equal(result.status, "complete");
}

Deno.test("events: new mail, flags, star, move, labels, delete, folders, refresh reach index and bus in order", async () => {
  const h = await harness({ loop: (self) => ({ resync: () => firstSync(self()) }) });
  try {
    await h.loop.start();
    h.loop.resume();
    const user = `users/${EMAIL}`;

    let snap = snapshot(h.store);
    let nexts = uidNexts(h.store);
    const step = async (expected: unknown[][]) => {
      await h.caughtUp();
      assert.deepEqual(h.take(), expected);
      await assertMatchesServer(h);
      const now = snapshot(h.store);
      assertUidsKept(snap, now);
      assertUidNextGrew(nexts, h.store);
      snap = now;
      nexts = uidNexts(h.store);
    };

    // New mail (one event each).
    const m1 = await h.deliver("one");
    await step([["MessagesCreated", "INBOX", [1]], ["MessagesCreated", "All Mail", [1]]]);
    const m2 = await h.deliver("two");
    await step([["MessagesCreated", "INBOX", [2]], ["MessagesCreated", "All Mail", [2]]]);
    const m3 = await h.deliver("three", { LabelIDs: ["6"] });
    await step([["MessagesCreated", "Archive", [1]], ["MessagesCreated", "All Mail", [3]]]);
    // The literal the loop cached is the build FETCH BODY[] will serve.
    const cached = await h.cache.get(h.store.messages.byRemoteId(m1 as never)!);
    assert.match(new TextDecoder().decode(cached), /Subject: one\r\n[\s\S]*Body of one/);

    // Read, unread (\Seen = 1), star (\Flagged = 2 plus the Starred mailbox).
    await h.control("POST", `${user}/messages/read`, { IDs: [m1] });
    await step([["FlagsChanged", 1]]);
    await h.control("POST", `${user}/messages/unread`, { IDs: [m1] });
    await step([["FlagsChanged", 0]]);
    await h.control("POST", `${user}/messages/label`, { LabelID: "10", IDs: [m2] });
    await step([["FlagsChanged", 2], ["MembershipChanged", ["Starred:1"], []]]);

    // Move Inbox → Archive: the All Mail UID stays.
    await h.control("POST", `${user}/messages/move`, { LabelID: "6", IDs: [m1] });
    await step([["MembershipChanged", ["Archive:2"], ["INBOX:1"]]]);

    // Label create, add, remove.
    const { Label: important } = await h.control("POST", `${user}/labels`, {
      Name: "Important",
      Type: 1,
    }) as { Label: Label };
    await step([["MailboxCreated", "Labels/Important"]]);
    await h.control("POST", `${user}/messages/label`, { LabelID: important.ID, IDs: [m2, m3] });
    await step([
      ["MembershipChanged", ["Labels/Important:1"], []],
      ["MembershipChanged", ["Labels/Important:2"], []],
    ]);
    await h.control("POST", `${user}/messages/unlabel`, { LabelID: important.ID, IDs: [m2] });
    await step([["MembershipChanged", [], ["Labels/Important:1"]]]);

    // Folder create, move into it, rename (UIDs and UIDVALIDITY stay), sub-folder.
    const { Label: work } = await h.control("POST", `${user}/labels`, {
      Name: "Work",
      Type: 3,
    }) as { Label: Label };
    await step([["MailboxCreated", "Folders/Work"]]);
    await h.control("POST", `${user}/messages/move`, { LabelID: work.ID, IDs: [m2] });
    await step([["MembershipChanged", ["Folders/Work:1"], ["INBOX:2"]]]);
    const { Label: sub } = await h.control("POST", `${user}/labels`, {
      Name: "2024",
      Type: 3,
      ParentID: work.ID,
    }) as { Label: Label };
    await step([["MailboxCreated", "Folders/Work/2024"]]);
    const workBox = h.store.mailboxes.byRemoteId(work.ID as never)!;
    await h.control("PUT", `${user}/labels/${work.ID}`, { Name: "Job" });
    await step([
      ["MailboxRenamed", "Folders/Work", "Folders/Job"],
      ["MailboxRenamed", "Folders/Work/2024", "Folders/Job/2024"],
    ]);
    const jobBox = h.store.mailboxes.byRemoteId(work.ID as never)!;
    assert.equal(jobBox.id, workBox.id);
    assert.equal(jobBox.uidValidity, workBox.uidValidity);
    assert.equal(h.store.mailboxes.byRemoteId(sub.ID as never)!.name, "Folders/Job/2024");

    // Delete a message.
    await h.control("POST", `${user}/messages/delete`, { IDs: [m3] });
    await step([
      ["MessagesExpunged", "Archive", [1]],
      ["MessagesExpunged", "All Mail", [3]],
      ["MessagesExpunged", "Labels/Important", [2]],
    ]);

    // Delete the folder (and its sub-folder): m2 keeps All Mail and Starred only.
    await h.control("DELETE", `${user}/labels/${work.ID}`);
    await step([
      ["MailboxDeleted", "Folders/Job/2024"],
      ["MailboxDeleted", "Folders/Job"],
    ]);

    // Refresh: rebuild with larger UIDVALIDITYs, resync, messages back under new UIDs.
    const before = new Map(h.store.mailboxes.list().map((m) => [m.name, m]));
    await h.control("POST", `${user}/refresh`, { Refresh: 1 });
    await h.caughtUp();
    const seen = h.take();
    assert.deepEqual(seen[0], ["UidValidityBumped", before.size]);
    assert.equal(seen.length, 1);
    await assertMatchesServer(h);
    for (const m of h.store.mailboxes.list()) {
      const was = before.get(m.name)!;
      assert.ok(m.uidValidity > was.uidValidity, `UIDVALIDITY of ${m.name} grew`);
      assert.ok(m.uidNext >= was.uidNext, `UIDNEXT of ${m.name} kept`);
    }
    assert.ok(h.notices.some((n) => n.kind === "refresh"));
    assert.equal(h.loop.status().skippedEvents, 0);
  } finally {
    await h.close();
  }
});

Deno.test("events during a first sync are replayed from the cursor taken before it", async () => {
  const h = await harness({ seed: 4 });
  try {
    await h.loop.start(); // paused; the cursor is taken now, before the sync begins
    const cursor = h.store.sync.eventCursor();
    assert.ok(cursor);
    const user = `users/${EMAIL}`;
    const { Messages: listed } = await h.control("GET", `${user}/messages`) as unknown as {
      Messages: MessageMetadata[];
    };
    assert.equal(listed.length, 4);
    // After the sync listed the messages and before it downloads any, other clients change
    // things: new mail, a read, a star, a delete.
    let fresh = "";
    let changes: Promise<void> | undefined;
    const change = async () => {
      fresh = await h.deliver("arrived during sync");
      await h.control("POST", `${user}/messages/read`, { IDs: [listed[0].ID] });
      await h.control("POST", `${user}/messages/label`, { LabelID: "10", IDs: [listed[1].ID] });
      await h.control("POST", `${user}/messages/delete`, { IDs: [listed[2].ID] });
    };
    const api = syncApiFor(h.client);
    await firstSync(h, {
      ...api,
      async message(id) {
        await (changes ??= change());
        return api.message(id);
      },
    });
    assert.equal(h.store.sync.eventCursor(), cursor);
    assert.equal(h.store.messages.byRemoteId(fresh as never), undefined);
    const afterSync = snapshot(h.store);
    const nextAfterSync = new Map(h.store.mailboxes.list().map((m) => [m.name, m.uidNext]));
    h.take();

    h.loop.resume();
    await h.caughtUp();
    await assertMatchesServer(h);
    assertUidsKept(afterSync, snapshot(h.store));
    assert.ok(h.store.messages.byRemoteId(fresh as never) !== undefined);
    assert.equal(h.store.messages.byRemoteId(listed[2].ID as never), undefined);
    // Replaying created nothing twice: every new UID is above what the sync had handed out.
    const seen = h.take();
    for (const u of seen) {
      if (u[0] !== "MessagesCreated") continue;
      for (const uid of u[2] as number[]) {
        assert.ok(uid >= nextAfterSync.get(u[1] as string)!, `${u[1]} UID ${uid} is new`);
      }
    }
    assert.ok(seen.some((u) => u[0] === "MessagesCreated" && u[1] === "INBOX"));
  } finally {
    await h.close();
  }
});

Deno.test("a malformed event is reported and retried, then applied without its bad item; the loop goes on", async () => {
  let mangled = 0;
  const h = await harness({
    loop: () => ({ maxBadEventAttempts: 3 }),
    proxy: (_path, json) => {
      for (const item of (json.Messages ?? []) as { Action: number; Message?: MessageMetadata }[]) {
        if (item.Action === 1 && item.Message?.Subject === "MANGLE ME") {
          (item.Message as unknown as Record<string, unknown>).LabelIDs = "not a list";
          mangled++;
        }
      }
    },
  });
  try {
    await h.loop.start();
    h.loop.resume();
    const bad = await h.deliver("MANGLE ME");
    const good = await h.deliver("fine");
    await h.caughtUp();
    assert.ok(mangled >= 3, `the bad event was served ${mangled} times`);
    assert.equal(h.store.messages.byRemoteId(bad as never), undefined);
    assert.ok(h.store.messages.byRemoteId(good as never) !== undefined);
    // The bad event is tried three times, then applied without its bad item. When the first poll
    // falls between the two deliveries, the server's next answer is a later event holding both
    // changes, so a first attempt under another event ID can come before those three.
    const bads = h.notices.filter((n) => n.kind.startsWith("bad-event")) as unknown as {
      kind: string;
      eventId: string;
      attempt?: number;
    }[];
    const last = bads.slice(-4);
    assert.deepEqual(last.map((n) => n.kind), [
      "bad-event",
      "bad-event",
      "bad-event",
      "bad-event-partially-applied",
    ]);
    assert.deepEqual(last.slice(0, 3).map((n) => n.attempt), [1, 2, 3]);
    assert.equal(new Set(last.map((n) => n.eventId)).size, 1, "the three attempts are one event's");
    assert.ok(bads.length <= 5, `at most one earlier attempt: ${JSON.stringify(bads)}`);
    const status = h.loop.status();
    assert.equal(status.state, "running");
    assert.equal(status.consecutiveFailures, 0);
    // The next change to the dropped message (unmangled) brings it in.
    await h.control("POST", `users/${EMAIL}/messages/read`, { IDs: [bad] });
    await h.caughtUp();
    await assertMatchesServer(h);
  } finally {
    await h.close();
  }
});

Deno.test("500s, 429 Retry-After and dropped connections on the feed are retried until the index converges", async () => {
  const h = await harness();
  try {
    await h.loop.start();
    h.loop.resume();
    await h.control("POST", "faults", {
      Method: "GET",
      Path: "/core/v4/events/:id",
      Status: 500,
      Count: 5,
    });
    await h.control("POST", "faults", {
      Method: "GET",
      Path: "/core/v4/events/:id",
      Status: 429,
      RetryAfter: 1,
      Count: 3,
    });
    await h.control("POST", "faults", {
      Method: "GET",
      Path: "/mail/v4/messages/:id",
      Drop: true,
      Count: 3,
    });
    const ids = [await h.deliver("a"), await h.deliver("b"), await h.deliver("c")];
    await h.control("POST", `users/${EMAIL}/messages/read`, { IDs: [ids[0]] });
    await h.caughtUp();
    await assertMatchesServer(h);
    const transient = h.notices.filter((n) => n.kind === "transient-error").length;
    assert.ok(transient >= 2, `transient errors reported: ${transient}`);
    assert.equal(h.loop.status().consecutiveFailures, 0);
    assert.equal(h.loop.status().skippedEvents, 0);
    const { Faults } = await h.control("GET", "faults") as { Faults: unknown[] };
    assert.deepEqual(Faults, []);
  } finally {
    await h.close();
  }
});
