/**
 * The reference server's outbox: what a send delivered to recipients outside this server, kept
 * so tests can see exactly what left (control routes `GET`/`DELETE /ref/v1/outbox`).
 *
 * One entry per external recipient. When the package gave the session key in clear (`BodyKey`
 * for Clear/ClearMIME recipients, `AttachmentKeys` for Clear ones) the entry holds the decrypted
 * body and attachments; otherwise it holds the ciphertext exactly as the recipient would get it:
 * an armored PGP message made of the recipient's key packet and the package's data packet, which
 * only the recipient's private key opens.
 *
 * Stored in the server's {@link Db} (kind `outbox`), oldest first.
 *
 * @module
 */
import type { Db, Doc } from "./db.ts";
import type { EmailAddress } from "../api/types.ts";

/** An attachment as an external recipient got it. */
export interface OutboxAttachment {
  /** The draft's attachment ID. */
  ID: string;
  Name: string;
  MIMEType: string;
  Disposition: string;
  /** Content-ID without angle brackets, "" when none. */
  ContentID: string;
  /** Base64 of the decrypted bytes (clear `AttachmentKeys`). */
  DataBase64?: string;
  /** Armored PGP message (the recipient's attachment key packet + the data packet). */
  Ciphertext?: string;
}

/** One delivery to one external recipient, as the send records it. */
export interface OutboxDelivery {
  /** Unix seconds of the send. */
  Time: number;
  /** The sender's user ID and the sent message's ID. */
  UserID: string;
  MessageID: string;
  /** The RFC Message-ID of the sent message, without angle brackets. */
  ExternalID: string;
  From: EmailAddress;
  ToList: EmailAddress[];
  CCList: EmailAddress[];
  Subject: string;
  /** The recipient's address, as in the package. */
  Recipient: string;
  /** The recipient's `Type` (EncryptionScheme bit) and `Signature` flag. */
  Scheme: number;
  Signature: number;
  /** The package's MIME type: `text/plain`, `text/html` or `multipart/mixed`. */
  MIMEType: string;
  /** 1 when the body left encrypted (no clear session key), else 0. */
  Encrypted: 0 | 1;
  /** The decrypted body as UTF-8 text (clear session key only). */
  Body?: string;
  /** The decrypted body bytes, base64 (clear session key only). */
  BodyBase64?: string;
  /** Whether the decrypted body's embedded signature verifies with the sender's key. */
  SignatureStatus?: string;
  /** Armored PGP message (the recipient's key packet + the data packet), when encrypted. */
  Ciphertext?: string;
  Attachments: OutboxAttachment[];
}

/** A recorded delivery with its entry ID (ascending). */
export type OutboxEntry = OutboxDelivery & { ID: string };

/** The outbox store. */
export class Outbox {
  readonly #db: Db;
  #counter: number;

  /** Opens the outbox kept in `db`. */
  constructor(db: Db) {
    this.#db = db;
    this.#counter = this.list().reduce(
      (n, e) => Math.max(n, Number(e.ID) || 0),
      0,
    );
  }

  /** Records deliveries (IDs are assigned here); call inside the send's commit. */
  add(deliveries: OutboxDelivery[]): OutboxEntry[] {
    return deliveries.map((d) => {
      const entry: OutboxEntry = { ID: String(++this.#counter).padStart(10, "0"), ...d };
      this.#db.put("outbox", entry.ID, entry as unknown as Doc);
      return entry;
    });
  }

  /** Every entry, oldest first. */
  list(): OutboxEntry[] {
    return (this.#db.list<Doc>("outbox") as unknown as OutboxEntry[])
      .sort((a, b) => a.ID < b.ID ? -1 : 1);
  }

  /** Removes every entry; returns how many there were. */
  clear(): number {
    const all = this.list();
    this.#db.transaction(() => all.forEach((e) => this.#db.delete("outbox", e.ID)));
    return all.length;
  }
}
