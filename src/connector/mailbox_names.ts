/**
 * API labels → IMAP mailboxes: names, kinds and LIST attributes (proton-api.md §5.2, after
 * proton-bridge `imapservice/imap_updates.go` and `helpers.go` `WantLabel`).
 *
 * - System labels get fixed names, whatever the API calls them: `0` INBOX, `8` Drafts (`\Drafts`),
 *   `7` Sent (`\Sent`), `10` Starred (`\Flagged`), `6` Archive (`\Archive`), `4` Spam (`\Junk`),
 *   `3` Trash (`\Trash`), `5` All Mail (`\All`), `12` Scheduled. All are `\Noinferiors`. `1`
 *   (all drafts), `2` (all sent), `9` (outbox), any other system ID and contact groups (type 2)
 *   are not exposed.
 * - Folders (type 3) become `Folders/<path>`, nested like their `ParentID` chain; labels (type 1)
 *   become `Labels/<name>` (no children). `Folders` and `Labels` themselves are `\Noselect`
 *   placeholders without a remote ID.
 * - Characters: the hierarchy delimiter is `/`, so a `/` inside one label or folder **name** is
 *   written as `∕` (U+2215 DIVISION SLASH), which looks alike and keeps the hierarchy intact;
 *   control characters become spaces, a lone UTF-16 surrogate U+FFFD; an empty name becomes
 *   `(<label ID>)`. A `∕` a client types in CREATE or RENAME stays `∕`
 *   ({@link parseUserMailboxName}): the two look alike, and an API that refuses `/` in names
 *   (the reference server does; older Proton accounts have such names) would refuse it back.
 * - Collisions (two labels that come out under the same name, e.g. `a/b` and `a∕b`, or a stale name
 *   during a rename): the label whose mailbox already has the name keeps it, else the first in ID
 *   order; the others get ` (<label ID>)` appended, which is unique because label IDs are
 *   ({@link assignMailboxNames}), and keep that name after the collision ended, until the label
 *   is renamed ({@link isNameFor}). So a name never moves to another mailbox by itself: its
 *   UIDVALIDITY and UIDs stay what clients have (IMAP.md invariant on UIDVALIDITY).
 *
 * Visibility is decided at LIST time, not here: All Mail may be hidden by configuration and
 * Scheduled is hidden while empty ({@link mailboxVisible}).
 *
 * @module
 */
import { type Label, LabelType, SystemLabel } from "../api/mod.ts";
import type { MailboxKind, RemoteLabelId } from "../store/mod.ts";

/** The IMAP hierarchy delimiter (gluon's default, which Bridge keeps). */
export const MAILBOX_DELIMITER = "/";
/** Name of the `\Noselect` parent of every user folder. */
export const FOLDERS_PREFIX = "Folders";
/** Name of the `\Noselect` parent of every user label. */
export const LABELS_PREFIX = "Labels";
/** What a `/` inside one label or folder name is written as (U+2215 DIVISION SLASH). */
export const ESCAPED_DELIMITER = "\u2215";

/** The IMAP special-use and LIST attributes used here (RFC 3501 §7.2.2, RFC 6154). */
export const MailboxAttribute = {
  Noselect: "\\Noselect",
  Noinferiors: "\\Noinferiors",
  All: "\\All",
  Archive: "\\Archive",
  Drafts: "\\Drafts",
  Flagged: "\\Flagged",
  Junk: "\\Junk",
  Sent: "\\Sent",
  Trash: "\\Trash",
} as const;

/** A mailbox the index should hold for a label (or a placeholder). */
export interface MailboxSpec {
  /** The label ID; `null` for the `Folders` and `Labels` placeholders. */
  remoteId: RemoteLabelId | null;
  /** The decoded IMAP name, delimiter `/`. */
  name: string;
  kind: MailboxKind;
  /** LIST attributes (without `\HasChildren`/`\HasNoChildren`, which LIST computes). */
  attributes: string[];
}

interface SystemMailbox {
  name: string;
  special?: string;
}

