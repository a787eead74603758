/**
 * CAPABILITY (RFC 3501 §6.1.1): the list for the current state, from `session/capabilities.ts`.
 *
 * Real client lines: Thunderbird `1 capability`, mbsync `1 CAPABILITY`, Apple Mail
 * `1.1 CAPABILITY`.
 *
 * @module
 */
import { type CommandSpec, ok } from "../session/context.ts";

/** CAPABILITY. */
export const capabilityCommand: CommandSpec = {
  names: ["CAPABILITY"],
  states: ["not-authenticated", "authenticated", "selected"],
  async handle({ args, session }) {
    if (!args.end()) return { status: "BAD", text: "CAPABILITY takes no arguments" };
    await session.respond((e) => e.raw(`* CAPABILITY ${session.capabilities().join(" ")}`).crlf());
    return ok("CAPABILITY completed");
  },
};
