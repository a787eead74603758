/**
 * Telling a running `bridge serve` that the vault changed: the account commands (`login`,
 * `logout`, `reset-password`, `mode`) call {@link tellRunningServe} after saving the vault, so the
 * change takes effect at once — an account signed out with `logout` stops being served before its
 * local files are deleted, a new bridge password replaces the old one for mail clients, a fresh
 * session replaces a signed-out one — without a SIGHUP or a restart. The serve on the same data
 * directory is found through its control file (`control_server.ts`; a file whose process is gone
 * means none runs) and asked to reload as SIGHUP does.
 *
 * @module
 */
import { ControlUnreachableError, readControlInfo, requestReload } from "./control_server.ts";
import { errorText } from "./_account_common.ts";
import { probeProcess } from "./lock_file.ts";

/** What telling a running serve came to. */
export interface ServeNotice {
  /** `none`: no serve runs; `taken`: it reloaded; `unknown`: it could not be told. */
  outcome: "none" | "taken" | "unknown";
  /** One line for the user (absent for `none`). */
  text?: string;
  /** With `taken`: the accounts the reload stopped (no longer in the vault). */
  removed?: string[];
}

/** Tells the serve running on `dataDir`, if any (see the module notes). */
export async function tellRunningServe(
  dataDir: string,
  timeoutMs = 30_000,
): Promise<ServeNotice> {
  let info;
  try {
    info = await readControlInfo(dataDir);
  } catch (err) {
    return {
      outcome: "unknown",
      text: `Could not tell a running \`bridge serve\` (${errorText(err)}); ` +
        "send it SIGHUP or restart it.",
    };
  }
  if (!info || await probeProcess({ pid: info.pid, startedAt: info.startedAt }) === "dead") {
    return { outcome: "none" };
  }
  try {
    const result = await requestReload(info, timeoutMs) as { accountsRemoved?: unknown };
    const removed = Array.isArray(result?.accountsRemoved)
      ? result.accountsRemoved.filter((e): e is string => typeof e === "string")
      : [];
    return {
      outcome: "taken",
      text: `The running \`bridge serve\` (process ${info.pid}) has taken the change.`,
      removed,
    };
  } catch (err) {
    // Nothing listens where the file says (refused at once): the serve is gone.
    if (err instanceof ControlUnreachableError && !err.timedOut) return { outcome: "none" };
    return {
      outcome: "unknown",
      text: `Could not tell the running \`bridge serve\` (process ${info.pid}): ${
        errorText(err)
      }; send it SIGHUP or restart it.`,
    };
  }
}
