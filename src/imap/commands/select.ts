/**
 * SELECT and EXAMINE (RFC 3501 §6.3.1–§6.3.2, RFC 7162 §3.1.2.1): open a mailbox read-write or
 * read-only and describe it:
 *
 * ```
 * * FLAGS (\Seen \Flagged \Deleted $Forwarded Forwarded)
 * * 3 EXISTS
 * * 0 RECENT
 * * OK [PERMANENTFLAGS (\Seen \Flagged \Deleted $Forwarded Forwarded)] Flags permitted
 * * OK [UNSEEN 2] First unseen
 * * OK [UIDNEXT 4] Predicted next UID
 * * OK [UIDVALIDITY 1712345678] UIDs valid
 * * OK [HIGHESTMODSEQ 17] Highest
 * a1 OK [READ-WRITE] SELECT completed
 * ```
 *
 * EXAMINE answers `[PERMANENTFLAGS ()]` and `[READ-ONLY]`. `[UNSEEN n]` only when a message is
 * unseen; `[NOMODSEQ]` instead of `[HIGHESTMODSEQ]` for a mailbox without mod-sequences. The
 * select parameter `(CONDSTORE)` turns CONDSTORE on; QRESYNC is not offered, so its parameter is
 * `BAD` (RFC 7162 §3.2.5). Any previous selection ends first, so a failed SELECT leaves the session
 * authenticated with nothing selected (RFC 3501 §6.3.1). `\Noselect` mailboxes are refused.
 *
 * Real client lines:
 *
 * ```
 * 6 select "INBOX" (CONDSTORE)       (Thunderbird with use_condstore)
 * 2 SELECT "INBOX"                   (mbsync)
 * 9 EXAMINE "Folders/Work"           (mutt in read-only mode; Apple Mail when it only checks)
 * ```
 *
 * @module
 */
import { MailboxNotFoundError } from "../../store/mod.ts";
import {
  bad,
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  ok,
} from "../session/context.ts";
import { MailboxView } from "../state/mailbox_view.ts";
import { accountOf, isResult, refusal, selectableMailbox, syntaxError } from "./command_support.ts";

/** SELECT and EXAMINE (EXAMINE is SELECT read-only). */
export const selectCommand: CommandSpec = {
  names: ["SELECT", "EXAMINE"],
  states: ["authenticated", "selected"],
  // The new view has nothing pending; the old one's queue ends with the selection.
  flush: "none",
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const name = args.expectMailbox();
    let condstore = false;
    const params = args.optionalList();
    if (params) {
      while (!params.atEnd() && args.ok) {
        const param = params.expectKeyword();
        if (!args.ok) break;
        if (param === "CONDSTORE") condstore = true;
        else if (param === "QRESYNC") {
          return bad("QRESYNC is not enabled (RFC 7162 §3.2.5)", "CLIENTBUG");
        } else return bad(`Unknown ${ctx.name} parameter ${param}`, "CLIENTBUG");
      }
    }
    if (!args.end()) return syntaxError(args);

    const session = ctx.session;
    // RFC 3501 §6.3.1: the current selection ends whether or not the new one succeeds.
    if (session.view) session.unselect();
    const account = accountOf(session);
    const mailbox = selectableMailbox(account, name, "NONEXISTENT");
    if (isResult(mailbox)) return mailbox;
    const readOnly = ctx.name === "EXAMINE";

    // View and numbers are taken together, without awaiting in between, so they agree.
    let view: MailboxView;
    let info;
    try {
      view = new MailboxView({ store: account.store, mailbox, readOnly });
      info = account.store.membership.selectInfo(mailbox.id);
    } catch (error) {
      if (error instanceof MailboxNotFoundError) return refusal(error);
      throw error;
    }
    const { flags, permanentFlags } = account.mailboxFlags(mailbox);
    session.select(view);
    if (condstore) session.enable("CONDSTORE");

    await session.respond((e) => e.raw("* FLAGS ").flags(flags).crlf());
    await session.respond((e) => e.raw(`* ${view.exists} EXISTS`).crlf());
    await session.respond((e) => e.raw("* 0 RECENT").crlf());
    await session.respond((e) => {
      e.raw("* OK [PERMANENTFLAGS ").flags(readOnly ? [] : permanentFlags).raw("] ");
      e.raw(readOnly ? "Read-only mailbox" : "Flags permitted").crlf();
    });
    if (info.unseenSeq !== undefined) {
      const seq = info.unseenSeq;
      await session.respond((e) => e.raw(`* OK [UNSEEN ${seq}] First unseen`).crlf());
    }
    await session.respond((e) => e.raw(`* OK [UIDNEXT ${info.uidNext}] Predicted next UID`).crlf());
    await session.respond((e) => e.raw(`* OK [UIDVALIDITY ${info.uidValidity}] UIDs valid`).crlf());
    if (info.highestModseq > 0) {
      await session.respond((e) =>
        e.raw(`* OK [HIGHESTMODSEQ ${info.highestModseq}] Highest`).crlf()
      );
    } else {
      await session.respond((e) => e.raw("* OK [NOMODSEQ] No mod-sequences").crlf());
    }
    return ok(`${ctx.name} completed`, readOnly ? "READ-ONLY" : "READ-WRITE");
  },
};
