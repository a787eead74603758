/**
 * What the account commands (`login`, `logout`, `accounts`, `info`, `mode`, `reset-password`)
 * share: flag parsing, the configuration and data directory, the vault, the API client, the
 * trusted modulus keys, and turning failures into a message and an exit code.
 *
 * @module
 */
import type { ParseArgsConfig } from "node:util";
import { dirname, resolve } from "node:path";
import { type Command, parseCommandArgs, UsageError } from "./command.ts";

export { parseCommandArgs };
import { VERSION } from "./version.ts";
import { PromptCancelledError } from "./prompt.ts";
import { type Config, ConfigError, loadConfig, type LoadedConfig } from "../config/mod.ts";
import {
  KEY_STORE_CHOICES,
  type KeyStoreChoice,
  KeyStoreError,
  openKeyStore,
  Vault,
  type VaultAccount,
  VaultError,
} from "../vault/mod.ts";
import { ApiClient, ApiError, NetworkError, SignedOutError } from "../api/mod.ts";
import { PROTON_MODULUS_PUBKEY } from "../crypto/srp_constants.ts";
import { isLoopback } from "../tls/loopback.ts";

/** A command failed in a way the user can understand: print the message, exit with the code. */
export class CommandFailure extends Error {
  override name = "CommandFailure";
  /** The process exit code (default 1). */
  readonly exitCode: number;

