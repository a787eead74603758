import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { LABEL, sampleMessage, tempStore, uidRange, withMailboxes } from "./_test_utils.ts";
import type { InternalMessageId, RemoteLabelId, RemoteMessageId, Uid } from "./ids.ts";
import { MailboxNotFoundError } from "./mailboxes.ts";
import { MAX_UID, normalizeRanges } from "./membership.ts";
import { MessageFlag } from "./messages.ts";
import type { SortField } from "./sort_fields.ts";

const { Seen, Flagged, Answered, Draft } = MessageFlag;

Deno.test("add() hands out UIDNEXT, returns known UIDs again and persists UIDNEXT", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const box = mailboxes.create({ name: "A", kind: "folder" });
    const [m1, m2, m3] = [1, 2, 3].map((n) => messages.insert(sampleMessage(n)));
    assert.deepEqual(membership.add(box.id, [m1, m2, m1]), [1, 2, 1]);
    assert.deepEqual(membership.add(box.id, [m2, m3]), [2, 3]);
    assert.equal(mailboxes.require(box.id).uidNext, 4);

    // An unknown message aborts the whole call.
    assert.throws(
      () => membership.add(box.id, [messages.insert(sampleMessage(4)), 999 as never]),
      /No message with ID 999/,
    );
    assert.equal(mailboxes.require(box.id).uidNext, 4);
    assert.equal(membership.count(box.id), 3);
    assert.throws(() => membership.add(12345 as never, [m1]), MailboxNotFoundError);

    const store = t.reopen();
    assert.deepEqual(store.membership.uids(box.id), [1, 2, 3]);
    assert.equal(store.mailboxes.require(box.id).uidNext, 4);
  } finally {
    t.cleanup();
  }
});

Deno.test("expunged UIDs are never handed out again and UIDNEXT never decreases", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const box = mailboxes.create({ name: "A", kind: "folder" });
    const ids = [1, 2, 3].map((n) => messages.insert(sampleMessage(n)));
    membership.add(box.id, ids);
    assert.deepEqual(membership.remove(box.id, [3, 2, 3, 99] as Uid[]), [
      { uid: 2, messageId: ids[1] },
      { uid: 3, messageId: ids[2] },
    ]);
    assert.equal(mailboxes.require(box.id).uidNext, 4);
    // The same message comes back: a new UID.
    assert.deepEqual(membership.add(box.id, [ids[2]]), [4]);
    assert.deepEqual(membership.uids(box.id), [1, 4]);
  } finally {
    t.cleanup();
  }
});

Deno.test("setMessageLabels() keeps the UIDs of memberships that stay", () => {
  const t = tempStore();
  try {
    const { messages, membership } = t.store;
    const boxes = withMailboxes(t.store);
    const other = messages.upsertFromSync(sampleMessage(1)).id;
    membership.setMessageLabels(other, [LABEL.inbox, LABEL.allMail]);
    const id = messages.upsertFromSync(sampleMessage(2)).id;
    membership.add(boxes.recovered.id, [id]);

    assert.deepEqual(membership.setMessageLabels(id, [LABEL.inbox, LABEL.allMail, LABEL.inbox]), {
      added: [{ mailbox: boxes.inbox.id, uid: 2 }, { mailbox: boxes.allMail.id, uid: 2 }],
      removed: [],
      unknownLabels: [],
    });
    // Moved to Trash, starred, and a label that has no mailbox yet.
    const future = "label-not-yet" as RemoteLabelId;
    assert.deepEqual(
      membership.setMessageLabels(id, [LABEL.trash, LABEL.allMail, LABEL.starred, future]),
      {
        added: [{ mailbox: boxes.trash.id, uid: 1 }, { mailbox: boxes.starred.id, uid: 1 }],
        removed: [{ mailbox: boxes.inbox.id, uid: 2 }],
        unknownLabels: [future],
      },
    );
    assert.equal(membership.uidOf(boxes.allMail.id, id), 2);
    // Local mailboxes are not the server's to change.
    assert.equal(membership.uidOf(boxes.recovered.id, id), 1);
    // Back to the inbox: a new UID there.
    membership.setMessageLabels(id, [LABEL.inbox, LABEL.allMail]);
    assert.equal(membership.uidOf(boxes.inbox.id, id), 3);
    assert.deepEqual(membership.uids(boxes.inbox.id), [1, 3]);
  } finally {
    t.cleanup();
  }
});

