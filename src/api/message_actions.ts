/**
 * Message actions (go-proton-api `message.go`, `undo.go`; proton-api.md §1.7): read/unread,
 * label/unlabel with undo on partial failure, permanent delete, forwarded/unforwarded. All take
 * message IDs and send them in chunks of 150, four chunks in flight at once.
 *
 * @module
 */
import { chunk, list } from "./_reply.ts";
import { ApiError, type ItemFailure, PartialFailureError } from "./errors.ts";
import type { ApiClient, ApiReply } from "./transport.ts";
import type { LabelMessagesReq, MultiResponseItem, UndoToken } from "./types.ts";
import { CODE_SUCCESS } from "./types.ts";

/** IDs per request (go-proton-api chunks by `maxPageSize`). */
export const ACTION_CHUNK_SIZE = 150;
/** Chunks of one action in flight at once. */
const ACTION_CONCURRENCY = 4;

/** The items of a multi-status reply whose own `Code` is not 1000. */
export function failedItems(reply: ApiReply): ItemFailure[] {
  return list<MultiResponseItem>(reply, "Responses")
    .filter((r) => (r?.Response?.Code ?? CODE_SUCCESS) !== CODE_SUCCESS)
    .map((r) => ({
      id: String(r.ID ?? ""),
      code: r.Response.Code,
      error: typeof r.Response.Error === "string" ? r.Response.Error : "",
    }));
}

/**
 * Runs `each` over the chunks of `ids`, {@link ACTION_CONCURRENCY} at a time (go-proton-api sends
 * the chunks of read, unread and label actions in parallel too). Once a chunk throws, no new chunk
 * starts; the first error is thrown after the running ones have answered.
 */
async function eachChunk(
  ids: readonly string[],
  each: (part: string[]) => Promise<void>,
): Promise<void> {
  const parts = chunk(ids, ACTION_CHUNK_SIZE);
  let error: { e: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (next < parts.length && error === undefined) {
      const part = parts[next++];
      try {
        await each(part);
      } catch (e) {
        error ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ACTION_CONCURRENCY, parts.length) }, worker));
  if (error !== undefined) throw error.e;
}

async function putIDs(client: ApiClient, path: string, ids: readonly string[]): Promise<void> {
  await eachChunk(ids, async (part) => {
    await client.put(path, { IDs: part });
  });
}

/** `PUT /mail/v4/messages/read`. */
export function markRead(client: ApiClient, ids: readonly string[]): Promise<void> {
  return putIDs(client, "/mail/v4/messages/read", ids);
}

/** `PUT /mail/v4/messages/unread`. */
export function markUnread(client: ApiClient, ids: readonly string[]): Promise<void> {
  return putIDs(client, "/mail/v4/messages/unread", ids);
}

/** `PUT /mail/v4/messages/delete`: permanent deletion. */
export function deleteMessages(client: ApiClient, ids: readonly string[]): Promise<void> {
  return putIDs(client, "/mail/v4/messages/delete", ids);
}

async function multiStatusIDs(
  client: ApiClient,
  path: string,
  action: string,
  ids: readonly string[],
): Promise<void> {
  const failures: ItemFailure[] = [];
  await eachChunk(ids, async (part) => {
    failures.push(...failedItems(await client.put(path, { IDs: part })));
  });
  if (failures.length > 0) throw new PartialFailureError(action, failures, false);
}

/** `PUT /mail/v4/messages/forward` (multi-status): sets the forwarded flag. */
export function markForwarded(client: ApiClient, ids: readonly string[]): Promise<void> {
  return multiStatusIDs(client, "/mail/v4/messages/forward", "mark forwarded", ids);
}

/** `PUT /mail/v4/messages/unforward` (multi-status): clears the forwarded flag. */
export function markUnforwarded(client: ApiClient, ids: readonly string[]): Promise<void> {
  return multiStatusIDs(client, "/mail/v4/messages/unforward", "mark unforwarded", ids);
}

/**
 * `POST /mail/v4/undoactions` once per token (body = the token). A token whose `ValidUntil` has
 * passed on the server clock is not sent; that counts as a failure.
 *
 * @returns true when every token was undone.
 */
export async function undoActions(
  client: ApiClient,
  tokens: readonly UndoToken[],
): Promise<boolean> {
  let ok = true;
  const now = Math.floor(client.serverTime().getTime() / 1000);
  for (const token of tokens) {
    if (token.ValidUntil && token.ValidUntil < now) {
      ok = false;
      continue;
    }
    try {
      await client.post("/mail/v4/undoactions", token);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      ok = false;
    }
  }
  return ok;
}

async function labelAction(
  client: ApiClient,
  path: string,
  action: string,
  ids: readonly string[],
  labelID: string,
): Promise<void> {
  // Chunks go out ACTION_CONCURRENCY at a time (go-proton-api runs them in parallel too); once all
  // have answered, any failure undoes every chunk that was applied, so nothing of the batch stays.
  const tokens: UndoToken[] = [];
  const failures: ItemFailure[] = [];
  try {
    await eachChunk(ids, async (part) => {
      const body: LabelMessagesReq = { LabelID: labelID, IDs: part };
      const reply = await client.put(path, body);
      const token = reply.UndoToken as UndoToken | undefined;
      if (token && typeof token.Token === "string" && token.Token) tokens.push(token);
      failures.push(...failedItems(reply));
    });
  } catch (error) {
    // A chunk failed as a whole: roll back the chunks applied, keep the error.
    if (tokens.length > 0) await undoActions(client, tokens).catch(() => false);
    throw error;
  }
  if (failures.length > 0) {
    // Undo every applied chunk, the failing chunks' successful items included (their tokens),
    // as go-proton-api does, so that nothing of the batch stays applied.
    const undone = await undoActions(client, tokens).catch(() => false);
    throw new PartialFailureError(action, failures, undone);
  }
}

/**
 * `PUT /mail/v4/messages/label` `{LabelID, IDs}`: adds a label, or moves into a folder/system
 * location. If any item fails, the chunks already applied are undone and a
 * {@link PartialFailureError} lists the failed IDs.
 */
export function labelMessages(
  client: ApiClient,
  ids: readonly string[],
  labelID: string,
): Promise<void> {
  return labelAction(client, "/mail/v4/messages/label", "label messages", ids, labelID);
}

/** `PUT /mail/v4/messages/unlabel` `{LabelID, IDs}`; partial failure handled as for labelling. */
export function unlabelMessages(
  client: ApiClient,
  ids: readonly string[],
  labelID: string,
): Promise<void> {
  return labelAction(client, "/mail/v4/messages/unlabel", "unlabel messages", ids, labelID);
}
