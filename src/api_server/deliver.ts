/**
 * Building a message as the real service stores it when mail arrives (or, for seeding, when the
 * user sent or drafted it): metadata, the raw `Header` and `ParsedHeaders` of the original mail,
 * the body encrypted to the address key (signed by the sender when the sender is one of this
 * server's addresses, or by the user for sent mail), and each attachment encrypted to the address
 * key and split into key packets and data packet.
 *
 * The shapes follow proton-api.md §3.2–§3.4, which describes what a client builds from them:
 * - plain text / HTML: `MIMEType` `text/plain` or `text/html`, `Body` the text alone;
 *   attachments are separate objects, inline ones with a `content-id` in their `Headers`;
 * - PGP/MIME: `MIMEType` `multipart/mixed`, `Body` a complete MIME entity (header + body) with
 *   the text and the attachments inside, and no attachment objects; the top-level header keeps the
 *   original `Content-Type: multipart/encrypted`.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { encryptAndSplit, encryptMessage, signDetached } from "../crypto/mod.ts";
import { encodeBase64 } from "./_base64.ts";
import type { AddressInfo } from "./directory.ts";
import { ApiServerError } from "./http.ts";
import { ErrorCode, MessageFlag, SystemLabel } from "../api/types.ts";
import type { Bool, EmailAddress, ParsedHeaders } from "../api/types.ts";

/** An attachment of a message to deliver. */
export interface DeliverAttachment {
  /** File name (any Unicode). */
  Name: string;
  /** Media type, e.g. `application/pdf`. */
  MIMEType: string;
  /** The plaintext bytes. */
  Data: Uint8Array;
  /** `attachment` (default) or `inline` (then `ContentID` is required). */
  Disposition?: string;
  /** Content-ID without angle brackets, for inline images referenced as `cid:…`. */
  ContentID?: string;
}

/** What to deliver (field names PascalCase like the control API that carries them). */
export interface DeliverInput {
  /**
   * Received mail: the recipient address (one of the user's; default the first).
   * Sent mail and drafts: ignored (the sender address is `From.Address` if it is the user's).
   */
  To?: string;
  /** The sender. */
  From: EmailAddress;
  /** Visible recipients; default: the `To` address with its display name. */
  ToList?: EmailAddress[];
  CCList?: EmailAddress[];
  BCCList?: EmailAddress[];
  /** Reply-To; default: none (the sender). */
  ReplyTo?: EmailAddress;
  Subject: string;
  /** Plain-text body. */
  Text?: string;
  /** HTML body; when given it is the stored body (`text/html`). */
  HTML?: string;
  Attachments?: DeliverAttachment[];
  /** Deliver as PGP/MIME (encrypted by the sender, MIME entity as body). */
  PGPMIME?: boolean;
  /** Labels/folders to apply on arrival (a location or folder moves it there). */
  LabelIDs?: string[];
  /** Default 1 for received mail, 0 for sent mail and drafts. */
  Unread?: boolean;
  /** Unix seconds; default now. */
  Time?: number;
  /** The Message-ID without angle brackets; generated when absent (drafts: none). */
  ExternalID?: string;
  /** Extra header fields (e.g. `In-Reply-To`, `References`), placed before `MIME-Version`. */
  Headers?: Record<string, string>;
  /** `received` (default), `sent` or `draft`. */
  Kind?: "received" | "sent" | "draft";
  /** Extra `Flags` bits (Replied, Forwarded…). */
  Flags?: number;
}

/** An encrypted attachment ready to store. */
export interface BuiltAttachment {
  Name: string;
  MIMEType: string;
  Disposition: string;
  Headers: ParsedHeaders;
  /** Base64 of the key packets. */
  KeyPackets: string;
  /** Armored detached signature, or "". */
  Signature: string;
  /** The binary data packet. */
  DataPacket: Uint8Array;
}

