/**
 * After a successful API call, the connector takes the server's word for what changed: it reads
 * the messages' metadata back and applies it with the sync's own `applyMessageMetadata`, so the
 * index ends exactly where the event loop would put it when it later replays the same change from
 * the event feed (which then finds nothing to do). The updates are built as the event loop builds
 * them: `FlagsChanged` when the flag bits changed, `MembershipChanged` when mailboxes changed.
 *
 * @module
 */
import type { MessageMetadata } from "../api/mod.ts";
import type { RemoteMessageId, Store } from "../store/mod.ts";
import { applyMessageMetadata, type MessageApplied, messageUpdates } from "../sync/apply.ts";
import { callApi, type ConnectorContext } from "./connector_context.ts";
import type { UpdateData } from "./updates.ts";

/** Metadata read back, with when it was asked for (by the read-backs' clock). */
export type ReadBack = MessageMetadata[] & { sentAt?: number };

/** Reads the current metadata of messages (those the server still has). */
export async function fetchMetadata(
  ctx: ConnectorContext,
  remoteIds: readonly string[],
): Promise<ReadBack> {
  if (remoteIds.length === 0) return [];
  const sentAt = ctx.readBacks?.now();
  const out: ReadBack = await callApi(
    "Reading the messages back",
    () => ctx.api.metadata(remoteIds),
  );
  out.sentAt = sentAt;
  return out;
}

/**
 * Tells the event loop the index took `metadata` (call once its transaction committed): its
 * older event items for these messages are left out (`read_backs.ts`).
 */
export function tookReadBack(ctx: ConnectorContext, metadata: ReadBack): void {
  if (metadata.sentAt === undefined || metadata.length === 0) return;
  ctx.readBacks?.record(metadata.map((m) => m.ID), metadata.sentAt);
}

/** What {@link applyMetadata} did. */
export interface MetadataApplied {
  /** Per remote ID, what changed (messages not in the index are absent). */
  applied: Map<RemoteMessageId, MessageApplied>;
  /** The updates to publish, in order. */
  updates: UpdateData[];
}

/**
 * Applies metadata to messages already in the index (synchronous; call inside the caller's
 * transaction). Messages the index does not hold are skipped: the event loop creates them.
 */
export function applyMetadata(store: Store, metadata: readonly MessageMetadata[]): MetadataApplied {
  const out: MetadataApplied = { applied: new Map(), updates: [] };
  for (const m of metadata) {
    const applied = applyMessageMetadata(store, m);
    if (!applied) continue;
    out.applied.set(m.ID as RemoteMessageId, applied);
    out.updates.push(...messageUpdates(store, applied, m.ID as RemoteMessageId));
  }
  return out;
}
