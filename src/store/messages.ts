/**
 * Messages of the index: one row per message with what IMAP FETCH needs without the literal
 * (INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE, BODY, the header block), its flags and
 * keywords, its CONDSTORE mod-sequence and whether it was built or is a placeholder. The search
 * texts of its header block (`search_fields.ts`) are written with the block.
 *
 * Flags and keywords belong to the message, so a change shows in every mailbox holding it: the
 * change gets one new mod-sequence, written to the message, to each of its memberships and to
 * those mailboxes' HIGHESTMODSEQ. A change that changes nothing writes nothing (RFC 7162 §3.2).
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import type { InternalMessageId, MailboxId, RemoteAddressId, RemoteMessageId, Uid } from "./ids.ts";
import type { Membership, MembershipRef } from "./membership.ts";
import { writeHeaderFields } from "./sort_fields.ts";
import type { Sql } from "./sql.ts";

/** Bits of the `flags` value. \Deleted is per mailbox (see membership.ts); other keywords are
 * strings. */
export const MessageFlag = {
  Seen: 1,
  Flagged: 2,
  Answered: 4,
  Draft: 8,
  Forwarded: 16,
} as const;

/** IDs per query of {@link Messages.flagStates}. */
export const FLAG_STATE_BATCH = 500;

/** Every bit of {@link MessageFlag}. */
export const ALL_MESSAGE_FLAGS = 31;

/**
 * What a sync's `replace` of a message's flags with the server's keeps: `\Answered`. A client
 * sets it locally (STORE does not reach the API for it: there is nothing to call), and the API's
 * `IsReplied` only says whether a reply went out through Proton, so the server's "not replied"
 * must not erase a client's mark (mbsync would then clear the replied mark of its Maildir copy).
 */
export const SYNCED_KEEP = MessageFlag.Answered;

/** What the builder produced for a message, the same for every way a message enters the index. */
export interface MessageContent {
  addressId: RemoteAddressId | null;
  /** INTERNALDATE, Unix seconds. */
  internalDate: number;
  /** RFC822.SIZE: the byte length of the stored literal. */
  size: number;
  envelope: string;
  bodyStructure: string;
  body: string;
  /** The literal's header block (through the empty line), for BODY[HEADER.FIELDS …]. */
  header: Uint8Array;
  /** Set when the message could not be built and the content is a placeholder. */
  buildError?: string | null;
  /** Remote metadata as JSON text, if the sync wants it kept. */
  remoteMeta?: string | null;
  /**
   * SHA-256 of the literal, to tell whether a literal rebuilt later is the same one; absent (NULL)
   * for messages indexed before it was recorded.
   */
  literalSha256?: Uint8Array | null;
}

/** A message to insert. */
export interface NewMessage extends MessageContent {
  /** `null` for a message that exists only here (the recovery mailbox). */
  remoteId: RemoteMessageId | null;
  /** {@link MessageFlag} bits. */
  flags: number;
  keywords?: readonly string[];
}

/** A message as the sync layer hands it over: remote metadata plus the built content. */
export interface SyncedMessage extends MessageContent {
  remoteId: RemoteMessageId;
  /** {@link MessageFlag} bits from the remote metadata; local keywords are kept. */
  flags: number;
}

/** A stored message. */
export interface StoredMessage {
  id: InternalMessageId;
  remoteId: RemoteMessageId | null;
  addressId: RemoteAddressId | null;
  internalDate: number;
  size: number;
  flags: number;
  keywords: string[];
  modseq: number;
  envelope: string;
  bodyStructure: string;
  body: string;
  header: Uint8Array;
  buildStatus: "ok" | "failed";
  buildError: string | null;
  remoteMeta: string | null;
  /** See {@link MessageContent.literalSha256}; `null` when unknown. */
  literalSha256: Uint8Array | null;
}

/** A change to flags, as IMAP STORE expresses it (`+FLAGS`, `-FLAGS`, `FLAGS`). */
export interface FlagChange {
  mode: "add" | "remove" | "replace";
  /** {@link MessageFlag} bits. */
  flags: number;
  /** With `replace`: bits kept from the current value when set there (see {@link SYNCED_KEEP}). */
  keep?: number;
  /** Keywords to add, remove, or replace with; with `replace`, omitted means "leave alone". */
  keywords?: readonly string[];
}

