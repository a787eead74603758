/**
 * ImapFlow (npm `imapflow`, the IMAP client of many Node.js mail apps) against `bridge serve`,
 * backed by the reference API server. It negotiates what bridge advertises (CONDSTORE, ESEARCH,
 * UIDPLUS, MOVE, SPECIAL-USE, IDLE…) and drives a session the way a modern client does:
 *
 * - LIST with special-use flags, every system mailbox found by its role;
 * - SELECT of INBOX with CONDSTORE (HIGHESTMODSEQ), `FETCH 1:*` of envelopes and flags matching
 *   bridge's own answer (python3 imaplib), a message downloaded whole with its subject;
 * - SEARCH by subject;
 * - STORE `\Flagged` reaching the API as Starred;
 * - APPEND to Drafts answering APPENDUID, the draft on the API;
 * - MOVE to Archive answering COPYUID, the API's labels following;
 * - IDLE: mail delivered through the reference server's controls raises `exists`;
 * - QRESYNC (`qresync: true`): INBOX reopened with the UIDVALIDITY and HIGHESTMODSEQ of an earlier
 *   session reports the message expunged meanwhile as `VANISHED (EARLIER)` and the one flagged
 *   meanwhile as a FETCH, and nothing else.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { eventually } from "./_eventually.ts";
import { withClientFixture } from "./_client_fixture.ts";
import { refMessages } from "./_ref_control.ts";

Deno.test({
  name: "imapflow: special-use LIST, CONDSTORE SELECT, FETCH, SEARCH, STORE, APPEND, MOVE, IDLE",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_imapflow_e2e_", "ida@example.test", 30, async (f) => {
    let client: ImapFlow | undefined;
    try {
      await f.start();
      client = new ImapFlow({
        host: "127.0.0.1",
        port: f.port,
        secure: false,
        doSTARTTLS: false,
        auth: { user: f.imap.username, pass: f.imap.password },
        logger: false,
      });
      await client.connect();
      const api = () => refMessages(f.server.url, f.email);

      // LIST: every system mailbox by its special-use flag.
      const boxes = await client.list();
      const byUse = new Map(boxes.filter((b) => b.specialUse).map((b) => [b.specialUse, b.path]));
      for (
        const [use, path] of [
          ["\\Sent", "Sent"],
          ["\\Drafts", "Drafts"],
          ["\\Trash", "Trash"],
          [
            "\\Junk",
            "Spam",
          ],
          ["\\Archive", "Archive"],
          ["\\All", "All Mail"],
          ["\\Flagged", "Starred"],
        ]
      ) {
        assert.equal(byUse.get(use), path, use);
      }

      // SELECT with CONDSTORE, FETCH 1:* as bridge serves it.
      const served = await f.served();
      const lock = await client.getMailboxLock("INBOX");
      try {
        const mailbox = client.mailbox as { exists: number; highestModseq?: bigint };
        assert.equal(mailbox.exists, served["INBOX"].uids.length);
        assert.ok(typeof mailbox.highestModseq === "bigint" && mailbox.highestModseq > 0n);
        const fetched: { uid: number; subject: string; flags: Set<string> }[] = [];
        for await (const m of client.fetch("1:*", { uid: true, envelope: true, flags: true })) {
          fetched.push({
            uid: m.uid,
            subject: m.envelope?.subject ?? "",
            flags: m.flags ?? new Set(),
          });
        }
        assert.deepEqual(fetched.map((m) => m.uid), served["INBOX"].uids);
        assert.ok(fetched.every((m) => m.subject !== ""), "every envelope has a subject");

        // A whole message, and SEARCH by its subject.
        const first = fetched[0];
        const { content } = await client.download(String(first.uid), undefined, { uid: true });
        assert.ok(content, "download gave a stream");
        let raw = "";
        for await (const c of content) raw += new TextDecoder().decode(c as Uint8Array);
        assert.match(raw, /\r\n\r\n/);
        assert.ok(raw.includes("Subject:"), "the literal has its header");
        const [withWord, word] = fetched.map((m) =>
          [m, m.subject.split(/\s+/).find((w) => /^[A-Za-z]{5,}$/.test(w))] as const
        ).find(([, w]) => w !== undefined)!;
        const hits = await client.search({ subject: word! }, { uid: true });
        assert.ok(Array.isArray(hits), `SEARCH SUBJECT ${word} failed`);
        assert.ok(hits.includes(withWord.uid), `SEARCH SUBJECT ${word}`);
        assert.ok(
          hits.every((uid) =>
            fetched.find((m) => m.uid === uid)!.subject.toLowerCase().includes(word!.toLowerCase())
          ),
        );

        // STORE \Flagged reaches the API as Starred.
        const target = fetched.find((m) => !m.flags.has("\\Flagged"))!;
        const starred = await f.starred();
        assert.ok(await client.messageFlagsAdd(String(target.uid), ["\\Flagged"], { uid: true }));
        await eventually(async () => assert.equal(await f.starred(), starred + 1));

        // MOVE to Archive (COPYUID): the API's labels follow.
        const inArchive = (await api()).filter((m) => m.LabelIDs.includes("6")).length;
        const moved = await client.messageMove(String(target.uid), "Archive", { uid: true });
        assert.ok(
          moved && moved.uidMap && moved.uidMap.size === 1,
          `COPYUID map: ${moved && moved.uidMap?.size}`,
        );
        assert.equal((moved.uidMap as Map<number, number>).keys().next().value, target.uid);
        await eventually(async () =>
          assert.equal((await api()).filter((m) => m.LabelIDs.includes("6")).length, inArchive + 1)
        );
      } finally {
        lock.release();
      }

      // APPEND to Drafts (APPENDUID): the draft is on the API.
      const draft = [
        "From: ida@example.test",
        "To: someone@example.test",
        "Subject: imapflow draft",
        "Date: Sun, 29 Nov 2026 10:00:00 +0000",
        "Message-ID: <imapflow-draft@example.test>",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Draft body.",
        "",
      ].join("\r\n");
      const appended = await client.append("Drafts", draft, ["\\Draft", "\\Seen"]);
      assert.ok(
        appended && appended.uid && appended.uid > 0,
        `APPENDUID: ${appended && appended.uid}`,
      );
      await eventually(async () =>
        assert.ok(
          (await api()).some((m) => m.Subject === "imapflow draft" && m.LabelIDs.includes("8")),
          "the draft is on the API",
        )
      );

      // IDLE on INBOX: a delivery raises `exists`.
      await client.mailboxOpen("INBOX");
      const before = (client.mailbox as { exists: number }).exists;
      const grew = new Promise<number>((resolve) => {
        client!.on("exists", (data: { count: number }) => resolve(data.count));
      });
      const idling = client.idle();
      await f.deliver("imapflow: arrived while idling");
      const count = await Promise.race([
        grew,
        new Promise<number>((_, reject) =>
          setTimeout(() => reject(new Error("no EXISTS while idling")), 30_000)
        ),
      ]);
      assert.equal(count, before + 1);
      await client.logout();
      await idling.catch(() => {});
      client = undefined;
    } finally {
      if (client) client.close();
    }
  });
});

Deno.test({
  name: "imapflow with QRESYNC: a reopened INBOX learns what was expunged and flagged meanwhile",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_imapflow_qresync_", "quinn@example.test", 12, async (f) => {
    const clients: ImapFlow[] = [];
    const connect = async () => {
      const client = new ImapFlow({
        host: "127.0.0.1",
        port: f.port,
        secure: false,
        doSTARTTLS: false,
        qresync: true,
        auth: { user: f.imap.username, pass: f.imap.password },
        logger: false,
      });
      clients.push(client);
      await client.connect();
      return client;
    };
    try {
      await f.start();
      // A first session: what the client keeps from it is UIDVALIDITY and HIGHESTMODSEQ.
      const first = await connect();
      assert.ok(first.enabled.has("QRESYNC"), "QRESYNC enabled");
      await first.mailboxOpen("INBOX");
      const known = first.mailbox as { uidValidity: bigint; highestModseq: bigint };
      const uids = (await first.search({ all: true }, { uid: true })) as number[];
      assert.ok(uids.length >= 3, `INBOX has ${uids.length} messages`);
      const [flagged, gone] = [uids[0], uids[1]];
      await first.logout();

      // Meanwhile another session flags one message and expunges another.
      const other = await connect();
      await other.mailboxOpen("INBOX");
      await other.messageFlagsAdd(String(flagged), ["\\Flagged"], { uid: true });
      await other.messageDelete(String(gone), { uid: true });
      await other.logout();

      // Reopening with QRESYNC: VANISHED (EARLIER) for the expunged UID, FETCH FLAGS for the other.
      const again = await connect();
      const expunged: { uid?: number; vanished: boolean; earlier?: boolean }[] = [];
      const flagChanges: { uid?: number; flags: Set<string> }[] = [];
      again.on("expunge", (e) => expunged.push(e));
      again.on("flags", (e) => flagChanges.push(e));
      await again.mailboxOpen("INBOX", {
        uidValidity: known.uidValidity,
        changedSince: known.highestModseq,
      });
      assert.deepEqual(expunged.map((e) => [e.uid, e.vanished, e.earlier]), [[gone, true, true]]);
      const change = flagChanges.find((c) => c.uid === flagged);
      assert.ok(
        change?.flags.has("\\Flagged"),
        JSON.stringify(flagChanges.map((c) => [c.uid, [...c.flags]])),
      );
      assert.ok(!flagChanges.some((c) => c.uid === gone), "nothing about the expunged message");
      await again.logout();
    } finally {
      for (const c of clients) c.close();
    }
  });
});
