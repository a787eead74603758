/**
 * Import on the reference server: `POST /mail/v4/messages/import` (proton-api.md §1.8, §3.5;
 * go-proton-api `server/messages.go` `handlePutMailMessagesImport`, `importMessage`,
 * `parseMessage`, `collect`).
 *
 * The request is `multipart/form-data`: one file part per message (any name; clients use `"0"`,
 * `"1"`…) holding the literal the client already encrypted per part (or wrapped whole in
 * `multipart/encrypted`), and a `Metadata` part, JSON keyed by part name:
 * `{"AddressID", "LabelIDs", "Unread", "Flags"}`. At most {@link MAX_IMPORT_COUNT} messages; a
 * message (or the request's sum) over {@link MAX_IMPORT_SIZE} bytes refuses the whole request
 * with 422 Code 2001 "message exceeds maximum import size of 30MB" (`Details.Name` names the part).
 *
 * Each message is stored as the fake stores it:
 * - the body is the first text leaf of the MIME tree (an armored PGP message), or for a
 *   `multipart/encrypted` root its second part (the whole original message, encrypted); its
 *   `MIMEType` is that text leaf's type, or `multipart/mixed` for `multipart/encrypted` (the
 *   fake forces `multipart/mixed` for every multipart root; this server keeps the text leaf's
 *   type there, so a per-part import decrypts to what its `MIMEType` says);
 * - every non-text leaf becomes an attachment: its binary (base64) or armored PGP message split
 *   into key packets and data packet; name from Content-Disposition/Content-Type, disposition as
 *   written (`inline` without a Content-ID becomes `attachment`), no signature;
 * - metadata from the header: Subject, From, To, Cc, Bcc, Reply-To (default: the sender),
 *   Message-ID → ExternalID, Date (now when missing or unreadable);
 * - labels as given: `LabelIDs` 1, 2, 5, 9 and unknown labels are refused per message, and so are
 *   two exclusive locations (Starred does not count, unlike the fake); with no location the
 *   message is only in All Mail; `Flags` and `Unread` as given.
 *
 * The body and every attachment must open with the address key; anything else fails that
 * message only (`Code` 2001 in its `Response`). The reply is `{"Code": 1001, "Responses":
 * [{"Name", "Response": {"Code", "MessageID"?, "Error"?}}]}` in part order; the imported messages
 * arrive in one event.
 *
 * @module
 */
import { CryptoError, decryptSessionKey, splitMessage, unarmorMessage } from "../crypto/mod.ts";
import {
  binaryToText,
  decodeTransfer,
  type MimePart,
  parseAddresses,
  parseMessage,
  parseRfc5322Date,
} from "../mime/mod.ts";
import { encodeBase64 } from "./_base64.ts";
import { formText } from "./_form.ts";
import { invalidValue } from "./_mail_request.ts";
import type { BuiltAttachment, BuiltMessage } from "./deliver.ts";
import { ApiServerError } from "./http.ts";
import type { MailBackend } from "./mail_backend.ts";
import { checkLabelTarget } from "./mail_model.ts";
import { ErrorCode, LabelType, SystemLabel } from "../api/types.ts";
import type { EmailAddress, ImportResponseItem, ParsedHeaders } from "../api/types.ts";

/** Most messages per import request. */
export const MAX_IMPORT_COUNT = 10;
/** Largest message, and largest request sum, in bytes (30 MiB, as Bridge 3.21's client). */
export const MAX_IMPORT_SIZE = 30 * 1024 * 1024;
/** The refusal text of an oversize import (go-proton-api `ErrImportSizeExceeded`). */
export const IMPORT_SIZE_ERROR = "message exceeds maximum import size of 30MB";

const decoder = new TextDecoder();

/** A per-message failure (becomes that message's `Response`). */
class ItemError extends Error {}

function fail(message: string): never {
  throw new ItemError(message);
}

/** The literal without the CRLF clients append to each part. */
function literalOf(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  return n >= 2 && bytes[n - 2] === 13 && bytes[n - 1] === 10 ? bytes.subarray(0, n - 2) : bytes;
}

/** Body and attachment leaves, as the fake's `collect`. */
function collect(part: MimePart, bodies: MimePart[], attachments: MimePart[]): void {
  if (part.isMultipart) {
    if (part.subtype === "encrypted") {
      if (part.children.length !== 2) {
        fail(`expected two parts in multipart/encrypted, got ${part.children.length}`);
      }
      bodies.push(part.children[1]);
      return;
    }
    for (const c of part.children) collect(c, bodies, attachments);
  } else if (part.type === "text") {
    bodies.push(part);
  } else {
    attachments.push(part);
  }
}

