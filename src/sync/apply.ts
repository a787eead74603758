/**
 * The one place where remote (API) state is written into the local index: labels become
 * mailboxes, message metadata plus a built literal's FETCH data become a message row with its
 * flags and memberships, and deletions remove them. The first sync and the event loop both go
 * through here, so a message enters the index the same way whichever path saw it first.
 *
 * Every function is synchronous, runs as one store transaction (a savepoint when the caller
 * already opened one, e.g. to advance a checkpoint or event cursor together with the data) and is
 * idempotent: applying the same label list or the same message twice changes nothing the second
 * time (no new UIDs, no new MODSEQ). The literal itself is the caller's to put into the
 * `LiteralCache` (that is asynchronous and lives outside the transaction).
 *
 * Names and attributes of mailboxes come from `src/connector/mailbox_names.ts`; flags from
 * metadata follow proton-api.md §5.3: `\Seen` = not `Unread`, `\Flagged` = label `10`, `\Draft` =
 * neither Received nor Sent in `Flags`, `\Answered` = `IsReplied || IsRepliedAll`, `$Forwarded` =
 * `IsForwarded`. Message label IDs that are not exposed (`1`, `2`, `9`) have no mailbox.
 *
 * @module
 */
import {
  type Label,
  MessageFlag as ApiFlag,
  type MessageMetadata,
  SystemLabel,
} from "../api/mod.ts";
import {
  assignMailboxNames,
  disambiguatedName,
  isExposedLabelId,
  isNameFor,
  MAILBOX_DELIMITER,
  mailboxForLabel,
  type MailboxSpec,
  PLACEHOLDER_MAILBOXES,
} from "../connector/mailbox_names.ts";
import {
  type BulkMessage,
  type InternalMessageId,
  type Mailbox,
  type MailboxId,
  type MailboxRenamed,
  type MembershipRef,
  type MessageContent,
  MessageFlag,
  type RemoteAddressId,
  type RemoteLabelId,
  type RemoteMessageId,
  type Store,
  SYNCED_KEEP,
} from "../store/mod.ts";
import type { UidRef, UpdateData } from "../connector/updates.ts";

/**
 * What a build produced for one message: everything the index keeps besides the literal.
 * ENVELOPE, BODYSTRUCTURE and BODY are the IMAP wire bytes as a binary string (one character per
 * byte, `bytesToBinary` of `src/mime`); the IMAP layer writes them with `binaryToBytes`.
 */
export interface BuiltContent {
  /** Byte length of the literal (RFC822.SIZE). */
  literalSize: number;
  /** ENVELOPE in wire form. */
  envelope: string;
  /** BODYSTRUCTURE in wire form. */
  bodyStructure: string;
  /** BODY (non-extensible) in wire form. */
  body: string;
  /** The literal's header block through the empty line (for BODY[HEADER.FIELDS …]). */
  headerBytes: Uint8Array;
  /** `"failed"`: the literal is a placeholder (§3.4 step 9); `reason` says why. */
  status: "ok" | "failed";
  /** Why the build failed (no message content, no keys). */
  reason?: string;
  /** SHA-256 of the literal. */
  literalSha256: Uint8Array;
}

/** What {@link applyLabels} changed. */
export interface LabelsApplied {
  created: Mailbox[];
  renamed: MailboxRenamed[];
  /** Mailboxes whose kind or attributes changed (not renames). */
  updated: Mailbox[];
  /** Mailboxes removed because their label is gone (with `prune`). */
  deleted: Mailbox[];
}

/** What {@link applyLabel} changed for one label. */
export interface LabelApplied {
  /** The label's mailbox after the change; `undefined` when the label is not exposed. */
  mailbox: Mailbox | undefined;
  created: boolean;
  /** The mailbox and, for a folder, its inferiors that moved along. */
  renamed: MailboxRenamed[];
  /** The mailbox's name is the collision-suffixed form of the label's, not the label's own. */
  suffixed: boolean;
}

/** What {@link applyMessage} and {@link applyMessageMetadata} did. */
export interface MessageApplied {
  id: InternalMessageId;
  /** The message was not in the index before. */
  created: boolean;
  /** Its flag bits changed (always false for a newly created message). */
  flagsChanged: boolean;
  /** New memberships (new UIDs), ascending by mailbox. */
  added: MembershipRef[];
  /** Memberships expunged because the label went away. */
  removed: MembershipRef[];
  /** Labels of the message that have no mailbox here (yet). */
  unknownLabels: RemoteLabelId[];
}