  /** `message` is shown after `bridge <command>: `. */
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Flags every account command takes. */
export interface CommonFlags {
  /** `--config F`. */
  config?: string;
  /** `--data-dir D`. */
  dataDir?: string;
  /** `--key-store auto|keychain|file`. */
  keyStore: KeyStoreChoice;
  /** `--api-url URL` (login, logout). */
  apiUrl?: string;
}

/** The `parseArgs` options of {@link CommonFlags}. */
export const COMMON_OPTIONS = {
  config: { type: "string" },
  "data-dir": { type: "string" },
  "key-store": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Help text lines of {@link COMMON_OPTIONS}. */
export const COMMON_HELP =
  `  --data-dir D       the data directory (default: paths.data_dir from the config)
  --config F         the config file (default: BRIDGE_CONFIG, else the platform's)
  --key-store S      where the vault key is: auto (default), keychain or file
  -h, --help         show this help`;

/** Reads the {@link CommonFlags} out of parsed values (plus `api-url` when the command has it). */
export function commonFlags(values: Record<string, unknown>): CommonFlags {
  const keyStore = String(values["key-store"] ?? "auto");
  if (!(KEY_STORE_CHOICES as readonly string[]).includes(keyStore)) {
    throw new UsageError(`--key-store must be auto, keychain or file, got '${keyStore}'`);
  }
  for (const name of ["data-dir", "config", "api-url"]) {
    if (values[name] === "") throw new UsageError(`--${name} must not be empty`);
  }
  return {
    config: values.config as string | undefined,
    dataDir: values["data-dir"] as string | undefined,
    keyStore: keyStore as KeyStoreChoice,
    apiUrl: values["api-url"] as string | undefined,
  };
}

/** Exactly the positionals named in `names` (all required), else a {@link UsageError}. */
export function positionals(given: string[], names: string[]): string[] {
  if (given.length < names.length) throw new UsageError(`missing ${names[given.length]}`);
  if (given.length > names.length) {
    throw new UsageError(`unexpected argument '${given[names.length]}'`);
  }
  return given;
}

/** The effective configuration of a command and its data directory. */
export interface CommandConfig {
  config: Config;
  loaded: LoadedConfig;
  /** Absolute data directory. */
  dataDir: string;
}

/**
 * Loads the configuration with `--data-dir` and `--api-url` as flag overrides (so they beat
 * `BRIDGE_DATA_DIR`, `BRIDGE_API_URL` and the file).
 *
 * @throws {CommandFailure} when the configuration is invalid.
 */
export async function loadCommandConfig(flags: CommonFlags): Promise<CommandConfig> {
  const overrides: Record<string, Record<string, string>> = {};
  if (flags.dataDir !== undefined) overrides.paths = { data_dir: resolve(flags.dataDir) };
  if (flags.apiUrl !== undefined) overrides.api = { url: flags.apiUrl };
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({
      file: flags.config,
      version: VERSION,
      flags: overrides,
      flagNames: { "paths.data_dir": "--data-dir", "api.url": "--api-url" },
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandFailure(err.message);
    throw err;
  }
  return { config: loaded.config, loaded, dataDir: resolve(loaded.config.paths.data_dir) };
}

/**
 * Opens the vault of `dataDir` with the chosen key store.
 *
 * @throws {CommandFailure} when the key store is unusable or the vault is refused.
 */
export async function openVault(dataDir: string, keyStore: KeyStoreChoice): Promise<Vault> {
  try {
    return await Vault.open(dataDir, await openKeyStore(dataDir, { choice: keyStore }));
  } catch (err) {
    if (err instanceof KeyStoreError || err instanceof VaultError) {
      throw new CommandFailure(err.message);
    }
    throw err;
  }
}

/**
 * Writes the vault.
 *
 * @throws {CommandFailure} when it cannot be written (key store, refusal, file system).
 */
export async function saveVault(vault: Vault): Promise<void> {
  try {
    await vault.save();
  } catch (err) {
    if (err instanceof KeyStoreError || err instanceof VaultError) {
      throw new CommandFailure(err.message);
    }
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotFound) {
      throw new CommandFailure(`cannot write the vault ${vault.path}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * The account with this email.
 *
 * @throws {CommandFailure} when the vault has none.
 */
export function requireAccount(vault: Vault, email: string): VaultAccount {
  const account = vault.getAccount(email);
  if (account === undefined) {
    throw new CommandFailure(
      `no account ${email} in ${vault.path}; \`bridge accounts\` lists the accounts, ` +
        "`bridge login` adds one",
    );
  }
  return account;
}

/**
 * Why the session of `account` must not be sent to `apiUrl`, or `undefined` when it may: a
 * session's tokens go only to the server that issued them (the URL recorded at login), except
 * that any loopback URL may stand for another (the reference server's port changes between
 * runs, and loopback traffic does not leave the machine). Accounts signed in before the URL was
 * recorded go anywhere, as they did.
 */
export function sessionServerMismatch(account: VaultAccount, apiUrl: string): string | undefined {
  if (account.apiUrl === "") return undefined;
  const origin = (url: string) => {
    try {
      return new URL(url);
    } catch {
      return undefined;
    }
  };
  const issued = origin(account.apiUrl);
  const target = origin(apiUrl);
  if (issued && target) {
    if (issued.origin === target.origin) return undefined;
    if (isLoopback(issued.hostname) && isLoopback(target.hostname)) return undefined;
  }
  return `${account.email} was signed in at ${account.apiUrl}; its session is not sent to ` +
    `${apiUrl}. Use the API URL it was signed in at (api.url, --api-url), or, to move it to ` +
    `${apiUrl}, \`bridge logout ${account.email}\` and \`bridge login ${account.email}\` there ` +
    "(its mail is then synced again)";
}

/** An API client for the configured URL, app version and timeout. */
export function newApiClient(config: Config, maxRetries?: number): ApiClient {
  return new ApiClient({
    baseURL: config.api.url,
    appVersion: config.api.app_version,
    timeoutMs: config.api.timeout_seconds * 1000,
    maxRetries,
  });
}

const ARMORED_KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----";

/**
 * The keys trusted to sign the SRP modulus: Proton's (always), each of `api.trusted_modulus_keys`
 * (an armored key, or a file holding one; a relative path in the config file is relative to the
 * file's folder), and each `--trust-modulus-key` file.
 *
 * @throws {CommandFailure} when a file cannot be read or does not hold an armored public key.
 */
export async function trustedModulusKeys(
  loaded: LoadedConfig,
  keyFiles: readonly string[],
): Promise<string[]> {
  const keys = [PROTON_MODULUS_PUBKEY];
  const source = loaded.sources["api.trusted_modulus_keys"];
  const base = source?.kind === "file" ? dirname(resolve(source.file)) : Deno.cwd();
  for (const entry of loaded.config.api.trusted_modulus_keys) {
    if (entry.includes(ARMORED_KEY)) keys.push(entry);
    else keys.push(await readKeyFile(resolve(base, entry), "api.trusted_modulus_keys"));
  }
  for (const file of keyFiles) keys.push(await readKeyFile(resolve(file), "--trust-modulus-key"));
  return keys;
}

async function readKeyFile(file: string, from: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new CommandFailure(
      `cannot read the modulus key file ${file} (${from}): ${errorText(err)}`,
    );
  }
  if (!text.includes(ARMORED_KEY)) {
    throw new CommandFailure(
      `${file} (${from}) is not an armored OpenPGP public key (no "${ARMORED_KEY}" line)`,
    );
  }
  return text;
}

/**
 * Reads a password from a file: the whole file minus one trailing line ending.
 *
 * @throws {CommandFailure} when the file cannot be read or the password is empty.
 */
export async function readSecretFile(file: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new CommandFailure(`cannot read ${flag} ${file}: ${errorText(err)}`);
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new CommandFailure(`${flag} ${file} is empty`);
  return secret;
}

/** The message of anything thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs a command body and maps expected failures to a message on standard error and an exit code:
 * {@link CommandFailure} its code, Ctrl-C 130, API and network errors 1. Usage errors and bugs
 * propagate (to `main`).
 */
export async function guard(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CommandFailure) {
      console.error(`bridge ${command}: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof PromptCancelledError) {
      console.error(`bridge ${command}: cancelled`);
      return 130;
    }
    if (err instanceof NetworkError) {
      console.error(`bridge ${command}: cannot reach the API: ${err.message}`);
      return 1;
    }
    if (err instanceof ApiError) {
      console.error(`bridge ${command}: the API refused: ${err.describe()}`);
      return 1;
    }
    if (err instanceof SignedOutError) {
      console.error(`bridge ${command}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

/** What an account command supplies to {@link accountCommand}. */
export interface AccountCommandSpec<F extends { help: boolean }> {
  /** The word typed after `bridge`. */
  name: string;
  /** One line for `bridge --help`. */
  summary: string;
  /** The text `--help` prints. */
  help: string;
  /** Parses the arguments (usage errors throw {@link UsageError}). */
  parse(args: string[]): F;
  /** Does the work; failures are mapped by {@link guard}. */
  body(flags: F): Promise<number>;
}

/** Builds a command table entry: parse flags, print help on `--help`, else run the body guarded. */
export function accountCommand<F extends { help: boolean }>(
  spec: AccountCommandSpec<F>,
): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    async run(args: string[]): Promise<number> {
      const flags = spec.parse(args);
      if (flags.help) {
        console.log(spec.help);
        return 0;
      }
      return await guard(spec.name, () => spec.body(flags));
    },
  };
}
