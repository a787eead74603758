import assert from "node:assert/strict";
import type { Label } from "../api/mod.ts";
import { MessageFlag, type RemoteMessageId, Store } from "../store/mod.ts";
import { applyLabels, applyMessage } from "./apply.ts";
import {
  applyPreparedEvent,
  builtDiffers,
  checkEvent,
  mergeAdjacent,
  type MessageFetcher,
  prepareEvent,
} from "./event_apply.ts";
import {
  event,
  fakeBuilt,
  fakeFetcher,
  indexView,
  label,
  metadata,
  namedUpdates,
  SYSTEM_LABELS,
} from "./_event_test_utils.ts";

const USER_LABELS: Label[] = [
  label("F1", 3, "Work"),
  label("F2", 3, "2024", { ParentID: "F1", Path: "Work/2024" }),
  label("L1", 1, "Important"),
];

function setup() {
  const store = Store.open(":memory:");
  applyLabels(store, [...SYSTEM_LABELS, ...USER_LABELS]);
  const labels = new Map([...SYSTEM_LABELS, ...USER_LABELS].map((l) => [l.ID, l]));
  return { store, labels };
}

async function run(
  store: Store,
  raw: unknown,
  fetcher: MessageFetcher,
  labels?: Map<string, Label>,
) {
  const prepared = await prepareEvent(raw, store, fetcher);
  return store.transaction(() => {
    const r = applyPreparedEvent(store, prepared, labels);
    store.sync.setEventCursor(prepared.event.eventId);
    return r;
  });
}

const create = (id: string, over = {}) => ({
  ID: id,
  Action: 1,
  Message: metadata(id, over),
});
const flags = (id: string, over = {}) => ({ ID: id, Action: 3, Message: metadata(id, over) });

Deno.test("new mail: created in its mailboxes, literal returned; a replay changes nothing", async () => {
  const { store } = setup();
  const f = fakeFetcher(new Map([["m1", "hello"], ["m2", "world"]]));
  const ev = event("e1", {
    Messages: [create("m1"), create("m2", { LabelIDs: ["0", "5", "L1"] })],
  });
  const r = await run(store, ev, f.fetcher);
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MessagesCreated", "INBOX", [1, 2]],
    ["MessagesCreated", "All Mail", [1, 2]],
    ["MessagesCreated", "Labels/Important", [1]],
  ]);
  assert.equal(r.literalsToPut.length, 2);
  assert.equal(
    new TextDecoder().decode(r.literalsToPut[0].literal),
    "Subject: m1\r\n\r\nhello\r\n",
  );
  assert.deepEqual(indexView(store), {
    "All Mail": [[1, "m1"], [2, "m2"]],
    INBOX: [[1, "m1"], [2, "m2"]],
    "Labels/Important": [[1, "m2"]],
  });
  assert.equal(store.sync.eventCursor(), "e1");
  const again = await run(store, ev, f.fetcher);
  assert.deepEqual(again.updates, []);
  assert.deepEqual(again.literalsToPut, []);
  assert.deepEqual(f.calls, ["m1", "m2"]);
  assert.deepEqual(indexView(store).INBOX, [[1, "m1"], [2, "m2"]]);
});

Deno.test("flag changes, star, move and label add/remove keep untouched UIDs", async () => {
  const { store } = setup();
  const f = fakeFetcher(new Map([["m1", "a"], ["m2", "b"]]));
  await run(store, event("e1", { Messages: [create("m1"), create("m2")] }), f.fetcher);
  const inbox = store.mailboxes.byName("INBOX")!;
  const uidNextBefore = inbox.uidNext;

  let r = await run(store, event("e2", { Messages: [flags("m1", { Unread: 0 })] }), f.fetcher);
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["FlagsChanged", [[MessageFlag.Seen, ["INBOX", "All Mail"]]]],
  ]);

  r = await run(
    store,
    event("e3", { Messages: [flags("m1", { Unread: 0, LabelIDs: ["0", "5", "10"] })] }),
    f.fetcher,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["FlagsChanged", [[MessageFlag.Seen | MessageFlag.Flagged, ["INBOX", "All Mail"]]]],
    ["MembershipChanged", "m1", [["Starred", 1]], []],
  ]);

  // Move to Archive (folder semantics: Inbox goes away), label add.
  r = await run(
    store,
    event("e4", { Messages: [flags("m2", { LabelIDs: ["6", "5", "L1"] })] }),
    f.fetcher,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MembershipChanged", "m2", [["Archive", 1], ["Labels/Important", 1]], [["INBOX", 2]]],
  ]);
  // Label remove, move into a folder.
  r = await run(
    store,
    event("e5", { Messages: [flags("m2", { LabelIDs: ["F2", "5"] })] }),
    f.fetcher,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MembershipChanged", "m2", [["Folders/Work/2024", 1]], [
      ["Archive", 1],
      ["Labels/Important", 1],
    ]],
  ]);
  assert.deepEqual(indexView(store), {
    "All Mail": [[1, "m1"], [2, "m2"]],
    "Folders/Work/2024": [[1, "m2"]],
    INBOX: [[1, "m1"]],
    Starred: [[1, "m1"]],
  });
  assert.equal(store.mailboxes.byName("INBOX")!.uidNext, uidNextBefore);
  // Moving back in gets a new UID: UIDNEXT only grows.
  r = await run(store, event("e6", { Messages: [flags("m2")] }), f.fetcher);
  assert.deepEqual(indexView(store).INBOX, [[1, "m1"], [3, "m2"]]);
  assert.deepEqual(f.calls, ["m1", "m2"]);
});

