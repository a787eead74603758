/**
 * Every IMAP command the server knows, by name (`UID FETCH` form for UID commands). The session
 * looks commands up here; a name not in the table is answered `BAD`.
 *
 * @module
 */
import type { CommandSpec } from "../session/context.ts";
import { appendCommand } from "./append.ts";
import { authenticateCommand } from "./authenticate.ts";
import { capabilityCommand } from "./capability.ts";
import { checkCommand } from "./check.ts";
import { closeCommand } from "./close.ts";
import { copyCommand } from "./copy.ts";
import { createCommand } from "./create.ts";
import { deleteCommand } from "./delete.ts";
import { enableCommand } from "./enable.ts";
import { expungeCommand } from "./expunge.ts";
import { fetchCommand } from "./fetch.ts";
import { getQuotaCommand } from "./getquota.ts";
import { getQuotaRootCommand } from "./getquotaroot.ts";
import { idCommand } from "./id.ts";
import { idleCommand } from "./idle.ts";
import { listCommand } from "./list.ts";
import { loginCommand } from "./login.ts";
import { logoutCommand } from "./logout.ts";
import { lsubCommand } from "./lsub.ts";
import { moveCommand } from "./move.ts";
import { namespaceCommand } from "./namespace.ts";
import { noopCommand } from "./noop.ts";
import { renameCommand } from "./rename.ts";
import { searchCommand } from "./search.ts";
import { selectCommand } from "./select.ts";
import { setQuotaCommand } from "./setquota.ts";
import { sortCommand } from "./sort.ts";
import { starttlsCommand } from "./starttls.ts";
import { statusCommand } from "./status.ts";
import { storeCommand } from "./store.ts";
import { subscribeCommand } from "./subscribe.ts";
import { unselectCommand } from "./unselect.ts";
import { unsubscribeCommand } from "./unsubscribe.ts";
import { xlistCommand } from "./xlist.ts";

/** All command specs. */
export const ALL_COMMANDS: readonly CommandSpec[] = [
  appendCommand,
  authenticateCommand,
  capabilityCommand,
  checkCommand,
  closeCommand,
  copyCommand,
  createCommand,
  deleteCommand,
  enableCommand,
  expungeCommand,
  fetchCommand,
  getQuotaCommand,
  getQuotaRootCommand,
  idCommand,
  idleCommand,
  listCommand,
  loginCommand,
  logoutCommand,
  lsubCommand,
  moveCommand,
  namespaceCommand,
  noopCommand,
  renameCommand,
  searchCommand,
  selectCommand,
  setQuotaCommand,
  sortCommand,
  starttlsCommand,
  statusCommand,
  storeCommand,
  subscribeCommand,
  unselectCommand,
  unsubscribeCommand,
  xlistCommand,
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
