/**
 * One API event → changes in the index and the typed updates that tell sessions about them
 * (proton-api.md §4.6; proton-bridge `service_message_events.go`, `service_label_events.go`).
 *
 * Two steps, so that the event loop can keep invariant 4 (the cursor commits with the data):
 *
 * 1. {@link prepareEvent} (asynchronous, no transaction): checks the event's shape
 *    ({@link checkEvent}) and downloads and builds every message the event needs: messages it
 *    creates that the index does not hold yet, messages an update names that the index does not
 *    hold (created instead, as Bridge does), and drafts whose body may have changed (action Update
 *    of a message that is neither received nor sent, or that the index holds as a draft: one
 *    edited and then sent).
 * 2. {@link applyPreparedEvent} (synchronous, inside the caller's transaction): applies, in
 *    Bridge's order, Refresh (exclusive: the index is rebuilt, every UIDVALIDITY bumped) →
 *    Addresses (recorded) → Labels → Messages, through `apply.ts`, and returns the updates to
 *    publish once the transaction committed, plus literal cache work.
 *
 * Everything is idempotent, so an event replayed after a first sync (or after a crash between
 * commit and acknowledgement) changes nothing the second time.
 *
 * A draft whose rebuilt literal differs from the stored one is replaced, not edited: the old
 * message is expunged everywhere and the new one gets new UIDs, so a UID's bytes never change
 * (ARCHITECTURE invariant 3). So is, with {@link PrepareOptions.rebuildFailed}, a message the
 * index holds as a failed build (the §3.4 step 9 placeholder, e.g. its address had no unlocked
 * key) that now builds: the loop asks for it once an address event has reloaded the keys.
 *
 * @module
 */
import {
  type AddressEvent,
  EventAction,
  type Label,
  MessageFlag as ApiFlag,
  type MessageMetadata,
  SystemLabel,
} from "../api/mod.ts";
import { PLACEHOLDER_MAILBOXES } from "../connector/mailbox_names.ts";
import type { UpdateData } from "../connector/updates.ts";
import { bytesEqual } from "../mime/mod.ts";
import {
  type InternalMessageId,
  isStorageFailure,
  type MailboxId,
  type MembershipRef,
  MessageFlag,
  type RemoteEventId,
  type RemoteLabelId,
  type RemoteMessageId,
  type Store,
  type StoredMessage,
  SYNCED_KEEP,
  type Uid,
} from "../store/mod.ts";
import {
  applyLabel,
  applyMessage,
  applyMessageMetadata,
  type BuiltContent,
  deleteLabel,
  deleteMessage,
  messageUpdates,
} from "./apply.ts";
import { failedBuild } from "./message_build.ts";

/** A message downloaded and built for the index. */
export interface FetchedMessage {
  /** The message's metadata as downloaded (used when the event carries none). */
  metadata: MessageMetadata;
  /** What the index keeps of the build. */
  built: BuiltContent;
  /** The built RFC 822 bytes, for the literal cache. */
  literal: Uint8Array;
}

/** Downloads, decrypts and builds one message (the first sync's `message_build`). */
export interface MessageFetcher {
  /**
   * The built message, or `undefined` when it no longer exists on the server (422/404). A
   * message that cannot be decrypted or built comes back as a placeholder (`built.status`
   * `"failed"`), never as an error. Network and 429/5xx errors are thrown (the event is retried).
   */
  fetch(remoteId: RemoteMessageId): Promise<FetchedMessage | undefined>;
}

/** An event whose shape was checked, items that failed the check removed. */
export interface CheckedEvent {
  eventId: RemoteEventId;
  /** The `Refresh` bits (1 = mail, 255 = everything). */
  refresh: number;
  messages: CheckedMessageItem[];
  labels: CheckedLabelItem[];
  addresses: AddressEvent[];
}

/** A message item: `metadata` is present for every action but Delete. */
export interface CheckedMessageItem {
  id: RemoteMessageId;
  action: number;
  metadata?: MessageMetadata;
}

