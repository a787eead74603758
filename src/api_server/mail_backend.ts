/**
 * The reference server's mailbox: labels and folders, messages stored encrypted as the real
 * service stores them (armored body, attachments as key packets + data packet), and every change
 * written to the user's event feed.
 *
 * State lives in the server's {@link Db} (kinds `mail_user`, `label`, `message`, `message_body`,
 * `attachment`, `attachment_data`, `undo`) and, for speed, in a per-user index in memory loaded
 * at construction: metadata paging over 10,000 messages must not parse 10,000 stored bodies.
 * Bodies and attachment data are read from the Db only when one message or attachment is fetched.
 *
 * Every mutation appends exactly one event (`EventLog.append`) holding all its changes: `Labels`
 * items (Create 1 / Update 2 / Delete 0 with the label) and `Messages` items (Create 1 with
 * metadata, UpdateFlags 3 with the full new metadata for label/flag changes, Delete 0 with the ID
 * only). Label/flag changes use UpdateFlags, as the real API does, because Bridge re-downloads
 * drafts and sent messages on Update (2) (proton-api.md §4.6).
 *
 * Storage use: each user's `UsedSpace` is the sum of the `Size` of every message the user has, in
 * any label (Trash and Spam included), as the real API counts it. It is a running total in the
 * in-memory index, summed once when the index is loaded and then changed by exactly what each
 * mutation adds or frees (create, import, send, deliver, seed, attachment upload, draft update,
 * permanent delete), never by scanning the mailbox. An event whose changes alter it carries the
 * new total as its top-level `UsedSpace`; other events do not.
 *
 * @module
 */
import type { Db, Doc } from "./db.ts";
import type { AccountDirectory } from "./directory.ts";
import type { EventChanges, EventLog } from "./event_log.ts";
import { ApiServerError } from "./http.ts";
import {
  addLabel,
  checkLabelTarget,
  idCounter,
  isSortableID,
  isSystemLabel,
  type LabelState,
  removeLabel,
  sameLabels,
  sortableID,
  SYSTEM_LABELS,
  wireLabelIDs,
} from "./mail_model.ts";
import {
  buildMessage,
  type BuiltAttachment,
  type BuiltMessage,
  type DeliverInput,
} from "./deliver.ts";
import { Outbox } from "./outbox.ts";
import { seedMailbox } from "./seed.ts";
import { decodeBase64, encodeBase64 } from "./_base64.ts";
import { ErrorCode, EventAction, LabelType, MessageFlag } from "../api/types.ts";
import type {
  Attachment,
  Bool,
  CreateLabelReq,
  EmailAddress,
  Label,
  LabelEvent,
  LabelMessagesRes,
  Message,
  MessageEvent,
  MessageGroupCount,
  MessageMetadata,
  MultiResponseItem,
  ParsedHeaders,
  UndoToken,
  UpdateLabelReq,
} from "../api/types.ts";

export type { DeliverAttachment, DeliverInput } from "./deliver.ts";

/** A custom label or folder as stored (kind `label`). */
export interface StoredLabel extends Doc {
  ID: string;
  UserID: string;
  Name: string;
  Color: string;
  Type: number;
  /** Parent folder ID, "" at the top level. */
  ParentID: string;
  Order: number;
  Notify: Bool;
  Expanded: Bool;
  Sticky: Bool;
}

/** A message as stored (kind `message`), without its body. */
export interface StoredMessage extends Doc, LabelState {
  ID: string;
  UserID: string;
  AddressID: string;
  ExternalID: string;
  Subject: string;
  Sender: EmailAddress;
  ToList: EmailAddress[];
  CCList: EmailAddress[];
  BCCList: EmailAddress[];
  ReplyTos: EmailAddress[];
  Time: number;
  Size: number;
  Unread: Bool;
  MIMEType: string;
  Header: string;
  ParsedHeaders: ParsedHeaders;
  AttachmentIDs: string[];
  /** Drafts: the message replied to or forwarded (set at draft creation). */
  ParentID?: string;
  /** Drafts: the draft's `Action` (0 reply, 1 reply all, 2 forward…). */
  DraftAction?: number;
}

/** One change of {@link MailBackend.editMessages}. */
export interface MessageEdit {
  /** The message ID. */
  ID: string;
  /** Changes the stored message in place (metadata, flags, location, header). */
  apply(m: StoredMessage): void;
  /** A new armored body, when it changes. */
  Body?: string;
  /** Event action: Update (2, default: clients download the message again) or UpdateFlags (3). */
  Action?: number;
}

/** An attachment as stored (kind `attachment`); its data packet is kind `attachment_data`. */
export interface StoredAttachment extends Doc {
  ID: string;
  UserID: string;
  MessageID: string;
  Name: string;
  Size: number;
  MIMEType: string;
  Disposition: string;
  Headers: ParsedHeaders;
  KeyPackets: string;
  Signature: string;
}

