/**
 * Encrypting a client's RFC 822 message for import (proton-api.md §3.5, after go-proton-api
 * `message_encrypt.go` `EncryptRFC822`):
 *
 * - **Per part** (preferred): the MIME tree is rebuilt with the same headers and boundaries
 *   (preambles and epilogues dropped); each `text/*` and `message/*` leaf is decoded, converted
 *   to UTF-8 (`charset` rewritten to `utf-8`), and replaced by an armored PGP message encrypted
 *   (not signed) to the address key, without `Content-Transfer-Encoding`; every other leaf is
 *   decoded, encrypted (not signed) and written as base64 of the binary PGP message.
 * - **Whole message** (fallback, when a part is already encrypted or signed, there is more than
 *   one text part — `multipart/alternative` —, no text part at all, a text part's charset is
 *   unknown or its bytes are not that charset, a text part is an attachment, or a calendar part): the original literal, encrypted (not signed, unlike go-proton-api: see
 *   `encryptWhole`), wrapped in a fresh
 *   `multipart/encrypted; protocol="application/pgp-encrypted"` message whose header keeps only
 *   `Message-Id`, `From`, `To`, `Cc`, `Subject`, `Date`, `Received`, `Reply-To`, `In-Reply-To` and
 *   `References`.
 *
 * The output uses CRLF line endings throughout.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { encryptMessage, encryptMessageBinary } from "../crypto/mod.ts";
import {
  concatBytes,
  decodeCharset,
  decodeParams,
  decodeTransfer,
  encodeBase64Lines,
  formatField,
  formatMediaType,
  type MimePart,
  parseMessage,
  toCrlf,
} from "../mime/mod.ts";

const enc = new TextEncoder();
const CRLF = enc.encode("\r\n");

/** Which way {@link encryptForImport} went. */
export type ImportEncryption = "per-part" | "whole";

/** Why the per-part way cannot be used for this tree, or `undefined` when it can. */
export function perPartRefusal(root: MimePart): string | undefined {
  let textLeaves = 0;
  const walk = (part: MimePart): string | undefined => {
    if (part.subtype === "encrypted" || part.subtype === "signed") {
      return `the message has a ${part.mimeType} part`;
    }
    if (part.isMultipart) {
      if (!boundaryOf(part)) return "a multipart part has no boundary";
      for (const child of part.children) {
        const why = walk(child);
        if (why) return why;
      }
      return undefined;
    }
    if (part.type === "text") {
      textLeaves++;
      const charset = charsetOf(part);
      if (decodeCharset(new Uint8Array(0), charset) === null) {
        return `unknown charset ${charset}`;
      }
      // The per-part way turns the text leaf into the message's body, converted to UTF-8: only
      // right for a body whose bytes are the text its charset says. A text file attached (the
      // API would take it for the body), a binary attachment without a Content-Type (text/plain
      // by default), 8-bit bytes labelled us-ascii or bytes that are not the UTF-8 they claim
      // (converted, they would be garbled for good), and an invitation (its `method` parameter
      // would be lost) go whole.
      if (part.disposition?.type === "attachment" || part.filename !== undefined) {
        return "a text part is an attachment";
      }
      if (part.subtype === "calendar") return "the message has a calendar part";
      const data = decodeTransfer(part.bodyData(), part.encoding);
      if (!textMatchesCharset(data, charset)) {
        return `a text part's bytes are not ${charset}`;
      }
    }
    return undefined;
  };
  const why = walk(root);
  if (why) return why;
  if (textLeaves === 0) return "the message has no text part";
  if (textLeaves > 1) return "the message has more than one text part";
  return undefined;
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Whether `data` is text in `charset` as declared: 7-bit for US-ASCII, valid UTF-8 for UTF-8. */
function textMatchesCharset(data: Uint8Array, charset: string): boolean {
  const name = charset.toLowerCase();
  if (name === "us-ascii" || name === "ascii") return data.every((b) => b < 0x80);
  if (name === "utf-8" || name === "utf8") {
    try {
      STRICT_UTF8.decode(data);
      return true;
    } catch {
      return false;
    }
  }
  return true;
}

function boundaryOf(part: MimePart): string | undefined {
  return decodeParams(part.params).get("boundary") || undefined;
}

function charsetOf(part: MimePart): string {
  return decodeParams(part.params).get("charset") || "us-ascii";
}

/** The part's header fields except the named ones (lower-case), each ending with a line break. */
function keptFields(part: MimePart, drop: ReadonlySet<string>): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const field of part.header.fields) {
    if (drop.has(field.key)) continue;
    const bytes = part.header.fieldBytes(field);
    out.push(bytes);
    if (bytes.length === 0 || bytes[bytes.length - 1] !== 10) out.push(CRLF);
  }
  return out;
}

