/**
 * Sending a draft on the reference server: `POST /mail/v4/messages/{id}` `{Packages}` →
 * `{Sent: Message}` (proton-api.md §1.10; go-proton-api `server/backend/api.go` `SendMessage`).
 *
 * Every package is checked before anything changes; a malformed one is refused with 422 Code 2001
 * and an `Error` that says what is wrong:
 * - shape: `Addresses` (email → `{Type, Signature, BodyKeyPacket?, AttachmentKeyPackets?}`),
 *   `MIMEType` (`text/plain`, `text/html`, `multipart/mixed`), `Type` = OR of the recipients'
 *   schemes, `Body` (base64 data packet), `BodyKey?`/`AttachmentKeys?` (`{Key, Algorithm}`);
 * - scheme rules: `multipart/mixed` packages hold only PGPMIME/ClearMIME recipients, text packages
 *   only Internal/Clear/PGPInline (PGPInline only `text/plain`); encrypting recipients
 *   (Internal, PGPInline, PGPMIME) carry a `BodyKeyPacket` and a detached signature flag, and in
 *   text packages an `AttachmentKeyPackets` entry for every attachment of the draft;
 * - clear keys: the package carries `BodyKey` exactly when a Clear/ClearMIME recipient needs it,
 *   and `AttachmentKeys` (for every attachment) exactly when a Clear recipient of a text package
 *   needs them — a session key in clear that nobody needs is refused;
 * - every recipient of the draft (To, Cc, Bcc) has exactly one package entry, and nobody else;
 * - the sender address must be enabled and allowed to send.
 *
 * Then, for real:
 * - an **Internal** recipient must be an address of this server: its key must open the
 *   `BodyKeyPacket` and every attachment key packet, the body must decrypt and carry a valid
 *   signature of the sender; the recipient gets a new message in Inbox (Received, Internal, E2E;
 *   unread; Bcc hidden) stored as the real service stores it — the recipient's key packet joined
 *   to the package's data packet, armored, so the sender's signature stays inside — with a Create
 *   event in the recipient's feed;
 * - every other recipient is recorded in the {@link Outbox}: decrypted when the package gave the
 *   session keys in clear, ciphertext (key packet + data packet, armored) otherwise;
 * - the draft becomes the sent message in place (same ID; Sent flag; labels 2, 5, 7; `Time` now;
 *   a generated Message-ID when it had none), and a replied/forwarded parent gets IsReplied,
 *   IsRepliedAll or IsForwarded: one event in the sender's feed for both.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import {
  armorMessage,
  CryptoError,
  decryptAndVerifyWithSessionKey,
  decryptSessionKey,
  decryptWithSessionKey,
  joinMessage,
  readPublicKey,
  type SessionKey,
} from "../crypto/mod.ts";
import { decodeBase64, encodeBase64 } from "./_base64.ts";
import { type Body, invalidValue } from "./_mail_request.ts";
import type { BuiltAttachment, BuiltMessage } from "./deliver.ts";
import type { MailBackend, MessageEdit, StoredMessage } from "./mail_backend.ts";
import { messageHeader, requireDraft } from "./mail_drafts.ts";
import type { OutboxAttachment, OutboxDelivery } from "./outbox.ts";
import {
  AddressStatus,
  DraftAction,
  EncryptionScheme as S,
  EventAction,
  MessageFlag,
  SignatureType,
  SystemLabel,
} from "../api/types.ts";
import type { Attachment, Message } from "../api/types.ts";

const MIME = "multipart/mixed";
const PACKAGE_TYPES = new Set(["text/plain", "text/html", MIME]);
const ENCRYPTING = new Set<number>([S.Internal, S.PGPInline, S.PGPMIME]);
const CLEAR = new Set<number>([S.Clear, S.ClearMIME]);
const KEY_SIZES: Record<string, number> = { aes128: 16, aes192: 24, aes256: 32 };
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A recipient entry of a package, decoded. */
interface Recipient {
  email: string;
  type: number;
  signature: number;
  bodyKeyPacket?: Uint8Array;
  attachmentKeyPackets: Map<string, Uint8Array>;
}

