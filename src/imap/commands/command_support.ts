/**
 * Small pieces the mailbox and message-moving commands share: the account of a session, the
 * answer to a syntax error, the mapping of connector refusals to `NO [code] text`, and the lookup
 * of a mailbox named by the client with the RFC 5530 code each command needs when it is missing.
 *
 * @module
 */
import { type MailAccount, MailboxOperationError } from "../../connector/account.ts";
import { withAck } from "../../connector/updates.ts";
import {
  type Mailbox,
  MailboxExistsError,
  MailboxNotFoundError,
  type Uid,
} from "../../store/mod.ts";
import type { MailboxView } from "../state/mailbox_view.ts";
import {
  bad,
  type CommandContext,
  type CommandResult,
  no,
  ok,
  type SessionApi,
} from "../session/context.ts";
import type { Decoder } from "../wire/mod.ts";

/** The IMAP hierarchy delimiter of every name this server hands out (proton-api.md §5.2). */
export const DELIMITER = "/";

/**
 * The logged-in account of `session`. Commands that use it are only allowed in the authenticated
 * and selected states, so a missing account is a bug of the dispatcher (thrown, answered
 * `NO [SERVERBUG]`).
 */
export function accountOf(session: SessionApi): MailAccount {
  const account = session.account;
  if (!account) throw new Error("No account in an authenticated session");
  return account;
}

/**
 * The selected mailbox of `session`. Commands that use it are only allowed in the selected state,
 * so a missing view is a bug of the dispatcher (thrown, answered `NO [SERVERBUG]`).
 */
export function viewOf(session: SessionApi): MailboxView {
  const view = session.view;
  if (!view) throw new Error("No selected mailbox in the selected state");
  return view;
}

/** How many event-loop turns {@link reportExpunged} gives the bus before it steps in. */
const BUS_TURNS = 20;

/**
 * Makes sure the selected view knows that `uids` left its mailbox (this session expunged or moved
 * them), so the EXPUNGE responses go out with this command's flush, before its tagged OK (RFC 6851
 * §4.3). The account has published the change on the bus; the bus delivers in order, so waiting for
 * that delivery (a few event-loop turns at most) also delivers any older update about the same
 * UIDs first. Only if it never comes (an account that published nothing) is the change queued
 * directly. Already reported UIDs are ignored by the view, so nothing is reported twice.
 */
