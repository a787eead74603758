/**
 * Attachment download (proton-api.md §1.6):
 *
 * ```
 * GET /mail/v4/attachments/{id}   → the raw data packet, Content-Type: application/octet-stream
 * ```
 *
 * The client joins it with the base64-decoded `KeyPackets` of the attachment object and decrypts
 * the result with the address key. Unknown IDs answer 422 Code 2501. Upload
 * (`POST /mail/v4/attachments`) belongs to drafts and is not implemented yet.
 *
 * @module
 */
import type { Router } from "./http.ts";
import type { MailBackend } from "./mail_backend.ts";

/** Registers the attachment routes (authenticated). */
export function registerAttachmentRoutes(router: Router, mail: MailBackend): void {
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