/** A package, decoded and checked for shape. */
interface Package {
  n: number;
  mimeType: string;
  type: number;
  body: Uint8Array;
  bodyKey?: SessionKey;
  attachmentKeys: Map<string, SessionKey>;
  recipients: Recipient[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function base64(v: unknown, what: string): Uint8Array {
  if (typeof v !== "string" || v === "" || !BASE64.test(v)) {
    throw invalidValue(`${what} must be non-empty standard base64`);
  }
  return decodeBase64(v);
}

function sessionKey(v: unknown, what: string): SessionKey {
  if (!isObject(v)) throw invalidValue(`${what} must be {Key, Algorithm}`);
  const algorithm = typeof v.Algorithm === "string" ? v.Algorithm.toLowerCase() : "";
  const size = KEY_SIZES[algorithm];
  if (!size) throw invalidValue(`${what}: unsupported Algorithm ${String(v.Algorithm)}`);
  const data = base64(v.Key, `${what}.Key`);
  if (data.length !== size) throw invalidValue(`${what}: an ${algorithm} key has ${size} bytes`);
  return { data, algorithm };
}

function keyMap<T>(v: unknown, what: string, read: (x: unknown, w: string) => T): Map<string, T> {
  const out = new Map<string, T>();
  if (v === undefined || v === null) return out;
  if (!isObject(v)) throw invalidValue(`${what} must be an object keyed by attachment ID`);
  for (const [id, x] of Object.entries(v)) out.set(id, read(x, `${what}[${id}]`));
  return out;
}

function parseRecipient(email: string, v: unknown, where: string): Recipient {
  const what = `${where}.Addresses[${email}]`;
  if (!isObject(v)) throw invalidValue(`${what} must be an object`);
  const type = v.Type;
  if (typeof type !== "number" || !Object.values(S).includes(type as never)) {
    throw invalidValue(`${what}.Type must be one encryption scheme (1, 2, 4, 8, 16 or 32)`);
  }
  const signature = v.Signature ?? 0;
  if (signature !== SignatureType.None && signature !== SignatureType.Detached) {
    throw invalidValue(`${what}.Signature must be 0 or 1`);
  }
  return {
    email,
    type,
    signature,
    bodyKeyPacket: v.BodyKeyPacket === undefined || v.BodyKeyPacket === null ||
        v.BodyKeyPacket === ""
      ? undefined
      : base64(v.BodyKeyPacket, `${what}.BodyKeyPacket`),
    attachmentKeyPackets: keyMap(
      v.AttachmentKeyPackets,
      `${what}.AttachmentKeyPackets`,
      base64,
    ),
  };
}

function parsePackages(body: Body): Package[] {
  const list = body.Packages;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalidValue("Packages must be a non-empty list");
  }
  return list.map((p, n): Package => {
    const where = `Packages[${n}]`;
    if (!isObject(p)) throw invalidValue(`${where} must be an object`);
    if (typeof p.MIMEType !== "string" || !PACKAGE_TYPES.has(p.MIMEType)) {
      throw invalidValue(`${where}.MIMEType must be text/plain, text/html or multipart/mixed`);
    }
    if (!isObject(p.Addresses) || Object.keys(p.Addresses).length === 0) {
      throw invalidValue(`${where}.Addresses must name at least one recipient`);
    }
    const recipients = Object.entries(p.Addresses).map(([email, r]) =>
      parseRecipient(email, r, where)
    );
    if (typeof p.Type !== "number" || !Number.isInteger(p.Type)) {
      throw invalidValue(`${where}.Type must be an integer`);
    }
    const type = recipients.reduce((t, r) => t | r.type, 0);
    if (p.Type !== type) {
      throw invalidValue(`${where}.Type is ${p.Type}, but its recipients' schemes give ${type}`);
    }
    return {
      n,
      mimeType: p.MIMEType,
      type,
      body: base64(p.Body, `${where}.Body`),
      bodyKey: p.BodyKey === undefined || p.BodyKey === null
        ? undefined
        : sessionKey(p.BodyKey, `${where}.BodyKey`),
      attachmentKeys: keyMap(p.AttachmentKeys, `${where}.AttachmentKeys`, sessionKey),
      recipients,
    };
  });
}

/** Scheme and key-placement rules of one package (no crypto). */
function checkRules(p: Package, attachmentIDs: string[]): void {
  const where = `Packages[${p.n}]`;
  const mime = p.mimeType === MIME;
  let clearRecipient = false;
  let clearTextRecipient = false;
  for (const r of p.recipients) {
    const what = `${where}.Addresses[${r.email}]`;
    if (mime && r.type !== S.PGPMIME && r.type !== S.ClearMIME) {
      throw invalidValue(`${what}: a multipart/mixed package is for PGPMIME or ClearMIME only`);
    }
    if (!mime && (r.type === S.PGPMIME || r.type === S.ClearMIME)) {
      throw invalidValue(`${what}: PGPMIME and ClearMIME need a multipart/mixed package`);
    }
    if (r.type === S.EncryptedOutside) {
      throw invalidValue(`${what}: EncryptedOutside (password) mail is not supported`);
    }
    if (r.type === S.PGPInline && p.mimeType !== "text/plain") {
      throw invalidValue(`${what}: PGPInline needs a text/plain package`);
    }
    if (ENCRYPTING.has(r.type)) {
      if (!r.bodyKeyPacket) throw invalidValue(`${what}: BodyKeyPacket is required`);
      if (r.signature !== SignatureType.Detached) {
        throw invalidValue(`${what}: encrypted mail must be signed (Signature 1)`);
      }
      if (!mime) {
        for (const id of attachmentIDs) {
          if (!r.attachmentKeyPackets.has(id)) {
            throw invalidValue(`${what}: AttachmentKeyPackets lacks attachment ${id}`);
          }
        }
      }
    } else {
      clearRecipient = true;
      if (r.bodyKeyPacket) {
        throw invalidValue(
          `${what}: a ${
            r.type === S.Clear ? "Clear" : "ClearMIME"
          } recipient takes no BodyKeyPacket`,
        );
      }
      if (r.attachmentKeyPackets.size) {
        throw invalidValue(`${what}: a clear recipient takes no AttachmentKeyPackets`);
      }
      if (r.type === S.ClearMIME && r.signature !== SignatureType.Detached) {
        throw invalidValue(`${what}: a ClearMIME recipient must be signed (Signature 1)`);
      }
      if (r.type === S.Clear) {
        clearTextRecipient = true;
        if (r.signature === SignatureType.Detached && p.mimeType !== "text/plain") {
          throw invalidValue(`${what}: a clear-signed body must be text/plain`);
        }
      }
    }
    for (const id of r.attachmentKeyPackets.keys()) {
      if (mime || !attachmentIDs.includes(id)) {
        throw invalidValue(`${what}: AttachmentKeyPackets names unknown attachment ${id}`);
      }
    }
  }
  if (clearRecipient && !p.bodyKey) {
    throw invalidValue(`${where}: BodyKey is required for its Clear/ClearMIME recipients`);
  }
  if (!clearRecipient && p.bodyKey) {
    throw invalidValue(`${where}: BodyKey is given in clear but no recipient needs it`);
  }
  const needClearAttachments = clearTextRecipient && attachmentIDs.length > 0;
  if (!needClearAttachments && p.attachmentKeys.size) {
    throw invalidValue(`${where}: AttachmentKeys are given in clear but no recipient needs them`);
  }
  if (needClearAttachments) {
    for (const id of attachmentIDs) {
      if (!p.attachmentKeys.has(id)) {
        throw invalidValue(`${where}: AttachmentKeys lacks attachment ${id}`);
      }
    }
    for (const id of p.attachmentKeys.keys()) {
      if (!attachmentIDs.includes(id)) {
        throw invalidValue(`${where}: AttachmentKeys names unknown attachment ${id}`);
      }
    }
  }
}

/** An attachment of the draft with its data packet. */
interface DraftAttachment {
  meta: Attachment;
  data: Uint8Array;
}

/** The recipient-specific part of an outbox delivery. */
type RecipientDelivery = Pick<
  OutboxDelivery,
  | "Recipient"
  | "Scheme"
  | "Signature"
  | "MIMEType"
  | "Encrypted"
  | "Body"
  | "BodyBase64"
  | "SignatureStatus"
  | "Ciphertext"
  | "Attachments"
>;

/** A delivery prepared (and proven) before anything is stored. */
interface InternalDelivery {
  userID: string;
  message: BuiltMessage;
}

async function cryptoCheck<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CryptoError) {
      throw invalidValue(
        err.kind === "wrong-key"
          ? `${what}: the key packet does not open with the recipient's key`
          : `${what}: ${
            err.kind === "tampered" ? "the data does not decrypt with that key" : err.message
          }`,
      );
    }
    throw err;
  }
}

