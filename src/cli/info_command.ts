/**
 * `bridge info EMAIL`: the IMAP/SMTP settings of one account, for a mail client.
 *
 * ```sh
 * bridge info EMAIL [--json] [--data-dir D] [--config F] [--key-store auto|keychain|file]
 * ```
 *
 * `--json` prints exactly `{"imap":{"host","port","security","username","password"},
 * "smtp":{…same…}}` (see `account_settings.ts`). The password is the bridge password.
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
  requireAccount,
} from "./_account_common.ts";
import { currentMailClientSettings, formatMailClientSettings } from "./account_settings.ts";
import { effectiveAddressMode } from "./address_mode.ts";

const HELP = `Usage: bridge info EMAIL [options]

Shows what a mail client needs for the account: IMAP and SMTP host, port, security, user name
and the bridge password (not the account password).

Options:
  --json             print {"imap": {...}, "smtp": {...}} with host, port, security, username
                     and password
${COMMON_HELP}`;

interface InfoFlags extends CommonFlags {
  email: string;
  json: boolean;
  help: boolean;
}

function parseFlags(args: string[]): InfoFlags {
  const { values, positionals: given } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    json: { type: "boolean" },
  });
  const help = values.help ?? false;
  const [email] = help ? [""] : positionals(given, ["EMAIL"]);
  return { ...commonFlags(values), email, json: values.json ?? false, help };
}

async function showInfo(flags: InfoFlags): Promise<number> {
  const { config, dataDir } = await loadCommandConfig(flags);
  const vault = await openVault(dataDir, flags.keyStore);
  const account = requireAccount(vault, flags.email);
  const settings = await currentMailClientSettings(config, account, dataDir);
  if (flags.json) {
    console.log(JSON.stringify(settings));
  } else {
    const mode = effectiveAddressMode(config, account);
    console.log(
      `Account ${account.email} (${mode} address mode)\n\n` +
        formatMailClientSettings(settings) +
        (mode === "split"
          ? "\n\nSplit address mode: each address of the account is its own IMAP login (user " +
            "name: the address, same password) showing only that address's mail."
          : ""),
    );
  }
  return 0;
}

/** The `info` entry of the command table. */
export const infoCommand: Command = accountCommand({
  name: "info",
  summary: "show an account's IMAP/SMTP settings and bridge password",
  help: HELP,
  parse: parseFlags,
  body: showInfo,
});
