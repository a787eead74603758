/**
 * Builds the RFC 822 literal IMAP clients see from a decrypted API message, following the
 * official bridge (`pkg/message/build.go`, summarised in `shared/docs/proton-api.md` §3.4) with
 * all its job options on: header synthesis from `ParsedHeaders` and metadata, single part vs
 * `multipart/mixed` (with `multipart/related` for inline attachments) vs PGP/MIME rebuild,
 * decryption-failure placeholders, deterministic boundaries.
 *
 * The output is deterministic (same input, same bytes) and uses CRLF line endings throughout.
 * Header order follows go-message, which the bridge writes with: the API headers in their order,
 * then every field the builder sets moves to the top, the last one set first.
 *
 * Deliberate differences from the bridge, each a fix of a bridge quirk:
 * - the `multipart/signed` boundary is derived from the message ID like every other boundary
 *   (the bridge hashes the empty string, so every signed message shares one boundary);
 * - MBOX `From ` lines are only stripped from the header of a decrypted PGP/MIME entity, never
 *   from the first paragraph of a plain body;
 * - a top-level `Content-Transfer-Encoding` is dropped before a PGP/MIME entity's header is
 *   merged in (otherwise the entity's own encoding would be ignored), and `MIME-Version` is added
 *   to rebuilt PGP/MIME messages that lack it;
 * - attachments whose charset go-message refuses are built rather than failing the message.
 *
 * This module works on plain inputs and never imports the API or crypto layers: the caller
 * decrypts first and passes bytes, or the error and the armored ciphertext.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  binaryToBytes,
  bytesToBinary,
  ByteWriter,
  isValidUtf8,
  toCrlf,
  utf8Encode,
} from "./_bytes.ts";
import { formatAddress, formatAddressList } from "./address.ts";
import { formatRfc1123Z, formatRfc822, GO_ZERO_TIME, parseRfc5322Date } from "./date.ts";
import { base64Encode, decodeParams, encodeWordQ } from "./encoded_word.ts";
import { formatField, parseHeader, unfold } from "./header.ts";
import { formatMediaType, parseContentType } from "./params.ts";
import { encodeQuotedPrintable } from "./quoted_printable.ts";
import { encodeBase64Lines } from "./transfer_encoding.ts";

/** Domain of the synthetic Message-Id and References the bridge adds. */
export const INTERNAL_ID_DOMAIN = "protonmail.internalid";

/** A name and address as the API gives them. */
export interface BuildAddress {
  /** Display name ("" for none). */
  readonly name: string;
  /** Email address. */
  readonly address: string;
}

/** A part that could not be decrypted: the error and the still-encrypted, armored data. */
export interface DecryptionFailure {
  /** Why decryption failed (goes into the armor comment). */
  readonly error: string;
  /** The encrypted data, ASCII-armored. */
  readonly armored: string;
}

/**
 * Header fields in order, as the API's `ParsedHeaders` (an object whose values are a string or
 * a list of strings, in header order) or as name/value pairs.
 */
export type HeaderFields =
  | Readonly<Record<string, string | readonly string[]>>
  | readonly (readonly [string, string])[];

/** One attachment of the message. */
export interface BuildAttachment {
  /** Attachment ID. */
  readonly id: string;
  /** File name. */
  readonly name: string;
  /** MIME type as the API gives it (may carry parameters). */
  readonly mimeType: string;
  /** `inline` or `attachment`. */
  readonly disposition: string;
  /** The attachment's API `Headers`. */
  readonly headers: HeaderFields;
  /** Decrypted data, or the failure. */
  readonly data: Uint8Array | DecryptionFailure;
}

