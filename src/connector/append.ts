/**
 * APPEND (proton-api.md §5.6, after proton-bridge `connector.go` `CreateMessage`):
 *
 * - All Mail and Scheduled: refused. A local mailbox (the recovery mailbox): stored locally.
 * - Drafts: a new draft is created from the literal (`draft_from_literal.ts`: body encrypted to the
 *   address key, attachments uploaded), always read. A client that saves a draft again appends a
 *   new one and expunges the old, which then is deleted for good (`expunge.ts`).
 * - Sent: when `sentLookup` names the message the SMTP side just sent with these bytes, that
 *   message is used and nothing is imported.
 * - A byte-for-byte copy of a message of this account as this bridge served it (its
 *   `X-Pm-Internal-Id` names it, the cached literal is identical): the message is labelled into
 *   the mailbox instead of imported again (a client moving mail by APPEND + delete, as mbsync and
 *   offlineimap do between Maildir folders, would otherwise leave a duplicate).
 * - Elsewhere (and Sent otherwise): import (`import_encrypt.ts`), `LabelIDs` = the mailbox (+ `10`
 *   with `\Flagged`), `Unread` = no `\Seen`, `Flags` = Received for INBOX, Sent for Sent, else
 *   Received when the message has a `Received:` header, else Sent; plus Replied with `\Answered`.
 *   `$Forwarded` is set through the API afterwards.
 * - The address: the connector's; in combined mode a `From`/`Sender` naming another enabled,
 *   internal address of the account (ignoring `+tag` and case) picks that one.
 *
 * Afterwards the stored message is downloaded and built as the event loop builds it, put into the
 * index (`applyMessage`) and the literal cache, and its UID in the mailbox is returned. Keywords
 * and `\Deleted` of the APPEND are applied locally in the same transaction.
 *
 * When the server refuses the message (anything but a network problem, a 429/5xx or a size over
 * the import limit), it goes to the recovery mailbox with the reason (`recovered`): never lost.
 * While the account's keys are not unlocked yet (served offline), `NO [UNAVAILABLE]`.
 *
 * Once the server has the message, the APPEND has succeeded whatever follows: when reading it
 * back or indexing it fails (a full disk), the result is `pending` (OK without APPENDUID; the
 * event loop indexes it later), since a NO would make the client store it again; when the server
 * filed it elsewhere, the mailbox it is in; when in no mailbox shown here, `nowhere`.
 *
 * @module
 */
import {
  type Address,
  AddressStatus,
  AddressType,
  ApiError,
  encryptDraftBody,
  ImportSizeError,
  MessageFlag as ApiFlag,
  NetworkError,
  SignedOutError,
  SystemLabel,
} from "../api/mod.ts";
import { encryptAttachment, type KeyRing } from "../crypto/mod.ts";
import { messageIDs, newMessageId, parseAddresses, parseHeader } from "../mime/mod.ts";
import {
  type FlagUpdate,
  type InternalMessageId,
  type MailboxId,
  MessageFlag,
  type RemoteMessageId,
  type Uid,
} from "../store/mod.ts";
import { applyMessage, currentFlagsChange, messageUpdates } from "../sync/apply.ts";
import type { FetchedMessage } from "../sync/event_apply.ts";
import { type AppendRequest, type AppendResult, MailboxOperationError } from "./account.ts";
import { IN_DOUBT_GRACE_MS, InDoubtImports } from "./in_doubt_imports.ts";
import {
  apiFailure,
  type ConnectorContext,
  createdUpdates,
  expungedUpdates,
  isAllMail,
  isScheduled,
  publish,
  refuse,
  requireSelectable,
} from "./connector_context.ts";
import { parseDraft } from "./draft_from_literal.ts";
import { copyDigest, isServedCopy } from "./known_copy.ts";
import { hasReferences } from "./parent_lookup.ts";
import { type ParsedFlags, parseImapFlags } from "./flag_mapping.ts";
import { encryptForImport } from "./import_encrypt.ts";
import { storeLocalMessage } from "./recovery_mailbox.ts";
import type { UpdateData } from "./updates.ts";

