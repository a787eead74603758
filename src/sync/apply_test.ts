import assert from "node:assert/strict";
import type { Label } from "../api/mod.ts";
import { MessageFlag, type RemoteMessageId, Store } from "../store/mod.ts";
import {
  applyLabel,
  applyLabels,
  applyMessage,
  applyMessageMetadata,
  type BuiltContent,
  deleteLabel,
  deleteMessage,
  messageFlags,
} from "./apply.ts";
import { label, metadata, SYSTEM_LABELS as SYSTEM } from "./_event_test_utils.ts";

const USER: Label[] = [
  label("F1", 3, "Work"),
  label("F2", 3, "2024", { ParentID: "F1", Path: "Work/2024" }),
  label("L1", 1, "Important"),
];

const BUILT: BuiltContent = {
  literalSize: 42,
  envelope: "(NIL)",
  bodyStructure: "(x)",
  body: "(x)",
  headerBytes: new TextEncoder().encode("Subject: s\r\n\r\n"),
  status: "ok",
};

Deno.test("applyLabels creates system, folder and label mailboxes with placeholders", () => {
  const store = Store.open(":memory:");
  try {
    const result = applyLabels(store, [...SYSTEM, ...USER]);
    const names = store.mailboxes.list().map((m) => m.name).sort();
    assert.deepEqual(names, [
      "All Mail",
      "Archive",
      "Drafts",
      "Folders",
      "Folders/Work",
      "Folders/Work/2024",
      "INBOX",
      "Labels",
      "Labels/Important",
      "Scheduled",
      "Sent",
      "Spam",
      "Starred",
      "Trash",
    ]);
    assert.equal(result.created.length, names.length);
    assert.deepEqual(store.mailboxes.byName("Folders")!.attributes, ["\\Noselect"]);
    assert.deepEqual(store.mailboxes.byName("Trash")!.attributes, ["\\Noinferiors", "\\Trash"]);
    // Idempotent.
    const again = applyLabels(store, [...SYSTEM, ...USER]);
    assert.deepEqual(again, { created: [], renamed: [], updated: [], deleted: [] });
  } finally {
    store.close();
  }
});

Deno.test("applyLabels renames in place (swaps too) and prunes vanished labels", () => {
  const store = Store.open(":memory:");
  try {
    applyLabels(store, [...SYSTEM, label("L1", 1, "a"), label("L2", 1, "b"), label("L3", 1, "c")]);
    const before = new Map(store.mailboxes.list().map((m) => [m.remoteId, m]));
    const result = applyLabels(store, [...SYSTEM, label("L1", 1, "b"), label("L2", 1, "a")]);
    assert.equal(result.renamed.length, 2);
    assert.deepEqual(result.deleted.map((m) => m.name), ["Labels/c"]);
    const l1 = store.mailboxes.byRemoteId("L1" as never)!;
    assert.equal(l1.name, "Labels/b");
    assert.equal(l1.uidValidity, before.get("L1" as never)!.uidValidity);
    assert.equal(store.mailboxes.byRemoteId("L2" as never)!.name, "Labels/a");
  } finally {
    store.close();
  }
});

Deno.test("applyLabel renames a folder with its inferiors; deleteLabel removes them", () => {
  const store = Store.open(":memory:");
  try {
    applyLabels(store, [...SYSTEM, ...USER]);
    const renamed = label("F1", 3, "Job");
    const byId = new Map([...USER, renamed].map((l) => [l.ID, l]));
    byId.set("F1", renamed);
    const result = applyLabel(store, renamed, byId);
    assert.deepEqual(result.renamed.map((r) => r.newName), ["Folders/Job", "Folders/Job/2024"]);
    const created = applyLabel(store, label("L9", 1, "New"));
    assert.equal(created.created, true);
    assert.equal(created.mailbox!.name, "Labels/New");
    assert.equal(applyLabel(store, label("9", 4, "Outbox")).mailbox, undefined);
    const deleted = deleteLabel(store, "F1");
    assert.deepEqual(deleted.map((m) => m.name), ["Folders/Job", "Folders/Job/2024"]);
    assert.deepEqual(deleteLabel(store, "F1"), []);
  } finally {
    store.close();
  }
});

Deno.test("messageFlags maps metadata to IMAP flags", () => {
  assert.equal(messageFlags(metadata("m")), 0);
  assert.equal(
    messageFlags(metadata("m", {
      Unread: 0,
      LabelIDs: ["10"],
      Flags: 0,
      IsRepliedAll: 1,
      IsForwarded: 1,
    })),
    MessageFlag.Seen | MessageFlag.Flagged | MessageFlag.Draft | MessageFlag.Answered |
      MessageFlag.Forwarded,
  );
});

Deno.test("applyMessage is idempotent; metadata moves keep UIDs; delete expunges", () => {
  const store = Store.open(":memory:");
  try {
    applyLabels(store, [...SYSTEM, ...USER]);
    const inbox = store.mailboxes.byName("INBOX")!.id;
    const all = store.mailboxes.byName("All Mail")!.id;
    const first = applyMessage(store, metadata("m1", { LabelIDs: ["0", "5", "1", "L1"] }), BUILT);
    assert.equal(first.created, true);
    assert.equal(first.added.length, 3);
    const again = applyMessage(store, metadata("m1", { LabelIDs: ["0", "5", "1", "L1"] }), BUILT);
    assert.equal(again.id, first.id);
    assert.deepEqual([again.created, again.added, again.removed], [false, [], []]);
    const allUid = store.membership.uidOf(all, first.id);

    const moved = applyMessageMetadata(
      store,
      metadata("m1", { LabelIDs: ["6", "5"], Unread: 0 }),
    )!;
    assert.equal(moved.flagsChanged, true);
    assert.equal(moved.added.length, 1);
    assert.equal(moved.removed.length, 2);
    assert.equal(store.membership.uidOf(all, first.id), allUid);
    assert.equal(store.membership.uidOf(inbox, first.id), undefined);
    assert.equal(applyMessageMetadata(store, metadata("unknown")), undefined);

    const failed = applyMessage(store, metadata("m2"), {
      ...BUILT,
      status: "failed",
      reason: "no key",
    });
    assert.deepEqual(store.sync.failures().map((f) => f.remoteId), ["m2"]);
    assert.equal(store.messages.get(failed.id)!.buildStatus, "failed");
    applyMessage(store, metadata("m2"), BUILT);
    assert.deepEqual(store.sync.failures(), []);

    const gone = deleteMessage(store, "m1")!;
    assert.equal(gone.removed.length, 2);
    assert.equal(store.messages.byRemoteId("m1" as RemoteMessageId), undefined);
    assert.equal(deleteMessage(store, "m1"), undefined);
  } finally {
    store.close();
  }
});