Deno.test("\\Deleted is per mailbox; EXPUNGE and UID EXPUNGE remove only flagged UIDs", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const boxes = withMailboxes(t.store);
    const ids = [1, 2, 3, 4].map((n) => messages.upsertFromSync(sampleMessage(n)).id);
    for (const id of ids) membership.setMessageLabels(id, [LABEL.inbox, LABEL.allMail]);
    const before = mailboxes.require(boxes.inbox.id).highestModseq;

    assert.deepEqual(membership.setDeleted(boxes.inbox.id, [1, 2, 3, 9] as Uid[], true), [1, 2, 3]);
    assert.deepEqual(membership.setDeleted(boxes.inbox.id, [1] as Uid[], true), []);
    const rows = membership.flagRows(boxes.inbox.id, [uidRange(1, 4)]);
    assert.deepEqual(rows.map((r) => r.deleted), [true, true, true, false]);
    assert.ok(rows[0].modseq > before);
    assert.equal(rows[0].modseq, rows[2].modseq);
    assert.equal(mailboxes.require(boxes.inbox.id).highestModseq, rows[0].modseq);
    assert.ok(membership.flagRows(boxes.allMail.id, [uidRange(1, 4)]).every((r) => !r.deleted));
    assert.deepEqual(membership.status(boxes.inbox.id).deleted, 3);

    assert.deepEqual(membership.expungeDeleted(boxes.inbox.id, [uidRange(2, 2)]), [2]);
    assert.deepEqual(membership.expungeDeleted(boxes.inbox.id), [1, 3]);
    assert.deepEqual(membership.uids(boxes.inbox.id), [4]);
    assert.deepEqual(membership.uids(boxes.allMail.id), [1, 2, 3, 4]);
    assert.deepEqual(membership.vanishedSince(boxes.inbox.id, before), [1, 2, 3]);
    assert.deepEqual(
      membership.vanishedSince(boxes.inbox.id, mailboxes.require(boxes.inbox.id).highestModseq),
      [],
    );
    // The lowest expunge mod-sequence of some UIDs: resynchronizing from just below it names
    // them all (what a held-back expunge's [HIGHESTMODSEQ] must allow).
    const low = membership.lowestExpungeModseq(boxes.inbox.id, [1, 3] as Uid[])!;
    assert.deepEqual(
      membership.vanishedSince(boxes.inbox.id, low - 1).filter((u) => u === 1 || u === 3),
      [1, 3],
    );
    assert.equal(membership.lowestExpungeModseq(boxes.inbox.id, [4] as Uid[]), undefined);
    assert.equal(membership.lowestExpungeModseq(boxes.inbox.id, []), undefined);
  } finally {
    t.cleanup();
  }
});

