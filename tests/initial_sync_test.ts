/**
 * The first sync over real HTTP against the reference server (`src/api_server`), with a seeded
 * account whose first twelve messages cover folders, nested folders, labels, Starred, an
 * attachment with a non-ASCII name, an inline image, PGP/MIME, HTML, drafts, sent mail, spam,
 * trash and non-ASCII text:
 *
 * - every indexed message's cached literal equals a fresh download + build, and its FETCH data
 *   matches; no failures;
 * - every message is exactly in the mailboxes of its server labels, and in every mailbox UIDs
 *   ascend in server (age) order; a second run changes nothing;
 * - with 500s at 30 %, 429 with `Retry-After: 1` and dropped connections injected, the sync still
 *   converges to the identical index.
 */
import assert from "node:assert/strict";
import { type ApiServer, startApiServer } from "../src/api_server/server.ts";
import { getAttachment, getMessage, type MessageMetadata, SystemLabel } from "../src/api/mod.ts";
import type { RemoteLabelId, RemoteMessageId } from "../src/store/mod.ts";
import { isExposedLabelId } from "../src/connector/mailbox_names.ts";
import {
  buildFromApi,
  BuildPool,
  runInitialSync,
  syncApiFor,
  syncUntilComplete,
} from "../src/sync/mod.ts";
import { dumpIndex, loginTo, tempIndex } from "../src/sync/_sync_test_utils.ts";

const EMAIL = "alice@example.test";
const PASSWORD = "correct horse battery staple";
const MESSAGES = 60;

async function serverMessages(server: ApiServer): Promise<MessageMetadata[]> {
  const res = await fetch(`${server.url}/ref/v1/users/${EMAIL}/messages`);
  const json = await res.json();
  assert.ok(res.ok);
  return json.Messages as MessageMetadata[];
}

