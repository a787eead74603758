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
 * select parameter `(CONDSTORE)` turns CONDSTORE on. Any previous selection ends first, with
 * `* OK [CLOSED]` (RFC 7162 §3.2.11), so a failed SELECT leaves the session authenticated with
 * nothing selected (RFC 3501 §6.3.1). `\Noselect` mailboxes are refused.
 *
 * QRESYNC (RFC 7162 §3.2.5), after `ENABLE QRESYNC` (else `BAD`): `(QRESYNC (<uidvalidity>
 * <modseq> [<known uids> [<sequence match data>]]))`. When the UIDVALIDITY is the mailbox's, the
 * answer goes on with `* VANISHED (EARLIER) <uids>` for the messages expunged after that
 * mod-sequence, then `* n FETCH (UID u FLAGS (…) MODSEQ (m))` for every message changed after it
 * (both within the known UIDs when given). The index keeps every expunge's mod-sequence, so the sequence match data
 * is not needed and is only checked for syntax. With another UIDVALIDITY the client learns it
 * from the `[UIDVALIDITY]` line and resynchronizes in full.
 *
 * Real client lines:
 *
 * ```
 * 6 select "INBOX" (CONDSTORE)       (Thunderbird with use_condstore)
 * A03 SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541))   (RFC 7162 clients)
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
import { MailboxView, rangesContain } from "../state/mailbox_view.ts";
import { compactUidSet, type Decoder, type SequenceSet } from "../wire/mod.ts";
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
    const session = ctx.session;
    let condstore = false;
    let qresync: QresyncParameter | undefined;
    const params = args.optionalList();
    if (params) {
      while (!params.atEnd() && args.ok) {
        const param = params.expectKeyword();
        if (!args.ok) break;
        if (param === "CONDSTORE") condstore = true;
        else if (param === "QRESYNC") {
          if (!session.enabled.has("QRESYNC")) {
            return bad("QRESYNC is not enabled (RFC 7162 §3.2.5)", "CLIENTBUG");
          }
          qresync = parseQresync(params);
        } else return bad(`Unknown ${ctx.name} parameter ${param}`, "CLIENTBUG");
      }
    }
    if (!args.end()) return syntaxError(args);

    // RFC 3501 §6.3.1: the current selection ends whether or not the new one succeeds;
    // RFC 7162 §3.2.11: [CLOSED] marks where its responses end.
    if (session.view) {
      session.unselect();
      await session.respond((e) => e.raw("* OK [CLOSED] Previous mailbox closed").crlf());
    }
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
    if (qresync && qresync.uidValidity === info.uidValidity) {
      // Only the known UIDs' changes and expunges, when the client named them (§3.2.5).
      // VANISHED (EARLIER) first, as UID FETCH … VANISHED does (RFC 7162 §3.2.5.1, §3.2.6).
      const since = qresync.modseq;
      const known = qresync.knownUids?.resolve(MAX_UID);
      const gone = view.vanishedSince(since, known);
      if (gone.length > 0) {
        await session.respond((e) => e.raw(`* VANISHED (EARLIER) ${compactUidSet(gone)}`).crlf());
      }
      const isKnown = known === undefined ? undefined : rangesContain(known);
      const changed = view.store.membership.changedSince(view.mailboxId, since)
        .filter((r) => isKnown === undefined || isKnown(r.uid));
      await session.respond((e) => view.writeFlags(e, changed, true));
    }
    return ok(`${ctx.name} completed`, readOnly ? "READ-ONLY" : "READ-WRITE");
  },
};

/** `*` in a set of UIDs that may name expunged ones: above every UID that can exist. */
const MAX_UID = 0xFFFF_FFFF;

/** The `QRESYNC` select parameter (RFC 7162 §3.2.5). */
interface QresyncParameter {
  uidValidity: number;
  /** Mod-sequence the client last knew (capped to what a JavaScript number holds exactly). */
  modseq: number;
  knownUids?: SequenceSet;
}

/** Parses `(uidvalidity modseq [known-uids [(seq-match-data)]])`; errors are recorded in `d`. */
function parseQresync(d: Decoder): QresyncParameter {
  const list = d.expectList();
  const uidValidity = list.expectNzNumber();
  const modseq = list.expectModSeq(false);
  const out: QresyncParameter = {
    uidValidity,
    modseq: modseq > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(modseq),
  };
  if (!list.atEnd() && !list.isList()) out.knownUids = list.expectSequenceSet();
  if (!list.atEnd()) {
    // Sequence match data: (<sequence numbers> <their UIDs>). Not needed (see the module notes).
    const match = list.expectList();
    match.expectSequenceSet();
    match.expectSequenceSet();
    if (!match.atEnd()) match.fail("Sequence match data has two sets");
  }
  if (!list.atEnd()) list.fail("Unexpected QRESYNC parameter data");
  return out;
}
