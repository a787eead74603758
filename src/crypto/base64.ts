/**
 * Standard base64 (RFC 4648 §4, `+/` alphabet) as the Proton API uses it for `KeyPackets`, `Body`
 * of send packages, session keys and key salts.
 *
 * @module
 */
import { CryptoError } from "./errors.ts";

const BASE64_REGEXP = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Encodes bytes as padded standard base64.
 *
 * @param bytes The bytes to encode.
 * @returns The base64 text.
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunked so that large attachments do not overflow the argument stack.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64. ASCII whitespace (line wrapping) is ignored and padding is optional.
 *
 * @param text The base64 text.
 * @returns The decoded bytes.
 * @throws {CryptoError} `bad-input` when the text is not valid base64.
 */
export function fromBase64(text: string): Uint8Array {
  if (typeof text !== "string") {
    throw new CryptoError("bad-input", `Invalid base64: expected a string, got ${typeof text}`);
  }
  const clean = text.replace(/[\t\n\f\r ]/g, "");
  if (!BASE64_REGEXP.test(clean) || clean.length % 4 === 1) {
    throw new CryptoError("bad-input", `Invalid base64: "${abbreviate(text)}"`);
  }
  let binary: string;
  try {
    binary = atob(clean);
  } catch (err) {
    throw new CryptoError("bad-input", `Invalid base64: "${abbreviate(text)}"`, { cause: err });
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function abbreviate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
