/**
 * Mail controls of the reference server, under `/ref/v1/` (no app version, no auth, no fault
 * injection): deliver mail as if it arrived, act on a mailbox as another client would, and force
 * refresh events. Every change goes through the same model as the API and emits the same events.
 * `{user}` is a user ID, a user name or any of the user's addresses.
 *
 * | Route | Body | Does |
 * |---|---|---|
 * | `POST /ref/v1/deliver` | `{To, From: {Name, Address}, Subject, Text?, HTML?, Attachments?: [{Name, MIMEType, DataBase64, Disposition?: "attachment"\|"inline", ContentID?}], PGPMIME?, LabelIDs?, Unread?, Time?, ExternalID?, Headers?: {Name: value}, ToList?, CCList?, ReplyTo?, Kind?: "received"\|"sent"\|"draft", Flags?}` | delivers a message to the address `To` (for `Kind` sent/draft: a message of the address `From.Address`), encrypted to that address' key → `{MessageID}` |
 * | `GET /ref/v1/users/{user}/messages` | — | `{Messages: [MessageMetadata]}`, oldest first |
 * | `POST /ref/v1/users/{user}/messages/label` | `{LabelID, IDs}` | as `PUT /mail/v4/messages/label` → `{Responses, UndoToken}` |
 * | `POST /ref/v1/users/{user}/messages/unlabel` | `{LabelID, IDs}` | as `PUT /mail/v4/messages/unlabel` |
 * | `POST /ref/v1/users/{user}/messages/move` | `{LabelID, IDs}` | label into a location or folder (refuses type-1 labels and Starred) |
 * | `POST /ref/v1/users/{user}/messages/read` | `{IDs}` | marks read → `{Responses}` |
 * | `POST /ref/v1/users/{user}/messages/unread` | `{IDs}` | marks unread → `{Responses}` |
 * | `POST /ref/v1/users/{user}/messages/flags` | `{IDs, Set?: int, Clear?: int}` | sets/clears `Flags` bits (Replied 32, RepliedAll 64, Forwarded 128…) → `{Responses}` |
 * | `POST /ref/v1/users/{user}/messages/delete` | `{IDs}` | deletes permanently → `{Responses}` |
 * | `GET /ref/v1/users/{user}/labels` | — | `{Labels}`: system labels, folders and labels |
 * | `POST /ref/v1/users/{user}/labels` | `{Name, Color?, Type: 1\|3, ParentID?}` | creates a label/folder → `{Label}` |
 * | `PUT /ref/v1/users/{user}/labels/{id}` | `{Name, Color?, ParentID?}` | renames/moves it → `{Label}` |
 * | `DELETE /ref/v1/users/{user}/labels/{id}` | — | deletes it (and its sub-folders) |
 * | `POST /ref/v1/users/{user}/refresh` | `{Refresh: 1\|255}` | appends a Refresh event → `{EventID}` |
 * | `POST /ref/v1/users/{user}/seed` | `{Count, Seed?: 1}` | adds `Count` seeded messages (see `seed.ts`) → `{MessageCount}` |
 * | `GET /ref/v1/outbox` | — | `{Outbox: [entry]}`: every delivery of a send to an external recipient, oldest first (see `outbox.ts`: decrypted `Body`/`DataBase64` when the package gave clear session keys, armored `Ciphertext` otherwise) |
 * | `DELETE /ref/v1/outbox` | — | empties the outbox → `{Removed}` |
 *
 * @module
 */
import { ApiServerError, ok, type Router } from "./http.ts";
import type { MailBackend } from "./mail_backend.ts";
import type { DeliverAttachment, DeliverInput } from "./deliver.ts";
import { type Body, idList, invalidValue, optBool, optInt } from "./_mail_request.ts";
import { fromBase64 } from "../crypto/mod.ts";
import { LabelType, SystemLabel } from "../api/types.ts";
import type { CreateLabelReq, UpdateLabelReq } from "../api/types.ts";

/** Prefix of all control routes. */
export const MAIL_CONTROL_PREFIX = "/ref/v1/";

/** Resolves `{user}`: a user ID, an address, or (when the directory can) a user name. */
function resolveUser(mail: MailBackend, ref: string): string {
  const accounts = mail.accounts as typeof mail.accounts & {
    findUserByLogin?: (login: string) => string | undefined;
  };
  if (accounts.userIDs().includes(ref)) return ref;
  const id = accounts.findUserByLogin?.(ref) ?? accounts.findAddress(ref)?.UserID;
  if (!id) throw new ApiServerError(422, 2501, `No user "${ref}"`);
  return id;
}

function deliverInput(body: Body): DeliverInput {
  const attachments = body.Attachments;
  if (attachments !== undefined && !Array.isArray(attachments)) {
    throw invalidValue("Attachments must be a list");
  }
  const time = optInt(body, "Time");
  if (time !== undefined && time < 0) throw invalidValue("Time must be Unix seconds");
  return {
    ...(body as unknown as DeliverInput),
    PGPMIME: optBool(body, "PGPMIME"),
    Unread: optBool(body, "Unread"),
    Time: time,
    Flags: optInt(body, "Flags"),
    Attachments: (attachments as Body[] | undefined)?.map((a): DeliverAttachment => {
      let data: Uint8Array;
      try {
        data = fromBase64(String(a.DataBase64 ?? ""));
      } catch {
        throw invalidValue(`Attachment ${String(a.Name)}: DataBase64 is not base64`);
      }
      return {
        Name: a.Name as string,
        MIMEType: a.MIMEType as string,
        Data: data,
        Disposition: a.Disposition as string | undefined,
        ContentID: a.ContentID as string | undefined,
      };
    }),
  };
}