/** Finds the server's copy of a message just sent over SMTP with these bytes (remote ID). */
export type SentLookup = (literal: Uint8Array) => Promise<string | undefined>;

/** Options of {@link appendMessage}. */
export interface AppendOptions {
  sentLookup?: SentLookup;
  /** Waits between download attempts after the message was created (tests shorten it). */
  retryDelayMs?: number;
}

/** A refusal by the server: the message goes to the recovery mailbox. */
class Refused extends Error {
  override name = "Refused";
}

/** Whether an error means "try again later" rather than "the server will not take this". */
function transient(error: unknown): boolean {
  return error instanceof NetworkError || error instanceof SignedOutError ||
    (error instanceof ApiError && (error.status === 429 || error.status >= 500));
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase().replace(/^([^@+]*)\+[^@]*@/, "$1@");
}

/**
 * The address a message is imported or drafted with (see the module notes), and the address in
 * `From` when it names that address (kept as written, `+tag` included).
 */
export function chooseAddress(
  ctx: Pick<ConnectorContext, "addresses" | "addressKeys" | "addressId" | "combined">,
  literal: Uint8Array,
): { address: Address | undefined; fromAddress: string | undefined } {
  const own = ctx.addresses.find((a) => a.ID === ctx.addressId);
  let header;
  try {
    header = parseHeader(literal).header;
  } catch {
    return { address: own, fromAddress: undefined };
  }
  const named = [
    ...parseAddresses(header.get("From") ?? ""),
    ...parseAddresses(header.get("Sender") ?? ""),
  ];
  const usable = (a: Address) =>
    a.Status === AddressStatus.Enabled && a.Type !== AddressType.External &&
    ctx.addressKeys.has(a.ID);
  for (const n of named) {
    const key = normalizeEmail(n.address);
    const match = ctx.addresses.find((a) => normalizeEmail(a.Email) === key);
    if (!match) continue;
    if (match.ID === own?.ID) return { address: own, fromAddress: n.address };
    if (ctx.combined && usable(match)) return { address: match, fromAddress: n.address };
  }
  return { address: own, fromAddress: undefined };
}

/** The import `Flags` (§5.6). */
export function importFlags(
  mailboxRemoteId: string,
  literal: Uint8Array,
  flags: ParsedFlags,
): number {
  let bits: number;
  if (mailboxRemoteId === SystemLabel.Inbox) bits = ApiFlag.Received;
  else if (mailboxRemoteId === SystemLabel.Sent) bits = ApiFlag.Sent;
  else {
    let received = false;
    try {
      received = parseHeader(literal).header.has("Received");
    } catch {
      received = false;
    }
    bits = received ? ApiFlag.Received : ApiFlag.Sent;
  }
  if (flags.bits & MessageFlag.Answered) bits |= ApiFlag.Replied;
  return bits;
}

function keyRingOf(ctx: ConnectorContext, address: Address | undefined): KeyRing {
  // The account is served offline (its keys are unlocked through the API once it answers): a
  // condition that passes, so the client keeps the message and tries again, rather than the
  // message going to the local recovery mailbox for good. (Keys that failed to unlock are
  // another matter: below, with the reason, to the recovery mailbox.)
  if (ctx.keysLocked) {
    refuse(
      "UNAVAILABLE",
      "The mail server has not been reached since the bridge started, so the account's keys " +
        "are not unlocked yet; try again later",
    );
  }
  if (!address) throw new Refused("the account has no address to store the message with");
  const ring = ctx.addressKeys.get(address.ID);
  if (!ring || ring.size === 0) {
    throw new Refused(`the keys of ${address.Email} are not unlocked`);
  }
  return ring;
}