export async function reportExpunged(
  view: MailboxView,
  uids: readonly Uid[],
  origin: string,
): Promise<void> {
  const unknown = () => uids.some((u) => view.seqOf(u) !== undefined && !view.isExpungedPending(u));
  for (let turn = 0; turn < BUS_TURNS && unknown(); turn++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (!unknown()) return;
  view.enqueue(
    withAck({ kind: "MessagesExpunged", mailbox: view.mailboxId, uids: [...uids] }, origin),
  );
}

/** `BAD [CLIENTBUG] <what the decoder found>` for arguments that do not parse. */
export function syntaxError(args: Decoder): CommandResult {
  return bad(args.error?.message ?? "Invalid arguments", "CLIENTBUG");
}

/** Text fit for one response line (no CR, LF or NUL; never empty). */
export function oneLine(text: string): string {
  const line = text.replace(/[\r\n\0]+/g, " ").trim();
  return line.length > 0 ? line : "Failed";
}

/**
 * The tagged `NO` for a refused mutation: a {@link MailboxOperationError} keeps its code and
 * message; the store's "already exists" and "not found" (a race with another session or the event
 * loop) become `ALREADYEXISTS` and `NONEXISTENT`. Anything else is a bug and is rethrown.
 */
export function refusal(error: unknown): CommandResult {
  if (error instanceof MailboxOperationError) return no(oneLine(error.message), error.code);
  if (error instanceof MailboxExistsError) return no("Mailbox already exists", "ALREADYEXISTS");
  if (error instanceof MailboxNotFoundError) return no("Mailbox does not exist", "NONEXISTENT");
  throw error;
}

/** Whether a mailbox can be selected (and so hold messages): not `\Noselect`. */
export function isSelectable(mailbox: Mailbox): boolean {
  return !mailbox.attributes.some((a) => a.toLowerCase() === "\\noselect");
}

/**
 * The attributes a mailbox has of its own, as LIST and LSUB show them: the stored ones, plus
 * `\Noinferiors` on labels — labels have no sub-labels (CREATE Labels/a/b is refused), and
 * without it clients offer "new subfolder" and fail.
 */
export function ownAttributes(mailbox: Mailbox): string[] {
  const out = [...mailbox.attributes];
  if (mailbox.kind === "label" && !out.some((a) => a.toLowerCase() === "\\noinferiors")) {
    out.push("\\Noinferiors");
  }
  return out;
}

/**
 * Looks up a mailbox that must exist and hold messages (SELECT, STATUS, COPY/MOVE/APPEND
 * destinations). `missingCode` is `NONEXISTENT` for SELECT and STATUS, `TRYCREATE` for the
 * destination of COPY, MOVE and APPEND (RFC 3501 §6.3.11, §6.4.7). A `\Noselect` mailbox is
 * `NO [CANNOT]`.
 */
export function selectableMailbox(
  account: MailAccount,
  name: string,
  missingCode: "NONEXISTENT" | "TRYCREATE",
): Mailbox | CommandResult {
  const mailbox = account.mailboxByName(name);
  if (!mailbox) return no("Mailbox does not exist", missingCode);
  if (!isSelectable(mailbox)) return no("Mailbox cannot hold messages", "CANNOT");
  return mailbox;
}

/** Narrows the result of {@link selectableMailbox}. */
export function isResult(value: Mailbox | CommandResult): value is CommandResult {
  return "status" in value;
}

/** The `reference pattern` arguments of a LIST-like command without extensions. */
export interface ReferenceAndPattern {
  reference: string;
  pattern: string;
}

/**
 * Reads the two arguments of LSUB or XLIST (`name`). A syntax error is the result to return; so
 * is the answer to an empty pattern, which is written here: the hierarchy delimiter as
 * `* <name> (\Noselect) "/" ""` (RFC 3501 §6.3.8), then `<name> completed`.
 */
export async function referenceAndPattern(
  ctx: CommandContext,
  name: string,
): Promise<ReferenceAndPattern | CommandResult> {
  const args = ctx.args;
  const reference = args.expectMailbox();
  const pattern = args.expectListMailbox();
  if (!args.end()) return syntaxError(args);
  if (pattern === "") {
    await ctx.session.respond((e) =>
      e.raw(`* ${name} (\\Noselect) "${DELIMITER}" `).string("").crlf()
    );
    return ok(`${name} completed`);
  }
  return { reference, pattern };
}

/**
 * The `HIGHESTMODSEQ n` response code of the selected mailbox, for the tagged OK of EXPUNGE, UID
 * EXPUNGE and CLOSE that removed messages once the session enabled QRESYNC (RFC 7162 §3.2.7,
 * §3.2.8). The client takes it as its next resynchronization point, so it must not cover a
 * change the session has not been given: this waits until no producer holds committed changes
 * back from the bus (`UpdateBus.settled`); the caller then reports what is queued before the
 * tagged OK. `undefined` when QRESYNC is off, when the mailbox is gone, or when the bus did not
 * settle in time (no code is safer than a wrong one).
 */
export async function highestModseqCode(
  session: SessionApi,
  view: MailboxView,
): Promise<string | undefined> {
  if (!session.enabled.has("QRESYNC")) return undefined;
  const account = accountOf(session);
  if (!await account.bus.settled(account.id)) return undefined;
  const mailbox = view.store.mailboxes.get(view.mailboxId);
  return mailbox ? `HIGHESTMODSEQ ${mailbox.highestModseq}` : undefined;
}
