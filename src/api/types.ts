/**
 * Wire types of the Proton Mail HTTP API, in one place, spelled exactly as on the wire
 * (PascalCase, booleans as 0/1 integers, times as Unix seconds). Sources: go-proton-api's Go
 * structs as summarised in `shared/docs/proton-api.md` §1.
 *
 * Both the client (`src/api`) and the reference server (`src/api_server`, type-only imports) use
 * these, so a field renamed here is renamed on both sides of every test.
 *
 * @module
 */

/** A 0/1 integer the API uses for booleans (go-proton-api `Bool`). */
export type Bool = 0 | 1;

// ---------------------------------------------------------------------------------------------
// Envelope and errors
// ---------------------------------------------------------------------------------------------

/** `Code` of a successful reply. */
export const CODE_SUCCESS = 1000;
/** `Code` of a multi-status reply (`Responses` carries one result per item). */
export const CODE_MULTI = 1001;

/** Error codes the client recognises (go-proton-api `response.go`). */
export const ErrorCode = {
  InvalidValue: 2001,
  AlreadyExists: 2500,
  NotFound: 2501,
  AppVersionMissing: 5001,
  AppVersionBad: 5003,
  UsernameInvalid: 6003,
  PasswordWrong: 8002,
  HumanVerificationRequired: 9001,
  PaidPlanRequired: 10004,
  AuthRefreshTokenInvalid: 10013,
  HumanValidationInvalidToken: 12087,
} as const;

/** Body of an error reply: `{"Code", "Error", "Details"}`. */
export interface ErrorBody {
  Code: number;
  Error?: string;
  Details?: unknown;
}

/** `Details` of a 9001 human-verification error. */
export interface HumanVerificationDetails {
  HumanVerificationMethods: string[];
  HumanVerificationToken: string;
}

/** One item of a multi-status (`Code` 1001) reply. */
export interface MultiResponseItem {
  ID: string;
  Response: { Code: number; Error?: string; Details?: unknown };
}

// ---------------------------------------------------------------------------------------------
// Auth
// ---------------------------------------------------------------------------------------------

/** `POST /auth/v4/info` request. */
export interface AuthInfoReq {
  Username: string;
}

/** `POST /auth/v4/info` reply. */
export interface AuthInfo {
  Version: number;
  Modulus: string;
  ServerEphemeral: string;
  Salt: string;
  SRPSession: string;
  "2FA"?: TwoFAInfo;
}

/** Two-factor state: `Enabled` bit 1 = TOTP, bit 2 = FIDO2. */
export interface TwoFAInfo {
  Enabled: number;
  FIDO2?: unknown;
}

/** FIDO2 assertion fields (always present in `POST /auth/v4`, empty when unused). */
export interface FIDO2Req {
  AuthenticationOptions: unknown;
  ClientData: string;
  AuthenticatorData: string;
  Signature: string;
  CredentialID: string;
}

/** `POST /auth/v4` request. */
export interface AuthReq {
  Username: string;
  ClientEphemeral: string;
  ClientProof: string;
  SRPSession: string;
  TwoFactorCode?: string;
  FIDO2: FIDO2Req | null;
}

/** `PasswordMode`: 1 one-password mode, 2 two-password mode (separate mailbox password). */
export const PasswordMode = { One: 1, Two: 2 } as const;

/** `POST /auth/v4` and `POST /auth/v4/refresh` reply. */
export interface Auth {
  UserID: string;
  UID: string;
  AccessToken: string;
  RefreshToken: string;
  ServerProof: string;
  Scope: string;
  "2FA": TwoFAInfo;
  PasswordMode: number;
}

/** `POST /auth/v4/2fa` request. */
export interface Auth2FAReq {
  TwoFactorCode: string;
  FIDO2?: FIDO2Req | null;
}

/** `POST /auth/v4/refresh` request. */
export interface AuthRefreshReq {
  UID: string;
  RefreshToken: string;
  ResponseType: "token";
  GrantType: "refresh_token";
  RedirectURI: string;
  State: string;
  AccessToken?: string;
}

