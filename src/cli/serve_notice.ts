/**
 * Telling a running `bridge serve` that the vault changed: the account commands (`login`,
 * `logout`, `reset-password`, `mode`) call {@link tellRunningServe} after saving the vault, so the
 * change takes effect at once — an account signed out with `logout` stops being served before its
 * local files are deleted, a new bridge password replaces the old one for mail clients, a fresh
 * session replaces a signed-out one — without a SIGHUP or a restart. The serve on the same data
 * directory is found through its control file (`control_server.ts`) and asked to reload as SIGHUP
 * does.
 *
 * @module
 */
import { ControlUnreachableError, readControlInfo, requestReload } from "./control_server.ts";
import { errorText } from "./_account_common.ts";

/** What telling a running serve came to, as one line for the user (or undefined: none runs). */
export async function tellRunningServe(dataDir: string): Promise<string | undefined> {
  let info;
  try {
    info = await readControlInfo(dataDir);
  } catch (err) {
    return `Could not tell a running \`bridge serve\` (${errorText(err)}); ` +
      "send it SIGHUP or restart it.";
  }
  if (!info) return undefined;
  try {
    await requestReload(info);
    return `The running \`bridge serve\` (process ${info.pid}) has taken the change.`;
  } catch (err) {
    // A control file left by a serve that is gone: nothing runs.
    if (err instanceof ControlUnreachableError) return undefined;
    return `Could not tell the running \`bridge serve\` (process ${info.pid}): ${
      errorText(err)
    }; ` +
      "send it SIGHUP or restart it.";
  }
}
