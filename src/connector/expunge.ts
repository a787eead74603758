/**
 * EXPUNGE, CLOSE and UID EXPUNGE (proton-api.md §5.5, after proton-bridge `connector.go`
 * `RemoveMessagesFromMailbox`):
 *
 * - The `\Deleted` messages of the mailbox (only those among `uids` when given) are unlabelled
 *   from it on the server; a folder or label then no longer holds them (they stay in All Mail).
 * - In Trash and Drafts, messages that would be left with no label but All Mail / All Drafts /
 *   All Sent / All Scheduled are deleted permanently instead (`PUT …/delete`, before the others
 *   are unlabelled, so that a failure leaves every message where it was), and leave the index
 *   altogether; a draft expunged from Drafts also when it would be left in Starred only and a
 *   later version of it stays in Drafts or is in Sent (see {@link leftNowhere}).
 * - All Mail and Scheduled cannot be expunged (STORE does not keep `\Deleted` there, and an
 *   EXPUNGE or CLOSE with nothing `\Deleted` succeeds, as everywhere).
 * - In a mailbox that exists only here (the recovery mailbox), and for messages that exist only
 *   here, the UIDs are just removed; a local message in no mailbox any more is deleted with its
 *   cached literal.
 *
 * The index follows the server: after the calls the metadata is read back and applied, so a
 * message the server still keeps in the mailbox keeps its UID (and its `\Deleted`).
 *
 * A message the server no longer has (its unlabel item answers "does not exist": a draft the
 * SMTP side just sent and deleted, a message deleted elsewhere whose event has not arrived yet)
 * does not fail the EXPUNGE: the others are unlabelled again without it (the API undid the whole
 * batch) and it leaves the index, as the event loop would make it when its delete arrives.
 *
 * @module
 */
import { ErrorCode, type MessageMetadata, PartialFailureError, SystemLabel } from "../api/mod.ts";
import type {
  InternalMessageId,
  MailboxId,
  MembershipRef,
  RemoteLabelId,
  RemoteMessageId,
  Uid,
} from "../store/mod.ts";
import { deleteMessage } from "../sync/apply.ts";
import { isDraft } from "../sync/event_apply.ts";
import { messageIDs, parseHeader } from "../mime/mod.ts";
import {
  callApi,
  type ConnectorContext,
  expungedUpdates,
  isAllMail,
  isScheduled,
  pick,
  publish,
  refuse,
  requireSelectable,
} from "./connector_context.ts";
import { applyMetadata, fetchMetadata, type ReadBack, tookReadBack } from "./remote_refresh.ts";
import type { UpdateData } from "./updates.ts";

/** Labels that do not count as a location when deciding a permanent delete. */
const NOT_A_LOCATION = new Set<string>([
  SystemLabel.AllMail,
  SystemLabel.AllDrafts,
  SystemLabel.AllSent,
  SystemLabel.AllScheduled,
]);

/**
 * Whether a message is in no location any more (only in All Mail and the like). With
 * `replacedDraft` (a draft expunged from Drafts while a newer version of it, same Message-ID, stays
 * in Drafts or was sent), Starred is no location either: the star is a flag of the version the
 * client replaces (an autosave appends the new version and expunges the old one; Thunderbird
 * sends, stores its Sent copy and expunges the draft), and counting it kept every old version of
 * a starred draft in Starred and All Mail. A starred draft with no newer version (one filed into
 * Starred with COPY and EXPUNGE) stays.
 */
export function leftNowhere(
  metadata: Pick<MessageMetadata, "LabelIDs">,
  replacedDraft = false,
): boolean {
  return (metadata.LabelIDs ?? []).every((l) =>
    NOT_A_LOCATION.has(l) || (replacedDraft && l === SystemLabel.Starred)
  );
}

/**
 * Message-ID → the newest internal ID (the index numbers messages in the order it learns of
 * them) among the messages that stay in Drafts (all but `leaving`) and those in Sent: the later
 * versions an expunged draft may have.
 */
function laterVersions(
  ctx: ConnectorContext,
  drafts: MailboxId,
  leaving: ReadonlySet<string>,
): Map<string, number> {
  const out = new Map<string, number>();
  const { store } = ctx;
  const gone = new Set(
    [...leaving].map((id) => store.messages.byRemoteId(id as RemoteMessageId)),
  );
  const sent = store.mailboxes.byRemoteId(SystemLabel.Sent as RemoteLabelId);
  for (const mailbox of sent ? [drafts, sent.id] : [drafts]) {
    // One query per mailbox for the header blocks, nothing else of the rows.
    const all = [{ first: 1 as Uid, last: 0xFFFF_FFFF as Uid }];
    for (const row of store.membership.headerRows(mailbox, all)) {
      if (gone.has(row.messageId)) continue;
      const messageId = messageIDs(parseHeader(row.header).header.get("Message-ID") ?? "")[0];
      if (messageId) out.set(messageId, Math.max(out.get(messageId) ?? 0, row.messageId));
    }
  }
  return out;
}

/** Whether expunging from this mailbox deletes permanently what is left nowhere else. */
export function expungeDeletesPermanently(remoteId: string | null): boolean {
  return remoteId === SystemLabel.Trash || remoteId === SystemLabel.Drafts;
}

/**
 * The IDs of a partly failed batch action when every failure says the message does not exist
 * (the server no longer has it), else `undefined`.
 */
function goneIds(error: unknown): string[] | undefined {
  if (!(error instanceof PartialFailureError) || error.failures.length === 0) return undefined;
  if (!error.failures.every((f) => f.code === ErrorCode.NotFound)) return undefined;
  return error.failures.map((f) => f.id);
}

