/**
 * Mailboxes of the index: one row per IMAP mailbox with its remote label ID, name, kind, LIST
 * attributes, subscription, UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ.
 *
 * UIDVALIDITY is drawn once, at creation, from the persisted monotonic generator
 * ({@link Counters.nextUidValidity}); it changes only through {@link Mailboxes.bumpUidValidity},
 * which the sync calls when it rebuilds the index, and then only upward (ARCHITECTURE invariant 1).
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import type { MailboxId, RemoteLabelId, Uid } from "./ids.ts";
import type { Sql } from "./sql.ts";

/** What a mailbox stands for: a system location, a user folder or label, a `\Noselect` parent
 * such as `Folders`, or a mailbox that exists only here (the recovery mailbox). */
export type MailboxKind = "system" | "folder" | "label" | "placeholder" | "local";

/** A mailbox as stored. */
export interface Mailbox {
  id: MailboxId;
  /** The label ID on the server; `null` for local-only mailboxes. */
  remoteId: RemoteLabelId | null;
  /** The IMAP name, decoded (not modified UTF-7), hierarchy delimiter `/`. */
  name: string;
  kind: MailboxKind;
  /** LIST attributes such as `\Noselect` or `\Trash`, as the caller gave them. */
  attributes: string[];
  subscribed: boolean;
  uidValidity: number;
  /** The UID the next message added to this mailbox gets. */
  uidNext: Uid;
  /** The largest mod-sequence of any change in this mailbox (never 0, RFC 7162 §3.1.2.1). */
  highestModseq: number;
}

/** Fields of a new mailbox. */
export interface NewMailbox {
  name: string;
  kind: MailboxKind;
  remoteId?: RemoteLabelId | null;
  attributes?: readonly string[];
  /** Default true. */
  subscribed?: boolean;
}

/** Fields {@link Mailboxes.update} can change (renames go through {@link Mailboxes.rename}). */
export interface MailboxPatch {
  kind?: MailboxKind;
  remoteId?: RemoteLabelId | null;
  attributes?: readonly string[];
  subscribed?: boolean;
}

/** One mailbox renamed by {@link Mailboxes.rename}. */
export interface MailboxRenamed {
  id: MailboxId;
  oldName: string;
  newName: string;
}

/** Thrown when a name or remote ID is already used by another mailbox. */
export class MailboxExistsError extends Error {
  constructor(what: string) {
    super(`Mailbox ${what} already exists`);
    this.name = "MailboxExistsError";
  }
}

/** Thrown when a mailbox ID names no mailbox. */
export class MailboxNotFoundError extends Error {
  constructor(id: MailboxId) {
    super(`No mailbox with ID ${id}`);
    this.name = "MailboxNotFoundError";
  }
}

interface MailboxRow {
  id: number;
  remote_id: string | null;
  name: string;
  kind: MailboxKind;
  attributes: string;
  subscribed: number;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
}

const COLUMNS =
  "id, remote_id, name, kind, attributes, subscribed, uid_validity, uid_next, highest_modseq";

function toMailbox(r: MailboxRow): Mailbox {
  return {
    id: r.id as MailboxId,
    remoteId: r.remote_id as RemoteLabelId | null,
    name: r.name,
    kind: r.kind,
    attributes: JSON.parse(r.attributes),
    subscribed: r.subscribed === 1,
    uidValidity: r.uid_validity,
    uidNext: r.uid_next as Uid,
    highestModseq: r.highest_modseq,
  };
}

/** The `mailboxes` table. */
export class Mailboxes {
  #sql: Sql;
  #counters: Counters;

  constructor(sql: Sql, counters: Counters) {
    this.#sql = sql;
    this.#counters = counters;
  }

