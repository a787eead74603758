/**
 * The sender's public key attached to outgoing mail when the mail setting `AttachPublicKey` is on
 * (proton-api.md §3.6 step 2): an `application/pgp-keys` attachment named
 * `publickey - <address> - 0x<first 8 hex digits of the fingerprint, upper case>.asc`.
 *
 * Text packages get it as one more uploaded attachment. For MIME packages
 * {@link appendToMimeBody} adds it as a last part: the message's content becomes the first part
 * of a new `multipart/mixed` (never done to a message the client signed or encrypted).
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { encodeBase64Lines, formatMediaType, parseMessage } from "../mime/mod.ts";
import type { OutgoingAttachment } from "./outgoing_message.ts";

const enc = new TextEncoder();

/** The key attachment for `address` signing with `key`. */
export function publicKeyAttachment(
  key: openpgp.PrivateKey | openpgp.PublicKey,
  address: string,
): OutgoingAttachment {
  const fingerprint = key.getFingerprint().slice(0, 8).toUpperCase();
  const armored = key.isPrivate() ? (key as openpgp.PrivateKey).toPublic().armor() : key.armor();
  return {
    name: `publickey - ${address} - 0x${fingerprint}.asc`,
    mimeType: "application/pgp-keys",
    contentType: "application/pgp-keys",
    disposition: "attachment",
    contentID: "",
    data: enc.encode(armored),
  };
}

function concat(parts: (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bytes) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/**
 * `mimeBody` with `attachment` added: the top-level fields other than `Content-*` stay on top, the
 * `Content-*` fields and the body become part 1 of a new `multipart/mixed`, the attachment part 2.
 */
export function appendToMimeBody(mimeBody: Uint8Array, attachment: OutgoingAttachment): Uint8Array {
  const root = parseMessage(mimeBody);
  const fields = root.header.fields;
  const top = fields.filter((f) => !f.key.startsWith("content-") && f.key !== "mime-version");
  const content = fields.filter((f) => f.key.startsWith("content-"));
  const boundary = `=_${crypto.randomUUID().replaceAll("-", "")}`;
  const fieldBytes = (f: (typeof fields)[number]) => {
    const b = root.header.fieldBytes(f);
    return b.length > 0 && b[b.length - 1] === 0x0a ? b : concat([b, "\r\n"]);
  };
  const type = formatMediaType(attachment.mimeType, { name: attachment.name });
  const disposition = formatMediaType("attachment", { filename: attachment.name });
  return concat([
    ...top.map(fieldBytes),
    "MIME-Version: 1.0\r\n",
    `Content-Type: multipart/mixed; boundary="${boundary}"\r\n`,
    "\r\n",
    `--${boundary}\r\n`,
    ...content.map(fieldBytes),
    "\r\n",
    root.bodyData(),
    `\r\n--${boundary}\r\n`,
    `Content-Type: ${type}\r\n`,
    `Content-Disposition: ${disposition}\r\n`,
    "Content-Transfer-Encoding: base64\r\n",
    "\r\n",
    encodeBase64Lines(attachment.data),
    `\r\n--${boundary}--\r\n`,
  ]);
}