/** Everything the builder needs from an API message, already decrypted. */
export interface BuildInput {
  /** Proton message ID. */
  readonly id: string;
  /** RFC Message-ID without angle brackets (`ExternalID`), if known. */
  readonly externalID?: string;
  /** Subject from the metadata. */
  readonly subject: string;
  /** Sender from the metadata. */
  readonly sender: BuildAddress;
  /** `ToList`. */
  readonly to: readonly BuildAddress[];
  /** `CCList`. */
  readonly cc: readonly BuildAddress[];
  /** `BCCList`. */
  readonly bcc: readonly BuildAddress[];
  /** `ReplyTos`. */
  readonly replyTos: readonly BuildAddress[];
  /** `Time` (Unix seconds). */
  readonly time: number;
  /** `Flags` bit set (kept for callers; the builder uses {@link isDraft}). */
  readonly flags: number;
  /** Whether the message is a draft (no Reply-To is written for drafts). */
  readonly isDraft: boolean;
  /** `ParsedHeaders`, in order. */
  readonly parsedHeaders: HeaderFields;
  /** `MIMEType` of the body: `text/plain`, `text/html` or `multipart/mixed`. */
  readonly mimeType: string;
  /** Decrypted body, or the failure. */
  readonly body: Uint8Array | DecryptionFailure;
  /** Attachments, in API order. */
  readonly attachments: readonly BuildAttachment[];
  /** Signature found in a PGP/MIME body (`ExtractSignatures`), if any. */
  readonly signature?: { readonly armored: string; readonly micalg: string };
}

function isFailure(x: Uint8Array | DecryptionFailure): x is DecryptionFailure {
  return !(x instanceof Uint8Array);
}

// ---------------------------------------------------------------------------------------------
// go-message style header
// ---------------------------------------------------------------------------------------------

/** Go's `textproto.CanonicalMIMEHeaderKey`. */
export function canonicalHeaderKey(key: string): string {
  for (const c of key) {
    const code = c.charCodeAt(0);
    if (code <= 0x20 || code >= 0x7f || c === ":") return key;
  }
  return key.toLowerCase().replace(/(^|-)([a-z])/g, (_, p, l) => p + l.toUpperCase());
}

interface OutField {
  name: string;
  value: string;
  /** Written as `name: value` without folding (fields copied from the API). */
  raw: boolean;
}

/**
 * A header with go-message semantics: lookups are case-insensitive, {@link OutHeader.set} removes
 * every field of that name and puts the new one at the top.
 */
class OutHeader {
  fields: OutField[] = [];

  static from(fields: HeaderFields): OutHeader {
    const h = new OutHeader();
    const pairs: [string, string][] = [];
    if (Array.isArray(fields)) {
      for (const [k, v] of fields as readonly (readonly [string, string])[]) pairs.push([k, v]);
    } else {
      for (const [k, v] of Object.entries(fields as Record<string, string | readonly string[]>)) {
        if (typeof v === "string") pairs.push([k, v]);
        else if (Array.isArray(v)) { for (const x of v) pairs.push([k, String(x)]); }
      }
    }
    for (const [k, v] of pairs) {
      if (!k || /[\s:]/.test(k) || /[^\x21-\x7e]/.test(k)) continue;
      h.fields.push({ name: k, value: String(v), raw: true });
    }
    return h;
  }

  has(key: string): boolean {
    const k = key.toLowerCase();
    return this.fields.some((f) => f.name.toLowerCase() === k);
  }

  get(key: string): string {
    const k = key.toLowerCase();
    return this.fields.find((f) => f.name.toLowerCase() === k)?.value ?? "";
  }

  values(key: string): string[] {
    const k = key.toLowerCase();
    return this.fields.filter((f) => f.name.toLowerCase() === k).map((f) => f.value);
  }

  del(key: string): void {
    const k = key.toLowerCase();
    this.fields = this.fields.filter((f) => f.name.toLowerCase() !== k);
  }

  set(key: string, value: string): void {
    this.del(key);
    this.fields.unshift({ name: canonicalHeaderKey(key), value, raw: false });
  }

  /** Sets only when missing or different, so an unchanged field keeps its place. */
  setIfNeeded(key: string, value: string): void {
    if (this.has(key) && this.get(key) === value) return;
    this.set(key, value);
  }