function addresses(value: string | undefined): EmailAddress[] {
  if (!value) return [];
  return parseAddresses(value).map((a) => ({ Name: a.name, Address: a.address }));
}

function parsedHeaders(root: MimePart): ParsedHeaders {
  const out: ParsedHeaders = {};
  for (const f of root.header.fields) {
    if (!f.hasColon) continue;
    const v = binaryToText(f.rawValue.replace(/\r?\n[ \t]/g, " ").trim());
    const prev = out[f.name];
    out[f.name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

type Key = Awaited<ReturnType<MailBackend["accounts"]["addressKey"]>>;

async function opens(binary: Uint8Array, key: Key, what: string): Promise<void> {
  try {
    await decryptSessionKey(binary, [key]);
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    fail(
      err.kind === "wrong-key"
        ? `${what} is not encrypted to the address key`
        : `${what} is not an encrypted PGP message`,
    );
  }
}

async function attachmentOf(part: MimePart, key: Key, n: number): Promise<BuiltAttachment> {
  const raw = decodeTransfer(part.bodyData(), part.encoding);
  const name = part.filename || "attachment.bin";
  let binary: Uint8Array;
  try {
    binary = await unarmorMessage(raw);
  } catch {
    fail(`attachment ${n} (${name}) is not a PGP message`);
  }
  let split;
  try {
    split = splitMessage(binary);
  } catch {
    fail(`attachment ${n} (${name}) is not an encrypted PGP message`);
  }
  await opens(split.keyPackets, key, `attachment ${n} (${name})`);
  const contentID = (part.id ?? "").replace(/^<|>$/g, "");
  const disposition = part.disposition?.type === "inline" && contentID ? "inline" : "attachment";
  const headers: ParsedHeaders = { "content-disposition": disposition };
  if (contentID) headers["content-id"] = `<${contentID}>`;
  return {
    Name: name,
    MIMEType: part.mimeType,
    Disposition: disposition,
    Headers: headers,
    KeyPackets: encodeBase64(split.keyPackets),
    Signature: "",
    DataPacket: split.dataPacket,
  };
}

/** Checks `LabelIDs` as the fake does (Starred is not a location). */
function checkLabels(mail: MailBackend, userID: string, ids: unknown): string[] {
  if (ids === undefined || ids === null) return [];
  if (!Array.isArray(ids) || !ids.every((i) => typeof i === "string")) {
    fail("LabelIDs must be a list of label IDs");
  }
  let exclusive = 0;
  for (const id of ids) {
    const label = mail.getLabel(userID, id);
    const refusal = checkLabelTarget(id, label?.Type);
    if (refusal || !label) fail(`invalid label ID: ${id}`);
    if (label.Type !== LabelType.Label && id !== SystemLabel.Starred) exclusive++;
  }
  if (exclusive > 1) fail("too many exclusive labels");
  return ids;
}

async function buildImport(
  mail: MailBackend,
  userID: string,
  literal: Uint8Array,
  meta: Record<string, unknown> | undefined,
): Promise<BuiltMessage> {
  if (!meta || typeof meta !== "object") fail("no Metadata for this message");
  const address = mail.accounts.addresses(userID).find((a) => a.ID === meta.AddressID);
  if (!address) fail(`unknown AddressID ${String(meta.AddressID)}`);
  const labelIDs = checkLabels(mail, userID, meta.LabelIDs);
  const flags = meta.Flags ?? 0;
  if (typeof flags !== "number" || !Number.isInteger(flags) || flags < 0) {
    fail("Flags must be a non-negative integer");
  }
  const unread = meta.Unread ?? 0;
  if (unread !== 0 && unread !== 1 && unread !== true && unread !== false) {
    fail("Unread must be 0 or 1");
  }
  const root = parseMessage(literal);
  const bodies: MimePart[] = [];
  const attachmentParts: MimePart[] = [];
  collect(root, bodies, attachmentParts);
  if (bodies.length === 0) fail("the message has no text part");
  const bodyPart = bodies[0];
  const body = decoder.decode(decodeTransfer(bodyPart.bodyData(), bodyPart.encoding)).trim();
  if (!body.startsWith("-----BEGIN PGP MESSAGE-----")) {
    fail("the body is not an armored PGP message (import takes encrypted messages)");
  }
  const key = await mail.accounts.addressKey(address.ID);
  await opens(new TextEncoder().encode(body), key, "the body");
  const attachments: BuiltAttachment[] = [];
  for (const [i, part] of attachmentParts.entries()) {
    attachments.push(await attachmentOf(part, key, i + 1));
  }
  const h = root.header;
  const sender = addresses(h.get("From"))[0] ?? { Name: h.getText("From") ?? "", Address: "" };
  const replyTos = addresses(h.get("Reply-To"));
  const date = h.get("Date") ? parseRfc5322Date(h.get("Date")!) : null;
  const time = date && date.getTime() >= 0 ? Math.floor(date.getTime() / 1000) : mail.now();
  const headerBytes = root.headerData();
  return {
    AddressID: address.ID,
    ExternalID: (h.get("Message-ID") ?? "").trim().replace(/^<|>$/g, ""),
    Subject: h.getText("Subject") ?? "",
    Sender: sender,
    ToList: addresses(h.get("To")),
    CCList: addresses(h.get("Cc")),
    BCCList: addresses(h.get("Bcc")),
    ReplyTos: replyTos.length ? replyTos : [sender],
    Flags: flags >>> 0,
    Time: time,
    Unread: unread === 1 || unread === true ? 1 : 0,
    MIMEType: root.isMultipart && root.subtype === "encrypted"
      ? "multipart/mixed"
      : bodyPart.mimeType,
    Header: decoder.decode(headerBytes).replace(/\r?\n$/, ""),
    ParsedHeaders: parsedHeaders(root),
    Body: body,
    Attachments: attachments,
    Location: "",
    LabelIDs: labelIDs,
  };
}

/**
 * Imports the messages of a parsed import form for `userID`.
 *
 * @returns One response per message part, in part order.
 * @throws {ApiServerError} 400 2001 without a readable `Metadata` part; 422 2001 for no message,
 * more than {@link MAX_IMPORT_COUNT}, or a size over {@link MAX_IMPORT_SIZE}.
 */
export async function importMessages(
  mail: MailBackend,
  userID: string,
  form: FormData,
): Promise<ImportResponseItem[]> {
  const rawMeta = await formText(form, "Metadata");
  let metadata: Record<string, Record<string, unknown>>;
  try {
    metadata = JSON.parse(rawMeta ?? "");
    if (!metadata || typeof metadata !== "object" || Array.isArray(metadata)) throw new Error();
  } catch {
    throw new ApiServerError(400, ErrorCode.InvalidValue, "Metadata must be a JSON object");
  }
  const parts: { name: string; literal: Uint8Array }[] = [];
  for (const [name, value] of form.entries()) {
    if (name === "Metadata") continue;
    const bytes = typeof value === "string"
      ? new TextEncoder().encode(value)
      : new Uint8Array(await value.arrayBuffer());
    parts.push({ name, literal: literalOf(bytes) });
  }
  if (parts.length === 0) throw invalidValue("no message to import");
  if (parts.length > MAX_IMPORT_COUNT) {
    throw invalidValue(`at most ${MAX_IMPORT_COUNT} messages can be imported at once`);
  }
  let total = 0;
  for (const p of parts) {
    total += p.literal.length;
    if (p.literal.length > MAX_IMPORT_SIZE) {
      throw new ApiServerError(422, ErrorCode.InvalidValue, IMPORT_SIZE_ERROR, { Name: p.name });
    }
  }
  if (total > MAX_IMPORT_SIZE) {
    throw new ApiServerError(422, ErrorCode.InvalidValue, IMPORT_SIZE_ERROR, { Total: total });
  }
  const built: (BuiltMessage | string)[] = [];
  for (const p of parts) {
    try {
      built.push(await buildImport(mail, userID, p.literal, metadata[p.name]));
    } catch (err) {
      if (err instanceof ItemError) built.push(`failed to import: ${err.message}`);
      else throw err;
    }
  }
  const ok = built.filter((b): b is BuiltMessage => typeof b !== "string");
  const ids = ok.length ? mail.insert(userID, ok) : [];
  let next = 0;
  return parts.map((p, i): ImportResponseItem => {
    const b = built[i];
    return typeof b === "string"
      ? { Name: p.name, Response: { Code: ErrorCode.InvalidValue, Error: b } }
      : { Name: p.name, Response: { Code: 1000, MessageID: ids[next++] } };
  });
}