Deno.test("delete expunges everywhere; unknown deletes are no-ops", async () => {
  const { store } = setup();
  const f = fakeFetcher(new Map([["m1", "a"]]));
  await run(
    store,
    event("e1", { Messages: [create("m1", { LabelIDs: ["0", "5", "L1"] })] }),
    f.fetcher,
  );
  const r = await run(
    store,
    event("e2", { Messages: [{ ID: "m1", Action: 0 }, { ID: "nope", Action: 0 }] }),
    f.fetcher,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MessagesExpunged", "INBOX", [1]],
    ["MessagesExpunged", "All Mail", [1]],
    ["MessagesExpunged", "Labels/Important", [1]],
  ]);
  assert.equal(r.literalsToDelete.length, 1);
  assert.deepEqual(indexView(store), {});
  assert.equal(store.messages.count(), 0);
});

Deno.test("an update for an unknown message creates it; a message gone meanwhile is skipped", async () => {
  const { store } = setup();
  const f = fakeFetcher(new Map([["m1", "a"]]));
  const r = await run(
    store,
    event("e1", { Messages: [flags("m1", { Unread: 0 }), create("gone")] }),
    f.fetcher,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MessagesCreated", "INBOX", [1]],
    ["MessagesCreated", "All Mail", [1]],
  ]);
  assert.deepEqual(r.gone, ["gone"]);
  const id = store.messages.byRemoteId("m1" as RemoteMessageId)!;
  assert.equal(store.messages.get(id)!.flags & MessageFlag.Seen, MessageFlag.Seen);
});

Deno.test("create then delete in one event: nothing downloaded twice, nothing left", async () => {
  const { store } = setup();
  const f = fakeFetcher(new Map([["m1", "a"]]));
  const r = await run(
    store,
    event("e1", { Messages: [create("m1"), { ID: "m1", Action: 0 }] }),
    f.fetcher,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MessagesCreated", "INBOX", [1]],
    ["MessagesCreated", "All Mail", [1]],
    ["MessagesExpunged", "INBOX", [1]],
    ["MessagesExpunged", "All Mail", [1]],
  ]);
  assert.equal(store.messages.count(), 0);
});

Deno.test("a draft whose body changed is replaced with new UIDs; unchanged keeps its UIDs", async () => {
  const { store } = setup();
  const f = fakeFetcher(new Map([["d1", "v1"]]));
  const draft = { Flags: 0, LabelIDs: ["8", "1", "5"], Unread: 0 };
  await run(store, event("e1", { Messages: [create("d1", draft)] }), f.fetcher);
  assert.deepEqual(indexView(store).Drafts, [[1, "d1"]]);

  // Same body: metadata only.
  let r = await run(
    store,
    event("e2", { Messages: [{ ...create("d1", draft), Action: 2 }] }),
    f.fetcher,
  );
  assert.deepEqual(r.updates, []);
  assert.deepEqual(indexView(store).Drafts, [[1, "d1"]]);

  f.bodies.set("d1", "v2, longer");
  r = await run(
    store,
    event("e3", { Messages: [{ ...create("d1", draft), Action: 2 }] }),
    f.fetcher,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MessagesExpunged", "Drafts", [1]],
    ["MessagesExpunged", "All Mail", [1]],
    ["MessagesCreated", "Drafts", [2]],
    ["MessagesCreated", "All Mail", [2]],
  ]);
  assert.equal(r.literalsToDelete.length, 1);
  assert.equal(r.literalsToPut.length, 1);
  assert.notEqual(r.literalsToDelete[0], r.literalsToPut[0].id);
  assert.deepEqual(indexView(store).Drafts, [[2, "d1"]]);

  // With a literal cache, the stored bytes decide (same length, other bytes).
  f.bodies.set("d1", "v3, longer");
  const prepared = await prepareEvent(
    event("e4", { Messages: [{ ...create("d1", draft), Action: 2 }] }),
    store,
    f.fetcher,
    { readLiteral: () => Promise.resolve(new TextEncoder().encode("something else")) },
  );
  assert.deepEqual([...prepared.replace], ["d1"]);

  // A received message's Update (action 2) is metadata only: no download.
  const calls = f.calls.length;
  f.bodies.set("m1", "x");
  await run(store, event("e5", { Messages: [create("m1")] }), f.fetcher);
  await run(
    store,
    event("e6", { Messages: [{ ...create("m1", { Unread: 0 }), Action: 2 }] }),
    f.fetcher,
  );
  assert.equal(f.calls.length, calls + 1);
});

