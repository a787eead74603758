/**
 * Content-Transfer-Encoding: decoding any body (tolerant) and the base64 line layout the builder
 * writes.
 *
 * @module
 */
import { base64DecodeLoose } from "./encoded_word.ts";
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

const ALPHABET = new TextEncoder().encode(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
);

/**
 * Base64 with CRLF after every `width` characters and no line break after the last line (the
 * layout of go-message's base64 writer, which the official bridge uses for attachments).
 */
export function encodeBase64Lines(bytes: Uint8Array, width = 76): Uint8Array {
  const chars = Math.ceil(bytes.length / 3) * 4;
  const lines = Math.ceil(chars / width);
  const out = new Uint8Array(chars + Math.max(0, lines - 1) * 2);
  let o = 0;
  let col = 0;
  const put = (c: number) => {
    if (col === width) {
      out[o++] = 13;
      out[o++] = 10;
      col = 0;
    }
    out[o++] = c;
    col++;
  };
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    put(ALPHABET[n >> 18]);
    put(ALPHABET[(n >> 12) & 63]);
    put(ALPHABET[(n >> 6) & 63]);
    put(ALPHABET[n & 63]);
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
    put(ALPHABET[n >> 18]);
    put(ALPHABET[(n >> 12) & 63]);
    put(rest === 2 ? ALPHABET[(n >> 6) & 63] : 0x3d);
    put(0x3d);
  }
  return out;
}