/** A built, encrypted message ready to store. */
export interface BuiltMessage {
  AddressID: string;
  ExternalID: string;
  Subject: string;
  Sender: EmailAddress;
  ToList: EmailAddress[];
  CCList: EmailAddress[];
  BCCList: EmailAddress[];
  ReplyTos: EmailAddress[];
  Flags: number;
  Time: number;
  Unread: Bool;
  MIMEType: string;
  Header: string;
  ParsedHeaders: ParsedHeaders;
  /** Armored encrypted body. */
  Body: string;
  Attachments: BuiltAttachment[];
  /** The location before `LabelIDs` are applied. */
  Location: string;
  LabelIDs: string[];
  /** Drafts: the message replied to or forwarded. */
  ParentID?: string;
  /** Drafts: the `Action` of draft creation (0 reply, 1 reply all, 2 forward…). */
  DraftAction?: number;
}

/** Keys and clock for {@link buildMessage}. */
export interface BuildContext {
  /** The user's address the message belongs to. */
  address: AddressInfo;
  /** Its unlocked key: bodies and attachments are encrypted to it (and sent mail signed). */
  addressKey: openpgp.PrivateKey;
  /** The sender's unlocked key when the sender is an address of this server. */
  senderKey?: openpgp.PrivateKey;
  /** Unix seconds. */
  now(): number;
}

const SERVER_HOST = "mail.reference.test";
const CRLF = "\r\n";

function bad(message: string): ApiServerError {
  return new ApiServerError(422, ErrorCode.InvalidValue, message);
}

function checkAddress(a: unknown, what: string): EmailAddress {
  const v = a as EmailAddress | undefined;
  if (!v || typeof v.Address !== "string" || !v.Address.includes("@")) {
    throw bad(`${what} needs an Address`);
  }
  return { Name: typeof v.Name === "string" ? v.Name : "", Address: v.Address };
}

function checkList(list: unknown, what: string): EmailAddress[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw bad(`${what} must be a list`);
  return list.map((a) => checkAddress(a, what));
}

/**
 * Builds and encrypts one message.
 *
 * @throws {ApiServerError} 422 2001 for missing sender/subject, bad attachments or inline
 * attachments without a Content-ID (go-proton-api refuses those too).
 */
