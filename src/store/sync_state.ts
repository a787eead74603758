/**
 * Where the sync stands: the first-sync checkpoint, the messages that failed to build, and the
 * event cursor (the last event whose changes are in the index).
 *
 * Every write here must happen **inside the transaction that writes the data it covers**: the
 * batch of messages a checkpoint counts, the event's changes the new cursor acknowledges. Then a
 * crash at any point leaves the index and its position agreeing: nothing applied twice, nothing
 * skipped (ARCHITECTURE invariant 4). The writers throw when no transaction is open, so a call
 * outside one is a bug found by the first test that makes it.
 *
 * @module
 */
import type { RemoteEventId, RemoteMessageId } from "./ids.ts";
import type { Sql } from "./sql.ts";

/** The first sync's checkpoint (proton-bridge's sync status, kept in the index instead of a file). */
export interface SyncCheckpoint {
  /** The sync layer's name for the step it is in; the store does not interpret it. */
  phase: string;
  /** Labels have been turned into mailboxes. */
  labelsDone: boolean;
  /** Messages on the server when counting, once counted. */
  totalCount: number | null;
  /** Messages applied so far. */
  syncedCount: number;
  /** The oldest message applied so far: the next metadata page starts here (`EndID`). */
  lastSyncedRemoteId: RemoteMessageId | null;
}

/** A message the sync could not build, and why. */
export interface SyncFailure {
  remoteId: RemoteMessageId;
  reason: string;
  /** Unix seconds. */
  failedAt: number;
}

/** The `sync_checkpoint`, `sync_failures` and `event_cursor` tables. */
export class SyncState {
  #sql: Sql;
  #now: () => number;

  /** `now` returns milliseconds since the Unix epoch. */
  constructor(sql: Sql, now: () => number) {
    this.#sql = sql;
    this.#now = now;
  }

  /** The stored checkpoint, or `undefined` before the first sync wrote one. */
  checkpoint(): SyncCheckpoint | undefined {
    const row = this.#sql.q(
      `SELECT phase, labels_done, total_count, synced_count, last_synced_remote_id
       FROM sync_checkpoint WHERE id = 1`,
    ).get() as {
      phase: string;
      labels_done: number;
      total_count: number | null;
      synced_count: number;
      last_synced_remote_id: string | null;
    } | undefined;
    if (!row) return undefined;
    return {
      phase: row.phase,
      labelsDone: row.labels_done === 1,
      totalCount: row.total_count,
      syncedCount: row.synced_count,
      lastSyncedRemoteId: row.last_synced_remote_id as RemoteMessageId | null,
    };
  }

  /** Replaces the checkpoint. Call inside the transaction that applied what it counts. */
  saveCheckpoint(checkpoint: SyncCheckpoint): void {
    this.#sql.requireTransaction("saveCheckpoint");
    this.#sql.q(
      `INSERT OR REPLACE INTO sync_checkpoint
         (id, phase, labels_done, total_count, synced_count, last_synced_remote_id)
       VALUES (1, ?, ?, ?, ?, ?)`,
    ).run(
      checkpoint.phase,
      checkpoint.labelsDone ? 1 : 0,
      checkpoint.totalCount,
      checkpoint.syncedCount,
      checkpoint.lastSyncedRemoteId,
    );
  }

  /** Records (or updates) a message that failed to build. Call inside the batch's transaction. */
  recordFailure(remoteId: RemoteMessageId, reason: string): void {
    this.#sql.requireTransaction("recordFailure");
    this.#sql.q(
      "INSERT OR REPLACE INTO sync_failures (remote_id, reason, failed_at) VALUES (?, ?, ?)",
    ).run(remoteId, reason, Math.floor(this.#now() / 1000));
  }

  /** Forgets a failure once the message built. Call inside the transaction that stored it. */
  clearFailure(remoteId: RemoteMessageId): void {
    this.#sql.requireTransaction("clearFailure");
    this.#sql.q("DELETE FROM sync_failures WHERE remote_id = ?").run(remoteId);
  }

  /** Recorded failures, oldest first. */
  failures(): SyncFailure[] {
    const rows = this.#sql.q(
      "SELECT remote_id, reason, failed_at FROM sync_failures ORDER BY failed_at, remote_id",
    ).all() as { remote_id: string; reason: string; failed_at: number }[];
    return rows.map((r) => ({
      remoteId: r.remote_id as RemoteMessageId,
      reason: r.reason,
      failedAt: r.failed_at,
    }));
  }

  /** The last event whose changes are in the index, or `undefined` before the first one. */
  eventCursor(): RemoteEventId | undefined {
    const row = this.#sql.q("SELECT event_id FROM event_cursor WHERE id = 1").get() as
      | { event_id: string }
      | undefined;
    return row?.event_id as RemoteEventId | undefined;
  }

  /** Moves the cursor. Call inside the transaction that applied the event's changes. */
  setEventCursor(eventId: RemoteEventId): void {
    this.#sql.requireTransaction("setEventCursor");
    this.#sql.q(
      "INSERT OR REPLACE INTO event_cursor (id, event_id, updated_at) VALUES (1, ?, ?)",
    ).run(eventId, Math.floor(this.#now() / 1000));
  }

  /** Forgets the checkpoint and the failures (a rebuild starts the first sync over). */
  resetSync(): void {
    this.#sql.requireTransaction("resetSync");
    this.#sql.q("DELETE FROM sync_checkpoint").run();
    this.#sql.q("DELETE FROM sync_failures").run();
  }
}
