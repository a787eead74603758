/**
 * Drafts on the reference server (proton-api.md §1.6, §1.9; go-proton-api `server/messages.go`,
 * `server/attachments.go`, `server/backend/api.go`):
 *
 * - creation (`POST /mail/v4/messages` without the override header) `{Message: DraftTemplate,
 *   AttachmentKeyPackets, ParentID?, Action}`: the address comes from `Sender.Address` (a `+tag`
 *   is allowed and kept on the Sender), the `Body` must be an armored PGP message that the
 *   address key opens, `MIMEType` is `text/plain` or `text/html`. Stored in Drafts (labels 1, 5,
 *   8) with no Received/Sent flag; one Create event.
 * - update (`PUT /mail/v4/messages/{id}`) `{Message, AttachmentKeyPackets}`: drafts only; an empty
 *   `Body`, `MIMEType` or `ExternalID` keeps the old one (as the fake's `applyChanges`); one
 *   Update event.
 * - attachment upload (`POST /mail/v4/attachments`, multipart): `MessageID` (a draft), `Filename`,
 *   `MIMEType`, `Disposition` (`attachment` or `inline`; inline needs `ContentID`, as the fake
 *   refuses it), `ContentID`, and the files `KeyPackets`, `DataPacket`, `Signature`. The key
 *   packets must open with the draft address' key and decrypt the data packet; the signature,
 *   stored armored, must be a signature. One Update event for the draft.
 *
 * `AttachmentKeyPackets` is checked for shape (a list of base64 strings, or null) and otherwise
 * ignored: this server does not copy a parent's attachments into forwards.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import {
  armorSignature,
  CryptoError,
  decryptSessionKey,
  decryptWithSessionKey,
  listPackets,
  readSignature,
} from "../crypto/mod.ts";
import { encodeBase64 } from "./_base64.ts";
import { type Body, invalidValue, optBool, optInt, optString } from "./_mail_request.ts";
import { formBytes, formText, requireBytes } from "./_form.ts";
import { encodeHeaderText, formatAddress, HeaderBuilder, rfc5322Date } from "./deliver.ts";
import type { AddressInfo } from "./directory.ts";
import { ApiServerError } from "./http.ts";
import type { MailBackend, StoredMessage } from "./mail_backend.ts";
import { isDraft } from "./mail_model.ts";
import { DraftAction, ErrorCode, SystemLabel } from "../api/types.ts";
import type { Attachment, EmailAddress, Message, ParsedHeaders } from "../api/types.ts";

const TEXT_TYPES = new Set(["text/plain", "text/html"]);

function notFound(what: string): ApiServerError {
  return new ApiServerError(422, ErrorCode.NotFound, `${what} does not exist`);
}

/** The address `email` names among the user's addresses: exact, else without its `+tag`. */
export function resolveSenderAddress(
  mail: MailBackend,
  userID: string,
  email: string,
): AddressInfo {
  const addresses = mail.accounts.addresses(userID);
  const lower = email.toLowerCase();
  const exact = addresses.find((a) => a.Email.toLowerCase() === lower);
  if (exact) return exact;
  const untagged = lower.replace(/^([^@+]*)\+[^@]*@/, "$1@");
  const found = addresses.find((a) => a.Email.toLowerCase() === untagged);
  if (!found) throw invalidValue(`${email} is not an address of this account`);
  return found;
}

/** A `{Name, Address}`; `what` names the field in errors. */
export function emailAddress(v: unknown, what: string): EmailAddress {
  const a = v as Partial<EmailAddress> | null;
  if (!a || typeof a !== "object" || typeof a.Address !== "string" || !a.Address.includes("@")) {
    throw invalidValue(`${what} needs an Address`);
  }
  if (a.Name !== undefined && a.Name !== null && typeof a.Name !== "string") {
    throw invalidValue(`${what}: Name must be a string`);
  }
  return { Name: a.Name ?? "", Address: a.Address };
}

function addressList(v: unknown, what: string): EmailAddress[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalidValue(`${what} must be a list of addresses`);
  return v.map((a) => emailAddress(a, what));
}

