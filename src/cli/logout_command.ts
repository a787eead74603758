/**
 * `bridge logout EMAIL`: signs the account out and forgets it.
 *
 * ```sh
 * bridge logout EMAIL [--api-url URL] [--data-dir D] [--config F] [--key-store auto|keychain|file]
 * ```
 *
 * The stored session is resumed with its refresh token and deleted on the server
 * (`DELETE /auth/v4`); when that is impossible (network down, session already gone) the account is
 * still removed here, with a warning. Then the account leaves the vault (its bridge password is
 * archived, so signing in again gives mail clients the same password), a `bridge serve` running on
 * the data directory is told (it stops serving the account at once), and the account's local
 * files — `<data dir>/accounts/<user ID>/`, the message index and cache — are deleted.
 *
 * Exit code 0 when the account is gone from the vault, 1 when it was not there or its local files
 * could not be deleted.
 *
 * @module
 */
import type { Command } from "./command.ts";
import {
  accountCommand,
  COMMON_HELP,
  COMMON_OPTIONS,
  type CommonFlags,
  commonFlags,
  errorText,
  loadCommandConfig,
  newApiClient,
  openVault,
  parseCommandArgs,
  positionals,
  requireAccount,
  saveVault,
  sessionServerMismatch,
} from "./_account_common.ts";
import { accountPaths, removeAccountFiles } from "./account_paths.ts";
import { tellRunningServe } from "./serve_notice.ts";
import type { Config } from "../config/mod.ts";
import type { VaultAccount } from "../vault/mod.ts";
import { logout, resumeSession, SignedOutError } from "../api/mod.ts";

const HELP = `Usage: bridge logout EMAIL [options]

Signs the account out on the server, removes it from the vault and deletes its local message
index and cache. Mail clients can no longer log in with its bridge password, and a running serve
ends their open sessions. The vault keeps that password aside: signing the same account in again
gives it back (mail clients need no change); if it may have leaked, run
\`bridge reset-password EMAIL\` after signing in again.

Options:
  --api-url URL      the API to sign out from (default: api.url from the config)
${COMMON_HELP}

Exit code 0: the account is removed; 1: no such account, or its files could not be deleted.`;

interface LogoutFlags extends CommonFlags {
  email: string;
  help: boolean;
}

function parseFlags(args: string[]): LogoutFlags {
  const { values, positionals: given } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    "api-url": { type: "string" },
  });
  const help = values.help ?? false;
  const [email] = help ? [""] : positionals(given, ["EMAIL"]);
  return { ...commonFlags(values), email, help };
}

/** What revoking the server session came to. */
type Revocation = "revoked" | "already-gone" | { failed: string };

/** Resumes the stored session and deletes it on the server; never throws. */
async function revokeSession(config: Config, account: VaultAccount): Promise<Revocation> {
  const mismatch = sessionServerMismatch(account, config.api.url);
  if (mismatch !== undefined) return { failed: mismatch };
  const client = newApiClient(config, 1);
  try {
    await resumeSession(client, account.authUid, account.refreshToken);
  } catch (err) {
    if (err instanceof SignedOutError) return "already-gone";
    return { failed: errorText(err) };
  }
  try {
    await logout(client);
    return "revoked";
  } catch (err) {
    return { failed: errorText(err) };
  }
}

async function logoutAccount(flags: LogoutFlags): Promise<number> {
  const { config, dataDir } = await loadCommandConfig(flags);
  const vault = await openVault(dataDir, flags.keyStore);
  const account = requireAccount(vault, flags.email);
  const paths = accountPaths(dataDir, account.userId, config.paths.cache_dir);

  vault.removeAccount(account.email);
  await saveVault(vault);
  // A running serve stops the account (and closes its index and cache) before they go; the
  // files stay when it could not be told, or did not stop the account. It is told before the
  // session is revoked, so that its event loop does not find the session gone and report the
  // account signed out (with advice to sign in again) in between.
  const serving = await tellRunningServe(dataDir);
  if (serving.text) console.log(serving.text);

  const revocation = await revokeSession(config, account);
  if (typeof revocation === "object") {
    console.error(
      `bridge logout: warning: could not sign ${account.email} out on the server ` +
        `(${revocation.failed}); the account is removed here anyway. The session may still be ` +
        "listed in the account's security settings until it expires.",
    );
  }
  if (
    serving.outcome === "unknown" ||
    (serving.outcome === "taken" && !serving.removed?.includes(account.email))
  ) {
    console.error(
      `bridge logout: ${account.email} was removed from the vault, but a running \`bridge serve\` ` +
        `may still use its local files: delete ${paths.root} once it has stopped (or after ` +
        "sending it SIGHUP)",
    );
    return 1;
  }

  try {
    await removeAccountFiles(dataDir, account.userId, config.paths.cache_dir);
  } catch (err) {
    console.error(
      `bridge logout: ${account.email} was removed from the vault, but its local files in ` +
        `${paths.root} could not be deleted (${errorText(err)}); delete that folder yourself`,
    );
    return 1;
  }
  const server = revocation === "revoked"
    ? "signed out on the server"
    : revocation === "already-gone"
    ? "its session had already ended on the server"
    : "not signed out on the server";
  console.log(`Logged out ${account.email} (${server}; vault entry and local data removed).`);
  return 0;
}

/** The `logout` entry of the command table. */
export const logoutCommand: Command = accountCommand({
  name: "logout",
  summary: "sign an account out and remove it and its local data",
  help: HELP,
  parse: parseFlags,
  body: logoutAccount,
});