function contentIDOf(a: Attachment): string {
  const v = a.Headers?.["content-id"];
  return typeof v === "string" ? v.replace(/^<|>$/g, "") : "";
}

/**
 * Sends draft `draftID` of `userID` with the packages of `body`.
 *
 * @returns The sent message.
 * @throws {ApiServerError} 422 2501 for an unknown draft; 422 2001 for a non-draft, a disabled
 * sender address, or packages that are malformed or do not work (see the module text).
 */
export async function sendDraft(
  mail: MailBackend,
  userID: string,
  draftID: string,
  body: Body,
): Promise<Message> {
  const draft = requireDraft(mail, userID, draftID);
  const address = mail.accounts.addresses(userID).find((a) => a.ID === draft.AddressID);
  if (!address || address.Status !== AddressStatus.Enabled || address.Send !== 1) {
    throw invalidValue(`cannot send from address ${draft.Sender.Address}: it is disabled`);
  }
  const packages = parsePackages(body);
  const attachments: DraftAttachment[] = draft.AttachmentIDs.flatMap((id) => {
    const meta = mail.findAttachment(userID, id);
    return meta ? [{ meta, data: mail.attachmentData(userID, id) }] : [];
  });
  const attachmentIDs = attachments.map((a) => a.meta.ID);
  for (const p of packages) checkRules(p, attachmentIDs);

  // Every recipient of the draft exactly once, and nobody else.
  const wanted = new Map<string, string>();
  for (const a of [...draft.ToList, ...draft.CCList, ...draft.BCCList]) {
    wanted.set(a.Address.toLowerCase(), a.Address);
  }
  const covered = new Set<string>();
  for (const p of packages) {
    for (const r of p.recipients) {
      const key = r.email.toLowerCase();
      if (covered.has(key)) throw invalidValue(`${r.email} is in more than one package`);
      if (!wanted.has(key)) throw invalidValue(`${r.email} is not a recipient of the draft`);
      covered.add(key);
    }
  }
  for (const [key, email] of wanted) {
    if (!covered.has(key)) throw invalidValue(`no package for recipient ${email}`);
  }

  const senderKeys: openpgp.PublicKey[] = await Promise.all(
    mail.accounts.addressPublicKeys(address.ID).map((k) => readPublicKey(k)),
  );
  const now = mail.now();
  const externalID = draft.ExternalID ||
    `${crypto.randomUUID()}@${draft.Sender.Address.split("@").pop() || "reference.test"}`;
  const parent = draft.ParentID ? mail.findMessage(userID, draft.ParentID) : undefined;
  const internal: InternalDelivery[] = [];
  const outbox: RecipientDelivery[] = [];

  for (const p of packages) {
    const where = `Packages[${p.n}]`;
    let clearBody: { data: Uint8Array; signature: string } | undefined;
    if (p.bodyKey) {
      clearBody = await cryptoCheck(
        `${where}.BodyKey`,
        () => decryptAndVerifyWithSessionKey(p.body, p.bodyKey!, senderKeys),
      );
    }
    const clearAttachments = new Map<string, Uint8Array>();
    for (const [id, key] of p.attachmentKeys) {
      const att = attachments.find((a) => a.meta.ID === id)!;
      clearAttachments.set(
        id,
        await cryptoCheck(
          `${where}.AttachmentKeys[${id}]`,
          () => decryptWithSessionKey(att.data, key),
        ),
      );
    }
    for (const r of p.recipients) {
      const what = `${where}.Addresses[${r.email}]`;
      const local = mail.accounts.findAddress(r.email);
      if (r.type !== S.Internal) {
        if (local) {
          throw invalidValue(`${what}: ${r.email} is an address of this server, use Internal (1)`);
        }
        outbox.push(outboxEntry(r, p, clearBody, clearAttachments, attachments));
        continue;
      }
      if (!local) throw invalidValue(`${what}: ${r.email} is not an address of this server`);
      if (local.Status !== AddressStatus.Enabled || local.Receive !== 1) {
        throw invalidValue(`${what}: ${r.email} does not receive mail`);
      }
      const key = await mail.accounts.addressKey(local.ID);
      const sk = await cryptoCheck(
        `${what}.BodyKeyPacket`,
        () => decryptSessionKey(r.bodyKeyPacket!, [key]),
      );
      const opened = await cryptoCheck(
        `${what}.BodyKeyPacket`,
        () => decryptAndVerifyWithSessionKey(p.body, sk, senderKeys),
      );
      if (opened.signature !== "valid") {
        throw invalidValue(`${what}: the body is not signed by the sender's key`);
      }
      const built: BuiltAttachment[] = [];
      for (const a of attachments) {
        const packet = r.attachmentKeyPackets.get(a.meta.ID)!;
        const ask = await cryptoCheck(
          `${what}.AttachmentKeyPackets[${a.meta.ID}]`,
          () => decryptSessionKey(packet, [key]),
        );
        await cryptoCheck(
          `${what}.AttachmentKeyPackets[${a.meta.ID}]`,
          () => decryptWithSessionKey(a.data, ask),
        );
        built.push({
          Name: a.meta.Name,
          MIMEType: a.meta.MIMEType,
          Disposition: a.meta.Disposition,
          Headers: a.meta.Headers,
          KeyPackets: encodeBase64(packet),
          Signature: a.meta.Signature,
          DataPacket: a.data,
        });
      }
      const fields = {
        Sender: draft.Sender,
        ToList: draft.ToList,
        CCList: draft.CCList,
        Subject: draft.Subject,
        ExternalID: externalID,
      };
      internal.push({
        userID: local.UserID,
        message: {
          ...fields,
          BCCList: [],
          AddressID: local.ID,
          ReplyTos: draft.ReplyTos,
          Flags: MessageFlag.Received | MessageFlag.Internal | MessageFlag.E2E,
          Time: now,
          Unread: 1,
          MIMEType: p.mimeType,
          ...messageHeader({
            ...fields,
            Time: now,
            MIMEType: p.mimeType,
            InReplyTo: parent?.ExternalID,
          }),
          Body: armorMessage(joinMessage(r.bodyKeyPacket!, p.body)),
          Attachments: built,
          Location: SystemLabel.Inbox,
          LabelIDs: [],
        },
      });
    }
  }

  // Commit: nothing above changed any state; everything below is synchronous.
  const current = mail.findMessage(userID, draftID);
  if (!current || current.Flags & (MessageFlag.Sent | MessageFlag.Received)) {
    throw invalidValue("Message is not a draft (it was sent meanwhile)");
  }
  const byUser = new Map<string, BuiltMessage[]>();
  for (const d of internal) {
    if (!byUser.has(d.userID)) byUser.set(d.userID, []);
    byUser.get(d.userID)!.push(d.message);
  }
  for (const [recipientUser, messages] of byUser) mail.insert(recipientUser, messages);
  mail.outbox.add(outbox.map((e) => ({
    ...e,
    Time: now,
    UserID: userID,
    MessageID: draftID,
    ExternalID: externalID,
    From: draft.Sender,
    ToList: draft.ToList,
    CCList: draft.CCList,
    Subject: draft.Subject,
  })));
  const allInternal = packages.every((p) => p.recipients.every((r) => r.type === S.Internal));
  const edits: MessageEdit[] = [{
    ID: draftID,
    apply(m: StoredMessage) {
      m.Flags = (m.Flags | MessageFlag.Sent |
        (allInternal ? MessageFlag.Internal | MessageFlag.E2E : 0)) >>> 0;
      m.Location = SystemLabel.Sent;
      m.Time = now;
      m.ExternalID = externalID;
      Object.assign(
        m,
        messageHeader({ ...m, Time: now, InReplyTo: parent?.ExternalID || undefined }),
      );
      delete m.DraftAction;
    },
  }];
  const parentFlag = draft.DraftAction === DraftAction.Reply
    ? MessageFlag.Replied
    : draft.DraftAction === DraftAction.ReplyAll
    ? MessageFlag.RepliedAll
    : draft.DraftAction === DraftAction.Forward
    ? MessageFlag.Forwarded
    : 0;
  if (parent && parentFlag && mail.findMessage(userID, parent.ID)) {
    edits.push({
      ID: parent.ID,
      Action: EventAction.UpdateFlags,
      apply(m: StoredMessage) {
        m.Flags = (m.Flags | parentFlag) >>> 0;
      },
    });
  }
  mail.editMessages(userID, edits);
  return mail.getMessage(userID, draftID);
}

