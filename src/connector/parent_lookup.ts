/**
 * Finding the message a reply or forward answers (proton-api.md §3.6 steps 3–4; proton-bridge
 * `smtp.go` `getParentID`), so the API links the two and flags the parent Replied or Forwarded.
 *
 * - References are `References` plus `In-Reply-To` (when not already listed). Those ending in
 *   `@protonmail.internalid` (what the bridge puts into every message it builds) name a message ID:
 *   looked up by `ID` (and by the sending address in split mode), every one of them. The first
 *   non-draft hit is the parent; draft hits, wherever in the list, are remembered so the caller can
 *   delete them after a successful send (a client that sends a saved draft leaves it behind
 *   otherwise).
 * - Otherwise `In-Reply-To`, then the last external reference (the official bridge looks at that
 *   one only) is looked up by `ExternalID`: one hit is the parent; several → the one sent by this
 *   account, if exactly one was.
 * - `Action`: forward (2) when `In-Reply-To` equals `X-Forwarded-Message-Id`, reply (0) when there
 *   is an `In-Reply-To`, else forward (2), as the official bridge.
 *
 * A lookup that fails leaves the message without a parent (it is still sent).
 *
 * @module
 */
import { getMessageMetadataPage } from "../api/messages.ts";
import type { ApiClient } from "../api/transport.ts";
import { DraftAction, MessageFlag, type MessageMetadata } from "../api/types.ts";
import { INTERNAL_ID_DOMAIN, type MessageReferences } from "../mime/mod.ts";

/** The reference fields of a message (see `src/mime/message_references.ts`). */
export type ReferenceFields = MessageReferences;

/** Whether a message names any message it answers or forwards. */
export function hasReferences(refs: ReferenceFields): boolean {
  return refs.inReplyTo !== undefined || refs.references.length > 0;
}

/** What {@link findParent} found. */
export interface ParentInfo {
  /** The parent's message ID, when one was found. */
  parentID?: string;
  /** A `DraftAction` value. */
  action: number;
  /** Drafts the references named: delete them after the send succeeds. */
  draftIDs: string[];
}

function isDraft(m: MessageMetadata): boolean {
  return (m.Flags & (MessageFlag.Sent | MessageFlag.Received)) === 0;
}

/** The `DraftAction` of a message with these references. */
export function draftAction(refs: ReferenceFields): number {
  if (refs.inReplyTo && refs.inReplyTo === refs.forwardedMessageID) return DraftAction.Forward;
  return refs.inReplyTo ? DraftAction.Reply : DraftAction.Forward;
}

/**
 * Finds the parent (see the module text).
 *
 * @param addressID In split mode, the sending address (only its messages can be parents).
 * @param onError Told about a failed lookup (for logs).
 */
export async function findParent(
  client: ApiClient,
  refs: ReferenceFields,
  addressID?: string,
  onError?: (error: unknown) => void,
): Promise<ParentInfo> {
  const action = draftAction(refs);
  const all = [...refs.references];
  if (refs.inReplyTo && !all.includes(refs.inReplyTo)) all.push(refs.inReplyTo);
  const suffix = "@" + INTERNAL_ID_DOMAIN;
  const internal = all.filter((r) => r.endsWith(suffix)).map((r) => r.slice(0, -suffix.length));
  const external = all.filter((r) => !r.endsWith(suffix));
  const draftIDs: string[] = [];
  const lookup = async (filter: { ID?: string[]; ExternalID?: string }) => {
    try {
      const page = await getMessageMetadataPage(client, 0, 10, {
        ...filter,
        AddressID: addressID,
      });
      return page.Messages;
    } catch (e) {
      onError?.(e);
      return [];
    }
  };
  // Every internal reference is looked at, also after the parent: a draft named later in the list
  // (made in one client, edited in another, sent from the first) is deleted after the send too.
  let parentID: string | undefined;
  for (const id of new Set(internal)) {
    if (!id) continue;
    const hits = (await lookup({ ID: [id] })).filter((m) => m.ID === id);
    const hit = hits[0];
    if (!hit) continue;
    if (isDraft(hit)) draftIDs.push(hit.ID);
    else parentID ??= hit.ID;
  }
  if (parentID !== undefined) return { parentID, action, draftIDs };
  const candidates = new Set<string>();
  if (refs.inReplyTo && !refs.inReplyTo.endsWith(suffix)) candidates.add(refs.inReplyTo);
  const last = refs.references.filter((r) => !r.endsWith(suffix)).at(-1) ?? external.at(-1);
  if (last) candidates.add(last);
  for (const externalID of candidates) {
    const hits = (await lookup({ ExternalID: externalID })).filter((m) => !isDraft(m));
    if (hits.length === 1) return { parentID: hits[0].ID, action, draftIDs };
    const sent = hits.filter((m) => (m.Flags & MessageFlag.Sent) !== 0);
    if (sent.length === 1) return { parentID: sent[0].ID, action, draftIDs };
  }
  return { action, draftIDs };
}
