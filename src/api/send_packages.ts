/**
 * Send packages (go-proton-api `message_send_types.go`; proton-bridge `smtp_packages.go`;
 * proton-api.md §1.10, §3.6): the `Packages` of `POST /mail/v4/messages/{id}`.
 *
 * Recipients are grouped by the body format they get:
 * - one `multipart/mixed` package for PGP/MIME (16) and ClearMIME (32) recipients: the body is the
 *   whole MIME message (attachments inside it, so no attachment keys);
 * - one `text/html` and/or one `text/plain` package for Internal (1), Clear (4) and PGPInline (8)
 *   recipients: the body is the text alone, attachments are the draft's uploaded attachments.
 *
 * Each package body is encrypted **and signed** with the sender address key, then split: the data
 * packet goes in `Body`, and the session key is handed out per recipient:
 * - encrypting recipients (Internal, PGPInline, PGPMIME) get `BodyKeyPacket` (the session key
 *   encrypted to their key) and, in text packages, `AttachmentKeyPackets` likewise;
 * - the package carries `BodyKey` in clear only when a Clear or ClearMIME recipient needs it, and
 *   `AttachmentKeys` in clear only for Clear recipients of a text package.
 *
 * `Type` is the OR of the package's recipients' schemes. Empty maps are omitted, as Go's
 * `omitempty` does.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { toBase64 } from "../crypto/base64.ts";
import { encryptAndSplit, encryptSessionKey, type SessionKey } from "../crypto/session_key.ts";
import type { MessagePackage, MessageRecipient, PackageSessionKey } from "./types.ts";
import { EncryptionScheme, SignatureType } from "./types.ts";

/** How one recipient gets the message (the result of the send-preference rules of §3.6). */
export interface PackageRecipient {
  /** The recipient address, as it appears in the draft. */
  email: string;
  /** One {@link EncryptionScheme} bit. */
  scheme: number;
  /** A {@link SignatureType} value. */
  signature: number;
  /** The key the message is encrypted to (Internal, PGPInline, PGPMIME). */
  publicKey?: openpgp.PublicKey | openpgp.PrivateKey;
  /**
   * Body format for Internal and Clear recipients: `text/plain` or `text/html` (default: the
   * message's). PGPInline is always `text/plain`; PGPMIME and ClearMIME always `multipart/mixed`.
   */
  mimeType?: string;
}

/** What {@link buildSendPackages} takes. */
export interface SendPackagesInput {
  /** The sender address' first unlocked key: it encrypts and signs every body. */
  addressKey: openpgp.PrivateKey;
  /** The draft's body format. */
  mimeType: "text/plain" | "text/html";
  /** The plain body in that format. */
  body: string;
  /** The body as plain text, when `mimeType` is HTML and a recipient needs `text/plain`. */
  plainBody?: string;
  /** The whole MIME message, for PGPMIME and ClearMIME recipients. */
  mimeBody?: string | Uint8Array;
  /** Attachment ID → its session key (decrypted from the uploaded attachment's `KeyPackets`). */
  attachmentKeys?: Record<string, SessionKey>;
  recipients: PackageRecipient[];
}

/** Recipient preferences that no package can carry (the message names the recipient). */
export class SendPackageError extends Error {
  override name = "SendPackageError";
  /** The recipient at fault ("" when the problem is not one recipient's). */
  readonly email: string;

  /** `email` is the recipient the problem is about. */
  constructor(email: string, message: string) {
    super(email ? `${email}: ${message}` : message);
    this.email = email;
  }
}

const MIME = "multipart/mixed";
const TEXT_TYPES = new Set(["text/plain", "text/html"]);
const ENCRYPTING = new Set<number>([
  EncryptionScheme.Internal,
  EncryptionScheme.PGPInline,
  EncryptionScheme.PGPMIME,
]);

/** A session key as a package carries it in clear. */
export function packageSessionKey(key: SessionKey): PackageSessionKey {
  return { Key: toBase64(key.data), Algorithm: key.algorithm };
}

