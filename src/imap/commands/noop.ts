/**
 * NOOP (RFC 3501 §6.1.2) and CHECK (§6.4.1): do nothing but let queued mailbox updates out
 * (EXISTS, EXPUNGE, FETCH FLAGS), which is what clients poll with them.
 *
 * Real client lines: Thunderbird `5 noop`, Outlook `A10 NOOP`, mutt `a0005 CHECK`.
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

/** CHECK (a checkpoint: everything is always committed here, so it is NOOP in selected state). */
export const checkCommand: CommandSpec = {
  names: ["CHECK"],
  states: ["selected"],
  flush: "all",
  handle({ args }) {
    return Promise.resolve(args.end() ? ok("CHECK completed") : bad("CHECK takes no arguments"));
  },
};
