/**
 * The one SQLite connection of an account's index, with a prepared-statement cache and nested
 * transactions (the outermost is `BEGIN IMMEDIATE`, inner ones are savepoints).
 *
 * Every mutating method of the store runs through {@link Sql.transaction}, so it is atomic on its
 * own and joins the caller's transaction when there is one: an event and the cursor that covers it
 * commit together (ARCHITECTURE invariant 4).
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Wraps a `DatabaseSync` for the store's modules. */
export class Sql {
  readonly db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #savepoints = 0;
  #onPrepare: ((sql: string) => void) | undefined;

  /** `onPrepare` sees the text of every statement compiled (tests check query plans with it). */
  constructor(db: DatabaseSync, onPrepare?: (sql: string) => void) {
    this.db = db;
    this.#onPrepare = onPrepare;
  }

  /** A prepared statement for `sql`, compiled once per connection. */
  q(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) this.#statements.set(sql, st = this.prepare(sql));
    return st;
  }

  /** A statement compiled for one use (SQL assembled at run time, which would swamp the cache). */
  prepare(sql: string): StatementSync {
    this.#onPrepare?.(sql);
    return this.db.prepare(sql);
  }

  /** Whether a transaction (ours or anyone's on this connection) is open. */
  get inTransaction(): boolean {
    return this.db.isTransaction;
  }

  /**
   * Runs `fn` atomically. Outside a transaction this is `BEGIN IMMEDIATE` … `COMMIT`; inside one it
   * is a savepoint, so a failing inner call rolls back only its own work (the caller may catch the
   * error and carry on). `fn` must be synchronous: `node:sqlite` is, and an `await` inside would let
   * other work run in the middle of the transaction.
   */
  transaction<R>(fn: () => R): R {
    const outer = !this.db.isTransaction;
    const name = `store_sp_${++this.#savepoints}`;
    try {
      this.q(outer ? "BEGIN IMMEDIATE" : `SAVEPOINT ${name}`).run();
      let result: R;
      try {
        result = fn();
        if (isThenable(result)) {
          throw new TypeError("Cannot run an async callback in a store transaction");
        }
        this.q(outer ? "COMMIT" : `RELEASE ${name}`).run();
      } catch (err) {
        // Some errors (SQLITE_FULL, SQLITE_IOERR…) end the whole transaction by themselves.
        if (!this.db.isTransaction) throw err;
        if (outer) {
          this.q("ROLLBACK").run();
        } else {
          this.q(`ROLLBACK TO ${name}`).run();
          this.q(`RELEASE ${name}`).run();
        }
        throw err;
      }
      return result;
    } finally {
      this.#savepoints--;
    }
  }

  /** Throws unless a transaction is open; for writes that must commit with the data they cover. */
  requireTransaction(what: string): void {
    if (!this.db.isTransaction) {
      throw new Error(`Cannot call ${what} outside a transaction: wrap it in Store.transaction`);
    }
  }
}

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
