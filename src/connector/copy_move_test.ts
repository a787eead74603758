import assert from "node:assert/strict";
import { type Mailbox, Store, type Uid } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import {
  copyMessages,
  copyRefusal,
  moveMessages,
  moveRefusal,
  moveUnlabelsSource,
} from "./copy_move.ts";
import { fakeContext } from "./_fake_account.ts";
import { ensureRecoveryMailbox } from "./recovery_mailbox.ts";

function byName(store: Store, name: string): Mailbox {
  return store.mailboxes.byName(name)!;
}

Deno.test("copy/move rules: refusals and when MOVE unlabels the source", () => {
  const store = Store.open(":memory:");
  try {
    fakeContext(store);
    const [inbox, sent, all, scheduled, tag, work, starred] = [
      "INBOX",
      "Sent",
      "All Mail",
      "Scheduled",
      "Labels/Tag",
      "Folders/Work",
      "Starred",
    ].map((n) => byName(store, n));
    const recovery = ensureRecoveryMailbox(store).mailbox;
    assert.match(copyRefusal(all)!, /All Mail/);
    assert.match(copyRefusal(scheduled)!, /Scheduled/);
    assert.match(copyRefusal(recovery)!, /Recovered Messages/);
    assert.equal(copyRefusal(tag), undefined);
    assert.equal(copyRefusal(inbox), undefined);
    assert.match(moveRefusal(inbox, sent)!, /INBOX and Sent/);
    assert.match(moveRefusal(sent, inbox)!, /INBOX and Sent/);
    assert.match(moveRefusal(all, work)!, /All Mail/);
    assert.match(moveRefusal(scheduled, work)!, /Scheduled/);
    assert.match(moveRefusal(work, work)!, /same/);
    assert.equal(moveRefusal(inbox, work), undefined);
    assert.ok(moveUnlabelsSource(tag, work));
    assert.ok(moveUnlabelsSource(tag, tag));
    assert.ok(moveUnlabelsSource(inbox, work));
    assert.ok(moveUnlabelsSource(starred, byName(store, "Archive")));
    assert.ok(!moveUnlabelsSource(work, tag));
    assert.ok(moveUnlabelsSource(inbox, starred));
  } finally {
    store.close();
  }
});

Deno.test("copy: API first, then the index follows the server; failure changes nothing", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const id = f.add("m1");
    const inbox = byName(store, "INBOX");
    const tag = byName(store, "Labels/Tag");
    const uid = store.membership.uidOf(inbox.id, id)!;

    f.api.fail = new Error("boom");
    await assert.rejects(
      copyMessages(f.ctx, "s", inbox.id, [uid], tag.id),
      (e) => e instanceof MailboxOperationError && e.code === "CANNOT" && /boom/.test(e.message),
    );
    assert.equal(store.membership.uidOf(tag.id, id), undefined);
    assert.equal(f.published.length, 0);

    const r = await copyMessages(f.ctx, "s", inbox.id, [uid, 999 as Uid], tag.id);
    assert.deepEqual(f.api.calls.slice(-2), ["label L", "metadata"]);
    assert.deepEqual(r.sourceUids, [uid]);
    assert.deepEqual(r.destUids, [store.membership.uidOf(tag.id, id)]);
    assert.deepEqual(r.expunged, []);
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(f.published.map((p) => [p.origin, p.update.kind]), [
      ["s", "MembershipChanged"],
    ]);
    // Nothing picked: nothing called.
    const calls = f.api.calls.length;
    assert.deepEqual((await copyMessages(f.ctx, "s", inbox.id, [], tag.id)).sourceUids, []);
    assert.equal(f.api.calls.length, calls);
    // Copied again into the label that holds it, or into its own mailbox: no new copy, so no
    // COPYUID pair (the existing UID would pass for a copy); a new one beside it still counts.
    assert.deepEqual((await copyMessages(f.ctx, "s", inbox.id, [uid], tag.id)).sourceUids, []);
    assert.deepEqual((await copyMessages(f.ctx, "s", inbox.id, [uid], inbox.id)).destUids, []);
    const id2 = f.add("m2");
    const uid2 = store.membership.uidOf(inbox.id, id2)!;
    const both = await copyMessages(f.ctx, "s", inbox.id, [uid, uid2], tag.id);
    assert.deepEqual(both.sourceUids, [uid2]);
    assert.deepEqual(both.destUids, [store.membership.uidOf(tag.id, id2)]);
  } finally {
    store.close();
  }
});

