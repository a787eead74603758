/**
 * Message routes (proton-api.md §1.5, §1.7):
 *
 * ```
 * POST /mail/v4/messages  + X-HTTP-Method-Override: GET
 *      {…filter, "Limit": "0"}                          → {"Total"}
 *      {…filter, Page, PageSize, Sort: "ID", Desc}     → {"Messages": [MessageMetadata], "Stale": 0, "Total"}
 *      filter: ID[], Subject (substring), AddressID, ExternalID, LabelID, EndID, Desc
 * GET  /mail/v4/messages/count                         → {"Counts": [{LabelID, Total, Unread}]}
 * GET  /mail/v4/messages/ids?AfterID=&Limit=           → {"IDs"} ascending, Limit 1…1000 (0 = 1000)
 * GET  /mail/v4/messages/{id}                          → {"Message"}; unknown → 422 Code 2501
 * PUT  /mail/v4/messages/read|unread {IDs}             → multi-status
 * PUT  /mail/v4/messages/label|unlabel {LabelID, IDs}  → multi-status + "UndoToken"
 * PUT  /mail/v4/messages/delete {IDs}                  → multi-status (permanent)
 * PUT  /mail/v4/messages/forward|unforward {IDs}       → multi-status
 * POST /mail/v4/undoactions {Token, ValidUntil}        → {"Messages": [restored metadata]}
 * ```
 *
 * Multi-status replies are `{"Code": 1001, "Responses": [{"ID", "Response": {"Code": 1000}}]}`
 * with Code 2501 for an unknown ID. Paging semantics (`EndID`, `Desc`, `Page`, `PageSize`) are
 * those of go-proton-api's fake server, see `MailBackend.queryMessages`; `PageSize` above 150 is
 * refused (400 Code 2001, the real limit), 0 or absent means 100.
 *
 * `POST /mail/v4/messages` without the override header is draft creation (`mail_drafts.ts`);
 * updating, sending and importing live in `send_routes.ts`.
 *
 * @module
 */
import { ApiServerError, ok, type Router } from "./http.ts";
import type { MailBackend, MessageQuery } from "./mail_backend.ts";
import { type Body, idList, invalidValue, optBool, optInt, optString } from "./_mail_request.ts";
import { createDraft } from "./mail_drafts.ts";
import { CODE_MULTI, ErrorCode, MessageFlag } from "../api/types.ts";

/** Largest `PageSize` of metadata paging (go-proton-api `maxPageSize`). */
export const MAX_PAGE_SIZE = 150;
/** Largest `Limit` of `GET /mail/v4/messages/ids`. */
export const MAX_ID_LIMIT = 1000;

const SORTS = new Set(["ID", "Time", "Size"]);

/** Parses the filter and paging fields of a listing body. */
export function parseQuery(body: Body): MessageQuery {
  const bad = (m: string) => new ApiServerError(400, ErrorCode.InvalidValue, m);
  const q: MessageQuery = {};
  const ids = body.ID;
  if (ids !== undefined && ids !== null) {
    const list = typeof ids === "string" ? [ids] : ids;
    if (!Array.isArray(list) || !list.every((i) => typeof i === "string")) {
      throw bad("ID must be a list of message IDs");
    }
    q.ID = list;
  }
  const labels = body.LabelID;
  if (labels !== undefined && labels !== null && labels !== "") {
    const list = typeof labels === "string" ? [labels] : labels;
    if (!Array.isArray(list) || !list.every((i) => typeof i === "string")) {
      throw bad("LabelID must be a label ID");
    }
    q.LabelID = list;
  }
  try {
    q.Subject = optString(body, "Subject");
    q.AddressID = optString(body, "AddressID");
    q.ExternalID = optString(body, "ExternalID");
    q.EndID = optString(body, "EndID");
    q.Desc = optBool(body, "Desc") ?? false;
    q.Page = Math.max(0, optInt(body, "Page") ?? 0);
    const limit = optInt(body, "Limit");
    q.PageSize = optInt(body, "PageSize") ?? limit ?? 0;
  } catch (err) {
    throw err instanceof ApiServerError ? bad(err.message) : err;
  }
  if (q.PageSize! > MAX_PAGE_SIZE) throw bad(`PageSize must be at most ${MAX_PAGE_SIZE}`);
  const sort = body.Sort ?? "ID";
  if (typeof sort !== "string" || !SORTS.has(sort)) throw bad(`Unknown Sort ${String(sort)}`);
  q.Sort = sort as MessageQuery["Sort"];
  return q;
}

