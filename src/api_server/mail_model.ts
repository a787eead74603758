/**
 * The mail model's rules, free of storage: system labels, the one-location-plus-labels rule of
 * label/unlabel, the `LabelIDs` a message shows on the wire, and the sortable IDs the reference
 * server hands out.
 *
 * Location rules follow go-proton-api's fake server (`server/backend/message.go` `addLabel` /
 * `remLabel`), with two repairs noted inline:
 * - A message has one location: Inbox (0), Sent (7), Drafts (8), Scheduled (12), Trash (3), Spam (4),
 *   Archive (6), one custom folder (type 3), or none (then it is only in All Mail). It also has any
 *   number of type-1 labels and the Starred bit (label 10). All Mail (5) is always present, All
 *   Drafts (1) for drafts and All Sent (2) for sent or scheduled messages.
 * - Labelling into Trash, Spam, Archive or a folder moves the message there; labels and Starred
 *   stay (the fake keeps them too).
 * - Labelling into Inbox, Sent, Drafts or Scheduled moves the message to that location when its
 *   flags allow it (Inbox: received; Sent: sent; Drafts: a draft; Scheduled: scheduled), otherwise
 *   to its natural location derived from the flags, exactly as the fake does for every case.
 * - Labelling into a type-1 label adds it; 10 sets Starred.
 * - Unlabelling the current location leaves the message without location; unlabelling another
 *   location is a no-op (the fake drops any flag-derived location on any of 0/7/8/12 — repaired).
 * - 1, 2, 5 (and 9, Outbox) cannot be labelled or unlabelled: the fake answers "not allowed".
 *
 * @module
 */
import { LabelType, MessageFlag, SystemLabel } from "../api/types.ts";
import type { Label } from "../api/types.ts";

/** The system labels in ID order, as `GET /core/v4/labels?Type=4` lists them. */
export const SYSTEM_LABELS: readonly Label[] = [
  ["0", "Inbox"],
  ["1", "AllDrafts"],
  ["2", "AllSent"],
  ["3", "Trash"],
  ["4", "Spam"],
  ["5", "All Mail"],
  ["6", "Archive"],
  ["7", "Sent"],
  ["8", "Drafts"],
  ["9", "Outbox"],
  ["10", "Starred"],
  ["12", "Scheduled"],
].map(([id, name], i) => ({
  ID: id,
  Name: name,
  Path: name,
  Color: "#8080FF",
  Type: LabelType.System,
  Notify: 0 as const,
  Expanded: 0 as const,
  Sticky: 0 as const,
  Order: i + 1,
}));

const SYSTEM_IDS = new Set(SYSTEM_LABELS.map((l) => l.ID));

/** Whether `id` is one of the fixed system label IDs. */
export function isSystemLabel(id: string): boolean {
  return SYSTEM_IDS.has(id);
}

/** Locations that follow the message's flags (Inbox, Sent, Drafts, Scheduled). */
const FLAG_LOCATIONS = new Set<string>([
  SystemLabel.Inbox,
  SystemLabel.Sent,
  SystemLabel.Drafts,
  SystemLabel.AllScheduled,
]);
/** Plain system locations (Trash, Spam, Archive). */
const SYSTEM_LOCATIONS = new Set<string>([
  SystemLabel.Trash,
  SystemLabel.Spam,
  SystemLabel.Archive,
]);
/** Labels that can never be added or removed by label/unlabel. */
const FORBIDDEN = new Set<string>([
  SystemLabel.AllDrafts,
  SystemLabel.AllSent,
  SystemLabel.AllMail,
  SystemLabel.Outbox,
]);

/** The label-related state of one message. */
export interface LabelState {
  /** The one location: a system location ID, a custom folder ID, or "" (All Mail only). */
  Location: string;
  /** Type-1 labels, in the order they were added. */
  Labels: string[];
  /** Whether label 10 is set. */
  Starred: boolean;
  /** Message `Flags` (read only here: they decide the flag locations). */
  Flags: number;
}

/** A message is a draft when neither Received nor Sent (nor ScheduledSend) is set. */
export function isDraft(flags: number): boolean {
  return (flags & (MessageFlag.Received | MessageFlag.Sent | MessageFlag.ScheduledSend)) === 0;
}

/** The location a message's flags give it: Inbox, Sent, Scheduled or Drafts, in that order. */
export function naturalLocation(flags: number): string {
  if (flags & MessageFlag.Received) return SystemLabel.Inbox;
  if (flags & MessageFlag.Sent) return SystemLabel.Sent;
  if (flags & MessageFlag.ScheduledSend) return SystemLabel.AllScheduled;
  return SystemLabel.Drafts;
}

