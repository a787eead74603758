/**
 * Attachment download (proton-api.md §1.6):
 *
 * ```
 * GET  /mail/v4/attachments/{id}  → the raw data packet, Content-Type: application/octet-stream
 * POST /mail/v4/attachments       multipart: MessageID, Filename, MIMEType, Disposition,
 *                                 ContentID, files KeyPackets, DataPacket, Signature
 *                                 → {"Attachment"} (see `mail_drafts.ts` `uploadAttachment`)
 * ```
 *
 * The client joins the data packet with the base64-decoded `KeyPackets` of the attachment object
 * and decrypts the result with the address key. Unknown IDs answer 422 Code 2501.
 *
 * @module
 */
import { ok, type Router } from "./http.ts";
import type { MailBackend } from "./mail_backend.ts";
import { uploadAttachment } from "./mail_drafts.ts";
import { readForm } from "./_form.ts";

/** Registers the attachment routes (authenticated). */
export function registerAttachmentRoutes(router: Router, mail: MailBackend): void {
  router.add("POST", "/mail/v4/attachments", async (req) => {
    const form = await readForm(req.request);
    return ok({ Attachment: await uploadAttachment(mail, req.userID, form) });
  });

  router.add("GET", "/mail/v4/attachments/:id", (req) => {
    const data = mail.attachmentData(req.userID, req.params.id);
    return new Response(data as Uint8Array<ArrayBuffer>, {
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(data.length),
      },
    });
  });
}