Deno.test("a draft edited and sent within one poll: the sent message is the edited body", async () => {
  // The web client saves the edit and sends; the event loop sees one update with the sent
  // message's metadata (the draft's own update was coalesced away).
  const { store } = setup();
  const f = fakeFetcher(new Map([["d1", "first version"]]));
  const draft = { Flags: 0, LabelIDs: ["8", "1", "5"], Unread: 0 };
  await run(store, event("e1", { Messages: [create("d1", draft)] }), f.fetcher);
  f.bodies.set("d1", "edited version, sent");
  // A client cleared \\Draft (local only): being in Drafts is what counts.
  const d1 = store.messages.byRemoteId("d1" as RemoteMessageId)!;
  store.messages.setFlags([d1], { mode: "remove", flags: MessageFlag.Draft });
  const sent = { Flags: 2, LabelIDs: ["7", "2", "5"], Unread: 0 };
  const r = await run(
    store,
    event("e2", { Messages: [{ ...create("d1", sent), Action: 2 }] }),
    f.fetcher,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MessagesExpunged", "Drafts", [1]],
    ["MessagesExpunged", "All Mail", [1]],
    ["MessagesCreated", "Sent", [1]],
    ["MessagesCreated", "All Mail", [2]],
  ]);
  assert.match(new TextDecoder().decode(r.literalsToPut[0].literal), /edited version, sent/);
  // Sent now: a later update is metadata only again.
  const calls = f.calls.length;
  await run(store, event("e3", { Messages: [{ ...create("d1", sent), Action: 2 }] }), f.fetcher);
  assert.equal(f.calls.length, calls);
});

Deno.test("labels: create, rename (children follow), move, delete, swap", async () => {
  const { store, labels } = setup();
  const f = fakeFetcher();
  let r = await run(
    store,
    event("e1", {
      Labels: [
        {
          ID: "F3",
          Action: 1,
          Label: label("F3", 3, "Sub", { ParentID: "F2", Path: "Work/2024/Sub" }),
        },
        { ID: "L2", Action: 1, Label: label("L2", 1, "Later") },
      ],
    }),
    f.fetcher,
    labels,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MailboxCreated", "Folders/Work/2024/Sub"],
    ["MailboxCreated", "Labels/Later"],
  ]);
  const subId = store.mailboxes.byName("Folders/Work/2024/Sub")!.id;
  const validity = store.mailboxes.byName("Folders/Work/2024/Sub")!.uidValidity;

  // Rename the top folder: the API sends updates for it and its descendants.
  r = await run(
    store,
    event("e2", {
      Labels: [
        { ID: "F1", Action: 2, Label: label("F1", 3, "Job") },
        {
          ID: "F2",
          Action: 2,
          Label: label("F2", 3, "2024", { ParentID: "F1", Path: "Job/2024" }),
        },
        {
          ID: "F3",
          Action: 2,
          Label: label("F3", 3, "Sub", { ParentID: "F2", Path: "Job/2024/Sub" }),
        },
      ],
    }),
    f.fetcher,
    labels,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MailboxRenamed", "Folders/Work", "Folders/Job"],
    ["MailboxRenamed", "Folders/Work/2024", "Folders/Job/2024"],
    ["MailboxRenamed", "Folders/Work/2024/Sub", "Folders/Job/2024/Sub"],
  ]);
  assert.equal(store.mailboxes.get(subId)!.name, "Folders/Job/2024/Sub");
  assert.equal(store.mailboxes.get(subId)!.uidValidity, validity);

  // Swap two label names in one event.
  r = await run(
    store,
    event("e3", {
      Labels: [
        { ID: "L1", Action: 2, Label: label("L1", 1, "Later") },
        { ID: "L2", Action: 2, Label: label("L2", 1, "Important") },
      ],
    }),
    f.fetcher,
    labels,
  );
  assert.equal(store.mailboxes.byRemoteId("L1" as never)!.name, "Labels/Later");
  assert.equal(store.mailboxes.byRemoteId("L2" as never)!.name, "Labels/Important");
  assert.equal(r.updates.at(-1)!.kind, "MailboxRenamed");

  // Delete a folder with a sub-folder.
  r = await run(
    store,
    event("e4", { Labels: [{ ID: "F3", Action: 0 }, { ID: "F2", Action: 0 }] }),
    f.fetcher,
    labels,
  );
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MailboxDeleted", "Folders/Job/2024/Sub"],
    ["MailboxDeleted", "Folders/Job/2024"],
  ]);
  assert.equal(labels.has("F2"), false);
});

