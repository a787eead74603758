/**
 * A submitted message taken apart for sending (proton-api.md §3.6 step 1): the header fields the
 * send needs, a rich (HTML) body and a plain body, the body's MIME type, the attachments (inline
 * ones with their Content-ID), and the MIME body for PGP/MIME and ClearMIME recipients.
 *
 * - **Bodies and attachments** as `src/mime/message_content.ts` takes them out (shared with
 *   drafts a client APPENDs): every non-attachment text leaf is body text, the last HTML and
 *   plain alternatives make the rich and plain bodies, every other leaf is an attachment (those of
 *   every alternative included, so a meeting invitation's `text/calendar` is sent).
 * - **Signed or encrypted by the client** (`multipart/signed`, `multipart/encrypted` at the top):
 *   {@link OutgoingMessage.secured} says so. The MIME body keeps the signed or encrypted content
 *   byte for byte, so the client's signature or encryption survives in a PGP/MIME or ClearMIME
 *   package (the pipeline never gives such a message a text package to outside recipients). For
 *   recipients that get a text package, the body and attachments come from inside (the signed
 *   content, or the encrypted parts as attachments).
 * - **MIME body.** The submitted message with its top-level `Bcc` field removed (nothing else
 *   changes; never rewrapped; a top-level field is outside any signed content).
 *
 * Parsing never throws: whatever the tolerant MIME parser makes of bad input is sent.
 *
 * @module
 */
import {
  type MessageAttachment,
  messageContent,
  messageIDs,
  type MimePart,
  parseAddresses,
  parseMessage,
  referenceFields,
  withoutHeaderFields,
} from "../mime/mod.ts";

/** A name/address pair from a header. */
export interface MailAddress {
  name: string;
  address: string;
}

/** An attachment of the submitted message. */
export type OutgoingAttachment = MessageAttachment;

/** The submitted message, taken apart. */
export interface OutgoingMessage {
  /** Decoded subject ("" when none). */
  subject: string;
  /** The first `From:` address. */
  from?: MailAddress;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  replyTo: MailAddress[];
  /** `Message-ID` without angle brackets. */
  messageID?: string;
  /** `In-Reply-To` (its first message ID, without angle brackets). */
  inReplyTo?: string;
  /** `References` message IDs in order, without angle brackets. */
  references: string[];
  /** `X-Forwarded-Message-Id` without angle brackets. */
  forwardedMessageID?: string;
  /** `text/html` when the message has an HTML body part, else `text/plain`. */
  mimeType: "text/plain" | "text/html";
  /** The HTML body. */
  richBody: string;
  /** The plain-text body. */
  plainBody: string;
  attachments: OutgoingAttachment[];
  /** Set when the client signed or encrypted the message itself (pass it through as it is). */
  secured?: "signed" | "encrypted";
  /** The message minus its `Bcc` field: the body of PGP/MIME and ClearMIME packages. */
  mimeBody: Uint8Array;
}

/** The message bytes without the top-level `Bcc` (and `Resent-Bcc`) fields. */
function withoutBcc(root: MimePart, data: Uint8Array): Uint8Array {
  return withoutHeaderFields(
    data,
    root.header.fields.filter((f) => f.key === "bcc" || f.key === "resent-bcc"),
  );
}

function addresses(root: MimePart, name: string): MailAddress[] {
  return root.header.getAll(name).flatMap((v) => parseAddresses(v)).map((a) => ({
    name: a.name,
    address: a.address,
  }));
}

/** Takes a submitted message apart (see the module text). Never throws. */
export function parseOutgoing(data: Uint8Array): OutgoingMessage {
  const root = parseMessage(data);
  const h = root.header;
  const content = messageContent(root);
  const secured = root.mimeType === "multipart/signed"
    ? "signed"
    : root.mimeType === "multipart/encrypted"
    ? "encrypted"
    : undefined;
  const refs = referenceFields(h);
  return {
    subject: h.getText("subject") ?? "",
    from: addresses(root, "from")[0],
    to: addresses(root, "to"),
    cc: addresses(root, "cc"),
    bcc: addresses(root, "bcc"),
    replyTo: addresses(root, "reply-to"),
    messageID: messageIDs(h.getText("message-id"))[0],
    inReplyTo: refs.inReplyTo,
    references: refs.references,
    forwardedMessageID: refs.forwardedMessageID,
    mimeType: content.mimeType,
    richBody: content.richBody,
    plainBody: content.plainBody,
    attachments: content.attachments,
    secured,
    mimeBody: withoutBcc(root, data),
  };
}
