/**
 * One address's view of the `mailbox_messages` table, for split address mode: the same
 * mailboxes, the same UIDs and UIDVALIDITY, but only the messages whose `address_id` is that
 * address (and local-only messages, which have none, such as the recovery mailbox's). A login
 * of that address sees a mailbox whose UIDs ascend with gaps where other addresses' messages are;
 * IMAP allows that, and UIDNEXT and HIGHESTMODSEQ stay the mailbox's (upper bounds are all IMAP
 * asks of them). UIDs stay stable when the address mode changes, and no second sync is needed.
 *
 * The read side IMAP sessions use is filtered: {@link AddressMembership.uids}, `count`,
 * `seqOfUid`, `uidAtSeq`, `messageAt`, `selectInfo`, `status`, `flagRows`, `fetchRows`, `search`
 * `changedSince` and `vanishedSince` (expunge records carry the message's address since schema
 * version 3; older records, which have none, are everyone's). `expungeDeleted` expunges only this
 * address's `\Deleted` messages (it searches through the filter). Everything else (`add`,
 * `remove`, `uidOf`, `memberships`, `setMessageLabels`…) is the whole table's, as the connector
 * and the sync need it: a UID another address holds is still taken.
 *
 * The filter joins `messages` by primary key per row of one mailbox, so every query stays bounded
 * by the mailbox's own indexes.
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import type { InternalMessageId, MailboxId, RemoteAddressId, Uid } from "./ids.ts";
import {
  type FetchRow,
  type FlagRow,
  type MailboxStatus,
  Membership,
  type SearchCriteria,
  type SelectInfo,
  type UidRange,
} from "./membership.ts";
import type { Sql } from "./sql.ts";

/** The join and condition that keep one address's rows of `mailbox_messages mm`. */
const OWN_JOIN = "JOIN messages m ON m.id = mm.message_id";
const OWN = "(m.address_id = ? OR m.address_id IS NULL)";

/** {@link Membership} seen by one address (see the module notes). */
export class AddressMembership extends Membership {
  /** The address whose messages this view shows. */
  readonly addressId: RemoteAddressId;
  #sql: Sql;

  constructor(sql: Sql, counters: Counters, addressId: RemoteAddressId) {
    super(sql, counters);
    this.#sql = sql;
    this.addressId = addressId;
  }

