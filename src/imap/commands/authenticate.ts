/**
 * AUTHENTICATE PLAIN (RFC 3501 §6.2.2, RFC 4616) with an initial response (SASL-IR, RFC 4959) or
 * after a `+ ` continuation. `*` cancels. The authorization identity, when given, must equal the
 * authentication identity. Same rules as LOGIN for TLS and throttling.
 *
 * Real client lines: Thunderbird `2 authenticate PLAIN` then base64, Apple Mail
 * `3 AUTHENTICATE PLAIN AHVzZXIAcGFzcw==`, Python imaplib `ABCD2 AUTHENTICATE PLAIN`.
 *
 * @module
 */
import { bad, type CommandSpec, no } from "../session/context.ts";
import { finishLogin } from "./login.ts";

/** Decodes a SASL PLAIN message: `[authzid] NUL authcid NUL password`. */
export function decodeSaslPlain(
  base64: string,
): { authzid: string; username: string; password: string } | undefined {
  let bytes: Uint8Array;
  try {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return undefined;
    bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
  const parts: number[] = [];
  bytes.forEach((b, i) => b === 0 && parts.push(i));
  if (parts.length !== 2) return undefined;
  const text = new TextDecoder("utf-8", { fatal: false });
  return {
    authzid: text.decode(bytes.subarray(0, parts[0])),
    username: text.decode(bytes.subarray(parts[0] + 1, parts[1])),
    password: text.decode(bytes.subarray(parts[1] + 1)),
  };
}

/** AUTHENTICATE. */
export const authenticateCommand: CommandSpec = {
  names: ["AUTHENTICATE"],
  states: ["not-authenticated"],
  flush: "none",
  async handle({ args, session }) {
    const mechanism = args.expectAtom().toUpperCase();
    const initial = args.atEnd() ? undefined : args.expectAtom();
    if (!args.end()) return bad("AUTHENTICATE expects a mechanism and an optional response");
    if (mechanism !== "PLAIN") return no(`Unsupported mechanism ${mechanism.slice(0, 20)}`);
    if (!session.plainAuthAllowed) return no("Use STARTTLS before logging in", "PRIVACYREQUIRED");
    let response = initial;
    if (response === undefined) {
      await session.respond((e) => e.raw("+ ").crlf());
      response = await session.readLine();
      if (response === undefined) return bad("No response in time to AUTHENTICATE");
    }
    if (response === "*") return bad("AUTHENTICATE cancelled");
    const plain = decodeSaslPlain(response === "=" ? "" : response);
    if (!plain) return bad("Malformed SASL PLAIN response");
    if (plain.authzid !== "" && plain.authzid !== plain.username) {
      return no("Logging in as another user is not supported", "AUTHORIZATIONFAILED");
    }
    return finishLogin(session, plain.username, plain.password, "AUTHENTICATE");
  },
};
