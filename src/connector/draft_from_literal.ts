/**
 * A client's draft (IMAP APPEND to Drafts) as the parts the draft API takes (proton-api.md §1.9,
 * §5.6; after proton-bridge `connector.go` `createDraft` and `pkg/message/parser`): subject,
 * sender, recipients, Message-ID, one body (the HTML alternative when there is one, else the
 * plain text; decoded to a string) and the attachments (every leaf that is not the body: files,
 * inline images; other text alternatives are dropped). Never throws: an unreadable message gives
 * an empty plain-text body.
 *
 * @module
 */
import type { EmailAddress } from "../api/mod.ts";
import {
  decodeCharset,
  decodeParams,
  decodeTransfer,
  type MimePart,
  parseAddresses,
  parseMessage,
} from "../mime/mod.ts";

/** One attachment of a draft. */
export interface DraftAttachment {
  name: string;
  mimeType: string;
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
}

function list(value: string | undefined): EmailAddress[] {
  if (!value) return [];
  return parseAddresses(value).map((a) => ({ Name: a.name, Address: a.address }));
}

function text(part: MimePart): string {
  const data = decodeTransfer(part.bodyData(), part.encoding);
  const charset = decodeParams(part.params).get("charset") || "utf-8";
  return decodeCharset(data, charset) ?? new TextDecoder().decode(data);
}

function leaves(part: MimePart, out: MimePart[]): MimePart[] {
  if (part.isMultipart) { for (const c of part.children) leaves(c, out); }
  else out.push(part);
  return out;
}

/** Parses a draft literal (see the module notes). */
export function parseDraft(literal: Uint8Array): ParsedDraft {
  const root = parseMessage(literal);
  const h = root.header;
  const all = leaves(root, []);
  const isBodyCandidate = (p: MimePart) =>
    (p.mimeType === "text/plain" || p.mimeType === "text/html") &&
    p.disposition?.type !== "attachment";
  const candidates = all.filter(isBodyCandidate);
  const bodyPart = candidates.find((p) => p.mimeType === "text/html") ?? candidates[0];
  const attachments: DraftAttachment[] = [];
  for (const p of all) {
    if (isBodyCandidate(p)) continue;
    const contentId = (p.id ?? "").trim().replace(/^<|>$/g, "");
    const inline = p.disposition?.type === "inline" || p.disposition === null;
    attachments.push({
      name: p.filename || (p.type === "message" ? "message.eml" : "attachment.bin"),
      mimeType: p.mimeType || "application/octet-stream",
      disposition: inline && contentId ? "inline" : "attachment",
      contentId,
      data: decodeTransfer(p.bodyData(), p.encoding),
    });
  }
  return {
    subject: h.getText("Subject") ?? "",
    from: list(h.get("From"))[0],
    to: list(h.get("To")),
    cc: list(h.get("Cc")),
    bcc: list(h.get("Bcc")),
    externalId: (h.get("Message-ID") ?? "").trim().replace(/^<|>$/g, ""),
    body: bodyPart ? text(bodyPart) : "",
    mimeType: bodyPart?.mimeType === "text/html" ? "text/html" : "text/plain",
    attachments,
  };
}