export async function buildMessage(input: DeliverInput, ctx: BuildContext): Promise<BuiltMessage> {
  const kind = input.Kind ?? "received";
  if (kind !== "received" && kind !== "sent" && kind !== "draft") throw bad(`Unknown Kind ${kind}`);
  if (typeof input.Subject !== "string") throw bad("Subject is required");
  const self: EmailAddress = { Name: ctx.address.DisplayName, Address: ctx.address.Email };
  const from = kind === "received" ? checkAddress(input.From, "From") : {
    Name: input.From?.Name ?? self.Name,
    Address: self.Address,
  };
  const toList = input.ToList !== undefined
    ? checkList(input.ToList, "ToList")
    : kind === "received"
    ? [self]
    : [];
  const ccList = checkList(input.CCList, "CCList");
  const bccList = checkList(input.BCCList, "BCCList");
  const replyTo = input.ReplyTo ? checkAddress(input.ReplyTo, "ReplyTo") : undefined;
  const attachments = (input.Attachments ?? []).map(checkAttachment);
  const time = input.Time ?? ctx.now();
  if (!Number.isInteger(time) || time < 0) throw bad("Time must be Unix seconds");
  const externalID = input.ExternalID ??
    (kind === "draft" ? "" : `${crypto.randomUUID()}@${domainOf(from.Address)}`);
  const internal = kind === "received" && ctx.senderKey !== undefined;
  const pgpMime = input.PGPMIME === true;

  let flags = input.Flags ?? 0;
  let location: string;
  if (kind === "received") {
    flags |= MessageFlag.Received;
    if (internal) flags |= MessageFlag.Internal | MessageFlag.E2E;
    else flags |= MessageFlag.DMARCPass;
    if (pgpMime) flags |= MessageFlag.E2E;
    location = SystemLabel.Inbox;
  } else if (kind === "sent") {
    flags |= MessageFlag.Sent;
    location = SystemLabel.Sent;
  } else {
    location = SystemLabel.Drafts;
  }

  const seed = externalID || `${time}|${input.Subject}`;
  const text = input.Text ?? "";
  const html = input.HTML;
  let mimeType: string;
  let plaintext: string;
  let topContentType: string;
  if (pgpMime) {
    mimeType = "multipart/mixed";
    plaintext = mimeEntity(text, html, attachments, seed);
    topContentType = `multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${
      boundary(seed, "enc")
    }"`;
  } else {
    mimeType = html !== undefined ? "text/html" : "text/plain";
    plaintext = html ?? text;
    topContentType = originalContentType(text, html, attachments, seed);
  }

  const header = new HeaderBuilder();
  if (kind === "received" && !internal) {
    const ip = `198.51.100.${parseInt(hashHex(seed).slice(0, 2), 16) % 250 + 1}`;
    const fromHost = `mail.${domainOf(from.Address)}`;
    header.add("Return-Path", `<${from.Address}>`);
    header.add("X-Original-To", self.Address);
    header.add("Delivered-To", self.Address);
    header.add(
      "Received",
      `from ${fromHost} (${fromHost} [${ip}]) by ${SERVER_HOST} with ESMTPS id ${
        hashHex(seed + "id").slice(0, 12).toUpperCase()
      } for <${self.Address}>; ${rfc5322Date(time)}`,
    );
    header.add(
      "Received",
      `from [10.0.${parseInt(hashHex(seed).slice(2, 4), 16)}.7] by ${fromHost} with ESMTPSA; ${
        rfc5322Date(time - 2)
      }`,
    );
    header.add(
      "Authentication-Results",
      `${SERVER_HOST}; dkim=pass header.d=${
        domainOf(from.Address)
      }; spf=pass smtp.mailfrom=${from.Address}; dmarc=pass header.from=${domainOf(from.Address)}`,
    );
  }
  header.add("Date", rfc5322Date(time));
  header.add("From", formatAddress(from));
  if (toList.length) header.add("To", toList.map(formatAddress).join(", "));
  if (ccList.length) header.add("Cc", ccList.map(formatAddress).join(", "));
  if (replyTo) header.add("Reply-To", formatAddress(replyTo));
  header.add("Subject", encodeHeaderText(input.Subject));
  if (externalID) header.add("Message-ID", `<${externalID}>`);
  for (const [k, v] of Object.entries(input.Headers ?? {})) {
    if (typeof v !== "string" || /[\r\n]/.test(k + v) || !/^[!-9;-~]+$/.test(k)) {
      throw bad(`Invalid header ${k}`);
    }
    header.add(k, v);
  }
  header.add("MIME-Version", "1.0");
  header.add("Content-Type", topContentType);
  if (kind === "received") {
    header.add("X-Pm-Origin", internal ? "internal" : "external");
    header.add("X-Pm-Content-Encryption", internal || pgpMime ? "end-to-end" : "on-delivery");
    header.add("X-Pm-Spamscore", "0");
  } else {
    header.add("X-Pm-Origin", "internal");
    header.add("X-Pm-Content-Encryption", "end-to-end");
  }

  const encryptionKey = publicOf(ctx.addressKey);
  const signer = kind === "sent" ? ctx.addressKey : internal ? ctx.senderKey : undefined;
  const [body, built] = await Promise.all([
    encryptMessage({
      data: plaintext,
      encryptionKeys: [encryptionKey],
      signingKeys: signer ? [signer] : undefined,
    }),
    pgpMime ? Promise.resolve([]) : Promise.all(attachments.map(async (a) => {
      // Stored attachments carry an armored detached signature (empty for external senders),
      // never an embedded one: the data packet must decrypt to exactly the file.
      const [enc, signature] = await Promise.all([
        encryptAndSplit(a.Data, encryptionKey),
        signer ? signDetached(a.Data, signer, { armor: true }) : Promise.resolve(""),
      ]);
      const headers: ParsedHeaders = {
        "content-disposition": a.Disposition === "inline"
          ? "inline"
          : `attachment; ${filenameParam(a.Name)}`,
      };
      if (a.ContentID) headers["content-id"] = `<${a.ContentID}>`;
      return {
        Name: a.Name,
        MIMEType: a.MIMEType,
        Disposition: a.Disposition,
        Headers: headers,
        KeyPackets: encodeBase64(enc.keyPackets),
        Signature: signature,
        DataPacket: enc.dataPacket,
      };
    })),
  ]);

  return {
    AddressID: ctx.address.ID,
    ExternalID: externalID,
    Subject: input.Subject,
    Sender: from,
    ToList: toList,
    CCList: ccList,
    BCCList: bccList,
    ReplyTos: [replyTo ?? from],
    Flags: flags >>> 0,
    Time: time,
    Unread: (input.Unread ?? kind === "received") ? 1 : 0,
    MIMEType: mimeType,
    Header: header.raw(),
    ParsedHeaders: header.parsed(),
    Body: body,
    Attachments: built,
    Location: location,
    LabelIDs: input.LabelIDs ?? [],
  };
}

