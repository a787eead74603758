/**
 * ENABLE (RFC 5161): turns on extensions that change server responses. Known here: CONDSTORE
 * (RFC 7162 §3.1: MODSEQ in unsolicited FETCH responses) and QRESYNC (RFC 7162 §3.2: `VANISHED`
 * instead of `EXPUNGE`, the `QRESYNC` SELECT parameter and the `VANISHED` UID FETCH modifier; it
 * turns CONDSTORE on too, §3.2.3). Unknown names are ignored, as the RFC requires; `* ENABLED`
 * lists what was turned on by this command.
 *
 * Real client lines: Thunderbird `3 ENABLE CONDSTORE`, iOS Mail `4 ENABLE QRESYNC`, K-9
 * `5 ENABLE CONDSTORE`.
 *
 * @module
 */
import { bad, type CommandSpec, ok } from "../session/context.ts";

const SUPPORTED = new Set(["CONDSTORE", "QRESYNC"]);

/** ENABLE. */
export const enableCommand: CommandSpec = {
  names: ["ENABLE"],
  states: ["authenticated", "selected"],
  flush: "none",
  async handle({ args, session }) {
    const names: string[] = [];
    while (!args.atEnd()) names.push(args.expectAtom().toUpperCase());
    if (!args.end() || names.length === 0) return bad("ENABLE needs capability names");
    const turnedOn: string[] = [];
    for (const name of names) {
      if (!SUPPORTED.has(name) || session.enabled.has(name)) continue;
      session.enable(name);
      if (name === "QRESYNC") session.enable("CONDSTORE");
      turnedOn.push(name);
    }
    await session.respond((e) => e.raw(["* ENABLED", ...turnedOn].join(" ")).crlf());
    return ok("ENABLE completed");
  },
};
