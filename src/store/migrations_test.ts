import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type {
  InternalMessageId,
  MailboxId,
  RemoteAddressId,
  RemoteEventId,
  RemoteMessageId,
  Uid,
} from "./ids.ts";
import {
  IndexTooNewError,
  LATEST_VERSION,
  migrate,
  type Migration,
  MIGRATIONS,
  schemaVersion,
} from "./migrations.ts";
import type { SortField } from "./sort_fields.ts";
import { Store } from "./store.ts";

/**
 * Data written with the SQL of a given schema version, and what must still be true once the file
 * is upgraded to the latest version. A migration that changes these tables adds a seed for its
 * version (the newest seed at or below a version is used for it).
 */
/** Version 1's data: two messages, one with an empty header block, one with fields to search. */
function seedV1(db: DatabaseSync): void {
  db.exec(`
    INSERT INTO mailboxes (id, remote_id, name, kind, attributes, uid_validity, uid_next,
      highest_modseq) VALUES (1, '0', 'INBOX', 'system', '["\\\\Noinferiors"]', 77, 8, 5);
    INSERT INTO messages (id, remote_id, address_id, internal_date, size, flags, modseq,
      envelope, body_structure, body, header, build_status)
      VALUES (3, 'remote-3', 'addr', 1700000000, 42, 1, 5, 'ENV', 'BS', 'B', x'0d0a', 'ok');
    INSERT INTO message_keywords VALUES (3, 'Junk');
    INSERT INTO mailbox_messages VALUES (1, 7, 3, 1, 0, 5, 1700000000, 42);
    INSERT INTO mailbox_expunged (mailbox_id, uid, modseq) VALUES (1, 2, 3);
    UPDATE counters SET value = 5 WHERE name = 'modseq';
    UPDATE counters SET value = 77 WHERE name = 'uid_validity';
    INSERT INTO event_cursor VALUES (1, 'event-9', 1700000000);`);
  db.prepare(
    `INSERT INTO messages (id, remote_id, address_id, internal_date, size, flags, modseq,
       envelope, body_structure, body, header, build_status)
     VALUES (5, 'remote-5', 'addr', 1700000000, 42, 0, 4, 'ENV', 'BS', 'B', ?, 'ok')`,
  ).run(SEARCHABLE_HEADER);
  db.exec("INSERT INTO mailbox_messages VALUES (1, 6, 5, 0, 0, 4, 1700000000, 42)");
  // Message 9, in a folder of its own: a Subject with a tab and a run of spaces.
  db.exec(`
    INSERT INTO mailboxes (id, remote_id, name, kind, attributes, uid_validity, uid_next,
      highest_modseq) VALUES (2, 'f1', 'Folders/W', 'folder', '[]', 70, 2, 5);`);
  db.prepare(
    `INSERT INTO messages (id, remote_id, address_id, internal_date, size, flags, modseq,
       envelope, body_structure, body, header, build_status)
     VALUES (9, 'remote-9', 'addr', 1700000000, 42, 0, 4, 'ENV', 'BS', 'B', ?, 'ok')`,
  ).run(SPACED_HEADER);
  db.exec("INSERT INTO mailbox_messages VALUES (2, 1, 9, 0, 0, 4, 1700000000, 42)");
}

/** Message 9's header block. */
const SPACED_HEADER = new TextEncoder().encode("Subject: AW:  Angebot\r\n\t2024\r\n\r\n");

/** Message 5's header block: an encoded Subject, two To fields, an empty Cc, no Bcc or From. */
const SEARCHABLE_HEADER = new TextEncoder().encode(
  "Subject: =?iso-8859-1?q?Gr=FC=DFe?= aus\r\n Berlin\r\nTo: a@x.example\r\n" +
    "To: =?utf-8?b?w4lMT0RJRQ==?= <e@y.example>\r\nCc:\r\n\r\n",
);

