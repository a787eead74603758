/**
 * One account's local index: a SQLite file (`node:sqlite`, WAL) holding mailboxes, messages, their
 * per-mailbox UIDs and mod-sequences, and the sync's position. Open it with {@link Store.open};
 * the tables are reached through `mailboxes`, `messages`, `membership` and `sync` (and `bulk`, the
 * first sync's fast insert of new messages).
 *
 * One `Store` per file per process. Writes are synchronous and each public mutator is atomic;
 * {@link Store.transaction} groups several into one commit.
 *
 * @module
 */
import { AppendedCopies } from "./appended_copies.ts";
import { DatabaseSync } from "node:sqlite";
import { AddressMembership } from "./address_membership.ts";
import { BulkInsert } from "./bulk_insert.ts";
import { Counters } from "./counters.ts";
import type { RemoteAddressId } from "./ids.ts";
import { Mailboxes } from "./mailboxes.ts";
import { Membership } from "./membership.ts";
import { Messages } from "./messages.ts";
import { migrate, type Migration, MIGRATIONS, schemaVersion } from "./migrations.ts";
import { Sql } from "./sql.ts";
import { SyncState } from "./sync_state.ts";

/** SQLite's page cache for an index, in KiB, unless {@link Store.pageCacheKiB} is set. */
export const PAGE_CACHE_KIB = 64 * 1024;

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** Milliseconds since the Unix epoch; `Date.now` unless a test fakes the clock. */
  now?: () => number;
  /** The migration list; tests only. */
  migrations?: readonly Migration[];
  /** Sees the text of every statement the store compiles; tests only (query plan checks). */
  onPrepare?: (sql: string) => void;
}

/** The index of one account. */
export class Store {
  readonly mailboxes: Mailboxes;
  readonly messages: Messages;
  readonly membership: Membership;
  readonly sync: SyncState;
  /** The first sync's bulk insert of new messages. */
  readonly bulk: BulkInsert;
  /** What mail clients appended themselves, by digest (`appended_copies.ts`). */
  readonly appendedCopies: AppendedCopies;
  /** Set on a view made by {@link Store.forAddress}: the address it shows. */
  readonly addressId: RemoteAddressId | undefined;
  #sql: Sql;
  #counters: Counters;
  #view: boolean;

