/**
 * COPY and MOVE (proton-api.md §5.4, after proton-bridge `connector.go` `AddMessagesToMailbox`
 * and `MoveMessages`):
 *
 * - COPY labels the messages with the destination: into a `Labels/…` mailbox (or Starred) that
 *   adds a label; into a folder or system location the server moves the message (one location
 *   per message), so it leaves its old location too. COPY into All Mail, Scheduled or the
 *   recovery mailbox is refused.
 * - MOVE is refused from or to All Mail or Scheduled, between INBOX and Sent, and into the
 *   recovery mailbox. It labels with the destination and, when the source is a label or the
 *   destination is a folder or system location, unlabels the source; otherwise (folder → label)
 *   the message stays in its folder and gains the label, as Bridge does.
 *
 * The API may answer a label request OK without putting a message there (a draft into INBOX, a
 * sent message into Drafts): the metadata is read back after labelling, a MOVE unlabels the
 * source only of the messages that reached the destination (the others stay where they were,
 * instead of being left in All Mail alone), and when none did the command is refused `NO
 * [CANNOT]`.
 *
 * After the API calls the messages' metadata is read back and applied (`remote_refresh.ts`), so
 * the index holds what the server holds; the destination UIDs and the source UIDs that went away
 * come from that. Messages that exist only here (no remote ID) cannot be copied to the server and
 * are refused.
 *
 * @module
 */
import { SystemLabel } from "../api/mod.ts";
import type { Mailbox, MailboxId, Uid } from "../store/mod.ts";
import type { CopyResult } from "./account.ts";
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
import { applyMetadata, fetchMetadata, type ReadBack, tookReadBack } from "./remote_refresh.ts";

/** Why COPY into `destination` is refused, or `undefined` when it is allowed. */
export function copyRefusal(destination: Mailbox): string | undefined {
  if (destination.kind === "local") return `Messages cannot be copied into ${destination.name}`;
  if (isAllMail(destination)) return "Messages cannot be copied into All Mail";
  if (isScheduled(destination)) return "Messages cannot be copied into Scheduled";
  if (destination.remoteId === null) return `Mailbox ${destination.name} cannot hold messages`;
  return undefined;
}

/** Why MOVE from `source` to `destination` is refused, or `undefined` when it is allowed. */
export function moveRefusal(source: Mailbox, destination: Mailbox): string | undefined {
  if (isAllMail(source) || isAllMail(destination)) {
    return "Messages cannot be moved out of or into All Mail";
  }
  if (isScheduled(source) || isScheduled(destination)) {
    return "Messages cannot be moved out of or into Scheduled";
  }
  const pair = new Set([source.remoteId, destination.remoteId]);
  if (pair.has(SystemLabel.Inbox as never) && pair.has(SystemLabel.Sent as never)) {
    return "Messages cannot be moved between INBOX and Sent";
  }
  if (source.id === destination.id) return "Source and destination are the same mailbox";
  return copyRefusal(destination);
}

/** Whether MOVE also unlabels the source (Bridge: source is a label, or destination is a
 * folder or system location). */
export function moveUnlabelsSource(source: Mailbox, destination: Mailbox): boolean {
  if (source.remoteId === null) return false;
  return source.kind === "label" || destination.kind === "folder" ||
    destination.kind === "system";
}

async function transfer(
  ctx: ConnectorContext,
  origin: string,
  sourceId: MailboxId,
  uids: readonly Uid[],
  destinationId: MailboxId,
  mode: "copy" | "move",
): Promise<CopyResult> {
  const { store } = ctx;
  const source = requireSelectable(store, sourceId);
  const destination = requireSelectable(store, destinationId);
  const refusal = mode === "copy" ? copyRefusal(destination) : moveRefusal(source, destination);
  if (refusal) refuse("CANNOT", refusal);
  const empty: CopyResult = {
    uidValidity: destination.uidValidity,
    sourceUids: [],
    destUids: [],
    expunged: [],
  };
  const picked = pick(store, sourceId, uids);
  if (picked.length === 0) return empty;
  if (picked.some((p) => p.remoteId === null)) {
    refuse("CANNOT", "Some of these messages exist only in this bridge and cannot be copied");
  }
  const remoteIds = [...new Set(picked.map((p) => p.remoteId!))];
  // A COPY into a mailbox that holds the message already makes no copy (one message, one UID per
  // mailbox): it is left out of COPYUID, which names new copies only (RFC 4315 §3): a client
  // that took the existing UID for a new copy could expunge "the copy", the only instance.
  const alreadyThere = new Set(
    mode === "copy"
      ? picked.filter((p) => store.membership.uidOf(destination.id, p.messageId) !== undefined)
        .map((p) => p.messageId)
      : [],
  );
  const verb = mode === "copy" ? "Copying" : "Moving";
  await callApi(
    `${verb} to ${destination.name}`,
    () => ctx.api.label(remoteIds, destination.remoteId!),
  );
  const unlabelsSource = mode === "move" && moveUnlabelsSource(source, destination);
  // The change is made: when reading it back fails and nothing is left to do, the client is told
  // OK without COPYUID (RFC 4315 allows that) and the index follows with the change's event; a
  // NO would make it try again what the server has done.
  const readBack = async (done: boolean): Promise<ReadBack | undefined> => {
    try {
      return await fetchMetadata(ctx, remoteIds);
    } catch (error) {
      if (!done) throw error;
      ctx.log(
        `connector: ${verb.toLowerCase()} to ${destination.name} done; reading it back failed ` +
          `(${error instanceof Error ? error.message : error}): the event will bring it`,
      );
      return undefined;
    }
  };
  let metadata = await readBack(!unlabelsSource);
  if (!metadata) return empty;
  // The API may take a message silently without putting it there (a draft into INBOX, a sent
  // message into Drafts): only what landed counts, and only that leaves the source.
  const landed = metadata.filter((m) => m.LabelIDs.includes(destination.remoteId!));
  if (landed.length === 0) {
    refuse("CANNOT", `The server did not accept these messages in ${destination.name}`);
  }
  if (unlabelsSource) {
    await callApi(
      `${verb} out of ${source.name}`,
      () => ctx.api.unlabel(landed.map((m) => m.ID), source.remoteId!),
    );
    metadata = await readBack(true);
    if (!metadata) return empty;
  }
  const { updates, result } = store.transaction(() => {
    const { updates } = applyMetadata(store, metadata);
    const result: CopyResult = { ...empty, sourceUids: [], destUids: [], expunged: [] };
    for (const p of picked) {
      const dest = store.membership.uidOf(destination.id, p.messageId);
      if (dest !== undefined && !alreadyThere.has(p.messageId)) {
        result.sourceUids.push(p.uid);
        result.destUids.push(dest);
      }
      if (mode === "move" && store.membership.uidOf(source.id, p.messageId) !== p.uid) {
        result.expunged.push(p.uid);
      }
    }
    return { updates, result };
  });
  tookReadBack(ctx, metadata);
  publish(ctx, updates, origin);
  return result;
}

/** COPY (see the module notes). */
export function copyMessages(
  ctx: ConnectorContext,
  origin: string,
  source: MailboxId,
  uids: readonly Uid[],
  destination: MailboxId,
): Promise<CopyResult> {
  return transfer(ctx, origin, source, uids, destination, "copy");
}

/** MOVE (see the module notes). */
export function moveMessages(
  ctx: ConnectorContext,
  origin: string,
  source: MailboxId,
  uids: readonly Uid[],
  destination: MailboxId,
): Promise<CopyResult> {
  return transfer(ctx, origin, source, uids, destination, "move");
}
