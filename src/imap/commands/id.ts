/**
 * ID (RFC 2971): the client tells who it is (logged, and kept for diagnostics), the server
 * answers with its name and version. Never echoes client values back.
 *
 * Real client lines: Thunderbird `2 ID ("name" "Thunderbird" "version" "128.3.0")`, Apple Mail
 * `3 ID ("name" "Mac OS X Mail" "version" "16.0 (3774)" "os" "Mac OS X")`, mutt `a0001 ID NIL`.
 *
 * @module
 */
import { bad, type CommandSpec, ok } from "../session/context.ts";

/** Server identity fields (set once by the server from the program's version). */
export const serverIdentity = { name: "bridge", version: "0.0.0", vendor: "bridge" };

/** ID. */
export const idCommand: CommandSpec = {
  names: ["ID"],
  states: ["not-authenticated", "authenticated", "selected"],
  flush: "none",
  async handle({ args, session }) {
    const client: Record<string, string> = {};
    if (!args.optionalNil()) {
      const list = args.expectList();
      while (!list.atEnd()) {
        const key = list.expectString();
        const value = list.expectNString();
        if (Object.keys(client).length < 30) {
          client[key.slice(0, 30).toLowerCase()] = (value ?? "").slice(0, 100);
        }
      }
      if (!list.end()) return bad("ID expects a list of field-value pairs");
    }
    if (!args.end()) return bad("ID expects NIL or a parenthesised list");
    const who = [client.name, client.version].filter(Boolean).join(" ");
    if (who) session.log(`client says it is ${JSON.stringify(who)}`);
    await session.respond((e) => {
      e.raw("* ID (");
      const fields = Object.entries(serverIdentity);
      fields.forEach(([k, v], i) => {
        if (i > 0) e.sp();
        e.string(k).sp().string(v);
      });
      e.raw(")").crlf();
    });
    return ok("ID completed");
  },
};