async function createDraftFrom(
  ctx: ConnectorContext,
  literal: Uint8Array,
): Promise<string> {
  const { address, fromAddress } = chooseAddress(ctx, literal);
  const key = keyRingOf(ctx, address).first();
  const draft = parseDraft(literal);
  const body = await encryptDraftBody(draft.body, key);
  // A saved reply or forward names its parent, as the web app's drafts do: the API then gives
  // the draft the parent's In-Reply-To and References, so it stays in the thread when it is
  // opened again (here or in another client) and sent.
  const parent = hasReferences(draft.references)
    ? await ctx.api.findParent(draft.references, ctx.combined ? undefined : address!.ID)
    : undefined;
  // Known before the request: a draft indexed since (the event loop is quick) may be ours.
  const known = ctx.store.messages.knownAsOfNow();
  const indexed = (id: string) => known(id as RemoteMessageId);
  const created = await ctx.api.createDraft({
    Message: {
      Subject: draft.subject,
      Sender: {
        Name: draft.from?.Name || address!.DisplayName || "",
        Address: fromAddress ?? address!.Email,
      },
      ToList: draft.to,
      CCList: draft.cc,
      BCCList: draft.bcc,
      Body: body,
      MIMEType: draft.mimeType,
      Unread: 0,
      // A draft without a Message-ID gets one, so that it can be found again (createDraftOnce).
      ExternalID: draft.externalId || newMessageId(fromAddress ?? address!.Email),
    },
    ...(parent?.parentID ? { ParentID: parent.parentID, Action: parent.action } : {}),
  }, indexed);
  try {
    for (const a of draft.attachments) {
      const encrypted = await encryptAttachment(a.data, key, key);
      await ctx.api.uploadAttachment({
        MessageID: created.ID,
        Filename: a.name,
        MIMEType: a.contentType,
        Disposition: a.disposition,
        ContentID: a.contentId,
        KeyPackets: encrypted.keyPackets,
        DataPacket: encrypted.dataPacket,
        Signature: encrypted.signature,
      });
    }
  } catch (error) {
    // Do not leave half a draft behind.
    await ctx.api.deleteMessages([created.ID]).catch(() => {});
    throw error;
  }
  return created.ID;
}

/** The message `literal` names in `X-Pm-Internal-Id` and its cached literal, if any. */
async function namedCopy(
  ctx: ConnectorContext,
  literal: Uint8Array,
): Promise<{ named: string; cached: Uint8Array } | undefined> {
  let named: string | undefined;
  try {
    named = parseHeader(literal).header.get("X-Pm-Internal-Id")?.trim();
  } catch {
    return undefined;
  }
  if (!named) return undefined;
  const id = ctx.store.messages.byRemoteId(named as RemoteMessageId);
  if (id === undefined) return undefined;
  const cached = await ctx.literals.get(id).catch(() => undefined);
  return cached ? { named, cached } : undefined;
}

/** The named message when `literal` is its served copy (`known_copy.ts`). */
function servedCopyOf(
  literal: Uint8Array,
  named: { named: string; cached: Uint8Array } | undefined,
): string | undefined {
  return named && isServedCopy(named.cached, literal) ? named.named : undefined;
}

/**
 * The message a client appended itself with these bytes before (`appended_copies.ts`): a Maildir
 * synchroniser that moves its own file of it uploads the same bytes to the new folder.
 */
function appendedCopyOf(ctx: ConnectorContext, digest: Uint8Array): string | undefined {
  const id = ctx.store.appendedCopies.find(digest);
  return id === undefined ? undefined : ctx.store.messages.get(id)?.remoteId ?? undefined;
}

/**
 * The remote ID of a message of this account that `literal` is a copy of, as this bridge served
 * it (its `X-Pm-Internal-Id` names it and the cached literal is the same, but for the fields
 * Maildir synchronisers add: `known_copy.ts`), after labelling it into the mailbox; else
 * `undefined`. A client that moves a message by APPENDing
 * its copy elsewhere and deleting the original (mbsync and offlineimap moving a file between
 * Maildir folders, Outlook) would otherwise import a duplicate: gluon does the same with its own
 * header (proton-api.md §5.6).
 */
