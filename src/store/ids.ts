/**
 * Branded identifier types of the local index. The brands exist only at compile time; they keep a
 * remote (Proton) message ID from being passed where an internal one is expected, and a UID from
 * being confused with a sequence number.
 *
 * @module
 */

/** The index's own message ID: an integer that is never reused, also the literal cache key. */
export type InternalMessageId = number & { readonly __brand: "InternalMessageId" };
/** The index's own mailbox ID: an integer that is never reused. */
export type MailboxId = number & { readonly __brand: "MailboxId" };
/** An IMAP UID inside one mailbox (RFC 3501 §2.3.1.1); never a sequence number. */
export type Uid = number & { readonly __brand: "Uid" };
/** The API's ID of a message (`ID` in message metadata). */
export type RemoteMessageId = string & { readonly __brand: "RemoteMessageId" };
/** The API's ID of a label, folder or system location (`LabelIDs` items). */
export type RemoteLabelId = string & { readonly __brand: "RemoteLabelId" };
/** The API's ID of one of the account's addresses (`AddressID`). */
export type RemoteAddressId = string & { readonly __brand: "RemoteAddressId" };
/** The API's ID of an event (`EventID`), the event loop's cursor. */
export type RemoteEventId = string & { readonly __brand: "RemoteEventId" };
