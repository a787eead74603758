/**
 * STATUS data items (RFC 3501 §6.3.10, RFC 9051 §6.3.11 `DELETED`, RFC 8438 `SIZE`, RFC 7162
 * `HIGHESTMODSEQ`, RFC 7889 §3.1 `APPENDLIMIT`, RFC 9208 §4.2 `DELETED-STORAGE`), shared by
 * STATUS and LIST's `RETURN (STATUS (…))` (RFC 5819).
 *
 * @module
 */
import type { MailAccount } from "../../connector/account.ts";
import type { Mailbox, MailboxStatus } from "../../store/mod.ts";
import type { Decoder, Encoder } from "../wire/mod.ts";

/** The STATUS items this server answers. */
export const STATUS_ITEMS = [
  "MESSAGES",
  "RECENT",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "DELETED",
  "DELETED-STORAGE",
  "SIZE",
  "HIGHESTMODSEQ",
  "APPENDLIMIT",
] as const;

/** One STATUS item name. */
export type StatusItem = typeof STATUS_ITEMS[number];

function isStatusItem(word: string): word is StatusItem {
  return (STATUS_ITEMS as readonly string[]).includes(word);
}

/**
 * Reads a parenthesised list of STATUS items (at least one, RFC 3501 `status-att`) from `args`;
 * unknown items record an error (answer `BAD`). Duplicates are dropped; the order is the client's.
 */
export function parseStatusItems(args: Decoder): StatusItem[] {
  const list = args.expectList();
  const items: StatusItem[] = [];
  if (!args.ok) return items;
  if (list.atEnd()) {
    args.fail("Expected at least one STATUS item");
    return items;
  }
  while (!list.atEnd() && list.ok) {
    const word = list.expectKeyword();
    if (!list.ok) break;
    if (!isStatusItem(word)) {
      list.fail(`Unknown STATUS item ${word}`);
      break;
    }
    if (!items.includes(word)) items.push(word);
  }
  return args.ok ? items : [];
}

/** What STATUS needs besides the index's numbers. */
export interface StatusContext {
  /** The session's APPENDLIMIT (the value of the `APPENDLIMIT` item). */
  appendLimit: number;
  /**
   * Whether EXPUNGE in this mailbox deletes messages for good and so frees storage (Trash and
   * Drafts; elsewhere it only takes a folder or label off: `DELETED-STORAGE` is then 0).
   */
  expungeFreesStorage: boolean;
}

/** The {@link StatusContext} of `mailbox` for a session with APPENDLIMIT `appendLimit`. */
export function statusContext(
  account: MailAccount,
  mailbox: Mailbox,
  appendLimit: number,
): StatusContext {
  return { appendLimit, expungeFreesStorage: account.expungeFreesStorage?.(mailbox) ?? true };
}

/**
 * The value of one item. `RECENT` is always 0: `\Recent` is not kept (IMAP4rev2 dropped it).
 * `APPENDLIMIT` is the same for every mailbox: the advertised `APPENDLIMIT=n`. `DELETED-STORAGE`
 * (RFC 9208 §4.2.2, octets) is 0 where EXPUNGE frees nothing, and elsewhere the sum of RFC822.SIZE
 * of the `\Deleted` messages, the value the RFC allows in place of the exact one (a message
 * expunged from Trash that still has a label elsewhere is not deleted).
 */
function valueOf(item: StatusItem, status: MailboxStatus, context: StatusContext): number {
  switch (item) {
    case "MESSAGES":
      return status.messages;
    case "RECENT":
      return 0;
    case "UIDNEXT":
      return status.uidNext;
    case "UIDVALIDITY":
      return status.uidValidity;
    case "UNSEEN":
      return status.unseen;
    case "DELETED":
      return status.deleted;
    case "DELETED-STORAGE":
      return context.expungeFreesStorage ? status.deletedSize : 0;
    case "SIZE":
      return status.size;
    case "HIGHESTMODSEQ":
      return status.highestModseq;
    case "APPENDLIMIT":
      return context.appendLimit;
  }
}

/** Writes `* STATUS <mailbox> (<item> <value> …)` CRLF. */
export function writeStatus(
  e: Encoder,
  name: string,
  status: MailboxStatus,
  items: readonly StatusItem[],
  context: StatusContext,
): void {
  e.raw("* STATUS ").mailbox(name).sp().list(items, (enc, item) => {
    enc.raw(item).sp().number(valueOf(item, status, context));
  }).crlf();
}
