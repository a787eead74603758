import assert from "node:assert/strict";
import { FakeSession, LocalAccount } from "../_test_account.ts";
import { withAck } from "../../connector/updates.ts";
import { sampleMessage } from "../../store/_test_utils.ts";
import { type RemoteAddressId, type RemoteLabelId, Store, type Uid } from "../../store/mod.ts";
import { CollectingSink, Encoder, SequenceSet } from "../wire/mod.ts";
import { MailboxView, rangesContain } from "./mailbox_view.ts";

const msg = (n: number) => `Subject: m${n}\r\nFrom: a@b.c\r\n\r\nbody ${n}\r\n`;

Deno.test("MailboxView: resolves sequence and UID sets against the snapshot", () => {
  const account = new LocalAccount();
  try {
    for (let i = 1; i <= 5; i++) account.add(msg(i), ["INBOX"]);
    const session = new FakeSession(account);
    const view = session.selectByName("INBOX");
    assert.equal(view.exists, 5);
    assert.deepEqual(view.resolve(SequenceSet.parse("2:3,5"), false), [2, 3, 5]);
    assert.deepEqual(view.resolve(SequenceSet.parse("*"), false), [5]);
    assert.equal(view.resolve(SequenceSet.parse("6"), false), undefined);
    assert.deepEqual(view.resolve(SequenceSet.parse("4:*"), true), [4, 5]);
    assert.deepEqual(view.resolve(SequenceSet.parse("9:*"), true), [5]);
    assert.deepEqual(view.resolve(SequenceSet.parse("7:8"), true), []);
  } finally {
    account.close();
  }
});

Deno.test("MailboxView: queues updates and flushes EXPUNGE only when allowed", async () => {
  const account = new LocalAccount();
  try {
    for (let i = 1; i <= 4; i++) account.add(msg(i), ["INBOX"]);
    const a = new FakeSession(account, "a");
    const b = new FakeSession(account, "b");
    const va = a.selectByName("INBOX");
    b.selectByName("INBOX");
    await account.storeFlags("b", va.mailboxId, [2 as never, 3 as never], {
      mode: "add",
      flags: ["\\Deleted", "\\Seen"],
    });
    await account.expunge("b", va.mailboxId);
    account.add(msg(5), ["INBOX"]);
    await new Promise((r) => setTimeout(r, 0));
    assert.ok(va.hasPending);
    await a.flushUpdates(false);
    // No expunge yet: the new message is number 5 (2 and 3 still hold their numbers).
    assert.equal(a.output, "* 5 EXISTS\r\n");
    assert.equal(va.exists, 5);
    a.output = "";
    await a.flushUpdates(true);
    assert.equal(a.output, "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n");
    assert.deepEqual(va.uids, [1, 4, 5]);
  } finally {
    account.close();
  }
});

Deno.test("MailboxView: flag changes are read from the store at flush time", async () => {
  const account = new LocalAccount();
  try {
    account.add(msg(1), ["INBOX"]);
    const a = new FakeSession(account, "a");
    const va = a.selectByName("INBOX");
    await account.storeFlags("other", va.mailboxId, [1 as never], {
      mode: "add",
      flags: ["\\Flagged", "$Junk"],
    });
    await new Promise((r) => setTimeout(r, 0));
    a.enable("CONDSTORE");
    await a.flushUpdates(false);
    assert.match(a.output, /^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \$Junk\) MODSEQ \(\d+\)\)\r\n$/);
  } finally {
    account.close();
  }
});

Deno.test("MailboxView: forgetFlagChanges drops queued flag changes of those UIDs only", async () => {
  const account = new LocalAccount();
  try {
    account.add(msg(1), ["INBOX"]);
    account.add(msg(2), ["INBOX"]);
    const a = new FakeSession(account, "a");
    const va = a.selectByName("INBOX");
    await account.storeFlags("a", va.mailboxId, [1 as never, 2 as never], {
      mode: "add",
      flags: ["\\Flagged"],
    });
    await new Promise((r) => setTimeout(r, 0));
    va.forgetFlagChanges([1 as never]);
    await a.flushUpdates(false);
    assert.equal(a.output, "* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\n");
    assert.equal(va.hasPending, false);
  } finally {
    account.close();
  }
});

