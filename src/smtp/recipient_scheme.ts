/**
 * How one recipient gets the message (proton-api.md §3.6 step 6; proton-bridge `smtp_prefs.go`):
 * encryption scheme, signature flag, body format and the key to encrypt to, from what the keys
 * endpoint said, the contact's settings and the account's mail settings.
 *
 * - **Internal** (Proton address): always encrypted and signed, scheme Internal (1); key = the
 *   first API key matching a key pinned in the contact, else the first API key; body format from
 *   the contact, else the message's.
 * - **External with keys from the API** (WKD): encrypt unless the contact says
 *   `X-PM-ENCRYPT-UNTRUSTED: false`; sign when encrypting, else as the contact says, else as the
 *   account's `Sign`.
 * - **External without API keys**: encrypt only when the contact says so and pins a key; sign as
 *   the contact says, else as the account's `Sign`.
 * - Scheme for non-internal recipients: the contact's `X-PM-SCHEME`, else the account's
 *   `PGPScheme` (8 inline, 16 PGP/MIME). Encrypt → PGPInline (8) or PGPMIME (16); sign only →
 *   Clear (4, detached signature, `text/plain`) for inline or ClearMIME (32) otherwise; neither →
 *   Clear (4) with the body format of the contact, else the account's `DraftMIMEType`, else the
 *   message's. A plain-text message always goes as `text/plain` in text packages.
 * - **Signed or encrypted by the client**: the structure must survive, so an outside recipient
 *   gets it in a MIME package whatever the settings: PGPMIME (16) when encrypting, else ClearMIME
 *   (32).
 *
 * @module
 */
import type * as openpgp from "openpgp";
import type { MailSettings } from "../api/types.ts";
import { EncryptionScheme, SignatureType } from "../api/types.ts";
import type { ContactSendSettings } from "./contact_settings.ts";

/** What is known about one recipient. */
export interface RecipientInfo {
  /** The recipient address. */
  email: string;
  /** The keys endpoint said `RecipientType` 1 (a Proton address). */
  internal: boolean;
  /** Keys the API returned that may encrypt, in API order. */
  apiKeys: openpgp.PublicKey[];
  /** The contact's settings, if any. */
  contact?: ContactSendSettings;
}

/** The decision for one recipient. */
export interface RecipientScheme {
  email: string;
  /** One `EncryptionScheme` bit. */
  scheme: number;
  /** A `SignatureType` value. */
  signature: number;
  /** The package format: `text/plain`, `text/html` or `multipart/mixed`. */
  mimeType: "text/plain" | "text/html" | "multipart/mixed";
  /** The key to encrypt to (Internal, PGPInline, PGPMIME). */
  publicKey?: openpgp.PublicKey;
  encrypt: boolean;
  sign: boolean;
}

/** What {@link chooseScheme} decides from. */
export interface SchemeInput {
  recipient: RecipientInfo;
  settings: MailSettings;
  /** The message's body format. */
  messageMimeType: "text/plain" | "text/html";
  /** Set when the client signed or encrypted the message itself. */
  secured?: "signed" | "encrypted";
}

/** A recipient the rules cannot serve (e.g. an internal address without keys). */
export class RecipientSchemeError extends Error {
  override name = "RecipientSchemeError";
  /** The recipient at fault. */
  readonly email: string;
  /** `email` is the recipient the problem is about. */
  constructor(email: string, message: string) {
    super(`${email}: ${message}`);
    this.email = email;
  }
}

function sameKey(a: openpgp.PublicKey, b: openpgp.PublicKey): boolean {
  return a.getFingerprint() === b.getFingerprint();
}

/** The API key that matches a pinned key, else the first API key. */
function preferredKey(
  apiKeys: openpgp.PublicKey[],
  pinned: openpgp.PublicKey[],
): openpgp.PublicKey | undefined {
  return apiKeys.find((k) => pinned.some((p) => sameKey(k, p))) ?? apiKeys[0];
}

function textType(
  contact: ContactSendSettings | undefined,
  settings: MailSettings,
  message: "text/plain" | "text/html",
): "text/plain" | "text/html" {
  if (message === "text/plain") return "text/plain";
  const draft = settings.DraftMIMEType === "text/plain" || settings.DraftMIMEType === "text/html"
    ? settings.DraftMIMEType
    : undefined;
  return contact?.mimeType ?? draft ?? message;
}

/**
 * Chooses scheme, signature, body format and key for one recipient (see the module text).
 *
 * @throws {RecipientSchemeError} for an internal recipient without a usable key.
 */
export function chooseScheme(input: SchemeInput): RecipientScheme {
  const { recipient: r, settings, messageMimeType } = input;
  const contact = r.contact;
  const pinned = contact?.keys ?? [];
  if (r.internal) {
    const key = preferredKey(r.apiKeys, pinned);
    if (!key) throw new RecipientSchemeError(r.email, "the Proton address has no usable key");
    return {
      email: r.email,
      scheme: EncryptionScheme.Internal,
      signature: SignatureType.Detached,
      mimeType: messageMimeType === "text/plain"
        ? "text/plain"
        : contact?.mimeType ?? messageMimeType,
      publicKey: key,
      encrypt: true,
      sign: true,
    };
  }
  let key: openpgp.PublicKey | undefined;
  let encrypt: boolean;
  if (r.apiKeys.length > 0) {
    encrypt = contact?.encryptUntrusted ?? true;
    key = preferredKey(r.apiKeys, pinned);
  } else {
    encrypt = contact?.encrypt === true && pinned.length > 0;
    key = pinned[0];
  }
  if (!key) encrypt = false;
  const sign = encrypt || (contact?.sign ?? settings.Sign === 1);
  const inline = (contact?.scheme ??
    (settings.PGPScheme === EncryptionScheme.PGPInline ? "pgp-inline" : "pgp-mime")) ===
    "pgp-inline";
  const base = { email: r.email, encrypt, sign };
  if (input.secured) {
    return encrypt
      ? {
        ...base,
        scheme: EncryptionScheme.PGPMIME,
        signature: SignatureType.Detached,
        mimeType: "multipart/mixed",
        publicKey: key,
      }
      : {
        ...base,
        sign: true,
        scheme: EncryptionScheme.ClearMIME,
        signature: SignatureType.Detached,
        mimeType: "multipart/mixed",
      };
  }
  if (encrypt) {
    return inline
      ? {
        ...base,
        scheme: EncryptionScheme.PGPInline,
        signature: SignatureType.Detached,
        mimeType: "text/plain",
        publicKey: key,
      }
      : {
        ...base,
        scheme: EncryptionScheme.PGPMIME,
        signature: SignatureType.Detached,
        mimeType: "multipart/mixed",
        publicKey: key,
      };
  }
  if (sign) {
    return inline
      ? {
        ...base,
        scheme: EncryptionScheme.Clear,
        signature: SignatureType.Detached,
        mimeType: "text/plain",
      }
      : {
        ...base,
        scheme: EncryptionScheme.ClearMIME,
        signature: SignatureType.Detached,
        mimeType: "multipart/mixed",
      };
  }
  return {
    ...base,
    scheme: EncryptionScheme.Clear,
    signature: SignatureType.None,
    mimeType: textType(contact, settings, messageMimeType),
  };
}
