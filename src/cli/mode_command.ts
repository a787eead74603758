/**
 * `bridge mode EMAIL combined|split`: how the account's addresses appear to mail clients.
 *
 * ```sh
 * bridge mode EMAIL combined|split [--data-dir D] [--config F] [--key-store auto|keychain|file]
 * ```
 *
 * Combined: one IMAP login shows the mail of every address; split: one login per address, each
 * showing only that address's mail. The vault records the choice; a running `bridge serve` is
 * told at once (`serve_notice.ts`) and applies it to the next logins. A `[accounts."<email>"]` table in the configuration file wins
 * over the vault (`address_mode.ts`); the command says so when it does.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { tellRunningServe } from "./serve_notice.ts";
import { UsageError } from "./command.ts";
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
  saveVault,
} from "./_account_common.ts";
import type { AddressMode } from "../vault/mod.ts";
import { configAccountKey } from "./address_mode.ts";

const HELP = `Usage: bridge mode EMAIL combined|split [options]

Sets the account's address mode: combined (one IMAP login for all its addresses) or split (one
IMAP login per address, each showing only that address's mail). A running \`bridge serve\` applies
it to the next logins at once. An address_mode set for the account in the configuration file wins
over this setting.

Options:
${COMMON_HELP}`;

interface ModeFlags extends CommonFlags {
  email: string;
  mode: AddressMode;
  help: boolean;
}

function parseFlags(args: string[]): ModeFlags {
  const { values, positionals: given } = parseCommandArgs(args, COMMON_OPTIONS);
  const help = values.help ?? false;
  const [email, mode] = help ? ["", "combined"] : positionals(given, ["EMAIL", "MODE"]);
  if (mode !== "combined" && mode !== "split") {
    throw new UsageError(`mode must be combined or split, got '${mode}'`);
  }
  return { ...commonFlags(values), email, mode, help };
}

async function setMode(flags: ModeFlags): Promise<number> {
  const { config, dataDir } = await loadCommandConfig(flags);
  const vault = await openVault(dataDir, flags.keyStore);
  const account = requireAccount(vault, flags.email);
  if (account.addressMode === flags.mode) {
    console.log(`${account.email} is already in ${flags.mode} address mode.`);
    return 0;
  }
  const key = configAccountKey(config, account.email);
  if (key !== undefined && config.accounts[key].address_mode !== flags.mode) {
    // The file wins: changing the vault would say "split" where "combined" is in force. Nothing
    // is changed.
    console.error(
      `bridge mode: the configuration file sets accounts."${key}".address_mode = ` +
        `"${config.accounts[key].address_mode}", which wins over the vault: ${account.email} ` +
        `stays in ${config.accounts[key].address_mode} mode; change it there. Nothing was changed.`,
    );
    return 1;
  }
  vault.setAddressMode(account.email, flags.mode);
  await saveVault(vault);
  const serving = (await tellRunningServe(dataDir)).text;
  console.log(
    `${account.email} is now in ${flags.mode} address mode (mailboxes, UIDs and UIDVALIDITY ` +
      "stay the same, so mail clients need no resync" +
      (flags.mode === "split"
        ? "; each address now logs in on its own with the same password)."
        : "; every address logs in to the whole account)."),
  );
  if (serving) console.log(serving);
  return 0;
}

/** The `mode` entry of the command table. */
export const modeCommand: Command = accountCommand({
  name: "mode",
  summary: "set an account's address mode (combined or split)",
  help: HELP,
  parse: parseFlags,
  body: setMode,
});