/** EXPUNGE (see the module notes). Returns the expunged UIDs of the mailbox, ascending. */
export async function expungeMailbox(
  ctx: ConnectorContext,
  origin: string,
  mailboxId: MailboxId,
  uids?: readonly Uid[],
): Promise<Uid[]> {
  const { store } = ctx;
  const mailbox = requireSelectable(store, mailboxId);
  const candidates = uids === undefined
    ? store.membership.search(mailboxId, { deleted: true })
    : uids;
  const picked = pick(store, mailboxId, candidates).filter((p) => p.deleted);
  // Nothing to expunge is no error anywhere (mbsync and CLOSE expunge every mailbox they leave).
  if (picked.length === 0) return [];
  if (isAllMail(mailbox) || isScheduled(mailbox)) {
    refuse("CANNOT", `Messages cannot be expunged from ${mailbox.name}`);
  }

  const remote = mailbox.remoteId === null ? [] : picked.filter((p) => p.remoteId !== null);
  const local = picked.filter((p) => !remote.includes(p));
  const remoteIds = [...new Set(remote.map((p) => p.remoteId!))];
  let metadata: ReadBack = [];
  const permanent = new Set<string>();
  /** Messages the server no longer has at all. */
  const vanished = new Set<string>();
  if (remoteIds.length > 0) {
    let unlabel = remoteIds;
    if (expungeDeletesPermanently(mailbox.remoteId)) {
      // What goes for good is decided first and deleted before anything is unlabelled: when a
      // call fails, every message is still where it was, so the client's retry finds it there.
      // (Unlabelling first left messages in no mailbox at all when the delete then failed, and
      // the retry found nothing to expunge.)
      const before = await fetchMetadata(ctx, remoteIds);
      const found = new Set(before.map((m) => m.ID));
      for (const id of remoteIds) if (!found.has(id)) vanished.add(id);
      // Read only when a starred draft would otherwise stay (it reads Drafts and Sent).
      let later: Map<string, number> | undefined;
      for (const m of before) {
        const after = { LabelIDs: (m.LabelIDs ?? []).filter((l) => l !== mailbox.remoteId) };
        if (leftNowhere(after)) {
          permanent.add(m.ID);
          continue;
        }
        if (
          mailbox.remoteId !== SystemLabel.Drafts || !isDraft(m) || !m.ExternalID ||
          !leftNowhere(after, true)
        ) continue;
        later ??= laterVersions(ctx, mailboxId, new Set(remoteIds));
        const self = store.messages.byRemoteId(m.ID as RemoteMessageId) ?? Infinity;
        if ((later.get(m.ExternalID) ?? 0) > self) permanent.add(m.ID);
      }
      if (permanent.size > 0) {
        await callApi("Deleting messages permanently", async () => {
          try {
            await ctx.api.deleteMessages([...permanent]);
          } catch (error) {
            // Deleted elsewhere meanwhile: gone either way.
            const gone = goneIds(error);
            if (!gone) throw error;
            const rest = [...permanent].filter((id) => !gone.includes(id));
            if (rest.length > 0) await ctx.api.deleteMessages(rest);
          }
        });
      }
      unlabel = remoteIds.filter((id) => !permanent.has(id) && !vanished.has(id));
    }
    if (unlabel.length > 0) {
      await callApi(`Removing messages from ${mailbox.name}`, async () => {
        try {
          await ctx.api.unlabel(unlabel, mailbox.remoteId!);
        } catch (error) {
          const gone = goneIds(error);
          if (!gone) throw error;
          for (const id of gone) vanished.add(id);
          const rest = unlabel.filter((id) => !vanished.has(id));
          if (rest.length > 0) await ctx.api.unlabel(rest, mailbox.remoteId!);
        }
      });
      metadata = await fetchMetadata(ctx, unlabel.filter((id) => !vanished.has(id)));
    }
  }

  const dropLiterals: InternalMessageId[] = [];
  const { updates, expunged } = store.transaction(() => {
    const updates: UpdateData[] = [];
    const gone: MembershipRef[] = [];
    for (const id of [...permanent, ...vanished]) {
      const deleted = deleteMessage(store, id);
      if (!deleted) continue;
      gone.push(...deleted.removed);
      dropLiterals.push(deleted.id);
    }
    updates.push(...expungedUpdates(gone));
    updates.push(...applyMetadata(store, metadata.filter((m) => !permanent.has(m.ID))).updates);

    const localGone: MembershipRef[] = [];
    for (const p of local) {
      if (store.membership.remove(mailboxId, [p.uid]).length === 0) continue;
      localGone.push({ mailbox: mailboxId, uid: p.uid });
      if (p.remoteId === null && store.membership.memberships(p.messageId).length === 0) {
        store.messages.delete(p.messageId);
        dropLiterals.push(p.messageId);
      }
    }
    updates.push(...expungedUpdates(localGone));
    const still = new Set(store.membership.uids(mailboxId));
    const expunged = picked.map((p) => p.uid).filter((uid) => !still.has(uid));
    return { updates, expunged };
  });
  tookReadBack(ctx, metadata);
  // Sessions first (nothing may sit between the commit and them: see UpdateBus.hold), then the
  // cache entries nobody can ask for any more.
  publish(ctx, updates, origin);
  for (const id of dropLiterals) {
    await ctx.literals.delete(id).catch((e) =>
      ctx.log(`connector: could not drop a cached literal: ${e instanceof Error ? e.message : e}`)
    );
  }
  return expunged;
}
