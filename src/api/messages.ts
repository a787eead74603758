/**
 * Reading messages: count, metadata pages, the newest-first walk the sync uses, IDs, grouped
 * counts and the full message (go-proton-api `message.go`, `paging.go`; proton-api.md §1.5).
 *
 * Listing and counting are `POST /mail/v4/messages` with `X-HTTP-Method-Override: GET` and a JSON
 * filter; without the header the same path would create a draft.
 *
 * @module
 */
import { field, list, seg } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";
import type {
  Bool,
  Message,
  MessageFilter,
  MessageGroupCount,
  MessageMetadata,
  MessagePage,
} from "./types.ts";

/** Largest metadata page the client asks for (go-proton-api `paging.go` `maxPageSize`). */
export const MAX_PAGE_SIZE = 150;
/** Largest `Limit` of `GET /mail/v4/messages/ids` (go-proton-api `maxMessageIDs`). */
export const MAX_MESSAGE_IDS = 1000;
/** How many times a `Stale` page is asked again before it is returned as it is. */
export const MAX_STALE_RETRIES = 5;

const LIST_PATH = "/mail/v4/messages";
const OVERRIDE_GET = { "X-HTTP-Method-Override": "GET" };

/** A filter as the caller gives it: every field optional (`Desc` defaults to 0). */
export type MessageFilterInput = Partial<MessageFilter>;

/** The wire form of a filter: empty fields omitted, `Desc` always present. */
export function filterBody(filter: MessageFilterInput = {}): MessageFilter {
  const out: MessageFilter = { Desc: filter.Desc ? 1 : 0 };
  if (filter.ID && filter.ID.length > 0) out.ID = [...filter.ID];
  if (filter.Subject) out.Subject = filter.Subject;
  if (filter.AddressID) out.AddressID = filter.AddressID;
  if (filter.ExternalID) out.ExternalID = filter.ExternalID;
  if (filter.LabelID) out.LabelID = filter.LabelID;
  if (filter.EndID) out.EndID = filter.EndID;
  return out;
}

/** Number of messages matching `filter` (body = filter + `"Limit": "0"`, a string). */
export async function countMessages(
  client: ApiClient,
  filter: MessageFilterInput = {},
): Promise<number> {
  const reply = await client.post(LIST_PATH, { ...filterBody(filter), Limit: "0" }, {
    headers: OVERRIDE_GET,
  });
  return typeof reply.Total === "number" ? reply.Total : 0;
}

/**
 * One page of metadata (`Page` 0-based, `PageSize` ≤ 150, `Sort: "ID"`). A `Stale` reply is asked
 * again, at most {@link MAX_STALE_RETRIES} times; the last reply is returned whatever it says.
 */
export async function getMessageMetadataPage(
  client: ApiClient,
  page: number,
  pageSize: number,
  filter: MessageFilterInput = {},
): Promise<MessagePage> {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new RangeError(`page size must be 1..${MAX_PAGE_SIZE}, got ${pageSize}`);
  }
  if (!Number.isInteger(page) || page < 0) throw new RangeError(`bad page ${page}`);
  const body = { ...filterBody(filter), Page: page, PageSize: pageSize, Sort: "ID" };
  for (let attempt = 0;; attempt++) {
    const reply = await client.post(LIST_PATH, body, { headers: OVERRIDE_GET });
    const res: MessagePage = {
      Messages: list<MessageMetadata>(reply, "Messages"),
      Stale: (reply.Stale ? 1 : 0) as Bool,
      Total: typeof reply.Total === "number" ? reply.Total : 0,
    };
    if (!res.Stale || attempt >= MAX_STALE_RETRIES) return res;
  }
}

/**
 * Walks all metadata matching `filter` from the newest message to the oldest, one page per
 * step: `Desc: 1`, page 0 every time, `EndID` = the last (oldest) ID of the previous page. The
 * server includes the `EndID` message again at the top of the next page; it is dropped. Stops
 * after a short page.
 *
 * To resume from a checkpoint, pass the last synced ID as `filter.EndID`: that message is
 * dropped from the first page too.
 *
 * Yields one non-empty array per page; an empty mailbox yields nothing.
 */
export async function* iterateMetadataNewestFirst(
  client: ApiClient,
  filter: MessageFilterInput = {},
  pageSize = MAX_PAGE_SIZE,
): AsyncGenerator<MessageMetadata[], void, void> {
  let endID = filter.EndID ?? "";
  let previous = new Set<string>(endID ? [endID] : []);
  for (;;) {
    const page = await getMessageMetadataPage(client, 0, pageSize, {
      ...filter,
      Desc: 1,
      EndID: endID || undefined,
    });
    const raw = page.Messages;
    const fresh = raw.filter((m) => !previous.has(m.ID));
    if (fresh.length > 0) yield fresh;
    // A full page that brought nothing new would loop forever: treat it as the end.
    if (raw.length < pageSize || fresh.length === 0) return;
    endID = fresh[fresh.length - 1].ID;
    previous = new Set(fresh.map((m) => m.ID));
  }
}

/** `GET /mail/v4/messages/count` → totals and unread counts per label. */
export async function getGroupedMessageCount(client: ApiClient): Promise<MessageGroupCount[]> {
  return list<MessageGroupCount>(await client.get("/mail/v4/messages/count"), "Counts");
}

/** `GET /mail/v4/messages/ids?AfterID=&Limit=` → up to `limit` (≤ 1000) IDs after `afterID`. */
export async function getMessageIDs(
  client: ApiClient,
  afterID = "",
  limit = MAX_MESSAGE_IDS,
): Promise<string[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MESSAGE_IDS) {
    throw new RangeError(`limit must be 1..${MAX_MESSAGE_IDS}, got ${limit}`);
  }
  const reply = await client.get("/mail/v4/messages/ids", {
    query: { AfterID: afterID || undefined, Limit: limit },
  });
  return list<string>(reply, "IDs");
}

/** Every message ID after `afterID`, following pages until an empty one. */
export async function getAllMessageIDs(client: ApiClient, afterID = ""): Promise<string[]> {
  const out: string[] = [];
  for (let after = afterID;;) {
    const page = await getMessageIDs(client, after, MAX_MESSAGE_IDS);
    if (page.length === 0) return out;
    out.push(...page);
    if (page[page.length - 1] === after) return out;
    after = page[page.length - 1];
  }
}

/** `GET /mail/v4/messages/{id}` → the full message (headers, armored body, attachments). */
export async function getMessage(client: ApiClient, messageID: string): Promise<Message> {
  const path = `/mail/v4/messages/${seg(messageID)}`;
  return field<Message>(await client.get(path), "Message", "GET", path);
}
