/**
 * Which messages a mailbox holds, under which UID: the `mailbox_messages` table, one row per
 * (mailbox, UID) with the per-mailbox \Deleted flag and the membership's mod-sequence, plus the
 * history of expunged UIDs.
 *
 * A UID is assigned once, as the mailbox's UIDNEXT, in the same transaction that advances UIDNEXT;
 * it stays until the membership is removed (expunged) and is never handed out again under the same
 * UIDVALIDITY (ARCHITECTURE invariant 1). Adding a message that is already there returns its UID,
 * so replaying an event or a sync batch never creates a second UID.
 *
 * Every query here is bounded by an index on `(mailbox_id, …)`: UID ranges use the primary key,
 * \Seen / \Flagged / \Deleted searches partial indexes, date searches `(mailbox_id,
 * internal_date)` and CHANGEDSINCE `(mailbox_id, modseq)`.
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import type { InternalMessageId, MailboxId, RemoteLabelId, RemoteMessageId, Uid } from "./ids.ts";
import { MailboxNotFoundError } from "./mailboxes.ts";
import { MessageFlag } from "./messages.ts";
import { isIndexedSearch, SEARCH_FIELD_COLUMNS, searchFieldNeedle } from "./search_fields.ts";
import { SORT_FIELD_SQL, type SortStep } from "./sort_fields.ts";
import type { Sql } from "./sql.ts";

/** The largest UID IMAP allows (RFC 3501 `nz-number`, 32 bits). */
export const MAX_UID = 0xFFFF_FFFF;

/** An inclusive range of UIDs. `n:*` is `{ first: n, last: MAX_UID }`. */
export interface UidRange {
  first: Uid;
  last: Uid;
}

/** One message in one mailbox. */
export interface MembershipRef {
  mailbox: MailboxId;
  uid: Uid;
}

/** What FETCH FLAGS (and CONDSTORE's MODSEQ) need of one UID. */
export interface FlagRow {
  uid: Uid;
  messageId: InternalMessageId;
  /** {@link MessageFlag} bits. */
  flags: number;
  /** The per-mailbox \Deleted flag. */
  deleted: boolean;
  /** Sorted. */
  keywords: string[];
  modseq: number;
  /** RFC822.SIZE (lets FETCH bound how many literals it reads ahead). */
  size: number;
}

/** What FETCH needs of one UID without opening the literal. */
export interface FetchRow extends FlagRow {
  remoteId: RemoteMessageId | null;
  internalDate: number;
  envelope: string;
  bodyStructure: string;
  body: string;
}

/** The numbers SELECT and EXAMINE report (RFC 3501 §6.3.1, RFC 7162 §3.1.2.1). */
export interface SelectInfo {
  exists: number;
  /** Always 0: `\Recent` is not kept (IMAP4rev2 dropped it). */
  recent: 0;
  /** Sequence number of the first message without \Seen, if any. */
  unseenSeq: number | undefined;
  uidNext: Uid;
  uidValidity: number;
  highestModseq: number;
}

/** The numbers STATUS reports (RFC 3501 §6.3.10, RFC 9051 §6.3.11, RFC 8438). */
export interface MailboxStatus {
  messages: number;
  unseen: number;
  /** Messages with `\Deleted` in this mailbox. */
  deleted: number;
  /** Sum of RFC822.SIZE of the messages. */
  size: number;
  /** Sum of RFC822.SIZE of the messages with `\Deleted` (STATUS DELETED-STORAGE). */
  deletedSize: number;
  uidNext: Uid;
  uidValidity: number;
  highestModseq: number;
}

/**
 * A conjunction of search keys over one mailbox; every given key must hold. OR and NOT of IMAP
 * SEARCH are combined by the caller from the UID lists.
 */
export interface SearchCriteria {
  uids?: readonly UidRange[];
  /** {@link MessageFlag} bits that must all be set. */
  flagsSet?: number;
  /** {@link MessageFlag} bits that must all be clear. */
  flagsClear?: number;
  deleted?: boolean;
  keywords?: readonly string[];
  notKeywords?: readonly string[];
  /** INTERNALDATE at or after this Unix second (SINCE, and ON's lower bound). */
  since?: number;
  /** INTERNALDATE before this Unix second (BEFORE, and ON's upper bound). */
  before?: number;
  /** RFC822.SIZE strictly above (LARGER). */
  larger?: number;
  /** RFC822.SIZE strictly below (SMALLER). */
  smaller?: number;
  /** Mod-sequence at or above (SEARCH MODSEQ, RFC 7162 §3.1.5). */
  modseq?: number;
}

