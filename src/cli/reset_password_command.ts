/**
 * `bridge reset-password EMAIL`: gives the account a new bridge password (the one mail clients log
 * in with; the account password does not change) and prints it.
 *
 * ```sh
 * bridge reset-password EMAIL [--json] [--data-dir D] [--config F] [--key-store auto|keychain|file]
 * ```
 *
 * `--json` prints `{"email": …, "password": …}`. A `bridge serve` running on the data directory is
 * told at once (`serve_notice.ts`): the old bridge password stops working there and then.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { tellRunningServe } from "./serve_notice.ts";
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

const HELP = `Usage: bridge reset-password EMAIL [options]

Generates a new bridge password for the account (the password mail clients use; your account
password is not changed) and prints it. A running \`bridge serve\` takes it at once: the old
password stops working. Update it in your mail clients.

Options:
  --json             print {"email": ..., "password": ...}
${COMMON_HELP}`;

interface ResetFlags extends CommonFlags {
  email: string;
  json: boolean;
  help: boolean;
}

function parseFlags(args: string[]): ResetFlags {
  const { values, positionals: given } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    json: { type: "boolean" },
  });
  const help = values.help ?? false;
  const [email] = help ? [""] : positionals(given, ["EMAIL"]);
  return { ...commonFlags(values), email, json: values.json ?? false, help };
}

async function resetPassword(flags: ResetFlags): Promise<number> {
  const { dataDir } = await loadCommandConfig(flags);
  const vault = await openVault(dataDir, flags.keyStore);
  const account = requireAccount(vault, flags.email);
  const password = vault.resetBridgePassword(account.email);
  await saveVault(vault);
  const serving = (await tellRunningServe(dataDir)).text;
  if (flags.json) {
    console.log(JSON.stringify({ email: account.email, password }));
    if (serving) console.error(serving);
  } else {
    console.log(
      `New bridge password for ${account.email}: ${password}\n` +
        "Update it in your mail clients." + (serving ? ` ${serving}` : ""),
    );
  }
  return 0;
}

/** The `reset-password` entry of the command table. */
export const resetPasswordCommand: Command = accountCommand({
  name: "reset-password",
  summary: "give an account a new bridge password and print it",
  help: HELP,
  parse: parseFlags,
  body: resetPassword,
});
