/**
 * NOOP (RFC 3501 §6.1.2): does nothing but let queued mailbox updates out (EXISTS, EXPUNGE,
 * FETCH FLAGS), which is what clients poll with it.
 *
 * Real client lines: Thunderbird `5 noop`, Outlook `A10 NOOP`, mutt `a0005 NOOP`.
 *
 * @module
 */
import { bad, type CommandSpec, ok } from "../session/context.ts";

/** NOOP. */
export const noopCommand: CommandSpec = {
  names: ["NOOP"],
  states: ["not-authenticated", "authenticated", "selected"],
  flush: "all",
  handle({ args }) {
    return Promise.resolve(args.end() ? ok("NOOP completed") : bad("NOOP takes no arguments"));
  },
};
