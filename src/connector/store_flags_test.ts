import assert from "node:assert/strict";
import { MessageFlag, Store, type Uid } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { fakeContext } from "./_fake_account.ts";
import { parseImapFlags } from "./flag_mapping.ts";
import { storeLocalMessage } from "./recovery_mailbox.ts";
import { applyMetadata } from "./remote_refresh.ts";
import { storeFlags } from "./store_flags.ts";
import type { UpdateData } from "./updates.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("STORE: API only for bits that change; Starred follows \\Flagged", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const starred = store.mailboxes.byName("Starred")!;
    const a = f.add("a", { Unread: 1 });
    const b = f.add("b", { Unread: 0 });
    const uids = [a, b].map((id) => store.membership.uidOf(inbox.id, id)!);
    const r = await storeFlags(f.ctx, "s", inbox.id, uids, {
      mode: "add",
      flags: ["\\Seen", "\\Flagged"],
    });
    // No read-back: each action answers for all of its messages.
    assert.deepEqual(f.api.calls, ["read", "label 10"]);
    assert.deepEqual(f.api.messages.get("a")!.Unread, 0);
    assert.equal(r.updates.length, 2);
    assert.ok(store.membership.uidOf(starred.id, a) && store.membership.uidOf(starred.id, b));
    await tick();
    assert.deepEqual(f.published.map((p) => [p.origin, p.update.kind]), [
      ["s", "FlagsChanged"],
      ["s", "MembershipChanged"],
      ["s", "MembershipChanged"],
    ]);

    // Same again: nothing changes, nothing is called.
    f.api.calls = [];
    const again = await storeFlags(f.ctx, "s", inbox.id, uids, {
      mode: "add",
      flags: ["\\Seen", "\\Flagged"],
    });
    assert.deepEqual(again, { updates: [], deletedChanged: [] });
    assert.deepEqual(f.api.calls, []);
  } finally {
    store.close();
  }
});

Deno.test("STORE replace: remote bits through the API, local bits and keywords replaced", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const a = f.add("a", { Unread: 0, IsForwarded: 1 });
    const uid = store.membership.uidOf(inbox.id, a)!;
    store.messages.setFlags([a], { mode: "add", flags: MessageFlag.Answered, keywords: ["old"] });
    const r = await storeFlags(f.ctx, "s", inbox.id, [uid], {
      mode: "replace",
      flags: ["\\Draft", "new", "\\Deleted"],
    });
    assert.deepEqual(f.api.calls, ["unread", "unforward"]);
    const m = store.messages.get(a)!;
    assert.equal(m.flags, MessageFlag.Draft);
    assert.deepEqual(m.keywords, ["new"]);
    assert.deepEqual(r.deletedChanged, [uid]);
    assert.equal(r.updates[0].flags, MessageFlag.Draft);
  } finally {
    store.close();
  }
});

Deno.test("STORE: API failure changes nothing; bad flags refused; local messages all local", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const a = f.add("a");
    const uid = store.membership.uidOf(inbox.id, a)!;
    f.api.fail = new Error("nope");
    await assert.rejects(
      storeFlags(f.ctx, "s", inbox.id, [uid], { mode: "add", flags: ["\\Seen", "kw"] }),
      MailboxOperationError,
    );
    assert.deepEqual(store.messages.get(a)!.keywords, []);
    assert.equal(store.messages.get(a)!.flags & MessageFlag.Seen, 0);
    await assert.rejects(
      storeFlags(f.ctx, "s", inbox.id, [uid], { mode: "add", flags: ["\\Bogus"] }),
      (e) => e instanceof MailboxOperationError && /\\Bogus/.test(e.message),
    );
    assert.deepEqual(
      await storeFlags(f.ctx, "s", inbox.id, [77 as Uid], { mode: "add", flags: ["\\Seen"] }),
      { updates: [], deletedChanged: [] },
    );

    f.api.calls = [];
    const local = await storeLocalMessage(f.ctx, "s", {
      literal: new TextEncoder().encode("Subject: l\r\n\r\nx\r\n"),
      flags: parseImapFlags([]),
      internalDate: 1,
    });
    const r = await storeFlags(f.ctx, "s", local.mailbox, [local.uid], {
      mode: "add",
      flags: ["\\Seen", "\\Flagged", "$Forwarded"],
    });
    assert.deepEqual(f.api.calls, []);
    assert.equal(
      r.updates[0].flags,
      MessageFlag.Seen | MessageFlag.Flagged | MessageFlag.Forwarded,
    );
  } finally {
    store.close();
  }
});

