import assert from "node:assert/strict";
import type { Label } from "../api/mod.ts";
import { MessageFlag, type RemoteMessageId, Store } from "../store/mod.ts";
import {
  applyLabel,
  applyLabels,
  applyMessage,
  applyMessageMetadata,
  applyMessages,
  type BuiltContent,
  deleteLabel,
  deleteMessage,
  messageFlags,
} from "./apply.ts";
import { indexView, label, metadata, SYSTEM_LABELS as SYSTEM } from "./_event_test_utils.ts";

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
  literalSha256: new Uint8Array(32),
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

Deno.test("applyLabels keeps a disputed name with the mailbox that has it (no swap at a restart)", () => {
  const store = Store.open(":memory:");
  try {
    // F2 took "Folders/q x" while F1 was called "A"; then F1 was renamed to "q\tx" (a tab is a
    // space in a mailbox name) and got the suffix, as the event loop does.
    applyLabels(store, [...SYSTEM, label("F1", 3, "A"), label("F2", 3, "q x")]);
    const f2 = store.mailboxes.byRemoteId("F2" as never)!;
    applyLabel(store, label("F1", 3, "q\tx"));
    const f1 = store.mailboxes.byRemoteId("F1" as never)!;
    assert.equal(f1.name, "Folders/q x (F1)");
    // The full label list at the next start: F1 has the smaller ID, but F2 holds the name.
    const result = applyLabels(store, [...SYSTEM, label("F1", 3, "q\tx"), label("F2", 3, "q x")]);
    assert.deepEqual(result, { created: [], renamed: [], updated: [], deleted: [] });
    const named = store.mailboxes.byName("Folders/q x")!;
    assert.equal(named.id, f2.id);
    assert.equal(named.uidValidity, f2.uidValidity);
    assert.equal(store.mailboxes.byRemoteId("F1" as never)!.name, "Folders/q x (F1)");
  } finally {
    store.close();
  }
});

Deno.test("a name a collision gave stays after the collision ends, until the label is renamed", () => {
  const store = Store.open(":memory:");
  try {
    applyLabels(store, [...SYSTEM, label("F1", 3, "A"), label("F2", 3, "q x")]);
    applyLabel(store, label("F1", 3, "q\tx")); // collides with F2: "Folders/q x (F1)"
    const f2 = store.mailboxes.byRemoteId("F2" as never)!;
    applyLabel(store, label("F2", 3, "qq")); // the name is free now
    assert.equal(store.mailboxes.byName("Folders/q x"), undefined);
    // An update of F1 (say its colour), and the full list at a restart: F1 keeps its name, so
    // "Folders/q x" (F2's until now, with F2's UIDVALIDITY) does not come back as another mailbox.
    applyLabel(store, label("F1", 3, "q\tx"));
    const result = applyLabels(store, [...SYSTEM, label("F1", 3, "q\tx"), label("F2", 3, "qq")]);
    assert.deepEqual(result.renamed, []);
    assert.equal(store.mailboxes.byRemoteId("F1" as never)!.name, "Folders/q x (F1)");
    assert.equal(store.mailboxes.byRemoteId("F2" as never)!.uidValidity, f2.uidValidity);
    // Renamed, it takes the new name.
    applyLabel(store, label("F1", 3, "Work"));
    assert.equal(store.mailboxes.byRemoteId("F1" as never)!.name, "Folders/Work");
  } finally {
    store.close();
  }
});