interface UndoRecord extends Doc {
  Token: string;
  UserID: string;
  ValidUntil: number;
  Before: { ID: string; Location: string; Labels: string[]; Starred: boolean }[];
}

interface UserMail {
  labels: Map<string, StoredLabel>;
  messages: Map<string, StoredMessage>;
  /** Message IDs in ascending (creation) order. */
  order: string[];
  attachments: Map<string, StoredAttachment>;
  /** Sum of the `Size` of every message in `messages` (the user's `UsedSpace`). */
  usedSpace: number;
}

/** Filter and paging of metadata listing (`POST /mail/v4/messages` overridden to GET). */
export interface MessageQuery {
  ID?: string[];
  Subject?: string;
  AddressID?: string;
  ExternalID?: string;
  LabelID?: string[];
  EndID?: string;
  Desc?: boolean;
  /** 0-based page. */
  Page?: number;
  PageSize?: number;
  Sort?: "ID" | "Time" | "Size";
}

/** Result of a label/unlabel request. */
export type LabelResult = LabelMessagesRes & { UndoToken: UndoToken };

/** How long an undo token stays valid, in seconds. */
export const UNDO_TTL_SECONDS = 300;
/** Default page size of metadata listing (go-proton-api's fake server: 100). */
export const DEFAULT_PAGE_SIZE = 100;

const DEFAULT_COLOR = "#7272a7";
const COLOR_REGEXP = /^#(?:[0-9a-fA-F]{3}){1,2}$/;
const MAX_LABEL_NAME = 100;

function notFound(what: string): ApiServerError {
  return new ApiServerError(422, ErrorCode.NotFound, `${what} does not exist`);
}

function invalid(message: string): ApiServerError {
  return new ApiServerError(422, ErrorCode.InvalidValue, message);
}

function okItem(id: string): MultiResponseItem {
  return { ID: id, Response: { Code: 1000 } };
}

function missingItem(id: string): MultiResponseItem {
  return { ID: id, Response: { Code: ErrorCode.NotFound, Error: "Message does not exist" } };
}

/** The mail half of the reference server. */
export class MailBackend {
  /** The server's storage. */
  readonly db: Db;
  /** Users, addresses and keys. */
  readonly accounts: AccountDirectory;
  /** The event feed every change is written to. */
  readonly events: EventLog;
  /** Deliveries to external recipients (send), readable through the controls. */
  readonly outbox: Outbox;
  #users = new Map<string, UserMail>();
  #counter = 0;
  #now: () => number;

  /**
   * Loads existing mail state from `db`.
   *
   * @param db Storage.
   * @param accounts Users and addresses.
   * @param events Event feed.
   * @param now Clock in Unix seconds (tests replace it).
   */
  constructor(
    db: Db,
    accounts: AccountDirectory,
    events: EventLog,
    now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.db = db;
    this.accounts = accounts;
    this.events = events;
    this.outbox = new Outbox(db);
    this.#now = now;
    for (const u of db.list<{ UserID: string } & Doc>("mail_user")) this.#emptyUser(u.UserID);
    for (const l of db.list<StoredLabel>("label")) {
      this.#user(l.UserID).labels.set(l.ID, l);
      this.#seen(l.ID);
    }
    for (const m of db.list<StoredMessage>("message")) {
      const u = this.#user(m.UserID);
      u.messages.set(m.ID, m);
      u.order.push(m.ID);
      u.usedSpace += m.Size;
      this.#seen(m.ID);
    }
    for (const a of db.list<StoredAttachment>("attachment")) {
      this.#user(a.UserID).attachments.set(a.ID, a);
      this.#seen(a.ID);
    }
    for (const u of this.#users.values()) u.order.sort(compareIDs);
  }

  #seen(id: string) {
    this.#counter = Math.max(this.#counter, idCounter(id));
  }

  #newID(): string {
    return sortableID(++this.#counter);
  }

