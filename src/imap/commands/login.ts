/**
 * LOGIN (RFC 3501 §6.2.3): an address of an account and its bridge password. Refused with
 * `NO [PRIVACYREQUIRED]` on an unencrypted connection when plaintext login is off
 * (LOGINDISABLED is then advertised); failures are answered `NO [AUTHENTICATIONFAILED]` after the
 * server's throttle delay, and a client past the lockout count is disconnected.
 *
 * Real client lines: Thunderbird `3 login "user@proton.me" "pw"`, mbsync `2 LOGIN user@proton.me
 * {22}`, Outlook `A2 LOGIN "user@proton.me" "pw"`.
 *
 * @module
 */
import {
  bad,
  type CommandResult,
  type CommandSpec,
  no,
  ok,
  type SessionApi,
} from "../session/context.ts";

/** Turns a login outcome into the tagged response (shared with AUTHENTICATE). */
export async function finishLogin(
  session: SessionApi,
  username: string,
  password: string,
  what: string,
): Promise<CommandResult> {
  const outcome = await session.login(username, password);
  switch (outcome) {
    case "ok":
      return ok(`${what} completed`, `CAPABILITY ${session.capabilities().join(" ")}`);
    case "unavailable":
      return no(
        session.loginProblem
          ? `Login is not possible right now: ${session.loginProblem}`
          : "Login is not possible right now; try again later",
        "UNAVAILABLE",
      );
    case "locked":
      return no("Too many failed logins; closing the connection", "AUTHENTICATIONFAILED");
    case "failed":
      return no(
        "Invalid username or password (use the bridge password, not the account password)",
        "AUTHENTICATIONFAILED",
      );
  }
}

/** LOGIN. */
export const loginCommand: CommandSpec = {
  names: ["LOGIN"],
  states: ["not-authenticated"],
  flush: "none",
  handle({ args, session }) {
    const username = args.expectAString();
    const password = args.expectAString();
    if (!args.end()) return Promise.resolve(bad("LOGIN expects a username and a password"));
    if (!session.plainAuthAllowed) {
      return Promise.resolve(no("Use STARTTLS before logging in", "PRIVACYREQUIRED"));
    }
    return finishLogin(session, username, password, "LOGIN");
  },
};