/** Registers the mail controls on `router` (all without auth). */
export function registerMailControlRoutes(router: Router, mail: MailBackend): void {
  const add = (method: string, path: string, h: Parameters<Router["add"]>[2]) =>
    router.add(method, `${MAIL_CONTROL_PREFIX}${path}`, h, { auth: false });
  const user = (ref: string) => resolveUser(mail, ref);

  add("POST", "deliver", async (req) => {
    const input = deliverInput(await req.json<Body>());
    const kind = input.Kind ?? "received";
    const owner = kind === "received" ? input.To : input.From?.Address;
    if (typeof owner !== "string" || owner === "") {
      throw invalidValue(kind === "received" ? "To is required" : "From.Address is required");
    }
    const address = mail.accounts.findAddress(owner);
    if (!address) throw new ApiServerError(422, 2501, `No address ${owner} on this server`);
    const id = await mail.deliver(address.UserID, {
      ...input,
      To: kind === "received" ? address.Email : undefined,
      From: kind === "received" ? input.From : { Name: input.From.Name, Address: address.Email },
    });
    return ok({ MessageID: id });
  });

  add("GET", "users/:user/messages", (req) => {
    const userID = user(req.params.user);
    const ids = mail.messageIDs(userID, "", Number.MAX_SAFE_INTEGER);
    return ok({ Messages: ids.map((id) => mail.toMetadata(mail.findMessage(userID, id)!)) });
  });

  add("POST", "users/:user/messages/label", async (req) => {
    const body = await req.json<Body>();
    return ok({ ...mail.label(user(req.params.user), body.LabelID, idList(body)) });
  });

  add("POST", "users/:user/messages/unlabel", async (req) => {
    const body = await req.json<Body>();
    return ok({ ...mail.unlabel(user(req.params.user), body.LabelID, idList(body)) });
  });

  add("POST", "users/:user/messages/move", async (req) => {
    const body = await req.json<Body>();
    const userID = user(req.params.user);
    const target = typeof body.LabelID === "string" ? body.LabelID : "";
    const label = mail.getLabel(userID, target);
    if (
      !label || label.Type === LabelType.Label || target === SystemLabel.Starred
    ) throw invalidValue("LabelID must be a location or a folder");
    return ok({ ...mail.label(userID, target, idList(body)) });
  });

  add("POST", "users/:user/messages/read", async (req) => {
    const ids = idList(await req.json<Body>());
    return ok({ Responses: mail.setUnread(user(req.params.user), ids, false) });
  });

  add("POST", "users/:user/messages/unread", async (req) => {
    const ids = idList(await req.json<Body>());
    return ok({ Responses: mail.setUnread(user(req.params.user), ids, true) });
  });

  add("POST", "users/:user/messages/flags", async (req) => {
    const body = await req.json<Body>();
    const set = optInt(body, "Set") ?? 0;
    const clear = optInt(body, "Clear") ?? 0;
    return ok({ Responses: mail.changeFlags(user(req.params.user), idList(body), set, clear) });
  });

  add("POST", "users/:user/messages/delete", async (req) => {
    const ids = idList(await req.json<Body>());
    return ok({ Responses: mail.deleteMessages(user(req.params.user), ids) });
  });

  add("GET", "users/:user/labels", (req) => {
    const userID = user(req.params.user);
    const labels = [LabelType.System, LabelType.Folder, LabelType.Label].flatMap((t) =>
      mail.listLabels(userID, t)
    );
    return ok({ Labels: labels });
  });

  add("POST", "users/:user/labels", async (req) => {
    const body = await req.json<Partial<CreateLabelReq>>();
    return ok({ Label: mail.createLabel(user(req.params.user), body) });
  });

  add("PUT", "users/:user/labels/:id", async (req) => {
    const body = await req.json<Partial<UpdateLabelReq>>();
    return ok({ Label: mail.updateLabel(user(req.params.user), req.params.id, body) });
  });

  add("DELETE", "users/:user/labels/:id", (req) => {
    mail.deleteLabel(user(req.params.user), req.params.id);
    return ok();
  });

  add("POST", "users/:user/refresh", async (req) => {
    const body = await req.json<Body>();
    const flags = optInt(body, "Refresh") ?? 1;
    if (flags !== 1 && flags !== 255) throw invalidValue("Refresh must be 1 or 255");
    return ok({ EventID: mail.refresh(user(req.params.user), flags) });
  });

  add("GET", "outbox", () => ok({ Outbox: mail.outbox.list() }));

  add("DELETE", "outbox", () => ok({ Removed: mail.outbox.clear() }));

  add("POST", "users/:user/seed", async (req) => {
    const body = await req.json<Body>();
    const count = optInt(body, "Count");
    if (count === undefined || count < 0 || count > 100_000) {
      throw invalidValue("Count must be an integer from 0 to 100000");
    }
    const userID = user(req.params.user);
    await mail.seedMailbox(userID, count, optInt(body, "Seed") ?? 1);
    return ok({ MessageCount: mail.countMessages(userID, {}) });
  });
}