Deno.test("refresh rebuilds the index and bumps every UIDVALIDITY upward", async () => {
  const { store } = setup();
  const f = fakeFetcher(new Map([["m1", "a"]]));
  await run(store, event("e1", { Messages: [create("m1")] }), f.fetcher);
  const before = new Map(store.mailboxes.list().map((m) => [m.id, m]));
  const r = await run(
    store,
    event("e2", { Refresh: 1, Messages: [create("m2")] }),
    f.fetcher,
  );
  assert.equal(r.refreshed, true);
  assert.deepEqual(namedUpdates(store, r.updates), [["UidValidityBumped", before.size]]);
  assert.equal(store.messages.count(), 0);
  for (const m of store.mailboxes.list()) {
    assert.ok(m.uidValidity > before.get(m.id)!.uidValidity);
    assert.equal(m.uidNext, before.get(m.id)!.uidNext);
  }
  assert.equal(store.sync.eventCursor(), "e2");
  assert.deepEqual(f.calls, ["m1"]);
});

Deno.test("checkEvent reports bad shapes and keeps the usable items", () => {
  const { event: ev, problems } = checkEvent({
    EventID: "e9",
    Refresh: 0,
    Messages: [
      { ID: "ok", Action: 3, Message: metadata("ok") },
      { ID: "bad1", Action: 3, Message: { ...metadata("bad1"), LabelIDs: "0" } },
      { ID: "bad2", Action: 7 },
      { ID: "bad3", Action: 1 },
      "junk",
      { ID: "del", Action: 0 },
    ],
    Labels: { not: "a list" },
    Addresses: [{ ID: "a1", Action: 2, Address: {} }],
  });
  assert.deepEqual(ev.messages.map((m) => m.id), ["ok", "del"]);
  assert.equal(ev.labels.length, 0);
  assert.equal(ev.addresses.length, 1);
  assert.deepEqual(problems, [
    "Messages[2] has no ID or no known Action",
    "Messages[4] has no ID or no known Action",
    "message bad1: LabelIDs is not a list of strings",
    "message bad3: no Message",
    "Labels is not a list",
  ]);
  assert.throws(() => checkEvent({ Messages: [] }), /no EventID/);
  assert.throws(() => checkEvent(null), /no EventID/);
});

Deno.test("prepareEvent refuses a malformed event unless told to accept the usable part", async () => {
  const { store } = setup();
  const f = fakeFetcher(new Map([["m1", "a"]]));
  const raw = {
    EventID: "e1",
    Messages: [create("m1"), { ID: "x", Action: 3, Message: { ID: "x" } }],
  };
  await assert.rejects(prepareEvent(raw, store, f.fetcher), (e: Error) => {
    assert.equal(e.name, "MalformedEventError");
    assert.match(e.message, /malformed event e1: message x: LabelIDs/);
    return true;
  });
  assert.deepEqual(f.calls, []);
  const prepared = await prepareEvent(raw, store, f.fetcher, { acceptProblems: true });
  assert.equal(prepared.problems.length, 1);
  const r = store.transaction(() => applyPreparedEvent(store, prepared));
  assert.equal(r.updates.length, 2);
  assert.equal(store.sync.eventCursor(), undefined);
});