function fitsFlagLocation(id: string, flags: number): boolean {
  switch (id) {
    case SystemLabel.Inbox:
      return (flags & MessageFlag.Received) !== 0;
    case SystemLabel.Sent:
      return (flags & MessageFlag.Sent) !== 0;
    case SystemLabel.AllScheduled:
      return (flags & MessageFlag.ScheduledSend) !== 0;
    default:
      return isDraft(flags);
  }
}

/** Why a label or unlabel request as a whole is refused. */
export type LabelRefusal = "forbidden" | "unknown";

/**
 * Checks a label ID for label/unlabel: `undefined` when it can be used, else why not.
 *
 * @param id The label ID of the request.
 * @param customType The type of the user's custom label with that ID, if there is one.
 */
export function checkLabelTarget(
  id: string,
  customType: number | undefined,
): LabelRefusal | undefined {
  if (FORBIDDEN.has(id)) return "forbidden";
  if (isSystemLabel(id)) return undefined;
  if (customType === LabelType.Label || customType === LabelType.Folder) return undefined;
  return "unknown";
}

/**
 * The state after labelling with `id` (checked with {@link checkLabelTarget} first).
 *
 * @param state The current state (not modified).
 * @param id The label ID.
 * @param customType The custom label's type when `id` is not a system label.
 */
export function addLabel(state: LabelState, id: string, customType?: number): LabelState {
  const next = { ...state, Labels: [...state.Labels] };
  if (id === SystemLabel.Starred) {
    next.Starred = true;
  } else if (FLAG_LOCATIONS.has(id)) {
    next.Location = fitsFlagLocation(id, state.Flags) ? id : naturalLocation(state.Flags);
  } else if (SYSTEM_LOCATIONS.has(id) || customType === LabelType.Folder) {
    next.Location = id;
  } else if (customType === LabelType.Label && !next.Labels.includes(id)) {
    next.Labels.push(id);
  }
  return next;
}

/**
 * The state after unlabelling `id` (checked with {@link checkLabelTarget} first).
 *
 * @param state The current state (not modified).
 * @param id The label ID.
 */
export function removeLabel(state: LabelState, id: string): LabelState {
  const next = { ...state, Labels: state.Labels.filter((l) => l !== id) };
  if (id === SystemLabel.Starred) next.Starred = false;
  else if (state.Location === id) next.Location = "";
  return next;
}

/** Whether two states differ in anything label/unlabel can change. */
export function sameLabels(a: LabelState, b: LabelState): boolean {
  return a.Location === b.Location && a.Starred === b.Starred &&
    a.Labels.length === b.Labels.length && a.Labels.every((l, i) => l === b.Labels[i]);
}

/**
 * The `LabelIDs` a message shows on the wire: its location, its labels, All Mail, All Sent or
 * All Drafts from the flags, and Starred.
 */
export function wireLabelIDs(state: LabelState): string[] {
  const ids: string[] = [];
  if (state.Location !== "") ids.push(state.Location);
  ids.push(...state.Labels, SystemLabel.AllMail);
  if (state.Flags & (MessageFlag.Sent | MessageFlag.ScheduledSend)) ids.push(SystemLabel.AllSent);
  if (isDraft(state.Flags)) ids.push(SystemLabel.AllDrafts);
  if (state.Starred) ids.push(SystemLabel.Starred);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// IDs
// ---------------------------------------------------------------------------------------------

/** base64url digits in ASCII order, so that fixed-width numbers compare as strings. */
const SORTABLE_DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const PREFIX_LEN = 8;
const URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * An 88-character base64url ID like the real API's (`…==`), whose first 8 characters encode
 * `counter` so that IDs compare (as strings) in creation order.
 */
export function sortableID(counter: number): string {
  let prefix = "";
  let n = counter;
  for (let i = 0; i < PREFIX_LEN; i++) {
    prefix = SORTABLE_DIGITS[n % 64] + prefix;
    n = Math.floor(n / 64);
  }
  const rand = crypto.getRandomValues(new Uint8Array(78));
  let tail = "";
  for (const b of rand) tail += URL_ALPHABET[b & 63];
  return `${prefix}${tail}==`;
}

/** The counter encoded in an ID made by {@link sortableID}, or 0 for any other string. */
export function idCounter(id: string): number {
  if (id.length !== 88 || !id.endsWith("==")) return 0;
  let n = 0;
  for (let i = 0; i < PREFIX_LEN; i++) {
    const d = SORTABLE_DIGITS.indexOf(id[i]);
    if (d < 0) return 0;
    n = n * 64 + d;
  }
  return n;
}

/** Whether `id` has the shape of an ID made by {@link sortableID}. */
export function isSortableID(id: string): boolean {
  return idCounter(id) > 0;
}