/** Whether a listing body asks only for the count (`"Limit": "0"`). */
function countOnly(body: Body): boolean {
  const limit = body.Limit;
  return limit !== undefined && limit !== null && Number(limit) === 0 &&
    body.PageSize === undefined && body.Page === undefined;
}

/** Registers the message routes (authenticated). */
export function registerMessageRoutes(router: Router, mail: MailBackend): void {
  router.add("POST", "/mail/v4/messages", async (req) => {
    const override = req.request.headers.get("x-http-method-override");
    const body = await req.json<Body>();
    if (override?.toUpperCase() !== "GET") {
      return ok({ Message: await createDraft(mail, req.userID, body) });
    }
    const q = parseQuery(body);
    if (countOnly(body)) return ok({ Total: mail.countMessages(req.userID, q) });
    return ok({ ...mail.queryMessages(req.userID, q), Stale: 0 });
  });

  router.add(
    "GET",
    "/mail/v4/messages/count",
    (req) => ok({ Counts: mail.groupCounts(req.userID) }),
  );

  router.add("GET", "/mail/v4/messages/ids", (req) => {
    const p = req.url.searchParams;
    const raw = p.get("Limit") ?? "";
    if (!/^\d+$/.test(raw) || Number(raw) > MAX_ID_LIMIT) {
      throw new ApiServerError(
        400,
        ErrorCode.InvalidValue,
        `Limit must be an integer from 0 to ${MAX_ID_LIMIT}`,
      );
    }
    const limit = Number(raw) || MAX_ID_LIMIT;
    return ok({ IDs: mail.messageIDs(req.userID, p.get("AfterID") ?? "", limit) });
  });

  router.add("PUT", "/mail/v4/messages/read", async (req) => {
    const ids = idList(await req.json<Body>());
    return ok({ Responses: mail.setUnread(req.userID, ids, false) }, CODE_MULTI);
  });

  router.add("PUT", "/mail/v4/messages/unread", async (req) => {
    const ids = idList(await req.json<Body>());
    return ok({ Responses: mail.setUnread(req.userID, ids, true) }, CODE_MULTI);
  });

  router.add("PUT", "/mail/v4/messages/label", async (req) => {
    const body = await req.json<Body>();
    return ok({ ...mail.label(req.userID, body.LabelID, idList(body)) }, CODE_MULTI);
  });

  router.add("PUT", "/mail/v4/messages/unlabel", async (req) => {
    const body = await req.json<Body>();
    return ok({ ...mail.unlabel(req.userID, body.LabelID, idList(body)) }, CODE_MULTI);
  });

  router.add("PUT", "/mail/v4/messages/delete", async (req) => {
    const ids = idList(await req.json<Body>());
    return ok({ Responses: mail.deleteMessages(req.userID, ids) }, CODE_MULTI);
  });

  router.add("PUT", "/mail/v4/messages/forward", async (req) => {
    const ids = idList(await req.json<Body>());
    return ok({ Responses: mail.changeFlags(req.userID, ids, MessageFlag.Forwarded) }, CODE_MULTI);
  });

  router.add("PUT", "/mail/v4/messages/unforward", async (req) => {
    const ids = idList(await req.json<Body>());
    return ok(
      { Responses: mail.changeFlags(req.userID, ids, 0, MessageFlag.Forwarded) },
      CODE_MULTI,
    );
  });

  router.add("POST", "/mail/v4/undoactions", async (req) => {
    const body = await req.json<Body>();
    if (typeof body.Token !== "string") throw invalidValue("Token is required");
    return ok({ Messages: mail.undo(req.userID, body.Token) });
  });

  // After the literal paths above: `:id` would match "count" and "ids" too.
  router.add(
    "GET",
    "/mail/v4/messages/:id",
    (req) => ok({ Message: mail.getMessage(req.userID, req.params.id) }),
  );
}