  /**
   * Creates a mailbox with a fresh UIDVALIDITY, UIDNEXT 1 and a HIGHESTMODSEQ of its own.
   *
   * @throws {MailboxExistsError} when the name or remote ID is taken.
   */
  create(mailbox: NewMailbox): Mailbox {
    return this.#sql.transaction(() => {
      this.#assertFree(mailbox.name, mailbox.remoteId ?? null);
      const row = this.#sql.q(
        `INSERT INTO mailboxes
           (remote_id, name, kind, attributes, subscribed, uid_validity, highest_modseq)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
      ).get(
        mailbox.remoteId ?? null,
        mailbox.name,
        mailbox.kind,
        JSON.stringify(mailbox.attributes ?? []),
        mailbox.subscribed === false ? 0 : 1,
        this.#counters.nextUidValidity(),
        this.#counters.nextModseq(),
      ) as unknown as MailboxRow;
      return toMailbox(row);
    });
  }

  /** The mailbox with this ID, if any. */
  get(id: MailboxId): Mailbox | undefined {
    const row = this.#sql.q(`SELECT ${COLUMNS} FROM mailboxes WHERE id = ?`).get(id);
    return row ? toMailbox(row as unknown as MailboxRow) : undefined;
  }

  /** The mailbox with this ID. @throws {MailboxNotFoundError} */
  require(id: MailboxId): Mailbox {
    const mailbox = this.get(id);
    if (!mailbox) throw new MailboxNotFoundError(id);
    return mailbox;
  }

  /** The mailbox with exactly this name, if any (case rules such as INBOX's are the caller's). */
  byName(name: string): Mailbox | undefined {
    const row = this.#sql.q(`SELECT ${COLUMNS} FROM mailboxes WHERE name = ?`).get(name);
    return row ? toMailbox(row as unknown as MailboxRow) : undefined;
  }

  /** The mailbox of a remote label, if any. */
  byRemoteId(remoteId: RemoteLabelId): Mailbox | undefined {
    const row = this.#sql.q(`SELECT ${COLUMNS} FROM mailboxes WHERE remote_id = ?`).get(remoteId);
    return row ? toMailbox(row as unknown as MailboxRow) : undefined;
  }

  /** Every mailbox, ordered by name. */
  list(): Mailbox[] {
    const rows = this.#sql.q(`SELECT ${COLUMNS} FROM mailboxes ORDER BY name`).all();
    return rows.map((r) => toMailbox(r as unknown as MailboxRow));
  }

  /**
   * Changes kind, remote ID, attributes or subscription; returns the updated mailbox.
   *
   * @throws {MailboxNotFoundError} @throws {MailboxExistsError} when the remote ID is taken.
   */
  update(id: MailboxId, patch: MailboxPatch): Mailbox {
    return this.#sql.transaction(() => {
      const current = this.require(id);
      if (patch.remoteId != null && patch.remoteId !== current.remoteId) {
        this.#assertFree(undefined, patch.remoteId);
      }
      const row = this.#sql.q(
        `UPDATE mailboxes SET kind = ?, remote_id = ?, attributes = ?, subscribed = ?
         WHERE id = ? RETURNING ${COLUMNS}`,
      ).get(
        patch.kind ?? current.kind,
        patch.remoteId === undefined ? current.remoteId : patch.remoteId,
        JSON.stringify(patch.attributes ?? current.attributes),
        (patch.subscribed ?? current.subscribed) ? 1 : 0,
        id,
      ) as unknown as MailboxRow;
      return toMailbox(row);
    });
  }

  /**
   * Renames a mailbox. With `delimiter`, its inferiors (`old<delimiter>…`) move along, as IMAP
   * RENAME requires (RFC 3501 §6.3.5). UIDs, UIDVALIDITY and messages are untouched.
   *
   * @throws {MailboxNotFoundError} @throws {MailboxExistsError} when a new name is taken.
   * @throws {RangeError} when the new name lies under the old one.
   */
  rename(id: MailboxId, newName: string, options: { delimiter?: string } = {}): MailboxRenamed[] {
    return this.#sql.transaction(() => {
      const current = this.require(id);
      if (newName === current.name) return [];
      const renames: MailboxRenamed[] = [{ id, oldName: current.name, newName }];
      const { delimiter } = options;
      if (delimiter) {
        if (newName.startsWith(current.name + delimiter)) {
          throw new RangeError(`Cannot move mailbox "${current.name}" under itself`);
        }
        const prefix = current.name + delimiter;
        const children = this.#sql.q(
          "SELECT id, name FROM mailboxes WHERE substr(name, 1, length(?)) = ? ORDER BY name",
        ).all(prefix, prefix) as { id: number; name: string }[];
        for (const c of children) {
          renames.push({
            id: c.id as MailboxId,
            oldName: c.name,
            newName: newName + delimiter + c.name.slice(prefix.length),
          });
        }
      }
      for (const r of renames) this.#assertFree(r.newName, null);
      const update = this.#sql.q("UPDATE mailboxes SET name = ? WHERE id = ?");
      for (const r of renames) update.run(r.newName, r.id);
      return renames;
    });
  }

  /**
   * Deletes a mailbox; its UIDs and expunge history go with it (foreign keys cascade), its messages
   * stay in their other mailboxes. Inferiors are the caller's business.
   */
  delete(id: MailboxId): void {
    this.#sql.q("DELETE FROM mailboxes WHERE id = ?").run(id);
  }

  /**
   * Gives the mailbox a new, larger UIDVALIDITY; only for an explicit rebuild of the index
   * (clients then discard what they cached). Forgets the expunge history, which only made sense
   * under the old value. Returns the new value.
   *
   * @throws {MailboxNotFoundError}
   */
  bumpUidValidity(id: MailboxId): number {
    return this.#sql.transaction(() => {
      this.require(id);
      const value = this.#counters.nextUidValidity();
      this.#sql.q("UPDATE mailboxes SET uid_validity = ? WHERE id = ?").run(value, id);
      this.#sql.q("DELETE FROM mailbox_expunged WHERE mailbox_id = ?").run(id);
      return value;
    });
  }

  #assertFree(name: string | undefined, remoteId: RemoteLabelId | null): void {
    if (name !== undefined && this.byName(name)) throw new MailboxExistsError(`"${name}"`);
    if (remoteId !== null && this.byRemoteId(remoteId)) {
      throw new MailboxExistsError(`with remote ID "${remoteId}"`);
    }
  }
}
