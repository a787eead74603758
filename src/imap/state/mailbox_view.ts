/**
 * One session's view of its selected mailbox (RFC 3501 §2.3.1.2, §7.4.1; the "snapshot" of gluon):
 * the sequence-number → UID map the client has been told about, plus updates from the bus queued
 * until the session may report them.
 *
 * The snapshot changes only when the view is flushed: new UIDs become `* n EXISTS`, expunged UIDs
 * `* n EXPUNGE` (only when the caller allows expunges: never during FETCH, STORE or SEARCH; one
 * `* VANISHED <uids>` instead once the session enabled QRESYNC, RFC 7162 §3.2.10), and
 * messages whose flags changed `* n FETCH (UID u FLAGS (…) [MODSEQ (m)])`, read from the store at
 * flush time so they are always current. Until then sequence numbers keep meaning what the client
 * was last told, even for messages already gone from the index (ARCHITECTURE invariant 2).
 *
 * The view reads only through `store.membership`, so a store that shows part of a mailbox (split
 * address mode: `Store.forAddress`) makes a view of that part: the snapshot holds only its UIDs,
 * new UIDs from the bus become EXISTS only when that store shows them, and expunges and flag
 * changes of UIDs outside the snapshot are not reported.
 *
 * @module
 */
import type { Update } from "../../connector/updates.ts";
import type { FlagRow, Mailbox, MailboxId, Store, Uid, UidRange } from "../../store/mod.ts";
import { compactUidSet, type Encoder, type SequenceSet } from "../wire/mod.ts";
import { flagList } from "./flags.ts";

/** Options of {@link MailboxView}. */
export interface MailboxViewOptions {
  store: Store;
  mailbox: Mailbox;
  /** EXAMINE: no flag changes, no \Seen on fetch, no expunge. */
  readOnly: boolean;
  /** Called whenever an update for this mailbox was queued (wakes IDLE). */
  onQueued?: () => void;
}

/** What happened to the view that the session must act on beyond untagged responses. */
export type ViewFate = "ok" | "deleted" | "rebuilt";

/** The selected mailbox of one session. */
export class MailboxView {
  readonly store: Store;
  readonly mailboxId: MailboxId;
  readonly readOnly: boolean;
  /** UIDVALIDITY at selection. */
  readonly uidValidity: number;
  #name: string;
  #uids: Uid[];
  #pendingNew = new Set<Uid>();
  #pendingExpunged = new Set<Uid>();
  #pendingFlags = new Set<Uid>();
  #fate: ViewFate = "ok";
  /** Called whenever an update for this mailbox was queued (the session wakes IDLE with it). */
  onQueued: () => void;

  constructor(options: MailboxViewOptions) {
    this.store = options.store;
    this.mailboxId = options.mailbox.id;
    this.readOnly = options.readOnly;
    this.uidValidity = options.mailbox.uidValidity;
    this.#name = options.mailbox.name;
    this.#uids = options.store.membership.uids(options.mailbox.id);
    this.onQueued = options.onQueued ?? (() => {});
  }

  /** The mailbox name (follows renames). */
  get name(): string {
    return this.#name;
  }

  /** Messages in the snapshot (`EXISTS` as last told to the client). */
  get exists(): number {
    return this.#uids.length;
  }

  /** Whether the mailbox was deleted or rebuilt under the session. */
  get fate(): ViewFate {
    return this.#fate;
  }

  /** Whether updates are waiting to be written. */
  get hasPending(): boolean {
    return this.#pendingNew.size > 0 || this.#pendingExpunged.size > 0 ||
      this.#pendingFlags.size > 0 || this.#fate !== "ok";
  }

  /** The UIDs of the snapshot, ascending (sequence number n is index n-1). Do not modify. */
  get uids(): readonly Uid[] {
    return this.#uids;
  }

  /** The UID at sequence number `seq` (1-based), if any. */
  uidAt(seq: number): Uid | undefined {
    return this.#uids[seq - 1];
  }

  /** The sequence number of `uid` in the snapshot, if it is there. */
  seqOf(uid: Uid): number | undefined {
    const i = this.#indexOf(uid);
    return i < 0 ? undefined : i + 1;
  }

  /** The largest UID of the snapshot (0 when empty). */
  get maxUid(): number {
    return this.#uids.length === 0 ? 0 : this.#uids[this.#uids.length - 1];
  }

