/**
 * `bridge login`: signs in to an account and adds it to the vault, then prints the IMAP/SMTP
 * settings a mail client needs.
 *
 * ```sh
 * bridge login [EMAIL] [--api-url URL] [--password-file F] [--mailbox-password-file F]
 *              [--totp CODE] [--trust-modulus-key FILE]… [--data-dir D] [--config F]
 *              [--key-store auto|keychain|file] [--json]
 * ```
 *
 * The sequence follows the official Bridge (proton-api.md §1.2): SRP login, refusing a modulus not
 * signed by a trusted key (Proton's, `api.trusted_modulus_keys`, `--trust-modulus-key`) → on a
 * human-verification request (Code 9001) the verification URL is shown and the login repeated with
 * its token once the user pressed Enter → the TOTP code when `2FA.Enabled & 1` → the mailbox
 * password in two-password mode → key unlock → the vault stores the auth UID, refresh token,
 * salted key password, user ID, user name and primary address, with a new bridge password and
 * cache secret. The account password and the mailbox password are never stored.
 *
 * An account already in the vault with a session is refused; when that is only found out after
 * signing in, the new session is deleted (`DELETE /auth/v4`), as the official Bridge does. Any
 * failure after the session was created deletes it too. An account whose session the server
 * revoked (serve cleared it from the vault) is signed in again in place: its bridge password,
 * cache and synced mail stay, and a running serve picks the new session up at once.
 *
 * Answers come from the flags, else from the terminal (passwords without echo), else one line
 * each from standard input in the order asked: email, password, Enter after human verification,
 * TOTP code, mailbox password. Standard input at its end means nobody can answer: exit code 1.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { tellRunningServe } from "./serve_notice.ts";
import {
  accountCommand,
  CommandFailure,
  COMMON_HELP,
  COMMON_OPTIONS,
  type CommonFlags,
  commonFlags,
  errorText,
  loadCommandConfig,
  newApiClient,
  openVault,
  parseCommandArgs,
  readSecretFile,
  saveVault,
  trustedModulusKeys,
} from "./_account_common.ts";
import { Prompter } from "./prompt.ts";
import { currentMailClientSettings, formatMailClientSettings } from "./account_settings.ts";
import { accountSettings } from "../config/mod.ts";
import type { VaultAccount } from "../vault/mod.ts";
import {
  type ApiClient,
  ApiError,
  ErrorCode,
  HumanVerificationRequiredError,
  login,
  type LoginResult,
  LoginSecurityError,
  logout,
  PasswordMode,
  submitTotp,
  unlock,
  type UnlockedAccount,
} from "../api/mod.ts";
import { CryptoError } from "../crypto/errors.ts";
import { UsageError } from "./command.ts";

const HELP = `Usage: bridge login [EMAIL] [options]

Signs in to an account, adds it to the vault and prints the IMAP/SMTP settings for your mail
client. Asks for what it needs (password, two-factor code, mailbox password) unless given below;
passwords typed at a terminal are not shown. Only the session tokens and the salted key password
are stored, never your password.

Options:
  --api-url URL              the API to sign in to (default: api.url from the config)
  --password-file F          read the password from F (its first line ending is removed)
  --mailbox-password-file F  read the mailbox password (two-password mode) from F
  --totp CODE                the two-factor code, when the account needs one
  --trust-modulus-key F      also trust the OpenPGP key in F to sign the server's SRP modulus
                             (repeatable; e.g. the key of \`bridge api-server\`)
  --json                     print the settings as JSON, as \`bridge info --json\` does
${COMMON_HELP}

Exit code 0: signed in; 1: refused or failed (message on standard error); 2: bad options.`;

/** How many times a wrong code or mailbox password may be retyped at a terminal. */
const ATTEMPTS = 3;

const WRONG_MAILBOX_PASSWORD = "wrong mailbox password";

interface LoginFlags extends CommonFlags {
  email?: string;
  passwordFile?: string;
  mailboxPasswordFile?: string;
  totp?: string;
  trustKeys: string[];
  json: boolean;
  help: boolean;
}

