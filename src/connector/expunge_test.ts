import assert from "node:assert/strict";
import { type InternalMessageId, Store } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { expungeDeletesPermanently, expungeMailbox, leftNowhere } from "./expunge.ts";
import { fakeContext } from "./_fake_account.ts";
import { storeLocalMessage } from "./recovery_mailbox.ts";
import { parseImapFlags } from "./flag_mapping.ts";

Deno.test("leftNowhere / expungeDeletesPermanently", () => {
  assert.ok(leftNowhere({ LabelIDs: ["5", "1", "2", "12"] }));
  assert.ok(leftNowhere({ LabelIDs: [] }));
  assert.ok(!leftNowhere({ LabelIDs: ["5", "L"] }));
  assert.ok(!leftNowhere({ LabelIDs: ["5", "10"] }));
  // A draft expunged from Drafts: its star is no location (the old version of a starred draft).
  assert.ok(leftNowhere({ LabelIDs: ["5", "1", "10"] }, true));
  assert.ok(!leftNowhere({ LabelIDs: ["5", "1", "10", "L"] }, true));
  assert.ok(expungeDeletesPermanently("3"));
  assert.ok(expungeDeletesPermanently("8"));
  assert.ok(!expungeDeletesPermanently("0"));
  assert.ok(!expungeDeletesPermanently(null));
});

Deno.test("expunge: only \\Deleted UIDs (within the given ones); folder unlabels", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const work = store.mailboxes.byName("Folders/Work")!;
    const a = f.add("a", { LabelIDs: ["F", "5"] });
    const b = f.add("b", { LabelIDs: ["F", "5"] });
    const ua = store.membership.uidOf(work.id, a)!;
    const ub = store.membership.uidOf(work.id, b)!;
    assert.deepEqual(await expungeMailbox(f.ctx, "s", work.id), []);
    assert.deepEqual(f.api.calls, []);
    store.membership.setDeleted(work.id, [ua, ub], true);
    assert.deepEqual(await expungeMailbox(f.ctx, "s", work.id, [ub]), [ub]);
    assert.deepEqual(f.api.calls, ["unlabel F", "metadata"]);
    assert.deepEqual(store.membership.uids(work.id), [ua]);
    assert.ok(store.messages.get(b)); // still in All Mail
  } finally {
    store.close();
  }
});

Deno.test("expunge: Trash deletes for good what is left nowhere; failures change nothing", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const trash = store.mailboxes.byName("Trash")!;
    const gone = f.add("gone", { LabelIDs: ["3", "5"] });
    const kept = f.add("kept", { LabelIDs: ["3", "5", "L"] });
    const uids = store.membership.uids(trash.id);
    store.membership.setDeleted(trash.id, uids, true);

    f.api.fail = new Error("down");
    await assert.rejects(expungeMailbox(f.ctx, "s", trash.id), MailboxOperationError);
    assert.deepEqual(store.membership.uids(trash.id), uids);

    // The delete fails: nothing was unlabelled before it, so both messages are still in Trash
    // on the server and here, for the client's retry (it used to leave them in no mailbox).
    f.api.calls = [];
    f.api.failOn = "delete";
    await assert.rejects(expungeMailbox(f.ctx, "s", trash.id), MailboxOperationError);
    assert.deepEqual(f.api.calls, ["metadata", "delete"]);
    assert.deepEqual(f.api.messages.get("gone")!.LabelIDs, ["3", "5"]);
    assert.deepEqual(f.api.messages.get("kept")!.LabelIDs, ["3", "5", "L"]);
    assert.deepEqual(store.membership.uids(trash.id), uids);

    f.api.calls = [];
    const out = await expungeMailbox(f.ctx, "s", trash.id);
    assert.deepEqual(out, uids);
    assert.deepEqual(f.api.calls, ["metadata", "delete", "unlabel 3", "metadata"]);
    assert.equal(store.messages.get(gone), undefined);
    assert.equal(f.literals.has(gone), false);
    assert.ok(store.messages.get(kept));
    assert.ok(!f.api.messages.has("gone"));
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(f.published.map((p) => p.update.kind), [
      "MessagesExpunged", // Trash
      "MessagesExpunged", // All Mail
      "MembershipChanged", // kept leaves Trash
    ]);
  } finally {
    store.close();
  }
});

