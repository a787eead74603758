/**
 * `bridge accounts`: lists the accounts in the vault.
 *
 * ```sh
 * bridge accounts [--json] [--data-dir D] [--config F] [--key-store auto|keychain|file]
 * ```
 *
 * With `--json` it prints one object (fields documented on {@link AccountListEntry}):
 *
 * ```json
 * {"accounts":[{"email":"alice@proton.me","user_id":"…","username":"alice","address_mode":"combined","state":"signed-in","added_at":"2025-01-01T00:00:00.000Z"}]}
 * ```
 *
 * The state comes from the vault alone: `signed-in` when it holds a session, `signed-out` when the
 * session was dropped (log in again). Whether `bridge serve` is syncing is `bridge status`'s job.
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
  loadCommandConfig,
  openVault,
  parseCommandArgs,
  positionals,
} from "./_account_common.ts";
import type { VaultAccount } from "../vault/mod.ts";

const HELP = `Usage: bridge accounts [options]

Lists the accounts in the vault: address, user ID, address mode and whether a session is stored.

Options:
  --json             print one JSON object {"accounts": [...]}
${COMMON_HELP}`;

/** One account in `bridge accounts --json`. */
export interface AccountListEntry {
  /** The primary address (the IMAP/SMTP user name). */
  email: string;
  /** Proton user ID. */
  user_id: string;
  /** Proton user name (may be empty). */
  username: string;
  /** `combined` or `split`. */
  address_mode: "combined" | "split";
  /** `signed-in` when the vault holds a session, else `signed-out`. */
  state: "signed-in" | "signed-out";
  /** When the account was added (ISO 8601). */
  added_at: string;
}

/** The JSON entry of one vault account (no secrets). */
export function accountListEntry(account: VaultAccount): AccountListEntry {
  return {
    email: account.email,
    user_id: account.userId,
    username: account.username,
    address_mode: account.addressMode,
    state: account.refreshToken === "" || account.authUid === "" ? "signed-out" : "signed-in",
    added_at: account.addedAt,
  };
}

interface AccountsFlags extends CommonFlags {
  json: boolean;
  help: boolean;
}

function parseFlags(args: string[]): AccountsFlags {
  const { values, positionals: given } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    json: { type: "boolean" },
  });
  const help = values.help ?? false;
  if (!help) positionals(given, []);
  return { ...commonFlags(values), json: values.json ?? false, help };
}

async function listAccounts(flags: AccountsFlags): Promise<number> {
  const { dataDir } = await loadCommandConfig(flags);
  const vault = await openVault(dataDir, flags.keyStore);
  const entries = vault.accounts().map(accountListEntry);
  if (flags.json) {
    console.log(JSON.stringify({ accounts: entries }));
    return 0;
  }
  if (entries.length === 0) {
    console.log("No accounts. Add one with `bridge login`.");
    return 0;
  }
  const rows = [
    ["EMAIL", "USER ID", "MODE", "STATE"],
    ...entries.map((e) => [e.email, e.user_id, e.address_mode, e.state.replace("-", " ")]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows) {
    console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  }
  return 0;
}

/** The `accounts` entry of the command table. */
export const accountsCommand: Command = accountCommand({
  name: "accounts",
  summary: "list the accounts in the vault",
  help: HELP,
  parse: parseFlags,
  body: listAccounts,
});
