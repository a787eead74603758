/**
 * IMAP flags ↔ the index's flag bits and keywords, and which STORE changes need which API call
 * (proton-api.md §5.3):
 *
 * | IMAP | index | API |
 * |---|---|---|
 * | `\Seen` | `MessageFlag.Seen` | `PUT …/read`, `…/unread` |
 * | `\Flagged` | `MessageFlag.Flagged` | label / unlabel `10` (Starred) |
 * | `$Forwarded`, `Forwarded` | `MessageFlag.Forwarded` (one bit for both) | `PUT …/forward`, `…/unforward` |
 * | `\Answered`, `\Draft` | their bits | none (local) |
 * | `\Deleted` | per mailbox (`membership.setDeleted`) | none until EXPUNGE |
 * | `\Recent` | not kept | read-only, ignored in STORE |
 * | other keywords | keywords | none (local) |
 *
 * System flags are matched case-insensitively; `$Forwarded`/`Forwarded` too. Other keywords are
 * kept as the client spelled them (first spelling wins within one list).
 *
 * @module
 */
import { MessageFlag } from "../store/mod.ts";

/** The index bits whose truth is on the server (STORE calls the API for them). */
export const REMOTE_FLAG_BITS = MessageFlag.Seen | MessageFlag.Flagged | MessageFlag.Forwarded;
/** The index bits that only live here. */
export const LOCAL_FLAG_BITS = MessageFlag.Answered | MessageFlag.Draft;

/** A list of IMAP flags, sorted into what the index keeps. */
export interface ParsedFlags {
  /** `MessageFlag` bits named. */
  bits: number;
  /** Keywords named (not the ones mapped to bits), without duplicates. */
  keywords: string[];
  /** Whether `\Deleted` was named. */
  deleted: boolean;
  /** Flags that cannot be stored: unknown `\` flags (`\Recent` is silently dropped). */
  invalid: string[];
}

const SYSTEM: ReadonlyMap<string, number> = new Map([
  ["\\seen", MessageFlag.Seen],
  ["\\flagged", MessageFlag.Flagged],
  ["\\answered", MessageFlag.Answered],
  ["\\draft", MessageFlag.Draft],
  ["$forwarded", MessageFlag.Forwarded],
  ["forwarded", MessageFlag.Forwarded],
]);

/** Parses IMAP flag strings (as a STORE or APPEND gave them). Never throws. */
export function parseImapFlags(flags: readonly string[]): ParsedFlags {
  const out: ParsedFlags = { bits: 0, keywords: [], deleted: false, invalid: [] };
  const seen = new Set<string>();
  for (const raw of flags) {
    if (typeof raw !== "string" || raw === "") continue;
    const lower = raw.toLowerCase();
    const bit = SYSTEM.get(lower);
    if (bit !== undefined) {
      out.bits |= bit;
    } else if (lower === "\\deleted") {
      out.deleted = true;
    } else if (lower === "\\recent") {
      // Read-only; clients sometimes echo it back.
    } else if (raw.startsWith("\\") || !isAtom(raw)) {
      out.invalid.push(raw);
    } else if (!seen.has(lower)) {
      seen.add(lower);
      out.keywords.push(raw);
    }
  }
  return out;
}

function isAtom(s: string): boolean {
  // RFC 3501 atom: no CTL, SP, ( ) { % * " \ ] and only 7-bit.
  // deno-lint-ignore no-control-regex
  return !/[\x00-\x20\x7f-\uffff(){%*"\\\]]/.test(s);
}

/**
 * The IMAP flags of a message in a mailbox, in a stable order: system flags, then `$Forwarded`
 * and `Forwarded` (both, as Bridge shows them), then keywords.
 */
export function imapFlags(bits: number, keywords: readonly string[], deleted: boolean): string[] {
  const out: string[] = [];
  if (bits & MessageFlag.Seen) out.push("\\Seen");
  if (bits & MessageFlag.Answered) out.push("\\Answered");
  if (bits & MessageFlag.Flagged) out.push("\\Flagged");
  if (deleted) out.push("\\Deleted");
  if (bits & MessageFlag.Draft) out.push("\\Draft");
  if (bits & MessageFlag.Forwarded) out.push("$Forwarded", "Forwarded");
  const taken = new Set(out.map((f) => f.toLowerCase()));
  for (const k of keywords) if (!taken.has(k.toLowerCase())) out.push(k);
  return out;
}

/** One API action a STORE needs. */
export type RemoteFlagAction =
  | "read"
  | "unread"
  | "star"
  | "unstar"
  | "forward"
  | "unforward";

/** The API action that sets (`true`) or clears (`false`) one remote bit. */
export function remoteAction(bit: number, set: boolean): RemoteFlagAction {
  switch (bit) {
    case MessageFlag.Seen:
      return set ? "read" : "unread";
    case MessageFlag.Flagged:
      return set ? "star" : "unstar";
    case MessageFlag.Forwarded:
      return set ? "forward" : "unforward";
    default:
      throw new RangeError(`flag bit ${bit} has no API action`);
  }
}

/**
 * The bits a flag change sets and clears on one message whose bits are `current`: `add` sets the
 * named bits, `remove` clears them, `replace` sets the named ones and clears the rest. Limited to
 * `mask`.
 */
export function bitChanges(
  mode: "add" | "remove" | "replace",
  named: number,
  current: number,
  mask: number,
): { set: number; clear: number } {
  let target: number;
  switch (mode) {
    case "add":
      target = current | named;
      break;
    case "remove":
      target = current & ~named;
      break;
    case "replace":
      target = named;
      break;
  }
  return { set: target & ~current & mask, clear: current & ~target & mask };
}

/**
 * Which messages need which API action for a STORE: for each remote bit (Seen, Flagged,
 * Forwarded) the remote IDs of messages whose bit would change. Messages without a remote ID are
 * left out (they are local only).
 */
export function plannedRemoteActions(
  mode: "add" | "remove" | "replace",
  named: number,
  messages: readonly { remoteId: string | null; flags: number }[],
): Map<RemoteFlagAction, string[]> {
  const plan = new Map<RemoteFlagAction, string[]>();
  for (const m of messages) {
    if (m.remoteId === null) continue;
    const { set, clear } = bitChanges(mode, named, m.flags, REMOTE_FLAG_BITS);
    for (const bit of [MessageFlag.Seen, MessageFlag.Flagged, MessageFlag.Forwarded]) {
      if (!((set | clear) & bit)) continue;
      const action = remoteAction(bit, (set & bit) !== 0);
      const list = plan.get(action) ?? [];
      list.push(m.remoteId);
      plan.set(action, list);
    }
  }
  return plan;
}

/**
 * The permanent flags a mailbox offers: Bridge's `\Seen \Flagged \Deleted $Forwarded Forwarded`
 * (All Mail: no `\Deleted`, since it cannot be expunged), plus `\Answered` and `\Draft`, which are
 * kept locally; PERMANENTFLAGS adds `\*` because keywords are kept locally too.
 */
export function flagsOfMailbox(isAllMail: boolean): { flags: string[]; permanentFlags: string[] } {
  const flags = ["\\Seen", "\\Answered", "\\Flagged", "\\Draft"];
  if (!isAllMail) flags.splice(3, 0, "\\Deleted");
  flags.push("$Forwarded", "Forwarded");
  return { flags, permanentFlags: [...flags, "\\*"] };
}