/** What {@link deleteMessage} removed. */
export interface MessageDeleted {
  id: InternalMessageId;
  /** Where it was; those UIDs are expunged now. */
  removed: MembershipRef[];
}

/** The store {@link MessageFlag} bits that message metadata implies (§5.3). */
export function messageFlags(
  metadata: Pick<
    MessageMetadata,
    "Unread" | "LabelIDs" | "Flags" | "IsReplied" | "IsRepliedAll" | "IsForwarded"
  >,
): number {
  let flags = 0;
  if (!metadata.Unread) flags |= MessageFlag.Seen;
  if ((metadata.LabelIDs ?? []).includes(SystemLabel.Starred)) flags |= MessageFlag.Flagged;
  if ((Number(metadata.Flags) & (ApiFlag.Received | ApiFlag.Sent)) === 0) {
    flags |= MessageFlag.Draft;
  }
  if (metadata.IsReplied || metadata.IsRepliedAll) flags |= MessageFlag.Answered;
  if (metadata.IsForwarded) flags |= MessageFlag.Forwarded;
  return flags;
}

/** The message's label IDs that stand for mailboxes, without duplicates, in the given order. */
export function exposedLabelIds(labelIds: readonly string[] | undefined): RemoteLabelId[] {
  const out = new Set<RemoteLabelId>();
  for (const id of labelIds ?? []) {
    if (typeof id === "string" && isExposedLabelId(id)) out.add(id as RemoteLabelId);
  }
  return [...out];
}

/**
 * Makes the index's mailboxes match the account's complete label list: the `Folders` and `Labels`
 * placeholders, one mailbox per exposed label (created with a fresh UIDVALIDITY, or renamed in
 * place so UIDs and UIDVALIDITY stay), kinds and attributes updated. With `prune` (default true)
 * mailboxes of labels that are no longer listed are deleted (their messages stay in their other
 * mailboxes). Mailboxes without a remote ID other than the placeholders (local ones) are never
 * touched; a label whose name a local mailbox holds gets the collision suffix.
 */
export function applyLabels(
  store: Store,
  labels: readonly Label[],
  options: { prune?: boolean } = {},
): LabelsApplied {
  const prune = options.prune ?? true;
  return store.transaction(() => {
    const result: LabelsApplied = { created: [], renamed: [], updated: [], deleted: [] };
    const specs = assignMailboxNames(
      labels,
      (id) => store.mailboxes.byRemoteId(id as RemoteLabelId)?.name,
    );
    const wantedRemote = new Set(
      specs.filter((s) => s.remoteId !== null).map((s) => s.remoteId as string),
    );

    if (prune) {
      for (const mailbox of store.mailboxes.list()) {
        if (mailbox.remoteId !== null && !wantedRemote.has(mailbox.remoteId)) {
          store.mailboxes.delete(mailbox.id);
          result.deleted.push(mailbox);
        }
      }
    }

    for (const placeholder of PLACEHOLDER_MAILBOXES) {
      const existing = store.mailboxes.byName(placeholder.name);
      if (!existing) {
        result.created.push(store.mailboxes.create({
          name: placeholder.name,
          kind: placeholder.kind,
          remoteId: null,
          attributes: placeholder.attributes,
        }));
      }
    }

    // Renames may swap or chain names (a→b while b→c): move every mailbox that changes name to
    // a temporary name first, then to its final one.
    const pending: { mailbox: Mailbox; spec: MailboxSpec }[] = [];
    const fresh: MailboxSpec[] = [];
    for (const spec of specs) {
      if (spec.remoteId === null) continue;
      const existing = store.mailboxes.byRemoteId(spec.remoteId);
      if (!existing) fresh.push(spec);
      else if (existing.name !== spec.name) pending.push({ mailbox: existing, spec });
      else updateKind(store, existing, spec, result);
    }
    for (const { mailbox } of pending) {
      store.mailboxes.rename(mailbox.id, `\u0000renaming-${mailbox.id}`);
    }
    for (const { mailbox, spec } of pending) {
      const name = freeName(store, spec);
      store.mailboxes.rename(mailbox.id, name);
      result.renamed.push({ id: mailbox.id, oldName: mailbox.name, newName: name });
      updateKind(store, store.mailboxes.require(mailbox.id), spec, result);
    }
    for (const spec of fresh) {
      result.created.push(store.mailboxes.create({
        name: freeName(store, spec),
        kind: spec.kind,
        remoteId: spec.remoteId,
        attributes: spec.attributes,
      }));
    }
    return result;
  });
}

