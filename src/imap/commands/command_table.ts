/**
 * Every IMAP command the server knows, by name (`UID FETCH` form for UID commands). The session
 * looks commands up here; a name not in the table is answered `BAD`.
 *
 * @module
 */
import type { CommandSpec } from "../session/context.ts";
import { authenticateCommand } from "./authenticate.ts";
import { capabilityCommand } from "./capability.ts";
import { enableCommand } from "./enable.ts";
import { idCommand } from "./id.ts";
import { idleCommand } from "./idle.ts";
import { loginCommand } from "./login.ts";
import { logoutCommand } from "./logout.ts";
import { checkCommand, noopCommand } from "./noop.ts";
import { starttlsCommand } from "./starttls.ts";

/** All command specs. */
export const ALL_COMMANDS: readonly CommandSpec[] = [
  capabilityCommand,
  noopCommand,
  checkCommand,
  logoutCommand,
  idCommand,
  starttlsCommand,
  authenticateCommand,
  loginCommand,
  enableCommand,
  idleCommand,
];

/** The lookup table the session uses: every name of every spec → spec. */
export function commandTable(
  specs: readonly CommandSpec[] = ALL_COMMANDS,
): Map<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const spec of specs) {
    for (const name of spec.names) {
      if (table.has(name)) throw new Error(`IMAP command ${name} is defined twice`);
      table.set(name, spec);
    }
  }
  return table;
}