/** What SEARCH finds in INBOX (message 5 is UID 6, message 3 is UID 7) through the index. */
function checkSearchFields(store: Store): void {
  const find = (field: string, needle: string) =>
    store.membership.searchField(
      1 as MailboxId,
      [{ first: 1 as Uid, last: 100 as Uid }],
      field,
      needle,
    );
  assert.deepEqual(find("subject", "GRÜSSE".replace("SS", "ß")), [6]);
  assert.deepEqual(find("subject", "aus berlin"), [6]);
  assert.deepEqual(find("subject", ""), [6]);
  assert.deepEqual(find("to", "A@X"), [6]);
  assert.deepEqual(find("to", "élodie"), [6]);
  assert.deepEqual(find("to", "example"), [6]);
  assert.deepEqual(find("cc", ""), [6]); // an empty field is a field
  assert.deepEqual(find("bcc", ""), []);
  assert.deepEqual(find("from", ""), []);
  assert.deepEqual(find("subject", "nothing"), []);
  // Whitespace runs are one space, as ENVELOPE shows them (version 8 folded the older texts).
  const folder = (needle: string) =>
    store.membership.searchField(
      2 as MailboxId,
      [{ first: 1 as Uid, last: 100 as Uid }],
      "subject",
      needle,
    );
  assert.deepEqual(folder("AW: Angebot 2024"), [1]);
  assert.deepEqual(folder("angebot  2024"), [1]);
}

const SEEDS: Record<number, { seed: (db: DatabaseSync) => void; check: (store: Store) => void }> = {
  1: {
    seed: seedV1,
    check(store) {
      const inbox = store.mailboxes.byName("INBOX")!;
      assert.equal(inbox.uidValidity, 77);
      assert.equal(inbox.uidNext, 8);
      assert.deepEqual(inbox.attributes, ["\\Noinferiors"]);
      assert.deepEqual(store.membership.uids(1 as MailboxId), [6, 7]);
      // Version 2 filled the search texts from the stored header blocks.
      checkSearchFields(store);
      const message = store.messages.get(3 as InternalMessageId)!;
      assert.equal(message.remoteId, "remote-3");
      assert.deepEqual(message.keywords, ["Junk"]);
      assert.deepEqual([...message.header], [13, 10]);
      // Version 6: no digest of literals indexed before.
      assert.equal(message.literalSha256, null);
      assert.equal(store.sync.eventCursor(), "event-9" as RemoteEventId);
      // The expunge record kept its UID and mod-sequence; without an address (version 3 added
      // it) it is every address's.
      assert.ok(store.membership.vanishedSince(1 as MailboxId, 2).includes(2 as Uid));
      const own = store.forAddress("other" as RemoteAddressId).membership;
      assert.ok(own.vanishedSince(1 as MailboxId, 0).includes(2 as Uid));
      // The counters carry on from where they were.
      assert.ok(store.mailboxes.create({ name: "X", kind: "folder" }).uidValidity > 77);
      const [uid] = store.membership.add(inbox.id, [
        store.messages.insert({
          remoteId: "remote-4" as RemoteMessageId,
          addressId: null,
          internalDate: 0,
          size: 0,
          flags: 0,
          envelope: "",
          bodyStructure: "",
          body: "",
          header: new Uint8Array(),
        }),
      ]);
      assert.equal(uid, 8);
    },
  },
  2: {
    // Version 2's data: version 1's, and the search texts as version 2 writes them.
    seed(db) {
      seedV1(db);
      const utf8 = new TextEncoder();
      db.prepare(
        `INSERT INTO message_search_fields
           (message_id, subject_text, from_text, to_text, cc_text, bcc_text)
         VALUES (3, NULL, NULL, NULL, NULL, NULL), (5, ?, NULL, ?, ?, NULL),
           (9, ?, NULL, NULL, NULL, NULL)`,
      ).run(
        utf8.encode("grüße aus berlin"),
        utf8.encode("a@x.example\nélodie <e@y.example>"),
        new Uint8Array(),
        utf8.encode("aw:  angebot\t2024"), // whitespace kept, as versions 2 to 7 wrote it
      );
    },
    check(store) {
      SEEDS[1].check(store);
    },
  },
  3: {
    // Version 3's data: version 2's, and an expunge record of another address's message.
    seed(db) {
      SEEDS[2].seed(db);
      db.exec("INSERT INTO mailbox_expunged VALUES (1, 4, 4, 'addr-b')");
    },
    check(store) {
      SEEDS[1].check(store);
      assert.deepEqual(store.membership.vanishedSince(1 as MailboxId, 0), [2, 4]);
      const mine = store.forAddress("addr" as RemoteAddressId).membership;
      assert.deepEqual(mine.vanishedSince(1 as MailboxId, 0), [2]);
      checkSortKeys(store);
    },
  },
  4: {
    // Version 4's data: version 3's, and the sort keys as version 4 writes them.
    seed(db) {
      SEEDS[3].seed(db);
      seedSortKeys(db, "a@x.example");
    },
    check(store) {
      SEEDS[3].check(store);
    },
  },
  5: {
    // Version 5's data: version 4's, the display keys in upper case.
    seed(db) {
      SEEDS[3].seed(db);
      seedSortKeys(db, "A@X.EXAMPLE");
    },
    check(store) {
      SEEDS[3].check(store);
    },
  },
  8: {
    // Version 8's data: version 5's, message 9's Subject with its whitespace folded.
    seed(db) {
      SEEDS[5].seed(db);
      db.prepare("UPDATE message_search_fields SET subject_text = ? WHERE message_id = 9")
        .run(new TextEncoder().encode("aw: angebot 2024"));
    },
    check(store) {
      SEEDS[3].check(store);
    },
  },
};