function contentTypeField(part: MimePart, charset?: string): Uint8Array {
  const params: Record<string, string> = {};
  for (const [k, v] of decodeParams(part.params)) params[k] = v;
  if (charset !== undefined) params.charset = charset;
  const value = formatMediaType(part.mimeType, params) || part.mimeType;
  return enc.encode(formatField("Content-Type", value));
}

async function encryptPart(part: MimePart, key: openpgp.PrivateKey): Promise<Uint8Array> {
  if (part.isMultipart) {
    const boundary = boundaryOf(part)!;
    const out: Uint8Array[] = [part.headerData()];
    if (part.headerData().length === 0) out.push(CRLF);
    for (const child of part.children) {
      out.push(enc.encode(`--${boundary}\r\n`), await encryptPart(child, key), CRLF);
    }
    out.push(enc.encode(`--${boundary}--\r\n`));
    return concatBytes(out);
  }
  const data = decodeTransfer(part.bodyData(), part.encoding);
  const drop = new Set(["content-transfer-encoding", "content-type"]);
  const header = keptFields(part, drop);
  if (part.type === "text" || part.type === "message") {
    let plain = data;
    if (part.type === "text") {
      plain = enc.encode(decodeCharset(data, charsetOf(part)) ?? "");
      header.push(contentTypeField(part, "utf-8"));
    } else {
      header.push(contentTypeField(part));
    }
    const armored = await encryptMessage({ data: plain, encryptionKeys: [key] });
    return concatBytes([...header, CRLF, enc.encode(armored)]);
  }
  header.push(contentTypeField(part));
  header.push(enc.encode("Content-Transfer-Encoding: base64\r\n"));
  const binary = await encryptMessageBinary({ data, encryptionKeys: [key] });
  return concatBytes([...header, CRLF, encodeBase64Lines(binary)]);
}

/**
 * Header fields the whole-message wrapper keeps: go-proton-api's, and the ones that tell whom to
 * answer and which thread the message is in (`Reply-To`, `In-Reply-To`, `References`), which the
 * API reads from this header; without them the message served back would answer its author
 * instead of the list and fall out of its thread.
 */
const WRAPPER_KEEPS = new Set([
  "message-id",
  "from",
  "to",
  "cc",
  "subject",
  "date",
  "received",
  "reply-to",
  "in-reply-to",
  "references",
]);

async function encryptWhole(
  literal: Uint8Array,
  root: MimePart,
  key: openpgp.PrivateKey,
): Promise<Uint8Array> {
  // Not signed (go-proton-api signs here): a signature by the account's own key over mail
  // someone else wrote would be served back as `multipart/signed` (the PGP/MIME rebuild,
  // proton-api.md §3.4 step 7), the original one level down with its header repeated and a
  // "signed by" the author never made. Without one the rebuild merges the original header back
  // and the message round-trips, as the per-part way's (also unsigned) does.
  const armored = await encryptMessage({ data: literal, encryptionKeys: [key] });
  const boundary = crypto.randomUUID().replaceAll("-", "");
  const header: Uint8Array[] = [];
  for (const field of root.header.fields) {
    if (!field.hasColon || !WRAPPER_KEEPS.has(field.key)) continue;
    const bytes = root.header.fieldBytes(field);
    header.push(bytes);
    if (bytes.length === 0 || bytes[bytes.length - 1] !== 10) header.push(CRLF);
  }
  const text = [
    "Mime-Version: 1.0",
    `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";`,
    ` boundary="${boundary}"`,
    "",
    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)",
    `--${boundary}`,
    "Content-Type: application/pgp-encrypted",
    "Content-Description: PGP/MIME version identification",
    "",
    "Version: 1",
    "",
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    "Content-Description: OpenPGP encrypted message",
    'Content-Disposition: inline; filename="encrypted.asc"',
    "",
    armored.trimEnd(),
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
  return concatBytes([...header, enc.encode(text)]);
}

/**
 * Encrypts a message for import with the address' first key (see the module notes).
 * @throws {CryptoError} when the key cannot encrypt.
 */
export async function encryptForImport(
  literal: Uint8Array,
  key: openpgp.PrivateKey,
): Promise<{ literal: Uint8Array; method: ImportEncryption }> {
  const root = parseMessage(literal);
  if (perPartRefusal(root) === undefined) {
    return { literal: toCrlf(await encryptPart(root, key)), method: "per-part" };
  }
  return { literal: toCrlf(await encryptWhole(literal, root, key)), method: "whole" };
}
