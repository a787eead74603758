/**
 * The `appended_copies` table: for a message a mail client stored here itself (APPEND imported
 * it, or found it as the message just sent), the SHA-256 of the client's bytes as a Maildir
 * synchroniser uploads them again (`src/connector/known_copy.ts`: tracking fields out, CRLF).
 * Those clients keep their own file of such a message (they never download the server's rebuilt
 * copy), so when they move it to another folder they APPEND that file there: found here, the
 * message is labelled into the mailbox instead of imported once more (a new copy at every move).
 *
 * A row goes with its message (`ON DELETE CASCADE`); a digest names one message, the last one
 * recorded for it.
 *
 * @module
 */
import type { InternalMessageId } from "./ids.ts";
import type { Sql } from "./sql.ts";

/** See the module notes. */
export class AppendedCopies {
  readonly #sql: Sql;

  /** Over the store's connection. */
  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Records that the client's bytes with this digest are message `id`. */
  record(digest: Uint8Array, id: InternalMessageId): void {
    this.#sql.q(
      `INSERT INTO appended_copies (digest, message_id) VALUES (?, ?)
       ON CONFLICT (digest) DO UPDATE SET message_id = excluded.message_id`,
    ).run(digest, id);
  }

  /** The message a client's bytes with this digest are, if recorded. */
  find(digest: Uint8Array): InternalMessageId | undefined {
    const row = this.#sql.q("SELECT message_id FROM appended_copies WHERE digest = ?").get(
      digest,
    ) as { message_id: number } | undefined;
    return row?.message_id as InternalMessageId | undefined;
  }
}
