/**
 * SETQUOTA (RFC 9208 §4.1.3): the storage limit comes with the account's Proton plan and cannot
 * be changed from a mail client, so `QUOTASET` is not advertised and a well-formed SETQUOTA is
 * refused with `NO [NOPERM]` (a malformed one is `BAD`, as any command).
 *
 * Real client lines:
 *
 * ```
 * A000004 SETQUOTA "" (STORAGE 512)    (KDE KIMAP's SetQuotaJob, from an admin tool)
 * 4 SETQUOTA "" ()                      (by hand: removing every limit)
 * ```
 *
 * @module
 */
import {
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  no,
} from "../session/context.ts";
import { syntaxError } from "./command_support.ts";

/** The SETQUOTA command. */
export const setQuotaCommand: CommandSpec = {
  names: ["SETQUOTA"],
  states: ["authenticated", "selected"],
  handle(ctx: CommandContext): Promise<CommandResult> {
    const args = ctx.args;
    args.expectAString();
    const list = args.expectList();
    // setquota-list: zero or more "resource-name SP number64" pairs.
    while (args.ok && list.ok && !list.atEnd()) {
      list.expectAtom();
      list.expectNumber();
    }
    if (!args.end()) return Promise.resolve(syntaxError(args));
    return Promise.resolve(
      no("The storage limit is set by the Proton plan and cannot be changed over IMAP", "NOPERM"),
    );
  },
};