/** The fields of a DraftTemplate; absent fields are `undefined`. */
interface TemplateFields {
  Subject?: string;
  Sender: EmailAddress;
  ToList?: EmailAddress[];
  CCList?: EmailAddress[];
  BCCList?: EmailAddress[];
  Body?: string;
  MIMEType?: string;
  Unread?: boolean;
  ExternalID?: string;
}

function parseTemplate(body: Body): TemplateFields {
  const t = body.Message;
  if (!t || typeof t !== "object" || Array.isArray(t)) throw invalidValue("Message is required");
  const m = t as Body;
  if (m.Sender === undefined || m.Sender === null) throw invalidValue("the Sender is required");
  const mimeType = optString(m, "MIMEType");
  if (mimeType && !TEXT_TYPES.has(mimeType)) {
    throw invalidValue("the MIMEType must be text/plain or text/html");
  }
  const aks = body.AttachmentKeyPackets;
  if (
    aks !== undefined && aks !== null &&
    (!Array.isArray(aks) || !aks.every((k) => typeof k === "string"))
  ) throw invalidValue("AttachmentKeyPackets must be a list of base64 strings or null");
  return {
    Subject: optString(m, "Subject"),
    Sender: emailAddress(m.Sender, "Sender"),
    ToList: addressList(m.ToList, "ToList"),
    CCList: addressList(m.CCList, "CCList"),
    BCCList: addressList(m.BCCList, "BCCList"),
    Body: optString(m, "Body"),
    MIMEType: mimeType || undefined,
    Unread: optBool(m, "Unread"),
    ExternalID: optString(m, "ExternalID") || undefined,
  };
}

/** Checks that `armored` is a PGP message whose session key `key` opens. */
async function checkBody(armored: string, key: openpgp.PrivateKey): Promise<void> {
  if (!armored.includes("-----BEGIN PGP MESSAGE-----")) {
    throw invalidValue("the Body must be an armored PGP message");
  }
  try {
    await decryptSessionKey(new TextEncoder().encode(armored), [key]);
  } catch (err) {
    if (err instanceof CryptoError) {
      throw invalidValue(
        err.kind === "wrong-key"
          ? "the Body is not encrypted to the sender address' key"
          : `the Body is not a valid PGP message (${err.message})`,
      );
    }
    throw err;
  }
}

/** What a message's header is built from. */
export interface HeaderInput {
  Time: number;
  Sender: EmailAddress;
  ToList: EmailAddress[];
  CCList: EmailAddress[];
  /** Only for the sender's own copy (drafts, Sent); recipients never see it. */
  BCCList?: EmailAddress[];
  Subject: string;
  ExternalID: string;
  MIMEType: string;
  /** The parent's RFC Message-ID (replies and forwards), without angle brackets. */
  InReplyTo?: string;
  /** X-Pm-Origin / X-Pm-Content-Encryption are added for internal mail. */
  Internal?: boolean;
}

/** The raw `Header` and `ParsedHeaders` of a draft, sent or internally received message. */
export function messageHeader(h: HeaderInput): { Header: string; ParsedHeaders: ParsedHeaders } {
  const b = new HeaderBuilder();
  b.add("Date", rfc5322Date(h.Time));
  b.add("From", formatAddress(h.Sender));
  if (h.ToList.length) b.add("To", h.ToList.map(formatAddress).join(", "));
  if (h.CCList.length) b.add("Cc", h.CCList.map(formatAddress).join(", "));
  if (h.BCCList?.length) b.add("Bcc", h.BCCList.map(formatAddress).join(", "));
  b.add("Subject", encodeHeaderText(h.Subject));
  if (h.ExternalID) b.add("Message-ID", `<${h.ExternalID}>`);
  if (h.InReplyTo) {
    b.add("In-Reply-To", `<${h.InReplyTo}>`);
    b.add("References", `<${h.InReplyTo}>`);
  }
  b.add("MIME-Version", "1.0");
  b.add(
    "Content-Type",
    h.MIMEType === "multipart/mixed" ? h.MIMEType : `${h.MIMEType}; charset=utf-8`,
  );
  b.add("X-Pm-Origin", "internal");
  b.add("X-Pm-Content-Encryption", "end-to-end");
  return { Header: b.raw(), ParsedHeaders: b.parsed() };
}