/** The sort keys of messages 3 and 5, message 5's display key of To as given. */
function seedSortKeys(db: DatabaseSync, displayTo: string): void {
  const utf8 = new TextEncoder();
  const empty = new Uint8Array();
  db.prepare(
    `INSERT INTO message_sort_keys VALUES (3, NULL, ?, ?, ?, ?, ?, ?),
       (5, NULL, ?, ?, ?, ?, ?, ?)`,
  ).run(
    ...[empty, empty, empty, empty, empty, empty],
    utf8.encode("GRüßE AUS BERLIN"),
    empty,
    utf8.encode("A"),
    empty,
    empty,
    utf8.encode(displayTo),
  );
}

/**
 * How SORT orders INBOX (message 5 is UID 6, message 3 is UID 7): version 4 filled the keys from
 * the stored header blocks (message 3's is empty), or the seed wrote them as version 4 does.
 */
function checkSortKeys(store: Store): void {
  const order = (field: SortField, reverse = false) =>
    store.membership.sortedUids(1 as MailboxId, [{ field, reverse }], 1 as Uid, 100 as Uid);
  // UID 8 is the message version 1's check inserted after the upgrade (an empty header block).
  assert.deepEqual(order("subject"), [7, 8, 6]);
  assert.deepEqual(order("subject", true), [6, 7, 8]);
  assert.deepEqual(order("to", true), [6, 7, 8]);
  assert.deepEqual(order("displayTo", true), [6, 7, 8]);
  assert.deepEqual(order("from"), [6, 7, 8]);
}

/** A migration after the last one that exists only here, to exercise upgrades past the latest. */
const SYNTHETIC_V2: Migration = {
  version: LATEST_VERSION + 1,
  description: "synthetic: message preview column filled from the envelope",
  up(db) {
    db.exec("ALTER TABLE messages ADD COLUMN preview TEXT");
    db.prepare("UPDATE messages SET preview = 'preview of ' || envelope").run();
  },
};

function seedFor(version: number) {
  const known = Object.keys(SEEDS).map(Number).filter((v) => v <= version);
  return known.length ? SEEDS[Math.max(...known)] : undefined;
}

