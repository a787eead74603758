/**
 * Attachments (go-proton-api `attachment.go`; proton-api.md §1.6):
 * - download: the reply is the raw data packet only; decrypt it together with the attachment's
 *   `KeyPackets`;
 * - upload to a draft: `multipart/form-data` with text fields `MessageID`, `Filename`, `MIMEType`,
 *   `Disposition`, `ContentID` and three files named `blob` of type `application/octet-stream`:
 *   `KeyPackets`, `DataPacket`, `Signature` (build them with `encryptAttachment` of `src/crypto`).
 *
 * @module
 */
import { field, seg } from "./_reply.ts";
import { type EncodedForm, encodeMultipart } from "./multipart.ts";
import type { ApiClient } from "./transport.ts";
import type { Attachment, CreateAttachmentReq } from "./types.ts";

/** `GET /mail/v4/attachments/{id}` → the encrypted data packet. */
export function getAttachment(client: ApiClient, attachmentID: string): Promise<Uint8Array> {
  return client.getBytes(`/mail/v4/attachments/${seg(attachmentID)}`);
}

const BLOB = { filename: "blob", contentType: "application/octet-stream" } as const;

/** The multipart form of an upload (exported for tests and for callers that log sizes). */
export function attachmentForm(req: CreateAttachmentReq): EncodedForm {
  return encodeMultipart([
    { name: "MessageID", value: req.MessageID },
    { name: "Filename", value: req.Filename },
    { name: "MIMEType", value: req.MIMEType },
    { name: "Disposition", value: req.Disposition },
    { name: "ContentID", value: req.ContentID ?? "" },
    { name: "KeyPackets", ...BLOB, data: req.KeyPackets },
    { name: "DataPacket", ...BLOB, data: req.DataPacket },
    { name: "Signature", ...BLOB, data: req.Signature },
  ]);
}

/**
 * `POST /mail/v4/attachments`: uploads an encrypted attachment to a draft.
 *
 * @returns The stored attachment (its `KeyPackets` are what the sender decrypts to build send
 * packages).
 * @throws {ApiError} 422 when the server refuses it (e.g. `inline` without a `ContentID`).
 */
export async function uploadAttachment(
  client: ApiClient,
  req: CreateAttachmentReq,
): Promise<Attachment> {
  const { body, contentType } = attachmentForm(req);
  const path = "/mail/v4/attachments";
  const reply = await client.post(path, body, {
    headers: { "Content-Type": contentType },
    once: true,
  });
  return field<Attachment>(reply, "Attachment", "POST", path);
}
