/**
 * CHECK (RFC 3501 §6.4.1): a checkpoint. The index is always consistent, so there is nothing to
 * write; like NOOP it reports what is pending for the selected mailbox (expunges included).
 *
 * Real client lines:
 *
 * ```
 * a0031 CHECK          (mutt, `imap_keepalive` / sync-mailbox)
 * 40 CHECK             (Outlook, periodically)
 * ```
 *
 * @module
 */
import {
  type CommandContext,
  type CommandResult,
  type CommandSpec,
  ok,
} from "../session/context.ts";
import { syntaxError } from "./command_support.ts";

/** The CHECK command. */
export const checkCommand: CommandSpec = {
  names: ["CHECK"],
  states: ["selected"],
  flush: "all",
  handle(ctx: CommandContext): Promise<CommandResult> {
    if (!ctx.args.end()) return Promise.resolve(syntaxError(ctx.args));
    return Promise.resolve(ok("CHECK completed"));
  },
};
