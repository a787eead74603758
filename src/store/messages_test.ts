import assert from "node:assert/strict";
import { LABEL, sampleMessage, tempStore, uidRange, withMailboxes } from "./_test_utils.ts";
import type { InternalMessageId, RemoteMessageId } from "./ids.ts";
import { MessageFlag, MessageNotFoundError } from "./messages.ts";

const { Seen, Flagged, Answered, Draft, Forwarded } = MessageFlag;

Deno.test("insert() and get() round-trip every field, binary header included", () => {
  const t = tempStore();
  try {
    const header = new Uint8Array([0x53, 0xff, 0x00, 0x80, 13, 10, 13, 10]);
    const id = t.store.messages.insert({
      ...sampleMessage(1, { header, flags: Seen | Forwarded, remoteMeta: '{"Unread":0}' }),
      keywords: ["$label1", "Junk"],
    });
    const m = t.store.messages.get(id)!;
    assert.equal(m.id, id);
    assert.equal(m.remoteId, "msg-1");
    assert.equal(m.addressId, "addr-1");
    assert.equal(m.internalDate, 1_700_000_060);
    assert.equal(m.size, 1001);
    assert.equal(m.flags, Seen | Forwarded);
    assert.deepEqual(m.keywords, ["$label1", "Junk"]);
    assert.ok(m.modseq > 0);
    assert.match(m.envelope, /subject 1/);
    assert.match(m.bodyStructure, /"text" "plain"/);
    assert.match(m.body, /"7bit"/);
    assert.deepEqual(m.header, header);
    assert.deepEqual(t.store.messages.header(id), header);
    assert.equal(m.buildStatus, "ok");
    assert.equal(m.buildError, null);
    assert.equal(m.remoteMeta, '{"Unread":0}');
    assert.equal(t.store.messages.byRemoteId("msg-1" as RemoteMessageId), id);
    assert.equal(t.store.messages.byRemoteId("nope" as RemoteMessageId), undefined);
    assert.equal(t.store.messages.get(999 as InternalMessageId), undefined);
  } finally {
    t.cleanup();
  }
});

Deno.test("local-only messages have no remote ID, and several may coexist", () => {
  const t = tempStore();
  try {
    const a = t.store.messages.insert({ ...sampleMessage(1), remoteId: null });
    const b = t.store.messages.insert({ ...sampleMessage(2), remoteId: null });
    assert.notEqual(a, b);
    assert.equal(t.store.messages.get(a)!.remoteId, null);
    t.store.messages.setRemoteId(a, "uploaded" as RemoteMessageId);
    assert.equal(t.store.messages.byRemoteId("uploaded" as RemoteMessageId), a);
    assert.throws(
      () => t.store.messages.setRemoteId(999 as InternalMessageId, null),
      MessageNotFoundError,
    );
  } finally {
    t.cleanup();
  }
});

Deno.test("upsertFromSync() applied twice changes nothing the second time", () => {
  const t = tempStore();
  try {
    const { messages, membership } = t.store;
    const boxes = withMailboxes(t.store);
    const input = sampleMessage(7, { flags: Seen });
    const first = messages.upsertFromSync(input);
    assert.deepEqual(first, { id: first.id, created: true, flagsChanged: false });
    membership.setMessageLabels(first.id, [LABEL.inbox, LABEL.allMail]);
    const before = {
      message: messages.get(first.id),
      inbox: t.store.mailboxes.get(boxes.inbox.id),
    };

    const again = messages.upsertFromSync(input);
    assert.deepEqual(again, { id: first.id, created: false, flagsChanged: false });
    const change = membership.setMessageLabels(first.id, [LABEL.inbox, LABEL.allMail]);
    assert.deepEqual(change, { added: [], removed: [], unknownLabels: [] });
    assert.deepEqual(messages.get(first.id), before.message);
    assert.deepEqual(t.store.mailboxes.get(boxes.inbox.id), before.inbox);
    assert.equal(messages.count(), 1);
  } finally {
    t.cleanup();
  }
});