async function labelKnownCopy(
  ctx: ConnectorContext,
  mailboxRemoteId: string,
  literal: Uint8Array,
  digest: Uint8Array,
): Promise<string | undefined> {
  const named = servedCopyOf(literal, await namedCopy(ctx, literal)) ??
    appendedCopyOf(ctx, digest);
  if (!named) return undefined;
  try {
    await ctx.api.label([named], mailboxRemoteId);
  } catch (error) {
    throw apiFailure("Copying the message into the mailbox", error);
  }
  return named;
}

async function importOne(
  ctx: ConnectorContext,
  mailboxRemoteId: string,
  literal: Uint8Array,
  flags: ParsedFlags,
): Promise<string> {
  const { address } = chooseAddress(ctx, literal);
  const key = keyRingOf(ctx, address).first();
  let encrypted: Uint8Array;
  try {
    encrypted = (await encryptForImport(literal, key)).literal;
  } catch (error) {
    throw new Refused(
      `the message could not be encrypted: ${error instanceof Error ? error.message : error}`,
    );
  }
  const labelIds = [mailboxRemoteId];
  if ((flags.bits & MessageFlag.Flagged) && mailboxRemoteId !== SystemLabel.Starred) {
    labelIds.push(SystemLabel.Starred);
  }
  // A retry of an import whose outcome is not known: the earlier one may have landed.
  const doubtKey = InDoubtImports.key(mailboxRemoteId, literal);
  const earlier = ctx.inDoubt?.find(doubtKey);
  if (earlier) {
    const adopted = await importedAnyway(ctx, literal, mailboxRemoteId, earlier.knownBefore);
    if (adopted !== undefined) {
      ctx.inDoubt!.forget(doubtKey);
      return adopted;
    }
    if (earlier.ageMs < IN_DOUBT_GRACE_MS) {
      refuse(
        "UNAVAILABLE",
        "An earlier attempt to store this message may still be under way on the server; " +
          "try again in a few minutes",
      );
    }
    ctx.inDoubt!.forget(doubtKey);
  }
  let results;
  const known = ctx.store.messages.knownAsOfNow();
  try {
    results = await ctx.api.importMessages([{
      literal: encrypted,
      metadata: {
        AddressID: address!.ID,
        LabelIDs: labelIds,
        Unread: flags.bits & MessageFlag.Seen ? 0 : 1,
        Flags: importFlags(mailboxRemoteId, literal, flags),
      },
    }]);
  } catch (error) {
    if (error instanceof ImportSizeError) {
      refuse("LIMIT", "Message size exceeds limits", error);
    }
    if (transient(error)) {
      const adopted = await importedAnyway(ctx, literal, mailboxRemoteId, known);
      if (adopted !== undefined) return adopted;
      ctx.inDoubt?.record(doubtKey, known);
      throw apiFailure("Importing the message", error);
    }
    throw new Refused(error instanceof Error ? error.message : String(error));
  }
  const result = results[0];
  if (!result?.ok) throw new Refused(result?.error || "the server did not import the message");
  return result.messageID;
}

/**
 * After an import whose reply was lost (the request is never repeated: a repeat could import the
 * message twice), the message the server imported all the same, if it did: the one message of the
 * mailbox with the literal's Message-ID, Subject and From address that the index did not know
 * before the import (another message with the same Message-ID, e.g. delivered earlier, is not
 * taken for it; the import itself may be indexed by now).
 * `undefined` when there is none, several, no Message-ID, or the lookup fails.
 */
async function importedAnyway(
  ctx: ConnectorContext,
  literal: Uint8Array,
  mailboxRemoteId: string,
  knownBefore: (id: RemoteMessageId) => boolean,
): Promise<string | undefined> {
  let messageId: string | undefined;
  let subject = "";
  let from = "";
  try {
    const { header } = parseHeader(literal);
    messageId = messageIDs(header.get("Message-ID") ?? "")[0];
    subject = header.getText("Subject") ?? "";
    from = (parseAddresses(header.get("From") ?? "")[0]?.address ?? "").toLowerCase();
  } catch {
    return undefined;
  }
  if (!messageId) return undefined;
  const found = await ctx.api.withExternalId(messageId, mailboxRemoteId).catch(() => []);
  // Subjects compared with runs of white space as one (the server may unfold differently).
  const plain = (text: string) => text.replace(/\s+/g, " ").trim();
  const unknown = found.filter((m) =>
    !knownBefore(m.ID as RemoteMessageId) &&
    plain(m.Subject ?? "") === plain(subject) && (m.Sender?.Address ?? "").toLowerCase() === from
  );
  if (unknown.length !== 1) return undefined;
  ctx.log("connector: an import's reply was lost; the server had imported it");
  return unknown[0].ID;
}