/** What {@link Membership.setMessageLabels} changed. */
export interface LabelChange {
  added: MembershipRef[];
  removed: MembershipRef[];
  /** Labels that have no mailbox here (yet); the message was not put anywhere for them. */
  unknownLabels: RemoteLabelId[];
}

interface RawFlagRow {
  uid: number;
  message_id: number;
  flags: number;
  deleted: number;
  keywords: string;
  modseq: number;
  size: number;
}

interface RawFetchRow extends RawFlagRow {
  remote_id: string | null;
  internal_date: number;
  message_size: number;
  envelope: string;
  body_structure: string;
  body: string;
}

const FLAG_COLUMNS = `mm.uid, mm.message_id, mm.flags, mm.deleted, mm.modseq, mm.size,
  (SELECT json_group_array(keyword) FROM message_keywords k WHERE k.message_id = mm.message_id)
    AS keywords`;

function toFlagRow(r: RawFlagRow): FlagRow {
  return {
    uid: r.uid as Uid,
    messageId: r.message_id as InternalMessageId,
    flags: r.flags,
    deleted: r.deleted === 1,
    keywords: (JSON.parse(r.keywords) as string[]).sort(),
    modseq: r.modseq,
    size: r.size,
  };
}

/** The `mailbox_messages` and `mailbox_expunged` tables. */
export class Membership {
  #sql: Sql;
  #counters: Counters;

  constructor(sql: Sql, counters: Counters) {
    this.#sql = sql;
    this.#counters = counters;
  }

