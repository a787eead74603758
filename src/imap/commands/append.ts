/**
 * APPEND (RFC 3501 §6.3.11, RFC 4315 APPENDUID): stores a message the client sends, with optional
 * flags and internal date, and answers `OK [APPENDUID <uidvalidity> <uid>]`.
 *
 * The account applies Proton's rules (proton-api.md §5.6): Drafts creates a draft, Sent recognises
 * a message just sent over SMTP, other mailboxes import; All Mail refuses (`NO [code]`). A message
 * the API would not take is never dropped: the account keeps it in the local recovery mailbox and
 * the OK says so, without APPENDUID (its UID is not in the mailbox the client named). A missing
 * mailbox is `NO [TRYCREATE]` (RFC 3501 §6.3.11), a `\Noselect` one `NO [CANNOT]`. Literals over
 * APPENDLIMIT are refused by the reader before the data arrives (`NO [TOOBIG]`, RFC 7889); this
 * handler only checks again. `\Recent` cannot be set by a client and is ignored. MULTIAPPEND is
 * not offered.
 *
 * Real client lines:
 *
 * ```
 * 27 append "Drafts" (\Seen \Draft) {1832}                                   (Thunderbird saving a draft)
 * 8 APPEND "Sent" (\Seen) "14-Mar-2024 09:12:45 +0100" {2210+}              (mbsync, LITERAL+)
 * 4.11 APPEND "Sent" (\Seen) " 4-Mar-2024 18:02:11 +0000" {1045}           (Apple Mail)
 * ```
 *
 * @module
 */
import {
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  no,
  ok,
} from "../session/context.ts";
import { accountOf, isResult, refusal, selectableMailbox, syntaxError } from "./command_support.ts";

/** The APPEND command. */
export const appendCommand: CommandSpec = {
  names: ["APPEND"],
  states: ["authenticated", "selected"],
  flush: "all",
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    const name = args.expectMailbox();
    const flags = args.isList() ? args.expectFlagList() : [];
    const date = args.optionalDateTime();
    const literal = args.expectLiteral();
    if (!args.end()) return syntaxError(args);
    const session = ctx.session;
    if (literal.streamed) {
      // The session reads APPEND data into the literal; a streamed one never reaches a handler.
      return no("Message data was not received", "SERVERBUG");
    }
    if (literal.bytes.length > session.appendLimit) {
      return no(`Message is larger than the limit of ${session.appendLimit} bytes`, "TOOBIG");
    }
    if (literal.bytes.length === 0) return no("Message is empty", "CANNOT");
    const account = accountOf(session);
    const mailbox = selectableMailbox(account, name, "TRYCREATE");
    if (isResult(mailbox)) return mailbox;
    let result;
    try {
      result = await account.append(session.id, mailbox.id, {
        literal: literal.bytes,
        flags: flags.filter((f) => f !== "\\Recent"),
        ...(date ? { internalDate: Math.floor(date.getTime() / 1000) } : {}),
      });
    } catch (error) {
      return refusal(error);
    }
    if (result.recovered !== undefined) {
      return ok(
        `Message kept in the local recovery mailbox, not in ${mailbox.name}: ${result.recovered}`,
      );
    }
    if (result.pending !== undefined) {
      // Stored; no UID to name yet (RFC 4315 lets APPENDUID be left out then).
      return ok(
        `APPEND completed; the message is stored on the server and appears here once the ` +
          `bridge has indexed it (${result.pending})`,
      );
    }
    if (result.nowhere) {
      return ok("APPEND completed; the server keeps the message in no mailbox shown here");
    }
    if (result.mailbox !== mailbox.id) {
      // The server filed it elsewhere (a received message appended to Sent stays in INBOX): its
      // UID is one of another mailbox, which APPENDUID cannot name.
      const where = account.visibleMailboxes().find((m) => m.id === result.mailbox)?.name ??
        "another mailbox";
      return ok(`APPEND completed; the server keeps the message in ${where}`);
    }
    return ok("APPEND completed", `APPENDUID ${result.uidValidity} ${result.uid}`);
  },
};
