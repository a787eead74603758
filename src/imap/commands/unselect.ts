/**
 * UNSELECT (RFC 3691): ends the selection without expunging anything and without untagged
 * responses.
 *
 * Real client lines:
 *
 * ```
 * 25 unselect             (Thunderbird, before selecting another folder on the same connection)
 * 9 UNSELECT              (K-9 / Thunderbird for Android)
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
import { syntaxError, viewOf } from "./command_support.ts";

/** The UNSELECT command. */
export const unselectCommand: CommandSpec = {
  names: ["UNSELECT"],
  states: ["selected"],
  flush: "none",
  handle(ctx: CommandContext): Promise<CommandResult> {
    if (!ctx.args.end()) return Promise.resolve(syntaxError(ctx.args));
    viewOf(ctx.session).clearPending();
    ctx.session.unselect();
    return Promise.resolve(ok("UNSELECT completed"));
  },
};