function parseFlags(args: string[]): LoginFlags {
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    "api-url": { type: "string" },
    "password-file": { type: "string" },
    "mailbox-password-file": { type: "string" },
    totp: { type: "string" },
    "trust-modulus-key": { type: "string", multiple: true },
    json: { type: "boolean" },
  });
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const email = positionals[0];
  if (email !== undefined && email.trim() === "") throw new UsageError("EMAIL must not be empty");
  for (const name of ["password-file", "mailbox-password-file", "totp"] as const) {
    if (values[name] === "") throw new UsageError(`--${name} must not be empty`);
  }
  return {
    ...commonFlags(values),
    email: email?.trim(),
    passwordFile: values["password-file"],
    mailboxPasswordFile: values["mailbox-password-file"],
    totp: values.totp?.trim(),
    trustKeys: values["trust-modulus-key"] ?? [],
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

async function signInAndStore(flags: LoginFlags, prompt: Prompter): Promise<number> {
  const { config, loaded, dataDir } = await loadCommandConfig(flags);
  const trusted = await trustedModulusKeys(loaded, flags.trustKeys);
  // Fail on an unusable vault before asking for anything.
  const early = await openVault(dataDir, flags.keyStore);
  const mailboxFromFile = flags.mailboxPasswordFile === undefined
    ? undefined
    : await readSecretFile(flags.mailboxPasswordFile, "--mailbox-password-file");

  const email = flags.email ?? await prompt.line("Email: ");
  if (email === undefined || email === "") {
    throw new CommandFailure("no email given: pass it as `bridge login EMAIL`");
  }
  if (hasSession(early.getAccount(email))) throw alreadyLoggedIn(email);

  const password = flags.passwordFile !== undefined
    ? await readSecretFile(flags.passwordFile, "--password-file")
    : await prompt.secret("Password: ");
  if (password === undefined || password === "") {
    throw new CommandFailure(
      "no password given: type it at a terminal, or pass --password-file F",
    );
  }

  const client = newApiClient(config);
  const result = await signIn(client, email, password, trusted, prompt);
  let stored = false;
  try {
    const known = early.accountByUserId(result.auth.UserID);
    if (known !== undefined && hasSession(known)) throw alreadyLoggedIn(known.email);
    if (result.twoFactorRequired) {
      await secondFactor(client, flags.totp, prompt);
    } else if (result.fido2Enabled) {
      throw new CommandFailure(
        "this account's only second factor is a security key (FIDO2), which bridge cannot " +
          "use; enable an authenticator app (TOTP) for the account",
      );
    }
    const unlocked = result.passwordMode === PasswordMode.Two
      ? await unlockTwoPassword(client, mailboxFromFile, prompt)
      : await unlockWith(client, password, "the password does not unlock the account's keys");
    for (const address of unlocked.addresses) {
      const err = unlocked.addressKeyErrors.get(address.ID);
      if (err) {
        console.error(
          `bridge login: warning: the keys of ${address.Email} could not be unlocked ` +
            `(${err.message}); its mail cannot be read`,
        );
      }
    }

    const primary = unlocked.addresses[0]?.Email || unlocked.user.Email || email;
    // Open the vault again: another command may have changed it while we were signing in.
    const vault = await openVault(dataDir, flags.keyStore);
    const present = vault.accountByUserId(result.auth.UserID) ?? vault.getAccount(primary);
    if (present !== undefined && hasSession(present)) throw alreadyLoggedIn(present.email);
    // An account whose session the server revoked is signed in again in place: its bridge
    // password, cache and synced mail stay.
    const account = vault.putAccount({
      email: present?.email ?? primary,
      userId: result.auth.UserID,
      username: unlocked.user.Name ?? "",
      authUid: client.uid,
      refreshToken: client.refreshToken,
      keyPassword: unlocked.keyPassword,
      addressMode: accountSettings(config, primary).address_mode,
      apiUrl: config.api.url,
    });
    await saveVault(vault);
    stored = true;
    const keyStore = vault.keyStore.describe();
    if (!early.exists && keyStore.fallbackReason) {
      // A new vault whose key went to a file for want of a keychain: say so once, where it is
      // decided (`--key-store file` is a choice and needs no warning).
      console.error(`bridge login: warning: ${keyStore.warning} (${keyStore.location})`);
    }
    const serving = (await tellRunningServe(dataDir)).text;

    // Where a running serve listens (it may use other ports than the configured ones).
    const settings = await currentMailClientSettings(config, account, dataDir);
    if (flags.json) {
      console.log(JSON.stringify(settings));
      if (serving) console.error(serving);
    } else {
      console.log(
        `Signed in as ${account.email}; the account is in the vault (${vault.path}).\n\n` +
          "Configure your mail client with these settings (`bridge info` shows them again):\n\n" +
          formatMailClientSettings(settings) + "\n\n" +
          (serving ?? "Start `bridge serve` to use the account."),
      );
    }
    return 0;
  } finally {
    if (!stored) await logout(client).catch(() => {});
  }
}

/** Whether a vault account holds a session (else it was signed out and may sign in again). */
function hasSession(account: VaultAccount | undefined): boolean {
  return account !== undefined && account.authUid !== "" && account.refreshToken !== "";
}

function alreadyLoggedIn(email: string): CommandFailure {
  return new CommandFailure(
    `${email} is already signed in; run \`bridge logout ${email}\` first to sign in again`,
  );
}

/** SRP login, answering human-verification requests; maps the usual refusals to messages. */
async function signIn(
  client: ApiClient,
  username: string,
  password: string,
  trustedModulusKeys: string[],
  prompt: Prompter,
): Promise<LoginResult> {
  let challenge: HumanVerificationRequiredError | undefined;
  for (let attempt = 0;; attempt++) {
    try {
      return await login(client, {
        username,
        password,
        trustedModulusKeys,
        hv: challenge?.verification,
        authInfo: challenge?.authInfo,
      });
    } catch (err) {
      if (err instanceof HumanVerificationRequiredError) {
        if (attempt >= ATTEMPTS) {
          throw new CommandFailure(
            `human verification was asked for ${attempt + 1} times; complete it at ` +
              `${err.verificationURL} before pressing Enter, then run \`bridge login\` again`,
          );
        }
        challenge = err;
        await waitForVerification(err.verificationURL, prompt);
        continue;
      }
      throw loginFailure(err, client.baseURL);
    }
  }
}

async function waitForVerification(url: string, prompt: Prompter): Promise<void> {
  prompt.say(
    "\nThe API asks for human verification before signing in. Open this address in a browser " +
      `and complete the check:\n\n  ${url}\n\n`,
  );
  const answered = await prompt.enter("Then press Enter to continue.\n");
  if (!answered) {
    throw new CommandFailure(
      `human verification required: open ${url} in a browser and complete the check. ` +
        "Nobody could press Enter here (standard input ended), so run `bridge login` from a " +
        "terminal, or with standard input left open, and press Enter once the check is done",
    );
  }
}

function loginFailure(err: unknown, apiUrl: string): unknown {
  if (err instanceof LoginSecurityError) {
    if (err.reason === "modulus") {
      return new CommandFailure(
        `${err.message}. If ${apiUrl} is a server of your own (such as \`bridge api-server\`), ` +
          "trust its modulus key with --trust-modulus-key FILE or api.trusted_modulus_keys in " +
          "the config file",
      );
    }
    return new CommandFailure(`${err.message}; the server at ${apiUrl} is not trustworthy`);
  }
  if (err instanceof ApiError) {
    if (err.code === ErrorCode.PasswordWrong) {
      return new CommandFailure("wrong email or password");
    }
    if (err.code === ErrorCode.AppVersionMissing || err.code === ErrorCode.AppVersionBad) {
      return new CommandFailure(
        `the API refused this client version (${err.message}); set api.app_version in the ` +
          "config file",
      );
    }
    if (err.code === ErrorCode.HumanValidationInvalidToken) {
      return new CommandFailure(
        "the human verification was not accepted; complete the check before pressing Enter " +
          "and try again",
      );
    }
  }
  return err;
}

async function secondFactor(
  client: ApiClient,
  flagCode: string | undefined,
  prompt: Prompter,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    const code = flagCode ?? await prompt.line("Two-factor code: ");
    if (code === undefined || code === "") {
      throw new CommandFailure(
        "this account needs a two-factor code: type it at a terminal, or pass --totp CODE",
      );
    }
    try {
      await submitTotp(client, code);
      return;
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== ErrorCode.PasswordWrong) throw err;
      if (flagCode !== undefined || !prompt.interactive || attempt >= ATTEMPTS) {
        throw new CommandFailure("wrong two-factor code");
      }
      prompt.say("Wrong code, try again.\n");
    }
  }
}

