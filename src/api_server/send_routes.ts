/**
 * Draft update, send and import routes (proton-api.md §1.8–§1.10):
 *
 * ```
 * PUT  /mail/v4/messages/{id}      {Message, AttachmentKeyPackets}    → {"Message"}  (drafts only)
 * POST /mail/v4/messages/import    multipart: "0".."n" + Metadata     → {"Code": 1001, "Responses"}
 * POST /mail/v4/messages/{id}      {Packages}                         → {"Sent"}
 * ```
 *
 * Draft creation is `POST /mail/v4/messages` (in `message_routes.ts`), attachment upload
 * `POST /mail/v4/attachments` (in `attachment_routes.ts`). Refusals use the API's error shape:
 * 422 Code 2001 with an `Error` saying what is wrong, 422 Code 2501 for unknown messages.
 *
 * @module
 */
import { ok, type Router } from "./http.ts";
import type { MailBackend } from "./mail_backend.ts";
import type { Body } from "./_mail_request.ts";
import { readForm } from "./_form.ts";
import { updateDraft } from "./mail_drafts.ts";
import { importMessages } from "./mail_import.ts";
import { sendDraft } from "./mail_send.ts";
import { CODE_MULTI } from "../api/types.ts";

/** Registers the update, send and import routes (authenticated). */
export function registerSendRoutes(router: Router, mail: MailBackend): void {
  router.add("PUT", "/mail/v4/messages/:id", async (req) => {
    const body = await req.json<Body>();
    return ok({ Message: await updateDraft(mail, req.userID, req.params.id, body) });
  });

  // Before `POST /mail/v4/messages/:id`, which would match "import" too.
  router.add("POST", "/mail/v4/messages/import", async (req) => {
    const form = await readForm(req.request);
    return ok({ Responses: await importMessages(mail, req.userID, form) }, CODE_MULTI);
  });

  router.add("POST", "/mail/v4/messages/:id", async (req) => {
    const body = await req.json<Body>();
    return ok({ Sent: await sendDraft(mail, req.userID, req.params.id, body) });
  });
}