Deno.test("mergeAdjacent groups runs per mailbox and never crosses another kind", () => {
  const c = (mailbox: number, uid: number) => ({
    kind: "MessagesCreated" as const,
    mailbox: mailbox as never,
    uids: [uid as never],
  });
  const x = (mailbox: number, uid: number) => ({
    ...c(mailbox, uid),
    kind: "MessagesExpunged" as const,
  });
  assert.deepEqual(mergeAdjacent([c(1, 1), c(2, 1), c(1, 2), x(1, 1), x(2, 1), c(1, 3)]), [
    { kind: "MessagesCreated", mailbox: 1, uids: [1, 2] },
    c(2, 1),
    x(1, 1),
    x(2, 1),
    c(1, 3),
  ]);
});

Deno.test("rebuildFailed: failed builds that now build are replaced (new UIDs); the rest stay", async () => {
  const { store } = setup();
  // Built while the address had no key: m1 and m2 are placeholders, m3 is fine.
  let keys = false;
  const calls: string[] = [];
  const fetcher: MessageFetcher = {
    fetch(remoteId) {
      calls.push(remoteId);
      const out = fakeBuilt(remoteId);
      if (remoteId === "m2" || (remoteId === "m1" && !keys)) {
        out.built = { ...out.built, status: "failed", reason: "no unlocked key" };
      }
      return Promise.resolve(out);
    },
  };
  await run(
    store,
    event("e1", { Messages: [create("m1"), create("m2"), create("m3", { Unread: 0 })] }),
    fetcher,
  );
  assert.deepEqual(store.messages.failedBuilds().map((f) => f.remoteId), ["m1", "m2"]);

  // An event without rebuildFailed downloads nothing.
  calls.length = 0;
  keys = true;
  const addressEvent = event("e2", { Addresses: [{ ID: "a1", Action: 3 }] });
  let prepared = await prepareEvent(addressEvent, store, fetcher);
  assert.deepEqual(calls, []);
  assert.equal(prepared.replace.size, 0);

  // With it (the loop sets it once the address change reloaded the keys): m1 now builds.
  prepared = await prepareEvent(addressEvent, store, fetcher, { rebuildFailed: true });
  assert.deepEqual(calls.sort(), ["m1", "m2"]);
  assert.deepEqual([...prepared.replace], ["m1"]);
  assert.equal(prepared.stillFailed, 1);
  const r = store.transaction(() => applyPreparedEvent(store, prepared));
  assert.equal(r.rebuilt, 1);
  assert.deepEqual(namedUpdates(store, r.updates), [
    ["MessagesExpunged", "INBOX", [1]],
    ["MessagesExpunged", "All Mail", [1]],
    ["MessagesCreated", "INBOX", [4]],
    ["MessagesCreated", "All Mail", [4]],
  ]);
  assert.deepEqual(r.literalsToPut.map((p) => new TextDecoder().decode(p.literal)), [
    "Subject: m1\r\n\r\nbody of m1\r\n",
  ]);
  assert.equal(r.literalsToDelete.length, 1);
  assert.deepEqual(indexView(store).INBOX, [[2, "m2"], [3, "m3"], [4, "m1"]]);
  assert.deepEqual(store.messages.failedBuilds().map((f) => f.remoteId), ["m2"]);

  // A failed build the same event deletes is not downloaded.
  calls.length = 0;
  prepared = await prepareEvent(
    event("e3", { Messages: [{ ID: "m2", Action: 0 }] }),
    store,
    fetcher,
    { rebuildFailed: true },
  );
  assert.deepEqual(calls, []);
});

Deno.test("builtDiffers: by digest when the index has one, else by what the index describes", () => {
  const store = Store.open(":memory:");
  try {
    applyLabels(store, SYSTEM_LABELS);
    const built = fakeBuilt("m1");
    const id = applyMessage(store, built.metadata, built.built).id;
    const stored = store.messages.get(id)!;
    assert.deepEqual(stored.literalSha256, built.built.literalSha256);
    assert.equal(builtDiffers(stored, built.built), false);
    // Same size and FETCH data, other bytes: only the digest tells.
    const other = { ...built.built, literalSha256: new Uint8Array(32) };
    assert.equal(builtDiffers(stored, other), true);
    // Indexed before digests were kept: judged by size, ENVELOPE, BODYSTRUCTURE, header block.
    const old = { ...stored, literalSha256: null };
    assert.equal(builtDiffers(old, other), false);
    assert.equal(builtDiffers(old, { ...other, literalSize: other.literalSize + 33 }), true);
    assert.equal(builtDiffers(old, { ...other, bodyStructure: "(changed)" }), true);
    assert.equal(
      builtDiffers(old, { ...other, headerBytes: new TextEncoder().encode("X: y\r\n\r\n") }),
      true,
    );
    assert.equal(builtDiffers(old, { ...other, status: "failed" }), true);
  } finally {
    store.close();
  }
});