  private constructor(
    db: DatabaseSync,
    options: StoreOptions,
    view?: { of: Store; addressId: RemoteAddressId },
  ) {
    if (view) {
      // One address's view of the same file (split address mode): only `membership` differs.
      const base = view.of;
      this.#sql = base.#sql;
      this.#counters = base.#counters;
      this.#view = true;
      this.addressId = view.addressId;
      this.mailboxes = base.mailboxes;
      this.membership = new AddressMembership(this.#sql, this.#counters, view.addressId);
      this.messages = base.messages;
      this.sync = base.sync;
      this.bulk = base.bulk;
      this.appendedCopies = base.appendedCopies;
      return;
    }
    const now = options.now ?? Date.now;
    this.#sql = new Sql(db, options.onPrepare);
    const counters = new Counters(this.#sql, now);
    this.#counters = counters;
    this.#view = false;
    this.addressId = undefined;
    this.mailboxes = new Mailboxes(this.#sql, counters);
    this.membership = new Membership(this.#sql, counters);
    this.messages = new Messages(this.#sql, counters, this.membership);
    this.sync = new SyncState(this.#sql, now);
    this.bulk = new BulkInsert(this.#sql, counters);
    this.appendedCopies = new AppendedCopies(this.#sql);
  }

  /**
   * The same index as one address sees it in split address mode: the same file, mailboxes and
   * UIDs, with a `membership` whose read side shows only that address's messages (and local ones
   * without an address); see `address_membership.ts`. Closing the view does nothing; the store
   * it came from owns the file.
   */
  forAddress(addressId: RemoteAddressId): Store {
    return new Store(this.#sql.db, {}, { of: this, addressId });
  }

  /**
   * Opens (creating if needed) the index at `path` (`":memory:"` for a throwaway one) and applies
   * pending migrations.
   *
   * Pragmas: WAL with `synchronous=FULL` (every commit is on the disk before it returns: with
   * `NORMAL` a power cut could lose the last commits, and the event replay then gave their UIDs to
   * other messages under the same UIDVALIDITY — ARCHITECTURE invariant 1; a commit costs one
   * fsync, ≈ 0.25 ms here, and the first sync commits a batch at a time), foreign keys on, a 64 MiB page
   * cache ({@link PAGE_CACHE_KIB}; see {@link Store.pageCacheKiB}), temporary files in memory
   * (`temp_store=MEMORY`: each write statement inside a transaction keeps a statement journal of
   * the pages it changes; on disk that cost a STORE on 1,000 messages ~17,000 `pwrite` calls), and
   * a 5 s busy timeout for a second process (e.g. a CLI `status`) on the same file.
   */
  static open(path: string, options: StoreOptions = {}): Store {
    if (path !== ":memory:") ownerOnly(path);
    const db = new DatabaseSync(path);
    try {
      db.exec(`PRAGMA journal_mode = WAL;
               PRAGMA synchronous = FULL;
               PRAGMA foreign_keys = ON;
               PRAGMA cache_size = -${PAGE_CACHE_KIB};
               PRAGMA temp_store = MEMORY;
               PRAGMA busy_timeout = 5000;`);
      migrate(db, options.migrations ?? MIGRATIONS);
    } catch (err) {
      db.close();
      throw err;
    }
    return new Store(db, options);
  }

  /**
   * The most memory SQLite's page cache may take for this file, in KiB (`PRAGMA cache_size`;
   * {@link PAGE_CACHE_KIB} after {@link Store.open}). The cache fills up to it as pages are read or
   * written and keeps them until the file is closed. Lowering it drops the pages beyond the new
   * size at once; a page that is not cached is read from the file again (usually from the
   * operating system's cache). The first sync lowers it while it runs (`runInitialSync`). Shared
   * with the views of {@link Store.forAddress}.
   */
  get pageCacheKiB(): number {
    const size = Number(
      (this.#sql.q("PRAGMA cache_size").get() as { cache_size: number })
        .cache_size,
    );
    if (size <= 0) return -size;
    // A positive size counts pages.
    const page = Number((this.#sql.q("PRAGMA page_size").get() as { page_size: number }).page_size);
    return Math.floor(size * page / 1024);
  }

  set pageCacheKiB(kib: number) {
    if (!Number.isSafeInteger(kib) || kib < 1) {
      throw new RangeError(`Page cache size must be a positive number of KiB, got ${kib}`);
    }
    this.#sql.db.exec(`PRAGMA cache_size = -${kib}`);
  }

  /** Whether every commit is synced to the disk before it returns (`synchronous=FULL`). */
  get durableCommits(): boolean {
    const row = this.#sql.q("PRAGMA synchronous").get() as { synchronous: number };
    return Number(row.synchronous) >= 2;
  }

  /** The schema version of the open file. */
  get schemaVersion(): number {
    return schemaVersion(this.#sql.db);
  }

  /** Whether a transaction is open (an error like a full disk can end one by itself). */
  get inTransaction(): boolean {
    return this.#sql.inTransaction;
  }

  /**
   * Runs `fn` as one transaction: everything it writes commits together, or nothing does when it
   * throws. Nested calls become savepoints. `fn` must be synchronous.
   */
  transaction<R>(fn: () => R): R {
    return this.#sql.transaction(fn);
  }

  /**
   * Empties the index for a full resync (an API `Refresh`): messages, UIDs, expunge history and the
   * sync checkpoint go; mailboxes stay, each with a new, larger UIDVALIDITY and its UIDNEXT kept,
   * so no UID is ever reused. The event cursor is the caller's to set in the same transaction.
   * Literal cache entries are keyed by internal IDs, which are never reused, so old ones are only
   * garbage.
   */
  rebuild(): void {
    this.#sql.transaction(() => {
      this.#sql.q("DELETE FROM mailbox_messages").run();
      this.#sql.q("DELETE FROM messages").run();
      for (const mailbox of this.mailboxes.list()) this.mailboxes.bumpUidValidity(mailbox.id);
      this.sync.resetSync();
    });
  }

  /** Closes the file (after `PRAGMA optimize`, which keeps the planner's statistics fresh). */
  close(): void {
    if (this.#view || !this.#sql.db.isOpen) return;
    try {
      this.#sql.db.exec("PRAGMA optimize");
    } finally {
      this.#sql.db.close();
    }
  }
}

/**
 * Creates the index file readable by its owner only, or makes an existing one so: it holds the
 * messages' headers (subjects, addresses, attachment names). SQLite gives its `-wal` and `-shm`
 * files the permissions of the database file. Where the platform has no modes, nothing happens.
 */
function ownerOnly(path: string): void {
  if (Deno.build.os === "windows") return;
  for (const file of [path, path + "-wal", path + "-shm"]) {
    try {
      Deno.chmodSync(file, 0o600);
    } catch (error) {
      // A file of another owner (or a read-only copy) is opened as it is.
      if (!(error instanceof Deno.errors.NotFound) || file !== path) continue;
      Deno.writeFileSync(path, new Uint8Array(), { mode: 0o600, createNew: true });
    }
  }
}