Deno.test("STORE leaves the index where replaying the server's metadata would, with one MODSEQ", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const starred = store.mailboxes.byName("Starred")!;
    const ids = ["a", "b", "c", "d"].map((r, i) =>
      f.add(r, { Unread: i % 2 ? 1 : 0, LabelIDs: i === 3 ? ["0", "5", "10"] : ["0", "5"] })
    );
    const remote = ["a", "b", "c", "d"];
    const uids = ids.map((id) => store.membership.uidOf(inbox.id, id)!);
    const dUid = store.membership.uidOf(starred.id, ids[3])!;
    const modseqBefore = store.mailboxes.get(inbox.id)!.highestModseq;

    // \Flagged on a, b, c (d already has it), \Seen on b, d; a keyword on all four.
    const r = await storeFlags(f.ctx, "s", inbox.id, uids, {
      mode: "add",
      flags: ["\\Flagged", "\\Seen", "Work"],
    });
    assert.deepEqual(f.api.calls, ["label 10", "read"]);
    assert.equal(r.updates.length, 4);
    const modseqs = new Set(r.updates.map((u) => u.modseq));
    assert.equal(modseqs.size, 1);
    assert.ok([...modseqs][0] > modseqBefore);
    for (const u of r.updates) {
      assert.equal(u.flags & (MessageFlag.Seen | MessageFlag.Flagged), 3);
      assert.deepEqual(u.keywords, ["Work"]);
      // Where the message is now, Starred included (d was there before).
      assert.deepEqual(u.memberships, store.membership.memberships(u.messageId));
      assert.ok(u.memberships.some((m) => m.mailbox === starred.id));
    }
    assert.equal(store.membership.uidOf(starred.id, ids[3]), dUid);
    // Replaying what the server now says changes nothing.
    const replay = store.transaction(() => applyMetadata(store, [...f.api.messages.values()]));
    assert.deepEqual(replay.updates, []);

    await tick();
    const sent = f.published.map((p) => p.update as UpdateData);
    assert.deepEqual(sent.map((u) => u.kind), [
      "FlagsChanged",
      "MembershipChanged",
      "MembershipChanged",
      "MembershipChanged",
    ]);
    const flags = sent[0] as Extract<UpdateData, { kind: "FlagsChanged" }>;
    // Announced where each message was when its flags changed: not yet in Starred, except d.
    assert.deepEqual(
      flags.changes.map((c) => c.memberships),
      ids.map((id, i) =>
        store.membership.memberships(id).filter((m) => i === 3 || m.mailbox !== starred.id)
      ),
    );
    const joined = sent.slice(1) as Extract<UpdateData, { kind: "MembershipChanged" }>[];
    assert.deepEqual(joined.map((m) => m.remoteId), remote.slice(0, 3));
    for (const m of joined) {
      assert.deepEqual(m.removed, []);
      assert.deepEqual(m.added, [{
        mailbox: starred.id,
        uid: store.membership.uidOf(starred.id, m.messageId),
      }]);
    }

    // -FLAGS \Flagged: all four leave Starred; FlagsChanged still names their Starred UIDs.
    f.published.length = 0;
    f.api.calls = [];
    const starredUids = ids.map((id) => store.membership.uidOf(starred.id, id)!);
    const off = await storeFlags(f.ctx, "s", inbox.id, uids, {
      mode: "remove",
      flags: ["\\Flagged"],
    });
    assert.deepEqual(f.api.calls, ["unlabel 10"]);
    assert.equal(off.updates.length, 4);
    for (const u of off.updates) {
      assert.deepEqual(u.memberships, store.membership.memberships(u.messageId));
    }
    for (const id of ids) assert.equal(store.membership.uidOf(starred.id, id), undefined);
    await tick();
    const sentOff = f.published.map((p) => p.update as UpdateData);
    const flagsOff = sentOff[0] as Extract<UpdateData, { kind: "FlagsChanged" }>;
    assert.deepEqual(
      flagsOff.changes.map((c) => c.memberships),
      ids.map((id, i) => [
        { mailbox: starred.id, uid: starredUids[i] },
        ...store.membership.memberships(id),
      ]),
    );
    assert.deepEqual(
      sentOff.slice(1).map((u) => u.kind === "MembershipChanged" ? u.removed : []),
      ids.map((_, i) => [{ mailbox: starred.id, uid: starredUids[i] }]),
    );
    const replayOff = store.transaction(() => applyMetadata(store, [...f.api.messages.values()]));
    assert.deepEqual(replayOff.updates, []);
  } finally {
    store.close();
  }
});

Deno.test("STORE +FLAGS (\\Deleted) reports the mailbox's own row; nothing reaches the API", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const a = f.add("a");
    const uid = store.membership.uidOf(inbox.id, a)!;
    const r = await storeFlags(f.ctx, "s", inbox.id, [uid], { mode: "add", flags: ["\\Deleted"] });
    assert.deepEqual(f.api.calls, []);
    assert.deepEqual(r, { updates: [], deletedChanged: [uid] });
    await tick();
    const [update] = f.published.map((p) => p.update as UpdateData);
    assert.equal(update.kind, "FlagsChanged");
    const row = store.membership.flagRows(inbox.id, [{ first: uid, last: uid }])[0];
    assert.deepEqual(update.kind === "FlagsChanged" ? update.changes : [], [{
      messageId: a,
      flags: store.messages.get(a)!.flags,
      keywords: [],
      modseq: row.modseq,
      memberships: [{ mailbox: inbox.id, uid }],
    }]);
    assert.equal(row.deleted, true);
  } finally {
    store.close();
  }
});
