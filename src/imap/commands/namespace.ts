/**
 * NAMESPACE (RFC 2342): one personal namespace with no prefix and `/` as the delimiter, no other
 * users' and no shared namespaces: `* NAMESPACE (("" "/")) NIL NIL`.
 *
 * Real client lines:
 *
 * ```
 * 3 namespace          (Thunderbird, right after login)
 * 4 NAMESPACE          (iOS 18 Mail, before LIST)
 * 3 NAMESPACE          (mbsync, to learn the delimiter)
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
import { DELIMITER, syntaxError } from "./command_support.ts";

/** The NAMESPACE command. */
export const namespaceCommand: CommandSpec = {
  names: ["NAMESPACE"],
  states: ["authenticated", "selected"],
  async handle(ctx: CommandContext): Promise<CommandResult> {
    if (!ctx.args.end()) return syntaxError(ctx.args);
    await ctx.session.respond((e) => e.raw(`* NAMESPACE (("" "${DELIMITER}")) NIL NIL`).crlf());
    return ok("NAMESPACE completed");
  },
};