function withTempDir(fn: (dir: string) => void) {
  const dir = Deno.makeTempDirSync({ prefix: "migrations_test_" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("migrate() brings a new file to the latest version and records each step", () => {
  const db = new DatabaseSync(":memory:");
  assert.deepEqual(migrate(db), { from: 0, to: LATEST_VERSION });
  assert.equal(schemaVersion(db), LATEST_VERSION);
  const rows = db.prepare("SELECT version, description FROM schema_version ORDER BY version")
    .all();
  assert.deepEqual(
    rows.map((r) => ({ ...r })),
    MIGRATIONS.map((m) => ({ version: m.version, description: m.description })),
  );
  assert.deepEqual(migrate(db), { from: LATEST_VERSION, to: LATEST_VERSION });
  db.close();
});

Deno.test("the search for messages without a digest uses its index, not the whole table", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db);
  const plan = db.prepare(
    "EXPLAIN QUERY PLAN SELECT id, size FROM messages WHERE id > ? AND literal_sha256 IS NULL " +
      "ORDER BY id LIMIT ?",
  ).all(0, 200).map((r) => String(r.detail));
  assert.ok(plan.some((d) => d.includes("messages_without_digest")), plan.join("; "));
  db.close();
});

Deno.test("opening an index at the latest version does not check every table again", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db);
  // A dangling reference the check would report (inserted with the checks off).
  db.exec("PRAGMA foreign_keys = OFF");
  db.exec(
    "INSERT INTO mailbox_messages (mailbox_id, uid, message_id, flags, modseq, internal_date, " +
      "size) VALUES (999, 1, 999, 0, 1, 0, 0)",
  );
  assert.deepEqual(migrate(db), { from: LATEST_VERSION, to: LATEST_VERSION });
  db.close();
});

Deno.test("Store.open() upgrades a file from every earlier version, keeping its data", () => {
  const migrations = [...MIGRATIONS, SYNTHETIC_V2];
  for (let version = 0; version < migrations.length; version++) {
    withTempDir((dir) => {
      const path = `${dir}/index.sqlite`;
      const db = new DatabaseSync(path);
      db.exec("PRAGMA foreign_keys = ON");
      migrate(db, migrations.slice(0, version));
      assert.equal(schemaVersion(db), version);
      const seed = seedFor(version);
      seed?.seed(db);
      db.close();

      const store = Store.open(path, { migrations });
      try {
        assert.equal(store.schemaVersion, migrations.length, `from version ${version}`);
        seed?.check(store);
      } finally {
        store.close();
      }
      const check = new DatabaseSync(path);
      const previews = check.prepare("SELECT preview FROM messages WHERE id = 3").all();
      if (seed) assert.deepEqual(previews.map((r) => r.preview), ["preview of ENV"]);
      // Version 5 rewrote the display keys version 4 wrote in lower case.
      const display = check.prepare("SELECT display_to FROM message_sort_keys WHERE message_id = 5")
        .all().map((r) => new TextDecoder().decode(r.display_to as Uint8Array));
      if (seed) assert.deepEqual(display, ["A@X.EXAMPLE"]);
      check.close();
    });
  }
});

Deno.test("a failing migration leaves the file at its old version, untouched", () => {
  withTempDir((dir) => {
    const path = `${dir}/index.sqlite`;
    Store.open(path).close();
    const broken: Migration = {
      version: LATEST_VERSION + 1,
      description: "half done",
      up: "CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1);",
    };
    assert.throws(
      () => Store.open(path, { migrations: [...MIGRATIONS, broken] }),
      new RegExp(`Migration ${LATEST_VERSION + 1} \\("half done"\\) failed`),
    );
    const db = new DatabaseSync(path);
    assert.equal(schemaVersion(db), LATEST_VERSION);
    assert.equal(
      db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'half_done'").get(),
      undefined,
    );
    db.close();
  });
});

Deno.test("a file from a newer build is refused, not modified", () => {
  withTempDir((dir) => {
    const path = `${dir}/index.sqlite`;
    Store.open(path, { migrations: [...MIGRATIONS, SYNTHETIC_V2] }).close();
    assert.throws(
      () => Store.open(path),
      (e) =>
        e instanceof IndexTooNewError && e.version === LATEST_VERSION + 1 &&
        e.known === LATEST_VERSION &&
        e.message.includes(
          `schema version ${LATEST_VERSION + 1}: this build knows versions up to ${LATEST_VERSION}`,
        ),
    );
    const db = new DatabaseSync(path);
    assert.equal(schemaVersion(db), LATEST_VERSION + 1);
    db.close();
  });
});

Deno.test("migrate() rejects a migration list with gaps", () => {
  const db = new DatabaseSync(":memory:");
  assert.throws(
    () => migrate(db, [MIGRATIONS[0], { ...SYNTHETIC_V2, version: 3 }]),
    /has version 3, expected 2/,
  );
  db.close();
});
