import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { LABEL, sampleMessage, tempStore, uidRange, withMailboxes } from "./_test_utils.ts";
import type { RemoteAddressId, Uid } from "./ids.ts";
import { AddressMembership } from "./address_membership.ts";
import { MailboxNotFoundError } from "./mailboxes.ts";
import { MessageFlag } from "./messages.ts";

const A = "addr-a" as RemoteAddressId;
const B = "addr-b" as RemoteAddressId;

/** INBOX holding, by UID: 1 A (seen), 2 B, 3 A, 4 B (seen, flagged), 5 A; plus a local one. */
function fixture() {
  const t = tempStore();
  const { store } = t;
  const boxes = withMailboxes(store);
  const owners = [A, B, A, B, A];
  const ids = owners.map((addressId, i) =>
    store.messages.upsertFromSync(sampleMessage(i + 1, {
      addressId,
      flags: i === 0 ? MessageFlag.Seen : i === 3 ? MessageFlag.Seen | MessageFlag.Flagged : 0,
    })).id
  );
  for (const id of ids) store.membership.setMessageLabels(id, [LABEL.inbox, LABEL.allMail]);
  const local = store.messages.insert({ ...sampleMessage(9), remoteId: null, addressId: null });
  store.membership.add(boxes.recovered.id, [local]);
  return { t, store, boxes, ids, local };
}

Deno.test("forAddress(): the read side shows only that address's messages, with the same UIDs", () => {
  const { t, store, boxes, ids } = fixture();
  try {
    const a = store.forAddress(A);
    const b = store.forAddress(B);
    assert.ok(a.membership instanceof AddressMembership);
    assert.equal(a.addressId, A);
    assert.equal(store.addressId, undefined);
    const inbox = boxes.inbox.id;

    assert.deepEqual(store.membership.uids(inbox), [1, 2, 3, 4, 5]);
    assert.deepEqual(a.membership.uids(inbox), [1, 3, 5]);
    assert.deepEqual(b.membership.uids(inbox), [2, 4]);
    assert.equal(a.membership.count(inbox), 3);
    assert.equal(b.membership.count(boxes.allMail.id), 2);

    // Sequence numbers count this view only; a UID of the other address is not there.
    assert.equal(a.membership.seqOfUid(inbox, 5 as Uid), 3);
    assert.equal(a.membership.seqOfUid(inbox, 2 as Uid), undefined);
    assert.equal(b.membership.uidAtSeq(inbox, 2), 4);
    assert.equal(b.membership.uidAtSeq(inbox, 3), undefined);
    assert.equal(a.membership.messageAt(inbox, 3 as Uid), ids[2]);
    assert.equal(a.membership.messageAt(inbox, 4 as Uid), undefined);

    // SELECT: UIDNEXT, UIDVALIDITY and HIGHESTMODSEQ are the mailbox's (upper bounds).
    const all = store.membership.selectInfo(inbox);
    const sa = a.membership.selectInfo(inbox);
    const sb = b.membership.selectInfo(inbox);
    assert.equal(sa.exists, 3);
    assert.equal(sa.unseenSeq, 2); // UID 3
    assert.equal(sb.exists, 2);
    assert.equal(sb.unseenSeq, 1); // UID 2
    for (const s of [sa, sb]) {
      assert.equal(s.uidNext, all.uidNext);
      assert.equal(s.uidValidity, all.uidValidity);
      assert.equal(s.highestModseq, all.highestModseq);
    }

    const st = a.membership.status(inbox);
    assert.deepEqual(
      { messages: st.messages, unseen: st.unseen, deleted: st.deleted, size: st.size },
      { messages: 3, unseen: 2, deleted: 0, size: 1001 + 1003 + 1005 },
    );
    assert.equal(st.uidNext, 6);
    assert.equal(b.membership.status(inbox).unseen, 1);
    assert.throws(() => a.membership.status(999 as never), MailboxNotFoundError);

    // FETCH rows and SEARCH.
    assert.deepEqual(a.membership.flagRows(inbox, [uidRange(1, 5)]).map((r) => r.uid), [1, 3, 5]);
    assert.deepEqual(b.membership.fetchRows(inbox, [uidRange(1, 3)]).map((r) => r.uid), [2]);
    assert.deepEqual(a.membership.search(inbox, {}), [1, 3, 5]);
    assert.deepEqual(b.membership.search(inbox, { flagsSet: MessageFlag.Flagged }), [4]);
    assert.deepEqual(a.membership.search(inbox, { flagsSet: MessageFlag.Flagged }), []);
    assert.deepEqual(a.membership.search(inbox, { uids: [uidRange(2, 4)] }), [3]);
    assert.deepEqual(b.membership.changedSince(inbox, 0).map((r) => r.uid), [2, 4]);
  } finally {
    t.cleanup();
  }
});

