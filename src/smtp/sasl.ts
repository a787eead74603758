/**
 * SASL pieces of SMTP AUTH (RFC 4954): strict base64 of client responses, and the PLAIN message
 * (RFC 4616: `[authzid] NUL authcid NUL passwd`, UTF-8). LOGIN (a de-facto mechanism) sends the
 * username and the password as two base64 responses.
 *
 * @module
 */

/** A client response that is not valid base64, UTF-8 or PLAIN (`501 5.5.2`). */
export class SaslSyntaxError extends Error {
  override name = "SaslSyntaxError";
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes one base64 client response. `"="` is the empty response (RFC 4954 §4); whitespace,
 * wrong padding or other characters are refused.
 */
export function decodeSaslResponse(text: string): Uint8Array {
  if (text === "=") return new Uint8Array(0);
  if (text.length % 4 !== 0 || !B64.test(text)) {
    throw new SaslSyntaxError("the response is not valid base64");
  }
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    throw new SaslSyntaxError("the response is not valid base64");
  }
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** Decodes UTF-8 credentials, refusing invalid sequences and NUL. */
export function decodeUtf8Credential(bytes: Uint8Array): string {
  let s: string;
  try {
    s = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SaslSyntaxError("the credentials are not valid UTF-8");
  }
  if (s.includes("\0")) throw new SaslSyntaxError("the credentials contain a NUL character");
  return s;
}

/** The parts of a PLAIN response. */
export interface PlainCredentials {
  /** The authorization identity; empty when the client sent none. */
  authzid: string;
  username: string;
  password: string;
}

/**
 * Parses a decoded PLAIN response.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("\0alice@example.com\0secret");
 * console.log(parsePlain(bytes).username); // alice@example.com
 * ```
 */
export function parsePlain(bytes: Uint8Array): PlainCredentials {
  const first = bytes.indexOf(0);
  const second = first < 0 ? -1 : bytes.indexOf(0, first + 1);
  if (first < 0 || second < 0 || bytes.indexOf(0, second + 1) >= 0) {
    throw new SaslSyntaxError("a PLAIN response must be [authzid] NUL username NUL password");
  }
  const authzid = decodeUtf8Credential(bytes.subarray(0, first));
  const username = decodeUtf8Credential(bytes.subarray(first + 1, second));
  const password = decodeUtf8Credential(bytes.subarray(second + 1));
  if (!username) throw new SaslSyntaxError("the PLAIN username is empty");
  return { authzid, username, password };
}

/** Encodes a server challenge for a `334` line. */
export function encodeChallenge(text: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}