Deno.test("upsertFromSync() updates content and remote flags, keeps keywords and UIDs", () => {
  const t = tempStore();
  try {
    const { messages, membership } = t.store;
    const boxes = withMailboxes(t.store);
    const { id } = messages.upsertFromSync(sampleMessage(1, { buildError: "no key" }));
    membership.setMessageLabels(id, [LABEL.inbox]);
    messages.setFlags([id], { mode: "add", flags: 0, keywords: ["Later"] });
    assert.deepEqual(messages.failedBuilds(), [{ id, remoteId: "msg-1", reason: "no key" }]);
    const modseqBefore = messages.get(id)!.modseq;

    const result = messages.upsertFromSync(
      sampleMessage(1, { flags: Seen | Answered, size: 5000 }),
    );
    assert.deepEqual(result, { id, created: false, flagsChanged: true });
    const m = messages.get(id)!;
    assert.equal(m.flags, Seen | Answered);
    assert.deepEqual(m.keywords, ["Later"]);
    assert.equal(m.size, 5000);
    assert.equal(m.buildStatus, "ok");
    assert.ok(m.modseq > modseqBefore);
    assert.deepEqual(messages.failedBuilds(), []);
    const [row] = membership.fetchRows(boxes.inbox.id, [uidRange(1)]);
    assert.equal(row.uid, 1);
    assert.equal(row.size, 5000);
    assert.equal(row.flags, Seen | Answered);
    assert.equal(membership.search(boxes.inbox.id, { larger: 4999 }).length, 1);
  } finally {
    t.cleanup();
  }
});

Deno.test("setFlags() adds, removes and replaces, in every mailbox, with one new MODSEQ", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const boxes = withMailboxes(t.store);
    const a = messages.upsertFromSync(sampleMessage(1)).id;
    const b = messages.upsertFromSync(sampleMessage(2, { flags: Seen })).id;
    membership.setMessageLabels(a, [LABEL.inbox, LABEL.allMail]);
    membership.setMessageLabels(b, [LABEL.allMail]);

    const updates = messages.setFlags([a, b, a], { mode: "add", flags: Seen | Flagged });
    assert.equal(updates.length, 2);
    const [ua, ub] = updates;
    assert.equal(ua.modseq, ub.modseq);
    assert.equal(ua.flags, Seen | Flagged);
    assert.deepEqual(ua.memberships, [
      { mailbox: boxes.inbox.id, uid: 1 },
      { mailbox: boxes.allMail.id, uid: 1 },
    ]);
    assert.equal(mailboxes.require(boxes.inbox.id).highestModseq, ua.modseq);
    assert.equal(mailboxes.require(boxes.allMail.id).highestModseq, ua.modseq);
    assert.equal(membership.flagRows(boxes.inbox.id, [uidRange(1)])[0].modseq, ua.modseq);
    // Unrelated mailboxes keep their HIGHESTMODSEQ.
    assert.ok(mailboxes.require(boxes.trash.id).highestModseq < ua.modseq);

    assert.deepEqual(
      messages.setFlags([a], { mode: "add", flags: Seen }),
      [],
      "no change, no MODSEQ",
    );
    assert.equal(messages.get(a)!.modseq, ua.modseq);

    const [removed] = messages.setFlags([a], { mode: "remove", flags: Flagged });
    assert.equal(removed.flags, Seen);
    assert.ok(removed.modseq > ua.modseq);

    const [replaced] = messages.setFlags([a], {
      mode: "replace",
      flags: Draft | Answered,
      keywords: ["b", "a"],
    });
    assert.equal(replaced.flags, Draft | Answered);
    assert.deepEqual(replaced.keywords, ["a", "b"]);
    // Replace without keywords leaves them; remove of a keyword alone is a change.
    assert.deepEqual(messages.setFlags([a], { mode: "replace", flags: Draft | Answered }), []);
    assert.deepEqual(
      messages.setFlags([a], { mode: "remove", flags: 0, keywords: ["a"] })[0].keywords,
      ["b"],
    );
    assert.deepEqual(
      messages.setFlags([999 as InternalMessageId], { mode: "add", flags: Seen }),
      [],
    );
  } finally {
    t.cleanup();
  }
});

