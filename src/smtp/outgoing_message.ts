/**
 * A submitted message taken apart for sending (proton-api.md §3.6 step 1): the header fields the
 * send needs, a rich (HTML) body and a plain body, the body's MIME type, the attachments (inline
 * ones with their Content-ID), and the MIME body for PGP/MIME and ClearMIME recipients.
 *
 * - **Bodies.** Every `text/plain` and `text/html` leaf that is not an attachment (no
 *   `attachment` disposition, no file name) is body text, decoded from its transfer encoding and
 *   charset. In a `multipart/alternative` the last HTML alternative makes the rich body and the
 *   last plain one the plain body; elsewhere parts are joined in order (plain parts escaped into
 *   the rich body, HTML parts converted into the plain body). The MIME type is `text/html` when any
 *   HTML body part exists, else `text/plain`.
 * - **Attachments.** Every other leaf (and every `message/rfc822` part, whole) is an attachment;
 *   a part with a Content-ID that is not marked `attachment` is inline, an inline part without a
 *   Content-ID becomes a plain attachment (the API refuses inline without one). Unnamed
 *   attachments get a name from their type.
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
  decodeCharset,
  decodeParams,
  decodeTransfer,
  type MimePart,
  parseAddresses,
  parseMessage,
} from "../mime/mod.ts";
import { htmlToText, textToHtml } from "./html_text.ts";

/** A name/address pair from a header. */
export interface MailAddress {
  name: string;
  address: string;
}

/** An attachment of the submitted message. */
export interface OutgoingAttachment {
  /** File name (decoded). */
  name: string;
  /** `type/subtype`, lower-cased. */
  mimeType: string;
  disposition: "attachment" | "inline";
  /** Content-ID without angle brackets ("" when none). */
  contentID: string;
  /** The decoded bytes. */
  data: Uint8Array;
}

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

/** A body fragment in message order. */
type Segment =
  | { kind: "plain"; text: string }
  | { kind: "html"; text: string }
  | { kind: "alt"; plain: string; html: string };

interface Collected {
  segments: Segment[];
  attachments: OutgoingAttachment[];
}

const utf8 = new TextDecoder();

/** Message IDs of a header value (`<a@b> <c@d>`), without angle brackets. */
export function messageIDs(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]);
  if (bracketed.length > 0) return bracketed;
  const bare = value.trim();
  return bare && !/\s/.test(bare) ? [bare] : [];
}

/** Decoded text of a leaf: transfer encoding, then charset (UTF-8, else windows-1252). */
function leafText(part: MimePart): string {
  const bytes = decodeTransfer(part.bodyData(), part.encoding);
  const charset = decodeParams(part.params).get("charset");
  if (charset) {
    const text = decodeCharset(bytes, charset);
    if (text !== null) return text;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return decodeCharset(bytes, "windows-1252") ?? utf8.decode(bytes);
  }
}

const EXTENSIONS: Record<string, string> = {
  "text/plain": "txt",
  "text/html": "html",
  "text/calendar": "ics",
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "application/pdf": "pdf",
  "message/rfc822": "eml",
  "application/pgp-signature": "asc",
  "application/pgp-encrypted": "asc",
  "application/pgp-keys": "asc",
};

/**
 * `bytes` as an array of its own: copied when it is a view into a larger buffer it should not
 * keep alive (the submitted message, for an attachment sent as 7bit/8bit/binary, or a decoder's
 * buffer with much slack), as it is when a decoder's output is nearly exact (base64: a few
 * percent), which spares copying a large attachment once more.
 */
function detached(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength < bytes.buffer.byteLength * 0.9 ? bytes.slice() : bytes;
}

function attachmentOf(part: MimePart, index: number): OutgoingAttachment {
  const contentID = (part.id ?? "").replace(/^<|>$/g, "").trim();
  const dispositionType = part.disposition?.type;
  const inline = contentID !== "" && dispositionType !== "attachment";
  let name = part.filename?.trim() ?? "";
  if (!name) {
    const ext = EXTENSIONS[part.mimeType] ?? (part.subtype.match(/^[a-z0-9]{1,8}$/)?.[0] ?? "bin");
    name = `${part.mimeType === "message/rfc822" ? "message" : "attachment"}${
      index > 0 ? `-${index + 1}` : ""
    }.${ext}`;
  }
  const data = detached(decodeTransfer(part.bodyData(), part.encoding));
  return {
    name,
    mimeType: part.mimeType,
    disposition: inline ? "inline" : "attachment",
    contentID,
    data,
  };
}

