/**
 * A client's draft (IMAP APPEND to Drafts) as the parts the draft API takes (proton-api.md §1.9,
 * §5.6; after proton-bridge `connector.go` `createDraft` and `pkg/message/parser`): subject,
 * sender, recipients, Message-ID, one body and the attachments. The body and attachments are
 * taken out as for a message submitted over SMTP (`src/mime/message_content.ts`): the HTML body
 * when the draft has any HTML part, else the plain text, every body part joined in order (Apple
 * Mail writes a draft with images between its text parts as several parts); every other leaf is
 * an attachment (files, inline images with their Content-ID). The reference fields of a reply or
 * forward are kept so the draft can name its parent. Never throws: an unreadable message gives an
 * empty plain-text body.
 *
 * @module
 */
import type { EmailAddress } from "../api/mod.ts";
import { messageContent, parseAddresses, parseMessage, referenceFields } from "../mime/mod.ts";
import type { ReferenceFields } from "./parent_lookup.ts";

/** One attachment of a draft. */
export interface DraftAttachment {
  name: string;
  /** The media type with its parameters (`MessageAttachment.contentType`). */
  contentType: string;
  /** `attachment`, or `inline` (only with a Content-ID). */
  disposition: "attachment" | "inline";
  /** Content-ID without angle brackets, or "". */
  contentId: string;
  data: Uint8Array;
}

/** What {@link parseDraft} found. */
export interface ParsedDraft {
  subject: string;
  /** The first `From` address, if any. */
  from: EmailAddress | undefined;
  to: EmailAddress[];
  cc: EmailAddress[];
  bcc: EmailAddress[];
  /** Message-ID without angle brackets, or "". */
  externalId: string;
  body: string;
  mimeType: "text/plain" | "text/html";
  attachments: DraftAttachment[];
  /** What a reply or forward names (In-Reply-To, References, X-Forwarded-Message-Id). */
  references: ReferenceFields;
}

function list(value: string | undefined): EmailAddress[] {
  if (!value) return [];
  return parseAddresses(value).map((a) => ({ Name: a.name, Address: a.address }));
}

/** Parses a draft literal (see the module notes). */
export function parseDraft(literal: Uint8Array): ParsedDraft {
  const root = parseMessage(literal);
  const h = root.header;
  const content = messageContent(root);
  return {
    subject: h.getText("Subject") ?? "",
    from: list(h.get("From"))[0],
    to: list(h.get("To")),
    cc: list(h.get("Cc")),
    bcc: list(h.get("Bcc")),
    externalId: (h.get("Message-ID") ?? "").trim().replace(/^<|>$/g, ""),
    body: content.mimeType === "text/html" ? content.richBody : content.plainBody,
    mimeType: content.mimeType,
    attachments: content.attachments.map((a) => ({
      name: a.name,
      contentType: a.contentType,
      disposition: a.disposition,
      contentId: a.contentID,
      data: a.data,
    })),
    references: referenceFields(h),
  };
}