/**
 * Creates or renames the mailbox of one label (a label Create or Update event). `labelsById`
 * (the account's labels as now known) lets a folder's path follow its parents exactly. A renamed
 * folder takes its inferiors along. A label that is not exposed changes nothing.
 */
export function applyLabel(
  store: Store,
  label: Label,
  labelsById?: ReadonlyMap<string, Label>,
  options: { promote?: boolean } = {},
): LabelApplied {
  const spec = mailboxForLabel(label, labelsById);
  if (!spec || spec.remoteId === null) {
    return { mailbox: undefined, created: false, renamed: [], suffixed: false };
  }
  return store.transaction(() => {
    for (const placeholder of PLACEHOLDER_MAILBOXES) {
      if (!store.mailboxes.byName(placeholder.name)) {
        store.mailboxes.create({
          name: placeholder.name,
          kind: placeholder.kind,
          remoteId: null,
          attributes: placeholder.attributes,
        });
      }
    }
    const existing = store.mailboxes.byRemoteId(spec.remoteId!);
    if (!existing) {
      const mailbox = store.mailboxes.create({
        name: freeName(store, spec),
        kind: spec.kind,
        remoteId: spec.remoteId,
        attributes: spec.attributes,
      });
      return { mailbox, created: true, renamed: [], suffixed: mailbox.name !== spec.name };
    }
    let renamed: MailboxRenamed[] = [];
    // A name the label may have (its preferred one, or the suffixed form a collision gave it) is
    // kept (see `isNameFor`), unless `promote` asks for the preferred one where it is free (the
    // second look at a label whose name collided within the same event: a swap of two names).
    const keep = isNameFor(spec.name, spec.remoteId!, existing.name) &&
      !(options.promote && existing.name !== spec.name);
    if (!keep) {
      const name = freeName(store, spec, existing.name);
      if (name !== existing.name) {
        renamed = store.mailboxes.rename(existing.id, name, {
          delimiter: spec.kind === "folder" ? MAILBOX_DELIMITER : undefined,
        });
      }
    }
    const sink: LabelsApplied = { created: [], renamed: [], updated: [], deleted: [] };
    updateKind(store, store.mailboxes.require(existing.id), spec, sink);
    const mailbox = store.mailboxes.require(existing.id);
    return { mailbox, created: false, renamed, suffixed: mailbox.name !== spec.name };
  });
}

/**
 * Deletes the mailbox of a label (a label Delete event) and, for a folder, its inferiors.
 * Returns the deleted mailboxes (none when the label had no mailbox). Messages stay in their
 * other mailboxes; a message's later metadata tells where it went.
 */
export function deleteLabel(store: Store, labelId: string): Mailbox[] {
  return store.transaction(() => {
    const mailbox = store.mailboxes.byRemoteId(labelId as RemoteLabelId);
    if (!mailbox) return [];
    const deleted: Mailbox[] = [mailbox];
    if (mailbox.kind === "folder") {
      const prefix = mailbox.name + MAILBOX_DELIMITER;
      for (const other of store.mailboxes.list()) {
        if (other.name.startsWith(prefix) && other.remoteId !== null) deleted.push(other);
      }
    }
    for (const m of deleted) store.mailboxes.delete(m.id);
    return deleted;
  });
}

/**
 * Puts a message into the index (or updates it in place when its remote ID is known): the FETCH
 * data of `built`, the flags of `metadata`, memberships for every exposed label in
 * `metadata.LabelIDs` (existing ones keep their UIDs, new ones get the mailbox's UIDNEXT, stale
 * ones are expunged). A failed build is recorded in the sync failures; a successful one clears an
 * earlier failure. Idempotent. The caller stores the literal under the returned `id`.
 */
export function applyMessage(
  store: Store,
  metadata: MessageMetadata,
  built: BuiltContent,
): MessageApplied {
  const remoteId = metadata.ID as RemoteMessageId;
  return store.transaction(() => {
    const failed = built.status === "failed";
    const upsert = store.messages.upsertFromSync({
      ...contentOf(metadata, built),
      remoteId,
      flags: messageFlags(metadata),
    });
    const labels = store.membership.setMessageLabels(upsert.id, exposedLabelIds(metadata.LabelIDs));
    if (failed) store.sync.recordFailure(remoteId, built.reason || "build failed");
    // A failure is only ever recorded with its placeholder row, so a new message has none.
    else if (!upsert.created) store.sync.clearFailure(remoteId);
    return {
      id: upsert.id,
      created: upsert.created,
      flagsChanged: upsert.flagsChanged,
      added: sortRefs(labels.added),
      removed: sortRefs(labels.removed),
      unknownLabels: labels.unknownLabels,
    };
  });
}

