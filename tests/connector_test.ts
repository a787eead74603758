/**
 * The account connector over real HTTP against the reference server (`src/api_server`): an
 * account with a few delivered messages is synced, then every mutation goes through the
 * connector as an IMAP session would (origin `s1`) and the test checks
 *
 * - that the change reached the server (read back through the API),
 * - that the index holds the result (UIDs, flags, memberships),
 * - that the right updates were published with the origin,
 * - and, at the end, that the event loop replaying the server's events for all of it changes
 *   nothing more (same index dump, no update published by the loop, no duplicate UIDs).
 *
 * Covered: STORE \Seen / \Flagged / $Forwarded / keywords / \Deleted, a STORE the API refuses;
 * COPY to a label and to a folder; MOVE label → folder and folder → label; EXPUNGE in a folder and
 * in Trash (permanent delete); APPEND to INBOX (import, FETCH literal matches), to Drafts twice
 * with the old one expunged (one draft left), refused (recovery mailbox); CREATE / RENAME /
 * DELETE of folders and labels; literal() after a cache loss.
 */
import assert from "node:assert/strict";
import { type ApiServer, startApiServer } from "../src/api_server/mod.ts";
import {
  ApiClient,
  countMessages,
  getLabels,
  getMessageMetadataPage,
  type Label,
  login,
  type MessageMetadata,
  SystemLabel,
  unlock,
  type UnlockedAccount,
} from "../src/api/mod.ts";
import { MailboxOperationError } from "../src/connector/account.ts";
import { type AccountApi, accountApiFor } from "../src/connector/account_api.ts";
import {
  type AccountConnector,
  createAccountConnector,
} from "../src/connector/account_connector.ts";
import { RECOVERY_MAILBOX_NAME } from "../src/connector/recovery_mailbox.ts";
import { SerialQueue } from "../src/connector/serial_queue.ts";
import { ReadBacks } from "../src/connector/read_backs.ts";
import { UpdateBus } from "../src/connector/update_bus.ts";
import type { UpdateData } from "../src/connector/updates.ts";
import {
  type InternalMessageId,
  LiteralCache,
  type Mailbox,
  MessageFlag,
  type RemoteMessageId,
  Store,
  type Uid,
} from "../src/store/mod.ts";
import { decodeTransfer, parseMessage } from "../src/mime/mod.ts";
import { BuildPool, runInitialSync, syncApiFor } from "../src/sync/mod.ts";
import { eventMessageFetcher } from "../src/sync/event_fetcher.ts";
import { apiEventSource, EventLoop } from "../src/sync/event_loop.ts";
import { dumpIndex } from "../src/sync/_sync_test_utils.ts";

const EMAIL = "connector@example.test";
const PASSWORD = "connector test password";
const ORIGIN = "s1";

interface Seen {
  origin: string | undefined;
  update: UpdateData;
}