/** A label item: `label` is present for Create and Update. */
export interface CheckedLabelItem {
  id: string;
  action: number;
  label?: Label;
}

/** What {@link checkEvent} found. */
export interface EventCheck {
  event: CheckedEvent;
  /** One line per item (or list) that had a bad shape and was left out. */
  problems: string[];
}

/**
 * An event the loop cannot use as it is: its items have a bad shape (`problems`), or it has no
 * usable `EventID` at all (`eventId` undefined; such an event cannot even be skipped).
 */
export class MalformedEventError extends Error {
  override name = "MalformedEventError";
  /** The event's ID, when it had one. */
  readonly eventId: string | undefined;
  /** What was wrong, one line per problem. */
  readonly problems: string[];

  constructor(eventId: string | undefined, problems: string[]) {
    super(
      `malformed event ${eventId ?? "(no EventID)"}: ${problems.slice(0, 5).join("; ")}` +
        (problems.length > 5 ? ` (+${problems.length - 5} more)` : ""),
    );
    this.eventId = eventId;
    this.problems = problems;
  }
}

const ACTIONS = new Set<number>(Object.values(EventAction));

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is string {
  return typeof v === "string" && v !== "";
}

function isBoolish(v: unknown): boolean {
  return v === 0 || v === 1 || v === true || v === false;
}

function itemList(
  raw: Record<string, unknown>,
  key: string,
  problems: string[],
): Record<string, unknown>[] {
  const v = raw[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push(`${key} is not a list`);
    return [];
  }
  const out: Record<string, unknown>[] = [];
  v.forEach((item, i) => {
    if (
      isObject(item) && isId(item.ID) && typeof item.Action === "number" &&
      ACTIONS.has(item.Action)
    ) {
      out.push(item);
    } else {
      problems.push(`${key}[${i}] has no ID or no known Action`);
    }
  });
  return out;
}

function metadataProblem(id: string, m: unknown): string | undefined {
  if (!isObject(m)) return "no Message";
  if (m.ID !== id) return "Message.ID differs from the item ID";
  if (!Array.isArray(m.LabelIDs) || !m.LabelIDs.every((l) => typeof l === "string")) {
    return "LabelIDs is not a list of strings";
  }
  if (!isBoolish(m.Unread)) return "Unread is not 0/1";
  if (typeof m.Flags !== "number" || !Number.isFinite(m.Flags)) return "Flags is not a number";
  for (const k of ["IsReplied", "IsRepliedAll", "IsForwarded"]) {
    if (m[k] !== undefined && !isBoolish(m[k])) return `${k} is not 0/1`;
  }
  if (m.Time !== undefined && typeof m.Time !== "number") return "Time is not a number";
  return undefined;
}

function labelProblem(id: string, l: unknown): string | undefined {
  if (!isObject(l)) return "no Label";
  if (l.ID !== id) return "Label.ID differs from the item ID";
  if (typeof l.Name !== "string") return "Name is not a string";
  if (typeof l.Type !== "number") return "Type is not a number";
  if (l.Path !== undefined && l.Path !== null && typeof l.Path !== "string") {
    return "Path is not a string";
  }
  if (l.ParentID !== undefined && l.ParentID !== null && typeof l.ParentID !== "string") {
    return "ParentID is not a string";
  }
  return undefined;
}

/**
 * Checks the shape of a raw event (as the API client returned it) and keeps what is usable. Items
 * with a bad shape are left out and listed in `problems`; the caller decides whether to apply the
 * rest or to retry. Never throws, except {@link MalformedEventError} when there is no `EventID`.
 */
