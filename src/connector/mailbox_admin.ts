/**
 * CREATE, RENAME and DELETE of user folders and labels (proton-api.md §5.2, after proton-bridge
 * `connector.go` `CreateMailbox`, `UpdateMailboxName`, `DeleteMailbox`):
 *
 * - Only `Folders/…` (nested; the parent folder must exist) and `Labels/<name>` (no hierarchy) can
 *   be created or renamed to; a folder stays a folder and a label a label. New ones get colour
 *   `#f66`, as Bridge gives them; a rename keeps the colour.
 * - The API call comes first; the answer (the server's label) is applied with the sync's
 *   `applyLabel` / `deleteLabel`, with the folder's ancestors described from the index so that the
 *   name comes out exactly as the event loop will compute it when the label event arrives. A
 *   renamed folder takes its sub-folders along; a deleted folder takes them too (the server
 *   deletes them with it).
 *
 * @module
 */
import { ApiError, ErrorCode, type Label, LabelType } from "../api/mod.ts";
import type { Mailbox, MailboxId, RemoteLabelId, Store } from "../store/mod.ts";
import { applyLabel, deleteLabel } from "../sync/apply.ts";
import {
  callApi,
  type ConnectorContext,
  publish,
  refuse,
  requireMailbox,
} from "./connector_context.ts";
import {
  FOLDERS_PREFIX,
  MAILBOX_DELIMITER,
  parseUserMailboxName,
  unescapeNameComponent,
  type UserMailboxName,
} from "./mailbox_names.ts";
import type { UpdateData } from "./updates.ts";

/** The colour Bridge gives new labels and folders. */
export const NEW_LABEL_COLOR = "#f66";

function parseTarget(name: string): UserMailboxName {
  const parsed = parseUserMailboxName(name);
  if (!parsed) {
    refuse(
      "CANNOT",
      `Mailboxes can only be created under ${FOLDERS_PREFIX}/ or as Labels/<name> (no sub-labels)`,
    );
  }
  // The API trims names: "Folders/ x " would be created as "Folders/x", and the client would then
  // not find the name it was told exists.
  if (parsed.path.some((part) => part !== part.trim())) {
    refuse("CANNOT", "Folder and label names cannot begin or end with spaces");
  }
  return parsed;
}

/**
 * The `Label` objects of a folder mailbox and its ancestors, as the index knows them (ID, name
 * and parent), so `applyLabel` follows the same `ParentID` chain the event loop follows.
 */
function folderChain(store: Store, folderName: string): Map<string, Label> {
  const parts = folderName.split(MAILBOX_DELIMITER);
  const out = new Map<string, Label>();
  let parentId: string | undefined;
  for (let i = 2; i <= parts.length; i++) {
    const mailbox = store.mailboxes.byName(parts.slice(0, i).join(MAILBOX_DELIMITER));
    if (!mailbox || mailbox.kind !== "folder" || mailbox.remoteId === null) break;
    const label: Label = {
      ID: mailbox.remoteId,
      Name: unescapeNameComponent(parts[i - 1]),
      Path: parts.slice(1, i).map(unescapeNameComponent).join(MAILBOX_DELIMITER),
      Color: "",
      Type: LabelType.Folder,
      ...(parentId ? { ParentID: parentId } : {}),
    };
    out.set(label.ID, label);
    parentId = label.ID;
  }
  return out;
}

/** The parent folder of a folder path (`undefined` at the top), or `NO [NONEXISTENT]`. */
function parentFolder(store: Store, name: string): Mailbox | undefined {
  const parts = name.split(MAILBOX_DELIMITER);
  if (parts.length <= 2) return undefined;
  const parentName = parts.slice(0, -1).join(MAILBOX_DELIMITER);
  const parent = store.mailboxes.byName(parentName);
  if (!parent || parent.kind !== "folder" || parent.remoteId === null) {
    refuse("NONEXISTENT", `The parent folder ${parentName} does not exist; create it first`);
  }
  return parent;
}

function labelsFor(store: Store, label: Label, parent: Mailbox | undefined): Map<string, Label> {
  const map = parent ? folderChain(store, parent.name) : new Map<string, Label>();
  map.set(label.ID, label);
  return map;
}