/** One message whose flags a change did change. */
export interface FlagUpdate {
  messageId: InternalMessageId;
  flags: number;
  keywords: string[];
  modseq: number;
  /** Where the message is, so sessions on those mailboxes can be told. */
  memberships: MembershipRef[];
}

/** What {@link Messages.upsertFromSync} did. */
export interface UpsertResult {
  id: InternalMessageId;
  created: boolean;
  flagsChanged: boolean;
}

/** Thrown when an internal message ID names no message. */
export class MessageNotFoundError extends Error {
  constructor(id: InternalMessageId) {
    super(`No message with ID ${id}`);
    this.name = "MessageNotFoundError";
  }
}

interface MessageRow {
  id: number;
  remote_id: string | null;
  address_id: string | null;
  internal_date: number;
  size: number;
  flags: number;
  modseq: number;
  envelope: string;
  body_structure: string;
  body: string;
  header: Uint8Array;
  build_status: "ok" | "failed";
  build_error: string | null;
  remote_meta: string | null;
  literal_sha256: Uint8Array | null;
}

/** The `messages` and `message_keywords` tables. */
export class Messages {
  #sql: Sql;
  #counters: Counters;
  #membership: Membership;

  constructor(sql: Sql, counters: Counters, membership: Membership) {
    this.#sql = sql;
    this.#counters = counters;
    this.#membership = membership;
  }