/** The package MIME type a recipient belongs to, after checking its preferences. */
function packageTypeOf(r: PackageRecipient, input: SendPackagesInput): string {
  const fail = (m: string) => new SendPackageError(r.email, m);
  const sig = r.signature;
  if (sig !== SignatureType.None && sig !== SignatureType.Detached) {
    throw fail(`signature type ${sig} is not supported (only none or detached)`);
  }
  if (ENCRYPTING.has(r.scheme)) {
    if (!r.publicKey) throw fail("a public key is needed to encrypt to this recipient");
    if (sig !== SignatureType.Detached) {
      throw fail("encrypted mail must carry a detached signature");
    }
  }
  switch (r.scheme) {
    case EncryptionScheme.PGPMIME:
    case EncryptionScheme.ClearMIME:
      if (sig !== SignatureType.Detached) throw fail("a MIME package must be signed (detached)");
      if (r.mimeType && r.mimeType !== MIME) throw fail(`a MIME package cannot be ${r.mimeType}`);
      if (input.mimeBody === undefined) throw fail("the MIME body is missing");
      return MIME;
    case EncryptionScheme.PGPInline:
      if (r.mimeType && r.mimeType !== "text/plain") {
        throw fail(`PGP/Inline needs text/plain, not ${r.mimeType}`);
      }
      return "text/plain";
    case EncryptionScheme.Internal:
    case EncryptionScheme.Clear: {
      const type = r.mimeType ?? input.mimeType;
      if (!TEXT_TYPES.has(type)) throw fail(`invalid MIME type ${type} for a text package`);
      if (
        r.scheme === EncryptionScheme.Clear && sig === SignatureType.Detached &&
        type !== "text/plain"
      ) throw fail("a clear-signed body must be text/plain");
      return type;
    }
    case EncryptionScheme.EncryptedOutside:
      throw fail("password-protected mail to outside recipients is not supported");
    default:
      throw fail(`unknown encryption scheme ${r.scheme}`);
  }
}

function bodyFor(type: string, input: SendPackagesInput): string | Uint8Array {
  if (type === MIME) return input.mimeBody!;
  if (type === input.mimeType) return input.body;
  if (type === "text/plain" && input.plainBody !== undefined) return input.plainBody;
  throw new SendPackageError("", `no ${type} body was given (the message is ${input.mimeType})`);
}

/**
 * Builds the `Packages` of a send request.
 *
 * @returns One package per body format in use: `multipart/mixed`, `text/html`, `text/plain`
 * (in that order, only those with recipients).
 * @throws {SendPackageError} for preferences no package can carry: a missing key, PGP/Inline with
 * HTML, an unsigned MIME package, a clear-signed HTML body, an unknown scheme, a recipient twice.
 * @throws {CryptoError} when a key cannot encrypt.
 */
export async function buildSendPackages(input: SendPackagesInput): Promise<MessagePackage[]> {
  if (input.mimeType !== "text/plain" && input.mimeType !== "text/html") {
    throw new SendPackageError(
      "",
      `the body must be text/plain or text/html, not ${input.mimeType}`,
    );
  }
  if (input.recipients.length === 0) throw new SendPackageError("", "no recipients");
  const groups = new Map<string, PackageRecipient[]>();
  const seen = new Set<string>();
  for (const r of input.recipients) {
    const key = r.email.toLowerCase();
    if (seen.has(key)) throw new SendPackageError(r.email, "the recipient is listed twice");
    seen.add(key);
    const type = packageTypeOf(r, input);
    if (!groups.has(type)) groups.set(type, []);
    groups.get(type)!.push(r);
  }
  const attachments = Object.entries(input.attachmentKeys ?? {});
  const out: MessagePackage[] = [];
  for (const type of [MIME, "text/html", "text/plain"]) {
    const recipients = groups.get(type);
    if (!recipients) continue;
    const { dataPacket, sessionKey } = await encryptAndSplit(
      bodyFor(type, input),
      input.addressKey,
      input.addressKey,
    );
    const pkg: MessagePackage = {
      Addresses: {},
      MIMEType: type,
      Type: 0,
      Body: toBase64(dataPacket),
    };
    const clearAttachments: Record<string, PackageSessionKey> = {};
    for (const r of recipients) {
      const rec: MessageRecipient = { Type: r.scheme, Signature: r.signature };
      if (ENCRYPTING.has(r.scheme)) {
        rec.BodyKeyPacket = toBase64(await encryptSessionKey(sessionKey, r.publicKey!));
        if (type !== MIME && attachments.length > 0) {
          rec.AttachmentKeyPackets = {};
          for (const [id, key] of attachments) {
            rec.AttachmentKeyPackets[id] = toBase64(await encryptSessionKey(key, r.publicKey!));
          }
        }
      } else {
        pkg.BodyKey = packageSessionKey(sessionKey);
        if (type !== MIME) {
          for (const [id, key] of attachments) clearAttachments[id] = packageSessionKey(key);
        }
      }
      pkg.Addresses[r.email] = rec;
      pkg.Type |= r.scheme;
    }
    if (Object.keys(clearAttachments).length > 0) pkg.AttachmentKeys = clearAttachments;
    out.push(pkg);
  }
  return out;
}