Deno.test("setEachFlags() gives each message its own flags under one MODSEQ; flagStates() reads them", () => {
  const t = tempStore();
  try {
    const { inbox: box } = withMailboxes(t.store);
    const { messages, membership, mailboxes } = t.store;
    const [a, b, c] = [1, 2, 3].map((n) => messages.insert(sampleMessage(n, { flags: Seen })));
    membership.add(box.id, [a, b, c]);
    const before = mailboxes.get(box.id)!.highestModseq;
    const updates = messages.setEachFlags([
      { id: a, flags: Seen | Flagged, keywords: ["Work", "$x", "Work"] },
      { id: b, flags: Seen, keywords: [] }, // no change
      { id: c, flags: 0, keywords: [] },
      { id: 999 as InternalMessageId, flags: Seen, keywords: [] },
    ]);
    assert.deepEqual(updates.map((u) => [u.messageId, u.flags, u.keywords]), [
      [a, Seen | Flagged, ["$x", "Work"]],
      [c, 0, []],
    ]);
    const modseq = updates[0].modseq;
    assert.ok(modseq > before);
    assert.equal(updates[1].modseq, modseq);
    assert.deepEqual(updates[0].memberships, membership.memberships(a));
    assert.equal(mailboxes.get(box.id)!.highestModseq, modseq);
    const rows = membership.flagRows(box.id, [uidRange(1, 3)]);
    assert.deepEqual(rows.map((r) => [r.flags, r.modseq === modseq]), [
      [Seen | Flagged, true],
      [Seen, false],
      [0, true],
    ]);
    const states = messages.flagStates([c, a, 999 as InternalMessageId]);
    assert.deepEqual(
      [...states],
      [[c, { flags: 0, keywords: [] }], [a, {
        flags: Seen | Flagged,
        keywords: ["$x", "Work"],
      }]].sort((x, y) => (x[0] as number) - (y[0] as number)),
    );
  } finally {
    t.cleanup();
  }
});

Deno.test("delete() expunges a message everywhere and records the UIDs as vanished", () => {
  const t = tempStore();
  try {
    const { messages, membership } = t.store;
    const boxes = withMailboxes(t.store);
    const keep = messages.upsertFromSync(sampleMessage(1)).id;
    const gone = messages.upsertFromSync(sampleMessage(2)).id;
    membership.setMessageLabels(keep, [LABEL.inbox]);
    membership.setMessageLabels(gone, [LABEL.inbox, LABEL.work]);
    const highest = t.store.mailboxes.require(boxes.inbox.id).highestModseq;

    assert.deepEqual(messages.delete(gone), [
      { mailbox: boxes.inbox.id, uid: 2 },
      { mailbox: boxes.work.id, uid: 1 },
    ]);
    assert.equal(messages.get(gone), undefined);
    assert.deepEqual(membership.uids(boxes.inbox.id), [1]);
    assert.deepEqual(membership.vanishedSince(boxes.inbox.id, highest), [2]);
    assert.ok(t.store.mailboxes.require(boxes.inbox.id).highestModseq > highest);
    assert.deepEqual(messages.delete(gone), []);
  } finally {
    t.cleanup();
  }
});

Deno.test("knownAsOfNow(): messages indexed later do not count", () => {
  const t = tempStore();
  try {
    t.store.messages.insert({ ...sampleMessage(1), remoteId: "before" as RemoteMessageId });
    const known = t.store.messages.knownAsOfNow();
    t.store.messages.insert({ ...sampleMessage(2), remoteId: "after" as RemoteMessageId });
    assert.equal(known("before" as RemoteMessageId), true);
    assert.equal(known("after" as RemoteMessageId), false, "indexed after the predicate was made");
    assert.equal(known("never" as RemoteMessageId), false);
  } finally {
    t.cleanup();
  }
});
