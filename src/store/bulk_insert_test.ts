import assert from "node:assert/strict";
import { sampleMessage, uidRange, withMailboxes } from "./_test_utils.ts";
import type { MailboxId } from "./ids.ts";
import { MailboxNotFoundError } from "./mailboxes.ts";
import { MessageFlag } from "./messages.ts";
import { Store } from "./store.ts";

Deno.test("BulkInsert.insertNew hands out UIDs from UIDNEXT in order, one mod-sequence per run", () => {
  const store = Store.open(":memory:");
  try {
    const box = withMailboxes(store);
    // INBOX already has a message: the run continues after it.
    const earlier = store.messages.insert({ ...sampleMessage(0), keywords: [] });
    store.membership.add(box.inbox.id, [earlier]);
    const before = store.mailboxes.require(box.inbox.id).highestModseq;
    const result = store.bulk.insertNew([
      { ...sampleMessage(1), mailboxes: [box.allMail.id, box.inbox.id] },
      { ...sampleMessage(2, { flags: MessageFlag.Seen | 64 }), mailboxes: [box.allMail.id] },
      {
        ...sampleMessage(3, { buildError: "no key" }),
        mailboxes: [box.work.id, box.inbox.id, box.work.id],
      },
      { ...sampleMessage(4), mailboxes: [] },
    ]);
    assert.deepEqual(result.map((r) => r.added.map((a) => [a.mailbox, a.uid])), [
      [[box.inbox.id, 2], [box.allMail.id, 1]],
      [[box.allMail.id, 2]],
      [[box.inbox.id, 3], [box.work.id, 1]],
      [],
    ]);
    const inbox = store.mailboxes.require(box.inbox.id);
    assert.equal(inbox.uidNext, 4);
    assert.equal(store.mailboxes.require(box.allMail.id).uidNext, 3);
    assert.equal(store.mailboxes.require(box.trash.id).uidNext, 1);
    const m2 = store.messages.get(result[1].id)!;
    assert.equal(m2.flags, MessageFlag.Seen); // unknown bits dropped
    assert.equal(m2.remoteId, "msg-2");
    assert.deepEqual(m2.keywords, []);
    assert.equal(store.messages.get(result[2].id)!.buildStatus, "failed");
    assert.equal(store.messages.get(result[2].id)!.buildError, "no key");
    const modseqs = new Set(result.map((r) => store.messages.get(r.id)!.modseq));
    assert.equal(modseqs.size, 1);
    const [modseq] = modseqs;
    assert.ok(modseq > before);
    assert.equal(inbox.highestModseq, modseq);
    const rows = store.membership.fetchRows(box.inbox.id, [uidRange(1, 10)]);
    assert.deepEqual(rows.map((r) => [r.uid, r.remoteId, r.modseq === modseq]), [
      [1, "msg-0", false],
      [2, "msg-1", true],
      [3, "msg-3", true],
    ]);
    assert.deepEqual(store.bulk.insertNew([]), []);
  } finally {
    store.close();
  }
});

Deno.test("BulkInsert.insertNew writes nothing when it fails", () => {
  const store = Store.open(":memory:");
  try {
    const box = withMailboxes(store);
    store.bulk.insertNew([{ ...sampleMessage(1), mailboxes: [box.inbox.id] }]);
    const count = () => [store.messages.count(), store.mailboxes.require(box.inbox.id).uidNext];
    const before = count();
    assert.throws(
      () =>
        store.bulk.insertNew([
          { ...sampleMessage(2), mailboxes: [box.inbox.id] },
          { ...sampleMessage(3), mailboxes: [999 as MailboxId] },
        ]),
      MailboxNotFoundError,
    );
    assert.throws(() =>
      store.bulk.insertNew([
        { ...sampleMessage(4), mailboxes: [box.inbox.id] },
        { ...sampleMessage(1), mailboxes: [box.inbox.id] }, // already indexed
      ])
    );
    assert.deepEqual(count(), before);
    // Inside the caller's transaction it is a savepoint: the caller decides.
    assert.throws(() =>
      store.transaction(() => {
        store.bulk.insertNew([{ ...sampleMessage(5), mailboxes: [box.trash.id] }]);
        throw new Error("caller fails");
      })
    );
    assert.deepEqual(count(), before);
  } finally {
    store.close();
  }
});