/** The parent's ExternalID, when the draft has a parent that still exists. */
function parentExternalID(mail: MailBackend, userID: string, m: { ParentID?: string }): string {
  return m.ParentID ? mail.findMessage(userID, m.ParentID)?.ExternalID ?? "" : "";
}

/**
 * Creates a draft.
 *
 * @throws {ApiServerError} 422 2001 for a bad template, an unknown sender address or a body the
 * address key cannot open; 422 2501 for an unknown `ParentID`.
 */
export async function createDraft(mail: MailBackend, userID: string, body: Body): Promise<Message> {
  const t = parseTemplate(body);
  const parentID = optString(body, "ParentID") || undefined;
  if (parentID && !mail.findMessage(userID, parentID)) throw notFound("Parent message");
  const action = optInt(body, "Action") ?? DraftAction.Reply;
  if (action < DraftAction.Reply || action > DraftAction.ReadReceipt) {
    throw invalidValue(`invalid Action ${action}`);
  }
  const address = resolveSenderAddress(mail, userID, t.Sender.Address);
  if (!t.Body) throw invalidValue("the Body is required");
  await checkBody(t.Body, await mail.accounts.addressKey(address.ID));
  const sender = { Name: t.Sender.Name || address.DisplayName, Address: t.Sender.Address };
  const time = mail.now();
  const mimeType = t.MIMEType ?? "text/html";
  const fields = {
    Sender: sender,
    ToList: t.ToList ?? [],
    CCList: t.CCList ?? [],
    BCCList: t.BCCList ?? [],
    Subject: t.Subject ?? "",
    ExternalID: t.ExternalID ?? "",
  };
  const [id] = mail.insert(userID, [{
    ...fields,
    AddressID: address.ID,
    ReplyTos: [sender],
    Flags: 0,
    Time: time,
    Unread: t.Unread ? 1 : 0,
    MIMEType: mimeType,
    ...messageHeader({
      ...fields,
      Time: time,
      MIMEType: mimeType,
      InReplyTo: parentExternalID(mail, userID, { ParentID: parentID }),
    }),
    Body: t.Body,
    Attachments: [],
    Location: SystemLabel.Drafts,
    LabelIDs: [],
    ParentID: parentID,
    DraftAction: action,
  }]);
  return mail.getMessage(userID, id);
}

/** The stored draft `id`, or the API's errors for an unknown message or a non-draft. */
export function requireDraft(mail: MailBackend, userID: string, id: string): StoredMessage {
  const m = mail.findMessage(userID, id);
  if (!m) throw notFound("Message");
  if (!isDraft(m.Flags)) throw invalidValue("Message is not a draft");
  return m;
}

/**
 * Updates a draft.
 *
 * @throws {ApiServerError} 422 2501 for an unknown message, 422 2001 for a non-draft or a bad
 * template.
 */
export async function updateDraft(
  mail: MailBackend,
  userID: string,
  id: string,
  body: Body,
): Promise<Message> {
  requireDraft(mail, userID, id);
  const t = parseTemplate(body);
  const address = resolveSenderAddress(mail, userID, t.Sender.Address);
  if (t.Body) await checkBody(t.Body, await mail.accounts.addressKey(address.ID));
  const now = mail.now();
  mail.editMessages(userID, [{
    ID: id,
    Body: t.Body || undefined,
    apply(m) {
      m.AddressID = address.ID;
      m.Sender = { Name: t.Sender.Name || address.DisplayName, Address: t.Sender.Address };
      m.ReplyTos = [m.Sender];
      if (t.Subject !== undefined) m.Subject = t.Subject;
      if (t.ToList) m.ToList = t.ToList;
      if (t.CCList) m.CCList = t.CCList;
      if (t.BCCList) m.BCCList = t.BCCList;
      if (t.MIMEType) m.MIMEType = t.MIMEType;
      if (t.ExternalID) m.ExternalID = t.ExternalID;
      if (t.Unread !== undefined) m.Unread = t.Unread ? 1 : 0;
      m.Time = now;
      Object.assign(m, messageHeader({ ...m, InReplyTo: parentExternalID(mail, userID, m) }));
    },
  }]);
  return mail.getMessage(userID, id);
}