export function checkEvent(raw: unknown): EventCheck {
  if (!isObject(raw) || !isId(raw.EventID)) {
    throw new MalformedEventError(undefined, ["the reply has no EventID"]);
  }
  const problems: string[] = [];
  let refresh = 0;
  if (raw.Refresh !== undefined && raw.Refresh !== null) {
    if (typeof raw.Refresh === "number" && Number.isInteger(raw.Refresh)) refresh = raw.Refresh;
    else problems.push("Refresh is not an integer");
  }
  const messages: CheckedMessageItem[] = [];
  for (const item of itemList(raw, "Messages", problems)) {
    const id = item.ID as string;
    if (item.Action === EventAction.Delete) {
      messages.push({ id: id as RemoteMessageId, action: EventAction.Delete });
      continue;
    }
    const problem = metadataProblem(id, item.Message);
    if (problem) {
      problems.push(`message ${id}: ${problem}`);
      continue;
    }
    messages.push({
      id: id as RemoteMessageId,
      action: item.Action as number,
      metadata: item.Message as unknown as MessageMetadata,
    });
  }
  const labels: CheckedLabelItem[] = [];
  for (const item of itemList(raw, "Labels", problems)) {
    const id = item.ID as string;
    if (item.Action === EventAction.Delete) {
      labels.push({ id, action: EventAction.Delete });
      continue;
    }
    const problem = labelProblem(id, item.Label);
    if (problem) {
      problems.push(`label ${id}: ${problem}`);
      continue;
    }
    const label = item.Label as unknown as Label;
    labels.push({
      id,
      action: item.Action as number,
      label: { ...label, Path: typeof label.Path === "string" ? label.Path : label.Name },
    });
  }
  const addresses = itemList(raw, "Addresses", problems) as unknown as AddressEvent[];
  return {
    event: { eventId: raw.EventID as RemoteEventId, refresh, messages, labels, addresses },
    problems,
  };
}

/** An event with everything it needs downloaded. */
export interface PreparedEvent {
  event: CheckedEvent;
  /** Shape problems of left-out items (empty unless the caller accepted them). */
  problems: string[];
  /** Downloads by remote ID; `null` when the message was gone. */
  fetched: Map<RemoteMessageId, FetchedMessage | null>;
  /**
   * Messages whose stored content is replaced (expunged, then added with new UIDs): drafts whose
   * rebuilt literal differs from the stored one, and failed builds that now build.
   */
  replace: Set<RemoteMessageId>;
  /** Failed builds that were downloaded and built again but failed again. */
  stillFailed: number;
}

/** Options of {@link prepareEvent}. */
export interface PrepareOptions {
  /** Left-out items are accepted (after the loop's retries); otherwise they throw. */
  acceptProblems?: boolean;
  /** The stored literal of a message, to tell whether a draft changed; optional. */
  readLiteral?: (id: InternalMessageId) => Promise<Uint8Array | undefined>;
  /** Downloads in parallel (default 4). */
  concurrency?: number;
  /**
   * Also download and build again the messages the index holds as failed builds: all of them
   * (`true`), or those of a set of remote IDs that still are. Those that build now are replaced
   * (new UIDs, their current server metadata), the others stay as they are. The loop asks for all
   * after an address event reloaded the keys, and for a set when it retries, once per start,
   * the failed builds of an earlier run.
   */
  rebuildFailed?: boolean | ReadonlySet<RemoteMessageId>;
  /**
   * A message of the event whose download fails with an error for which this returns a reason
   * is indexed as a failed build (a placeholder, built again at the next start and after an
   * address change) and listed in `problems`, instead of failing the event. The loop's last
   * attempt at an event sets it for errors that are neither transient nor of storage.
   */
  placeholderWhenUndownloadable?: (error: unknown) => string | undefined;
}

/**
 * Whether the index holds the message as a draft. An update of such a message is checked for a
 * new body even when its metadata says sent: a draft edited and sent within one poll arrives as
 * one update with the sent message's metadata (`event_coalesce.ts`), and its body is the edited
 * one, its Date the sending time.
 */
