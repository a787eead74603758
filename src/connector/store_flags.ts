/**
 * STORE (proton-api.md §5.3): `\Seen`, `\Flagged` and `$Forwarded`/`Forwarded` reach the API
 * first (read/unread, label/unlabel Starred, forward/unforward), only for messages whose bit
 * actually changes; the messages' metadata is then read back and applied as the event loop would
 * (so `\Flagged` also puts the message into Starred), and in the same transaction the local part
 * is applied: `\Answered`, `\Draft`, keywords, and `\Deleted` of this mailbox. Messages that exist
 * only here (the recovery mailbox) take every flag locally.
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
  type Uid,
} from "../store/mod.ts";
import {
  callApi,
  type ConnectorContext,
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
import { applyMetadata, fetchMetadata } from "./remote_refresh.ts";
import type { UpdateData } from "./updates.ts";

/** What a STORE changed (both already published). */
export interface StoreResult {
  /** Messages whose flags or keywords changed, as they are now. */
  updates: FlagUpdate[];
  /** UIDs of the mailbox whose `\Deleted` changed, ascending. */
  deletedChanged: Uid[];
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
  change: { mode: FlagChange["mode"]; flags: readonly string[] },
): Promise<StoreResult> {
  const { store } = ctx;
  requireSelectable(store, mailboxId);
  const parsed = parseImapFlags(change.flags);
  if (parsed.invalid.length > 0) {
    refuse("CANNOT", `These flags cannot be stored: ${parsed.invalid.join(" ")}`);
  }
  const picked = pick(store, mailboxId, uids);
  if (picked.length === 0) return { updates: [], deletedChanged: [] };

  const plan = plannedRemoteActions(change.mode, parsed.bits, picked);
  const touched = new Set<string>();
  for (const [action, ids] of plan) {
    await runAction(ctx, action, ids);
    for (const id of ids) touched.add(id);
  }
  const metadata = await fetchMetadata(ctx, [...touched]);

  const { updates, result } = store.transaction(() => {
    const refreshed = applyMetadata(store, metadata);
    const changed = new Set<InternalMessageId>();
    const added = new Map<InternalMessageId, MembershipRef[]>();
    const removed = new Map<InternalMessageId, MembershipRef[]>();
    const membershipUpdates: UpdateData[] = [];
    for (const [remoteId, a] of refreshed.applied) {
      if (a.flagsChanged) changed.add(a.id);
      if (a.added.length > 0 || a.removed.length > 0) {
        added.set(a.id, a.added);
        removed.set(a.id, a.removed);
        membershipUpdates.push({
          kind: "MembershipChanged",
          messageId: a.id,
          remoteId,
          added: a.added,
          removed: a.removed,
        });
      }
    }

    for (const p of picked) {
      const message = store.messages.get(p.messageId);
      if (!message) continue;
      const mask = p.remoteId === null ? ALL_MESSAGE_FLAGS : LOCAL_FLAG_BITS;
      const { set, clear } = bitChanges(change.mode, parsed.bits, message.flags, mask);
      const flags = (message.flags | set) & ~clear;
      const keywords = targetKeywords(change.mode, message.keywords, parsed.keywords);
      const done = store.messages.setFlags([p.messageId], { mode: "replace", flags, keywords });
      if (done.length > 0) changed.add(p.messageId);
    }

    let deletedChanged: Uid[] = [];
    const uidList = picked.map((p) => p.uid);
    if (change.mode === "replace") {
      deletedChanged = store.membership.setDeleted(mailboxId, uidList, parsed.deleted);
    } else if (parsed.deleted) {
      deletedChanged = store.membership.setDeleted(mailboxId, uidList, change.mode === "add");
    }

    const flagUpdates: FlagUpdate[] = [];
    const entries: FlagUpdate[] = [];
    for (const id of changed) {
      const message = store.messages.get(id);
      if (!message) continue;
      const addedKeys = new Set((added.get(id) ?? []).map(refKey));
      const memberships = [
        ...(removed.get(id) ?? []),
        ...store.membership.memberships(id).filter((m) => !addedKeys.has(refKey(m))),
      ];
      const update: FlagUpdate = {
        messageId: id,
        flags: message.flags,
        keywords: message.keywords,
        modseq: message.modseq,
        memberships: store.membership.memberships(id),
      };
      flagUpdates.push(update);
      entries.push({ ...update, memberships });
    }
    const byUid = new Map(picked.map((p) => [p.uid, p.messageId]));
    for (const uid of deletedChanged) {
      const id = byUid.get(uid)!;
      if (changed.has(id)) continue;
      const message = store.messages.get(id);
      if (!message) continue;
      const row = store.membership.flagRows(mailboxId, [{ first: uid, last: uid }])[0];
      entries.push({
        messageId: id,
        flags: message.flags,
        keywords: message.keywords,
        modseq: row?.modseq ?? message.modseq,
        memberships: [{ mailbox: mailboxId, uid }],
      });
    }
    const updates: UpdateData[] = [];
    if (entries.length > 0) updates.push({ kind: "FlagsChanged", changes: entries });
    updates.push(...membershipUpdates);
    return { updates, result: { updates: flagUpdates, deletedChanged } };
  });
  publish(ctx, updates, origin);
  return result;
}

function refKey(r: MembershipRef): string {
  return `${r.mailbox}:${r.uid}`;
}