function outboxEntry(
  r: Recipient,
  p: Package,
  clearBody: { data: Uint8Array; signature: string } | undefined,
  clearAttachments: Map<string, Uint8Array>,
  attachments: DraftAttachment[],
): RecipientDelivery {
  const entry: RecipientDelivery = {
    Recipient: r.email,
    Scheme: r.type,
    Signature: r.signature,
    MIMEType: p.mimeType,
    Encrypted: 1,
    Attachments: [],
  };
  if (CLEAR.has(r.type) && clearBody) {
    entry.Encrypted = 0;
    entry.Body = new TextDecoder().decode(clearBody.data);
    entry.BodyBase64 = encodeBase64(clearBody.data);
    entry.SignatureStatus = clearBody.signature;
  } else {
    entry.Encrypted = 1;
    entry.Ciphertext = armorMessage(joinMessage(r.bodyKeyPacket!, p.body));
  }
  if (p.mimeType !== MIME) {
    for (const a of attachments) {
      const out: OutboxAttachment = {
        ID: a.meta.ID,
        Name: a.meta.Name,
        MIMEType: a.meta.MIMEType,
        Disposition: a.meta.Disposition,
        ContentID: contentIDOf(a.meta),
      };
      const clear = clearAttachments.get(a.meta.ID);
      if (r.type === S.Clear && clear) out.DataBase64 = encodeBase64(clear);
      else {
        const packet = r.attachmentKeyPackets.get(a.meta.ID);
        if (packet) out.Ciphertext = armorMessage(joinMessage(packet, a.data));
      }
      entry.Attachments.push(out);
    }
  }
  return entry;
}