function indexedAsDraft(
  store: Store,
  drafts: MailboxId | undefined,
  remoteId: RemoteMessageId,
): boolean {
  const id = store.messages.byRemoteId(remoteId);
  if (id === undefined) return false;
  // In Drafts (server truth), or with the \Draft the sync derived (a client may clear it).
  if (drafts !== undefined && store.membership.uidOf(drafts, id) !== undefined) return true;
  return ((store.messages.flagsOf(id) ?? 0) & MessageFlag.Draft) !== 0;
}

/** Whether metadata describes a draft (neither received nor sent), whose body can change. */
export function isDraft(metadata: Pick<MessageMetadata, "Flags">): boolean {
  return (Number(metadata.Flags) & (ApiFlag.Received | ApiFlag.Sent)) === 0;
}

/**
 * Checks the event and downloads what it needs (see the module notes).
 *
 * @throws {MalformedEventError} when items have a bad shape and `acceptProblems` is not set, or
 *   when there is no EventID. Errors of the fetcher (network, 429, 5xx) pass through.
 */
export async function prepareEvent(
  raw: unknown,
  store: Store,
  fetcher: MessageFetcher,
  options: PrepareOptions = {},
): Promise<PreparedEvent> {
  const { event, problems } = checkEvent(raw);
  if (problems.length > 0 && !options.acceptProblems) {
    throw new MalformedEventError(event.eventId, problems);
  }
  const prepared: PreparedEvent = {
    event,
    problems,
    fetched: new Map(),
    replace: new Set(),
    stillFailed: 0,
  };
  if (event.refresh & 1) return prepared;

  // Walk the items as they will be applied, tracking which messages the index will hold.
  const known = new Map<RemoteMessageId, boolean>();
  const isKnown = (id: RemoteMessageId) =>
    known.get(id) ?? store.messages.byRemoteId(id) !== undefined;
  const wanted = new Set<RemoteMessageId>();
  const draftChecks = new Set<RemoteMessageId>();
  const drafts = store.mailboxes.byRemoteId(SystemLabel.Drafts as RemoteLabelId)?.id;
  for (const item of event.messages) {
    if (item.action === EventAction.Delete) {
      known.set(item.id, false);
      continue;
    }
    if (!isKnown(item.id)) wanted.add(item.id);
    else if (
      item.action === EventAction.Update &&
      (isDraft(item.metadata!) || indexedAsDraft(store, drafts, item.id))
    ) {
      wanted.add(item.id);
      draftChecks.add(item.id);
    }
    known.set(item.id, true);
  }

  const retries = new Set<RemoteMessageId>();
  const retry = (id: RemoteMessageId | null) => {
    if (id === null || known.get(id) === false) return;
    retries.add(id);
    wanted.add(id);
  };
  if (options.rebuildFailed === true) {
    for (const failed of store.messages.failedBuilds()) retry(failed.remoteId);
  } else if (options.rebuildFailed) {
    for (const id of options.rebuildFailed) {
      const internal = store.messages.byRemoteId(id);
      if (internal !== undefined && store.messages.get(internal)?.buildStatus === "failed") {
        retry(id);
      }
    }
  }

  const metadataOf = new Map<RemoteMessageId, MessageMetadata>();
  for (const item of event.messages) if (item.metadata) metadataOf.set(item.id, item.metadata);
  const queue = [...wanted];
  const workers = Array.from(
    { length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) },
    async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          prepared.fetched.set(id, (await fetcher.fetch(id)) ?? null);
        } catch (error) {
          const reason = options.placeholderWhenUndownloadable?.(error);
          const metadata = metadataOf.get(id);
          if (reason === undefined || metadata === undefined) throw error;
          const { literal, compressed: _compressed, ...built } = failedBuild(
            metadata,
            `it could not be downloaded: ${reason}`,
          );
          prepared.fetched.set(id, { metadata, built, literal });
          prepared.problems.push(
            `message ${id}: not downloaded, kept as a placeholder to build again later: ${reason}`,
          );
        }
      }
    },
  );
  await Promise.all(workers);

  for (const id of draftChecks) {
    const fetched = prepared.fetched.get(id);
    const internal = store.messages.byRemoteId(id);
    if (!fetched || internal === undefined) continue;
    if (await draftChanged(store, internal, fetched, options.readLiteral)) {
      prepared.replace.add(id);
    }
  }
  for (const id of retries) {
    const fetched = prepared.fetched.get(id);
    if (!fetched) continue; // gone: the event that deletes it will come
    if (fetched.built.status !== "ok") {
      prepared.stillFailed++;
      continue;
    }
    prepared.replace.add(id);
    // Applied after the event's own items, as an update carrying the server's current metadata
    // (unless the event has an item for it, which then does the replacing).
    if (!known.has(id)) {
      event.messages.push({ id, action: EventAction.Update, metadata: fetched.metadata });
    }
  }
  return prepared;
}

