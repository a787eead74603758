/**
 * STARTTLS (RFC 3501 §6.2.1, RFC 9051 §6.2.1): answers `OK`, then the TLS handshake; whatever the
 * client pipelined in clear after the command is discarded, and the capability list is asked
 * again by the client over TLS.
 *
 * Real client lines: Thunderbird `2 STARTTLS`, mutt `a0001 STARTTLS`, Python imaplib
 * `ABCD1 STARTTLS`.
 *
 * @module
 */
import { bad, type CommandSpec, no } from "../session/context.ts";

/** STARTTLS. */
export const starttlsCommand: CommandSpec = {
  names: ["STARTTLS"],
  states: ["not-authenticated"],
  flush: "none",
  async handle({ tag, args, session }) {
    if (!args.end()) return bad("STARTTLS takes no arguments");
    if (session.secure) return bad("The connection is already encrypted");
    if (!session.capabilities().includes("STARTTLS")) {
      return no("STARTTLS is not available on this server");
    }
    try {
      await session.startTls(tag, "Begin TLS negotiation now");
    } catch (err) {
      // The session has already marked itself closing: nothing more can be said in clear.
      session.log(`STARTTLS failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { status: "OK", text: "", sent: true };
  },
};
