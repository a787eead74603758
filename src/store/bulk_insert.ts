/**
 * The first sync's fast path into the index: a run of messages that are not indexed yet, inserted
 * with their memberships and search texts (`search_fields.ts`) in one transaction, with a handful
 * of prepared statements per message instead of the general path's savepoints and lookups
 * (`Messages.upsertFromSync` followed by `Membership.setMessageLabels`, which costs about 0.4 ms a
 * message).
 *
 * The result is what the general path gives for new messages applied one after the other in the
 * same order: each mailbox's new UIDs are handed out from its UIDNEXT in message order, UIDNEXT
 * and HIGHESTMODSEQ move past them. The only difference is the mod-sequence: the whole run shares
 * one (as a multi-message `Membership.add` does), where the general path draws one per message
 * and per membership; CONDSTORE only asks that it grow.
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import type { InternalMessageId, MailboxId, Uid } from "./ids.ts";
import { MailboxNotFoundError } from "./mailboxes.ts";
import { MAX_UID, type MembershipRef } from "./membership.ts";
import { ALL_MESSAGE_FLAGS, type SyncedMessage } from "./messages.ts";
import { writeHeaderFields } from "./sort_fields.ts";
import type { Sql } from "./sql.ts";

/** A new message and the mailboxes it goes into. */
export interface BulkMessage extends SyncedMessage {
  /** Mailboxes to add it to (duplicates are ignored). */
  mailboxes: readonly MailboxId[];
}

/** What {@link BulkInsert.insertNew} did for one message. */
export interface BulkInserted {
  id: InternalMessageId;
  /** Its memberships, ascending by mailbox. */
  added: MembershipRef[];
}

/** Bulk inserts of the first sync (`store.bulk`). */
export class BulkInsert {
  #sql: Sql;
  #counters: Counters;

  constructor(sql: Sql, counters: Counters) {
    this.#sql = sql;
    this.#counters = counters;
  }

  /**
   * Inserts messages whose remote IDs are not in the index, in order, each into its mailboxes,
   * as one transaction (a savepoint inside the caller's). Results are in input order.
   *
   * @throws {MailboxNotFoundError} for an unknown mailbox, {@link RangeError} when a mailbox has
   * no UIDs left; a remote ID that is already indexed violates a constraint. Nothing is written
   * then.
   */
  insertNew(messages: readonly BulkMessage[]): BulkInserted[] {
    if (messages.length === 0) return [];
    return this.#sql.transaction(() => {
      const modseq = this.#counters.nextModseq();
      const uidNext = new Map<MailboxId, number>();
      const insertMessage = this.#sql.q(
        `INSERT INTO messages (remote_id, address_id, internal_date, size, flags, modseq,
           envelope, body_structure, body, header, build_status, build_error, remote_meta,
           literal_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      );
      const insertMembership = this.#sql.q(
        `INSERT INTO mailbox_messages
           (mailbox_id, uid, message_id, flags, deleted, modseq, internal_date, size)
         VALUES (?, ?, ?, ?, 0, ?, ?, ?)`,
      );
      const readUidNext = this.#sql.q("SELECT uid_next FROM mailboxes WHERE id = ?");
      const results: BulkInserted[] = [];
      for (const m of messages) {
        const flags = m.flags & ALL_MESSAGE_FLAGS;
        const row = insertMessage.get(
          m.remoteId,
          m.addressId,
          m.internalDate,
          m.size,
          flags,
          modseq,
          m.envelope,
          m.bodyStructure,
          m.body,
          m.header,
          m.buildError == null ? "ok" : "failed",
          m.buildError ?? null,
          m.remoteMeta ?? null,
          m.literalSha256 ?? null,
        ) as { id: number };
        const id = row.id as InternalMessageId;
        writeHeaderFields(this.#sql, id, m.header);
        const added: MembershipRef[] = [];
        for (const mailbox of [...new Set(m.mailboxes)].sort((a, b) => a - b)) {
          let uid = uidNext.get(mailbox);
          if (uid === undefined) {
            const r = readUidNext.get(mailbox) as { uid_next: number } | undefined;
            if (!r) throw new MailboxNotFoundError(mailbox);
            uid = r.uid_next;
          }
          if (uid > MAX_UID) {
            throw new RangeError(`Mailbox ${mailbox} has no UIDs left under its UIDVALIDITY`);
          }
          insertMembership.run(mailbox, uid, id, flags, modseq, m.internalDate, m.size);
          added.push({ mailbox, uid: uid as Uid });
          uidNext.set(mailbox, uid + 1);
        }
        results.push({ id, added });
      }
      const update = this.#sql.q(
        "UPDATE mailboxes SET uid_next = ?, highest_modseq = max(highest_modseq, ?) WHERE id = ?",
      );
      for (const [mailbox, next] of uidNext) update.run(next, modseq, mailbox);
      return results;
    });
  }
}