  #indexOf(uid: number): number {
    let lo = 0;
    let hi = this.#uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.#uids[mid];
      if (v === uid) return mid;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First index whose UID is ≥ `uid`. */
  #lowerBound(uid: number): number {
    let lo = 0;
    let hi = this.#uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#uids[mid] < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The UIDs a sequence set names, ascending and without duplicates. With `uid` the set holds
   * UIDs (`*` is the largest UID; UIDs not in the snapshot are skipped, RFC 3501 §6.4.8); without,
   * sequence numbers (`*` is the last message; numbers beyond EXISTS are an error the caller
   * reports: `undefined` is returned).
   */
  resolve(set: SequenceSet, uid: boolean): Uid[] | undefined {
    const out: Uid[] = [];
    if (uid) {
      const max = this.maxUid;
      for (const [a, b] of set.resolve(max === 0 ? 0 : max)) {
        // `n:*` where n > max gives max (RFC 3501 §6.4.8: "559:*" includes the last UID).
        let from = this.#lowerBound(a);
        const to = b;
        for (; from < this.#uids.length && this.#uids[from] <= to; from++) {
          out.push(this.#uids[from]);
        }
      }
    } else {
      if (set.maxExplicit() > this.#uids.length) return undefined;
      if (this.#uids.length === 0) return set.hasStar ? undefined : [];
      for (const [a, b] of set.resolve(this.#uids.length)) {
        for (let s = a; s <= b; s++) out.push(this.#uids[s - 1]);
      }
    }
    return dedupeSorted(out);
  }

  /** Ascending UIDs as the fewest {@link UidRange}s (for store queries). */
  toUidRanges(uids: readonly Uid[]): UidRange[] {
    const ranges: UidRange[] = [];
    for (const u of uids) {
      const last = ranges[ranges.length - 1];
      if (last && last.last + 1 === u) last.last = u;
      else ranges.push({ first: u, last: u });
    }
    return ranges;
  }

  /**
   * Takes one bus update into the queue (or ignores it when it concerns other mailboxes).
   * Always acknowledges.
   */
  enqueue(update: Update): void {
    try {
      let queued = false;
      switch (update.kind) {
        case "MessagesCreated":
          if (update.mailbox === this.mailboxId) {
            for (const u of update.uids) {
              this.#pendingNew.add(u);
              this.#pendingExpunged.delete(u);
            }
            queued = true;
          }
          break;
        case "MessagesExpunged":
          if (update.mailbox === this.mailboxId) {
            for (const u of update.uids) this.#expunged(u);
            queued = true;
          }
          break;
        case "MembershipChanged":
          for (const r of update.added) {
            if (r.mailbox === this.mailboxId) {
              this.#pendingNew.add(r.uid);
              queued = true;
            }
          }
          for (const r of update.removed) {
            if (r.mailbox === this.mailboxId) {
              this.#expunged(r.uid);
              queued = true;
            }
          }
          break;
        case "FlagsChanged":
          for (const c of update.changes) {
            for (const r of c.memberships) {
              if (r.mailbox === this.mailboxId) {
                this.#pendingFlags.add(r.uid);
                queued = true;
              }
            }
          }
          break;
        case "MailboxRenamed":
          if (update.mailbox === this.mailboxId) this.#name = update.newName;
          break;
        case "MailboxDeleted":
          if (update.mailbox === this.mailboxId) {
            this.#fate = "deleted";
            queued = true;
          }
          break;
        case "UidValidityBumped":
          if (update.mailboxes.some((m) => m.mailbox === this.mailboxId)) {
            this.#fate = "rebuilt";
            queued = true;
          }
          break;
        case "MailboxCreated":
          break;
      }
      if (queued) this.onQueued();
    } finally {
      update.ack();
    }
  }

  /** Marks UIDs whose flags (or \Deleted) changed, e.g. by this session's own STORE. */
  markFlagsChanged(uids: Iterable<Uid>): void {
    for (const u of uids) this.#pendingFlags.add(u);
  }

  /**
   * Drops queued flag changes of these UIDs: a STORE (or a FETCH that set `\Seen`) that has just
   * written their current flags itself, so the next flush does not repeat them. Changes queued
   * after this call are kept.
   */
  forgetFlagChanges(uids: Iterable<Uid>): void {
    for (const u of uids) this.#pendingFlags.delete(u);
  }

  #expunged(uid: Uid): void {
    this.#pendingNew.delete(uid); // a UID never told is not in the snapshot either (below)
    this.#pendingFlags.delete(uid);
    if (this.#indexOf(uid) >= 0) this.#pendingExpunged.add(uid);
  }

  /**
   * Writes the queued updates as untagged responses into `e` (one complete response per line)
   * and applies them to the snapshot. Expunges only when `expunge` is true; otherwise they stay
   * queued (and their sequence numbers stay valid). `modseq` adds `MODSEQ` to FETCH responses
   * (CONDSTORE enabled). `vanished` reports expunges as one `* VANISHED` (QRESYNC enabled).
   * `skipFlags` leaves flag changes of those UIDs unreported (a STORE that already answered for
   * them).
   */
  flush(
    e: Encoder,
    options: {
      expunge: boolean;
      modseq: boolean;
      vanished?: boolean;
      skipFlags?: ReadonlySet<Uid>;
    },
  ): void {
    if (options.expunge && options.vanished && this.#pendingExpunged.size > 0) {
      const gone = [...this.#pendingExpunged].filter((u) => this.#indexOf(u) >= 0);
      this.#pendingExpunged.clear();
      if (gone.length > 0) {
        const goneSet = new Set(gone);
        this.#uids = this.#uids.filter((u) => !goneSet.has(u));
        e.raw(`* VANISHED ${compactUidSet(gone)}`).crlf();
      }
    }
    if (options.expunge && this.#pendingExpunged.size > 0) {
      // Highest first, so each sequence number is still the one the client knows.
      const gone = [...this.#pendingExpunged].sort((a, b) => b - a);
      for (const uid of gone) {
        const i = this.#indexOf(uid);
        if (i < 0) continue;
        e.raw(`* ${i + 1} EXPUNGE`).crlf();
        this.#uids.splice(i, 1);
      }
      this.#pendingExpunged.clear();
    }
    if (this.#pendingNew.size > 0) {
      let fresh = [...this.#pendingNew].filter((u) => this.#indexOf(u) < 0).sort((a, b) => a - b);
      this.#pendingNew.clear();
      if (fresh.length > 0) {
        // Only UIDs this session's store shows (another address's in split mode are not there;
        // neither is one already gone again).
        const shown = new Set(
          this.store.membership.search(this.mailboxId, { uids: this.toUidRanges(fresh) }),
        );
        fresh = fresh.filter((u) => shown.has(u));
      }
      if (fresh.length > 0) {
        // New UIDs are above every UID already known (UIDNEXT only grows), so appending keeps order.
        if (fresh[0] <= this.maxUid) {
          this.#uids = dedupeSorted([...this.#uids, ...fresh].sort((a, b) => a - b));
        } else this.#uids.push(...fresh);
        e.raw(`* ${this.#uids.length} EXISTS`).crlf();
      }
    }
    if (this.#pendingFlags.size > 0) {
      const changed = [...this.#pendingFlags].filter((u) => !options.skipFlags?.has(u))
        .sort((a, b) => a - b);
      this.#pendingFlags.clear();
      if (changed.length > 0) {
        const rows = this.store.membership.flagRows(this.mailboxId, this.toUidRanges(changed));
        this.writeFlags(e, rows, options.modseq);
      }
    }
    if (!options.expunge && options.vanished && this.#pendingExpunged.size > 0) {
      // Expunges held back (RFC 3501 §7.4.1) while this command may have told MODSEQs above
      // theirs: a QRESYNC client that resynchronizes from those would never hear of them (RFC
      // 5162 erratum 1810). A lower HIGHESTMODSEQ is its resynchronization point instead.
      const low = this.store.membership.lowestExpungeModseq(this.mailboxId, [
        ...this.#pendingExpunged,
      ]);
      if (low !== undefined && low > 1) {
        e.raw(`* OK [HIGHESTMODSEQ ${low - 1}] Expunges are pending`).crlf();
      }
    }
  }

  /**
   * Writes `* n FETCH (UID u FLAGS (…) [MODSEQ (m)])` for each row whose UID the snapshot holds
   * (and that is not waiting to be reported expunged), in the rows' order.
   */
  writeFlags(e: Encoder, rows: readonly FlagRow[], modseq: boolean): void {
    for (const row of rows) {
      if (this.#pendingExpunged.has(row.uid)) continue;
      const seq = this.seqOf(row.uid);
      if (seq === undefined) continue;
      e.raw(`* ${seq} FETCH (UID ${row.uid} FLAGS `).flags(
        flagList(row.flags, row.keywords, row.deleted),
      );
      if (modseq) e.raw(` MODSEQ (${row.modseq})`);
      e.raw(")").crlf();
    }
  }

  /**
   * UIDs of this mailbox expunged after `modseq` that the snapshot does not hold, within `ranges`
   * when given (QRESYNC's `VANISHED (EARLIER)`, RFC 7162 §3.2.5.1, §3.2.6). UIDs expunged but
   * not yet reported to this session are left out: the next flush reports them.
   */
  vanishedSince(modseq: number, ranges?: readonly [number, number][]): Uid[] {
    const within = ranges === undefined ? () => true : rangesContain(ranges);
    return this.store.membership.vanishedSince(this.mailboxId, modseq).filter((u) =>
      this.#indexOf(u) < 0 && within(u)
    );
  }

  /** Forgets the snapshot's knowledge of expunged UIDs without telling (after CLOSE). */
  clearPending(): void {
    this.#pendingNew.clear();
    this.#pendingExpunged.clear();
    this.#pendingFlags.clear();
  }

  /** Whether `uid` was expunged by someone and is only waiting to be reported. */
  isExpungedPending(uid: Uid): boolean {
    return this.#pendingExpunged.has(uid);
  }
}

/**
 * A membership test for the union of `[first, last]` ranges (in any order, overlapping or not):
 * merged once, then a binary search per number, so a client's set of thousands of ranges against
 * thousands of UIDs stays cheap.
 */
export function rangesContain(ranges: readonly [number, number][]): (n: number) => boolean {
  const sorted = ranges.map(([a, b]): [number, number] => a <= b ? [a, b] : [b, a])
    .sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return (n: number) => {
    let lo = 0;
    let hi = merged.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (n < merged[mid][0]) hi = mid - 1;
      else if (n > merged[mid][1]) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

function dedupeSorted(list: Uid[]): Uid[] {
  list.sort((a, b) => a - b);
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    if (r === 0 || list[r] !== list[r - 1]) list[w++] = list[r];
  }
  list.length = w;
  return list;
}
