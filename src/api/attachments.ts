/**
 * Attachment download (go-proton-api `attachment.go`; proton-api.md §1.6): the reply is the raw
 * data packet only; decrypt it together with the attachment's `KeyPackets`.
 *
 * @module
 */
import { seg } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";

/** `GET /mail/v4/attachments/{id}` → the encrypted data packet. */
export function getAttachment(client: ApiClient, attachmentID: string): Promise<Uint8Array> {
  return client.getBytes(`/mail/v4/attachments/${seg(attachmentID)}`);
}
