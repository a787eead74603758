/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8; CONDSTORE RFC 7162 §3.1.4).
 *
 * Real client lines:
 * - Thunderbird: `5 UID fetch 1:* (FLAGS)` and
 *   `7 UID fetch 4 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])`
 * - mbsync: `5 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (X-TUID)])`, then
 *   `7 UID FETCH 12 (BODY.PEEK[])`
 * - Apple Mail: `12 UID FETCH 1:140 (UID FLAGS MODSEQ) (CHANGEDSINCE 2231)` and
 *   `13 UID FETCH 141 (BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)] RFC822.SIZE INTERNALDATE)`
 *
 * - QRESYNC clients: `A5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 394 VANISHED)`: first
 *   `* VANISHED (EARLIER) <uids>`, the UIDs of the set expunged after that mod-sequence (RFC 7162
 *   §3.2.6; only with UID FETCH, CHANGEDSINCE and QRESYNC enabled, else `BAD`), then the FETCHes.
 *
 * How it works: the set is resolved against the session's snapshot, narrowed by `CHANGEDSINCE`,
 * and served in batches of {@link FETCH_BATCH} UIDs: one index query per batch (only flag columns
 * when nothing else is asked), the stored header block for header-only sections, the literal only
 * when a body section needs it. One `* n FETCH (…)` per message, in UID order, written as soon as
 * the pending output passes 64 KiB, so big bodies stream through the encoder without being copied
 * or concatenated with the rest of the mailbox. Literals are read a few messages ahead
 * (`literal_prefetch.ts`: at most 8 messages and 8 MiB), so decrypting the next ones overlaps
 * encoding and writing this one.
 *
 * A non-PEEK body section on a read-write mailbox sets `\Seen` first (through the account, so it
 * reaches the API) and the response then carries FLAGS (RFC 3501 §6.4.5), with UID and MODSEQ when
 * CONDSTORE is on (RFC 7162 §3.1). The bus delivers that change back to this session; its queued
 * copy is dropped so the flush after the command does not repeat it.
 *
 * Messages that are in the snapshot but gone from the index (expunged by someone else, not yet
 * reported: the snapshot only changes at a flush) are skipped silently. A message whose literal
 * cannot be loaded is skipped and the command ends `NO [UNAVAILABLE]` after the others;
 * `NO [EXPUNGEISSUED]` (RFC 5530) when every skipped one was replaced meanwhile (its literal,
 * rebuilt after a cache miss, was not the one its UID showed: `literal_source.ts`), so the client
 * fetches again after the EXPUNGE and EXISTS that follow.
 *
 * @module
 */
import { MailboxOperationError } from "../../connector/account.ts";
import {
  type Header,
  type MimePart,
  parseHeader,
  parseMessage,
  sectionBytes,
  selectHeaderFields,
} from "../../mime/mod.ts";
import { type FetchRow, type FlagRow, MessageFlag, type Uid } from "../../store/mod.ts";
import {
  bad,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  no,
  ok,
  type SessionApi,
} from "../session/context.ts";
import type { MailboxView } from "../state/mailbox_view.ts";
import { flagList } from "../state/flags.ts";
import { type ByteSink, compactUidSet, Encoder } from "../wire/mod.ts";
import {
  type BodySectionItem,
  type FetchAttribute,
  type FetchRequest,
  needsFetchRow,
  parseFetchRequest,
  setsSeen,
} from "./fetch_items.ts";
import { LiteralPrefetch } from "./literal_prefetch.ts";
import { dropOwnFlagChanges } from "./own_flag_changes.ts";

/** UIDs per index query. */
export const FETCH_BATCH = 500;

/** Pending output above this many bytes is written before the next message is encoded. */
const WRITE_THRESHOLD = 64 * 1024;
/**
 * Messages a non-PEEK body fetch marks `\Seen` at a time, each group written out before the next
 * is marked: a client that drops the connection mid-FETCH leaves at most this many messages
 * marked read that it never received (the mark reaches the API first, so the response can say
 * FLAGS (\Seen)).
 */
export const SEEN_GROUP = 50;

/** Pieces of output at least this large are passed on as they are instead of being packed. */
const PACK_LIMIT = 16 * 1024;

/** FETCH and UID FETCH. */
export const fetchCommand: CommandSpec = {
  names: ["FETCH", "UID FETCH"],
  states: ["selected"],
  flush: "no-expunge",
  handle: handleFetch,
};