  /** Inserts a message (in no mailbox yet) and returns its new internal ID. */
  insert(message: NewMessage): InternalMessageId {
    return this.#sql.transaction(() => {
      const row = this.#sql.q(
        `INSERT INTO messages (remote_id, address_id, internal_date, size, flags, modseq,
           envelope, body_structure, body, header, build_status, build_error, remote_meta,
           literal_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ).get(
        message.remoteId,
        message.addressId,
        message.internalDate,
        message.size,
        message.flags & ALL_MESSAGE_FLAGS,
        this.#counters.nextModseq(),
        message.envelope,
        message.bodyStructure,
        message.body,
        message.header,
        message.buildError == null ? "ok" : "failed",
        message.buildError ?? null,
        message.remoteMeta ?? null,
        message.literalSha256 ?? null,
      ) as { id: number };
      const id = row.id as InternalMessageId;
      writeHeaderFields(this.#sql, id, message.header);
      const add = this.#sql.q(
        "INSERT OR IGNORE INTO message_keywords (message_id, keyword) VALUES (?, ?)",
      );
      for (const k of message.keywords ?? []) add.run(id, k);
      return id;
    });
  }

  /**
   * Inserts a message from the sync, or, when its remote ID is known, updates it in place: the
   * content is replaced, the flag bits follow the remote ones (bumping MODSEQ only if they
   * differ), keywords and memberships are kept. Applying the same message twice changes nothing.
   * Memberships are set separately with {@link Membership.setMessageLabels}.
   */
  upsertFromSync(message: SyncedMessage): UpsertResult {
    return this.#sql.transaction(() => {
      const existing = this.byRemoteId(message.remoteId);
      if (existing === undefined) {
        return { id: this.insert(message), created: true, flagsChanged: false };
      }
      this.#sql.q(
        `UPDATE messages SET address_id = ?, internal_date = ?, size = ?, envelope = ?,
           body_structure = ?, body = ?, header = ?, build_status = ?, build_error = ?,
           remote_meta = ?, literal_sha256 = ?
         WHERE id = ?`,
      ).run(
        message.addressId,
        message.internalDate,
        message.size,
        message.envelope,
        message.bodyStructure,
        message.body,
        message.header,
        message.buildError == null ? "ok" : "failed",
        message.buildError ?? null,
        message.remoteMeta ?? null,
        message.literalSha256 ?? null,
        existing,
      );
      writeHeaderFields(this.#sql, existing, message.header);
      this.#sql.q(
        `UPDATE mailbox_messages SET internal_date = ?, size = ?
         WHERE message_id = ? AND (internal_date <> ? OR size <> ?)`,
      ).run(message.internalDate, message.size, existing, message.internalDate, message.size);
      const changed = this.setFlags([existing], {
        mode: "replace",
        flags: message.flags,
        keep: SYNCED_KEEP,
      });
      return { id: existing, created: false, flagsChanged: changed.length > 0 };
    });
  }

  /**
   * Records the SHA-256 of a message's literal where the index has none (a message indexed before
   * digests were kept, whose literal was rebuilt and found to be the same). Changes nothing a
   * client sees, so no mod-sequence.
   */
  recordLiteralSha256(id: InternalMessageId, digest: Uint8Array): void {
    this.#sql.q("UPDATE messages SET literal_sha256 = ? WHERE id = ? AND literal_sha256 IS NULL")
      .run(digest, id);
  }

  /**
   * Up to `limit` messages above `after` (ID and RFC822.SIZE), ascending, with no literal digest
   * yet.
   */
  withoutLiteralSha256(after: number, limit: number): { id: InternalMessageId; size: number }[] {
    return (this.#sql.q(
      "SELECT id, size FROM messages WHERE id > ? AND literal_sha256 IS NULL ORDER BY id LIMIT ?",
    ).all(after, limit) as { id: number; size: number }[]).map((r) => ({
      id: r.id as InternalMessageId,
      size: r.size,
    }));
  }

  /** The message with this ID, if any. */
  get(id: InternalMessageId): StoredMessage | undefined {
    const row = this.#sql.q("SELECT * FROM messages WHERE id = ?").get(id) as
      | MessageRow
      | undefined;
    if (!row) return undefined;
    return {
      id: row.id as InternalMessageId,
      remoteId: row.remote_id as RemoteMessageId | null,
      addressId: row.address_id as RemoteAddressId | null,
      internalDate: row.internal_date,
      size: row.size,
      flags: row.flags,
      keywords: this.keywords(id),
      modseq: row.modseq,
      envelope: row.envelope,
      bodyStructure: row.body_structure,
      body: row.body,
      header: row.header,
      buildStatus: row.build_status,
      buildError: row.build_error,
      remoteMeta: row.remote_meta,
      literalSha256: row.literal_sha256,
    };
  }

  /** The internal ID of a remote message, if it is indexed. */
  byRemoteId(remoteId: RemoteMessageId): InternalMessageId | undefined {
    const row = this.#sql.q("SELECT id FROM messages WHERE remote_id = ?").get(remoteId) as
      | { id: number }
      | undefined;
    return row?.id as InternalMessageId | undefined;
  }

  /** The {@link MessageFlag} bits of a message, without reading the rest of its row. */
  flagsOf(id: InternalMessageId): number | undefined {
    const row = this.#sql.q("SELECT flags FROM messages WHERE id = ?").get(id) as
      | { flags: number }
      | undefined;
    return row?.flags;
  }

  /** The header block of a message, for BODY[HEADER.FIELDS …] without the literal. */
  header(id: InternalMessageId): Uint8Array | undefined {
    const row = this.#sql.q("SELECT header FROM messages WHERE id = ?").get(id) as
      | { header: Uint8Array }
      | undefined;
    return row?.header;
  }

  /** A message's keywords, sorted. */
  keywords(id: InternalMessageId): string[] {
    const rows = this.#sql.q("SELECT keyword FROM message_keywords WHERE message_id = ?").all(
      id,
    ) as { keyword: string }[];
    return rows.map((r) => r.keyword).sort();
  }

  /** Gives a message a (new) remote ID, e.g. once a local draft exists on the server. UIDs stay. */
  setRemoteId(id: InternalMessageId, remoteId: RemoteMessageId | null): void {
    const result = this.#sql.q("UPDATE messages SET remote_id = ? WHERE id = ?").run(remoteId, id);
    if (result.changes === 0) throw new MessageNotFoundError(id);
  }

  /** Messages stored as placeholders because they failed to build, with the reason. */
  failedBuilds(): { id: InternalMessageId; remoteId: RemoteMessageId | null; reason: string }[] {
    const rows = this.#sql.q(
      "SELECT id, remote_id, build_error FROM messages WHERE build_status = 'failed' ORDER BY id",
    ).all() as { id: number; remote_id: string | null; build_error: string | null }[];
    return rows.map((r) => ({
      id: r.id as InternalMessageId,
      remoteId: r.remote_id as RemoteMessageId | null,
      reason: r.build_error ?? "",
    }));
  }

  /** How many messages the index holds. */
  count(): number {
    return (this.#sql.q("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
  }

  /**
   * A predicate "the index holds this remote message as of now": messages indexed later (higher
   * internal IDs, never reused) do not count. Tells a message known before a request from one
   * the request made (a draft or import whose reply was lost, indexed by the event loop since).
   */
  knownAsOfNow(): (remoteId: RemoteMessageId) => boolean {
    const max =
      (this.#sql.q("SELECT max(id) AS m FROM messages").get() as { m: number | null }).m ??
        0;
    return (remoteId) => {
      const id = this.byRemoteId(remoteId);
      return id !== undefined && id <= max;
    };
  }

  /**
   * Applies a flag change to messages (missing IDs are skipped). All messages that actually change
   * share one new mod-sequence; returns them.
   */
  setFlags(ids: readonly InternalMessageId[], change: FlagChange): FlagUpdate[] {
    return this.#sql.transaction(() => {
      const updates: FlagUpdate[] = [];
      const touched = new Set<MailboxId>();
      let modseq = 0;
      for (const id of new Set(ids)) {
        const old = this.flagsOf(id);
        if (old === undefined) continue;
        const oldKeywords = this.keywords(id);
        const flags = applyBits(old, change);
        const keywords = applyKeywords(oldKeywords, change);
        const sameKeywords = keywords.length === oldKeywords.length &&
          keywords.every((k, i) => k === oldKeywords[i]);
        if (flags === old && sameKeywords) continue;
        modseq ||= this.#counters.nextModseq();
        this.#sql.q("UPDATE messages SET flags = ?, modseq = ? WHERE id = ?").run(
          flags,
          modseq,
          id,
        );
        if (!sameKeywords) {
          this.#sql.q("DELETE FROM message_keywords WHERE message_id = ?").run(id);
          const add = this.#sql.q(
            "INSERT INTO message_keywords (message_id, keyword) VALUES (?, ?)",
          );
          for (const k of keywords) add.run(id, k);
        }
        const memberships = (this.#sql.q(
          `UPDATE mailbox_messages SET flags = ?, modseq = ? WHERE message_id = ?
           RETURNING mailbox_id, uid`,
        ).all(flags, modseq, id) as { mailbox_id: number; uid: number }[])
          .map((r) => ({ mailbox: r.mailbox_id as MailboxId, uid: r.uid as Uid }));
        for (const m of memberships) touched.add(m.mailbox);
        updates.push({ messageId: id, flags, keywords, modseq, memberships });
      }
      const bump = this.#sql.q(
        "UPDATE mailboxes SET highest_modseq = max(highest_modseq, ?) WHERE id = ?",
      );
      for (const mailbox of touched) bump.run(modseq, mailbox);
      return updates;
    });
  }

  /**
   * The flag bits and keywords (sorted) of several messages; IDs without a message are left out.
   * One query per {@link FLAG_STATE_BATCH} IDs.
   */
  flagStates(
    ids: readonly InternalMessageId[],
  ): Map<InternalMessageId, { flags: number; keywords: string[] }> {
    const out = new Map<InternalMessageId, { flags: number; keywords: string[] }>();
    const st = this.#sql.q(
      `SELECT m.id, m.flags,
         (SELECT json_group_array(keyword) FROM message_keywords k WHERE k.message_id = m.id)
           AS keywords
       FROM messages m WHERE m.id IN (SELECT value FROM json_each(?))`,
    );
    for (let i = 0; i < ids.length; i += FLAG_STATE_BATCH) {
      const rows = st.all(JSON.stringify(ids.slice(i, i + FLAG_STATE_BATCH))) as {
        id: number;
        flags: number;
        keywords: string;
      }[];
      for (const r of rows) {
        out.set(r.id as InternalMessageId, {
          flags: r.flags,
          keywords: (JSON.parse(r.keywords) as string[]).sort(),
        });
      }
    }
    return out;
  }

  /**
   * Gives each message its own new flag bits and keywords (a STORE that already knows each
   * message's outcome). Missing IDs are skipped, and so are messages that would not change; the
   * others share one new mod-sequence, like {@link setFlags}. Returns them, with the memberships
   * they had when the flags were written.
   */
  setEachFlags(
    targets: readonly { id: InternalMessageId; flags: number; keywords: readonly string[] }[],
  ): FlagUpdate[] {
    return this.#sql.transaction(() => {
      const current = this.flagStates(targets.map((t) => t.id));
      const dropKeywords = this.#sql.q("DELETE FROM message_keywords WHERE message_id = ?");
      const addKeyword = this.#sql.q(
        "INSERT INTO message_keywords (message_id, keyword) VALUES (?, ?)",
      );
      // What changes, in target order; the rows are then written one statement per distinct flag
      // value (a STORE on 1,000 messages usually has one or two), not one per message.
      const changed: { id: InternalMessageId; flags: number; keywords: string[] }[] = [];
      const byFlags = new Map<number, InternalMessageId[]>();
      const done = new Set<InternalMessageId>();
      for (const target of targets) {
        const before = current.get(target.id);
        if (!before || done.has(target.id)) continue;
        done.add(target.id);
        const flags = target.flags & ALL_MESSAGE_FLAGS;
        const keywords = [...new Set(target.keywords)].sort();
        const sameKeywords = keywords.length === before.keywords.length &&
          keywords.every((k, i) => k === before.keywords[i]);
        if (flags === before.flags && sameKeywords) continue;
        changed.push({ id: target.id, flags, keywords });
        const group = byFlags.get(flags);
        if (group) group.push(target.id);
        else byFlags.set(flags, [target.id]);
        if (!sameKeywords) {
          dropKeywords.run(target.id);
          for (const k of keywords) addKeyword.run(target.id, k);
        }
      }
      if (changed.length === 0) return [];
      const modseq = this.#counters.nextModseq();
      const setMessages = this.#sql.q(
        `UPDATE messages SET flags = ?, modseq = ?
         WHERE id IN (SELECT value FROM json_each(?))`,
      );
      const setMemberships = this.#sql.q(
        `UPDATE mailbox_messages SET flags = ?, modseq = ?
         WHERE message_id IN (SELECT value FROM json_each(?))
         RETURNING message_id, mailbox_id, uid`,
      );
      const memberships = new Map<InternalMessageId, MembershipRef[]>();
      const touched = new Set<MailboxId>();
      for (const [flags, ids] of byFlags) {
        const list = JSON.stringify(ids);
        setMessages.run(flags, modseq, list);
        const rows = setMemberships.all(flags, modseq, list) as {
          message_id: number;
          mailbox_id: number;
          uid: number;
        }[];
        for (const r of rows) {
          const ref = { mailbox: r.mailbox_id as MailboxId, uid: r.uid as Uid };
          const id = r.message_id as InternalMessageId;
          const refs = memberships.get(id);
          if (refs) refs.push(ref);
          else memberships.set(id, [ref]);
          touched.add(ref.mailbox);
        }
      }
      const bump = this.#sql.q(
        "UPDATE mailboxes SET highest_modseq = max(highest_modseq, ?) WHERE id = ?",
      );
      for (const mailbox of touched) bump.run(modseq, mailbox);
      return changed.map(({ id, flags, keywords }) => ({
        messageId: id,
        flags,
        keywords,
        modseq,
        memberships: (memberships.get(id) ?? []).sort((a, b) => a.mailbox - b.mailbox),
      }));
    });
  }

  /**
   * Deletes a message: expunges it from every mailbox (recording the UIDs for QRESYNC), then
   * removes the row, its keywords and its search texts (both by `ON DELETE CASCADE`). Returns the memberships it had. Its literal cache entry is
   * the caller's to drop.
   */
  delete(id: InternalMessageId): MembershipRef[] {
    return this.#sql.transaction(() => {
      const removed = this.#membership.removeMessage(id);
      this.#sql.q("DELETE FROM messages WHERE id = ?").run(id);
      return removed;
    });
  }
}

function applyBits(current: number, change: FlagChange): number {
  const bits = change.flags & ALL_MESSAGE_FLAGS;
  switch (change.mode) {
    case "add":
      return current | bits;
    case "remove":
      return current & ~bits;
    case "replace":
      return bits | (current & (change.keep ?? 0) & ALL_MESSAGE_FLAGS);
  }
}

function applyKeywords(current: readonly string[], change: FlagChange): string[] {
  const given = change.keywords;
  if (!given) return [...current];
  let next: Set<string>;
  switch (change.mode) {
    case "add":
      next = new Set([...current, ...given]);
      break;
    case "remove": {
      const drop = new Set(given);
      next = new Set(current.filter((k) => !drop.has(k)));
      break;
    }
    case "replace":
      next = new Set(given);
      break;
  }
  return [...next].sort();
}
