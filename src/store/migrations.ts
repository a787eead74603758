/**
 * Versioned, forward-only schema migrations of the per-account index.
 *
 * The database records every applied version in `schema_version`; {@link migrate} applies the
 * pending ones in order, all in one transaction, so a failure leaves the file exactly at its old
 * version. A database written by a newer bridge (a version this code does not know) is refused
 * rather than guessed at.
 *
 * To change the schema, append a migration with the next version number; never edit a shipped
 * one. SQLite cannot toggle `PRAGMA foreign_keys` inside a transaction, so a migration that
 * rebuilds a table must keep references valid itself (`PRAGMA foreign_key_check` helps). Add a seed
 * for the new version to `migrations_test.ts` so the upgrade test covers it.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { indexedSearchTexts, sortFields } from "../mime/mod.ts";
import { sortFieldValues } from "./sort_fields.ts";

/** One schema step: SQL run with `exec`, or a function for steps that need logic. */
export interface Migration {
  /** 1, 2, 3, … without gaps. */
  readonly version: number;
  /** What the step does, for logs and errors. */
  readonly description: string;
  /** The change itself. */
  readonly up: string | ((db: DatabaseSync) => void);
}

/** Version 1: the whole index as first shipped. */
const V1 = `
-- Persisted monotonic counters: 'modseq' (the account's CONDSTORE mod-sequence, RFC 7162) and
-- 'uid_validity' (the last UIDVALIDITY handed out; the generator never goes below it).
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('modseq', 0), ('uid_validity', 0);

CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  remote_id TEXT UNIQUE,                      -- label ID; NULL for local-only mailboxes
  name TEXT NOT NULL UNIQUE,                  -- IMAP name, decoded, delimiter '/'
  kind TEXT NOT NULL CHECK (kind IN ('system', 'folder', 'label', 'placeholder', 'local')),
  attributes TEXT NOT NULL DEFAULT '[]',      -- JSON array of LIST attributes
  subscribed INTEGER NOT NULL DEFAULT 1 CHECK (subscribed IN (0, 1)),
  uid_validity INTEGER NOT NULL CHECK (uid_validity BETWEEN 1 AND 4294967295),
  uid_next INTEGER NOT NULL DEFAULT 1 CHECK (uid_next >= 1),
  highest_modseq INTEGER NOT NULL CHECK (highest_modseq >= 1)
);

-- flags bits: 1 \\Seen, 2 \\Flagged, 4 \\Answered, 8 \\Draft, 16 $Forwarded.
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,       -- never reused: it also keys the literal cache
  remote_id TEXT UNIQUE,                      -- NULL for local-only messages (recovery)
  address_id TEXT,
  internal_date INTEGER NOT NULL,             -- Unix seconds
  size INTEGER NOT NULL CHECK (size >= 0),    -- RFC822.SIZE of the stored literal
  flags INTEGER NOT NULL DEFAULT 0,
  modseq INTEGER NOT NULL,
  envelope TEXT NOT NULL,
  body_structure TEXT NOT NULL,
  body TEXT NOT NULL,
  header BLOB NOT NULL,                       -- the literal's header block, for HEADER.FIELDS
  build_status TEXT NOT NULL CHECK (build_status IN ('ok', 'failed')),
  build_error TEXT,
  remote_meta TEXT                            -- JSON, as the sync layer chose to keep it
);
CREATE INDEX messages_failed ON messages (id) WHERE build_status = 'failed';

CREATE TABLE message_keywords (
  message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  keyword TEXT NOT NULL,
  PRIMARY KEY (message_id, keyword)
) WITHOUT ROWID;
CREATE INDEX message_keywords_by_keyword ON message_keywords (keyword, message_id);

-- Per-mailbox UIDs. flags, internal_date and size copy the message's columns (messages.ts keeps
-- them in step) so that flag, date and size searches of one mailbox use this table's indexes alone.
-- modseq is the membership's CONDSTORE mod-sequence: the last change to its flags or \\Deleted.
CREATE TABLE mailbox_messages (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  message_id INTEGER NOT NULL REFERENCES messages (id),
  flags INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  modseq INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX mailbox_messages_by_message ON mailbox_messages (message_id, mailbox_id);
CREATE INDEX mailbox_messages_by_modseq ON mailbox_messages (mailbox_id, modseq);
CREATE INDEX mailbox_messages_by_date ON mailbox_messages (mailbox_id, internal_date);
CREATE INDEX mailbox_messages_unseen ON mailbox_messages (mailbox_id, uid) WHERE flags & 1 = 0;
CREATE INDEX mailbox_messages_flagged ON mailbox_messages (mailbox_id, uid) WHERE flags & 2 <> 0;
CREATE INDEX mailbox_messages_deleted ON mailbox_messages (mailbox_id, uid) WHERE deleted = 1;

-- Expunged UIDs with the mod-sequence of their removal, for QRESYNC VANISHED (RFC 7162 §3.2.10).
CREATE TABLE mailbox_expunged (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX mailbox_expunged_by_modseq ON mailbox_expunged (mailbox_id, modseq);

CREATE TABLE sync_checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  phase TEXT NOT NULL,
  labels_done INTEGER NOT NULL CHECK (labels_done IN (0, 1)),
  total_count INTEGER,
  synced_count INTEGER NOT NULL,
  last_synced_remote_id TEXT
);

CREATE TABLE sync_failures (
  remote_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  failed_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE event_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  event_id TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

/**
 * Version 2: the search texts of Subject, From, To, Cc and Bcc per message (`search_fields.ts`),
 * filled from the stored header blocks, so SEARCH's header keys need not parse them.
 */
function v2(db: DatabaseSync): void {
  db.exec(`
    -- Search texts (src/mime header_search_text.ts) as UTF-8; NULL when the field is missing.
    CREATE TABLE message_search_fields (
      message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
      subject_text BLOB,
      from_text BLOB,
      to_text BLOB,
      cc_text BLOB,
      bcc_text BLOB
    );`);
  const insert = db.prepare(
    `INSERT INTO message_search_fields
       (message_id, subject_text, from_text, to_text, cc_text, bcc_text)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const rows = db.prepare("SELECT id, header FROM messages ORDER BY id").iterate() as Iterable<
    { id: number; header: Uint8Array }
  >;
  // The columns spelled out (not `search_fields.ts`'s list): this step must stay what it was.
  const utf8 = new TextEncoder();
  const bytes = (text: string | null) => text === null ? null : utf8.encode(text);
  for (const row of rows) {
    const t = indexedSearchTexts(row.header);
    insert.run(row.id, bytes(t.subject), bytes(t.from), bytes(t.to), bytes(t.cc), bytes(t.bcc));
  }
}