  /** Whether a message belongs to this view (its address, or a local message without one). */
  owns(messageId: InternalMessageId): boolean {
    return this.#sql.q(
      "SELECT 1 FROM messages WHERE id = ? AND (address_id = ? OR address_id IS NULL)",
    ).get(messageId, this.addressId) !== undefined;
  }

  /** This address's UIDs of a mailbox, ascending (a session's snapshot). */
  override uids(mailbox: MailboxId): Uid[] {
    const rows = this.#sql.q(
      `SELECT mm.uid FROM mailbox_messages mm ${OWN_JOIN}
       WHERE mm.mailbox_id = ? AND ${OWN} ORDER BY mm.uid`,
    ).all(mailbox, this.addressId) as { uid: number }[];
    return rows.map((r) => r.uid as Uid);
  }

  /** How many of this address's messages a mailbox holds. */
  override count(mailbox: MailboxId): number {
    return (this.#sql.q(
      `SELECT count(*) AS n FROM mailbox_messages mm ${OWN_JOIN}
       WHERE mm.mailbox_id = ? AND ${OWN}`,
    ).get(mailbox, this.addressId) as { n: number }).n;
  }

  /** The message under a UID, if it is there and this address's. */
  override messageAt(mailbox: MailboxId, uid: Uid): InternalMessageId | undefined {
    const id = super.messageAt(mailbox, uid);
    return id !== undefined && this.owns(id) ? id : undefined;
  }

  /** The sequence number of a UID in this view, if the UID is there. */
  override seqOfUid(mailbox: MailboxId, uid: Uid): number | undefined {
    if (this.messageAt(mailbox, uid) === undefined) return undefined;
    return (this.#sql.q(
      `SELECT count(*) AS n FROM mailbox_messages mm ${OWN_JOIN}
       WHERE mm.mailbox_id = ? AND mm.uid <= ? AND ${OWN}`,
    ).get(mailbox, uid, this.addressId) as { n: number }).n;
  }

  /** The UID at a sequence number (1-based) of this view, if there is one. */
  override uidAtSeq(mailbox: MailboxId, seq: number): Uid | undefined {
    if (!Number.isInteger(seq) || seq < 1) return undefined;
    const row = this.#sql.q(
      `SELECT mm.uid FROM mailbox_messages mm ${OWN_JOIN}
       WHERE mm.mailbox_id = ? AND ${OWN} ORDER BY mm.uid LIMIT 1 OFFSET ?`,
    ).get(mailbox, this.addressId, seq - 1) as { uid: number } | undefined;
    return row?.uid as Uid | undefined;
  }

  /** SELECT's numbers for this view; UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ are the mailbox's. */
  override selectInfo(mailbox: MailboxId): SelectInfo {
    const box = this.mailboxCounters(mailbox);
    const firstUnseen = this.#sql.q(
      `SELECT mm.uid FROM mailbox_messages mm INDEXED BY mailbox_messages_unseen ${OWN_JOIN}
       WHERE mm.mailbox_id = ? AND mm.flags & 1 = 0 AND ${OWN} ORDER BY mm.uid LIMIT 1`,
    ).get(mailbox, this.addressId) as { uid: number } | undefined;
    return {
      exists: this.count(mailbox),
      recent: 0,
      unseenSeq: firstUnseen ? this.seqOfUid(mailbox, firstUnseen.uid as Uid) : undefined,
      ...box,
    };
  }

  /** STATUS's numbers for this view; UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ are the mailbox's. */
  override status(mailbox: MailboxId): MailboxStatus {
    const box = this.mailboxCounters(mailbox);
    const row = this.#sql.q(
      `SELECT count(*) AS n, coalesce(sum(mm.flags & 1 = 0), 0) AS unseen,
         coalesce(sum(mm.deleted), 0) AS deleted, coalesce(sum(mm.size), 0) AS size,
         coalesce(sum(CASE WHEN mm.deleted = 1 THEN mm.size ELSE 0 END), 0) AS deletedSize
       FROM mailbox_messages mm ${OWN_JOIN} WHERE mm.mailbox_id = ? AND ${OWN}`,
    ).get(mailbox, this.addressId) as {
      n: number;
      unseen: number;
      deleted: number;
      size: number;
      deletedSize: number;
    };
    return {
      messages: row.n,
      unseen: row.unseen,
      deleted: row.deleted,
      size: row.size,
      deletedSize: row.deletedSize,
      ...box,
    };
  }

  /** Flags and mod-sequences of this address's UIDs in `ranges`, ascending. */
  override flagRows(mailbox: MailboxId, ranges: readonly UidRange[]): FlagRow[] {
    return this.#ownRows(mailbox, super.flagRows(mailbox, ranges));
  }

  /** What FETCH serves from the index for this address's UIDs in `ranges`, ascending. */
  override fetchRows(mailbox: MailboxId, ranges: readonly UidRange[]): FetchRow[] {
    return this.#ownRows(mailbox, super.fetchRows(mailbox, ranges));
  }

  /** This address's UIDs matching every key of `criteria`, ascending. */
  override search(mailbox: MailboxId, criteria: SearchCriteria): Uid[] {
    const hits = super.search(mailbox, criteria);
    if (hits.length === 0) return hits;
    const own = this.#ownUids(mailbox, hits[0], hits[hits.length - 1]);
    return hits.filter((uid) => own.has(uid));
  }

  /** This address's rows whose mod-sequence is above `modseq`, by UID. */
  override changedSince(mailbox: MailboxId, modseq: number): FlagRow[] {
    return this.#ownRows(mailbox, super.changedSince(mailbox, modseq));
  }

  /**
   * UIDs of this address's messages (and of local-only ones, and of records older than schema
   * version 3) expunged after `modseq`, ascending.
   */
  override vanishedSince(mailbox: MailboxId, modseq: number): Uid[] {
    const rows = this.#sql.q(
      `SELECT uid FROM mailbox_expunged WHERE mailbox_id = ? AND modseq > ?
         AND (address_id IS NULL OR address_id = ?) ORDER BY uid`,
    ).all(mailbox, modseq, this.addressId) as { uid: number }[];
    return rows.map((r) => r.uid as Uid);
  }

  /**
   * The rows of `rows` (of one mailbox) this view shows: one query over their UID span instead of
   * one per row.
   */
  #ownRows<R extends { uid: Uid }>(mailbox: MailboxId, rows: R[]): R[] {
    if (rows.length === 0) return rows;
    let lo = rows[0].uid;
    let hi = lo;
    for (const r of rows) {
      if (r.uid < lo) lo = r.uid;
      if (r.uid > hi) hi = r.uid;
    }
    const own = this.#ownUids(mailbox, lo, hi);
    return rows.filter((r) => own.has(r.uid));
  }

  /** This view's UIDs of a mailbox between `lo` and `hi` (inclusive). */
  #ownUids(mailbox: MailboxId, lo: number, hi: number): Set<number> {
    const rows = this.#sql.q(
      `SELECT mm.uid FROM mailbox_messages mm ${OWN_JOIN}
       WHERE mm.mailbox_id = ? AND mm.uid BETWEEN ? AND ? AND ${OWN}`,
    ).all(mailbox, lo, hi, this.addressId) as { uid: number }[];
    return new Set(rows.map((r) => r.uid));
  }
}