async function download(
  ctx: ConnectorContext,
  remoteId: string,
  retryDelayMs: number,
): Promise<FetchedMessage> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, retryDelayMs * attempt));
    try {
      const fetched = await ctx.fetcher.fetch(remoteId as never);
      if (fetched) return fetched;
      lastError = new Error("the server does not have the new message");
    } catch (error) {
      lastError = error;
    }
  }
  throw new MailboxOperationError(
    "UNAVAILABLE",
    "The message was stored on the server but could not be read back yet; it will appear " +
      "after the next sync",
    { cause: lastError },
  );
}

/** APPEND (see the module notes). */
export async function appendMessage(
  ctx: ConnectorContext,
  origin: string,
  mailboxId: MailboxId,
  request: AppendRequest,
  options: AppendOptions = {},
): Promise<AppendResult> {
  const { store } = ctx;
  const mailbox = requireSelectable(store, mailboxId);
  const uidNextBefore = mailbox.uidNext;
  const flags = parseImapFlags(request.flags);
  if (flags.invalid.length > 0) {
    refuse("CANNOT", `These flags cannot be stored: ${flags.invalid.join(" ")}`);
  }
  const literal = request.literal;
  const internalDate = Number.isFinite(request.internalDate)
    ? Math.floor(request.internalDate!)
    : Math.floor(Date.now() / 1000);
  const local = { literal, flags, internalDate };
  if (mailbox.kind === "local") return await storeLocalMessage(ctx, origin, local, { mailboxId });
  if (isAllMail(mailbox) || isScheduled(mailbox) || mailbox.remoteId === null) {
    refuse("CANNOT", `Messages cannot be appended to ${mailbox.name}`);
  }

  let remoteId: string | undefined;
  // The digest of the client's own bytes of a message it stored here (imported, or the message
  // just sent): recorded, so that moving its file finds the message again (`appended_copies.ts`).
  let ownDigest: Uint8Array | undefined;
  try {
    if (mailbox.remoteId === SystemLabel.Drafts) {
      try {
        remoteId = await createDraftFrom(ctx, literal);
      } catch (error) {
        if (error instanceof Refused || error instanceof MailboxOperationError) throw error;
        if (transient(error)) throw apiFailure("Saving the draft", error);
        throw new Refused(error instanceof Error ? error.message : String(error));
      }
      // The draft API takes no labels: a starred draft (an autosave of one) is starred after.
      if ((flags.bits & MessageFlag.Flagged) !== 0) {
        await ctx.api.label([remoteId], SystemLabel.Starred).catch((e) =>
          ctx.log(`connector: could not star a saved draft: ${e}`)
        );
      }
    } else {
      if (mailbox.remoteId === SystemLabel.Sent && options.sentLookup) {
        remoteId = await options.sentLookup(literal).catch((e) => {
          ctx.log(`connector: sent lookup failed: ${e instanceof Error ? e.message : e}`);
          return undefined;
        });
      }
      const digest = copyDigest(literal);
      if (remoteId !== undefined) ownDigest = digest; // the message just sent
      remoteId ??= await labelKnownCopy(ctx, mailbox.remoteId, literal, digest);
      if (remoteId === undefined) {
        remoteId = await importOne(ctx, mailbox.remoteId, literal, flags);
        ownDigest = digest;
      }
      if ((flags.bits & MessageFlag.Forwarded) !== 0) {
        await ctx.api.markForwarded([remoteId]).catch((e) =>
          ctx.log(`connector: could not mark an appended message forwarded: ${e}`)
        );
      }
    }
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return await storeLocalMessage(ctx, origin, local, { reason: error.message });
  }

  // From here on the message is on the server: a failure to index it now (the disk is full, the
  // download fails) must not be answered as a failed APPEND, which the client would retry and so
  // store it twice. The event loop indexes it when its event comes.
  const stored = remoteId;
  const pending = (error: unknown): AppendResult => {
    const reason = error instanceof Error ? error.message : String(error);
    ctx.log(`connector: an appended message is on the server but not indexed yet: ${reason}`);
    return { uidValidity: 0, uid: 0 as Uid, mailbox: mailbox.id, pending: reason };
  };
  let fetched: FetchedMessage;
  try {
    fetched = await download(ctx, stored, options.retryDelayMs ?? 200);
  } catch (error) {
    return pending(error);
  }
  // Committed, published after the cache write: the bus knows in between (UpdateBus.hold).
  const release = ctx.bus.hold(ctx.id);
  try {
    let applied: { updates: UpdateData[]; result: AppendResult; id: InternalMessageId };
    try {
      applied = indexAppended();
    } catch (error) {
      return pending(error);
    }
    const { updates, result, id } = applied;
    try {
      await ctx.literals.put(id, fetched.literal);
    } catch (error) {
      ctx.log(
        `connector: could not cache a literal: ${error instanceof Error ? error.message : error}`,
      );
    }
    publish(ctx, updates, origin);
    return result;
  } finally {
    release();
  }

  function indexAppended() {
    return store.transaction(() => {
      const applied = applyMessage(store, fetched.metadata, fetched.built);
      const updates: UpdateData[] = [];
      if (applied.created) {
        updates.push(...createdUpdates(applied.added));
      } else {
        updates.push(...messageUpdates(store, applied, remoteId as never));
      }
      // What the API does not keep: keywords (and \Deleted of this mailbox).
      let localChange: FlagUpdate[] = [];
      if (flags.keywords.length > 0) {
        localChange = store.messages.setFlags([applied.id], {
          mode: "add",
          flags: 0,
          keywords: flags.keywords,
        });
      }
      if (ownDigest) store.appendedCopies.record(ownDigest, applied.id);
      let uid = store.membership.uidOf(mailbox.id, applied.id);
      let where = mailbox;
      if (uid === undefined) {
        // The server put it elsewhere (e.g. a received message appended to Sent stays in INBOX).
        const other = store.membership.memberships(applied.id)
          .map((m) => ({ m, box: store.mailboxes.get(m.mailbox)! }))
          .find(({ box }) => box && !isAllMail(box)) ??
          store.membership.memberships(applied.id)
            .map((m) => ({ m, box: store.mailboxes.get(m.mailbox)! }))[0];
        if (!other) {
          const result: AppendResult = {
            uidValidity: 0,
            uid: 0 as Uid,
            mailbox: mailbox.id,
            nowhere: true,
          };
          return { updates, result, id: applied.id };
        }
        uid = other.m.uid;
        where = other.box;
      }
      if (where.id === mailbox.id && uid < uidNextBefore) {
        // The mailbox held the message before this APPEND (a copy of it, labelled, or the
        // message just sent, found): an APPEND makes a new message with a new UID (RFC 3501
        // §6.3.11, RFC 4315 APPENDUID), so it gets one and the old UID is expunged. Answering
        // the old UID left a Maildir synchroniser with two files of one message.
        const old = uid;
        store.membership.remove(mailbox.id, [old]);
        uid = store.membership.add(mailbox.id, [applied.id])[0];
        updates.push(
          ...expungedUpdates([{ mailbox: mailbox.id, uid: old }]),
          ...createdUpdates([{ mailbox: mailbox.id, uid }]),
        );
      }
      if (flags.deleted) store.membership.setDeleted(where.id, [uid], true);
      if (localChange.length > 0 || flags.deleted) {
        updates.push({ kind: "FlagsChanged", changes: [currentFlagsChange(store, applied.id)!] });
      }
      const result: AppendResult = { uidValidity: where.uidValidity, uid, mailbox: where.id };
      return { updates, result, id: applied.id };
    });
  }
}