/** `GET /auth/v4/modulus` reply. */
export interface AuthModulus {
  Modulus: string;
  ModulusID: string;
}

// ---------------------------------------------------------------------------------------------
// Users, addresses, keys
// ---------------------------------------------------------------------------------------------

/** A private key as the API carries it (user keys and address keys). */
export interface Key {
  ID: string;
  PrivateKey: string;
  /** Address keys only: armored PGP message holding the key passphrase, encrypted to the user key. */
  Token?: string | null;
  /** Address keys only: armored detached signature of the token by the user key. */
  Signature?: string | null;
  Primary: Bool;
  Active: Bool;
  Flags?: number;
  Version?: number;
}

/** Key `Flags` bits. */
export const KeyFlag = { Trusted: 1, Active: 2 } as const;

/** `GET /core/v4/users` → `User`. */
export interface User {
  ID: string;
  Name: string;
  DisplayName: string;
  Email: string;
  Keys: Key[];
  UsedSpace: number;
  MaxSpace: number;
  MaxUpload: number;
  Credit: number;
  Currency: string;
  ProductUsedSpace?: {
    Calendar: number;
    Contact: number;
    Drive: number;
    Mail: number;
    Pass: number;
  };
}

/** Address `Status`. */
export const AddressStatus = { Disabled: 0, Enabled: 1, Deleting: 2 } as const;
/** Address `Type`. */
export const AddressType = { Original: 1, Alias: 2, Custom: 3, Premium: 4, External: 5 } as const;

/** `GET /core/v4/addresses` → `Addresses[]`. */
export interface Address {
  ID: string;
  Email: string;
  Send: Bool;
  Receive: Bool;
  Status: number;
  Type: number;
  Order: number;
  DisplayName: string;
  Keys: Key[];
}

/** `GET /core/v4/keys/salts` → `KeySalts[]`. */
export interface KeySalt {
  ID: string;
  KeySalt: string | null;
}

/** `RecipientType` of `GET /core/v4/keys?Email=`. */
export const RecipientType = { Internal: 1, External: 2 } as const;

/** One public key of `GET /core/v4/keys?Email=`. */
export interface PublicKeyEntry {
  Flags: number;
  PublicKey: string;
}