/** CREATE (see the module notes). */
export async function createMailbox(
  ctx: ConnectorContext,
  origin: string,
  name: string,
): Promise<Mailbox> {
  const { store } = ctx;
  const target = parseTarget(name);
  if (store.mailboxes.byName(name)) refuse("ALREADYEXISTS", `Mailbox ${name} already exists`);
  const parent = target.type === LabelType.Folder ? parentFolder(store, name) : undefined;
  const leaf = target.path[target.path.length - 1];
  const kind = target.type === LabelType.Folder ? "folder" : "label";
  const label = await callApi(`Creating the ${kind} ${name}`, async () => {
    try {
      return await ctx.api.createLabel({
        Name: leaf,
        Color: NEW_LABEL_COLOR,
        Type: target.type,
        ...(parent ? { ParentID: parent.remoteId! } : {}),
      });
    } catch (error) {
      // "Already exists" for a name this index does not have: the create was repeated after
      // its reply was lost (so it is this command's), or the label was made elsewhere and its
      // event has not come yet. Either way it is there, as the client asked: take it.
      if (!(error instanceof ApiError && error.code === ErrorCode.AlreadyExists)) throw error;
      const made = (await ctx.api.labels(target.type)).find((l) =>
        l.Type === target.type && l.Name === leaf &&
        (l.ParentID || undefined) === (parent?.remoteId ?? undefined) &&
        store.mailboxes.byRemoteId(l.ID as RemoteLabelId) === undefined
      );
      if (!made) throw error;
      return made;
    }
  });
  const { mailbox, updates } = store.transaction(() => {
    const applied = applyLabel(store, label, labelsFor(store, label, parent));
    if (!applied.mailbox) refuse("SERVERBUG", "The server answered with a label of another kind");
    const updates: UpdateData[] = [];
    if (applied.created) {
      updates.push({
        kind: "MailboxCreated",
        mailbox: applied.mailbox.id,
        name: applied.mailbox.name,
        remoteId: applied.mailbox.remoteId,
        attributes: applied.mailbox.attributes,
      });
    }
    for (const r of applied.renamed) {
      updates.push({
        kind: "MailboxRenamed",
        mailbox: r.id,
        oldName: r.oldName,
        newName: r.newName,
      });
    }
    return { mailbox: applied.mailbox, updates };
  });
  publish(ctx, updates, origin);
  return mailbox;
}

function requireUserMailbox(store: Store, id: MailboxId): Mailbox & { remoteId: RemoteLabelId } {
  const mailbox = requireMailbox(store, id);
  if ((mailbox.kind !== "folder" && mailbox.kind !== "label") || mailbox.remoteId === null) {
    refuse("CANNOT", `${mailbox.name} cannot be renamed or deleted; only folders and labels can`);
  }
  return mailbox as Mailbox & { remoteId: RemoteLabelId };
}

/** RENAME (see the module notes). */
export async function renameMailbox(
  ctx: ConnectorContext,
  origin: string,
  id: MailboxId,
  newName: string,
): Promise<void> {
  const { store } = ctx;
  const mailbox = requireUserMailbox(store, id);
  if (newName === mailbox.name) return;
  const target = parseTarget(newName);
  const wantType = mailbox.kind === "folder" ? LabelType.Folder : LabelType.Label;
  if (target.type !== wantType) {
    refuse("CANNOT", `A ${mailbox.kind} stays a ${mailbox.kind}: rename it within its hierarchy`);
  }
  if (store.mailboxes.byName(newName)) refuse("ALREADYEXISTS", `Mailbox ${newName} already exists`);
  if (newName.startsWith(mailbox.name + MAILBOX_DELIMITER)) {
    refuse("CANNOT", "A folder cannot be moved under itself");
  }
  const parent = target.type === LabelType.Folder ? parentFolder(store, newName) : undefined;
  const current = await callApi(
    `Renaming ${mailbox.name}`,
    () => ctx.api.labels(wantType),
  );
  const color = current.find((l) => l.ID === mailbox.remoteId)?.Color || NEW_LABEL_COLOR;
  const label = await callApi(
    `Renaming ${mailbox.name}`,
    () =>
      ctx.api.updateLabel(mailbox.remoteId, {
        Name: target.path[target.path.length - 1],
        Color: color,
        ...(parent ? { ParentID: parent.remoteId! } : {}),
      }),
  );
  const updates = store.transaction(() => {
    const applied = applyLabel(store, label, labelsFor(store, label, parent));
    return applied.renamed.map((r): UpdateData => ({
      kind: "MailboxRenamed",
      mailbox: r.id,
      oldName: r.oldName,
      newName: r.newName,
    }));
  });
  publish(ctx, updates, origin);
}

/** DELETE (see the module notes). */
export async function deleteMailbox(
  ctx: ConnectorContext,
  origin: string,
  id: MailboxId,
): Promise<void> {
  const { store } = ctx;
  const mailbox = requireUserMailbox(store, id);
  // The server deletes a folder's subfolders with it; IMAP keeps inferiors (RFC 3501 §6.3.4), so
  // a parent goes only once it has none (RFC 9051's HASCHILDREN).
  const prefix = `${mailbox.name}${MAILBOX_DELIMITER}`;
  if (store.mailboxes.list().some((m) => m.name.startsWith(prefix))) {
    refuse(
      "HASCHILDREN",
      `${mailbox.name} has subfolders: delete or move them first (the server would delete them too)`,
    );
  }
  await callApi(`Deleting ${mailbox.name}`, async () => {
    try {
      await ctx.api.deleteLabel(mailbox.remoteId);
    } catch (error) {
      // Not there: deleted already (a repeated delete whose first reply was lost, or another
      // client): gone, as the client asked.
      if (!(error instanceof ApiError && error.code === ErrorCode.NotFound)) throw error;
    }
  });
  const updates = store.transaction(() =>
    deleteLabel(store, mailbox.remoteId).map((m): UpdateData => ({
      kind: "MailboxDeleted",
      mailbox: m.id,
      name: m.name,
    }))
  );
  publish(ctx, updates, origin);
}