async function draftChanged(
  store: Store,
  id: InternalMessageId,
  fetched: FetchedMessage,
  readLiteral: PrepareOptions["readLiteral"],
): Promise<boolean> {
  const stored = store.messages.get(id);
  if (!stored) return false;
  const literal = readLiteral ? await readLiteral(id) : undefined;
  if (literal) return !bytesEqual(literal, fetched.literal);
  return builtDiffers(stored, fetched.built);
}

/**
 * Whether a new build of a message has other bytes than the literal the index describes, judged
 * without that literal: by its SHA-256, or, for a message indexed before digests were recorded,
 * by size, ENVELOPE, BODYSTRUCTURE, BODY, header block and build status (which tell every builder
 * change so far: each changed a header field, a part header, or a length).
 */
export function builtDiffers(stored: StoredMessage, built: BuiltContent): boolean {
  if (stored.literalSha256) return !bytesEqual(stored.literalSha256, built.literalSha256);
  return stored.size !== built.literalSize || stored.envelope !== built.envelope ||
    stored.bodyStructure !== built.bodyStructure || stored.body !== built.body ||
    !bytesEqual(stored.header, built.headerBytes) ||
    (stored.buildStatus === "failed") !== (built.status === "failed");
}

/** What {@link replaceMessage} changed. */
export interface MessageReplaced {
  /** The new message's internal ID: its literal goes into the cache under it. */
  id: InternalMessageId;
  /** The old one's, whose cache entry is garbage now (none when there was no old one). */
  replaced?: InternalMessageId;
  /** Expunges of the old UIDs, then the new UIDs, to publish once committed. */
  updates: UpdateData[];
  /** Labels of `metadata` that have no mailbox (yet). */
  unknownLabels: string[];
}

/**
 * Replaces a message's content by a new build without ever changing what a UID shows
 * (ARCHITECTURE invariant 3): the old message is expunged from every mailbox and the build is
 * added as a new message with new UIDs, its memberships and flags from `metadata`; what only this
 * index keeps is carried over: the keywords, a client's `\Answered` ({@link SYNCED_KEEP}), and
 * `\Deleted` in each mailbox that still holds it (a client that marked it for expunging still
 * expunges it). Call inside the transaction that
 * commits it; cache the literal under the returned `id` and publish the updates after the commit.
 */
export function replaceMessage(
  store: Store,
  metadata: MessageMetadata,
  built: BuiltContent,
): MessageReplaced {
  const updates: UpdateData[] = [];
  const old = store.messages.byRemoteId(metadata.ID as RemoteMessageId);
  const stored = old === undefined ? undefined : store.messages.get(old);
  const keywords = stored?.keywords ?? [];
  const kept = (stored?.flags ?? 0) & SYNCED_KEEP;
  const markedDeleted = new Set(
    old === undefined
      ? []
      : store.membership.memberships(old).filter((m) =>
        store.membership.flagRows(m.mailbox, [{ first: m.uid, last: m.uid }])[0]?.deleted
      ).map((m) => m.mailbox),
  );
  const deleted = old === undefined ? undefined : deleteMessage(store, metadata.ID);
  if (deleted) updates.push(...expunged(deleted.removed));
  const applied = applyMessage(store, metadata, built);
  if (keywords.length > 0 || kept !== 0) {
    store.messages.setFlags([applied.id], { mode: "add", flags: kept, keywords });
  }
  for (const m of applied.added) {
    if (markedDeleted.has(m.mailbox)) store.membership.setDeleted(m.mailbox, [m.uid], true);
  }
  updates.push(...created(applied.added));
  return {
    id: applied.id,
    ...(deleted ? { replaced: deleted.id } : {}),
    updates,
    unknownLabels: applied.unknownLabels,
  };
}