/** One message for {@link applyMessages}. */
export interface MessageToApply {
  metadata: MessageMetadata;
  built: BuiltContent;
}

/**
 * {@link applyMessage} for many messages, in order, as one transaction: the same index as applying
 * them one by one (same UIDs, flags, memberships, failures), several times faster for messages
 * that are not indexed yet, which go through the store's bulk insert in runs (one shared
 * mod-sequence per run). A message already indexed (a resumed sync re-applying it), or a second
 * message with the same remote ID, takes the general path at its place in the order. Results are
 * in input order.
 */
export function applyMessages(
  store: Store,
  messages: readonly MessageToApply[],
): MessageApplied[] {
  return store.transaction(() => {
    const results: MessageApplied[] = [];
    const mailboxOf = new Map<RemoteLabelId, MailboxId | undefined>();
    const resolve = (label: RemoteLabelId) => {
      if (!mailboxOf.has(label)) mailboxOf.set(label, store.mailboxes.byRemoteId(label)?.id);
      return mailboxOf.get(label);
    };
    let run: { message: BulkMessage; unknownLabels: RemoteLabelId[]; failed?: string }[] = [];
    const inRun = new Set<string>();
    const flush = () => {
      if (run.length === 0) return;
      const inserted = store.bulk.insertNew(run.map((r) => r.message));
      run.forEach((r, i) => {
        if (r.failed !== undefined) store.sync.recordFailure(r.message.remoteId, r.failed);
        results.push({
          id: inserted[i].id,
          created: true,
          flagsChanged: false,
          added: sortRefs(inserted[i].added),
          removed: [],
          unknownLabels: r.unknownLabels,
        });
      });
      run = [];
      inRun.clear();
    };
    for (const { metadata, built } of messages) {
      const remoteId = metadata.ID as RemoteMessageId;
      if (inRun.has(remoteId) || store.messages.byRemoteId(remoteId) !== undefined) {
        flush();
        results.push(applyMessage(store, metadata, built));
        continue;
      }
      const failed = built.status === "failed" ? (built.reason || "build failed") : undefined;
      const mailboxes: MailboxId[] = [];
      const unknownLabels: RemoteLabelId[] = [];
      for (const label of exposedLabelIds(metadata.LabelIDs)) {
        const mailbox = resolve(label);
        if (mailbox === undefined) unknownLabels.push(label);
        else mailboxes.push(mailbox);
      }
      run.push({
        message: {
          ...contentOf(metadata, built),
          remoteId,
          flags: messageFlags(metadata),
          mailboxes,
        },
        unknownLabels,
        failed,
      });
      inRun.add(remoteId);
    }
    flush();
    return results;
  });
}

/**
 * Applies only the flags and labels of `metadata` to a message already in the index (a flag or
 * label change event). Returns `undefined` when the message is not indexed: the caller then fetches
 * and builds it and uses {@link applyMessage}.
 */
export function applyMessageMetadata(
  store: Store,
  metadata: MessageMetadata,
): MessageApplied | undefined {
  return store.transaction(() => {
    const id = store.messages.byRemoteId(metadata.ID as RemoteMessageId);
    if (id === undefined) return undefined;
    const changed = store.messages.setFlags([id], {
      mode: "replace",
      flags: messageFlags(metadata),
      keep: SYNCED_KEEP,
    });
    const labels = store.membership.setMessageLabels(id, exposedLabelIds(metadata.LabelIDs));
    return {
      id,
      created: false,
      flagsChanged: changed.length > 0,
      added: sortRefs(labels.added),
      removed: sortRefs(labels.removed),
      unknownLabels: labels.unknownLabels,
    };
  });
}

/**
 * Removes a message from the index: every membership is expunged (and recorded for QRESYNC), the
 * row goes, and so does a recorded build failure. Returns `undefined` when it was not indexed.
 * The caller deletes its literal cache entry.
 */