async function unlockTwoPassword(
  client: ApiClient,
  fromFile: string | undefined,
  prompt: Prompter,
): Promise<UnlockedAccount> {
  for (let attempt = 1;; attempt++) {
    const mailboxPassword = fromFile ?? await prompt.secret("Mailbox password: ");
    if (mailboxPassword === undefined || mailboxPassword === "") {
      throw new CommandFailure(
        "this account needs its mailbox password (two-password mode): type it at a terminal, " +
          "or pass --mailbox-password-file F",
      );
    }
    try {
      return await unlockWith(client, mailboxPassword, WRONG_MAILBOX_PASSWORD);
    } catch (err) {
      const retry = fromFile === undefined && prompt.interactive && attempt < ATTEMPTS;
      const wrong = err instanceof CommandFailure && err.message === WRONG_MAILBOX_PASSWORD;
      if (!wrong || !retry) throw err;
      prompt.say("Wrong mailbox password, try again.\n");
    }
  }
}

/** Unlocks the keys; a wrong passphrase becomes a {@link CommandFailure} with `wrongText`. */
async function unlockWith(
  client: ApiClient,
  mailboxPassword: string,
  wrongText: string,
): Promise<UnlockedAccount> {
  try {
    return await unlock(client, mailboxPassword);
  } catch (err) {
    if (err instanceof CryptoError) {
      if (err.kind === "wrong-passphrase") throw new CommandFailure(wrongText);
      throw new CommandFailure(`cannot unlock the account's keys: ${errorText(err)}`);
    }
    throw err;
  }
}

/** The `login` entry of the command table. */
export const loginCommand: Command = accountCommand({
  name: "login",
  summary: "sign in to an account, add it to the vault and show its IMAP/SMTP settings",
  help: HELP,
  parse: parseFlags,
  body: (flags) => signInAndStore(flags, new Prompter()),
});
