import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { LABEL, sampleMessage, tempStore, uidRange, withMailboxes } from "./_test_utils.ts";
import type { InternalMessageId, MailboxId } from "./ids.ts";
import type { Store } from "./store.ts";
import { isIndexedSearch, searchFieldValues } from "./search_fields.ts";

const enc = new TextEncoder();
const block = (text: string) => enc.encode(text.replace(/\n/g, "\r\n"));

/** The table's row of a message, read through a second connection (WAL lets it read). */
function rowOf(path: string, id: InternalMessageId): (string | null)[] | undefined {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare(
      `SELECT subject_text, from_text, to_text, cc_text, bcc_text
       FROM message_search_fields WHERE message_id = ?`,
    ).get(id) as Record<string, Uint8Array | null> | undefined;
    if (!row) return undefined;
    return Object.values(row).map((v) => v === null ? null : new TextDecoder().decode(v));
  } finally {
    db.close();
  }
}

function rowCount(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM message_search_fields").get() as { n: number })
      .n;
  } finally {
    db.close();
  }
}

const find = (store: Store, mailbox: MailboxId, field: string, needle: string) =>
  store.membership.searchField(mailbox, [uidRange(1, 1000)], field, needle);

Deno.test("searchFieldValues: decoded, folded, fields of a name joined, NULL when missing", () => {
  const values = searchFieldValues(block(
    "Subject: =?utf-8?q?R=C3=A9PORT?=\n  Q1\nTo: A@x\nX-To: no\nto: B@y\nCc:\n\n",
  ));
  assert.deepEqual(values.map((v) => v === null ? null : new TextDecoder().decode(v)), [
    "réport q1",
    null,
    "a@x\nb@y",
    "",
    null,
  ]);
});

Deno.test("isIndexedSearch: the five fields, strings that do not break UTF-8", () => {
  for (const f of ["subject", "from", "to", "cc", "bcc"]) assert.ok(isIndexedSearch(f, "x y"));
  assert.ok(isIndexedSearch("subject", ""));
  assert.ok(!isIndexedSearch("date", "x"));
  assert.ok(!isIndexedSearch("Subject", "x")); // the SEARCH parser lower-cases names
  // Line breaks fold to a space: such a string cannot straddle two fields either.
  assert.ok(isIndexedSearch("subject", "a\nb"));
  assert.ok(isIndexedSearch("subject", "a\r"));
  assert.ok(!isIndexedSearch("subject", "\ud800"));
});

Deno.test("message_search_fields follows insert, sync update, bulk insert, delete and rebuild", () => {
  const t = tempStore();
  try {
    const { store, path } = t;
    const box = withMailboxes(store);
    const inbox = box.inbox.id;

    // Messages.insert
    const a = store.messages.insert({
      ...sampleMessage(1, { header: block("Subject: Quarterly Report\nFrom: Ann <a@x>\n\n") }),
      keywords: [],
    });
    store.membership.add(inbox, [a]);
    assert.deepEqual(rowOf(path, a), ["quarterly report", "ann <a@x>", null, null, null]);

    // Messages.upsertFromSync: a new message, then its content replaced
    const b = store.messages.upsertFromSync(
      sampleMessage(2, { header: block("Subject: first\nBcc: boss@y\n\n") }),
    ).id;
    store.membership.setMessageLabels(b, [LABEL.inbox]);
    assert.deepEqual(find(store, inbox, "subject", "FIRST"), [2]);
    assert.deepEqual(find(store, inbox, "bcc", ""), [2]);
    store.messages.upsertFromSync(
      sampleMessage(2, { header: block("Subject: =?utf-8?b?U2Vjb25k?= report\n\n") }),
    );
    assert.deepEqual(find(store, inbox, "subject", "first"), []);
    assert.deepEqual(find(store, inbox, "bcc", ""), []);
    assert.deepEqual(find(store, inbox, "subject", "Report"), [1, 2]);
    assert.deepEqual(rowOf(path, b), ["second report", null, null, null, null]);

    // BulkInsert.insertNew
    const [c, d] = store.bulk.insertNew([
      { ...sampleMessage(3, { header: block("To: carol@z\nTo: dave@z\n\n") }), mailboxes: [inbox] },
      { ...sampleMessage(4, { header: block("Subject: report\n\n") }), mailboxes: [inbox] },
    ]).map((r) => r.id);
    assert.deepEqual(rowOf(path, c), [null, null, "carol@z\ndave@z", null, null]);
    assert.deepEqual(find(store, inbox, "subject", "report"), [1, 2, 4]);
    assert.deepEqual(find(store, inbox, "to", "dave"), [3]);
    // A string cannot match across two fields of a name.
    assert.deepEqual(find(store, inbox, "to", "z carol"), []);
    assert.equal(rowCount(path), 4);

    // Messages.delete (the row goes with the message)
    store.messages.delete(d);
    assert.equal(rowOf(path, d), undefined);
    assert.deepEqual(find(store, inbox, "subject", "report"), [1, 2]);
    assert.equal(rowCount(path), 3);

    // A failed write leaves no row behind (same transaction as the message).
    assert.throws(() =>
      store.bulk.insertNew([
        { ...sampleMessage(5), mailboxes: [inbox] },
        { ...sampleMessage(5), mailboxes: [inbox] }, // the same remote ID twice
      ])
    );
    assert.equal(rowCount(path), 3);

    // Store.rebuild empties it with the messages.
    store.rebuild();
    assert.equal(rowCount(path), 0);
  } finally {
    t.cleanup();
  }
});

Deno.test("Membership.searchField: only the ranges asked, and refuses what it cannot answer", () => {
  const t = tempStore();
  try {
    const { store } = t;
    const box = withMailboxes(store);
    for (let n = 1; n <= 6; n++) {
      const id = store.messages.upsertFromSync(
        sampleMessage(n, { header: block(`Subject: note ${n % 2 ? "odd" : "even"}\n\n`) }),
      ).id;
      store.membership.setMessageLabels(id, [LABEL.inbox]);
    }
    const ranges = [uidRange(5, 6), uidRange(1, 2)];
    assert.deepEqual(store.membership.searchField(box.inbox.id, ranges, "subject", "odd"), [1, 5]);
    assert.deepEqual(store.membership.searchField(box.work.id, ranges, "subject", "odd"), []);
    assert.throws(
      () => store.membership.searchField(box.inbox.id, ranges, "subject", "\ud800"),
      RangeError,
    );
    assert.throws(
      () => store.membership.searchField(box.inbox.id, ranges, "date", "x"),
      RangeError,
    );
  } finally {
    t.cleanup();
  }
});