Deno.test("a label name with a lone surrogate is applied again without a rename", () => {
  const store = Store.open(":memory:");
  try {
    applyLabels(store, [...SYSTEM]);
    const first = applyLabel(store, label("L1", 1, "lone\ud800x"));
    assert.equal(first.mailbox!.name, "Labels/lone\ufffdx");
    // An update of the same label (say its colour) changes nothing and does not throw.
    const again = applyLabel(store, label("L1", 1, "lone\ud800x"));
    assert.deepEqual(again.renamed, []);
    assert.equal(again.mailbox!.id, first.mailbox!.id);
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

Deno.test("a client's \\Answered survives the server's flags (events, read-backs, rebuilds)", () => {
  const store = Store.open(":memory:");
  try {
    applyLabels(store, [...SYSTEM, ...USER]);
    const received = { LabelIDs: ["0", "5"], Flags: 1 }; // Received: not a draft
    const { id } = applyMessage(store, metadata("m1", received), BUILT);
    // A client marks it answered (STORE keeps \Answered locally: there is no API for it).
    store.messages.setFlags([id], { mode: "add", flags: MessageFlag.Answered });
    // An event (read elsewhere), then a read-back after COPY, then a rebuild: IsReplied 0.
    applyMessageMetadata(store, metadata("m1", { ...received, Unread: 0 }));
    assert.equal(store.messages.get(id)!.flags, MessageFlag.Seen | MessageFlag.Answered);
    applyMessageMetadata(
      store,
      metadata("m1", { ...received, Unread: 1, LabelIDs: ["0", "5", "10"] }),
    );
    assert.equal(store.messages.get(id)!.flags, MessageFlag.Flagged | MessageFlag.Answered);
    applyMessage(store, metadata("m1", received), BUILT);
    assert.equal(store.messages.get(id)!.flags, MessageFlag.Answered);
    // The server's own bits still follow the server; \Draft too (a sent draft stops being one).
    const { id: d } = applyMessage(
      store,
      metadata("d1", { LabelIDs: ["8", "5"], Flags: 0 }),
      BUILT,
    );
    assert.equal(store.messages.get(d)!.flags, MessageFlag.Draft);
    applyMessageMetadata(store, metadata("d1", { LabelIDs: ["7", "5"], Flags: 2, Unread: 0 }));
    assert.equal(store.messages.get(d)!.flags, MessageFlag.Seen);
  } finally {
    store.close();
  }
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

Deno.test("applyMessages gives the index that applying one by one gives", () => {
  /** Everything a client or a later sync can see of the index, mod-sequences aside. */
  const snapshot = (store: Store) => {
    const messages = [];
    for (const m of store.mailboxes.list()) {
      const rows = store.membership.fetchRows(m.id, [{ first: 1 as never, last: 9999 as never }]);
      for (const r of rows) {
        const stored = store.messages.get(r.messageId)!;
        messages.push([m.name, r.uid, r.remoteId, r.flags, stored.internalDate, stored.size]);
        messages.push([stored.buildStatus, stored.buildError, stored.addressId, stored.envelope]);
      }
    }
    return {
      view: indexView(store),
      messages,
      // UIDVALIDITY relative to the store's first: the generator follows the clock, and the two
      // stores are opened a moment apart (across a tick they differ by one).
      mailboxes: store.mailboxes.list().map((m, _, all) => [
        m.name,
        m.uidNext,
        m.uidValidity - Math.min(...all.map((x) => x.uidValidity)),
      ]),
      failures: store.sync.failures().map((f) => [f.remoteId, f.reason]),
      count: store.messages.count(),
    };
  };
  const failed: BuiltContent = { ...BUILT, status: "failed", reason: "no key" };
  const batches: [string, Partial<Parameters<typeof metadata>[1]>, BuiltContent][][] = [
    [
      ["a", { LabelIDs: ["0", "5", "L1"] }, BUILT],
      ["b", { LabelIDs: ["5", "10"], Unread: 0, Time: 1_800_000_000 }, {
        ...BUILT,
        literalSize: 7,
      }],
      ["c", { LabelIDs: ["3", "5", "L404"] }, failed], // a label without a mailbox
      ["d", { LabelIDs: ["1", "2", "9"] }, BUILT], // in no mailbox at all
    ],
    [
      ["e", { LabelIDs: ["0", "5"] }, BUILT],
      ["a", { LabelIDs: ["6", "5"] }, BUILT], // known: moved, keeps its All Mail UID
      ["f", { LabelIDs: ["F2", "5"], Flags: 0 }, BUILT],
      ["c", { LabelIDs: ["3", "5"] }, BUILT], // known: now built, the failure goes
      ["g", { LabelIDs: ["0", "5"], AddressID: "" }, BUILT],
      ["g", { LabelIDs: ["0", "5", "L1"] }, BUILT], // twice in one batch
      ["h", { LabelIDs: ["0", "5"] }, failed],
    ],
  ];
  const one = Store.open(":memory:");
  const bulk = Store.open(":memory:");
  try {
    for (const store of [one, bulk]) applyLabels(store, [...SYSTEM, ...USER]);
    for (const batch of batches) {
      const items = batch.map(([id, o, built]) => ({ metadata: metadata(id, o), built }));
      const expected = one.transaction(() =>
        items.map((i) => applyMessage(one, i.metadata, i.built))
      );
      const got = bulk.transaction(() => applyMessages(bulk, items));
      assert.deepEqual(got.map((r) => ({ ...r, id: 0 })), expected.map((r) => ({ ...r, id: 0 })));
      assert.deepEqual(snapshot(bulk), snapshot(one));
    }
    // HIGHESTMODSEQ covers every change.
    for (const m of bulk.mailboxes.list()) {
      for (const r of bulk.membership.fetchRows(m.id, [{ first: 1 as never, last: 99 as never }])) {
        assert.ok(r.modseq <= m.highestModseq);
      }
    }
    assert.deepEqual(applyMessages(bulk, []), []);
  } finally {
    one.close();
    bulk.close();
  }
});

Deno.test("applyMessages writes nothing when a batch cannot be applied", () => {
  const store = Store.open(":memory:");
  try {
    applyLabels(store, [...SYSTEM, ...USER]);
    const all = store.mailboxes.byName("All Mail")!;
    assert.throws(() =>
      store.transaction(() =>
        applyMessages(store, [
          { metadata: metadata("x1"), built: BUILT },
          // An envelope the schema refuses (NOT NULL) makes the whole batch fail.
          { metadata: metadata("x2"), built: { ...BUILT, envelope: null as never } },
        ])
      )
    );
    assert.equal(store.messages.count(), 0);
    assert.equal(store.mailboxes.byName("All Mail")!.uidNext, all.uidNext);
  } finally {
    store.close();
  }
});
