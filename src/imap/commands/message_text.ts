/**
 * The searchable text of a message for SEARCH BODY and TEXT (RFC 3501 §6.4.4), decoded the way a
 * reader sees it: every `text/*` part with its transfer encoding (base64, quoted-printable)
 * undone and its charset decoded, plus the headers of encapsulated `message/rfc822` messages
 * (they are part of the outer message's body). TEXT adds the message's own header, with encoded
 * words decoded. Non-text parts (images, PDFs, …) are not searched; HTML is searched as written.
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
  for (const part of root.walk()) {
    if (part.message) chunks.push(headerText(part.message.header));
    else if (!part.isMultipart && part.type === "text") chunks.push(bodyText(part));
  }
  return chunks.join("\n").toLowerCase();
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