const KEY_PACKET_TAGS = new Set([1, 3]);
const DATA_PACKET_TAGS = new Set([9, 18, 20]);

function packetsOf(bytes: Uint8Array, what: string, tags: Set<number>): void {
  let spans;
  try {
    spans = listPackets(bytes);
  } catch {
    throw invalidValue(`${what} is not OpenPGP data`);
  }
  if (spans.length === 0 || !spans.every((s) => tags.has(s.tag))) {
    throw invalidValue(`${what} does not hold the expected OpenPGP packets`);
  }
}

/**
 * Stores an uploaded attachment on a draft (`POST /mail/v4/attachments`).
 *
 * @throws {ApiServerError} 422 2001 for missing or bad fields (including inline without a
 * Content-ID), key packets the draft address' key cannot open, a data packet they do not
 * decrypt, or a signature that is not one; 422 2501 for an unknown draft.
 */
export async function uploadAttachment(
  mail: MailBackend,
  userID: string,
  form: FormData,
): Promise<Attachment> {
  const messageID = await formText(form, "MessageID");
  if (!messageID) throw invalidValue("MessageID is required");
  const draft = requireDraft(mail, userID, messageID);
  const filename = (await formText(form, "Filename")) ?? "";
  if (filename === "") throw invalidValue("Filename is required");
  const mimeType = (await formText(form, "MIMEType")) || "application/octet-stream";
  if (!/^[\w.+-]+\/[\w.+-]+/.test(mimeType)) throw invalidValue(`invalid MIMEType ${mimeType}`);
  const disposition = (await formText(form, "Disposition")) || "attachment";
  if (disposition !== "attachment" && disposition !== "inline") {
    throw invalidValue("The Disposition only allows 'attachment', or 'inline'");
  }
  const contentID = ((await formText(form, "ContentID")) ?? "").trim().replace(/^<|>$/g, "");
  if (disposition === "inline" && !contentID) {
    throw invalidValue("The 'inline' Disposition is only allowed with Content ID");
  }
  const keyPackets = await requireBytes(form, "KeyPackets");
  const dataPacket = await requireBytes(form, "DataPacket");
  const signatureBytes = await formBytes(form, "Signature");
  packetsOf(keyPackets, "KeyPackets", KEY_PACKET_TAGS);
  packetsOf(dataPacket, "DataPacket", DATA_PACKET_TAGS);
  const key = await mail.accounts.addressKey(draft.AddressID);
  try {
    const sk = await decryptSessionKey(keyPackets, [key]);
    await decryptWithSessionKey(dataPacket, sk);
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    throw invalidValue(
      err.kind === "wrong-key"
        ? "KeyPackets do not open with the draft address' key"
        : "DataPacket does not decrypt with the session key of KeyPackets",
    );
  }
  let signature = "";
  if (signatureBytes && signatureBytes.length > 0) {
    try {
      await readSignature(signatureBytes);
      signature = await armorSignature(signatureBytes);
    } catch {
      throw invalidValue("Signature is not an OpenPGP signature");
    }
  }
  const headers: ParsedHeaders = {
    "content-disposition": disposition === "inline" ? "inline" : "attachment",
  };
  if (contentID) headers["content-id"] = `<${contentID}>`;
  return mail.addAttachment(userID, messageID, {
    Name: filename,
    MIMEType: mimeType,
    Disposition: disposition,
    Headers: headers,
    KeyPackets: encodeBase64(keyPackets),
    Signature: signature,
    DataPacket: dataPacket,
  });
}