/**
 * Version 3: the address of the message an expunge record is for, so that in split address mode
 * QRESYNC's `VANISHED (EARLIER)` names only the UIDs of the login address's own messages. Records
 * written before have none (NULL) and are reported to every address, as before.
 */
function v3(db: DatabaseSync): void {
  db.exec("ALTER TABLE mailbox_expunged ADD COLUMN address_id TEXT");
}

/**
 * Version 4: the values SORT compares per message (`sort_fields.ts`), filled from the stored
 * header blocks, so SORT orders a mailbox in one query instead of parsing every header.
 */
function v4(db: DatabaseSync): void {
  db.exec(`
    -- SORT values (src/mime sort_fields.ts): the Date field in UTC (NULL: none that parses), and
    -- the strings mapped for their collation, as UTF-8.
    CREATE TABLE message_sort_keys (
      message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
      sent_date INTEGER,
      subject BLOB NOT NULL,
      from_mailbox BLOB NOT NULL,
      to_mailbox BLOB NOT NULL,
      cc_mailbox BLOB NOT NULL,
      display_from BLOB NOT NULL,
      display_to BLOB NOT NULL
    );`);
  const insert = db.prepare(
    `INSERT INTO message_sort_keys (message_id, sent_date, subject, from_mailbox, to_mailbox,
       cc_mailbox, display_from, display_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const rows = db.prepare("SELECT id, header FROM messages ORDER BY id").iterate() as Iterable<
    { id: number; header: Uint8Array }
  >;
  for (const row of rows) insert.run(row.id, ...sortFieldValues(row.header));
}

/**
 * Version 5: the display sort keys again, with upper case where version 4 wrote lower case
 * (`i;unicode-casemap` sorts letters before `[\\]^_\``, as upper case does; Dovecot agrees).
 */
function v5(db: DatabaseSync): void {
  const update = db.prepare(
    "UPDATE message_sort_keys SET display_from = ?, display_to = ? WHERE message_id = ?",
  );
  const rows = db.prepare("SELECT id, header FROM messages ORDER BY id").iterate() as Iterable<
    { id: number; header: Uint8Array }
  >;
  const utf8 = new TextEncoder();
  for (const row of rows) {
    const f = sortFields(row.header);
    update.run(utf8.encode(f.displayFrom), utf8.encode(f.displayTo), row.id);
  }
}

/**
 * Version 6: the SHA-256 of each message's literal, so that a literal rebuilt after a cache miss
 * can be told apart from the one its UIDs showed (ARCHITECTURE invariant 3). NULL for the messages
 * indexed before; theirs is compared by size, ENVELOPE, BODYSTRUCTURE and header block.
 */
const v6 = "ALTER TABLE messages ADD COLUMN literal_sha256 BLOB;";

/**
 * Version 7: an index of the messages without a literal digest, so that looking for them (the
 * background backfill, at every start of serve) reads those rows only: without it the query read
 * the whole messages table (a second and 64 MiB of page cache at 100,000 messages) to find none.
 */
const v7 = "CREATE INDEX messages_without_digest ON messages (id) WHERE literal_sha256 IS NULL;";

/**
 * Version 8: the search texts again where whitespace folding changed them: SEARCH now folds every
 * run of spaces, tabs and line breaks into one space, as ENVELOPE shows a field, in the stored
 * texts and in search strings alike. Only the rows holding a tab, a line break or two spaces in a
 * row are computed again (a line break also joins two fields of one name: those rows are
 * computed again for nothing).
 */
function v8(db: DatabaseSync): void {
  const columns = ["subject_text", "from_text", "to_text", "cc_text", "bcc_text"];
  const stale = columns.map((c) =>
    `instr(${c}, x'09') OR instr(${c}, x'0a') OR instr(${c}, x'0d') OR instr(${c}, x'2020')`
  ).join(" OR ");
  const rows = db.prepare(
    `SELECT m.id, m.header FROM message_search_fields f JOIN messages m ON m.id = f.message_id
     WHERE ${stale} ORDER BY m.id`,
  ).all() as { id: number; header: Uint8Array }[];
  const update = db.prepare(
    `UPDATE message_search_fields SET subject_text = ?, from_text = ?, to_text = ?, cc_text = ?,
       bcc_text = ? WHERE message_id = ?`,
  );
  const utf8 = new TextEncoder();
  const bytes = (text: string | null) => text === null ? null : utf8.encode(text);
  for (const row of rows) {
    const t = indexedSearchTexts(row.header);
    update.run(bytes(t.subject), bytes(t.from), bytes(t.to), bytes(t.cc), bytes(t.bcc), row.id);
  }
}

/**
 * Version 9: the digests of what mail clients appended themselves (`appended_copies.ts`), so that
 * a Maildir synchroniser moving its own file to another folder finds the message again instead
 * of importing it once more.
 */
const v9 = `
  CREATE TABLE appended_copies (
    digest BLOB PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX appended_copies_by_message ON appended_copies (message_id);`;

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "initial index schema", up: V1 },
  { version: 2, description: "search texts of Subject, From, To, Cc and Bcc", up: v2 },
  { version: 3, description: "the address of each expunge record", up: v3 },
  { version: 4, description: "sort keys of every message", up: v4 },
  { version: 5, description: "display sort keys in upper case", up: v5 },
  { version: 6, description: "the SHA-256 of each literal", up: v6 },
  { version: 7, description: "an index of the messages without a literal digest", up: v7 },
  { version: 8, description: "search texts with whitespace runs folded", up: v8 },
  { version: 9, description: "digests of the messages clients appended", up: v9 },
];