  #emptyUser(userID: string): UserMail {
    const u: UserMail = {
      labels: new Map(),
      messages: new Map(),
      order: [],
      attachments: new Map(),
      usedSpace: 0,
    };
    this.#users.set(userID, u);
    return u;
  }

  /** The user's mail state, created on first use. */
  #user(userID: string): UserMail {
    return this.#users.get(userID) ?? this.#initUser(userID);
  }

  #initUser(userID: string): UserMail {
    const u = this.#emptyUser(userID);
    this.db.put("mail_user", userID, { UserID: userID });
    return u;
  }

  /**
   * The bytes the user's messages take (`UsedSpace`): the sum of the `Size` of all its messages,
   * whatever their labels. 0 for a user without mail.
   */
  usedSpace(userID: string): number {
    return this.#users.get(userID)?.usedSpace ?? 0;
  }

  /** The backend's clock, in Unix seconds. */
  now(): number {
    return this.#now();
  }

  /**
   * Prepares a user's mailbox (system labels are fixed, so this only records the user).
   * Idempotent.
   */
  initUser(userID: string): void {
    this.#user(userID);
  }

  // -------------------------------------------------------------------------------------------
  // Labels
  // -------------------------------------------------------------------------------------------

  #labelPath(u: UserMail, label: StoredLabel): string {
    const names = [label.Name];
    const seen = new Set([label.ID]);
    for (let p = u.labels.get(label.ParentID); p && !seen.has(p.ID); p = u.labels.get(p.ParentID)) {
      names.unshift(p.Name);
      seen.add(p.ID);
    }
    return names.join("/");
  }

  #toLabel(u: UserMail, l: StoredLabel): Label {
    const out: Label = {
      ID: l.ID,
      Name: l.Name,
      Path: this.#labelPath(u, l),
      Color: l.Color,
      Type: l.Type,
      Notify: l.Notify,
      Expanded: l.Expanded,
      Sticky: l.Sticky,
      Order: l.Order,
    };
    if (l.ParentID) out.ParentID = l.ParentID;
    return out;
  }

  /**
   * Labels of one type: system labels for 4; custom labels (1) or folders (3) ordered by
   * `Order`, parents before their children; nothing for contact groups (2).
   */
  listLabels(userID: string, type: number): Label[] {
    if (type === LabelType.System) return SYSTEM_LABELS.map((l) => ({ ...l }));
    const u = this.#user(userID);
    const all = [...u.labels.values()].filter((l) => l.Type === type);
    const byParent = new Map<string, StoredLabel[]>();
    for (const l of all) {
      const parent = l.ParentID && u.labels.has(l.ParentID) ? l.ParentID : "";
      if (!byParent.has(parent)) byParent.set(parent, []);
      byParent.get(parent)!.push(l);
    }
    const out: Label[] = [];
    const walk = (parent: string) => {
      for (const l of (byParent.get(parent) ?? []).sort((a, b) => a.Order - b.Order)) {
        out.push(this.#toLabel(u, l));
        walk(l.ID);
      }
    };
    walk("");
    return out;
  }

  /** Any label of the user (system or custom) by ID, as on the wire. */
  getLabel(userID: string, id: string): Label | undefined {
    const sys = SYSTEM_LABELS.find((l) => l.ID === id);
    if (sys) return { ...sys };
    const u = this.#user(userID);
    const l = u.labels.get(id);
    return l && this.#toLabel(u, l);
  }

  #checkName(name: unknown): string {
    if (typeof name !== "string" || name.trim() === "") throw invalid("Label name is required");
    const n = name.trim();
    if (n.length > MAX_LABEL_NAME) throw invalid(`Label name is longer than ${MAX_LABEL_NAME}`);
    if (n.includes("/")) throw invalid('Label name cannot contain "/"');
    return n;
  }

  #checkColor(color: unknown, fallback: string): string {
    if (color === undefined || color === null || color === "") return fallback;
    if (typeof color !== "string" || !COLOR_REGEXP.test(color)) {
      throw invalid(`Invalid color "${String(color)}"`);
    }
    return color;
  }

  #checkParent(u: UserMail, type: number, parentID: unknown, self?: string): string {
    if (parentID === undefined || parentID === null || parentID === "") return "";
    if (typeof parentID !== "string") throw invalid("Invalid ParentID");
    if (type !== LabelType.Folder) throw invalid("ParentID can only be set for folders");
    const parent = u.labels.get(parentID);
    if (!parent || parent.Type !== LabelType.Folder) throw notFound("Parent folder");
    for (let p: StoredLabel | undefined = parent; p; p = u.labels.get(p.ParentID)) {
      if (p.ID === self) throw invalid("A folder cannot be moved into itself");
    }
    return parentID;
  }

  #checkUnique(u: UserMail, type: number, parentID: string, name: string, self?: string) {
    const lower = name.toLowerCase();
    for (const l of u.labels.values()) {
      if (
        l.ID !== self && l.Type === type && l.ParentID === parentID &&
        l.Name.toLowerCase() === lower
      ) {
        throw new ApiServerError(
          422,
          ErrorCode.AlreadyExists,
          `A ${type === LabelType.Folder ? "folder" : "label"} with this name already exists`,
        );
      }
    }
  }

  /**
   * Creates a custom label (Type 1) or folder (Type 3, optionally under `ParentID`).
   *
   * @throws {ApiServerError} 422 2001 for a bad type, name, color or parent type; 422 2501 for an
   * unknown parent; 422 2500 when a sibling of the same type has the same name.
   */
  createLabel(userID: string, req: Partial<CreateLabelReq>): Label {
    const u = this.#user(userID);
    const type = req.Type;
    if (type !== LabelType.Label && type !== LabelType.Folder) {
      throw invalid(`Invalid label type ${String(type)}`);
    }
    const name = this.#checkName(req.Name);
    const color = this.#checkColor(req.Color, DEFAULT_COLOR);
    const parentID = this.#checkParent(u, type, req.ParentID);
    this.#checkUnique(u, type, parentID, name);
    let order = 0;
    for (const l of u.labels.values()) if (l.Type === type) order = Math.max(order, l.Order);
    const label: StoredLabel = {
      ID: this.#newID(),
      UserID: userID,
      Name: name,
      Color: color,
      Type: type,
      ParentID: parentID,
      Order: order + 1,
      Notify: type === LabelType.Folder ? 1 : 0,
      Expanded: 0,
      Sticky: 0,
    };
    u.labels.set(label.ID, label);
    this.db.put("label", label.ID, label);
    const wire = this.#toLabel(u, label);
    this.#emit(userID, { Labels: [{ ID: label.ID, Action: EventAction.Create, Label: wire }] });
    return wire;
  }

  #custom(u: UserMail, id: string): StoredLabel {
    if (isSystemLabel(id)) throw invalid("System labels cannot be changed");
    const l = u.labels.get(id);
    if (!l) throw notFound("Label");
    return l;
  }

  #descendants(u: UserMail, id: string): StoredLabel[] {
    const out: StoredLabel[] = [];
    for (const l of u.labels.values()) {
      if (l.ParentID === id) out.push(...this.#descendants(u, l.ID), l);
    }
    return out;
  }

  /**
   * Renames, recolours or moves a custom label or folder. `ParentID` absent or "" means the top
   * level (go-proton-api omits an empty `ParentID`). Emits a Labels Update for the label and, when
   * its path changed, for every descendant.
   */
  updateLabel(userID: string, id: string, req: Partial<UpdateLabelReq>): Label {
    const u = this.#user(userID);
    const l = this.#custom(u, id);
    const name = this.#checkName(req.Name);
    const color = this.#checkColor(req.Color, l.Color);
    const parentID = this.#checkParent(u, l.Type, req.ParentID, l.ID);
    this.#checkUnique(u, l.Type, parentID, name, l.ID);
    const moved = name !== l.Name || parentID !== l.ParentID;
    Object.assign(l, { Name: name, Color: color, ParentID: parentID });
    this.db.put("label", l.ID, l);
    const changed = [l, ...(moved ? this.#descendants(u, l.ID) : [])];
    this.#emit(userID, {
      Labels: changed.map((c) => ({
        ID: c.ID,
        Action: EventAction.Update,
        Label: this.#toLabel(u, c),
      })),
    });
    return this.#toLabel(u, l);
  }

  /**
   * Deletes a custom label or folder and its sub-folders. Messages lose it: messages in a deleted
   * folder keep no location (they stay in All Mail, as Proton's web app says: "emails in this
   * folder will not be deleted and can still be found in All mail").
   */
  deleteLabel(userID: string, id: string): void {
    const u = this.#user(userID);
    const l = this.#custom(u, id);
    const gone = [...this.#descendants(u, l.ID), l];
    const ids = new Set(gone.map((g) => g.ID));
    const messages: MessageEvent[] = [];
    for (const m of u.messages.values()) {
      if (!ids.has(m.Location) && !m.Labels.some((x) => ids.has(x))) continue;
      if (ids.has(m.Location)) m.Location = "";
      m.Labels = m.Labels.filter((x) => !ids.has(x));
      this.db.put("message", m.ID, m);
      messages.push(this.#flagsEvent(m));
    }
    for (const g of gone) {
      u.labels.delete(g.ID);
      this.db.delete("label", g.ID);
    }
    const labels: LabelEvent[] = gone.map((g) => ({ ID: g.ID, Action: EventAction.Delete }));
    this.#emit(
      userID,
      messages.length ? { Labels: labels, Messages: messages } : { Labels: labels },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Reading messages
  // -------------------------------------------------------------------------------------------

  /** Wire metadata of a stored message. */
  toMetadata(m: StoredMessage): MessageMetadata {
    return {
      ID: m.ID,
      AddressID: m.AddressID,
      LabelIDs: wireLabelIDs(m),
      ExternalID: m.ExternalID,
      Subject: m.Subject,
      Sender: m.Sender,
      ToList: m.ToList,
      CCList: m.CCList,
      BCCList: m.BCCList,
      ReplyTos: m.ReplyTos,
      Flags: m.Flags,
      Time: m.Time,
      Size: m.Size,
      Unread: m.Unread,
      IsReplied: m.Flags & MessageFlag.Replied ? 1 : 0,
      IsRepliedAll: m.Flags & MessageFlag.RepliedAll ? 1 : 0,
      IsForwarded: m.Flags & MessageFlag.Forwarded ? 1 : 0,
      NumAttachments: m.AttachmentIDs.length,
    };
  }

  /** A stored message by ID, or `undefined`. */
  findMessage(userID: string, id: string): StoredMessage | undefined {
    return this.#user(userID).messages.get(id);
  }

  #matcher(q: MessageQuery): (m: StoredMessage) => boolean {
    const ids = q.ID && q.ID.length ? new Set(q.ID) : undefined;
    const labels = q.LabelID && q.LabelID.length ? q.LabelID : undefined;
    return (m) =>
      (!ids || ids.has(m.ID)) &&
      (!q.Subject || m.Subject.includes(q.Subject)) &&
      (!q.AddressID || m.AddressID === q.AddressID) &&
      (!q.ExternalID || m.ExternalID === q.ExternalID) &&
      (!labels || labels.some((l) => wireLabelIDs(m).includes(l)));
  }

  #ordered(u: UserMail, q: MessageQuery): StoredMessage[] {
    const list = u.order.map((id) => u.messages.get(id)!);
    if (q.Sort === "Time") list.sort((a, b) => a.Time - b.Time || compareIDs(a.ID, b.ID));
    if (q.Sort === "Size") list.sort((a, b) => a.Size - b.Size || compareIDs(a.ID, b.ID));
    if (q.Desc) list.reverse();
    return list;
  }

  /** How many messages match the filter (paging fields and `EndID` ignored). */
  countMessages(userID: string, q: MessageQuery): number {
    const u = this.#user(userID);
    const match = this.#matcher(q);
    let n = 0;
    for (const m of u.messages.values()) if (match(m)) n++;
    return n;
  }

  /**
   * One page of metadata, with go-proton-api's fake-server semantics
   * (`server/backend/api.go` `GetMessages`): all messages in ID order, reversed when `Desc`; when
   * `EndID` is present the list starts at that message (inclusive); then the filter; then page
   * `Page` of `PageSize`. Repair: when `EndID` no longer exists (deleted since the previous page)
   * the list starts at the first message past where it was, instead of at the very beginning.
   * `Total` counts every message matching the filter.
   */
  queryMessages(userID: string, q: MessageQuery): { Messages: MessageMetadata[]; Total: number } {
    const u = this.#user(userID);
    const match = this.#matcher(q);
    let list = this.#ordered(u, q);
    const total = list.reduce((n, m) => n + (match(m) ? 1 : 0), 0);
    if (q.EndID) {
      const end = q.EndID;
      const at = list.findIndex((m) => m.ID === end);
      if (at >= 0) list = list.slice(at);
      else if ((q.Sort ?? "ID") === "ID" && isSortableID(end)) {
        list = list.filter((m) => q.Desc ? m.ID < end : m.ID > end);
      }
    }
    const size = q.PageSize && q.PageSize > 0 ? q.PageSize : DEFAULT_PAGE_SIZE;
    const page = q.Page && q.Page > 0 ? q.Page : 0;
    const out: MessageMetadata[] = [];
    let skip = page * size;
    for (const m of list) {
      if (!match(m)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(this.toMetadata(m));
      if (out.length === size) break;
    }
    return { Messages: out, Total: total };
  }

  /** Total and unread messages per label, for every system label and custom label/folder. */
  groupCounts(userID: string): MessageGroupCount[] {
    const u = this.#user(userID);
    const counts = new Map<string, MessageGroupCount>();
    for (const l of SYSTEM_LABELS) counts.set(l.ID, { LabelID: l.ID, Total: 0, Unread: 0 });
    for (const l of u.labels.values()) counts.set(l.ID, { LabelID: l.ID, Total: 0, Unread: 0 });
    for (const m of u.messages.values()) {
      for (const id of wireLabelIDs(m)) {
        const c = counts.get(id);
        if (!c) continue;
        c.Total++;
        if (m.Unread) c.Unread++;
      }
    }
    return [...counts.values()];
  }

  /** Up to `limit` message IDs after `afterID` (exclusive), in ascending ID order. */
  messageIDs(userID: string, afterID: string, limit: number): string[] {
    const { order } = this.#user(userID);
    const start = afterID ? upperBound(order, afterID) : 0;
    return order.slice(start, start + limit);
  }

  /** The full message: metadata, header, armored body and attachment objects. */
  getMessage(userID: string, id: string): Message {
    const u = this.#user(userID);
    const m = u.messages.get(id);
    if (!m) throw notFound("Message");
    const body = this.db.get<{ Body: string }>("message_body", id);
    return {
      ...this.toMetadata(m),
      Header: m.Header,
      ParsedHeaders: m.ParsedHeaders,
      Body: body?.Body ?? "",
      MIMEType: m.MIMEType,
      Attachments: m.AttachmentIDs.flatMap((a) => {
        const att = u.attachments.get(a);
        return att ? [toAttachment(att)] : [];
      }),
    };
  }

  /** The raw data packet of an attachment. */
  attachmentData(userID: string, id: string): Uint8Array {
    const u = this.#user(userID);
    const att = u.attachments.get(id);
    const data = att && this.db.get<{ Data: string }>("attachment_data", id);
    if (!data) throw notFound("Attachment");
    return decodeBase64(data.Data);
  }

  // -------------------------------------------------------------------------------------------
  // Changing messages
  // -------------------------------------------------------------------------------------------

  #flagsEvent(m: StoredMessage): MessageEvent {
    return { ID: m.ID, Action: EventAction.UpdateFlags, Message: this.toMetadata(m) };
  }

  /**
   * Appends one event; with `spaceChanged` (the mutation changed the user's `UsedSpace`) it
   * carries the new total as its top-level `UsedSpace`.
   */
  #emit(userID: string, changes: EventChanges, spaceChanged = false) {
    const usedSpace = spaceChanged ? this.#user(userID).usedSpace : undefined;
    this.events.append(
      userID,
      usedSpace === undefined ? changes : { ...changes, UsedSpace: usedSpace },
    );
  }

  /**
   * Applies `change` to each message; unknown IDs get a per-item 2501. Changed messages are
   * stored and reported in one event. Returns the per-item results.
   */
  #eachMessage(
    userID: string,
    ids: string[],
    change: (m: StoredMessage) => boolean,
  ): MultiResponseItem[] {
    const u = this.#user(userID);
    const events: MessageEvent[] = [];
    // One transaction for the whole request, not one per message.
    return this.db.transaction(() => {
      const responses = ids.map((id) => {
        const m = u.messages.get(id);
        if (!m) return missingItem(id);
        if (change(m)) {
          this.db.put("message", m.ID, m);
          events.push(this.#flagsEvent(m));
        }
        return okItem(id);
      });
      if (events.length) this.#emit(userID, { Messages: events });
      return responses;
    });
  }

  /** Marks messages read (`unread` false) or unread. */
  setUnread(userID: string, ids: string[], unread: boolean): MultiResponseItem[] {
    const value: Bool = unread ? 1 : 0;
    return this.#eachMessage(userID, ids, (m) => {
      if (m.Unread === value) return false;
      m.Unread = value;
      return true;
    });
  }

  /** Sets and clears `Flags` bits (Replied, RepliedAll, Forwarded…) on messages. */
  changeFlags(userID: string, ids: string[], set: number, clear = 0): MultiResponseItem[] {
    return this.#eachMessage(userID, ids, (m) => {
      const flags = ((m.Flags & ~clear) | set) >>> 0;
      if (flags === m.Flags) return false;
      m.Flags = flags;
      return true;
    });
  }

  #labelTarget(u: UserMail, labelID: unknown): string {
    if (typeof labelID !== "string" || labelID === "") throw invalid("LabelID is required");
    const refusal = checkLabelTarget(labelID, u.labels.get(labelID)?.Type);
    if (refusal === "forbidden") throw invalid(`Messages cannot be labelled with ${labelID}`);
    if (refusal === "unknown") throw notFound("Label");
    return labelID;
  }

  #relabel(
    userID: string,
    labelID: unknown,
    ids: string[],
    apply: (s: LabelState, id: string) => LabelState,
  ): LabelResult {
    const u = this.#user(userID);
    const target = this.#labelTarget(u, labelID);
    const before: UndoRecord["Before"] = [];
    const responses = this.#eachMessage(userID, ids, (m) => {
      const next = apply(m, target);
      if (sameLabels(m, next)) return false;
      before.push({ ID: m.ID, Location: m.Location, Labels: m.Labels, Starred: m.Starred });
      Object.assign(m, { Location: next.Location, Labels: next.Labels, Starred: next.Starred });
      return true;
    });
    const token: UndoRecord = {
      Token: encodeBase64(crypto.getRandomValues(new Uint8Array(24))),
      UserID: userID,
      ValidUntil: this.#now() + UNDO_TTL_SECONDS,
      Before: before,
    };
    this.db.put("undo", token.Token, token);
    return {
      Responses: responses,
      UndoToken: { Token: token.Token, ValidUntil: token.ValidUntil },
    };
  }

  /** Labels messages (moving them when the label is a location or folder). */
  label(userID: string, labelID: unknown, ids: string[]): LabelResult {
    const u = this.#user(userID);
    return this.#relabel(userID, labelID, ids, (s, id) => addLabel(s, id, u.labels.get(id)?.Type));
  }

  /** Removes a label (or the location it names) from messages. */
  unlabel(userID: string, labelID: unknown, ids: string[]): LabelResult {
    return this.#relabel(userID, labelID, ids, removeLabel);
  }

  /**
   * Reverts exactly the changes of the label/unlabel request that issued `token`. Returns the
   * metadata of the messages it restored.
   *
   * @throws {ApiServerError} 422 2001 for an unknown, used or expired token.
   */
  undo(userID: string, token: unknown): MessageMetadata[] {
    const t = typeof token === "string" ? this.db.get<UndoRecord>("undo", token) : undefined;
    if (!t || t.UserID !== userID || t.ValidUntil < this.#now()) {
      throw invalid("Invalid or expired undo token");
    }
    this.db.delete("undo", t.Token);
    const byID = new Map(t.Before.map((b) => [b.ID, b]));
    const restored: MessageMetadata[] = [];
    this.#eachMessage(
      userID,
      [...byID.keys()].filter((id) => this.findMessage(userID, id)),
      (m) => {
        const b = byID.get(m.ID)!;
        Object.assign(m, { Location: b.Location, Labels: b.Labels, Starred: b.Starred });
        restored.push(this.toMetadata(m));
        return true;
      },
    );
    return restored;
  }

  /** Deletes messages permanently, with their bodies and attachments. */
  deleteMessages(userID: string, ids: string[]): MultiResponseItem[] {
    const u = this.#user(userID);
    const events: MessageEvent[] = [];
    let freed = 0;
    const responses = ids.map((id) => {
      const m = u.messages.get(id);
      if (!m) return missingItem(id);
      this.db.transaction(() => {
        for (const a of m.AttachmentIDs) {
          u.attachments.delete(a);
          this.db.delete("attachment", a);
          this.db.delete("attachment_data", a);
        }
        this.db.delete("message_body", id);
        this.db.delete("message", id);
      });
      u.messages.delete(id);
      u.usedSpace -= m.Size;
      freed += m.Size;
      const at = lowerBound(u.order, id);
      if (u.order[at] === id) u.order.splice(at, 1);
      events.push({ ID: id, Action: EventAction.Delete });
      return okItem(id);
    });
    if (events.length) this.#emit(userID, { Messages: events }, freed !== 0);
    return responses;
  }

  /** Appends a Refresh event (1 mail, 255 everything) and returns its ID. */
  refresh(userID: string, flags: number): string {
    this.#user(userID);
    return this.events.append(userID, { Refresh: flags });
  }

  // -------------------------------------------------------------------------------------------
  // Creating messages
  // -------------------------------------------------------------------------------------------

  /**
   * Builds an incoming (or, with `Kind`, sent or draft) message for one of the user's addresses
   * (received: `input.To`; sent/draft: `input.From.Address`; else the first address), encrypts it
   * to that address' key, stores it and emits a Create event.
   *
   * @returns The new message ID.
   */
  async deliver(userID: string, input: DeliverInput): Promise<string> {
    const built = await this.build(userID, input);
    const [id] = this.insert(userID, [built]);
    return id;
  }

  /**
   * Builds and encrypts a message without storing it (see {@link insert}); checks the target
   * labels first so that a bad `LabelIDs` fails before any encryption.
   */
  async build(userID: string, input: DeliverInput): Promise<BuiltMessage> {
    const u = this.#user(userID);
    for (const id of input.LabelIDs ?? []) this.#labelTarget(u, id);
    const addresses = this.accounts.addresses(userID);
    const received = (input.Kind ?? "received") === "received";
    const own = (received ? input.To : input.From?.Address)?.toLowerCase();
    const address = own
      ? addresses.find((a) => a.Email.toLowerCase() === own) ??
        (received ? undefined : addresses[0])
      : addresses[0];
    if (!address) throw notFound(own ? `Address ${input.To}` : "Address of the user");
    const addressKey = await this.accounts.addressKey(address.ID);
    const senderAddress = received && input.From?.Address &&
      this.accounts.findAddress(input.From.Address);
    const senderKey = senderAddress ? await this.accounts.addressKey(senderAddress.ID) : undefined;
    return buildMessage(input, { address, addressKey, senderKey, now: this.#now });
  }

  /**
   * Stores built messages in one transaction, in order (so their IDs ascend in that order), and
   * emits one event with a Create item for each.
   *
   * @returns The new message IDs.
   */
  insert(userID: string, built: BuiltMessage[]): string[] {
    const u = this.#user(userID);
    const events: MessageEvent[] = [];
    let added = 0;
    const ids = this.db.transaction(() =>
      built.map((b) => {
        const id = this.#newID();
        let state: LabelState = {
          Location: b.Location,
          Labels: [],
          Starred: false,
          Flags: b.Flags,
        };
        for (const l of b.LabelIDs) {
          if (checkLabelTarget(l, u.labels.get(l)?.Type) === undefined) {
            state = addLabel(state, l, u.labels.get(l)?.Type);
          }
        }
        const attachmentIDs: string[] = [];
        let size = b.Body.length;
        for (const a of b.Attachments) {
          const att: StoredAttachment = {
            ID: this.#newID(),
            UserID: userID,
            MessageID: id,
            Name: a.Name,
            Size: a.DataPacket.length,
            MIMEType: a.MIMEType,
            Disposition: a.Disposition,
            Headers: a.Headers,
            KeyPackets: a.KeyPackets,
            Signature: a.Signature,
          };
          size += a.DataPacket.length;
          attachmentIDs.push(att.ID);
          u.attachments.set(att.ID, att);
          this.db.put("attachment", att.ID, att);
          this.db.put("attachment_data", att.ID, { Data: encodeBase64(a.DataPacket) });
        }
        const m: StoredMessage = {
          ID: id,
          UserID: userID,
          AddressID: b.AddressID,
          ExternalID: b.ExternalID,
          Subject: b.Subject,
          Sender: b.Sender,
          ToList: b.ToList,
          CCList: b.CCList,
          BCCList: b.BCCList,
          ReplyTos: b.ReplyTos,
          Flags: b.Flags,
          Time: b.Time,
          Size: size,
          Unread: b.Unread,
          Location: state.Location,
          Labels: state.Labels,
          Starred: state.Starred,
          MIMEType: b.MIMEType,
          Header: b.Header,
          ParsedHeaders: b.ParsedHeaders,
          AttachmentIDs: attachmentIDs,
        };
        if (b.ParentID) m.ParentID = b.ParentID;
        if (b.DraftAction !== undefined) m.DraftAction = b.DraftAction;
        u.messages.set(id, m);
        u.order.push(id);
        u.usedSpace += size;
        added += size;
        this.db.put("message", id, m);
        this.db.put("message_body", id, { Body: b.Body });
        events.push({ ID: id, Action: EventAction.Create, Message: this.toMetadata(m) });
        return id;
      })
    );
    if (events.length) this.#emit(userID, { Messages: events }, added !== 0);
    return ids;
  }

  /**
   * Adds an attachment (already encrypted and split) to a stored message and emits one Update
   * event for the message.
   *
   * @throws {ApiServerError} 422 2501 for an unknown message.
   */
  addAttachment(userID: string, messageID: string, a: BuiltAttachment): Attachment {
    const u = this.#user(userID);
    const m = u.messages.get(messageID);
    if (!m) throw notFound("Message");
    const att: StoredAttachment = {
      ID: this.#newID(),
      UserID: userID,
      MessageID: messageID,
      Name: a.Name,
      Size: a.DataPacket.length,
      MIMEType: a.MIMEType,
      Disposition: a.Disposition,
      Headers: a.Headers,
      KeyPackets: a.KeyPackets,
      Signature: a.Signature,
    };
    m.AttachmentIDs = [...m.AttachmentIDs, att.ID];
    m.Size += a.DataPacket.length;
    this.db.transaction(() => {
      this.db.put("attachment", att.ID, att);
      this.db.put("attachment_data", att.ID, { Data: encodeBase64(a.DataPacket) });
      this.db.put("message", m.ID, m);
    });
    u.attachments.set(att.ID, att);
    u.usedSpace += a.DataPacket.length;
    this.#emit(userID, {
      Messages: [{ ID: m.ID, Action: EventAction.Update, Message: this.toMetadata(m) }],
    }, a.DataPacket.length !== 0);
    return toAttachment(att);
  }

  /** A stored attachment of the user, as on the wire, or `undefined`. */
  findAttachment(userID: string, id: string): Attachment | undefined {
    const a = this.#user(userID).attachments.get(id);
    return a && toAttachment(a);
  }

  /**
   * Changes several messages of one user together: every edit is applied and stored in one
   * transaction, then one event carries an item per edited message.
   *
   * @returns The new metadata, in edit order.
   * @throws {ApiServerError} 422 2501 when a message does not exist (nothing is changed).
   */
  editMessages(userID: string, edits: MessageEdit[]): MessageMetadata[] {
    const u = this.#user(userID);
    const targets = edits.map((e) => {
      const m = u.messages.get(e.ID);
      if (!m) throw notFound("Message");
      return m;
    });
    let grown = 0;
    this.db.transaction(() => {
      edits.forEach((e, i) => {
        const m = targets[i];
        const before = m.Size;
        e.apply(m);
        if (e.Body !== undefined) {
          m.Size += e.Body.length - (this.db.get<{ Body: string }>("message_body", m.ID)?.Body
            .length ?? 0);
          this.db.put("message_body", m.ID, { Body: e.Body });
        }
        this.db.put("message", m.ID, m);
        u.usedSpace += m.Size - before;
        grown += m.Size - before;
      });
    });
    const items = edits.map((e, i): MessageEvent => ({
      ID: targets[i].ID,
      Action: e.Action ?? EventAction.Update,
      Message: this.toMetadata(targets[i]),
    }));
    if (items.length) this.#emit(userID, { Messages: items }, grown !== 0);
    return items.map((i) => i.Message!);
  }

  /**
   * Fills the user's mailbox with `count` deterministic, realistic messages (see `seed.ts`).
   *
   * @param seed PRNG seed; the same seed gives the same mailbox content.
   */
  async seedMailbox(userID: string, count: number, seed = 1): Promise<void> {
    await seedMailbox(this, userID, count, seed);
  }
}

function toAttachment(a: StoredAttachment): Attachment {
  return {
    ID: a.ID,
    Name: a.Name,
    Size: a.Size,
    MIMEType: a.MIMEType,
    Disposition: a.Disposition,
    Headers: a.Headers,
    KeyPackets: a.KeyPackets,
    Signature: a.Signature,
  };
}

function compareIDs(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index whose ID is ≥ `id`. */
function lowerBound(sorted: string[], id: string): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose ID is > `id`. */
function upperBound(sorted: string[], id: string): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