Deno.test("forAddress(): local messages without an address show to every address", () => {
  const { t, store, boxes } = fixture();
  try {
    assert.deepEqual(store.forAddress(A).membership.uids(boxes.recovered.id), [1]);
    assert.deepEqual(store.forAddress(B).membership.uids(boxes.recovered.id), [1]);
  } finally {
    t.cleanup();
  }
});

Deno.test("forAddress(): EXPUNGE expunges only this address's \\Deleted; writes reach the file", () => {
  const { t, store, boxes, ids } = fixture();
  try {
    const a = store.forAddress(A);
    const inbox = boxes.inbox.id;
    // \Deleted on UIDs of both addresses, set through the full store.
    store.membership.setDeleted(inbox, [1, 2] as Uid[], true);
    assert.equal(a.membership.status(inbox).deleted, 1);
    // DELETED-STORAGE counts this address's \Deleted message only (UID 1, 1001 bytes).
    assert.equal(a.membership.status(inbox).deletedSize, 1001);
    assert.equal(store.membership.status(inbox).deletedSize, 1001 + 1002);
    assert.deepEqual(a.membership.expungeDeleted(inbox), [1]);
    assert.deepEqual(store.membership.uids(inbox), [2, 3, 4, 5]);
    assert.deepEqual(store.membership.search(inbox, { deleted: true }), [2]);

    // The view writes through to the same file: a new message of A gets the mailbox's UIDNEXT.
    const id = a.messages.upsertFromSync(sampleMessage(6, { addressId: A })).id;
    a.membership.setMessageLabels(id, [LABEL.inbox]);
    assert.deepEqual(a.membership.uids(inbox), [3, 5, 6]);
    assert.equal(store.membership.uidOf(inbox, id), 6);
    // uidOf and memberships are the whole table's (the connector and the sync need them).
    assert.equal(a.membership.uidOf(inbox, ids[1]), 2);

    // Closing a view leaves the store open.
    a.close();
    assert.equal(store.membership.count(inbox), 5);
  } finally {
    t.cleanup();
  }
});

Deno.test("forAddress(): vanishedSince names only this address's expunged UIDs (and ownerless ones)", () => {
  const { t, store, boxes } = fixture();
  try {
    const inbox = boxes.inbox.id;
    const before = store.mailboxes.get(inbox)!.highestModseq;
    store.membership.remove(inbox, [2, 3] as Uid[]); // 2 is B's, 3 is A's
    // A record from before schema version 3 has no address: everyone's.
    const raw = new DatabaseSync(t.path);
    raw.prepare("INSERT INTO mailbox_expunged (mailbox_id, uid, modseq) VALUES (?, 40, ?)")
      .run(inbox, before + 10);
    raw.close();
    assert.deepEqual(store.membership.vanishedSince(inbox, before), [2, 3, 40]);
    assert.deepEqual(store.forAddress(A).membership.vanishedSince(inbox, before), [3, 40]);
    assert.deepEqual(store.forAddress(B).membership.vanishedSince(inbox, before), [2, 40]);
    assert.deepEqual(store.forAddress(A).membership.vanishedSince(inbox, before + 10), []);
  } finally {
    t.cleanup();
  }
});