Deno.test("selectInfo(), status() and the sequence helpers", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const box = mailboxes.create({ name: "A", kind: "folder" });
    const empty = membership.selectInfo(box.id);
    assert.deepEqual(empty, {
      exists: 0,
      recent: 0,
      unseenSeq: undefined,
      uidNext: 1,
      uidValidity: box.uidValidity,
      highestModseq: box.highestModseq,
    });
    const flags = [Seen, Seen, 0, Seen, 0];
    const ids = flags.map((f, i) => messages.insert(sampleMessage(i + 1, { flags: f, size: 100 })));
    membership.add(box.id, ids);
    membership.remove(box.id, [1] as Uid[]); // UIDs now 2..5, seqs 1..4
    const info = membership.selectInfo(box.id);
    assert.equal(info.exists, 4);
    assert.equal(info.unseenSeq, 2); // UID 3
    assert.equal(info.uidNext, 6);
    assert.equal(info.highestModseq, mailboxes.require(box.id).highestModseq);
    assert.deepEqual(membership.status(box.id), {
      messages: 4,
      unseen: 2,
      deleted: 0,
      size: 400,
      deletedSize: 0,
      uidNext: 6,
      uidValidity: box.uidValidity,
      highestModseq: info.highestModseq,
    });
    // \Deleted counts and sizes (STATUS DELETED, DELETED-STORAGE), then undone.
    membership.setDeleted(box.id, [2, 3] as Uid[], true);
    const marked = membership.status(box.id);
    assert.deepEqual([marked.deleted, marked.deletedSize, marked.size], [2, 200, 400]);
    membership.setDeleted(box.id, [2, 3] as Uid[], false);
    assert.equal(membership.seqOfUid(box.id, 3 as Uid), 2);
    assert.equal(membership.seqOfUid(box.id, 1 as Uid), undefined);
    assert.equal(membership.uidAtSeq(box.id, 1), 2);
    assert.equal(membership.uidAtSeq(box.id, 4), 5);
    assert.equal(membership.uidAtSeq(box.id, 5), undefined);
    assert.equal(membership.uidAtSeq(box.id, 0), undefined);
    assert.equal(membership.messageAt(box.id, 2 as Uid), ids[1]);
  } finally {
    t.cleanup();
  }
});

Deno.test("fetchRows() and flagRows() serve merged UID ranges in order", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const box = mailboxes.create({ name: "A", kind: "folder" });
    const ids = [1, 2, 3, 4, 5].map((n) => messages.insert(sampleMessage(n)));
    membership.add(box.id, ids);
    messages.setFlags([ids[1]], { mode: "add", flags: Flagged, keywords: ["Work", "$label1"] });

    const rows = membership.fetchRows(box.id, [
      uidRange(4, MAX_UID),
      uidRange(2, 1),
      uidRange(2, 4),
    ]);
    assert.deepEqual(rows.map((r) => r.uid), [1, 2, 3, 4, 5]);
    const second = rows[1];
    assert.equal(second.messageId, ids[1]);
    assert.equal(second.remoteId, "msg-2");
    assert.equal(second.flags, Flagged);
    assert.deepEqual(second.keywords, ["$label1", "Work"]);
    assert.deepEqual(rows[0].keywords, []);
    assert.equal(second.internalDate, 1_700_000_120);
    assert.equal(second.size, 1002);
    assert.match(second.envelope, /subject 2/);
    assert.match(second.bodyStructure, /"plain"/);
    assert.match(second.body, /"7bit"/);
    assert.deepEqual(
      membership.flagRows(box.id, [uidRange(2), uidRange(9, 12)]).map((r) => [r.uid, r.flags]),
      [[2, Flagged]],
    );
    assert.deepEqual(
      membership.flagRows(box.id, [uidRange(3)]).map((r) => r.size),
      [1003],
    );
    // Header blocks, by UID range, with the message they belong to.
    const headers = membership.headerRows(box.id, [uidRange(4, 9), uidRange(1)]);
    assert.deepEqual(headers.map((r) => [r.uid, r.messageId]), [[1, ids[0]], [4, ids[3]], [
      5,
      ids[4],
    ]]);
    assert.deepEqual(headers[1].header, messages.header(ids[3]));
    const other = mailboxes.create({ name: "B", kind: "folder" });
    membership.add(other.id, [ids[2], ids[0]]);
    assert.deepEqual(
      [...membership.uidsOf(other.id, [ids[0], ids[1], ids[2]])].sort((a, b) => a[0] - b[0]),
      [[ids[0], membership.uidOf(other.id, ids[0])], [ids[2], membership.uidOf(other.id, ids[2])]],
    );
  } finally {
    t.cleanup();
  }
});