Deno.test("MailboxView: a UID whose creation arrives after the selection is still expunged", async () => {
  const account = new LocalAccount();
  try {
    const a = new FakeSession(account, "a");
    account.add(msg(1), ["INBOX"]);
    account.add(msg(2), ["INBOX"]);
    // The view is built before the bus delivers the MessagesCreated of UIDs 1 and 2.
    const va = a.selectByName("INBOX");
    await new Promise((r) => setTimeout(r, 0));
    await account.storeFlags("b", va.mailboxId, [1 as never], {
      mode: "add",
      flags: ["\\Deleted"],
    });
    await account.expunge("b", va.mailboxId);
    await new Promise((r) => setTimeout(r, 0));
    await a.flushUpdates(true);
    assert.equal(a.output, "* 1 EXPUNGE\r\n");
    assert.deepEqual(va.uids, [2]);
  } finally {
    account.close();
  }
});

Deno.test("MailboxView: over one address's store, only that address's messages are told", () => {
  const store = Store.open(":memory:");
  try {
    const box = store.mailboxes.create({
      name: "INBOX",
      kind: "system",
      remoteId: "0" as RemoteLabelId,
    });
    const put = (n: number, address: string) => {
      const id = store.messages.upsertFromSync(sampleMessage(n, {
        addressId: address as RemoteAddressId,
      })).id;
      return store.membership.setMessageLabels(id, ["0" as RemoteLabelId]).added[0].uid;
    };
    put(1, "A");
    put(2, "B");
    put(3, "A");
    const split = store.forAddress("A" as RemoteAddressId);
    const view = new MailboxView({
      store: split,
      mailbox: store.mailboxes.require(box.id),
      readOnly: false,
    });
    assert.deepEqual(view.uids, [1, 3]);
    assert.equal(view.exists, 2);
    assert.deepEqual(view.resolve(SequenceSet.parse("2"), false), [3]);
    assert.deepEqual(view.resolve(SequenceSet.parse("1:*"), true), [1, 3]);

    // New messages of both addresses arrive; only A's becomes EXISTS.
    const b = put(4, "B");
    const a = put(5, "A");
    view.enqueue(withAck({ kind: "MessagesCreated", mailbox: box.id, uids: [b, a] }));
    // B's flags change and B's first message is expunged: neither is reported.
    store.membership.setDeleted(box.id, [2 as Uid], true);
    view.enqueue(withAck({
      kind: "FlagsChanged",
      changes: [{
        messageId: store.membership.messageAt(box.id, 2 as Uid)!,
        flags: 0,
        keywords: [],
        modseq: 1,
        memberships: [{ mailbox: box.id, uid: 2 as Uid }],
      }],
    }));
    store.membership.remove(box.id, [2 as Uid]);
    view.enqueue(withAck({ kind: "MessagesExpunged", mailbox: box.id, uids: [2 as Uid] }));
    const sink = new CollectingSink();
    const e = new Encoder(sink);
    view.flush(e, { expunge: true, modseq: false });
    e.flush();
    assert.equal(new TextDecoder().decode(sink.toBytes()), "* 3 EXISTS\r\n");
    assert.deepEqual(view.uids, [1, 3, 5]);
  } finally {
    store.close();
  }
});

Deno.test("rangesContain: the union of ranges in any order, reversed or overlapping", () => {
  const has = rangesContain([[10, 12], [1, 3], [5, 4], [2, 6], [100, 100], [13, 13]]);
  const inside = [1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 100];
  for (let n = 0; n <= 101; n++) assert.equal(has(n), inside.includes(n), `${n}`);
  assert.equal(rangesContain([])(1), false);
  // Thousands of ranges stay cheap (one merge, then a binary search per number).
  const many = Array.from({ length: 5000 }, (_, i): [number, number] => [i * 3, i * 3 + 1]);
  const test = rangesContain(many);
  assert.equal(test(14_998), true);
  assert.equal(test(14_999), false);
});