interface Harness {
  server: ApiServer;
  client: ApiClient;
  account: UnlockedAccount;
  api: AccountApi;
  store: Store;
  cache: LiteralCache;
  bus: UpdateBus;
  loop: EventLoop;
  connector: AccountConnector;
  seen: Seen[];
  userID: string;
  ids: Record<string, string>;
  control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function harness(): Promise<Harness> {
  const server = await startApiServer({ port: 0, quiet: true });
  const cleanups: (() => unknown)[] = [() => server.close()];
  try {
    const user = await server.createUser({ email: EMAIL, password: PASSWORD, messages: 0 });
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
    const ids: Record<string, string> = {};
    for (const name of ["m1", "m2", "m3", "m4", "m5", "m6"]) {
      const r = await control("POST", "deliver", {
        To: EMAIL,
        From: { Name: "Sender", Address: "sender@elsewhere.test" },
        Subject: `Subject ${name}`,
        Text: `Body of ${name}`,
      });
      ids[name] = r.MessageID as string;
    }
    const client = new ApiClient({
      baseURL: server.url,
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
    const dir = await Deno.makeTempDir({ prefix: "connector-test-" });
    cleanups.unshift(() => Deno.remove(dir, { recursive: true }));
    const store = Store.open(`${dir}/index.sqlite`);
    cleanups.unshift(() => store.close());
    const cache = await LiteralCache.open(`${dir}/cache`, new Uint8Array(32).fill(3));
    const pool = await BuildPool.create({ keys: account.addressKeys, workers: 0 });
    cleanups.unshift(() => pool.close());
    const result = await runInitialSync({
      api: syncApiFor(client),
      store,
      cache,
      builder: pool,
      account: EMAIL,
    });
    assert.equal(result.synced, 6);

    const bus = new UpdateBus({ log: () => {} });
    cleanups.unshift(() => bus.close());
    const seen: Seen[] = [];
    bus.subscribe("acc", {
      name: "recorder",
      onUpdate: (u) => {
        const { applied: _a, ack: _k, acked: _d, origin, ...update } = u as unknown as
          & Record<string, unknown>
          & { origin?: string };
        seen.push({ origin, update: update as unknown as UpdateData });
      },
    });
    const labels: Label[] = await getLabels(client);
    const fetcher = eventMessageFetcher(syncApiFor(client), pool);
    // The account's change queue and read-backs, as serve shares them with the loop.
    const queue = new SerialQueue();
    const readBacks = new ReadBacks();
    const loop = new EventLoop({
      exclusive: (commit) => queue.run(commit),
      readBacks,
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
      log: () => {},
    });
    cleanups.unshift(() => loop.stop());
    await loop.start(); // takes the cursor now; stays paused until resume()

    const api = accountApiFor(client);
    const connector = createAccountConnector({
      id: "acc",
      primaryEmail: EMAIL,
      store,
      bus,
      client,
      keys: account,
      literals: cache,
      builder: pool,
      log: () => {},
      queue,
      readBacks,
    });
    return {
      server,
      client,
      account,
      api,
      store,
      cache,
      bus,
      loop,
      connector,
      seen,
      userID: user.UserID,
      ids,
      control,
      async close() {
        for (const c of cleanups) await c();
      },
    };
  } catch (e) {
    for (const c of cleanups) await c();
    throw e;
  }
}

function box(h: Harness, name: string): Mailbox {
  const m = h.store.mailboxes.byName(name);
  assert.ok(m, `mailbox ${name} exists`);
  return m;
}

function internal(h: Harness, remoteId: string): InternalMessageId {
  const id = h.store.messages.byRemoteId(remoteId as RemoteMessageId);
  assert.ok(id !== undefined, `message ${remoteId} is indexed`);
  return id;
}

function uidIn(h: Harness, mailbox: string, remoteId: string): Uid | undefined {
  const id = h.store.messages.byRemoteId(remoteId as RemoteMessageId);
  if (id === undefined) return undefined;
  return h.store.membership.uidOf(box(h, mailbox).id, id);
}

async function remote(h: Harness, remoteId: string): Promise<MessageMetadata | undefined> {
  return (await h.api.metadata([remoteId]))[0];
}

/** The updates published since the last call (all with origin s1, checked). */
function take(h: Harness): UpdateData[] {
  const out = h.seen.splice(0);
  for (const s of out) assert.equal(s.origin, ORIGIN, `origin of ${s.update.kind}`);
  return out.map((s) => s.update);
}

async function settle(): Promise<void> {
  // The recorder runs on the bus's callback loop: let it drain.
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

/**
 * Lets the event loop replay what the server's feed says since the last call, then pauses it:
 * nothing may change (same index dump, no update published, no duplicate UIDs).
 */
async function replayChangesNothing(h: Harness): Promise<void> {
  assert.deepEqual(take(h), [], "every update was looked at before the replay");
  const before = await dumpIndex(h.store, h.cache);
  await catchUp(h);
  assert.deepEqual(h.seen.splice(0).map((s) => s.update), [], "the replay published nothing");
  assert.equal(await dumpIndex(h.store, h.cache), before, "the replay changed nothing");
  for (const m of h.store.mailboxes.list()) {
    const uids = h.store.membership.uids(m.id);
    assert.equal(new Set(uids).size, uids.length);
  }
}

/** Lets the event loop apply everything the server's feed has, then pauses it. */
async function catchUp(h: Harness): Promise<void> {
  h.loop.resume();
  const latest = h.server.events.latest(h.userID);
  const end = Date.now() + 20_000;
  while (h.store.sync.eventCursor() !== latest) {
    if (Date.now() > end) throw new Error("the event loop did not catch up");
    await new Promise((r) => setTimeout(r, 10));
  }
  await h.loop.pollNow();
  h.loop.pause();
  await settle();
}

/** The updates of the last mutation (origin checked), after which the replay changes nothing. */
async function done(h: Harness): Promise<UpdateData[]> {
  await settle();
  const updates = take(h);
  await replayChangesNothing(h);
  return updates;
}

function kinds(updates: UpdateData[]): string[] {
  return updates.map((u) => u.kind);
}

function draftLiteral(
  subject: string,
  body: string,
  messageId = `${crypto.randomUUID()}@example.test`,
): Uint8Array {
  return new TextEncoder().encode(
    `From: Me <${EMAIL}>\r\nTo: Friend <friend@elsewhere.test>\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${messageId}>\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
  );
}

Deno.test({
  name:
    "connector: every mutation reaches the API, the index and the bus; the event loop replays nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const h = await harness();
    try {
      const { connector: c, ids } = h;

      await t.step("CREATE Folders/Work, Folders/Work/2024, Labels/Tag", async () => {
        const work = await c.createMailbox(ORIGIN, "Folders/Work");
        const nested = await c.createMailbox(ORIGIN, "Folders/Work/2024");
        const tag = await c.createMailbox(ORIGIN, "Labels/Tag");
        assert.equal(work.name, "Folders/Work");
        assert.equal(nested.name, "Folders/Work/2024");
        assert.equal(tag.kind, "label");
        assert.deepEqual(
          (await done(h)).map((u) => u.kind === "MailboxCreated" ? u.name : u.kind),
          ["Folders/Work", "Folders/Work/2024", "Labels/Tag"],
        );
        const onServer = await getLabels(h.client);
        const folder = onServer.find((l) => l.Name === "2024")!;
        assert.equal(folder.ParentID, work.remoteId);
        assert.ok(onServer.some((l) => l.Name === "Tag" && l.Type === 1));
        await assert.rejects(
          c.createMailbox(ORIGIN, "Folders/Nope/x"),
          (e) => e instanceof MailboxOperationError && e.code === "NONEXISTENT",
        );
        await assert.rejects(
          c.createMailbox(ORIGIN, "Elsewhere"),
          (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
        );
        await assert.rejects(
          c.createMailbox(ORIGIN, "Labels/Tag"),
          (e) => e instanceof MailboxOperationError && e.code === "ALREADYEXISTS",
        );
        // The index has no "Labels/tag", but the API compares names without case (Code 2500).
        await assert.rejects(
          c.createMailbox(ORIGIN, "Labels/tag"),
          (e) =>
            e instanceof MailboxOperationError && e.code === "ALREADYEXISTS" &&
            /server refused/.test(e.message),
        );
        // A typed ∕ (how a "/" inside a name is shown) reaches the API as ∕, which it accepts.
        const slashed = await c.createMailbox(ORIGIN, "Labels/a\u2215b");
        assert.equal(slashed.name, "Labels/a\u2215b");
        assert.ok((await getLabels(h.client)).some((l) => l.Name === "a\u2215b" && l.Type === 1));
        await done(h);
      });

      const inbox = box(h, "INBOX");

      await t.step("STORE \\Seen and \\Flagged reach the API; Starred follows", async () => {
        const uid = uidIn(h, "INBOX", ids.m1)!;
        const r = await c.storeFlags(ORIGIN, inbox.id, [uid], { mode: "add", flags: ["\\Seen"] });
        assert.equal(r.updates.length, 1);
        assert.ok(r.updates[0].flags & MessageFlag.Seen);
        assert.equal((await remote(h, ids.m1))!.Unread, 0);
        assert.deepEqual(kinds(await done(h)), ["FlagsChanged"]);

        await c.storeFlags(ORIGIN, inbox.id, [uid], { mode: "add", flags: ["\\Flagged"] });
        assert.ok((await remote(h, ids.m1))!.LabelIDs.includes(SystemLabel.Starred));
        assert.ok(uidIn(h, "Starred", ids.m1) !== undefined);
        const u = await done(h);
        assert.deepEqual(kinds(u), ["FlagsChanged", "MembershipChanged"]);

        await c.storeFlags(ORIGIN, inbox.id, [uid], { mode: "remove", flags: ["\\Seen"] });
        assert.equal((await remote(h, ids.m1))!.Unread, 1);
        await done(h);
      });

      await t.step(
        "STORE $Forwarded reaches the API; keywords and \\Answered stay local",
        async () => {
          const uid = uidIn(h, "INBOX", ids.m2)!;
          const r = await c.storeFlags(ORIGIN, inbox.id, [uid], {
            mode: "add",
            flags: ["Forwarded", "$Label1"],
          });
          assert.equal(r.updates.length, 1);
          const stored = h.store.messages.get(internal(h, ids.m2))!;
          assert.ok(stored.flags & MessageFlag.Forwarded);
          assert.deepEqual(stored.keywords, ["$Label1"]);
          assert.equal((await remote(h, ids.m2))!.IsForwarded, 1);
          assert.deepEqual(kinds(await done(h)), ["FlagsChanged"]);

          await c.storeFlags(ORIGIN, inbox.id, [uid], { mode: "remove", flags: ["$Forwarded"] });
          assert.equal((await remote(h, ids.m2))!.IsForwarded, 0);
          assert.deepEqual(h.store.messages.get(internal(h, ids.m2))!.keywords, ["$Label1"]);
          await done(h);

          // \Answered and keywords: local only, no API call (so no event either).
          const before = (await remote(h, ids.m2))!;
          const r2 = await c.storeFlags(ORIGIN, inbox.id, [uid], {
            mode: "add",
            flags: ["\\Answered", "$Label2"],
          });
          assert.equal(r2.updates.length, 1);
          const after = h.store.messages.get(internal(h, ids.m2))!;
          assert.ok(after.flags & MessageFlag.Answered);
          assert.deepEqual(after.keywords, ["$Label1", "$Label2"]);
          assert.deepEqual(await remote(h, ids.m2), before);
          assert.deepEqual(kinds(await done(h)), ["FlagsChanged"]);
        },
      );

      await t.step("STORE \\Deleted is per mailbox; a refused STORE changes nothing", async () => {
        const uid = uidIn(h, "INBOX", ids.m3)!;
        const r = await c.storeFlags(ORIGIN, inbox.id, [uid], {
          mode: "add",
          flags: ["\\Deleted"],
        });
        assert.deepEqual(r.deletedChanged, [uid]);
        assert.deepEqual(r.updates, []);
        const rows = h.store.membership.flagRows(inbox.id, [{ first: uid, last: uid }]);
        assert.equal(rows[0].deleted, true);
        const allMail = box(h, "All Mail");
        const inAll = h.store.membership.uidOf(allMail.id, internal(h, ids.m3))!;
        assert.equal(
          h.store.membership.flagRows(allMail.id, [{ first: inAll, last: inAll }])[0].deleted,
          false,
        );
        const u = await done(h);
        assert.deepEqual(kinds(u), ["FlagsChanged"]);
        await c.storeFlags(ORIGIN, inbox.id, [uid], { mode: "remove", flags: ["\\Deleted"] });
        await done(h);

        await h.control("POST", "faults", {
          Method: "PUT",
          Path: "/mail/v4/messages/read",
          Status: 422,
          Code: 2001,
          Error: "no",
          Count: 5,
        });
        const before = await dumpIndex(h.store, h.cache);
        await assert.rejects(
          c.storeFlags(ORIGIN, inbox.id, [uid], { mode: "add", flags: ["\\Seen"] }),
          (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
        );
        await h.control("DELETE", "faults");
        assert.equal(await dumpIndex(h.store, h.cache), before);
        assert.deepEqual(await done(h), []);
      });

      const tag = box(h, "Labels/Tag");
      const work = box(h, "Folders/Work");

      await t.step("COPY to a label adds it; COPY to a folder moves", async () => {
        const u4 = uidIn(h, "INBOX", ids.m4)!;
        const r = await c.copy(ORIGIN, inbox.id, [u4], tag.id);
        assert.deepEqual(r.sourceUids, [u4]);
        assert.deepEqual(r.destUids, [uidIn(h, "Labels/Tag", ids.m4)]);
        assert.equal(r.uidValidity, tag.uidValidity);
        assert.ok(uidIn(h, "INBOX", ids.m4) !== undefined);
        const m4 = (await remote(h, ids.m4))!;
        assert.ok(m4.LabelIDs.includes(tag.remoteId!) && m4.LabelIDs.includes("0"));

        const u5 = uidIn(h, "INBOX", ids.m5)!;
        const r5 = await c.copy(ORIGIN, inbox.id, [u5], work.id);
        assert.deepEqual(r5.destUids, [uidIn(h, "Folders/Work", ids.m5)]);
        assert.equal(uidIn(h, "INBOX", ids.m5), undefined);
        const m5 = (await remote(h, ids.m5))!;
        assert.ok(m5.LabelIDs.includes(work.remoteId!) && !m5.LabelIDs.includes("0"));
        assert.deepEqual(kinds(await done(h)), ["MembershipChanged", "MembershipChanged"]);

        await assert.rejects(
          c.copy(ORIGIN, inbox.id, [u4], box(h, "All Mail").id),
          (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
        );
      });

      await t.step(
        "MOVE label → folder leaves the label; folder → label keeps the folder",
        async () => {
          const fromTag = uidIn(h, "Labels/Tag", ids.m4)!;
          const r = await c.move(ORIGIN, tag.id, [fromTag], work.id);
          assert.deepEqual(r.expunged, [fromTag]);
          assert.equal(uidIn(h, "Labels/Tag", ids.m4), undefined);
          assert.equal(uidIn(h, "INBOX", ids.m4), undefined);
          assert.deepEqual(r.destUids, [uidIn(h, "Folders/Work", ids.m4)]);
          const m4 = (await remote(h, ids.m4))!;
          assert.ok(m4.LabelIDs.includes(work.remoteId!));
          assert.ok(!m4.LabelIDs.includes(tag.remoteId!));

          const fromWork = uidIn(h, "Folders/Work", ids.m5)!;
          const r5 = await c.move(ORIGIN, work.id, [fromWork], tag.id);
          assert.deepEqual(r5.expunged, []);
          assert.equal(uidIn(h, "Folders/Work", ids.m5), fromWork);
          assert.ok(uidIn(h, "Labels/Tag", ids.m5) !== undefined);
          assert.deepEqual(kinds(await done(h)), ["MembershipChanged", "MembershipChanged"]);

          await assert.rejects(
            c.move(ORIGIN, inbox.id, [uidIn(h, "INBOX", ids.m1)!], box(h, "Sent").id),
            (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
          );
        },
      );

      await t.step("EXPUNGE in a folder unlabels; in Trash deletes for good", async () => {
        const u4 = uidIn(h, "Folders/Work", ids.m4)!;
        await c.storeFlags(ORIGIN, work.id, [u4], { mode: "add", flags: ["\\Deleted"] });
        await done(h);
        assert.deepEqual(await c.expunge(ORIGIN, work.id), [u4]);
        assert.equal(uidIn(h, "Folders/Work", ids.m4), undefined);
        assert.ok(uidIn(h, "All Mail", ids.m4) !== undefined);
        assert.deepEqual((await remote(h, ids.m4))!.LabelIDs, [SystemLabel.AllMail]);
        assert.deepEqual(kinds(await done(h)), ["MembershipChanged"]);

        const trash = box(h, "Trash");
        const moved = await c.move(ORIGIN, inbox.id, [uidIn(h, "INBOX", ids.m6)!], trash.id);
        const u6 = moved.destUids[0];
        await c.storeFlags(ORIGIN, trash.id, [u6], { mode: "add", flags: ["\\Deleted"] });
        await done(h);
        assert.deepEqual(await c.expunge(ORIGIN, trash.id, [u6]), [u6]);
        assert.equal(h.store.messages.byRemoteId(ids.m6 as RemoteMessageId), undefined);
        assert.equal(await remote(h, ids.m6), undefined);
        const u = await done(h);
        assert.deepEqual(kinds(u), ["MessagesExpunged", "MessagesExpunged"]);

        // All Mail: nothing to expunge is no error, and \Deleted is not kept there.
        const all = box(h, "All Mail").id;
        assert.deepEqual(await c.expunge(ORIGIN, all), []);
        const someUid = h.store.membership.uids(all)[0];
        const stored = await c.storeFlags(ORIGIN, all, [someUid], {
          mode: "add",
          flags: ["\\Deleted"],
        });
        assert.deepEqual(stored.deletedChanged, []);
        assert.deepEqual(h.store.membership.search(all, { deleted: true }), []);
        assert.deepEqual(await c.expunge(ORIGIN, all), []);
      });

      await t.step(
        "APPEND to INBOX imports; FETCH gives the server's copy with the body",
        async () => {
          const literal = new TextEncoder().encode(
            "From: Someone <someone@elsewhere.test>\r\nTo: <" + EMAIL + ">\r\n" +
              "Subject: Appended\r\nDate: Mon, 02 Jan 2023 08:00:00 +0000\r\n" +
              "Message-ID: <appended-1@elsewhere.test>\r\n" +
              "Received: from elsewhere.test by mx\r\n" +
              "Content-Type: text/plain; charset=iso-8859-1\r\n" +
              "Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
              "Caf=E9 body text of the appended message\r\n",
          );
          const r = await c.append(ORIGIN, inbox.id, {
            literal,
            flags: ["\\Seen", "$Custom"],
          });
          assert.equal(r.mailbox, inbox.id);
          assert.equal(r.recovered, undefined);
          assert.equal(r.uidValidity, inbox.uidValidity);
          const id = h.store.membership.messageAt(inbox.id, r.uid)!;
          const stored = h.store.messages.get(id)!;
          assert.ok(stored.remoteId);
          assert.deepEqual(stored.keywords, ["$Custom"]);
          assert.ok(stored.flags & MessageFlag.Seen);
          const bytes = await c.literal(id);
          const text = new TextDecoder().decode(bytes);
          assert.ok(text.includes("body text of the appended message"), text);
          assert.match(text, /Caf(=C3=A9|é)/);
          assert.equal(bytes.length, stored.size);
          const meta = (await remote(h, stored.remoteId!))!;
          assert.ok(meta.LabelIDs.includes("0"));
          assert.equal(meta.Unread, 0);
          const u = await done(h);
          assert.deepEqual(kinds(u), ["MessagesCreated", "MessagesCreated", "FlagsChanged"]);

          // literal() after a cache loss: rebuilt, same bytes, cached again.
          await h.cache.delete(id);
          assert.deepEqual(await c.literal(id), bytes);
          assert.deepEqual(await h.cache.get(id), bytes);

          // The same bytes APPENDed to another mailbox (a client moving the message by APPEND
          // and delete): the message is labelled there, not imported a second time.
          const labels = box(h, "Labels/Tag");
          const before = h.store.messages.count();
          const again = await c.append(ORIGIN, labels.id, { literal: bytes, flags: ["\\Seen"] });
          assert.equal(again.mailbox, labels.id);
          assert.equal(h.store.membership.messageAt(labels.id, again.uid), id, "the same message");
          assert.equal(h.store.messages.count(), before, "no second message");
          assert.ok((await remote(h, stored.remoteId!))!.LabelIDs.includes(labels.remoteId!));
          await done(h);
          // Other bytes with its X-Pm-Internal-Id are imported as before.
          const edited = new TextEncoder().encode(
            text.replace("Subject: Appended", "Subject: Edited"),
          );
          const other = await c.append(ORIGIN, labels.id, { literal: edited, flags: [] });
          assert.notEqual(h.store.membership.messageAt(labels.id, other.uid), id);
          assert.equal(h.store.messages.count(), before + 1);
          await done(h);
        },
      );

      await t.step(
        "APPEND with an attachment, an alternative, a draft with a file, to Sent",
        async () => {
          const attachment = new Uint8Array(3000).map((_, i) => (i * 7) & 255);
          const b64 = btoa(String.fromCharCode(...attachment)).replace(/.{76}/g, "$&\r\n");
          const mixed = new TextEncoder().encode(
            `From: Someone <someone@elsewhere.test>\r\nTo: <${EMAIL}>\r\nSubject: With file\r\n` +
              'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n' +
              "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the file\r\n" +
              '--b1\r\nContent-Type: application/octet-stream; name="data.bin"\r\n' +
              'Content-Disposition: attachment; filename="data.bin"\r\n' +
              `Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b1--\r\n`,
          );
          const r1 = await c.append(ORIGIN, inbox.id, { literal: mixed, flags: [] });
          const id1 = h.store.membership.messageAt(inbox.id, r1.uid)!;
          const text1 = new TextDecoder().decode(await c.literal(id1));
          assert.ok(text1.includes("See the file"));
          assert.ok(text1.includes("data.bin"));
          assert.ok(text1.includes(btoa(String.fromCharCode(...attachment.slice(0, 57)))));
          const m1 = (await remote(h, h.store.messages.get(id1)!.remoteId!))!;
          assert.equal(m1.NumAttachments, 1);
          assert.equal(m1.Unread, 1);
          assert.deepEqual(kinds(await done(h)), ["MessagesCreated", "MessagesCreated"]);

          const alternative = new TextEncoder().encode(
            `From: Someone <someone@elsewhere.test>\r\nTo: <${EMAIL}>\r\nSubject: Alt\r\n` +
              "Reply-To: The List <list@elsewhere.test>\r\nIn-Reply-To: <q@elsewhere.test>\r\n" +
              "References: <p@elsewhere.test> <q@elsewhere.test>\r\n" +
              "X-Trace: one\r\nX-Trace: two\r\n" +
              'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n' +
              "--b2\r\nContent-Type: text/plain\r\n\r\nplain alternative\r\n" +
              "--b2\r\nContent-Type: text/html\r\n\r\n<p>html alternative</p>\r\n--b2--\r\n",
          );
          const archive = box(h, "Archive");
          const r2 = await c.append(ORIGIN, archive.id, {
            literal: alternative,
            flags: ["\\Seen"],
          });
          assert.equal(r2.mailbox, archive.id);
          const text2 = new TextDecoder().decode(
            await c.literal(h.store.membership.messageAt(archive.id, r2.uid)!),
          );
          assert.ok(text2.includes("plain alternative") && text2.includes("html alternative"));
          // Served back as it was appended: the alternative at the top, not wrapped in a
          // multipart/signed by the account's own key (the whole-message import is unsigned).
          const served2 = parseMessage(
            await c.literal(h.store.membership.messageAt(archive.id, r2.uid)!),
          );
          assert.equal(served2.mimeType, "multipart/alternative", text2);
          assert.deepEqual(served2.children.map((p) => p.mimeType), ["text/plain", "text/html"]);
          assert.match(served2.header.getText("From") ?? "", /Someone.*<someone@elsewhere\.test>/);
          // Whom to answer, the thread, and repeated fields come back too.
          assert.match(served2.header.get("Reply-To") ?? "", /list@elsewhere\.test/);
          assert.match(served2.header.get("In-Reply-To") ?? "", /<q@elsewhere\.test>/);
          assert.match(
            served2.header.get("References") ?? "",
            /^<p@elsewhere\.test> <q@elsewhere\.test>/,
          );
          assert.deepEqual(served2.header.getAll("X-Trace"), ["one", "two"], "in their order");

          // A binary file attached without a Content-Type (text/plain by default), beside a
          // picture: the only "text" part, it used to be converted as a body and garbled; it
          // comes back byte for byte, an attachment with its name.
          const binary = Uint8Array.from({ length: 1024 }, (_, i) => (i * 37 + 11) & 255);
          const b64bin = btoa(String.fromCharCode(...binary)).replace(/.{76}/g, "$&\r\n");
          const typeless = new TextEncoder().encode(
            `From: Scanner <scan@elsewhere.test>\r\nTo: <${EMAIL}>\r\nSubject: Scan\r\n` +
              'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b4"\r\n\r\n' +
              '--b4\r\nContent-Disposition: attachment; filename="scan.bin"\r\n' +
              `Content-Transfer-Encoding: base64\r\n\r\n${b64bin}\r\n` +
              '--b4\r\nContent-Type: image/png; name="p.png"\r\n' +
              "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b4--\r\n",
          );
          const rScan = await c.append(ORIGIN, archive.id, { literal: typeless, flags: [] });
          const served4 = parseMessage(
            await c.literal(h.store.membership.messageAt(archive.id, rScan.uid)!),
          );
          const leaves = [...served4.walk()].filter((p) => !p.isMultipart);
          const scan = leaves.find((p) => p.filename === "scan.bin");
          assert.ok(scan, leaves.map((p) => `${p.mimeType} ${p.filename}`).join(", "));
          assert.deepEqual(decodeTransfer(scan.bodyData(), scan.encoding), binary);
          assert.equal(scan.disposition?.type, "attachment");
          assert.ok(!/pgp-signature|OpenPGP/i.test(text2), text2);
          await done(h);

          const drafts = box(h, "Drafts");
          const draft = new TextEncoder().encode(
            `From: Me <${EMAIL}>\r\nTo: <friend@elsewhere.test>\r\nSubject: Draft with file\r\n` +
              'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b3"\r\n\r\n' +
              "--b3\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<b>draft body</b>\r\n" +
              '--b3\r\nContent-Type: application/octet-stream; name="d.bin"\r\n' +
              'Content-Disposition: attachment; filename="d.bin"\r\n' +
              `Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b3--\r\n`,
          );
          const r3 = await c.append(ORIGIN, drafts.id, { literal: draft, flags: ["\\Seen"] });
          const id3 = h.store.membership.messageAt(drafts.id, r3.uid)!;
          const text3 = new TextDecoder().decode(await c.literal(id3));
          assert.ok(text3.includes("draft body") && text3.includes("d.bin"), text3);
          const d = (await remote(h, h.store.messages.get(id3)!.remoteId!))!;
          assert.equal(d.NumAttachments, 1);
          assert.ok(d.LabelIDs.includes(SystemLabel.Drafts));
          await done(h);

          // APPEND to Sent of a message the SMTP side just sent: no import, the sent copy's UID.
          const sentId = (await h.control("POST", "deliver", {
            To: "friend@elsewhere.test",
            From: { Name: "Me", Address: EMAIL },
            Subject: "Sent over SMTP",
            Text: "sent body",
            Kind: "sent",
          })).MessageID as string;
          await catchUp(h); // the loop indexes the sent message
          assert.deepEqual(kinds(h.seen.splice(0).map((x) => x.update)), [
            "MessagesCreated",
            "MessagesCreated",
          ]);
          const sent = box(h, "Sent");
          const sentUid = uidIn(h, "Sent", sentId)!;
          assert.ok(sentUid);
          const withLookup = createAccountConnector({
            id: "acc",
            primaryEmail: EMAIL,
            store: h.store,
            bus: h.bus,
            client: h.client,
            keys: h.account,
            literals: h.cache,
            sentLookup: () => Promise.resolve(sentId),
            log: () => {},
          });
          const before = await countMessages(h.client, { LabelID: SystemLabel.Sent });
          const r4 = await withLookup.append(ORIGIN, sent.id, {
            literal: draftLiteral("Sent over SMTP", "sent body"),
            flags: ["\\Seen"],
          });
          // The same message, under a new UID (an APPEND makes a new one; the old is expunged).
          assert.equal(r4.mailbox, sent.id);
          assert.ok(r4.uid > sentUid, `${r4.uid} after ${sentUid}`);
          assert.equal(uidIn(h, "Sent", sentId), r4.uid);
          assert.equal(await countMessages(h.client, { LabelID: SystemLabel.Sent }), before);
          await done(h);
        },
      );

      await t.step("APPEND to Drafts twice, expunge the old one: one draft", async () => {
        const drafts = box(h, "Drafts");
        const draftsBefore = await countMessages(h.client, { LabelID: SystemLabel.Drafts });
        const uidsBefore = h.store.membership.uids(drafts.id);
        const first = await c.append(ORIGIN, drafts.id, {
          literal: draftLiteral("Plans", "first version"),
          flags: ["\\Seen", "\\Draft"],
        });
        const second = await c.append(ORIGIN, drafts.id, {
          literal: draftLiteral("Plans", "second version"),
          flags: ["\\Seen", "\\Draft"],
        });
        assert.ok(second.uid > first.uid);
        await c.storeFlags(ORIGIN, drafts.id, [first.uid], { mode: "add", flags: ["\\Deleted"] });
        assert.deepEqual(await c.expunge(ORIGIN, drafts.id), [first.uid]);
        assert.deepEqual(h.store.membership.uids(drafts.id), [...uidsBefore, second.uid]);
        assert.equal(
          await countMessages(h.client, { LabelID: SystemLabel.Drafts }),
          draftsBefore + 1,
        );
        const id = h.store.membership.messageAt(drafts.id, second.uid)!;
        assert.ok(h.store.messages.get(id)!.flags & MessageFlag.Draft);
        const text = new TextDecoder().decode(await c.literal(id));
        assert.ok(text.includes("second version"), text);
        await done(h);
      });

      await t.step("a starred draft's autosave: starred, and the old version gone", async () => {
        const drafts = box(h, "Drafts");
        const starred = box(h, "Starred");
        const starredBefore = h.store.membership.uids(starred.id).length;
        const versions: Uid[] = [];
        const messageId = `${crypto.randomUUID()}@example.test`; // kept across saves
        for (const text of ["one", "two", "three"]) {
          const r = await c.append(ORIGIN, drafts.id, {
            literal: draftLiteral("Starred plans", `version ${text}`, messageId),
            flags: ["\\Seen", "\\Draft", "\\Flagged"],
          });
          const id = h.store.membership.messageAt(drafts.id, r.uid)!;
          const remote = h.store.messages.get(id)!.remoteId!;
          const [meta] = (await getMessageMetadataPage(h.client, 0, 10, { ID: [remote] })).Messages;
          assert.ok(meta.LabelIDs.includes(SystemLabel.Starred), "\\Flagged stars the draft");
          const previous = versions.at(-1);
          if (previous !== undefined) {
            await c.storeFlags(ORIGIN, drafts.id, [previous], {
              mode: "add",
              flags: ["\\Deleted"],
            });
            assert.deepEqual(await c.expunge(ORIGIN, drafts.id), [previous]);
          }
          versions.push(r.uid);
        }
        await done(h);
        // One version left, in Drafts and Starred; the old ones were deleted, not left in Starred.
        assert.equal(h.store.membership.uids(starred.id).length, starredBefore + 1);
        const found = (await getMessageMetadataPage(h.client, 0, 10, { Subject: "Starred plans" }))
          .Messages;
        assert.equal(found.length, 1);
      });

      await t.step("APPEND to Drafts whose reply is lost: one draft, found again", async () => {
        const drafts = box(h, "Drafts");
        const before = await countMessages(h.client, { LabelID: SystemLabel.Drafts });
        await h.control("POST", "faults", {
          Method: "POST",
          Path: "/mail/v4/messages",
          Status: 503,
          Count: 1,
          AfterHandling: true,
        });
        const r = await c.append(ORIGIN, drafts.id, {
          literal: draftLiteral("Lost reply", "saved once"),
          flags: ["\\Seen", "\\Draft"],
        });
        await h.control("DELETE", "faults");
        assert.equal(r.mailbox, drafts.id);
        assert.equal(await countMessages(h.client, { LabelID: SystemLabel.Drafts }), before + 1);
        const id = h.store.membership.messageAt(drafts.id, r.uid)!;
        assert.match(new TextDecoder().decode(await c.literal(id)), /saved once/);
        await done(h);
      });

      await t.step(
        "APPEND to INBOX whose import reply is lost: imported once, found again",
        async () => {
          await h.control("POST", "faults", {
            Method: "POST",
            Path: "/mail/v4/messages/import",
            Status: 503,
            Count: 1,
            AfterHandling: true,
          });
          const literal = new TextEncoder().encode(
            "From: a@elsewhere.test\r\nSubject: Import reply lost\r\n" +
              `Message-ID: <${crypto.randomUUID()}@elsewhere.test>\r\n\r\nOnce\r\n`,
          );
          const r = await c.append(ORIGIN, inbox.id, { literal, flags: [] });
          await h.control("DELETE", "faults");
          assert.equal(r.mailbox, inbox.id);
          assert.equal(r.recovered, undefined);
          const found = (await getMessageMetadataPage(h.client, 0, 10, {
            Subject: "Import reply lost",
          })).Messages;
          assert.equal(found.length, 1, "imported once");
          const id = h.store.membership.messageAt(inbox.id, r.uid)!;
          assert.equal(h.store.messages.get(id)!.remoteId, found[0].ID);
          await done(h);
        },
      );

      await t.step("APPEND the API refuses goes to the recovery mailbox", async () => {
        await h.control("POST", "faults", {
          Method: "POST",
          Path: "/mail/v4/messages/import",
          Status: 422,
          Code: 2001,
          Error: "refused for the test",
          Count: 5,
        });
        const literal = new TextEncoder().encode(
          "From: a@elsewhere.test\r\nSubject: Refused\r\n\r\nKeep me safe\r\n",
        );
        const r = await c.append(ORIGIN, inbox.id, { literal, flags: ["\\Flagged"] });
        await h.control("DELETE", "faults");
        assert.ok(r.recovered?.includes("refused for the test"), r.recovered);
        const recovery = box(h, RECOVERY_MAILBOX_NAME);
        assert.equal(recovery.kind, "local");
        assert.equal(r.mailbox, recovery.id);
        const id = h.store.membership.messageAt(recovery.id, r.uid)!;
        assert.deepEqual(await c.literal(id), literal);
        assert.equal(h.store.messages.get(id)!.remoteId, null);
        assert.ok(h.store.messages.get(id)!.flags & MessageFlag.Flagged);
        assert.ok(c.visibleMailboxes().some((m) => m.id === recovery.id));
        assert.deepEqual(kinds(await done(h)), ["MailboxCreated", "MessagesCreated"]);
        await assert.rejects(
          c.copy(ORIGIN, inbox.id, [uidIn(h, "INBOX", ids.m1)!], recovery.id),
          (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
        );
        // Expunging it there deletes the local message.
        await c.storeFlags(ORIGIN, recovery.id, [r.uid], { mode: "add", flags: ["\\Deleted"] });
        assert.deepEqual(await c.expunge(ORIGIN, recovery.id), [r.uid]);
        assert.equal(h.store.messages.get(id), undefined);
        await done(h);
      });

      await t.step(
        "APPEND stored on the server but not readable back now: OK, indexed later, stored once",
        async () => {
          const before = await countMessages(h.client, { LabelID: SystemLabel.Inbox });
          const inInbox = h.store.membership.uids(inbox.id).length;
          // Reading the message back after the import fails (as a full disk or a lost
          // connection would stop indexing it): the APPEND still happened.
          await h.control("POST", "faults", {
            Method: "GET",
            Path: "/mail/v4/messages",
            Status: 422,
            Code: 2001,
            Error: "not now",
            Count: 3,
          });
          const literal = new TextEncoder().encode(
            "From: a@elsewhere.test\r\nSubject: Stored, indexed later\r\n\r\nOnce\r\n",
          );
          const r = await c.append(ORIGIN, inbox.id, { literal, flags: [] });
          await h.control("DELETE", "faults");
          assert.match(r.pending ?? "", /stored on the server but could not be read back/);
          assert.equal(r.recovered, undefined);
          assert.equal(await countMessages(h.client, { LabelID: SystemLabel.Inbox }), before + 1);
          assert.equal(h.store.membership.uids(inbox.id).length, inInbox);
          // The event loop indexes it; nothing else was stored.
          await catchUp(h);
          h.seen.splice(0);
          assert.equal(h.store.membership.uids(inbox.id).length, inInbox + 1);
          assert.equal(await countMessages(h.client, { LabelID: SystemLabel.Inbox }), before + 1);
        },
      );

      await t.step("RENAME and DELETE of a folder and a label", async () => {
        const nested = box(h, "Folders/Work/2024");
        await c.renameMailbox(ORIGIN, nested.id, "Folders/Y2024");
        assert.equal(h.store.mailboxes.get(nested.id)!.name, "Folders/Y2024");
        await c.renameMailbox(ORIGIN, tag.id, "Labels/Tag2");
        assert.equal(h.store.mailboxes.get(tag.id)!.name, "Labels/Tag2");
        assert.deepEqual(
          (await done(h)).map((u) => u.kind === "MailboxRenamed" ? [u.oldName, u.newName] : u.kind),
          [["Folders/Work/2024", "Folders/Y2024"], ["Labels/Tag", "Labels/Tag2"]],
        );
        const onServer = await getLabels(h.client);
        const y = onServer.find((l) => l.ID === nested.remoteId)!;
        assert.equal(y.Name, "Y2024");
        assert.ok(!y.ParentID);

        // Renaming a folder takes its children along.
        await c.createMailbox(ORIGIN, "Folders/Y2024/Q1");
        await done(h);
        await c.renameMailbox(ORIGIN, nested.id, "Folders/Work/Y");
        assert.ok(h.store.mailboxes.byName("Folders/Work/Y/Q1"));
        await done(h);

        // A folder with subfolders is not deleted (the server would take them along).
        await assert.rejects(
          c.deleteMailbox(ORIGIN, nested.id),
          (e) => e instanceof MailboxOperationError && e.code === "HASCHILDREN",
        );
        assert.ok(h.store.mailboxes.byName("Folders/Work/Y/Q1"));
        await c.deleteMailbox(ORIGIN, h.store.mailboxes.byName("Folders/Work/Y/Q1")!.id);
        await c.deleteMailbox(ORIGIN, nested.id);
        await c.deleteMailbox(ORIGIN, tag.id);
        assert.equal(h.store.mailboxes.get(nested.id), undefined);
        assert.equal(h.store.mailboxes.byName("Folders/Work/Y/Q1"), undefined);
        assert.equal(h.store.mailboxes.get(tag.id), undefined);
        assert.deepEqual(
          (await done(h)).map((u) => u.kind === "MailboxDeleted" ? u.name : u.kind).sort(),
          ["Folders/Work/Y", "Folders/Work/Y/Q1", "Labels/Tag2"],
        );
        // Names the server would trim are refused rather than created under another name.
        await assert.rejects(
          c.createMailbox(ORIGIN, "Folders/ padded "),
          (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
        );
        const after = await getLabels(h.client);
        assert.ok(!after.some((l) => l.ID === nested.remoteId || l.ID === tag.remoteId));
        await assert.rejects(
          c.deleteMailbox(ORIGIN, inbox.id),
          (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
        );
      });
    } finally {
      await h.close();
    }
  },
});

/** A test with a harness of its own, closed afterwards. */
function harnessTest(name: string, fn: (h: Harness) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const h = await harness();
      try {
        await fn(h);
      } finally {
        await h.close();
      }
    },
  });
}

harnessTest(
  "connector: an event that comes while a change waits for its read-back is applied after it",
  async (h) => {
    const { connector: c, ids } = h;
    const inbox = box(h, "INBOX");
    const tag = await c.createMailbox(ORIGIN, "Labels/Tag");
    await settle();
    await catchUp(h);
    h.seen.splice(0);
    const uid = uidIn(h, "INBOX", ids.m1)!;
    // The COPY's read-back of the message is slow; meanwhile another client reads it and
    // the event loop sees that. The read-back (from before) must not land over it.
    await h.control("POST", "faults", {
      Method: "POST",
      Path: "/mail/v4/messages",
      LatencyMs: 1500,
      AfterHandling: true, // read at once, answered late
      Count: 1,
    });
    const copying = c.copy(ORIGIN, inbox.id, [uid], tag.id);
    await new Promise((r) => setTimeout(r, 600)); // labelled; the read-back is under way
    await h.control("POST", `users/${EMAIL}/messages/read`, { IDs: [ids.m1] });
    await catchUp(h);
    await copying;
    await h.control("DELETE", "faults");
    assert.equal((await remote(h, ids.m1))!.Unread, 0);
    const flags = h.store.messages.get(internal(h, ids.m1))!.flags;
    assert.ok((flags & MessageFlag.Seen) !== 0, "read, as the server has it");
    assert.ok(uidIn(h, "Labels/Tag", ids.m1) !== undefined);
  },
);

harnessTest(
  "connector: CREATE and DELETE whose reply was lost (the call repeated) answer OK",
  async (h) => {
    const c = h.connector;
    const loseReply = (method: string, path: string) =>
      h.control("POST", "faults", {
        Method: method,
        Path: path,
        Status: 503,
        Count: 1,
        AfterHandling: true,
      });
    // Created, the reply lost: the client's API retry hears "already exists", which is this
    // command's own folder.
    await loseReply("POST", "/core/v4/labels");
    const made = await c.createMailbox(ORIGIN, "Folders/Lost reply");
    assert.equal(made.name, "Folders/Lost reply");
    const labels = await getLabels(h.client);
    const label = labels.find((l) => l.Name === "Lost reply")!;
    assert.equal(made.remoteId, label.ID);
    assert.equal(labels.filter((l) => l.Name === "Lost reply").length, 1);
    // A name the index has is still refused before any call.
    await assert.rejects(
      c.createMailbox(ORIGIN, "Folders/Lost reply"),
      (e) => e instanceof MailboxOperationError && e.code === "ALREADYEXISTS",
    );
    await done(h);
    // Deleted, the reply lost: the retry hears "does not exist": it is gone, as asked.
    await loseReply("DELETE", "/core/v4/labels/:id");
    await c.deleteMailbox(ORIGIN, made.id);
    assert.equal(h.store.mailboxes.byName("Folders/Lost reply"), undefined);
    assert.ok(!(await getLabels(h.client)).some((l) => l.Name === "Lost reply"));
    await done(h);
  },
);

harnessTest(
  "connector: an APPEND retried after an import in doubt does not store the message twice",
  async (h) => {
    const c = h.connector;
    const inbox = box(h, "INBOX");
    const message = (subject: string) =>
      new TextEncoder().encode(
        `From: a@elsewhere.test\r\nSubject: ${subject}\r\n` +
          `Message-ID: <${crypto.randomUUID()}@elsewhere.test>\r\n\r\nOnce\r\n`,
      );
    const imported = async (subject: string) =>
      (await getMessageMetadataPage(h.client, 0, 10, { Subject: subject })).Messages;
    // The lookup by Message-ID right after an import in doubt fails.
    const lookupFails = () =>
      h.control("POST", "faults", {
        Method: "POST",
        Path: "/mail/v4/messages",
        Exact: true,
        Status: 503,
        Count: 2, // the call and its one retry
      });

    // Imported, the reply lost, and not found right after: NO (try again); the retry finds
    // the first import instead of storing the message again.
    const landed = message("Import in doubt, landed");
    await h.control("POST", "faults", {
      Method: "POST",
      Path: "/mail/v4/messages/import",
      Status: 503,
      Count: 1,
      AfterHandling: true,
    });
    await lookupFails();
    await assert.rejects(
      c.append(ORIGIN, inbox.id, { literal: landed, flags: [] }),
      (e) => e instanceof MailboxOperationError && e.code === "UNAVAILABLE",
    );
    const r = await c.append(ORIGIN, inbox.id, { literal: landed, flags: [] });
    const found = await imported("Import in doubt, landed");
    assert.equal(found.length, 1, "stored once");
    const id = h.store.membership.messageAt(inbox.id, r.uid)!;
    assert.equal(h.store.messages.get(id)!.remoteId, found[0].ID);

    // Not imported at all, and the outcome unknown: a retry at once is put off (the first
    // attempt may still be under way on the server) rather than risk a second copy.
    const lost = message("Import in doubt, not landed");
    await h.control("POST", "faults", {
      Method: "POST",
      Path: "/mail/v4/messages/import",
      Status: 503,
      Count: 1,
    });
    await lookupFails();
    await assert.rejects(c.append(ORIGIN, inbox.id, { literal: lost, flags: [] }));
    await assert.rejects(
      c.append(ORIGIN, inbox.id, { literal: lost, flags: [] }),
      (e) => e instanceof MailboxOperationError && /may still be under way/.test(e.message),
    );
    assert.equal((await imported("Import in doubt, not landed")).length, 0);
    await h.control("DELETE", "faults");
  },
);

harnessTest(
  "connector: an event fetched during a MOVE does not bring the message back to the source",
  async (h) => {
    const { connector: c, ids } = h;
    const inbox = box(h, "INBOX");
    const tag = await c.createMailbox(ORIGIN, "Labels/Tag");
    const work = await c.createMailbox(ORIGIN, "Folders/Work");
    await c.copy(ORIGIN, inbox.id, [uidIn(h, "INBOX", ids.m2)!], tag.id);
    await settle();
    await catchUp(h);
    h.seen.splice(0);
    const uidNext = box(h, "Labels/Tag").uidNext;
    // MOVE out of the label is two calls (label into the folder, unlabel from the label); the
    // event loop polls between them and gets the first one's event, which still shows the
    // message in the label. Applied after the MOVE, it put it back there under a new UID.
    await h.control("POST", "faults", {
      Method: "PUT",
      Path: "/mail/v4/messages/unlabel",
      LatencyMs: 1200,
      Count: 1,
    });
    const moving = c.move(ORIGIN, tag.id, [uidIn(h, "Labels/Tag", ids.m2)!], work.id);
    await new Promise((r) => setTimeout(r, 400)); // labelled; the unlabel is under way
    await catchUp(h);
    await moving;
    await catchUp(h);
    await h.control("DELETE", "faults");
    assert.equal(uidIn(h, "Labels/Tag", ids.m2), undefined);
    assert.ok(uidIn(h, "Folders/Work", ids.m2) !== undefined);
    assert.equal(box(h, "Labels/Tag").uidNext, uidNext, "no UID given in Tag again");
    const back = h.seen.filter((s) =>
      s.origin === undefined && s.update.kind === "MembershipChanged" &&
      s.update.added.some((a) => a.mailbox === tag.id)
    );
    assert.deepEqual(back, [], "the loop did not put it back");
  },
);

harnessTest(
  "connector: a client's own message APPENDed again elsewhere is moved, not imported again",
  async (h) => {
    const c = h.connector;
    const inbox = box(h, "INBOX");
    const work = await c.createMailbox(ORIGIN, "Folders/Work");
    const archive = box(h, "Archive");
    const subject = `Own message ${crypto.randomUUID()}`;
    const own = `From: a@elsewhere.test\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${crypto.randomUUID()}@elsewhere.test>\r\n\r\nMine\r\n`;
    const onServer = async () =>
      (await getMessageMetadataPage(h.client, 0, 10, { Subject: subject })).Messages;
    // A Maildir synchroniser uploads a file of its own (imported), then, the file moved to
    // other folders, the same file again each time (mbsync with its X-TUID, LF line ends).
    const first = await c.append(ORIGIN, work.id, {
      literal: new TextEncoder().encode(own),
      flags: [],
    });
    const again = new TextEncoder().encode(
      ("X-TUID: abcdefgh12\r\n" + own).replaceAll("\r\n", "\n"),
    );
    const second = await c.append(ORIGIN, inbox.id, { literal: again, flags: [] });
    const third = await c.append(ORIGIN, archive.id, { literal: again, flags: [] });
    const found = await onServer();
    assert.equal(found.length, 1, "one message, moved: not one more copy per move");
    assert.ok(found[0].LabelIDs.includes(SystemLabel.Archive), found[0].LabelIDs.join());
    const id = h.store.membership.messageAt(work.id, first.uid);
    assert.equal(id, undefined, "it left the folder (the server moved it)");
    assert.equal(h.store.messages.byRemoteId(found[0].ID as RemoteMessageId) !== undefined, true);
    assert.equal(third.mailbox, archive.id);
    assert.notEqual(second.uid, 0);

    // APPEND into the mailbox that holds it already: a new UID, the old one expunged (it was
    // answered with the old UID: a client kept two files of one message).
    const before = uidIn(h, "Archive", found[0].ID)!;
    const uidNext = box(h, "Archive").uidNext;
    const fourth = await c.append(ORIGIN, archive.id, { literal: again, flags: [] });
    assert.ok(fourth.uid >= uidNext, `${fourth.uid} is new (UIDNEXT was ${uidNext})`);
    assert.equal(uidIn(h, "Archive", found[0].ID), fourth.uid);
    assert.notEqual(fourth.uid, before);
    assert.equal((await onServer()).length, 1);
    await settle();
    const kinds = take(h).map((u) => u.kind);
    assert.ok(
      kinds.includes("MessagesExpunged") && kinds.includes("MessagesCreated"),
      kinds.join(),
    );
    await replayChangesNothing(h);
  },
);