function checkAttachment(a: DeliverAttachment): Required<DeliverAttachment> {
  if (!a || typeof a.Name !== "string" || a.Name === "") throw bad("Attachment Name is required");
  if (typeof a.MIMEType !== "string" || !/^[\w.+-]+\/[\w.+-]+/.test(a.MIMEType)) {
    throw bad(`Attachment ${a.Name}: invalid MIMEType`);
  }
  if (!(a.Data instanceof Uint8Array)) throw bad(`Attachment ${a.Name}: no data`);
  const disposition = a.Disposition ?? "attachment";
  if (disposition !== "attachment" && disposition !== "inline") {
    throw bad("The Disposition only allows 'attachment', or 'inline'");
  }
  if (disposition === "inline" && !a.ContentID) {
    throw bad("The 'inline' Disposition is only allowed with Content ID");
  }
  return { ...a, Disposition: disposition, ContentID: a.ContentID ?? "" };
}

const publicKeys = new WeakMap<openpgp.PrivateKey, openpgp.PublicKey>();

function publicOf(key: openpgp.PrivateKey): openpgp.PublicKey {
  let pub = publicKeys.get(key);
  if (!pub) publicKeys.set(key, pub = key.toPublic());
  return pub;
}

// ---------------------------------------------------------------------------------------------
// Header text
// ---------------------------------------------------------------------------------------------

/** Header fields in order, for `Header` (raw, CRLF) and `ParsedHeaders`. */
export class HeaderBuilder {
  #fields: [string, string][] = [];

  /** Appends a field (the value must already be encoded for the wire). */
  add(name: string, value: string) {
    this.#fields.push([name, value]);
  }

  /** The raw header block, one `Name: value` line per field, CRLF-terminated. */
  raw(): string {
    return this.#fields.map(([k, v]) => `${k}: ${v}${CRLF}`).join("");
  }