/** What {@link applyPreparedEvent} did. */
export interface EventApplied {
  eventId: RemoteEventId;
  /** Updates to publish after the transaction committed, in order. */
  updates: UpdateData[];
  /** Literals to put into the cache (after commit, before publishing). */
  literalsToPut: { id: InternalMessageId; literal: Uint8Array }[];
  /** Cache entries that are garbage now. */
  literalsToDelete: InternalMessageId[];
  /** Address items, for the connector (split/combined mode, identities). */
  addresses: AddressEvent[];
  /** The event asked for a refresh: the index was rebuilt and needs a full resync. */
  refreshed: boolean;
  /** Messages the event named that were gone on the server when downloaded. */
  gone: RemoteMessageId[];
  /** Message labels that had no mailbox (yet). */
  unknownLabels: string[];
  /** Failed builds replaced by a successful build ({@link PrepareOptions.rebuildFailed}). */
  rebuilt: number;
  /** Items left out because applying them threw (only with {@link ApplyOptions.isolate}). */
  dropped: string[];
}

/** Options of {@link applyPreparedEvent}. */
export interface ApplyOptions {
  /**
   * Apply each label and message item in a savepoint of its own and leave out (listed in
   * `dropped`) those that throw, instead of failing the whole event: the loop's last attempt at
   * an event that keeps failing, so one item the index cannot take does not cost the others.
   */
  isolate?: boolean;
  /**
   * Whether the index already holds a newer state of this message than the event (a mail client's
   * change read back after the event was fetched): its update items are left out, which would
   * otherwise take the message back (a message moved out of a label came back there under a new
   * UID until the next event). Creations and deletions are always applied.
   */
  newerHere?: (remoteId: RemoteMessageId) => boolean;
}

/**
 * Applies a prepared event to the index. Call inside a transaction that also moves the event
 * cursor; publish `updates` only after it committed. `labels` is the account's label map as the
 * loop knows it (kept up to date here), so folder paths follow `ParentID` exactly.
 */
export function applyPreparedEvent(
  store: Store,
  prepared: PreparedEvent,
  labels: Map<string, Label> = new Map(),
  options: ApplyOptions = {},
): EventApplied {
  const { event } = prepared;
  const out: EventApplied = {
    eventId: event.eventId,
    updates: [],
    literalsToPut: [],
    literalsToDelete: [],
    addresses: [],
    refreshed: false,
    gone: [],
    unknownLabels: [],
    rebuilt: 0,
    dropped: [],
  };
  if (event.refresh & 1) {
    store.rebuild();
    out.refreshed = true;
    out.updates.push({
      kind: "UidValidityBumped",
      mailboxes: store.mailboxes.list().map((m) => ({ mailbox: m.id, uidValidity: m.uidValidity })),
    });
    return out;
  }
  out.addresses = event.addresses;
  const isolated = options.isolate ? isolating(store, out) : undefined;
  applyLabelItems(store, event.labels, labels, out.updates, isolated);
  for (const item of event.messages) {
    if (
      options.newerHere &&
      (item.action === EventAction.Update || item.action === EventAction.UpdateFlags) &&
      options.newerHere(item.id)
    ) continue;
    if (isolated) {
      isolated(`message ${item.id}`, () => applyMessageItem(store, prepared, item, out));
    } else applyMessageItem(store, prepared, item, out);
  }
  out.updates = mergeAdjacent(out.updates);
  return out;
}

