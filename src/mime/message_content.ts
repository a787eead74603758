/**
 * The bodies and attachments of a message as the mail API takes them (proton-api.md §3.6 step 1;
 * after proton-bridge `pkg/message/parser`): a rich (HTML) body, a plain body, the body's MIME type
 * and the attachments. Used for a message submitted over SMTP and for a draft a client APPENDs.
 *
 * - **Bodies.** Every `text/plain` and `text/html` leaf that is not an attachment (no
 *   `attachment` disposition, no file name) is body text, decoded from its transfer encoding and
 *   charset, and a `format=flowed` plain part unflowed (`flowed.ts`: the API cannot carry the
 *   parameter). In a `multipart/alternative` the last HTML alternative makes the rich body and the
 *   last plain one the plain body; elsewhere parts are joined in order (plain parts escaped into
 *   the rich body, HTML parts converted into the plain body). The MIME type is `text/html` when any
 *   HTML body part exists, else `text/plain`.
 * - **Attachments.** Every other leaf (and every `message/rfc822` part, whole) is an attachment;
 *   a part with a Content-ID that is not marked `attachment` is inline, an inline part without a
 *   Content-ID becomes a plain attachment (the API refuses inline without one). Unnamed
 *   attachments get a name from their type. The attachments of every alternative are kept, the
 *   chosen one's first (a meeting invitation's `text/calendar` is an alternative beside the
 *   text); the same file in several alternatives counts once.
 * - A `multipart/signed` contributes its signed content; the signature is of no use here.
 *
 * Never throws: whatever the tolerant MIME parser makes of bad input is used.
 *
 * @module
 */
import { bytesEqual } from "./_bytes.ts";
import { decodeCharset, decodeParams } from "./encoded_word.ts";
import type { MimePart } from "./entity.ts";
import { htmlToText, textToHtml } from "./html_text.ts";
import { unflow } from "./flowed.ts";
import { formatMediaType } from "./params.ts";
import { decodeTransfer } from "./transfer_encoding.ts";

/** An attachment of a message (decoded). */
export interface MessageAttachment {
  /** File name (decoded). */
  name: string;
  /** `type/subtype`, lower-cased. */
  mimeType: string;
  /**
   * The part's media type with its parameters but `name` (which the file name replaces):
   * `text/calendar; method=REQUEST` keeps an invitation an invitation, `charset=` keeps a text
   * file readable. What the attachment API is given as `MIMEType`.
   */
  contentType: string;
  disposition: "attachment" | "inline";
  /** Content-ID without angle brackets ("" when none). */
  contentID: string;
  /** The decoded bytes. */
  data: Uint8Array;
}

/** What {@link messageContent} found. */
export interface MessageContent {
  /** `text/html` when the message has an HTML body part, else `text/plain`. */
  mimeType: "text/plain" | "text/html";
  /** The HTML body (plain parts escaped into it). */
  richBody: string;
  /** The plain-text body (HTML parts converted). */
  plainBody: string;
  attachments: MessageAttachment[];
}

/** The bodies and attachments of a parsed message (see the module notes). */
export function messageContent(root: MimePart): MessageContent {
  const collected: Collected = { segments: [], attachments: [] };
  new Collector().collect(root, collected);
  const segments = collected.segments;
  return {
    mimeType: segments.some((s) => s.kind !== "plain") ? "text/html" : "text/plain",
    richBody: richOf(segments),
    plainBody: plainOf(segments),
    attachments: collected.attachments,
  };
}

/** A body fragment in message order. */
type Segment =
  | { kind: "plain"; text: string }
  | { kind: "html"; text: string }
  | { kind: "alt"; plain: string; html: string };

interface Collected {
  segments: Segment[];
  attachments: MessageAttachment[];
}

const utf8 = new TextDecoder();

/**
 * Decoded text of a leaf: transfer encoding, then charset (UTF-8, else windows-1252), then, for
 * `text/plain; format=flowed`, its soft line breaks (`flowed.ts`).
 */
function leafText(part: MimePart): string {
  const params = decodeParams(part.params);
  const text = decodedText(decodeTransfer(part.bodyData(), part.encoding), params.get("charset"));
  if (part.subtype !== "plain" || params.get("format")?.toLowerCase() !== "flowed") return text;
  // A clear-signed inline PGP body is signed as it is written (RFC 3676 §4.6): left alone.
  if (text.includes("-----BEGIN PGP SIGNED MESSAGE-----")) return text;
  return unflow(text, params.get("delsp")?.toLowerCase() === "yes");
}

function decodedText(bytes: Uint8Array, charset: string | undefined): string {
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

function attachmentOf(part: MimePart, index: number): MessageAttachment {
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
  const params = Object.fromEntries([...decodeParams(part.params)].filter(([k]) => k !== "name"));
  return {
    name,
    mimeType: part.mimeType,
    contentType: formatMediaType(part.mimeType, params) || part.mimeType,
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
function sameAttachment(a: MessageAttachment, b: MessageAttachment): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.mimeType !== b.mimeType || a.contentID !== b.contentID) return false;
  return bytesEqual(a.data, b.data);
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