Deno.test({
  name: "first sync of a seeded account: literals, FETCH data, memberships, UID order, faults",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const server = await startApiServer({ port: 0, quiet: true });
    const indexes: Awaited<ReturnType<typeof tempIndex>>[] = [];
    let pool: BuildPool | undefined;
    try {
      await server.createUser({ email: EMAIL, password: PASSWORD, messages: MESSAGES });
      const { client, account, throttle } = await loginTo(
        server.url,
        server.modulusPublicKey,
        EMAIL,
        PASSWORD,
      );
      pool = await BuildPool.create({ keys: account.addressKeys, workers: 2 });
      const index = await tempIndex();
      indexes.push(index);
      const { store, cache } = index;
      const progress: number[] = [];
      const result = await runInitialSync({
        api: syncApiFor(client),
        store,
        cache,
        builder: pool,
        throttle,
        account: EMAIL,
        batchSize: 16,
        reporter: { progress: (p) => progress.push(p.done) },
      });
      assert.equal(result.status, "complete");
      assert.equal(result.synced, MESSAGES);
      assert.equal(result.built, MESSAGES);
      assert.equal(result.failed, 0);
      assert.equal(store.messages.count(), MESSAGES);
      assert.deepEqual(store.sync.failures(), []);
      assert.equal(progress.at(-1), MESSAGES);
      assert.equal(store.sync.checkpoint()?.phase, "done");

      const onServer = await serverMessages(server);
      assert.equal(onServer.length, MESSAGES);

      await t.step("every literal equals a fresh build", async () => {
        const structures: string[] = [];
        for (const meta of onServer) {
          const id = store.messages.byRemoteId(meta.ID as RemoteMessageId);
          assert.ok(id !== undefined, `message ${meta.ID} is indexed`);
          const stored = store.messages.get(id)!;
          const literal = await cache.get(id);
          assert.ok(literal, `literal of ${meta.ID} is cached`);
          const full = await getMessage(client, meta.ID);
          const data = new Map<string, Uint8Array>();
          for (const a of full.Attachments) data.set(a.ID, await getAttachment(client, a.ID));
          const fresh = await buildFromApi(full, data, account.addressKeys.get(full.AddressID));
          assert.equal(fresh.status, "ok");
          assert.deepEqual(literal, fresh.literal, `literal of ${meta.ID}`);
          assert.equal(stored.size, literal.length);
          assert.equal(stored.envelope, fresh.envelope);
          assert.equal(stored.bodyStructure, fresh.bodyStructure);
          assert.equal(stored.body, fresh.body);
          assert.deepEqual(stored.header, fresh.headerBytes);
          assert.equal(stored.internalDate, meta.Time);
          structures.push(stored.bodyStructure.toLowerCase());
        }
        // The showcase is covered: HTML, attachments, an inline image, PGP/MIME, non-ASCII names.
        assert.ok(structures.some((s) => s.includes('"text" "html"')), "an HTML message");
        assert.ok(structures.some((s) => s.includes('"related"')), "an inline image");
        assert.ok(structures.some((s) => s.includes('"attachment"')), "an attachment");
        assert.ok(structures.some((s) => s.includes('"=?utf-8?')), "a non-ASCII file name");
      });

      await t.step("memberships match the server's labels; UIDs ascend with age", () => {
        const order = new Map(onServer.map((m, i) => [m.ID, i]));
        for (const meta of onServer) {
          const id = store.messages.byRemoteId(meta.ID as RemoteMessageId)!;
          const have = store.membership.memberships(id)
            .map((m) => store.mailboxes.get(m.mailbox)!.remoteId).sort();
          const want = meta.LabelIDs.filter(isExposedLabelId).sort();
          assert.deepEqual(have, want, `mailboxes of ${meta.ID}`);
          const stored = store.messages.get(id)!;
          assert.equal((stored.flags & 1) === 1, !meta.Unread, "\\Seen");
          assert.equal((stored.flags & 2) === 2, meta.LabelIDs.includes(SystemLabel.Starred));
        }
        for (const mailbox of store.mailboxes.list()) {
          const rows = store.membership.fetchRows(mailbox.id, [{
            first: 1 as never,
            last: 0xFFFFFFFF as never,
          }]);
          const positions = rows.map((r) => order.get(r.remoteId!)!);
          assert.deepEqual(positions, [...positions].sort((a, b) => a - b), mailbox.name);
          if (rows.length > 0) {
            assert.deepEqual(
              rows.map((r) => r.uid),
              rows.map((_, i) => i + 1),
              `${mailbox.name}: UIDs 1..n`,
            );
          }
        }
        const all = store.mailboxes.byRemoteId(SystemLabel.AllMail as RemoteLabelId)!;
        assert.equal(store.membership.count(all.id), MESSAGES);
      });

      const baseline = await dumpIndex(store, cache);

      await t.step("a second run changes nothing", async () => {
        const again = await runInitialSync({
          api: syncApiFor(client),
          store,
          cache,
          builder: pool!,
        });
        assert.equal(again.status, "already-complete");
        assert.equal(await dumpIndex(store, cache), baseline);
      });

      await t.step("500s, 429 Retry-After and dropped connections: identical index", async () => {
        const faulty = await tempIndex();
        indexes.push(faulty);
        const sleeps: number[] = [];
        const { client: c2, throttle: th2 } = await loginTo(
          server.url,
          server.modulusPublicKey,
          EMAIL,
          PASSWORD,
          {
            maxRetries: 2,
            // Record the waits (Retry-After 1 s included) instead of sleeping them.
            sleep: (ms) => {
              sleeps.push(ms);
              return new Promise((r) => setTimeout(r, Math.min(ms, 5)));
            },
          },
        );
        server.faults.set([
          { Path: "/mail/v4", ErrorRate: 0.3, Status: 500 },
          { Path: "/core/v4/labels", ErrorRate: 0.3, Status: 500 },
          { Path: "/mail/v4/messages/:id", Status: 429, RetryAfter: 1, Count: 6 },
          { Path: "/mail/v4/attachments", ErrorRate: 0.2, Drop: true },
        ]);
        let retried = 0;
        try {
          const r = await syncUntilComplete({
            api: syncApiFor(c2),
            store: faulty.store,
            cache: faulty.cache,
            builder: pool!,
            throttle: th2,
            batchSize: 8,
            retries: 4,
            retryDelayMs: 1,
            sleep: () => Promise.resolve(),
          }, {
            attempts: 20,
            cooldownMs: 0,
            onRetry: () => retried++,
          });
          assert.equal(r.status, "complete");
        } finally {
          server.faults.clear();
        }
        assert.ok(sleeps.some((ms) => ms >= 1000), "a Retry-After of 1 s was honoured");
        assert.ok(th2.backoffs > 0, "the throttle backed off");
        const withoutValidity = (s: string) => s.replace(/uidvalidity=\d+ /g, "");
        assert.equal(
          withoutValidity(await dumpIndex(faulty.store, faulty.cache)),
          withoutValidity(baseline),
        );
        // Either path is fine; the test only wants convergence. Report what happened.
        console.log(`fault run: ${retried} whole-run retries, ${th2.backoffs} throttle backoffs`);
      });
    } finally {
      pool?.close();
      for (const index of indexes) await index.cleanup();
      await server.close();
    }
  },
});
