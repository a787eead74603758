/**
 * STORE (proton-api.md §5.3): `\Seen`, `\Flagged` and `$Forwarded`/`Forwarded` reach the API
 * first (read/unread, label/unlabel Starred, forward/unforward), only for messages whose bit
 * actually changes; then, in one transaction, the index takes what the API did — those bits,
 * and for `\Flagged` the message's place in Starred (a new UID there, or expunged from it), as
 * the event loop would when it replays the change — together with the local part: `\Answered`,
 * `\Draft`, keywords, and `\Deleted` of this mailbox. Messages that exist only here (the
 * recovery mailbox) take every flag locally.
 *
 * Each API action either applies to all its messages or fails as a whole (label and unlabel undo
 * the chunks already applied on a partial failure; read, unread, forward and unforward answer
 * for the whole list), so a successful reply says exactly which messages changed and the
 * metadata is not read back. A failed action ends the STORE with its error, before the index is
 * touched. Other changes the server may hold for these messages arrive through the event loop.
 *
 * The index work is done in bulk: one query for the messages' current flags, one new
 * mod-sequence for everything the STORE changes, prepared statements per message.
 *
 * @module
 */
import { SystemLabel } from "../api/mod.ts";
import {
  ALL_MESSAGE_FLAGS,
  type FlagChange,
  type FlagUpdate,
  type InternalMessageId,
  type MailboxId,
  type MembershipRef,
  MessageFlag,
  type RemoteLabelId,
  type Uid,
} from "../store/mod.ts";
import {
  callApi,
  type ConnectorContext,
  isAllMail,
  isScheduled,
  pick,
  publish,
  refuse,
  requireSelectable,
} from "./connector_context.ts";
import {
  bitChanges,
  LOCAL_FLAG_BITS,
  parseImapFlags,
  plannedRemoteActions,
  type RemoteFlagAction,
} from "./flag_mapping.ts";
import { membershipKey } from "../sync/apply.ts";
import type { UpdateData } from "./updates.ts";

/** What a STORE changed (both already published). */
export interface StoreResult {
  /** Messages whose flags or keywords changed, as they are now. */
  updates: FlagUpdate[];
  /** UIDs of the mailbox whose `\Deleted` changed, ascending. */
  deletedChanged: Uid[];
  /**
   * With `unchangedSince`: the UIDs left alone because their mod-sequence was above it, ascending
   * (RFC 7162 §3.1.3 `MODIFIED`).
   */
  modified?: Uid[];
}

async function runAction(
  ctx: ConnectorContext,
  action: RemoteFlagAction,
  ids: string[],
): Promise<void> {
  const what = `Setting flags (${action})`;
  await callApi(what, () => {
    switch (action) {
      case "read":
        return ctx.api.markRead(ids);
      case "unread":
        return ctx.api.markUnread(ids);
      case "star":
        return ctx.api.label(ids, SystemLabel.Starred);
      case "unstar":
        return ctx.api.unlabel(ids, SystemLabel.Starred);
      case "forward":
        return ctx.api.markForwarded(ids);
      case "unforward":
        return ctx.api.markUnforwarded(ids);
    }
  });
}

function targetKeywords(
  mode: FlagChange["mode"],
  current: readonly string[],
  named: readonly string[],
): string[] {
  const lower = (s: string) => s.toLowerCase();
  switch (mode) {
    case "add": {
      const have = new Set(current.map(lower));
      return [...current, ...named.filter((k) => !have.has(lower(k)))];
    }
    case "remove": {
      const drop = new Set(named.map(lower));
      return current.filter((k) => !drop.has(lower(k)));
    }
    case "replace":
      return [...named];
  }
}