/** Exposed system labels in LIST order, with their fixed names and special-use attribute. */
const SYSTEM_MAILBOXES: ReadonlyMap<string, SystemMailbox> = new Map<string, SystemMailbox>([
  [SystemLabel.Inbox, { name: "INBOX" }],
  [SystemLabel.Drafts, { name: "Drafts", special: MailboxAttribute.Drafts }],
  [SystemLabel.Sent, { name: "Sent", special: MailboxAttribute.Sent }],
  [SystemLabel.Starred, { name: "Starred", special: MailboxAttribute.Flagged }],
  [SystemLabel.Archive, { name: "Archive", special: MailboxAttribute.Archive }],
  [SystemLabel.Spam, { name: "Spam", special: MailboxAttribute.Junk }],
  [SystemLabel.Trash, { name: "Trash", special: MailboxAttribute.Trash }],
  [SystemLabel.AllMail, { name: "All Mail", special: MailboxAttribute.All }],
  [SystemLabel.AllScheduled, { name: "Scheduled" }],
]);

/** The two `\Noselect` parents, always present. */
export const PLACEHOLDER_MAILBOXES: readonly MailboxSpec[] = [
  {
    remoteId: null,
    name: FOLDERS_PREFIX,
    kind: "placeholder",
    attributes: [MailboxAttribute.Noselect],
  },
  {
    remoteId: null,
    name: LABELS_PREFIX,
    kind: "placeholder",
    attributes: [MailboxAttribute.Noselect],
  },
];

/** The fixed IMAP name of an exposed system label, e.g. `"0"` → `"INBOX"`; else `undefined`. */
export function systemMailboxName(labelId: string): string | undefined {
  return SYSTEM_MAILBOXES.get(labelId)?.name;
}

/**
 * Whether a label gets a mailbox (Bridge's `WantLabel`): exposed system labels, folders and
 * labels; not all-drafts (1), all-sent (2), outbox (9), unknown system IDs or contact groups.
 * Also the filter for a message's `LabelIDs` → mailboxes.
 */
export function isExposedLabel(label: Pick<Label, "ID" | "Type">): boolean {
  switch (label.Type) {
    case LabelType.System:
      return SYSTEM_MAILBOXES.has(label.ID);
    case LabelType.Folder:
    case LabelType.Label:
      return true;
    default:
      return false;
  }
}

/**
 * Whether a message label ID (from `LabelIDs`, where types are not given) can stand for a
 * mailbox: any ID except the system IDs that are not exposed (`1`, `2`, `9`, `11`). Custom label
 * IDs are long opaque strings; system IDs are short numbers.
 */
export function isExposedLabelId(labelId: string): boolean {
  if (SYSTEM_MAILBOXES.has(labelId)) return true;
  return !/^\d{1,3}$/.test(labelId);
}

/** One label or folder name as a single mailbox name component (see the module notes). */
export function escapeNameComponent(name: string, labelId: string): string {
  // A lone surrogate cannot be stored (SQLite's UTF-8 turns it into U+FFFD), so it is made
  // U+FFFD here too: the name in memory is the name in the index.
  // deno-lint-ignore no-control-regex
  const cleaned = name.toWellFormed().replace(/[\u0000-\u001f\u007f]/g, " ")
    .replaceAll(MAILBOX_DELIMITER, ESCAPED_DELIMITER);
  return cleaned.trim() === "" ? `(${labelId})` : cleaned;
}

/**
 * The inverse of {@link escapeNameComponent}, for the index's names of folders whose API names
 * are not at hand (the result escapes to the same component).
 */
export function unescapeNameComponent(component: string): string {
  return component.replaceAll(ESCAPED_DELIMITER, MAILBOX_DELIMITER);
}

/**
 * The path components of a folder: from the `ParentID` chain when `labelsById` knows every
 * ancestor (exact even when a name holds `/`), else from `Path`, keeping `Name` whole as the last
 * component when `Path` ends with it.
 */
