/**
 * Content-Transfer-Encoding: decoding any body (tolerant) and the base64 line layout the builder
 * writes.
 *
 * @module
 */
import { base64DecodeLoose, base64Encode } from "./encoded_word.ts";
import { decodeQuotedPrintable } from "./quoted_printable.ts";

/**
 * Decodes a body according to its `Content-Transfer-Encoding` (case-insensitive): `base64`
 * (characters outside the alphabet skipped), `quoted-printable`; `7bit`, `8bit`, `binary`, absent
 * or unknown encodings return the bytes unchanged. Never throws.
 */
export function decodeTransfer(bytes: Uint8Array, encoding: string | null | undefined): Uint8Array {
  switch ((encoding ?? "").trim().toLowerCase()) {
    case "base64":
      return base64DecodeLoose(bytes);
    case "quoted-printable":
      return decodeQuotedPrintable(bytes);
    default:
      return bytes;
  }
}

/**
 * Base64 with CRLF after every `width` characters and no line break after the last line (the
 * layout of go-message's base64 writer, which the official bridge uses for attachments).
 */
export function encodeBase64Lines(bytes: Uint8Array, width = 76): Uint8Array {
  const b64 = base64Encode(bytes);
  const lines = Math.ceil(b64.length / width);
  const out = new Uint8Array(b64.length + Math.max(0, lines - 1) * 2);
  let o = 0;
  for (let i = 0; i < b64.length; i++) {
    if (i > 0 && i % width === 0) {
      out[o++] = 13;
      out[o++] = 10;
    }
    out[o++] = b64.charCodeAt(i);
  }
  return out;
}
