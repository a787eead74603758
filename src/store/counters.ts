/**
 * The index's two persisted monotonic counters: the account-wide CONDSTORE mod-sequence and the
 * UIDVALIDITY generator.
 *
 * @module
 */
import type { Sql } from "./sql.ts";

/** UIDVALIDITY counts seconds from here (2025-01-01T00:00:00Z), as gluon counts from 2023-02-01. */
export const UID_VALIDITY_EPOCH_S = Date.UTC(2025, 0, 1) / 1000;

const MAX_UID_VALIDITY = 0xFFFF_FFFF;

/** Reads and advances the `counters` table. */
export class Counters {
  #sql: Sql;
  #now: () => number;

  /** `now` returns milliseconds since the Unix epoch (`Date.now` unless a test fakes it). */
  constructor(sql: Sql, now: () => number) {
    this.#sql = sql;
    this.#now = now;
  }

  /** The last mod-sequence handed out (0 before the first change). */
  currentModseq(): number {
    return this.#value("modseq");
  }

  /**
   * A new mod-sequence, larger than every earlier one. One call per change: every row the change
   * touches gets this value (RFC 7162 allows one value for one atomic change to many messages).
   */
  nextModseq(): number {
    const row = this.#sql.q(
      "UPDATE counters SET value = value + 1 WHERE name = 'modseq' RETURNING value",
    ).get() as { value: number };
    return row.value;
  }

  /**
   * A new UIDVALIDITY: seconds since {@link UID_VALIDITY_EPOCH_S}, but always larger than the last
   * value handed out, even twice in one second or when the clock went back; the last value is
   * stored, so this holds across restarts.
   *
   * @throws {RangeError} when the value would not fit in 32 bits.
   */
  nextUidValidity(): number {
    return this.#sql.transaction(() => {
      const last = this.#value("uid_validity");
      const fromClock = Math.floor(this.#now() / 1000) - UID_VALIDITY_EPOCH_S;
      const next = Math.max(fromClock, last + 1, 1);
      if (next > MAX_UID_VALIDITY) {
        throw new RangeError(`Cannot generate a UIDVALIDITY above ${MAX_UID_VALIDITY}`);
      }
      this.#sql.q("UPDATE counters SET value = ? WHERE name = 'uid_validity'").run(next);
      return next;
    });
  }

  #value(name: string): number {
    const row = this.#sql.q("SELECT value FROM counters WHERE name = ?").get(name) as {
      value: number;
    };
    return row.value;
  }
}