  write(w: ByteWriter): void {
    for (const f of this.fields) {
      if (f.raw) {
        // Keep the API's value as it is, only making any line break a proper fold.
        const v = f.value.replace(/\r\n|\r|\n/g, "\r\n").replace(/\r\n(?![ \t])/g, "\r\n ")
          .replace(/(\r\n[ \t]*)+$/, "");
        w.text(`${f.name}: ${v}\r\n`);
      } else w.text(formatField(f.name, f.value));
    }
    w.binary("\r\n");
  }
}

// ---------------------------------------------------------------------------------------------
// Boundaries
// ---------------------------------------------------------------------------------------------

/** Deterministic boundaries: SHA-256 hex of the seed, re-hashed for each new boundary. */
class Boundary {
  #val: string;
  constructor(seed: string) {
    this.#val = seed;
  }
  gen(): string {
    this.#val = createHash("sha256").update(this.#val).digest("hex");
    return this.#val;
  }
}

// ---------------------------------------------------------------------------------------------
// Header synthesis (getMessageHeader)
// ---------------------------------------------------------------------------------------------

function addressEmpty(a: BuildAddress | undefined): boolean {
  return !a || (a.name === "" && a.address === "");
}

/** 1982-08-13, the date the bridge uses when the message has no usable time. */
const RFC822_BIRTHDAY = new Date(Date.UTC(1982, 7, 13));

function messageDate(time: number): Date {
  return time > 0 ? new Date(time * 1000) : RFC822_BIRTHDAY;
}

function messageHeader(msg: BuildInput): OutHeader {
  const hdr = OutHeader.from(msg.parsedHeaders);
  if (msg.subject !== "") hdr.setIfNeeded("Subject", encodeWordQ(msg.subject));
  if (!addressEmpty(msg.sender)) hdr.setIfNeeded("From", formatAddress(msg.sender));
  if (msg.replyTos.length > 0 && !msg.isDraft) {
    if (!(msg.replyTos.length === 1 && addressEmpty(msg.replyTos[0]))) {
      hdr.setIfNeeded("Reply-To", formatAddressList(msg.replyTos));
    }
  }
  if (msg.to.length > 0) hdr.setIfNeeded("To", formatAddressList(msg.to));
  if (msg.cc.length > 0) hdr.setIfNeeded("Cc", formatAddressList(msg.cc));
  if (msg.bcc.length > 0) hdr.setIfNeeded("Bcc", formatAddressList(msg.bcc));
  if (hdr.get("Message-Id") === "") {
    hdr.set(
      "Message-Id",
      msg.externalID ? `<${msg.externalID}>` : `<${msg.id}@${INTERNAL_ID_DOMAIN}>`,
    );
  }
  const date = parseRfc5322Date(unfold(hdr.get("Date")));
  if (date === null || date.getTime() < 0) {
    hdr.setIfNeeded("Date", formatRfc1123Z(messageDate(msg.time)));
    if (!hdr.has("X-Original-Date")) {
      hdr.set("X-Original-Date", formatRfc1123Z(date ?? GO_ZERO_TIME));
    }
  }
  hdr.setIfNeeded("X-Pm-Internal-Id", msg.id);
  if (msg.externalID) hdr.set("X-Pm-External-Id", `<${msg.externalID}>`);
  hdr.setIfNeeded("X-Pm-Date", formatRfc1123Z(new Date(msg.time * 1000)));
  const refs = hdr.values("References");
  if (!refs.some((r) => r.includes(msg.id))) {
    hdr.set("References", [...refs, `<${msg.id}@${INTERNAL_ID_DOMAIN}>`].join(" "));
  }
  return hdr;
}

/** The top-level `MIME-Version` go-message's `CreateWriter` adds when missing. */
function ensureMimeVersion(hdr: OutHeader): void {
  if (!hdr.has("Mime-Version")) hdr.set("MIME-Version", "1.0");
}

