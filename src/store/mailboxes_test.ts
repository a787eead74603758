import assert from "node:assert/strict";
import { LABEL, sampleMessage, tempStore } from "./_test_utils.ts";
import { UID_VALIDITY_EPOCH_S } from "./counters.ts";
import type { MailboxId, RemoteLabelId } from "./ids.ts";
import { MailboxExistsError, MailboxNotFoundError } from "./mailboxes.ts";

const EPOCH_MS = UID_VALIDITY_EPOCH_S * 1000;

Deno.test("Mailboxes create, find, list, update and delete", () => {
  const t = tempStore();
  try {
    const { mailboxes } = t.store;
    const inbox = mailboxes.create({
      name: "INBOX",
      kind: "system",
      remoteId: LABEL.inbox,
      attributes: ["\\Noinferiors"],
    });
    const recovered = mailboxes.create({ name: "Recovered Messages", kind: "local" });
    assert.equal(inbox.uidNext, 1);
    assert.ok(inbox.highestModseq >= 1);
    assert.equal(inbox.subscribed, true);
    assert.equal(recovered.remoteId, null);
    assert.deepEqual(mailboxes.get(inbox.id), inbox);
    assert.deepEqual(mailboxes.byName("INBOX"), inbox);
    assert.deepEqual(mailboxes.byRemoteId(LABEL.inbox), inbox);
    assert.equal(mailboxes.byName("inbox"), undefined);
    assert.deepEqual(mailboxes.list().map((m) => m.name), ["INBOX", "Recovered Messages"]);

    const updated = mailboxes.update(recovered.id, { subscribed: false, attributes: ["\\Marked"] });
    assert.equal(updated.subscribed, false);
    assert.deepEqual(updated.attributes, ["\\Marked"]);
    assert.equal(updated.uidValidity, recovered.uidValidity);
    assert.throws(
      () => mailboxes.update(recovered.id, { remoteId: LABEL.inbox }),
      MailboxExistsError,
    );

    assert.throws(() => mailboxes.create({ name: "INBOX", kind: "folder" }), MailboxExistsError);
    assert.throws(
      () => mailboxes.create({ name: "Other", kind: "folder", remoteId: LABEL.inbox }),
      /Mailbox with remote ID "0" already exists/,
    );
    mailboxes.delete(recovered.id);
    assert.equal(mailboxes.get(recovered.id), undefined);
    assert.throws(() => mailboxes.require(recovered.id), MailboxNotFoundError);
    // IDs are never reused.
    assert.ok(mailboxes.create({ name: "Again", kind: "folder" }).id > recovered.id);
  } finally {
    t.cleanup();
  }
});

Deno.test("deleting a mailbox drops its UIDs but keeps the messages", () => {
  const t = tempStore();
  try {
    const { mailboxes, messages, membership } = t.store;
    const a = mailboxes.create({ name: "A", kind: "folder" });
    const b = mailboxes.create({ name: "B", kind: "folder" });
    const id = messages.insert(sampleMessage(1));
    membership.add(a.id, [id]);
    membership.add(b.id, [id]);
    mailboxes.delete(a.id);
    assert.deepEqual(membership.memberships(id), [{ mailbox: b.id, uid: 1 }]);
    assert.ok(messages.get(id));
  } finally {
    t.cleanup();
  }
});

Deno.test("UIDVALIDITY comes from the clock and strictly increases, even within one second", () => {
  let now = EPOCH_MS + 1_000_000_500; // 1,000,000.5 s after the epoch
  const t = tempStore({ now: () => now });
  try {
    const names = ["A", "B", "C"];
    const values = names.map((name) =>
      t.store.mailboxes.create({ name, kind: "folder" }).uidValidity
    );
    assert.deepEqual(values, [1_000_000, 1_000_001, 1_000_002]);
    now += 60_000;
    assert.equal(t.store.mailboxes.create({ name: "D", kind: "folder" }).uidValidity, 1_000_060);
  } finally {
    t.cleanup();
  }
});