function folderComponents(label: Label, labelsById?: ReadonlyMap<string, Label>): string[] {
  if (labelsById) {
    const chain: Label[] = [label];
    const seen = new Set([label.ID]);
    let parentId = label.ParentID;
    let complete = true;
    while (parentId) {
      const parent = labelsById.get(parentId);
      if (!parent || parent.Type !== LabelType.Folder || seen.has(parentId)) {
        complete = false;
        break;
      }
      seen.add(parentId);
      chain.unshift(parent);
      parentId = parent.ParentID;
    }
    if (complete) return chain.map((l) => escapeNameComponent(l.Name, l.ID));
  }
  const path = typeof label.Path === "string" && label.Path !== "" ? label.Path : label.Name;
  const name = typeof label.Name === "string" ? label.Name : "";
  if (name !== "" && path.endsWith(name)) {
    const head = path.slice(0, path.length - name.length);
    if (head === "" || head.endsWith(MAILBOX_DELIMITER)) {
      const parents = head === "" ? [] : head.slice(0, -1).split(MAILBOX_DELIMITER);
      return [
        ...parents.map((p) => escapeNameComponent(p, label.ID)),
        escapeNameComponent(name, label.ID),
      ];
    }
  }
  return path.split(MAILBOX_DELIMITER).map((p) => escapeNameComponent(p, label.ID));
}

/**
 * The mailbox for one label, or `undefined` when the label is not exposed. `labelsById` (all of
 * the account's labels) lets folder paths follow `ParentID` exactly; without it `Path` is used.
 * The name is the preferred one: collisions with other labels are resolved by
 * {@link assignMailboxNames} or by the caller.
 */
export function mailboxForLabel(
  label: Label,
  labelsById?: ReadonlyMap<string, Label>,
): MailboxSpec | undefined {
  if (!isExposedLabel(label)) return undefined;
  const remoteId = label.ID as RemoteLabelId;
  if (label.Type === LabelType.System) {
    const system = SYSTEM_MAILBOXES.get(label.ID)!;
    const attributes: string[] = [MailboxAttribute.Noinferiors];
    if (system.special) attributes.push(system.special);
    return { remoteId, name: system.name, kind: "system", attributes };
  }
  if (label.Type === LabelType.Folder) {
    const parts = folderComponents(label, labelsById);
    return {
      remoteId,
      name: [FOLDERS_PREFIX, ...parts].join(MAILBOX_DELIMITER),
      kind: "folder",
      attributes: [],
    };
  }
  return {
    remoteId,
    name: LABELS_PREFIX + MAILBOX_DELIMITER + escapeNameComponent(label.Name ?? "", label.ID),
    kind: "label",
    attributes: [],
  };
}

/** `name` with the collision suffix for `labelId`: `"Labels/x"` → `"Labels/x (abc)"`. */
export function disambiguatedName(name: string, labelId: string): string {
  return `${name} (${escapeNameComponent(labelId, labelId)})`;
}

/**
 * Whether `current` is a name the label may have for the preferred name `name`: that name, or
 * its collision-suffixed form ({@link disambiguatedName}, with or without a counter). A mailbox
 * that has one keeps it: a name it got in a collision stays its name after the collision ends,
 * so that no name passes to another mailbox (with another UIDVALIDITY) without a rename.
 */
export function isNameFor(name: string, labelId: string, current: string): boolean {
  if (current === name) return true;
  const suffixed = disambiguatedName(name, labelId);
  return current === suffixed ||
    (current.startsWith(`${suffixed} `) && /^\d+$/.test(current.slice(suffixed.length + 1)));
}

/**
 * Every mailbox the account's labels call for: the placeholders, then system mailboxes in LIST
 * order, then folders (parents before children), then labels. Names are unique: on a collision
 * the label whose mailbox has the name now (`currentName`, from the index) keeps it, else the
 * label with the smaller ID, and the others get {@link disambiguatedName}. Labels that are not
 * exposed are left out.
 */