Deno.test("expunge: a starred draft's replaced version is deleted for good; a filed one is kept", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const drafts = store.mailboxes.byName("Drafts")!;
    const draft = (id: string, messageId: string, labels: string[]) =>
      f.add(
        id,
        { LabelIDs: labels, Flags: 0, ExternalID: messageId },
        `Message-ID: <${messageId}>\r\n\r\n`,
      );
    // An autosave of a starred draft: the old version is expunged, the new one (same
    // Message-ID) stays in Drafts.
    const old = draft("old", "m1@client.test", ["8", "1", "5", "10"]);
    const newer = draft("new", "m1@client.test", ["8", "1", "5", "10"]);
    // A starred draft filed into Starred (COPY, then expunged from Drafts): no newer version.
    const filed = draft("filed", "m2@client.test", ["8", "1", "5", "10"]);
    // A labelled old version: the label the user gave it keeps it.
    const labelled = draft("labelled", "m1@client.test", ["8", "1", "5", "L"]);
    // Two drafts with one Message-ID (two clients); the newer one, starred, is filed: the older
    // one that stays is no later version of it.
    draft("older", "m3@client.test", ["8", "1", "5"]);
    const newerFiled = draft("newerFiled", "m3@client.test", ["8", "1", "5", "10"]);
    // Sent, then the starred draft expunged (Thunderbird): the sent message is its later version.
    const sentDraft = draft("sentDraft", "m4@client.test", ["8", "1", "5", "10"]);
    f.add(
      "sent",
      { LabelIDs: ["7", "2", "5"], Flags: 2, ExternalID: "m4@client.test" },
      `Message-ID: <m4@client.test>\r\n\r\n`,
    );
    const uid = (id: InternalMessageId) =>
      store.membership.memberships(id).find((m) => m.mailbox === drafts.id)!.uid;
    store.membership.setDeleted(
      drafts.id,
      [old, filed, labelled, newerFiled, sentDraft].map(uid),
      true,
    );
    await expungeMailbox(f.ctx, "s", drafts.id);
    assert.ok(
      store.messages.get(newerFiled),
      "an older draft with its Message-ID is no later version",
    );
    assert.equal(store.messages.get(sentDraft), undefined, "the sent message is its later version");
    assert.equal(store.messages.get(old), undefined);
    assert.ok(!f.api.messages.has("old"), "deleted on the server");
    assert.ok(store.messages.get(newer), "the new version stays");
    assert.ok(store.messages.get(filed), "a starred draft without a newer version stays");
    assert.ok(f.api.messages.has("filed"));
    assert.ok(store.messages.get(labelled));
  } finally {
    store.close();
  }
});

Deno.test("expunge: a message the server no longer has does not fail the rest", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    f.api.missingFails = true;
    const drafts = store.mailboxes.byName("Drafts")!;
    const sent = f.add("sent-draft", { LabelIDs: ["8", "1", "5"] });
    const other = f.add("other", { LabelIDs: ["8", "1", "5"] });
    const uids = store.membership.uids(drafts.id);
    store.membership.setDeleted(drafts.id, uids, true);
    // The SMTP side sent the first draft and deleted it; its event has not arrived yet.
    f.api.messages.delete("sent-draft");

    assert.deepEqual(await expungeMailbox(f.ctx, "s", drafts.id), uids);
    assert.deepEqual(f.api.calls, ["metadata", "delete"]);
    assert.deepEqual(store.membership.uids(drafts.id), []);
    assert.equal(store.messages.get(sent), undefined, "gone from the index too");
    assert.equal(store.messages.get(other), undefined, "deleted for good, as before");
    assert.ok(!f.api.messages.has("other"));

    // In a folder: the unlabel's "does not exist" item, and the others unlabelled again.
    const work = store.mailboxes.byName("Folders/Work")!;
    const lost = f.add("lost", { LabelIDs: ["F", "5"] });
    const stays = f.add("stays", { LabelIDs: ["F", "5"] });
    store.membership.setDeleted(work.id, store.membership.uids(work.id), true);
    f.api.messages.delete("lost");
    f.api.calls = [];
    assert.equal((await expungeMailbox(f.ctx, "s", work.id)).length, 2);
    assert.deepEqual(f.api.calls, ["unlabel F", "unlabel F", "metadata"]);
    assert.equal(store.messages.get(lost), undefined);
    assert.ok(store.messages.get(stays), "in All Mail");
  } finally {
    store.close();
  }
});

Deno.test("expunge: All Mail refused; local messages removed without the API", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const all = store.mailboxes.byName("All Mail")!.id;
    // Nothing to expunge: no error (mbsync and CLOSE expunge every mailbox they leave).
    f.add("m", { LabelIDs: ["0", "5"] });
    assert.deepEqual(await expungeMailbox(f.ctx, "s", all), []);
    // Something \Deleted there (an index of an earlier version): refused.
    store.membership.setDeleted(all, store.membership.uids(all), true);
    await assert.rejects(
      expungeMailbox(f.ctx, "s", all),
      (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
    );
    const literal = new TextEncoder().encode("Subject: x\r\n\r\nbody\r\n");
    const r = await storeLocalMessage(f.ctx, "s", {
      literal,
      flags: parseImapFlags(["\\Deleted"]),
      internalDate: 1,
    }, { reason: "test" });
    const id = store.membership.messageAt(r.mailbox, r.uid)!;
    assert.deepEqual(await expungeMailbox(f.ctx, "s", r.mailbox), [r.uid]);
    assert.deepEqual(f.api.calls, []);
    assert.equal(store.messages.get(id), undefined);
    assert.equal(f.literals.has(id), false);
  } finally {
    store.close();
  }
});