Deno.test("sortedUids() orders by the sort keys kept with each message, then by UID", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const box = mailboxes.create({ name: "A", kind: "folder" });
    const header = (text: string) => new TextEncoder().encode(text.replace(/\n/g, "\r\n") + "\r\n");
    const specs: [string, number, number][] = [
      // header, internal date, size
      ["From: b@x\nSubject: two\nDate: Mon, 01 Jan 2024 12:00:00 +0200", 500, 300],
      ["From: a@x\nSubject: Re: two", 1_704_103_200, 100], // no Date: INTERNALDATE = 10:00 UTC
      ["From: B@y\nSubject: \u{1F600} one\nDate: Sun, 31 Dec 2023 00:00:00 +0000", 300, 200],
      ["From: a@z\nSubject: [list] \uFFFD\nDate: garbage", 200, 100],
    ];
    const ids = specs.map(([h, internalDate, size], i) =>
      messages.insert(sampleMessage(i + 1, { header: header(h), internalDate, size }))
    );
    membership.add(box.id, ids);
    const order = (...steps: [string, boolean?][]) =>
      membership.sortedUids(
        box.id,
        steps.map(([field, reverse]) => ({ field: field as SortField, reverse: reverse ?? false })),
        1 as Uid,
        MAX_UID as Uid,
      );
    assert.deepEqual(order(["from"]), [2, 4, 1, 3]);
    assert.deepEqual(order(["from", true]), [1, 3, 2, 4]);
    assert.deepEqual(order(["from"], ["arrival", true]), [2, 4, 1, 3]);
    assert.deepEqual(order(["from"], ["arrival"]), [4, 2, 3, 1]);
    // DATE: 4 has none that parses (200), 3 is 2023-12-31, 1 and 2 are both 10:00 UTC.
    assert.deepEqual(order(["date"]), [4, 3, 1, 2]);
    assert.deepEqual(order(["date", true]), [1, 2, 3, 4]);
    // SUBJECT: "TWO", "TWO", "😀 ONE", "\uFFFD": U+FFFD sorts before U+1F600 (UTF-8 order).
    assert.deepEqual(order(["subject"]), [1, 2, 4, 3]);
    assert.deepEqual(order(["size"], ["subject", true]), [4, 2, 3, 1]);
    assert.deepEqual(order(["arrival"]), [4, 3, 1, 2]);
    assert.deepEqual(
      membership.sortedUids(box.id, [{ field: "size", reverse: false }], 2 as Uid, 3 as Uid),
      [2, 3],
    );
    // Rewriting the header block rewrites the keys.
    messages.upsertFromSync(
      sampleMessage(2, { header: header("From: zz@x"), internalDate: 1, size: 1 }),
    );
    assert.deepEqual(order(["from", true]), [2, 1, 3, 4]);
    // A message deleted takes its keys along.
    messages.delete(ids[0]);
    const db = new DatabaseSync(t.path, { readOnly: true });
    try {
      const left = db.prepare("SELECT count(*) AS n FROM message_sort_keys").get() as { n: number };
      assert.equal(left.n, 3);
    } finally {
      db.close();
    }
  } finally {
    t.cleanup();
  }
});

Deno.test("search() combines flag, keyword, date, size, UID and MODSEQ keys", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const box = mailboxes.create({ name: "A", kind: "folder" });
    const specs = [
      { flags: Seen, internalDate: 1000, size: 10 },
      { flags: Seen | Flagged, internalDate: 2000, size: 20 },
      { flags: Answered, internalDate: 3000, size: 30 },
      { flags: Draft | Flagged, internalDate: 4000, size: 40 },
    ];
    const ids = specs.map((s, i) => messages.insert(sampleMessage(i + 1, s)));
    membership.add(box.id, ids);
    messages.setFlags([ids[2]], { mode: "add", flags: 0, keywords: ["Todo"] });
    membership.setDeleted(box.id, [4] as Uid[], true);
    const search = (c: Parameters<typeof membership.search>[1]) => membership.search(box.id, c);

    assert.deepEqual(search({}), [1, 2, 3, 4]);
    assert.deepEqual(search({ flagsClear: Seen }), [3, 4]);
    assert.deepEqual(search({ flagsSet: Flagged }), [2, 4]);
    assert.deepEqual(search({ flagsSet: Seen | Flagged }), [2]);
    assert.deepEqual(search({ flagsClear: Seen | Draft }), [3]);
    assert.deepEqual(search({ deleted: true }), [4]);
    assert.deepEqual(search({ deleted: false, flagsSet: Flagged }), [2]);
    assert.deepEqual(search({ keywords: ["Todo"] }), [3]);
    assert.deepEqual(search({ notKeywords: ["Todo"] }), [1, 2, 4]);
    assert.deepEqual(search({ since: 2000, before: 4000 }), [2, 3]);
    assert.deepEqual(search({ larger: 10, smaller: 40 }), [2, 3]);
    assert.deepEqual(search({ uids: [uidRange(3, MAX_UID), uidRange(1)] }), [1, 3, 4]);
    assert.deepEqual(search({ uids: [] }), []);
    const modseq = membership.flagRows(box.id, [uidRange(4)])[0].modseq;
    assert.deepEqual(search({ modseq }), [4]);
  } finally {
    t.cleanup();
  }
});

