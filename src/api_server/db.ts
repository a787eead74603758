/**
 * The reference server's storage: a small document store of JSON records grouped by kind, kept in
 * memory, or in SQLite (`node:sqlite`, WAL) when the server runs with `--data DIR` so that a demo
 * survives restarts. Every write goes straight through; there is no separate save step.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

/** A JSON-serialisable record stored under `(kind, id)`. */
export type Doc = Record<string, unknown>;

/** Storage of JSON records by kind and ID; both implementations keep insertion order per kind. */
export interface Db {
  /** Reads one record, or `undefined`. */
  get<T extends Doc>(kind: string, id: string): T | undefined;
  /** Inserts or replaces one record. */
  put(kind: string, id: string, value: Doc): void;
  /** Removes one record (no error when absent). */
  delete(kind: string, id: string): void;
  /** All records of a kind, in insertion order. */
  list<T extends Doc>(kind: string): T[];
  /** Runs `fn` atomically (one SQLite transaction; plain call in memory). */
  transaction<R>(fn: () => R): R;
  /** Releases the file, if any. */
  close(): void;
}

/** An in-memory {@link Db}: the default, and what tests use. */
export class MemoryDb implements Db {
  #kinds = new Map<string, Map<string, string>>();

  get<T extends Doc>(kind: string, id: string): T | undefined {
    const raw = this.#kinds.get(kind)?.get(id);
    return raw === undefined ? undefined : JSON.parse(raw) as T;
  }

  put(kind: string, id: string, value: Doc): void {
    let m = this.#kinds.get(kind);
    if (!m) this.#kinds.set(kind, m = new Map());
    m.set(id, JSON.stringify(value));
  }

  delete(kind: string, id: string): void {
    this.#kinds.get(kind)?.delete(id);
  }

  list<T extends Doc>(kind: string): T[] {
    return [...(this.#kinds.get(kind)?.values() ?? [])].map((raw) => JSON.parse(raw) as T);
  }

  transaction<R>(fn: () => R): R {
    return fn();
  }

  close(): void {}
}

/** A {@link Db} in one SQLite file (`<dir>/api-server.sqlite`). */
export class SqliteDb implements Db {
  #db: DatabaseSync;
  #depth = 0;
  #statements = new Map<string, StatementSync>();

  /** Opens (creating if needed) the database in `dir`. */
  constructor(dir: string) {
    Deno.mkdirSync(dir, { recursive: true });
    this.#db = new DatabaseSync(`${dir}/api-server.sqlite`);
    this.#db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;");
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS docs (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
         UNIQUE (kind, id))`,
    );
  }

  get<T extends Doc>(kind: string, id: string): T | undefined {
    const row = this.#statement("SELECT value FROM docs WHERE kind = ? AND id = ?").get(
      kind,
      id,
    ) as
      | { value: string }
      | undefined;
    return row ? JSON.parse(row.value) as T : undefined;
  }

  put(kind: string, id: string, value: Doc): void {
    this.#statement(
      `INSERT INTO docs (kind, id, value) VALUES (?, ?, ?)
       ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value`,
    ).run(kind, id, JSON.stringify(value));
  }

  delete(kind: string, id: string): void {
    this.#statement("DELETE FROM docs WHERE kind = ? AND id = ?").run(kind, id);
  }

  list<T extends Doc>(kind: string): T[] {
    const rows = this.#db.prepare("SELECT value FROM docs WHERE kind = ? ORDER BY seq").all(
      kind,
    ) as { value: string }[];
    return rows.map((r) => JSON.parse(r.value) as T);
  }

  transaction<R>(fn: () => R): R {
    if (this.#depth > 0) return fn();
    this.#depth++;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    } finally {
      this.#depth--;
    }
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }

  /** The prepared statement for `sql`, prepared once. */
  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}