/** Runs one item in a savepoint; when it throws, undoes what it added to `out` and lists it. */
type Isolated = (what: string, apply: () => void, undo?: () => void) => void;

function isolating(store: Store, out: EventApplied): Isolated {
  return (what, apply, undo) => {
    const lengths = [
      out.updates.length,
      out.literalsToPut.length,
      out.literalsToDelete.length,
      out.gone.length,
      out.unknownLabels.length,
    ];
    const rebuilt = out.rebuilt;
    try {
      store.transaction(apply);
    } catch (error) {
      // Storage trouble is not the item's fault: the whole event fails, to be retried. Nor can
      // the next items go on when the error ended the event's transaction by itself (they would
      // each commit on their own).
      if (isStorageFailure(error) || !store.inTransaction) throw error;
      out.updates.length = lengths[0];
      out.literalsToPut.length = lengths[1];
      out.literalsToDelete.length = lengths[2];
      out.gone.length = lengths[3];
      out.unknownLabels.length = lengths[4];
      out.rebuilt = rebuilt;
      undo?.();
      out.dropped.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

function applyLabelItems(
  store: Store,
  items: readonly CheckedLabelItem[],
  labels: Map<string, Label>,
  updates: UpdateData[],
  isolated?: Isolated,
): void {
  // Labels whose new name collided in this event (their mailbox got a suffixed name now): a later
  // item may free the name (a swap), so they are looked at again below.
  const collided = new Set<string>();
  const upsert = (label: Label, promote = false) => {
    const missing = PLACEHOLDER_MAILBOXES.filter((p) => !store.mailboxes.byName(p.name));
    const r = applyLabel(store, label, labels, { promote });
    if (r.suffixed && r.renamed.some((rn) => rn.id === r.mailbox?.id)) collided.add(label.ID);
    // applyLabel creates missing placeholders (only when an event comes before any label sync).
    for (const p of missing) {
      const made = store.mailboxes.byName(p.name);
      if (made) {
        updates.push({
          kind: "MailboxCreated",
          mailbox: made.id,
          name: made.name,
          remoteId: null,
          attributes: made.attributes,
        });
      }
    }
    if (r.created && r.mailbox) {
      updates.push({
        kind: "MailboxCreated",
        mailbox: r.mailbox.id,
        name: r.mailbox.name,
        remoteId: r.mailbox.remoteId,
        attributes: r.mailbox.attributes,
      });
    }
    for (const rn of r.renamed) {
      updates.push({
        kind: "MailboxRenamed",
        mailbox: rn.id,
        oldName: rn.oldName,
        newName: rn.newName,
      });
    }
  };
  const run = (what: string, apply: () => void, undo?: () => void) =>
    isolated ? isolated(what, apply, undo) : apply();
  for (const item of items) {
    const before = labels.get(item.id);
    const hadCollided = collided.has(item.id);
    const undo = () => {
      if (before) labels.set(item.id, before);
      else labels.delete(item.id);
      if (hadCollided) collided.add(item.id);
      else collided.delete(item.id);
    };
    if (item.action === EventAction.Delete) {
      run(`label ${item.id}`, () => {
        labels.delete(item.id);
        collided.delete(item.id);
        for (const m of deleteLabel(store, item.id)) {
          updates.push({ kind: "MailboxDeleted", mailbox: m.id, name: m.name });
        }
      }, undo);
      continue;
    }
    run(`label ${item.id}`, () => {
      labels.set(item.id, item.label!);
      upsert(item.label!);
    }, undo);
  }
  // A name that was taken when a label was applied may have been freed by a later item (a swap
  // of two names in one event): those labels take their proper names where free now.
  for (const id of collided) {
    const label = labels.get(id);
    if (label) run(`label ${id}`, () => upsert(label, true));
  }
}

function applyMessageItem(
  store: Store,
  prepared: PreparedEvent,
  item: CheckedMessageItem,
  out: EventApplied,
): void {
  if (item.action === EventAction.Delete) {
    const deleted = deleteMessage(store, item.id);
    if (deleted) {
      out.updates.push(...expunged(deleted.removed));
      out.literalsToDelete.push(deleted.id);
    }
    return;
  }
  const metadata = item.metadata!;
  const existing = store.messages.byRemoteId(item.id);
  const fetched = prepared.fetched.get(item.id);
  if (existing === undefined || prepared.replace.has(item.id)) {
    if (!fetched) {
      if (fetched === null) out.gone.push(item.id);
      if (existing === undefined) return;
    } else {
      if (
        existing !== undefined && fetched.built.status === "ok" &&
        store.messages.get(existing)?.buildStatus === "failed"
      ) out.rebuilt++;
      const replaced = replaceMessage(store, { ...fetched.metadata, ...metadata }, fetched.built);
      out.updates.push(...replaced.updates);
      if (replaced.replaced !== undefined) out.literalsToDelete.push(replaced.replaced);
      out.literalsToPut.push({ id: replaced.id, literal: fetched.literal });
      out.unknownLabels.push(...replaced.unknownLabels);
      return;
    }
  }
  const applied = applyMessageMetadata(store, metadata);
  if (!applied) return;
  out.unknownLabels.push(...applied.unknownLabels);
  out.updates.push(...messageUpdates(store, applied, item.id));
}

function byMailbox(refs: readonly MembershipRef[]): Map<MailboxId, Uid[]> {
  const map = new Map<MailboxId, Uid[]>();
  for (const r of refs) {
    const list = map.get(r.mailbox) ?? [];
    list.push(r.uid);
    map.set(r.mailbox, list);
  }
  for (const list of map.values()) list.sort((a, b) => a - b);
  return map;
}

function created(refs: readonly MembershipRef[]): UpdateData[] {
  return [...byMailbox(refs)].map(([mailbox, uids]) => ({
    kind: "MessagesCreated" as const,
    mailbox,
    uids,
  }));
}

function expunged(refs: readonly MembershipRef[]): UpdateData[] {
  return [...byMailbox(refs)].map(([mailbox, uids]) => ({
    kind: "MessagesExpunged" as const,
    mailbox,
    uids,
  }));
}

/**
 * Joins updates that say the same thing about the same mailbox: inside a run of consecutive
 * MessagesCreated (or MessagesExpunged) updates, one update per mailbox (in order of first
 * appearance, UIDs ascending), and consecutive FlagsChanged become one. Creations in different
 * mailboxes are independent, so regrouping a run keeps every mailbox's own order; nothing moves
 * across an update of another kind.
 */
export function mergeAdjacent(updates: readonly UpdateData[]): UpdateData[] {
  const out: UpdateData[] = [];
  let runKind: "MessagesCreated" | "MessagesExpunged" | undefined;
  let run = new Map<MailboxId, number>(); // mailbox → index in `out`
  for (const u of updates) {
    if (u.kind === "MessagesCreated" || u.kind === "MessagesExpunged") {
      if (runKind !== u.kind) {
        runKind = u.kind;
        run = new Map();
      }
      const at = run.get(u.mailbox);
      if (at === undefined) {
        run.set(u.mailbox, out.length);
        out.push({ ...u, uids: [...u.uids] });
      } else {
        const prev = out[at] as typeof u;
        out[at] = { ...prev, uids: [...prev.uids, ...u.uids].sort((a, b) => a - b) };
      }
      continue;
    }
    runKind = undefined;
    const last = out.at(-1);
    if (last && u.kind === "FlagsChanged" && last.kind === "FlagsChanged") {
      out[out.length - 1] = { kind: "FlagsChanged", changes: [...last.changes, ...u.changes] };
    } else {
      out.push(u);
    }
  }
  return out;
}