Deno.test("changedSince() reports flag changes in any mailbox holding the message", () => {
  const t = tempStore();
  try {
    const { messages, membership, mailboxes } = t.store;
    const boxes = withMailboxes(t.store);
    const ids = [1, 2, 3].map((n) => messages.upsertFromSync(sampleMessage(n)).id);
    for (const id of ids) membership.setMessageLabels(id, [LABEL.inbox, LABEL.allMail]);
    const mark = mailboxes.require(boxes.allMail.id).highestModseq;
    assert.deepEqual(membership.changedSince(boxes.allMail.id, mark), []);

    messages.setFlags([ids[2], ids[0]], { mode: "add", flags: Seen });
    membership.setDeleted(boxes.inbox.id, [2] as Uid[], true);
    assert.deepEqual(membership.changedSince(boxes.allMail.id, mark).map((r) => [r.uid, r.flags]), [
      [1, Seen],
      [3, Seen],
    ]);
    assert.deepEqual(membership.changedSince(boxes.inbox.id, mark).map((r) => r.uid), [1, 2, 3]);
  } finally {
    t.cleanup();
  }
});

Deno.test("normalizeRanges() orients, sorts and merges", () => {
  assert.deepEqual(
    normalizeRanges([uidRange(9, 7), uidRange(1, 2), uidRange(3, 4), uidRange(8, 12)]),
    [
      uidRange(1, 4),
      uidRange(7, 12),
    ],
  );
  assert.deepEqual(normalizeRanges([]), []);
});

// ---------------------------------------------------------------------------------------------
// Scale: 100,000 messages in one mailbox, every statement the store compiles checked with
// EXPLAIN QUERY PLAN. A `SCAN` of one of the big tables would make that call O(n).
// ---------------------------------------------------------------------------------------------

const BIG_TABLES = ["mailbox_messages", "messages", "message_keywords", "mailbox_expunged"];

/** Statements that must use a particular index (the planner has no statistics yet). */
const MUST_USE: [RegExp, string][] = [
  [/flags & 1 = 0/, "mailbox_messages_unseen"],
  [/flags & 2 <> 0/, "mailbox_messages_flagged"],
  [/deleted = 1/, "mailbox_messages_deleted"],
  [
    /FROM mailbox_messages mm WHERE mm.mailbox_id = \? AND mm.internal_date/,
    "mailbox_messages_by_date",
  ],
  [/mm.modseq > \?/, "mailbox_messages_by_modseq"],
];

/** Statements that may scan: bulk deletes of a rebuild, and a whole-index count. */
const MAY_SCAN = [
  /^DELETE FROM (mailbox_messages|messages)$/,
  /^SELECT count\(\*\) AS n FROM messages$/,
];