/** STORE on UIDs of a mailbox. See the module notes. */
export async function storeFlags(
  ctx: ConnectorContext,
  origin: string,
  mailboxId: MailboxId,
  uids: readonly Uid[],
  change: { mode: FlagChange["mode"]; flags: readonly string[]; unchangedSince?: bigint },
): Promise<StoreResult> {
  const { store } = ctx;
  const mailbox = requireSelectable(store, mailboxId);
  // All Mail and Scheduled cannot be expunged, so `\Deleted` is not among their PERMANENTFLAGS
  // and is not kept there (a client would think the message on its way out). Not refused either:
  // Outlook deletes with COPY to Trash + STORE \Deleted + EXPUNGE, and a NO after the copy
  // worked would be an error for a delete that did happen (Thunderbird retries it every sync).
  const keepsDeleted = !isAllMail(mailbox) && !isScheduled(mailbox);
  const parsed = parseImapFlags(change.flags);
  if (parsed.invalid.length > 0) {
    refuse("CANNOT", `These flags cannot be stored: ${parsed.invalid.join(" ")}`);
  }
  let picked = pick(store, mailboxId, uids);
  // CONDSTORE: checked here, in the account's mutation order, so a change queued before this one
  // (another session's STORE) makes it fail rather than be overwritten.
  const condition: { modified?: Uid[] } = {};
  if (change.unchangedSince !== undefined) {
    const limit = change.unchangedSince;
    const failed = new Set(
      store.membership.flagRows(mailboxId, uidRanges(picked.map((p) => p.uid)))
        .filter((r) => BigInt(r.modseq) > limit).map((r) => r.uid),
    );
    condition.modified = [...failed].sort((a, b) => a - b);
    if (failed.size > 0) picked = picked.filter((p) => !failed.has(p.uid));
  }
  if (picked.length === 0) return { updates: [], deletedChanged: [], ...condition };

  const plan = plannedRemoteActions(change.mode, parsed.bits, picked);
  // Not recorded as a read-back (`read_backs.ts`): a call that changed nothing on the server
  // makes no event, so an older event's item for such a message must not be left out.
  for (const [action, ids] of plan) await runAction(ctx, action, ids);
  // What the API now holds: per remote ID, the remote bits each successful action set or cleared.
  const remoteSet = new Map<string, number>();
  const remoteClear = new Map<string, number>();
  for (const [action, ids] of plan) {
    const { bit, set } = ACTION_BITS[action];
    const target = set ? remoteSet : remoteClear;
    for (const id of ids) target.set(id, (target.get(id) ?? 0) | bit);
  }

  const { updates, result } = store.transaction(() => {
    const current = store.messages.flagStates(picked.map((p) => p.messageId));
    const targets: { id: InternalMessageId; flags: number; keywords: string[] }[] = [];
    for (const p of picked) {
      const now = current.get(p.messageId);
      if (!now) continue;
      let flags = now.flags;
      if (p.remoteId !== null) {
        flags = (flags | (remoteSet.get(p.remoteId) ?? 0)) & ~(remoteClear.get(p.remoteId) ?? 0);
      }
      const mask = p.remoteId === null ? ALL_MESSAGE_FLAGS : LOCAL_FLAG_BITS;
      const { set, clear } = bitChanges(change.mode, parsed.bits, flags, mask);
      flags = (flags | set) & ~clear;
      const keywords = targetKeywords(change.mode, now.keywords, parsed.keywords);
      targets.push({ id: p.messageId, flags, keywords });
    }
    const flagged = store.messages.setEachFlags(targets);

    // Starred follows \Flagged as the API applied it (what setMessageLabels would do on replay).
    const added = new Map<InternalMessageId, MembershipRef[]>();
    const removed = new Map<InternalMessageId, MembershipRef[]>();
    const starred = store.mailboxes.byRemoteId(SystemLabel.Starred as RemoteLabelId);
    if (starred) {
      const moving = picked.filter((p) =>
        p.remoteId !== null && current.has(p.messageId) &&
        (((remoteSet.get(p.remoteId) ?? 0) | (remoteClear.get(p.remoteId) ?? 0)) &
            MessageFlag.Flagged) !== 0
      );
      const inStarred = store.membership.uidsOf(starred.id, moving.map((p) => p.messageId));
      const join: InternalMessageId[] = [];
      const leave: Uid[] = [];
      for (const p of moving) {
        const joins = ((remoteSet.get(p.remoteId!) ?? 0) & MessageFlag.Flagged) !== 0;
        const there = inStarred.get(p.messageId);
        if (joins && there === undefined) join.push(p.messageId);
        if (!joins && there !== undefined) leave.push(there);
      }
      const newUids = join.length > 0 ? store.membership.add(starred.id, join) : [];
      join.forEach((id, i) => added.set(id, [{ mailbox: starred.id, uid: newUids[i] }]));
      for (const r of store.membership.remove(starred.id, leave)) {
        removed.set(r.messageId, [{ mailbox: starred.id, uid: r.uid }]);
      }
    }

    let deletedChanged: Uid[] = [];
    const uidList = picked.map((p) => p.uid);
    if (keepsDeleted && change.mode === "replace") {
      deletedChanged = store.membership.setDeleted(mailboxId, uidList, parsed.deleted);
    } else if (keepsDeleted && parsed.deleted) {
      deletedChanged = store.membership.setDeleted(mailboxId, uidList, change.mode === "add");
    }

    const flagUpdates: FlagUpdate[] = [];
    const entries: FlagUpdate[] = [];
    const changed = new Set<InternalMessageId>();
    for (const u of flagged) {
      changed.add(u.messageId);
      // Where the message was when its flags changed (a place it just left first), and where
      // it is now.
      const gone = removed.get(u.messageId) ?? [];
      const goneKeys = new Set(gone.map(membershipKey));
      const stayed = u.memberships.filter((m) => !goneKeys.has(membershipKey(m)));
      entries.push({ ...u, memberships: [...gone, ...stayed] });
      flagUpdates.push({
        ...u,
        memberships: [...stayed, ...(added.get(u.messageId) ?? [])]
          .sort((a, b) => a.mailbox - b.mailbox),
      });
    }
    const byUid = new Map(picked.map((p) => [p.uid, p.messageId]));
    const deletedRows = deletedChanged.length === 0 ? new Map<Uid, number>() : new Map(
      store.membership.flagRows(mailboxId, uidRanges(deletedChanged)).map((r) => [
        r.uid,
        r.modseq,
      ]),
    );
    const unchanged = deletedChanged.filter((uid) => !changed.has(byUid.get(uid)!));
    const states = store.messages.flagStates(unchanged.map((uid) => byUid.get(uid)!));
    for (const uid of unchanged) {
      const id = byUid.get(uid)!;
      const state = states.get(id);
      if (!state) continue;
      entries.push({
        messageId: id,
        flags: state.flags,
        keywords: state.keywords,
        modseq: deletedRows.get(uid) ?? 0,
        memberships: [{ mailbox: mailboxId, uid }],
      });
    }
    const updates: UpdateData[] = [];
    if (entries.length > 0) updates.push({ kind: "FlagsChanged", changes: entries });
    const remoteIds = new Map(picked.map((p) => [p.messageId, p.remoteId]));
    for (const p of picked) {
      const plus = added.get(p.messageId) ?? [];
      const minus = removed.get(p.messageId) ?? [];
      if (plus.length === 0 && minus.length === 0) continue;
      updates.push({
        kind: "MembershipChanged",
        messageId: p.messageId,
        remoteId: remoteIds.get(p.messageId) ?? null,
        added: plus,
        removed: minus,
      });
    }
    return { updates, result: { updates: flagUpdates, deletedChanged, ...condition } };
  });
  publish(ctx, updates, origin);
  return result;
}

/** The remote bit each API action sets or clears. */
const ACTION_BITS: Record<RemoteFlagAction, { bit: number; set: boolean }> = {
  read: { bit: MessageFlag.Seen, set: true },
  unread: { bit: MessageFlag.Seen, set: false },
  star: { bit: MessageFlag.Flagged, set: true },
  unstar: { bit: MessageFlag.Flagged, set: false },
  forward: { bit: MessageFlag.Forwarded, set: true },
  unforward: { bit: MessageFlag.Forwarded, set: false },
};

/** Ascending UIDs as ranges of consecutive ones. */
function uidRanges(uids: readonly Uid[]): { first: Uid; last: Uid }[] {
  const out: { first: Uid; last: Uid }[] = [];
  for (const uid of uids) {
    const last = out[out.length - 1];
    if (last && uid === last.last + 1) last.last = uid;
    else out.push({ first: uid, last: uid });
  }
  return out;
}