/** `GET /core/v4/keys?Email=` reply. */
export interface PublicKeys {
  Keys: PublicKeyEntry[];
  RecipientType: number;
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

/** Label `Type`. */
export const LabelType = { Label: 1, ContactGroup: 2, Folder: 3, System: 4 } as const;

/** System label IDs (go-proton-api `label_types.go`). */
export const SystemLabel = {
  Inbox: "0",
  AllDrafts: "1",
  AllSent: "2",
  Trash: "3",
  Spam: "4",
  AllMail: "5",
  Archive: "6",
  Sent: "7",
  Drafts: "8",
  Outbox: "9",
  Starred: "10",
  AllScheduled: "12",
} as const;

/** A label, folder or system label. `Path` is the `/`-joined path on the wire. */
export interface Label {
  ID: string;
  ParentID?: string;
  Name: string;
  Path: string;
  Color: string;
  Type: number;
  Notify?: Bool;
  Expanded?: Bool;
  Sticky?: Bool;
  Order?: number;
}

/** `POST /core/v4/labels` request. */
export interface CreateLabelReq {
  Name: string;
  Color: string;
  Type: number;
  ParentID?: string;
}

/** `PUT /core/v4/labels/{id}` request. */
export interface UpdateLabelReq {
  Name: string;
  Color: string;
  ParentID?: string;
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** A name/address pair (`Sender`, `ToList` items…). */
export interface EmailAddress {
  Name: string;
  Address: string;
}

/** Message `Flags` bits (go-proton-api `message_types.go`). */
export const MessageFlag = {
  Received: 1 << 0,
  Sent: 1 << 1,
  Internal: 1 << 2,
  E2E: 1 << 3,
  Auto: 1 << 4,
  Replied: 1 << 5,
  RepliedAll: 1 << 6,
  Forwarded: 1 << 7,
  AutoReplied: 1 << 8,
  Imported: 1 << 9,
  Opened: 1 << 10,
  ReceiptSent: 1 << 11,
  Notified: 1 << 12,
  Touched: 1 << 13,
  Receipt: 1 << 14,
  ReceiptRequest: 1 << 16,
  PublicKey: 1 << 17,
  Sign: 1 << 18,
  Unsubscribed: 1 << 19,
  ScheduledSend: 1 << 20,
  Alias: 1 << 21,
  DMARCPass: 1 << 23,
  SPFFail: 1 << 24,
  DKIMFail: 1 << 25,
  DMARCFail: 1 << 26,
  HamManual: 1 << 27,
  SpamAuto: 1 << 28,
  SpamManual: 1 << 29,
  PhishingAuto: 1 << 30,
  PhishingManual: 2 ** 31,
} as const;

/** Message metadata, as listed by paging and carried by events. */
export interface MessageMetadata {
  ID: string;
  AddressID: string;
  LabelIDs: string[];
  ExternalID: string;
  Subject: string;
  Sender: EmailAddress;
  ToList: EmailAddress[];
  CCList: EmailAddress[];
  BCCList: EmailAddress[];
  ReplyTos: EmailAddress[];
  Flags: number;
  Time: number;
  Size: number;
  Unread: Bool;
  IsReplied: Bool;
  IsRepliedAll: Bool;
  IsForwarded: Bool;
  NumAttachments: number;
}

/** `ParsedHeaders`: header name → value, or values when the header repeats, in header order. */
export type ParsedHeaders = Record<string, string | string[]>;

/** An attachment object (its data is downloaded separately). */
export interface Attachment {
  ID: string;
  Name: string;
  Size: number;
  MIMEType: string;
  Disposition: "inline" | "attachment" | string;
  Headers: ParsedHeaders;
  /** Base64 of the PKESK packet(s) for the attachment's session key. */
  KeyPackets: string;
  /** Armored detached signature, may be empty. */
  Signature: string;
}

/** A full message: metadata, headers, armored body and attachments. */
export interface Message extends MessageMetadata {
  Header: string;
  ParsedHeaders: ParsedHeaders;
  Body: string;
  MIMEType: string;
  Attachments: Attachment[];
}

/** Filter of metadata paging and counting (all omitempty but `Desc`). */
export interface MessageFilter {
  ID?: string[];
  Subject?: string;
  AddressID?: string;
  ExternalID?: string;
  LabelID?: string;
  EndID?: string;
  Desc: Bool;
}

/** Body of `POST /mail/v4/messages` with `X-HTTP-Method-Override: GET` for one page. */
export interface MessagePageReq extends MessageFilter {
  Page: number;
  PageSize: number;
  Sort: "ID";
}

/** Reply to a metadata page request. */
export interface MessagePage {
  Messages: MessageMetadata[];
  Stale: Bool;
  Total: number;
}

/** One row of `GET /mail/v4/messages/count`. */
export interface MessageGroupCount {
  LabelID: string;
  Total: number;
  Unread: number;
}

/** Body of `PUT /mail/v4/messages/{label,unlabel}`. */
export interface LabelMessagesReq {
  LabelID: string;
  IDs: string[];
}

/** Undo token returned by label/unlabel; `POST /mail/v4/undoactions` takes it back. */
export interface UndoToken {
  Token: string;
  ValidUntil: number;
}

/** Reply of `PUT /mail/v4/messages/{label,unlabel}`. */
export interface LabelMessagesRes {
  Responses: MultiResponseItem[];
  UndoToken?: UndoToken;
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/** Event item actions. */
export const EventAction = { Delete: 0, Create: 1, Update: 2, UpdateFlags: 3 } as const;

/** `Refresh` bits: 1 mail, 255 everything. */
export const RefreshFlag = { Mail: 1, All: 255 } as const;

/** A message item of an event. `Message` is absent for deletes. */
export interface MessageEvent {
  ID: string;
  Action: number;
  Message?: MessageMetadata;
}

/** A label item of an event. */
export interface LabelEvent {
  ID: string;
  Action: number;
  Label?: Label;
}

/** An address item of an event. */
export interface AddressEvent {
  ID: string;
  Action: number;
  Address?: Address;
}

/** Mail settings (`GET /mail/v4/settings`). */
export interface MailSettings {
  DisplayName: string;
  Signature: string;
  DraftMIMEType: string;
  AttachPublicKey: Bool;
  Sign: Bool;
  PGPScheme: number;
}

/** A notification carried by an event. */
export interface Notification {
  ID: string;
  UID: string;
  UserID: string;
  Type: number;
  Time: number;
  Payload: { Title: string; Subtitle: string; Body: string };
}

/** `GET /core/v4/events/{id}` reply: the event after that ID. */
export interface Event {
  EventID: string;
  Refresh: number;
  More: Bool;
  User?: User;
  UserSettings?: unknown;
  MailSettings?: MailSettings;
  Messages?: MessageEvent[];
  Labels?: LabelEvent[];
  Addresses?: AddressEvent[];
  Notifications?: Notification[];
  UsedSpace?: number;
}

// ---------------------------------------------------------------------------------------------
// Contacts
// ---------------------------------------------------------------------------------------------

/** `GET /contacts/v4/emails` item. */
export interface ContactEmail {
  ID: string;
  Name: string;
  Email: string;
  Type: string[];
  ContactID: string;
  LabelIDs: string[];
}

/** Card `Type`: 0 clear, 1 encrypted, 2 signed, 3 both. */
export const CardType = { Clear: 0, Encrypted: 1, Signed: 2, EncryptedSigned: 3 } as const;

/** A vCard of a contact. */
export interface Card {
  Type: number;
  Data: string;
  Signature: string | null;
}

/** `GET /contacts/v4/{id}` → `Contact`. */
export interface Contact {
  ID: string;
  Name: string;
  UID: string;
  Size: number;
  CreateTime: number;
  ModifyTime: number;
  ContactEmails: ContactEmail[];
  LabelIDs: string[];
  Cards: Card[];
}

// ---------------------------------------------------------------------------------------------
// Attachments upload, drafts, send, import
// ---------------------------------------------------------------------------------------------

/** Attachment `Disposition` values. */
export const Disposition = { Attachment: "attachment", Inline: "inline" } as const;

/**
 * Fields of `POST /mail/v4/attachments` (multipart/form-data; go-proton-api `attachment.go`).
 * The three binary parts are sent as files named `blob` of type `application/octet-stream`.
 */
export interface CreateAttachmentReq {
  /** The draft the attachment belongs to. */
  MessageID: string;
  /** File name (any Unicode). */
  Filename: string;
  /** Media type of the plaintext, e.g. `image/png`. */
  MIMEType: string;
  /** `attachment` or `inline` (inline needs `ContentID`). */
  Disposition: string;
  /** Content-ID without angle brackets (inline images); "" when none. */
  ContentID?: string;
  /** Binary PKESK packet(s): the session key encrypted to the sender's address key. */
  KeyPackets: Uint8Array;
  /** The binary symmetrically encrypted data packet. */
  DataPacket: Uint8Array;
  /** Binary detached signature over the plaintext. */
  Signature: Uint8Array;
}

/** `Action` of draft creation (go-proton-api `CreateDraftAction`). */
export const DraftAction = {
  Reply: 0,
  ReplyAll: 1,
  Forward: 2,
  AutoResponse: 3,
  ReadReceipt: 4,
} as const;

/** A draft as the client sends it (go-proton-api `message_draft_types.go` `DraftTemplate`). */
export interface DraftTemplate {
  Subject: string;
  Sender: EmailAddress;
  ToList: EmailAddress[];
  CCList: EmailAddress[];
  BCCList: EmailAddress[];
  /** Armored PGP message encrypted to the sender address' first key (not signed). */
  Body: string;
  /** `text/plain` or `text/html`. */
  MIMEType: string;
  Unread: Bool;
  /** The RFC Message-ID without angle brackets (omitted when empty). */
  ExternalID?: string;
}

/** `POST /mail/v4/messages` (no method override) request: draft creation. */
export interface CreateDraftReq {
  Message: DraftTemplate;
  /** Attachment key packets of forwarded attachments (base64), or null. */
  AttachmentKeyPackets: string[] | null;
  /** The message replied to or forwarded (omitted when none). */
  ParentID?: string;
  /** A {@link DraftAction} value. */
  Action: number;
}

/** `PUT /mail/v4/messages/{id}` request: draft update. */
export interface UpdateDraftReq {
  Message: DraftTemplate;
  AttachmentKeyPackets: string[] | null;
}

/** Recipient `Type` / package `Type` bits (go-proton-api `EncryptionScheme`). */
export const EncryptionScheme = {
  Internal: 1,
  EncryptedOutside: 2,
  Clear: 4,
  PGPInline: 8,
  PGPMIME: 16,
  ClearMIME: 32,
} as const;

/** Recipient `Signature` (go-proton-api `SignatureType`). */
export const SignatureType = { None: 0, Detached: 1, Attached: 2 } as const;

/** A session key in clear, as a package carries it: base64 key bytes and algorithm name. */
export interface PackageSessionKey {
  /** Base64 of the raw key bytes. */
  Key: string;
  /** Symmetric algorithm, e.g. `aes256`. */
  Algorithm: string;
}

/** One recipient of a package (go-proton-api `MessageRecipient`). */
export interface MessageRecipient {
  /** One {@link EncryptionScheme} bit. */
  Type: number;
  /** A {@link SignatureType} value. */
  Signature: number;
  /** Base64 of the body session key encrypted to the recipient's key (omitted when none). */
  BodyKeyPacket?: string;
  /** Attachment ID → base64 of its session key encrypted to the recipient (omitted when empty). */
  AttachmentKeyPackets?: Record<string, string>;
}

/** One package of a send request (go-proton-api `MessagePackage`). */
export interface MessagePackage {
  /** Recipient email → how it gets the message. */
  Addresses: Record<string, MessageRecipient>;
  /** `text/plain`, `text/html` or `multipart/mixed`. */
  MIMEType: string;
  /** Bitwise OR of the recipients' schemes. */
  Type: number;
  /** Base64 of the encrypted (and signed) data packet of the body. */
  Body: string;
  /** The body session key in clear, when a Clear/ClearMIME recipient needs it. */
  BodyKey?: PackageSessionKey;
  /** Attachment ID → session key in clear, when a Clear recipient needs them. */
  AttachmentKeys?: Record<string, PackageSessionKey>;
}

/** `POST /mail/v4/messages/{id}` request: send a draft. Reply: `{"Sent": Message}`. */
export interface SendDraftReq {
  Packages: MessagePackage[];
}

/** Per-message metadata of an import (go-proton-api `ImportMetadata`). */
export interface ImportMetadata {
  AddressID: string;
  LabelIDs: string[];
  Unread: Bool;
  /** {@link MessageFlag} bits (Received, Sent, Replied…). */
  Flags: number;
}

/** Result of one imported message (go-proton-api `ImportRes`: error fields + `MessageID`). */
export interface ImportRes {
  Code: number;
  Error?: string;
  Details?: unknown;
  MessageID?: string;
}

/** One item of the import reply: `{"Name": "<part name>", "Response": ImportRes}`. */
export interface ImportResponseItem {
  Name: string;
  Response: ImportRes;
}
