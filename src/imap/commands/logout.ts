/**
 * LOGOUT (RFC 3501 §6.1.3): `* BYE` (written by the session) then the tagged OK, then close.
 *
 * Real client lines: Thunderbird `12 logout`, mbsync `7 LOGOUT`, Python imaplib `ABCD5 LOGOUT`.
 *
 * @module
 */
import { bad, type CommandSpec, ok } from "../session/context.ts";

/** LOGOUT. */
export const logoutCommand: CommandSpec = {
  names: ["LOGOUT"],
  states: ["not-authenticated", "authenticated", "selected"],
  flush: "none",
  handle({ args, session }) {
    if (!args.end()) return Promise.resolve(bad("LOGOUT takes no arguments"));
    session.logout();
    return Promise.resolve(ok("LOGOUT completed"));
  },
};