export function assignMailboxNames(
  labels: readonly Label[],
  currentName: (labelId: string) => string | undefined = () => undefined,
): MailboxSpec[] {
  const byId = new Map(labels.map((l) => [l.ID, l]));
  const specs = labels.map((l) => mailboxForLabel(l, byId))
    .filter((s): s is MailboxSpec => s !== undefined);
  const systemOrder = [...SYSTEM_MAILBOXES.keys()];
  const rank = (s: MailboxSpec) => s.kind === "system" ? 0 : s.kind === "folder" ? 1 : 2;
  specs.sort((a, b) =>
    rank(a) - rank(b) ||
    (a.kind === "system"
      ? systemOrder.indexOf(a.remoteId!) - systemOrder.indexOf(b.remoteId!)
      : a.kind === "folder"
      ? depth(a.name) - depth(b.name) || compare(a.name, b.name) ||
        compare(a.remoteId!, b.remoteId!)
      : compare(a.name, b.name) || compare(a.remoteId!, b.remoteId!))
  );
  const taken = new Set(PLACEHOLDER_MAILBOXES.map((p) => p.name));
  // A label whose mailbox has a name for its preferred one (that name, or its suffixed form from
  // an earlier collision) keeps it; the other preferred names are claimed in ID order, so the
  // winner of a collision does not depend on listing order; then the losers get suffixed names.
  const kept = new Map<string, string>();
  for (const s of specs) {
    const current = currentName(s.remoteId!);
    if (current !== undefined && !taken.has(current) && isNameFor(s.name, s.remoteId!, current)) {
      kept.set(s.remoteId!, current);
      taken.add(current);
    }
  }
  const winners = new Map<string, string>();
  for (const s of [...specs].sort((a, b) => compare(a.remoteId!, b.remoteId!))) {
    if (kept.has(s.remoteId!)) continue;
    if (!taken.has(s.name) && !winners.has(s.name)) winners.set(s.name, s.remoteId!);
  }
  for (const name of winners.keys()) taken.add(name);
  const out: MailboxSpec[] = PLACEHOLDER_MAILBOXES.map((p) => ({
    ...p,
    attributes: [...p.attributes],
  }));
  for (const s of specs) {
    const keep = kept.get(s.remoteId!);
    if (keep !== undefined) s.name = keep;
    else if (winners.get(s.name) !== s.remoteId) {
      let name = disambiguatedName(s.name, s.remoteId!);
      for (let i = 2; taken.has(name); i++) name = `${disambiguatedName(s.name, s.remoteId!)} ${i}`;
      taken.add(name);
      s.name = name;
    }
    out.push(s);
  }
  return out;
}

function depth(name: string): number {
  return name.split(MAILBOX_DELIMITER).length;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What a client-chosen mailbox name means on the server (for CREATE and RENAME). */
export interface UserMailboxName {
  type: typeof LabelType.Folder | typeof LabelType.Label;
  /** The label or folder names from the top, unescaped; a label has exactly one. */
  path: string[];
}

/**
 * Parses a name a client gave for a new or renamed mailbox: `Folders/a/b` → a folder path,
 * `Labels/x` → a label. Anything else (system names, the placeholders themselves, labels with a
 * hierarchy, empty components) is `undefined`: not creatable (Bridge answers NO).
 */
export function parseUserMailboxName(name: string): UserMailboxName | undefined {
  const parts = name.split(MAILBOX_DELIMITER);
  if (parts.length < 2 || parts.slice(1).some((p) => p.trim() === "")) return undefined;
  const path = parts.slice(1);
  if (parts[0] === FOLDERS_PREFIX) return { type: LabelType.Folder, path };
  if (parts[0] === LABELS_PREFIX && path.length === 1) return { type: LabelType.Label, path };
  return undefined;
}

/** Options of {@link mailboxVisible}. */
export interface VisibilityOptions {
  /** Whether All Mail is listed (Bridge's `ShowAllMail`, default true). */
  showAllMail?: boolean;
  /** Messages in the mailbox now (Scheduled is hidden while empty). */
  messageCount: number;
}

/**
 * Whether LIST shows a mailbox (Bridge's `GetMailboxVisibility`): All Mail only when configured,
 * Scheduled only while it holds messages, everything else always.
 */
export function mailboxVisible(
  remoteId: string | null,
  options: VisibilityOptions,
): boolean {
  if (remoteId === SystemLabel.AllMail) return options.showAllMail ?? true;
  if (remoteId === SystemLabel.AllScheduled) return options.messageCount > 0;
  return true;
}

/**
 * The mailbox FLAGS and PERMANENTFLAGS Bridge declares (`defaultMailboxFlags`): `\Seen \Flagged
 * \Deleted $Forwarded Forwarded`, All Mail only `\Seen \Flagged`; no `\*`.
 */
export function mailboxFlags(remoteId: string | null): string[] {
  if (remoteId === SystemLabel.AllMail) return ["\\Seen", "\\Flagged"];
  return ["\\Seen", "\\Flagged", "\\Deleted", "$Forwarded", "Forwarded"];
}