Deno.test("at 100,000 messages every statement the store runs is served by an index", () => {
  const prepared = new Set<string>();
  const t = tempStore({ onPrepare: (sql) => prepared.add(sql) });
  try {
    const { messages, membership, mailboxes } = t.store;
    const boxes = withMailboxes(t.store);
    const N = 100_000;
    const ids: InternalMessageId[] = [];
    t.store.transaction(() => {
      for (let n = 1; n <= N; n++) {
        ids.push(messages.insert({
          ...sampleMessage(n, { flags: n % 3 === 0 ? 0 : Seen }),
          keywords: n % 1000 === 0 ? ["Todo"] : [],
        }));
      }
      membership.add(boxes.allMail.id, ids);
      membership.add(boxes.inbox.id, ids.filter((_, i) => i % 2 === 0));
    });
    assert.equal(membership.count(boxes.allMail.id), N);
    assert.equal(membership.uids(boxes.allMail.id).length, N);

    // The calls IMAP sessions and the sync make, so that their statements get compiled.
    const all = boxes.allMail.id;
    const info = membership.selectInfo(all);
    assert.equal(info.exists, N);
    assert.equal(info.unseenSeq, 3);
    assert.equal(membership.status(all).unseen, Math.floor(N / 3));
    assert.equal(membership.fetchRows(all, [uidRange(50_000, 50_099)]).length, 100);
    assert.equal(membership.flagRows(all, [uidRange(N - 9, MAX_UID)]).length, 10);
    assert.equal(membership.seqOfUid(all, 60_000 as Uid), 60_000);
    assert.equal(membership.uidAtSeq(all, 10), 10);
    assert.equal(membership.search(all, { flagsClear: Seen }).length, Math.floor(N / 3));
    assert.equal(membership.search(all, { flagsSet: Flagged }).length, 0);
    assert.equal(membership.search(all, { deleted: true }).length, 0);
    assert.equal(membership.search(all, { keywords: ["Todo"] }).length, N / 1000);
    const since = 1_700_000_000 + (N - 99) * 60;
    assert.equal(membership.search(all, { since }).length, 100);
    assert.equal(membership.search(all, { before: 1_700_000_000 + 101 * 60 }).length, 100);
    const newest = membership.sortedUids(
      all,
      [{ field: "date", reverse: true }],
      1 as Uid,
      MAX_UID as Uid,
    );
    assert.deepEqual([newest.length, newest[0], newest[N - 1]], [N, N, 1]);
    const mark = mailboxes.require(all).highestModseq;
    messages.setFlags(ids.slice(0, 5), { mode: "add", flags: Flagged, keywords: ["x"] });
    membership.setDeleted(all, [7, 8] as Uid[], true);
    assert.deepEqual(membership.expungeDeleted(all, [uidRange(1, 10)]), [7, 8]);
    assert.equal(membership.changedSince(all, mark).length, 5);
    assert.deepEqual(membership.vanishedSince(all, mark), [7, 8]);
    const upsert = messages.upsertFromSync(sampleMessage(N, { flags: Seen }));
    assert.equal(upsert.created, false);
    membership.setMessageLabels(upsert.id, [LABEL.allMail, LABEL.trash]);
    assert.equal(messages.byRemoteId(`msg-${N}` as RemoteMessageId), upsert.id);
    assert.equal(messages.failedBuilds().length, 0);
    messages.delete(ids[99]);
    assert.ok(membership.memberships(ids[100]).length > 0);

    const db = new DatabaseSync(t.path, { readOnly: true });
    try {
      // A scan of a partial index reads only the rows it holds (failed builds, say): fine.
      const partial = (db.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql LIKE '% WHERE %'",
      ).all() as { name: string }[]).map((r) => r.name);
      const offenders: string[] = [];
      for (const sql of prepared) {
        const flat = sql.replace(/\s+/g, " ").trim();
        if (MAY_SCAN.some((re) => re.test(flat))) continue;
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
        for (const [re, index] of MUST_USE) {
          if (re.test(flat) && !plan.some((p) => p.detail.includes(`INDEX ${index} `))) {
            offenders.push(`does not use ${index}  <=  ${flat}`);
          }
        }
        for (const { detail } of plan) {
          const scan = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(detail);
          if (!scan || !BIG_TABLES.includes(scan[1])) continue;
          if (scan[2] && partial.includes(scan[2])) continue;
          offenders.push(`${detail}  <=  ${flat}`);
        }
      }
      assert.deepEqual(offenders, []);
      assert.ok(prepared.size > 30, `only ${prepared.size} statements were checked`);
    } finally {
      db.close();
    }
  } finally {
    t.cleanup();
  }
});