function textPartHeader(hdr: OutHeader, body: Uint8Array, mimeType: string): OutHeader {
  const params: Record<string, string> = {};
  if (isValidUtf8(body)) params.charset = "utf-8";
  hdr.set("Content-Type", formatMediaType(mimeType, params) || mimeType);
  hdr.set("Content-Transfer-Encoding", "quoted-printable");
  return hdr;
}

/** The armored data with a `Comment:` armor header saying why it could not be decrypted. */
function armorWithComment(armored: string, comment: string): Uint8Array {
  const c = "Comment: " + comment.replace(/[\r\n]+/g, " ");
  const text = armored.replace(/\r\n|\r|\n/g, "\n");
  const m = /^(-----BEGIN PGP [A-Z ,0-9/]+-----)\n/m.exec(text);
  const out = m
    ? text.slice(0, m.index + m[0].length) + c + "\n" + text.slice(m.index + m[0].length)
    : text;
  return toCrlf(utf8Encode(out));
}

// ---------------------------------------------------------------------------------------------
// Multipart writing
// ---------------------------------------------------------------------------------------------

class MultipartWriter {
  #first = true;
  constructor(readonly w: ByteWriter, readonly boundary: string) {}

  part(hdr: OutHeader, body: Uint8Array | ((w: ByteWriter) => void)): void {
    this.w.binary(this.#first ? `--${this.boundary}\r\n` : `\r\n--${this.boundary}\r\n`);
    this.#first = false;
    hdr.write(this.w);
    if (body instanceof Uint8Array) this.w.bytes(body);
    else body(this.w);
  }

  close(): void {
    this.w.binary(`\r\n--${this.boundary}--\r\n`);
  }
}

function writeTextPart(mw: MultipartWriter, msg: BuildInput): void {
  if (isFailure(msg.body)) {
    const hdr = new OutHeader();
    hdr.set("Content-Type", formatMediaType(msg.mimeType) || msg.mimeType);
    mw.part(
      hdr,
      armorWithComment(msg.body.armored, `This message could not be decrypted: ${msg.body.error}`),
    );
    return;
  }
  const hdr = textPartHeader(new OutHeader(), msg.body, msg.mimeType);
  mw.part(hdr, encodeQuotedPrintable(msg.body));
}

function writeAttachmentPart(mw: MultipartWriter, att: BuildAttachment): void {
  const disposition = att.disposition || "attachment";
  if (isFailure(att.data)) {
    const filename = encodeWordQ(att.name + ".pgp");
    const hdr = new OutHeader();
    hdr.set("Content-Type", formatMediaType("application/octet-stream", { name: filename }));
    hdr.set(
      "Content-Disposition",
      formatMediaType(disposition, { filename }) || `attachment; filename="${filename}"`,
    );
    mw.part(
      hdr,
      armorWithComment(
        att.data.armored,
        `This attachment could not be decrypted: ${att.data.error}`,
      ),
    );
    return;
  }
  const hdr = OutHeader.from(att.headers);
  const encodedName = encodeWordQ(att.name);
  const ct = parseContentType(att.mimeType);
  let baseType = att.mimeType.trim().toLowerCase();
  if (ct) {
    baseType = `${ct.type}/${ct.subtype}`;
    const params: Record<string, string> = Object.fromEntries(decodeParams(ct.params));
    params.name = encodedName;
    params.filename = encodedName;
    hdr.set("Content-Type", formatMediaType(baseType, params) || "application/octet-stream");
  } else {
    hdr.set("Content-Type", att.mimeType.replace(/[\r\n]+/g, " ") || "application/octet-stream");
  }
  hdr.set(
    "Content-Disposition",
    formatMediaType(disposition, { filename: encodedName }) ||
      formatMediaType("attachment", { filename: encodedName }),
  );
  if (baseType !== "message/rfc822") {
    hdr.set("Content-Transfer-Encoding", "base64");
    mw.part(hdr, encodeBase64Lines(att.data));
  } else {
    // No encoding, as the official bridge writes it, unless the message has 8-bit bytes: then
    // `8bit` says so (7bit, the default, would be false, and 7-bit relays may mangle it).
    hdr.del("Content-Transfer-Encoding");
    if (att.data.some((b) => b >= 0x80)) hdr.set("Content-Transfer-Encoding", "8bit");
    mw.part(hdr, toCrlf(att.data));
  }
}

function buildMultipart(msg: BuildInput, w: ByteWriter): void {
  const boundary = new Boundary(msg.id);
  const hdr = messageHeader(msg);
  const outer = boundary.gen();
  hdr.set("Content-Type", formatMediaType("multipart/mixed", { boundary: outer }));
  ensureMimeVersion(hdr);
  hdr.del("Content-Transfer-Encoding");
  hdr.write(w);
  const mw = new MultipartWriter(w, outer);
  const inline = msg.attachments.filter((a) => a.disposition === "inline");
  const attached = msg.attachments.filter((a) => a.disposition !== "inline");
  if (inline.length > 0) {
    const related = boundary.gen();
    const rh = new OutHeader();
    rh.set("Content-Type", formatMediaType("multipart/related", { boundary: related }));
    mw.part(rh, (rw) => {
      const inner = new MultipartWriter(rw, related);
      writeTextPart(inner, msg);
      for (const a of inline) writeAttachmentPart(inner, a);
      inner.close();
    });
  } else writeTextPart(mw, msg);
  for (const a of attached) writeAttachmentPart(mw, a);
  mw.close();
}

function buildSimple(msg: BuildInput, body: Uint8Array, w: ByteWriter): void {
  const hdr = textPartHeader(messageHeader(msg), body, msg.mimeType);
  ensureMimeVersion(hdr);
  hdr.write(w);
  w.bytes(encodeQuotedPrintable(body));
}

// ---------------------------------------------------------------------------------------------
// PGP/MIME
// ---------------------------------------------------------------------------------------------

/**
 * Removes MBOX `From ` / `>From ` lines from the header area of a decrypted entity (before the
 * first empty line), as the bridge's `sanitizeMBOXHeaderLine` does.
 */
export function stripMboxFromLines(body: Uint8Array): Uint8Array {
  let text = bytesToBinary(body);
  for (;;) {
    let headerEnd = text.indexOf("\n\n");
    if (headerEnd < 0) headerEnd = text.indexOf("\r\n\r\n");
    if (headerEnd < 0) headerEnd = text.length;
    let found = -1;
    for (let i = 0; i < headerEnd; i = text.indexOf("\n", i) + 1 || headerEnd) {
      if (text.startsWith("From ", i) || text.startsWith(">From ", i)) {
        found = i;
        break;
      }
    }
    if (found < 0) break;
    const eol = text.indexOf("\n", found);
    if (eol < 0) break;
    text = text.slice(0, found) + text.slice(eol + 1);
  }
  return binaryToBytes(text);
}

function buildPgpMime(msg: BuildInput, w: ByteWriter): void {
  const boundary = new Boundary(msg.id);
  if (isFailure(msg.body)) {
    const hdr = messageHeader(msg);
    const b = boundary.gen();
    hdr.set(
      "Content-Type",
      formatMediaType("multipart/encrypted", {
        boundary: b,
        protocol: "application/pgp-encrypted",
      }),
    );
    ensureMimeVersion(hdr);
    hdr.del("Content-Transfer-Encoding");
    hdr.write(w);
    const mw = new MultipartWriter(w, b);
    const ctl = new OutHeader();
    ctl.set("Content-Type", "application/pgp-encrypted");
    ctl.set("Content-Description", "PGP/MIME version identification");
    mw.part(ctl, binaryToBytes("Version: 1"));
    const data = new OutHeader();
    data.set(
      "Content-Type",
      formatMediaType("application/octet-stream", { name: "encrypted.asc" }),
    );
    data.set("Content-Disposition", formatMediaType("inline", { filename: "encrypted.asc" }));
    data.set("Content-Description", "OpenPGP encrypted message");
    mw.part(data, toCrlf(utf8Encode(msg.body.armored)));
    mw.close();
    return;
  }
  const entity = toCrlf(stripMboxFromLines(msg.body));
  const hb = parseHeader(entity);
  const bodyData = entity.subarray(hb.end);
  const hdr = messageHeader(msg);
  if (msg.signature) {
    const b = boundary.gen();
    hdr.set(
      "Content-Type",
      formatMediaType("multipart/signed", {
        micalg: msg.signature.micalg,
        protocol: "application/pgp-signature",
        boundary: b,
      }),
    );
    ensureMimeVersion(hdr);
    hdr.del("Content-Transfer-Encoding");
    hdr.write(w);
    w.binary(`--${b}\r\n`);
    for (const f of hb.header.fields) if (f.hasColon) w.bytes(hb.header.fieldBytes(f));
    w.binary("\r\n").bytes(bodyData);
    const sig = new OutHeader();
    sig.set(
      "Content-Type",
      formatMediaType("application/pgp-signature", { name: "OpenPGP_signature.asc" }),
    );
    sig.set(
      "Content-Disposition",
      formatMediaType("attachment", { filename: "OpenPGP_signature" }),
    );
    sig.set("Content-Description", "OpenPGP digital signature");
    w.binary(`\r\n--${b}\r\n`);
    sig.write(w);
    w.bytes(toCrlf(utf8Encode(msg.signature.armored)));
    w.binary(`\r\n--${b}--\r\n`);
    return;
  }
  hdr.del("Content-Type");
  hdr.del("Content-Transfer-Encoding");
  // Every field of a name the top-level header lacks, repeated ones too (DKIM-Signature,
  // Received, ARC sets), each put on top as the official bridge's Set does.
  // Names in the order they first appear; each name's fields go on top as one block in their
  // own order (so a Received trace keeps its order), the blocks in reverse order of the names.
  const absent = new Map<string, typeof hb.header.fields[number][]>();
  for (const f of hb.header.fields) {
    if (!f.hasColon) continue;
    const block = absent.get(f.key);
    if (block) block.push(f);
    else if (!hdr.has(f.name)) absent.set(f.key, [f]);
  }
  for (const block of absent.values()) {
    hdr.fields.unshift(...block.map((f) => ({
      name: canonicalHeaderKey(f.name),
      value: unfold(f.rawValue).replace(/[ \t]+$/, ""),
      raw: false,
    })));
  }
  ensureMimeVersion(hdr);
  hdr.write(w);
  w.bytes(bodyData);
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/**
 * Builds the RFC 822 literal of a message (proton-api.md §3.4). Deterministic: the same input
 * always gives the same bytes.
 */
export function buildMessage(msg: BuildInput): Uint8Array {
  const w = new ByteWriter();
  if (msg.attachments.length > 0) buildMultipart(msg, w);
  else if (msg.mimeType.trim().toLowerCase() === "multipart/mixed") buildPgpMime(msg, w);
  else if (isFailure(msg.body)) buildMultipart(msg, w);
  else buildSimple(msg, msg.body, w);
  return w.finish();
}

/** Options for {@link buildPlaceholder}. */
export interface PlaceholderOptions {
  /** The message's `Time` (Unix seconds), for the Date header; 1982-08-13 when absent or ≤ 0. */
  readonly time?: number;
}

/**
 * The literal stored for a message that could not be built (the bridge's
 * `newFailedMessageLiteral`): subject "Message failed to build" and a base64 text body naming the
 * original subject, the error and the message ID.
 */
export function buildPlaceholder(
  id: string,
  subject: string,
  error: string,
  options: PlaceholderOptions = {},
): Uint8Array {
  const date = formatRfc822(messageDate(options.time ?? 0));
  const text =
    `Failed to build message: \nSubject:   ${subject}\nError:     ${error}\nMessageID: ${id}\n`;
  const b64 = base64Encode(utf8Encode(text));
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return new ByteWriter()
    .binary(`Date: ${date}\r\nSubject: Message failed to build\r\n`)
    .binary("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    .binary(lines.join("\r\n"))
    .finish();
}