/**
 * Collects the encoder's output for {@link SessionApi.write}: small pieces (one per message and per
 * ENVELOPE or BODYSTRUCTURE with literals inside) are packed into shared chunks so a mailbox of
 * small responses goes out in a few large writes; large pieces (message bodies) are kept as the
 * caller's own arrays, never copied.
 */
export class PartsSink implements ByteSink {
  #parts: Uint8Array[] = [];
  #buf = new Uint8Array(WRITE_THRESHOLD);
  #len = 0;
  /** Bytes collected and not yet taken. */
  size = 0;

  /** Takes one piece of output. */
  write(bytes: Uint8Array): void {
    this.size += bytes.length;
    if (bytes.length >= PACK_LIMIT) {
      this.#seal();
      this.#parts.push(bytes);
      return;
    }
    if (this.#len + bytes.length > this.#buf.length) this.#seal();
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  /** Everything collected so far, in order; the sink is empty afterwards. */
  take(): Uint8Array[] {
    this.#seal();
    const parts = this.#parts;
    this.#parts = [];
    this.size = 0;
    return parts;
  }

  #seal(): void {
    if (this.#len === 0) return;
    // A copy: the write may still be pending when the buffer is reused.
    this.#parts.push(this.#buf.slice(0, this.#len));
    this.#len = 0;
  }
}

async function handleFetch(ctx: CommandContext): Promise<CommandResult> {
  const { args, session } = ctx;
  const view = session.view;
  const account = session.account;
  if (!view || !account) throw new Error("FETCH ran without a selected mailbox");
  const set = args.expectSequenceSet();
  const request = parseFetchRequest(args);
  if (!args.end()) return bad(args.error?.message ?? "Invalid FETCH arguments", "CLIENTBUG");
  if (request.vanished) {
    // RFC 7162 §3.2.6: only with UID FETCH, CHANGEDSINCE and QRESYNC enabled.
    if (!session.enabled.has("QRESYNC")) return bad("VANISHED needs ENABLE QRESYNC", "CLIENTBUG");
    if (!ctx.uid) return bad("VANISHED is for UID FETCH only", "CLIENTBUG");
    if (request.changedSince === undefined) return bad("VANISHED needs CHANGEDSINCE", "CLIENTBUG");
  }
  let uids = view.resolve(set, ctx.uid);
  if (uids === undefined) {
    return bad(`Invalid message sequence number (the mailbox has ${view.exists})`, "CLIENTBUG");
  }
  if (request.vanished) {
    const gone = view.vanishedSince(Number(request.changedSince), set.resolve(0xFFFF_FFFF));
    if (gone.length > 0) {
      await session.respond((e) => e.raw(`* VANISHED (EARLIER) ${compactUidSet(gone)}`).crlf());
    }
  }
  const wantsModseq = request.items.includes("MODSEQ") || request.changedSince !== undefined;
  // RFC 7162 §3.1: MODSEQ and CHANGEDSINCE are CONDSTORE-enabling.
  if (wantsModseq && !session.enabled.has("CONDSTORE")) session.enable("CONDSTORE");
  if (request.changedSince !== undefined) {
    const since = Number(request.changedSince);
    const changed = new Set(
      view.store.membership.changedSince(view.mailboxId, since).map((r) => r.uid),
    );
    uids = uids.filter((u) => changed.has(u));
  }
  const writer = new FetchWriter(session, view, request, ctx.uid);
  for (let i = 0; i < uids.length; i += FETCH_BATCH) {
    await writer.batch(uids.slice(i, i + FETCH_BATCH));
  }
  await writer.finish();
  if (writer.expunged > 0 && writer.expunged === writer.unavailable) {
    return no(
      `${writer.expunged} message(s) were expunged meanwhile (replaced by a copy with a new ` +
        "UID); the others were fetched",
      "EXPUNGEISSUED",
    );
  }
  if (writer.unavailable > 0) {
    return no(
      `${writer.unavailable} message(s) could not be loaded now; the others were fetched`,
      "UNAVAILABLE",
    );
  }
  return ok(`${ctx.name} completed`);
}

/** The sections of a FETCH without body section items. */
const NO_SECTIONS: ReadonlyMap<BodySectionItem, Uint8Array> = new Map();

/** Writes the responses of one FETCH command. */
class FetchWriter {
  readonly #session: SessionApi;
  readonly #view: MailboxView;
  readonly #request: FetchRequest;
  readonly #uidCommand: boolean;
  readonly #sink = new PartsSink();
  readonly #e: Encoder;
  readonly #needsRow: boolean;
  readonly #setsSeen: boolean;
  /** Some item needs the whole literal (not only the stored header block). */
  readonly #needsLiteral: boolean;
  readonly #wants: Set<FetchAttribute>;
  /** Some item is a body section (`BODY[…]`, `RFC822…`). */
  readonly #hasSections: boolean;
  /** Messages skipped because their literal could not be loaded. */
  unavailable = 0;
  /** Of those, messages expunged meanwhile (a rebuild gave them new UIDs: `EXPUNGEISSUED`). */
  expunged = 0;

  constructor(session: SessionApi, view: MailboxView, request: FetchRequest, uidCommand: boolean) {
    this.#session = session;
    this.#view = view;
    this.#request = request;
    this.#uidCommand = uidCommand;
    this.#e = new Encoder(this.#sink);
    this.#needsRow = needsFetchRow(request);
    this.#setsSeen = setsSeen(request) && !view.readOnly;
    this.#needsLiteral = request.items.some((i) => typeof i !== "string" && !i.headerOnly);
    this.#wants = new Set(request.items.filter((i): i is FetchAttribute => typeof i === "string"));
    this.#hasSections = request.items.some((i) => typeof i !== "string");
  }

  async batch(uids: Uid[]): Promise<void> {
    const view = this.#view;
    const ranges = view.toUidRanges(uids);
    const rows: FlagRow[] = this.#needsRow
      ? view.store.membership.fetchRows(view.mailboxId, ranges)
      : view.store.membership.flagRows(view.mailboxId, ranges);
    if (!this.#setsSeen) return await this.#rows(rows);
    for (let i = 0; i < rows.length; i += SEEN_GROUP) {
      await this.#rows(rows.slice(i, i + SEEN_GROUP));
      await this.finish(); // out before the next group is marked read
    }
  }

  /** Marks `\Seen` where this fetch sets it, then writes the rows' responses. */
  async #rows(rows: FlagRow[]): Promise<void> {
    const view = this.#view;
    const seenNow = await this.#markSeen(rows);
    // Not in the snapshot: the client does not know them yet.
    const visible = rows.filter((row) => view.seqOf(row.uid) !== undefined);
    const account = this.#session.account!;
    const literals = this.#needsLiteral
      ? new LiteralPrefetch((id) => account.literal(id), visible)
      : undefined;
    for (let i = 0; i < visible.length; i++) {
      const row = visible[i];
      const seq = view.seqOf(row.uid)!;
      const ready = this.#hasSections
        ? await this.#loadSections(row, () => literals!.take(i))
        : NO_SECTIONS;
      if (ready === undefined) {
        this.unavailable++;
        continue;
      }
      this.#message(seq, row, seenNow.has(row.uid), ready);
      if (this.#sink.size >= WRITE_THRESHOLD) await this.#session.write(this.#sink.take());
    }
  }

  /** Writes out what is still buffered. */
  async finish(): Promise<void> {
    this.#e.flush();
    if (this.#sink.size > 0) await this.#session.write(this.#sink.take());
  }

  /**
   * Sets `\Seen` on the rows that need it (non-PEEK body fetch, RFC 3501 §6.4.5), patches them
   * with the stored result and returns their UIDs. A refusal from the account is logged and the
   * fetch goes on without it.
   */
  async #markSeen(rows: FlagRow[]): Promise<Set<Uid>> {
    if (!this.#setsSeen) return new Set();
    const targets = rows.filter((r) => (r.flags & MessageFlag.Seen) === 0).map((r) => r.uid);
    if (targets.length === 0) return new Set();
    const view = this.#view;
    const account = this.#session.account!;
    try {
      await account.storeFlags(this.#session.id, view.mailboxId, targets, {
        mode: "add",
        flags: ["\\Seen"],
      });
    } catch (error) {
      if (!(error instanceof MailboxOperationError)) throw error;
      this.#session.log(
        `FETCH could not set \\Seen on ${targets.length} message(s): ${error.code}`,
      );
      return new Set();
    }
    // Our own FlagsChanged comes back over the bus; drop it, then read the state, so a change
    // made by someone else in between is in what we write.
    dropOwnFlagChanges(view, targets);
    const fresh = new Map(
      view.store.membership.flagRows(view.mailboxId, view.toUidRanges(targets)).map((
        r,
      ) => [r.uid, r]),
    );
    for (const row of rows) {
      const f = fresh.get(row.uid);
      if (!f) continue;
      row.flags = f.flags;
      row.keywords = f.keywords;
      row.deleted = f.deleted;
      row.modseq = f.modseq;
    }
    return new Set(fresh.keys());
  }

  /**
   * The bytes of every body section of one message, in item order; `undefined` when its literal
   * cannot be loaded now.
   */
  async #loadSections(
    row: FlagRow,
    loadLiteral: () => Promise<Uint8Array>,
  ): Promise<Map<BodySectionItem, Uint8Array> | undefined> {
    const out = new Map<BodySectionItem, Uint8Array>();
    let headerBlock: Uint8Array | undefined;
    let header: Header | undefined;
    let literal: Uint8Array | undefined;
    let root: MimePart | undefined;
    for (const item of this.#request.items) {
      if (typeof item === "string") continue;
      let data: Uint8Array;
      if (item.headerOnly) {
        headerBlock ??= this.#view.store.messages.header(row.messageId) ?? new Uint8Array(0);
        const { specifier, fields } = item.section;
        if (specifier === "HEADER") data = headerBlock;
        else {
          header ??= parseHeader(headerBlock).header;
          data = selectHeaderFields(header, fields ?? [], specifier === "HEADER.FIELDS.NOT");
        }
      } else {
        if (!literal) {
          try {
            literal = await loadLiteral();
          } catch (error) {
            if (!(error instanceof MailboxOperationError)) throw error;
            this.#session.log(`FETCH could not load a literal: ${error.code}`);
            // Replaced (a rebuild gave it new UIDs) or expunged by another session meanwhile.
            if (error.code === "EXPUNGEISSUED" || error.code === "NONEXISTENT") this.expunged++;
            return undefined;
          }
        }
        if (item.section.path.length === 0 && !item.section.specifier) data = literal;
        else {
          root ??= parseMessage(literal);
          data = sectionBytes(root, item.section);
        }
      }
      out.set(item, partialOf(data, item.partial));
    }
    return out;
  }

  /** Encodes `* seq FETCH (…)` for one message. */
  #message(
    seq: number,
    row: FlagRow,
    seenChanged: boolean,
    sections: ReadonlyMap<BodySectionItem, Uint8Array>,
  ): void {
    const e = this.#e;
    const wants = this.#wants;
    // RFC 7162 §3.1: once CONDSTORE is on, a FETCH that set \Seen reports UID and MODSEQ too.
    const condstore = seenChanged && this.#session.enabled.has("CONDSTORE");
    e.raw(`* ${seq} FETCH (`);
    let first = true;
    const next = () => {
      if (first) first = false;
      else e.sp();
    };
    if (this.#uidCommand || wants.has("UID") || condstore) {
      next();
      e.raw(`UID ${row.uid}`);
    }
    if (wants.has("FLAGS") || seenChanged) {
      next();
      e.raw("FLAGS ").flags(flagList(row.flags, row.keywords, row.deleted));
    }
    if (wants.has("MODSEQ") || this.#request.changedSince !== undefined || condstore) {
      next();
      e.raw(`MODSEQ (${row.modseq})`);
    }
    const full = row as FetchRow;
    for (const item of this.#request.items) {
      if (typeof item !== "string") {
        next();
        e.raw(item.label).sp();
        const data = sections.get(item)!;
        if (data.length === 0) e.raw('""');
        else e.literalStart(data.length).literalData(data).literalEnd();
        continue;
      }
      switch (item) {
        case "INTERNALDATE":
          next();
          e.raw("INTERNALDATE ").dateTime(full.internalDate * 1000);
          break;
        case "RFC822.SIZE":
          next();
          e.raw(`RFC822.SIZE ${full.size}`);
          break;
        case "ENVELOPE":
          next();
          e.raw("ENVELOPE ");
          e.binary(full.envelope);
          break;
        case "BODYSTRUCTURE":
          next();
          e.raw("BODYSTRUCTURE ");
          e.binary(full.bodyStructure);
          break;
        case "BODY":
          next();
          e.raw("BODY ");
          e.binary(full.body);
          break;
      }
    }
    e.raw(")").crlf().flush();
  }
}

function partialOf(data: Uint8Array, partial: BodySectionItem["partial"]): Uint8Array {
  if (!partial) return data;
  if (partial.offset >= data.length) return new Uint8Array(0);
  const end = partial.length === undefined
    ? data.length
    : Math.min(data.length, partial.offset + partial.length);
  return data.subarray(partial.offset, end);
}