Deno.test("UIDVALIDITY never decreases when the clock goes back, across restarts", () => {
  let now = EPOCH_MS + 5_000_000;
  const t = tempStore({ now: () => now });
  try {
    const first = t.store.mailboxes.create({ name: "A", kind: "folder" }).uidValidity;
    now = EPOCH_MS + 10_000; // clock set back by weeks
    const store = t.reopen();
    const second = store.mailboxes.create({ name: "B", kind: "folder" }).uidValidity;
    assert.equal(second, first + 1);
    now = EPOCH_MS - 1_000_000; // before the epoch
    assert.equal(store.mailboxes.create({ name: "C", kind: "folder" }).uidValidity, first + 2);
  } finally {
    t.cleanup();
  }
});

Deno.test("bumpUidValidity() only goes up and nothing else changes UIDVALIDITY", () => {
  let now = EPOCH_MS + 2_000_000;
  const t = tempStore({ now: () => now });
  try {
    const { mailboxes, messages, membership } = t.store;
    const box = mailboxes.create({
      name: "Folders/A",
      kind: "folder",
      remoteId: "f1" as RemoteLabelId,
    });
    const before = box.uidValidity;
    const id = messages.insert(sampleMessage(1));
    membership.add(box.id, [id]);
    mailboxes.rename(box.id, "Folders/B");
    mailboxes.update(box.id, { subscribed: false });
    messages.setFlags([id], { mode: "add", flags: 1 });
    membership.removeMessage(id);
    assert.equal(mailboxes.require(box.id).uidValidity, before);

    now = EPOCH_MS; // the clock went back
    const bumped = mailboxes.bumpUidValidity(box.id);
    assert.ok(bumped > before);
    assert.equal(mailboxes.require(box.id).uidValidity, bumped);
    assert.ok(mailboxes.bumpUidValidity(box.id) > bumped);
    assert.throws(() => mailboxes.bumpUidValidity(999 as MailboxId), MailboxNotFoundError);
  } finally {
    t.cleanup();
  }
});

Deno.test("rename() moves inferiors along with a delimiter and refuses clashes", () => {
  const t = tempStore();
  try {
    const { mailboxes } = t.store;
    const make = (name: string) => mailboxes.create({ name, kind: "folder" });
    const a = make("Folders/a");
    const child = make("Folders/a/x");
    const grandchild = make("Folders/a/x/y");
    const sibling = make("Folders/ab");
    make("Folders/taken");

    assert.deepEqual(mailboxes.rename(a.id, "Folders/b", { delimiter: "/" }), [
      { id: a.id, oldName: "Folders/a", newName: "Folders/b" },
      { id: child.id, oldName: "Folders/a/x", newName: "Folders/b/x" },
      { id: grandchild.id, oldName: "Folders/a/x/y", newName: "Folders/b/x/y" },
    ]);
    assert.equal(mailboxes.require(sibling.id).name, "Folders/ab");
    assert.equal(mailboxes.require(grandchild.id).uidValidity, grandchild.uidValidity);

    assert.throws(() => mailboxes.rename(a.id, "Folders/taken"), MailboxExistsError);
    assert.throws(() => mailboxes.rename(a.id, "Folders/b/x/z", { delimiter: "/" }), RangeError);
    // Without a delimiter only the mailbox itself moves.
    mailboxes.rename(child.id, "Elsewhere");
    assert.equal(mailboxes.require(grandchild.id).name, "Folders/b/x/y");
    assert.deepEqual(mailboxes.rename(a.id, "Folders/b"), []);
  } finally {
    t.cleanup();
  }
});

Deno.test("a failed rename changes no name", () => {
  const t = tempStore();
  try {
    const { mailboxes } = t.store;
    const a = mailboxes.create({ name: "a", kind: "folder" });
    mailboxes.create({ name: "a/x", kind: "folder" });
    mailboxes.create({ name: "b/x", kind: "folder" });
    assert.throws(() => mailboxes.rename(a.id, "b", { delimiter: "/" }), MailboxExistsError);
    assert.deepEqual(mailboxes.list().map((m) => m.name), ["a", "a/x", "b/x"]);
  } finally {
    t.cleanup();
  }
});