/** An index written by a newer bridge: this build cannot read it and leaves it untouched. */
export class IndexTooNewError extends Error {
  /** The index's schema version. */
  readonly version: number;
  /** The newest version this build knows. */
  readonly known: number;
  constructor(version: number, known: number) {
    super(
      `Cannot open an index at schema version ${version}: this build knows versions up to ${known}`,
    );
    this.name = "IndexTooNewError";
    this.version = version;
    this.known = known;
  }
}

/** The version {@link MIGRATIONS} brings a database to. */
export const LATEST_VERSION: number = MIGRATIONS.length;

/** The version a database is at: 0 for a new, empty file. */
export function schemaVersion(db: DatabaseSync): number {
  const table = db.prepare(
    "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'",
  ).get();
  if (!table) return 0;
  const row = db.prepare("SELECT max(version) AS v FROM schema_version").get() as {
    v: number | null;
  };
  return row.v ?? 0;
}

/**
 * Brings `db` to the last version of `migrations` (default {@link MIGRATIONS}), applying pending
 * steps in one transaction. Returns the versions before and after.
 *
 * @throws {RangeError} when `migrations` is not numbered 1…n, or the database is newer than it.
 */
export function migrate(
  db: DatabaseSync,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new RangeError(
        `Migration "${m.description}" has version ${m.version}, expected ${i + 1}`,
      );
    }
  });
  const latest = migrations.length;
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(
      `CREATE TABLE IF NOT EXISTS schema_version (
         version INTEGER PRIMARY KEY,
         description TEXT NOT NULL,
         applied_at INTEGER NOT NULL)`,
    );
    const from = schemaVersion(db);
    if (from > latest) throw new IndexTooNewError(from, latest);
    const record = db.prepare(
      "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
    );
    for (const m of migrations.slice(from)) {
      try {
        if (typeof m.up === "string") db.exec(m.up);
        else m.up(db);
      } catch (err) {
        throw new Error(`Migration ${m.version} ("${m.description}") failed`, { cause: err });
      }
      record.run(m.version, m.description, Math.floor(Date.now() / 1000));
    }
    // Only after a migration ran: the check reads every table (0.8 s at 100,000 messages, at
    // every start).
    if (from < latest) {
      const violations = db.prepare("PRAGMA foreign_key_check").all();
      if (violations.length > 0) {
        throw new Error(`Migrations left ${violations.length} broken foreign key references`);
      }
    }
    db.exec("COMMIT");
    return { from, to: latest };
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}