  /**
   * Puts messages into a mailbox and returns their UIDs, in the order given. A message already
   * there keeps (and returns) its UID; new ones get UIDNEXT, UIDNEXT+1, … and one new mod-sequence.
   *
   * @throws {MailboxNotFoundError} @throws {RangeError} for an unknown message or UID overflow.
   */
  add(mailbox: MailboxId, messageIds: readonly InternalMessageId[]): Uid[] {
    return this.#sql.transaction(() => {
      let uidNext = this.#uidNext(mailbox);
      const first = uidNext;
      let modseq = 0;
      const given = new Map<InternalMessageId, Uid>();
      const insert = this.#sql.q(
        `INSERT INTO mailbox_messages
           (mailbox_id, uid, message_id, flags, deleted, modseq, internal_date, size)
         SELECT ?, ?, id, flags, 0, ?, internal_date, size FROM messages WHERE id = ?
         ON CONFLICT (message_id, mailbox_id) DO NOTHING`,
      );
      const uids = messageIds.map((id) => {
        const known = given.get(id);
        if (known !== undefined) return known;
        if (uidNext > MAX_UID) {
          throw new RangeError(`Mailbox ${mailbox} has no UIDs left under its UIDVALIDITY`);
        }
        // Drawn before we know the row is new: re-adding a known message leaves a gap in the
        // account's mod-sequence, which CONDSTORE allows, and saves a lookup per new row.
        modseq ||= this.#counters.nextModseq();
        let uid = uidNext as Uid;
        if (insert.run(mailbox, uid, modseq, id).changes === 1) {
          uidNext++;
        } else {
          // Already there (keep its UID), or no such message.
          const existing = this.uidOf(mailbox, id);
          if (existing === undefined) throw new RangeError(`No message with ID ${id}`);
          uid = existing;
        }
        given.set(id, uid);
        return uid;
      });
      if (uidNext !== first) {
        this.#sql.q(
          "UPDATE mailboxes SET uid_next = ?, highest_modseq = max(highest_modseq, ?) WHERE id = ?",
        ).run(uidNext, modseq, mailbox);
      }
      return uids;
    });
  }

  /**
   * Expunges UIDs from a mailbox (UIDs not there are skipped) and records them, with one new
   * mod-sequence, for QRESYNC. Returns what was removed, in UID order.
   */
  remove(mailbox: MailboxId, uids: readonly Uid[]): { uid: Uid; messageId: InternalMessageId }[] {
    return this.#sql.transaction(() => {
      const removed: { uid: Uid; messageId: InternalMessageId }[] = [];
      let modseq = 0;
      const del = this.#sql.q(
        "DELETE FROM mailbox_messages WHERE mailbox_id = ? AND uid = ? RETURNING message_id",
      );
      const tombstone = this.#sql.q(
        `INSERT OR REPLACE INTO mailbox_expunged (mailbox_id, uid, modseq, address_id)
         VALUES (?, ?, ?, (SELECT address_id FROM messages WHERE id = ?))`,
      );
      for (const uid of [...new Set(uids)].sort((a, b) => a - b)) {
        const row = del.get(mailbox, uid) as { message_id: number } | undefined;
        if (!row) continue;
        modseq ||= this.#counters.nextModseq();
        tombstone.run(mailbox, uid, modseq, row.message_id);
        removed.push({ uid, messageId: row.message_id as InternalMessageId });
      }
      if (modseq) {
        this.#raiseHighestModseq(mailbox, modseq);
      }
      return removed;
    });
  }

  /**
   * Expunges the UIDs marked \Deleted (EXPUNGE, CLOSE), or only those inside `ranges`
   * (UID EXPUNGE, RFC 4315). Returns the expunged UIDs in order.
   */
  expungeDeleted(mailbox: MailboxId, ranges?: readonly UidRange[]): Uid[] {
    return this.#sql.transaction(() => {
      const uids = this.search(mailbox, { deleted: true, uids: ranges });
      return this.remove(mailbox, uids).map((r) => r.uid);
    });
  }

  /** Expunges a message from every mailbox; returns where it was. */
  removeMessage(messageId: InternalMessageId): MembershipRef[] {
    return this.#sql.transaction(() => {
      const refs = this.memberships(messageId);
      for (const ref of refs) this.remove(ref.mailbox, [ref.uid]);
      return refs;
    });
  }

  /**
   * Makes the message's mailboxes that stand for remote labels exactly those of `labelIds`:
   * memberships that stay keep their UIDs, new ones get new UIDs, others are expunged. Mailboxes
   * without a remote ID (local ones) are left alone. Idempotent.
   */
  setMessageLabels(messageId: InternalMessageId, labelIds: readonly RemoteLabelId[]): LabelChange {
    return this.#sql.transaction(() => {
      const wanted = new Set<MailboxId>();
      const unknownLabels: RemoteLabelId[] = [];
      for (const label of new Set(labelIds)) {
        const row = this.#sql.q("SELECT id FROM mailboxes WHERE remote_id = ?").get(label) as
          | { id: number }
          | undefined;
        if (row) wanted.add(row.id as MailboxId);
        else unknownLabels.push(label);
      }
      const current = (this.#sql.q(
        `SELECT mm.mailbox_id, mm.uid FROM mailbox_messages mm
           JOIN mailboxes b ON b.id = mm.mailbox_id
         WHERE mm.message_id = ? AND b.remote_id IS NOT NULL`,
      ).all(messageId) as { mailbox_id: number; uid: number }[])
        .map((r) => ({ mailbox: r.mailbox_id as MailboxId, uid: r.uid as Uid }));
      const removed = current.filter((m) => !wanted.has(m.mailbox));
      for (const m of removed) this.remove(m.mailbox, [m.uid]);
      const have = new Set(current.map((m) => m.mailbox));
      const added: MembershipRef[] = [];
      for (const mailbox of wanted) {
        if (have.has(mailbox)) continue;
        added.push({ mailbox, uid: this.add(mailbox, [messageId])[0] });
      }
      return { added, removed, unknownLabels };
    });
  }

  /**
   * Sets or clears \Deleted on UIDs of one mailbox (UIDs not there, or already so, are skipped).
   * Changed rows share one new mod-sequence; returns the changed UIDs in order.
   */
  setDeleted(mailbox: MailboxId, uids: readonly Uid[], deleted: boolean): Uid[] {
    return this.#sql.transaction(() => {
      const value = deleted ? 1 : 0;
      const differs = this.#sql.q(
        "SELECT 1 FROM mailbox_messages WHERE mailbox_id = ? AND uid = ? AND deleted <> ?",
      );
      const changed = [...new Set(uids)].sort((a, b) => a - b)
        .filter((uid) => differs.get(mailbox, uid, value) !== undefined);
      if (changed.length === 0) return changed;
      const modseq = this.#counters.nextModseq();
      const update = this.#sql.q(
        "UPDATE mailbox_messages SET deleted = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?",
      );
      for (const uid of changed) update.run(value, modseq, mailbox, uid);
      this.#raiseHighestModseq(mailbox, modseq);
      return changed;
    });
  }

  /** Every mailbox holding the message, with its UID there. */
  memberships(messageId: InternalMessageId): MembershipRef[] {
    const rows = this.#sql.q(
      "SELECT mailbox_id, uid FROM mailbox_messages WHERE message_id = ? ORDER BY mailbox_id",
    ).all(messageId) as { mailbox_id: number; uid: number }[];
    return rows.map((r) => ({ mailbox: r.mailbox_id as MailboxId, uid: r.uid as Uid }));
  }

  /** The message's UID in a mailbox, if it is there. */
  uidOf(mailbox: MailboxId, messageId: InternalMessageId): Uid | undefined {
    const row = this.#sql.q(
      "SELECT uid FROM mailbox_messages WHERE message_id = ? AND mailbox_id = ?",
    ).get(messageId, mailbox) as { uid: number } | undefined;
    return row?.uid as Uid | undefined;
  }

  /**
   * The UIDs of several messages in one mailbox (those it holds), one query per 500 IDs. Like
   * {@link uidOf} it is the whole table's.
   */
  uidsOf(
    mailbox: MailboxId,
    messageIds: readonly InternalMessageId[],
  ): Map<InternalMessageId, Uid> {
    const out = new Map<InternalMessageId, Uid>();
    const st = this.#sql.q(
      `SELECT message_id, uid FROM mailbox_messages
       WHERE mailbox_id = ? AND message_id IN (SELECT value FROM json_each(?))`,
    );
    for (let i = 0; i < messageIds.length; i += 500) {
      const part = JSON.stringify(messageIds.slice(i, i + 500));
      for (const r of st.all(mailbox, part) as { message_id: number; uid: number }[]) {
        out.set(r.message_id as InternalMessageId, r.uid as Uid);
      }
    }
    return out;
  }

  /** The message under a UID, if any. */
  messageAt(mailbox: MailboxId, uid: Uid): InternalMessageId | undefined {
    const row = this.#sql.q(
      "SELECT message_id FROM mailbox_messages WHERE mailbox_id = ? AND uid = ?",
    ).get(mailbox, uid) as { message_id: number } | undefined;
    return row?.message_id as InternalMessageId | undefined;
  }

  /** All UIDs of a mailbox, ascending: sequence number n is index n-1 (a session's snapshot). */
  uids(mailbox: MailboxId): Uid[] {
    const rows = this.#sql.q(
      "SELECT uid FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid",
    ).all(mailbox) as { uid: number }[];
    return rows.map((r) => r.uid as Uid);
  }

  /** How many messages a mailbox holds. */
  count(mailbox: MailboxId): number {
    return (this.#sql.q("SELECT count(*) AS n FROM mailbox_messages WHERE mailbox_id = ?").get(
      mailbox,
    ) as { n: number }).n;
  }

  /** The sequence number of a UID (how many UIDs are at or below it), if the UID is there. */
  seqOfUid(mailbox: MailboxId, uid: Uid): number | undefined {
    if (this.messageAt(mailbox, uid) === undefined) return undefined;
    return (this.#sql.q(
      "SELECT count(*) AS n FROM mailbox_messages WHERE mailbox_id = ? AND uid <= ?",
    ).get(mailbox, uid) as { n: number }).n;
  }

  /** The UID at a sequence number (1-based), if there is one. */
  uidAtSeq(mailbox: MailboxId, seq: number): Uid | undefined {
    if (!Number.isInteger(seq) || seq < 1) return undefined;
    const row = this.#sql.q(
      "SELECT uid FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid LIMIT 1 OFFSET ?",
    ).get(mailbox, seq - 1) as { uid: number } | undefined;
    return row?.uid as Uid | undefined;
  }

  /** SELECT's numbers. @throws {MailboxNotFoundError} */
  selectInfo(mailbox: MailboxId): SelectInfo {
    const box = this.mailboxCounters(mailbox);
    const firstUnseen = this.#sql.q(
      `SELECT uid FROM mailbox_messages INDEXED BY mailbox_messages_unseen
       WHERE mailbox_id = ? AND flags & 1 = 0 ORDER BY uid LIMIT 1`,
    ).get(mailbox) as { uid: number } | undefined;
    return {
      exists: this.count(mailbox),
      recent: 0,
      unseenSeq: firstUnseen ? this.seqOfUid(mailbox, firstUnseen.uid as Uid) : undefined,
      ...box,
    };
  }

  /** STATUS's numbers. @throws {MailboxNotFoundError} */
  status(mailbox: MailboxId): MailboxStatus {
    const box = this.mailboxCounters(mailbox);
    const n = (sql: string) => (this.#sql.q(sql).get(mailbox) as { n: number | null }).n ?? 0;
    const deleted = this.#sql.q(
      `SELECT count(*) AS n, coalesce(sum(size), 0) AS size
       FROM mailbox_messages INDEXED BY mailbox_messages_deleted
       WHERE mailbox_id = ? AND deleted = 1`,
    ).get(mailbox) as { n: number; size: number };
    return {
      messages: this.count(mailbox),
      unseen: n(
        `SELECT count(*) AS n FROM mailbox_messages INDEXED BY mailbox_messages_unseen
         WHERE mailbox_id = ? AND flags & 1 = 0`,
      ),
      deleted: deleted.n,
      size: n("SELECT sum(size) AS n FROM mailbox_messages WHERE mailbox_id = ?"),
      deletedSize: deleted.size,
      ...box,
    };
  }

  /** Flags and mod-sequences of the UIDs in `ranges`, ascending (FETCH FLAGS, MODSEQ). */
  flagRows(mailbox: MailboxId, ranges: readonly UidRange[]): FlagRow[] {
    const st = this.#sql.q(
      `SELECT ${FLAG_COLUMNS} FROM mailbox_messages mm
       WHERE mm.mailbox_id = ? AND mm.uid BETWEEN ? AND ? ORDER BY mm.uid`,
    );
    return normalizeRanges(ranges).flatMap((r) =>
      (st.all(mailbox, r.first, r.last) as unknown as RawFlagRow[]).map(toFlagRow)
    );
  }

  /**
   * Everything FETCH serves from the index for the UIDs in `ranges`, ascending. Rows carry the
   * precomputed strings, so callers fetching a large mailbox should ask in slices.
   */
  fetchRows(mailbox: MailboxId, ranges: readonly UidRange[]): FetchRow[] {
    const st = this.#sql.q(
      `SELECT ${FLAG_COLUMNS}, m.remote_id, m.internal_date, m.size AS message_size, m.envelope,
         m.body_structure, m.body
       FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id
       WHERE mm.mailbox_id = ? AND mm.uid BETWEEN ? AND ? ORDER BY mm.uid`,
    );
    return normalizeRanges(ranges).flatMap((range) =>
      (st.all(mailbox, range.first, range.last) as unknown as RawFetchRow[]).map((r) => ({
        ...toFlagRow(r),
        remoteId: r.remote_id as RemoteMessageId | null,
        internalDate: r.internal_date,
        size: r.message_size,
        envelope: r.envelope,
        bodyStructure: r.body_structure,
        body: r.body,
      }))
    );
  }

  /**
   * The stored header blocks of the UIDs in `ranges`, ascending (SEARCH's header keys read a
   * whole mailbox's). One query per range; callers ask in slices. Like `memberships` and `uidOf`
   * it is the whole table's: callers pass UIDs they already hold (an address view's UIDs).
   */
  headerRows(
    mailbox: MailboxId,
    ranges: readonly UidRange[],
  ): { uid: Uid; messageId: InternalMessageId; header: Uint8Array }[] {
    const st = this.#sql.q(
      `SELECT mm.uid, mm.message_id, m.header
       FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id
       WHERE mm.mailbox_id = ? AND mm.uid BETWEEN ? AND ? ORDER BY mm.uid`,
    );
    return normalizeRanges(ranges).flatMap((range) =>
      (st.all(mailbox, range.first, range.last) as {
        uid: number;
        message_id: number;
        header: Uint8Array;
      }[]).map((r) => ({
        uid: r.uid as Uid,
        messageId: r.message_id as InternalMessageId,
        header: r.header,
      }))
    );
  }

  /**
   * The UIDs of a mailbox between `first` and `last` in the order of `steps` (SORT, RFC 5256:
   * each step's field, descending when reversed, then UID order, which is sequence order), from
   * the sort keys the index keeps (`sort_fields.ts`). Like {@link headerRows} it is the whole
   * table's: callers keep the UIDs they hold.
   */
  sortedUids(mailbox: MailboxId, steps: readonly SortStep[], first: Uid, last: Uid): Uid[] {
    const order = steps.map((s) => `${SORT_FIELD_SQL[s.field]}${s.reverse ? " DESC" : ""}`);
    const st = this.#sql.q(
      `SELECT mm.uid FROM mailbox_messages mm
       LEFT JOIN message_sort_keys k ON k.message_id = mm.message_id
       WHERE mm.mailbox_id = ? AND mm.uid BETWEEN ? AND ?
       ORDER BY ${[...order, "mm.uid"].join(", ")}`,
    );
    return (st.all(mailbox, first, last) as { uid: number }[]).map((r) => r.uid as Uid);
  }

  /**
   * The UIDs in `ranges` whose search text of header `field` (`search_fields.ts`) contains
   * `needle` case-folded, ascending; with `needle` "" those whose header has the field at all.
   * This is what `HeaderSearch.contains` of the IMAP search answers, from the index: one query
   * per range. Like {@link headerRows} it is the whole table's: callers pass UIDs they hold.
   *
   * @throws {RangeError} unless `isIndexedSearch(field, needle)` (CR or LF in `needle`, …).
   */
  searchField(
    mailbox: MailboxId,
    ranges: readonly UidRange[],
    field: string,
    needle: string,
  ): Uid[] {
    if (!isIndexedSearch(field, needle)) {
      throw new RangeError(`Cannot search header field "${field}" for this string in the index`);
    }
    const column = `f.${SEARCH_FIELD_COLUMNS[field]}`;
    const st = this.#sql.q(
      `SELECT mm.uid
       FROM mailbox_messages mm JOIN message_search_fields f ON f.message_id = mm.message_id
       WHERE mm.mailbox_id = ? AND mm.uid BETWEEN ? AND ? AND ${
        needle === "" ? `${column} IS NOT NULL` : `instr(${column}, ?) > 0`
      } ORDER BY mm.uid`,
    );
    const pattern = searchFieldNeedle(needle);
    return normalizeRanges(ranges).flatMap((range) => {
      const params = [mailbox, range.first, range.last, ...(needle === "" ? [] : [pattern])];
      return (st.all(...params) as { uid: number }[]).map((r) => r.uid as Uid);
    });
  }

  /** UIDs matching every key of `criteria`, ascending. */
  search(mailbox: MailboxId, criteria: SearchCriteria): Uid[] {
    const where = ["mm.mailbox_id = ?"];
    const params: (number | string)[] = [mailbox];
    if (criteria.uids) {
      const ranges = normalizeRanges(criteria.uids);
      if (ranges.length === 0) return [];
      where.push(`(${ranges.map(() => "mm.uid BETWEEN ? AND ?").join(" OR ")})`);
      for (const r of ranges) params.push(r.first, r.last);
    }
    // One term per bit, spelled as in the partial indexes so the planner can use them.
    for (const bit of Object.values(MessageFlag)) {
      if ((criteria.flagsSet ?? 0) & bit) where.push(`mm.flags & ${bit} <> 0`);
      if ((criteria.flagsClear ?? 0) & bit) where.push(`mm.flags & ${bit} = 0`);
    }
    if (criteria.deleted !== undefined) where.push(`mm.deleted = ${criteria.deleted ? 1 : 0}`);
    // Keywords are atoms, compared without regard to case (RFC 3501 §9), as STORE does.
    const keyword = "SELECT 1 FROM message_keywords k WHERE k.message_id = mm.message_id AND " +
      "k.keyword = ? COLLATE NOCASE";
    for (const k of criteria.keywords ?? []) {
      where.push(`EXISTS (${keyword})`);
      params.push(k);
    }
    for (const k of criteria.notKeywords ?? []) {
      where.push(`NOT EXISTS (${keyword})`);
      params.push(k);
    }
    const compare = (column: string, op: string, value: number | undefined) => {
      if (value === undefined) return;
      where.push(`mm.${column} ${op} ?`);
      params.push(value);
    };
    compare("internal_date", ">=", criteria.since);
    compare("internal_date", "<", criteria.before);
    compare("size", ">", criteria.larger);
    compare("size", "<", criteria.smaller);
    compare("modseq", ">=", criteria.modseq);
    const rows = this.#sql.prepare(
      `SELECT mm.uid FROM mailbox_messages mm ${indexHint(criteria)} WHERE ${where.join(" AND ")}`,
    ).all(...params) as { uid: number }[];
    return rows.map((r) => r.uid as Uid).sort((a, b) => a - b);
  }

  /** Rows whose mod-sequence is above `modseq` (FETCH … CHANGEDSINCE, RFC 7162 §3.1.4), by UID. */
  changedSince(mailbox: MailboxId, modseq: number): FlagRow[] {
    const rows = this.#sql.q(
      `SELECT ${FLAG_COLUMNS} FROM mailbox_messages mm
       WHERE mm.mailbox_id = ? AND mm.modseq > ?`,
    ).all(mailbox, modseq) as unknown as RawFlagRow[];
    return rows.map(toFlagRow).sort((a, b) => a.uid - b.uid);
  }

  /** UIDs expunged after `modseq`, ascending (QRESYNC VANISHED (EARLIER), RFC 7162 §3.2.5.1). */
  vanishedSince(mailbox: MailboxId, modseq: number): Uid[] {
    const rows = this.#sql.q(
      "SELECT uid FROM mailbox_expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid",
    ).all(mailbox, modseq) as { uid: number }[];
    return rows.map((r) => r.uid as Uid);
  }

  /** The lowest mod-sequence among the expunges of these UIDs, if any was recorded. */
  lowestExpungeModseq(mailbox: MailboxId, uids: readonly Uid[]): number | undefined {
    if (uids.length === 0) return undefined;
    const row = this.#sql.q(
      `SELECT min(modseq) AS m FROM mailbox_expunged
       WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))`,
    ).get(mailbox, JSON.stringify(uids)) as { m: number | null };
    return row.m ?? undefined;
  }

  #raiseHighestModseq(mailbox: MailboxId, modseq: number): void {
    this.#sql.q("UPDATE mailboxes SET highest_modseq = max(highest_modseq, ?) WHERE id = ?")
      .run(modseq, mailbox);
  }

  #uidNext(mailbox: MailboxId): number {
    const row = this.#sql.q("SELECT uid_next FROM mailboxes WHERE id = ?").get(mailbox) as
      | { uid_next: number }
      | undefined;
    if (!row) throw new MailboxNotFoundError(mailbox);
    return row.uid_next;
  }

  /** UIDNEXT, UIDVALIDITY and HIGHESTMODSEQ of a mailbox (address views share them). */
  protected mailboxCounters(mailbox: MailboxId): {
    uidNext: Uid;
    uidValidity: number;
    highestModseq: number;
  } {
    const row = this.#sql.q(
      "SELECT uid_next, uid_validity, highest_modseq FROM mailboxes WHERE id = ?",
    ).get(mailbox) as
      | { uid_next: number; uid_validity: number; highest_modseq: number }
      | undefined;
    if (!row) throw new MailboxNotFoundError(mailbox);
    return {
      uidNext: row.uid_next as Uid,
      uidValidity: row.uid_validity,
      highestModseq: row.highest_modseq,
    };
  }
}

/**
 * Without statistics (a new file) SQLite ties a partial index with the primary key and picks the
 * key, which reads the whole mailbox. The partial indexes hold the rare rows (unread, flagged,
 * deleted in a large mailbox) and also serve UID ranges, so a search that names one uses it.
 */
function indexHint(criteria: SearchCriteria): string {
  if (criteria.deleted === true) return "INDEXED BY mailbox_messages_deleted";
  if ((criteria.flagsClear ?? 0) & MessageFlag.Seen) return "INDEXED BY mailbox_messages_unseen";
  if ((criteria.flagsSet ?? 0) & MessageFlag.Flagged) return "INDEXED BY mailbox_messages_flagged";
  return "";
}

/** Orients each range low to high (`5:1` is `1:5`), sorts, and merges overlapping or adjacent
 * ranges. */
export function normalizeRanges(ranges: readonly UidRange[]): UidRange[] {
  const sorted = ranges
    .map((r) => r.first <= r.last ? r : { first: r.last, last: r.first })
    .sort((a, b) => a.first - b.first);
  const out: UidRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.first <= last.last + 1) {
      if (r.last > last.last) out[out.length - 1] = { first: last.first, last: r.last };
    } else {
      out.push({ ...r });
    }
  }
  return out;
}
