/**
 * The searchable text of a message for SEARCH BODY and TEXT (RFC 3501 §6.4.4), decoded the way a
 * reader sees it: every `text/*` part with its transfer encoding (base64, quoted-printable)
 * undone and its charset decoded, the text parts of delivery and disposition reports
 * (`message/delivery-status` and the like: a bounce is searched for the address that failed),
 * plus the headers of encapsulated `message/rfc822` messages (they are part of the outer
 * message's body). TEXT adds the message's own header and the MIME header of every part (both are
 * in "the header or body": `BODY[TEXT]` holds the part headers, so an attachment is found by its
 * file name), with encoded words decoded. Other parts (images, PDFs, …) are not searched; HTML is
 * searched as written.
 *
 * The result is lower-cased so callers compare with a lower-cased needle; parts are separated by
 * a line break so a match never spans two parts.
 *
 * @module
 */
import {
  binaryToText,
  bytesToBinary,
  decodeCharset,
  decodeEncodedWords,
  decodeParams,
  decodeTransfer,
  type Header,
  type MimePart,
  parseMessage,
} from "../../mime/mod.ts";

/** The message's searchable text, lower-cased; `withHeader` for TEXT, without for BODY. */
export function messageText(literal: Uint8Array, withHeader: boolean): string {
  const root = parseMessage(literal);
  const chunks: string[] = [];
  if (withHeader) chunks.push(headerText(root.header));
  const encapsulated = new Set<MimePart>();
  for (const part of root.walk()) {
    if (withHeader && part !== root && !encapsulated.has(part)) {
      chunks.push(headerText(part.header));
    }
    if (part.message) {
      encapsulated.add(part.message);
      chunks.push(headerText(part.message.header));
    } else if (!part.isMultipart && isText(part)) chunks.push(bodyText(part));
  }
  return chunks.join("\n").toLowerCase();
}

/** `message/*` types that are text (RFC 3464, RFC 8098, RFC 6533, RFC 5965, RFC 6532). */
const TEXT_MESSAGE_SUBTYPES = new Set([
  "delivery-status",
  "disposition-notification",
  "global-delivery-status",
  "global-disposition-notification",
  "global-headers",
  "feedback-report",
  "global",
]);

function isText(part: MimePart): boolean {
  return part.type === "text" ||
    (part.type === "message" && TEXT_MESSAGE_SUBTYPES.has(part.subtype));
}

function headerText(header: Header): string {
  return header.fields
    .map((f) =>
      f.hasColon
        ? `${binaryToText(f.name)}: ${
          decodeEncodedWords(binaryToText(f.rawValue.replace(/\r?\n/g, "").trimStart()))
        }`
        : binaryToText(f.name)
    )
    .join("\n");
}

function bodyText(part: MimePart): string {
  const bytes = decodeTransfer(part.bodyData(), part.encoding);
  const charset = decodeParams(part.params).get("charset");
  if (charset && !/^(us-)?ascii$/i.test(charset.trim())) {
    const text = decodeCharset(bytes, charset);
    if (text !== null) return text;
  }
  // No (or an ASCII) charset, or one we do not know: UTF-8 when it is, else windows-1252.
  return binaryToText(bytesToBinary(bytes));
}