export function deleteMessage(store: Store, remoteId: string): MessageDeleted | undefined {
  return store.transaction(() => {
    const id = store.messages.byRemoteId(remoteId as RemoteMessageId);
    if (id === undefined) {
      store.sync.clearFailure(remoteId as RemoteMessageId);
      return undefined;
    }
    const removed = store.messages.delete(id);
    store.sync.clearFailure(remoteId as RemoteMessageId);
    return { id, removed: sortRefs(removed) };
  });
}

/** The index's content columns of a message: its metadata's address and date, the build. */
function contentOf(metadata: MessageMetadata, built: BuiltContent): MessageContent {
  const failed = built.status === "failed";
  return {
    addressId: (metadata.AddressID || null) as RemoteAddressId | null,
    internalDate: internalDate(metadata.Time),
    size: built.literalSize,
    envelope: built.envelope,
    bodyStructure: built.bodyStructure,
    body: built.body,
    header: built.headerBytes,
    buildError: failed ? (built.reason || "build failed") : null,
    literalSha256: built.literalSha256,
  };
}

function internalDate(time: unknown): number {
  const t = Number(time);
  return Number.isFinite(t) && t > 0 ? Math.floor(t) : 0;
}

function sortRefs(refs: MembershipRef[]): MembershipRef[] {
  return [...refs].sort((a, b) => a.mailbox - b.mailbox || a.uid - b.uid);
}

/** `spec.name`, or its collision-suffixed form when another mailbox (e.g. a local one) has it. */
function freeName(store: Store, spec: MailboxSpec, current?: string): string {
  const taken = (name: string) => {
    if (name === current) return false;
    const other = store.mailboxes.byName(name);
    return other !== undefined && other.remoteId !== spec.remoteId;
  };
  if (!taken(spec.name)) return spec.name;
  const base = disambiguatedName(spec.name, spec.remoteId!);
  let name = base;
  for (let i = 2; taken(name); i++) name = `${base} ${i}`;
  return name;
}

function updateKind(store: Store, mailbox: Mailbox, spec: MailboxSpec, result: LabelsApplied) {
  const sameAttributes = mailbox.attributes.length === spec.attributes.length &&
    mailbox.attributes.every((a, i) => a === spec.attributes[i]);
  if (mailbox.kind === spec.kind && sameAttributes) return;
  result.updated.push(
    store.mailboxes.update(mailbox.id, { kind: spec.kind, attributes: spec.attributes }),
  );
}

/**
 * The updates for one applied message, as the event loop makes them: `FlagsChanged` (with every
 * membership the message had before and still has, plus the removed ones) when its bits changed,
 * then `MembershipChanged` when it gained or lost mailboxes.
 */
export function messageUpdates(
  store: Store,
  applied: Pick<MessageApplied, "id" | "flagsChanged" | "added" | "removed">,
  remoteId: RemoteMessageId | null,
): UpdateData[] {
  const updates: UpdateData[] = [];
  if (applied.flagsChanged) {
    const message = store.messages.get(applied.id);
    if (message) {
      const addedKeys = new Set(applied.added.map(membershipKey));
      const memberships: UidRef[] = [
        ...applied.removed,
        ...store.membership.memberships(applied.id).filter((m) => !addedKeys.has(membershipKey(m))),
      ];
      updates.push({ kind: "FlagsChanged", changes: [flagsChange(message, memberships)] });
    }
  }
  if (applied.added.length > 0 || applied.removed.length > 0) {
    updates.push({
      kind: "MembershipChanged",
      messageId: applied.id,
      remoteId,
      added: applied.added,
      removed: applied.removed,
    });
  }
  return updates;
}

/** One entry of a `FlagsChanged` update. */
type FlagsChange = Extract<UpdateData, { kind: "FlagsChanged" }>["changes"][number];

/** A `FlagsChanged` entry for `message` as it is now, reported to `memberships`. */
function flagsChange(
  message: { id: InternalMessageId; flags: number; keywords: string[]; modseq: number },
  memberships: UidRef[],
): FlagsChange {
  return {
    messageId: message.id,
    flags: message.flags,
    keywords: message.keywords,
    modseq: message.modseq,
    memberships,
  };
}

/** A `FlagsChanged` entry for a message as it is now (every membership). */
export function currentFlagsChange(store: Store, id: InternalMessageId): FlagsChange | undefined {
  const message = store.messages.get(id);
  return message && flagsChange(message, store.membership.memberships(id));
}

/** A membership as a map key. */
export function membershipKey(r: MembershipRef): string {
  return `${r.mailbox}:${r.uid}`;
}