  /** `ParsedHeaders`: name → value, or values when the field repeats, in order. */
  parsed(): ParsedHeaders {
    const out: ParsedHeaders = {};
    for (const [k, v] of this.#fields) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
}

const PRINTABLE_REGEXP = /^[\x20-\x7e]*$/;
const ATOM_REGEXP = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*$/;

/** RFC 2047 B-encoded words for non-ASCII text (each word ≤ 75 characters). */
export function encodeHeaderText(text: string): string {
  if (PRINTABLE_REGEXP.test(text)) return text;
  const words: string[] = [];
  let chunk = "";
  const enc = new TextEncoder();
  for (const ch of text) {
    if (enc.encode(chunk + ch).length > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${encodeBase64(enc.encode(w))}?=`).join(" ");
}

/** `Name <address>` with the name quoted or encoded as needed; the bare address without a name. */
export function formatAddress(a: EmailAddress): string {
  if (!a.Name) return a.Address;
  let name: string;
  if (!PRINTABLE_REGEXP.test(a.Name)) name = encodeHeaderText(a.Name);
  else if (ATOM_REGEXP.test(a.Name)) name = a.Name;
  else name = `"${a.Name.replace(/(["\\])/g, "\\$1")}"`;
  return `${name} <${a.Address}>`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 5322 date in UTC: `Tue, 05 Mar 2024 10:20:00 +0000`. */
export function rfc5322Date(unix: number): string {
  const d = new Date(unix * 1000);
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${
    MONTHS[d.getUTCMonth()]
  } ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${
    p2(d.getUTCSeconds())
  } +0000`;
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1) || "example.com";
}

/** A short deterministic hex hash (FNV-1a, 64 bits as two 32-bit halves). */
function hashHex(s: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}

function boundary(seed: string, which: string): string {
  return `----=_Part_${which}_${hashHex(seed + which)}`;
}

/** `filename="…"` for ASCII names, RFC 2231 `filename*=UTF-8''…` otherwise. */
function filenameParam(name: string, param = "filename"): string {
  if (PRINTABLE_REGEXP.test(name) && !/["\\]/.test(name)) return `${param}="${name}"`;
  return `${param}*=UTF-8''${
    encodeURIComponent(name).replace(/['()*]/g, (c) =>
      `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  }`;
}

/** The top-level Content-Type the original (non-PGP) mail had. */
function originalContentType(
  text: string,
  html: string | undefined,
  attachments: Required<DeliverAttachment>[],
  seed: string,
): string {
  if (attachments.some((a) => a.Disposition === "attachment")) {
    return `multipart/mixed; boundary="${boundary(seed, "mixed")}"`;
  }
  if (attachments.length) return `multipart/related; boundary="${boundary(seed, "related")}"`;
  if (html !== undefined && text !== "") {
    return `multipart/alternative; boundary="${boundary(seed, "alt")}"`;
  }
  return `${html !== undefined ? "text/html" : "text/plain"}; charset=utf-8`;
}

// ---------------------------------------------------------------------------------------------
// PGP/MIME body
// ---------------------------------------------------------------------------------------------

function wrap76(b64: string): string {
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(CRLF);
}

function textPart(type: string, content: string): string {
  // 7bit only when it is: printable ASCII in lines of at most 998 octets (RFC 5322 §2.1.1).
  const short = content.split(/\r\n|\n/).every((line) => line.length <= 998);
  if (short && PRINTABLE_REGEXP.test(content.replace(/[\r\n\t]/g, ""))) {
    return `Content-Type: ${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: 7bit${CRLF}${CRLF}${content}`;
  }
  return `Content-Type: ${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${
    wrap76(encodeBase64(new TextEncoder().encode(content)))
  }`;
}

function multipart(type: string, b: string, parts: string[]): string {
  return `Content-Type: ${type}; boundary="${b}"${CRLF}${CRLF}` +
    parts.map((p) => `--${b}${CRLF}${p}${CRLF}`).join("") + `--${b}--${CRLF}`;
}

/** The complete MIME entity a PGP/MIME sender encrypted: text (and HTML) plus attachments. */
function mimeEntity(
  text: string,
  html: string | undefined,
  attachments: Required<DeliverAttachment>[],
  seed: string,
): string {
  const body = html === undefined
    ? textPart("text/plain", text)
    : text === ""
    ? textPart("text/html", html)
    : multipart("multipart/alternative", boundary(seed, "inner-alt"), [
      textPart("text/plain", text),
      textPart("text/html", html),
    ]);
  const parts = [body];
  for (const a of attachments) {
    let h = `Content-Type: ${a.MIMEType}; ${filenameParam(a.Name, "name")}${CRLF}` +
      `Content-Disposition: ${a.Disposition}; ${filenameParam(a.Name)}${CRLF}`;
    if (a.ContentID) h += `Content-ID: <${a.ContentID}>${CRLF}`;
    parts.push(
      `${h}Content-Transfer-Encoding: base64${CRLF}${CRLF}${wrap76(encodeBase64(a.Data))}`,
    );
  }
  return multipart("multipart/mixed", boundary(seed, "inner"), parts);
}