Deno.test("move: label → folder unlabels the source; folder → label keeps the folder", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const id = f.add("m1", { LabelIDs: ["0", "5", "L"] });
    const tag = byName(store, "Labels/Tag");
    const work = byName(store, "Folders/Work");
    const inTag = store.membership.uidOf(tag.id, id)!;
    const r = await moveMessages(f.ctx, "s", tag.id, [inTag], work.id);
    assert.deepEqual(f.api.calls, ["label F", "metadata", "unlabel L", "metadata"]);
    assert.deepEqual(r.expunged, [inTag]);
    assert.equal(store.membership.uidOf(byName(store, "INBOX").id, id), undefined);

    f.api.calls = [];
    const inWork = store.membership.uidOf(work.id, id)!;
    const r2 = await moveMessages(f.ctx, "s", work.id, [inWork], tag.id);
    assert.deepEqual(f.api.calls, ["label L", "metadata"]);
    assert.deepEqual(r2.expunged, []);
    assert.equal(store.membership.uidOf(work.id, id), inWork);
  } finally {
    store.close();
  }
});

Deno.test("move: what the server does not take into the destination stays in the source", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const drafts = byName(store, "Drafts");
    const inbox = byName(store, "INBOX");
    const d1 = f.add("d1", { LabelIDs: ["8", "1", "5"], Flags: 0 });
    const d2 = f.add("d2", { LabelIDs: ["8", "1", "5"], Flags: 0 });
    const [u1, u2] = [
      store.membership.uidOf(drafts.id, d1)!,
      store.membership.uidOf(drafts.id, d2)!,
    ];
    // The API answers OK but keeps drafts out of INBOX.
    f.api.silentlyRefuse = (m, labelId) => labelId === "0" && m.ID === "d1";
    const r = await moveMessages(f.ctx, "s", drafts.id, [u1, u2], inbox.id);
    assert.deepEqual(r.sourceUids, [u2]);
    assert.deepEqual(r.expunged, [u2]);
    assert.equal(store.membership.uidOf(drafts.id, d1), u1, "d1 stays a draft");
    assert.deepEqual(f.api.messages.get("d1")!.LabelIDs, ["8", "1", "5"]);
    // Nothing taken at all: NO [CANNOT], nothing changed.
    await assert.rejects(
      moveMessages(f.ctx, "s", drafts.id, [u1], inbox.id),
      (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
    );
    assert.equal(store.membership.uidOf(drafts.id, d1), u1);
  } finally {
    store.close();
  }
});

Deno.test("copy: local-only messages are refused", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const recovery = ensureRecoveryMailbox(store).mailbox;
    const id = store.messages.insert({
      remoteId: null,
      addressId: null,
      internalDate: 1,
      size: 1,
      envelope: "",
      bodyStructure: "",
      body: "",
      header: new Uint8Array(),
      flags: 0,
    });
    const [uid] = store.membership.add(recovery.id, [id]);
    await assert.rejects(
      copyMessages(f.ctx, "s", recovery.id, [uid], byName(store, "INBOX").id),
      (e) => e instanceof MailboxOperationError && /only in this bridge/.test(e.message),
    );
  } finally {
    store.close();
  }
});

Deno.test("copy/move: done on the server, read-back failed: OK without COPYUID, not NO", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const id = f.add("m1");
    const inbox = byName(store, "INBOX");
    const tag = byName(store, "Labels/Tag");
    const work = byName(store, "Folders/Work");
    const uid = store.membership.uidOf(inbox.id, id)!;
    // COPY: labelled, the read-back fails: nothing is left to do, so OK (a NO would make the
    // client try again what is done); the index follows with the event.
    f.api.failOn = "metadata";
    const r = await copyMessages(f.ctx, "s", inbox.id, [uid], tag.id);
    assert.deepEqual([r.sourceUids, r.destUids, r.expunged], [[], [], []]);
    assert.ok(f.api.messages.get("m1")!.LabelIDs.includes("L"));
    assert.equal(store.membership.uidOf(tag.id, id), undefined, "the event brings it");
    // MOVE from a folder into a label (the folder stays): the label call is the whole move.
    const inWork = store.membership.uidOf(work.id, f.add("m2", { LabelIDs: ["F", "5"] }))!;
    f.api.failOn = "metadata";
    const m = await moveMessages(f.ctx, "s", work.id, [inWork], tag.id);
    assert.deepEqual(m.expunged, []);
    assert.ok(f.api.messages.get("m2")!.LabelIDs.includes("L"));
    // MOVE out of INBOX needs the read-back to know what landed and may leave: still NO (the
    // retry finds the messages and finishes the move).
    f.api.failOn = "metadata";
    await assert.rejects(
      moveMessages(f.ctx, "s", inbox.id, [uid], work.id),
      MailboxOperationError,
    );
  } finally {
    store.close();
  }
});
