/**
 * GETQUOTAROOT (RFC 9208 §4.1.2): the quota roots of a mailbox, and each root's usage. Every
 * existing mailbox (placeholders such as `Folders` included) has the account's one root `""`:
 * `* QUOTAROOT <mailbox> ""` then `* QUOTA "" (STORAGE <used> <limit>)` (see `getquota.ts`).
 * When the account's storage figures are not known the mailbox has no root: `* QUOTAROOT
 * <mailbox>` alone. A mailbox that does not exist is `NO [NONEXISTENT]`.
 *
 * Real client lines:
 *
 * ```
 * 12 getquotaroot "INBOX"           (Thunderbird, after selecting a folder, when QUOTA is advertised)
 * A000001 GETQUOTAROOT "INBOX"      (KDE KIMAP / KMail)
 * 7 GETQUOTAROOT "Folders/Work"     (Haiku Mail, for the folder it opens)
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
import { accountOf, syntaxError } from "./command_support.ts";
import { QUOTA_ROOT, writeQuota } from "./getquota.ts";

/** The GETQUOTAROOT command. */
export const getQuotaRootCommand: CommandSpec = {
  names: ["GETQUOTAROOT"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    const name = ctx.args.expectMailbox();
    if (!ctx.args.end()) return syntaxError(ctx.args);
    const account = accountOf(ctx.session);
    const mailbox = account.mailboxByName(name);
    if (!mailbox) return no("Mailbox does not exist", "NONEXISTENT");
    const usage = account.storageUsage?.();
    await ctx.session.respond((e) => {
      e.raw("* QUOTAROOT ").mailbox(mailbox.name);
      if (usage) e.sp().quoted(QUOTA_ROOT);
      e.crlf();
      if (usage) writeQuota(e, usage);
    });
    return ok("GETQUOTAROOT completed");
  },
};