function isBodyText(part: MimePart): boolean {
  if (part.mimeType !== "text/plain" && part.mimeType !== "text/html") return false;
  if (part.disposition?.type === "attachment") return false;
  return !part.filename;
}

class Collector {
  count = 0;

  collect(part: MimePart, out: Collected): void {
    if (part.isMultipart) {
      if (part.children.length === 0) return;
      if (part.subtype === "alternative") return this.#alternative(part, out);
      if (part.subtype === "signed") {
        // The signed content; the signature itself is of no use to a text package.
        this.collect(part.children[0], out);
        return;
      }
      for (const child of part.children) this.collect(child, out);
      return;
    }
    if (isBodyText(part)) {
      out.segments.push({ kind: part.subtype === "html" ? "html" : "plain", text: leafText(part) });
      return;
    }
    out.attachments.push(attachmentOf(part, this.count++));
  }

  #alternative(part: MimePart, out: Collected): void {
    const options = part.children.map((child) => {
      const c: Collected = { segments: [], attachments: [] };
      this.collect(child, c);
      return c;
    });
    const hasHtml = (c: Collected) => c.segments.some((s) => s.kind !== "plain");
    const hasText = (c: Collected) => c.segments.length > 0;
    const rich = options.findLast(hasHtml) ?? options.findLast(hasText);
    const plain = options.findLast((c) => hasText(c) && !hasHtml(c)) ?? rich;
    if (rich && plain) {
      out.segments.push({
        kind: "alt",
        html: richOf(rich.segments),
        plain: plainOf(plain.segments),
      });
    }
    // Every alternative's attachments, the chosen one's first: a meeting invitation is a
    // `text/calendar` alternative beside the text (Outlook), and clients put attachments in one
    // branch or in each. The same attachment in several branches is sent once.
    const ordered = rich ? [rich, ...options.filter((o) => o !== rich)] : options;
    for (const option of ordered) {
      for (const a of option.attachments) {
        if (!out.attachments.some((b) => sameAttachment(a, b))) out.attachments.push(a);
      }
    }
  }
}

/** Whether two attachments are the same file (name, type, disposition and bytes). */
function sameAttachment(a: OutgoingAttachment, b: OutgoingAttachment): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.mimeType !== b.mimeType || a.contentID !== b.contentID) return false;
  if (a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

function richOf(segments: Segment[]): string {
  return segments.map((s) =>
    s.kind === "html" ? s.text : s.kind === "alt" ? s.html : textToHtml(s.text)
  ).join("");
}

function plainOf(segments: Segment[]): string {
  const parts = segments.map((s) =>
    s.kind === "plain" ? s.text : s.kind === "alt" ? s.plain : htmlToText(s.text)
  );
  let out = "";
  for (const p of parts) {
    if (out && !/\n$/.test(out)) out += "\r\n";
    out += p;
  }
  return out;
}

/** The message bytes without the top-level `Bcc` (and `Resent-Bcc`) fields. */
function withoutBcc(root: MimePart, data: Uint8Array): Uint8Array {
  const drop = root.header.fields.filter((f) => f.key === "bcc" || f.key === "resent-bcc");
  if (drop.length === 0) return data;
  const out = new Uint8Array(data.length);
  let o = 0;
  let pos = 0;
  for (const f of drop) {
    out.set(data.subarray(pos, f.start), o);
    o += f.start - pos;
    pos = f.end;
  }
  out.set(data.subarray(pos), o);
  o += data.length - pos;
  return out.subarray(0, o);
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
  const collected: Collected = { segments: [], attachments: [] };
  new Collector().collect(root, collected);
  const segments = collected.segments;
  const hasHtml = segments.some((s) => s.kind !== "plain");
  const secured = root.mimeType === "multipart/signed"
    ? "signed"
    : root.mimeType === "multipart/encrypted"
    ? "encrypted"
    : undefined;
  // Decoded: some clients (Python's email package among them) RFC 2047-encode long ID lists.
  const ids = (name: string) => messageIDs(h.getText(name));
  const first = (name: string) => ids(name)[0];
  return {
    subject: h.getText("subject") ?? "",
    from: addresses(root, "from")[0],
    to: addresses(root, "to"),
    cc: addresses(root, "cc"),
    bcc: addresses(root, "bcc"),
    replyTo: addresses(root, "reply-to"),
    messageID: first("message-id"),
    inReplyTo: first("in-reply-to"),
    references: ids("references"),
    forwardedMessageID: first("x-forwarded-message-id"),
    mimeType: hasHtml ? "text/html" : "text/plain",
    richBody: richOf(segments),
    plainBody: plainOf(segments),
    attachments: collected.attachments,
    secured,
    mimeBody: withoutBcc(root, data),
  };
}
