/**
 * `bridge vault status`: where the vault is, which store holds its key, whether it opens, and how
 * many accounts it holds.
 *
 * ```sh
 * bridge vault status [--data-dir D] [--config F] [--key-store auto|keychain|file] [--json]
 * ```
 *
 * Exit code 0 when the vault is readable (or does not exist yet), 1 when it is refused (foreign,
 * damaged, newer, key missing) or the key store is unusable.
 *
 * @module
 */
import { resolve } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandArgs, UsageError } from "./command.ts";
import { VERSION } from "./version.ts";
import { ConfigError, loadConfig } from "../config/mod.ts";
import {
  KEY_STORE_CHOICES,
  type KeyStore,
  type KeyStoreChoice,
  type KeyStoreDescription,
  KeyStoreError,
  openKeyStore,
  Vault,
  vaultPath,
  type VaultRefusal,
  VaultRefusedError,
} from "../vault/mod.ts";

const HELP = `Usage: bridge vault status [options]

Shows where the vault (accounts, session tokens, bridge passwords) is, which key store holds its
key (the OS keychain, or the file vault.key), and whether it can be opened.

Options:
  --data-dir D       the data directory (default: paths.data_dir from the config)
  --config F         the config file to read paths.data_dir from
  --key-store S      auto (default), keychain or file
  --json             print one JSON object
  -h, --help         show this help

Exit code 0: the vault is readable or not created yet; 1: it is refused or its key is unavailable.`;

/** What `bridge vault status --json` prints. */
export interface VaultStatus {
  /** `ok`: opened; `absent`: no vault yet; `refused`: exists but cannot be opened. */
  state: "ok" | "absent" | "refused";
  data_dir: string;
  vault: string;
  /** The key store, or `null` when it could not be opened (see `message`). */
  key_store: KeyStoreDescription | null;
  accounts: number;
  /** Why the vault was refused (with `state: "refused"`); `key-store` when the store failed. */
  reason?: VaultRefusal | "key-store";
  /** The full explanation of a refusal. */
  message?: string;
}

interface Flags {
  dataDir?: string;
  config?: string;
  keyStore: KeyStoreChoice;
  json: boolean;
  help: boolean;
}

function parseFlags(args: string[]): Flags {
  const parsed = parseCommandArgs(args, {
    "data-dir": { type: "string" },
    config: { type: "string" },
    "key-store": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  const { values, positionals } = parsed;
  const help = values.help ?? false;
  if (!help) {
    const [sub, ...extra] = positionals;
    if (sub === undefined) throw new UsageError("missing subcommand: status");
    if (sub !== "status") throw new UsageError(`unknown subcommand '${sub}': use status`);
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  }
  const keyStore = values["key-store"] ?? "auto";
  if (!(KEY_STORE_CHOICES as readonly string[]).includes(keyStore)) {
    throw new UsageError(`--key-store must be auto, keychain or file, got '${keyStore}'`);
  }
  if (values["data-dir"] === "") throw new UsageError("--data-dir must not be empty");
  return {
    dataDir: values["data-dir"],
    config: values.config,
    keyStore: keyStore as KeyStoreChoice,
    json: values.json ?? false,
    help,
  };
}

/**
 * The data directory a command works on: `--data-dir` when given, else `paths.data_dir` of the
 * effective configuration (`BRIDGE_DATA_DIR`, the config file, or the platform default).
 *
 * @throws {ConfigError} when the configuration is invalid.
 */
export async function resolveDataDir(dataDir?: string, configFile?: string): Promise<string> {
  if (dataDir !== undefined) return resolve(dataDir);
  const { config } = await loadConfig({ file: configFile, version: VERSION });
  return resolve(config.paths.data_dir);
}

/** Opens the key store and the vault of `dataDir` and reports what happened; never throws on refusal. */
export async function vaultStatus(dataDir: string, keyStore: KeyStoreChoice): Promise<VaultStatus> {
  const base = { data_dir: dataDir, vault: vaultPath(dataDir), accounts: 0 };
  let store: KeyStore;
  try {
    store = await openKeyStore(dataDir, { choice: keyStore });
  } catch (err) {
    if (!(err instanceof KeyStoreError)) throw err;
    return {
      state: "refused",
      ...base,
      key_store: null,
      reason: "key-store",
      message: err.message,
    };
  }
  try {
    const vault = await Vault.open(dataDir, store);
    return {
      state: vault.exists ? "ok" : "absent",
      ...base,
      key_store: store.describe(),
      accounts: vault.accounts().length,
    };
  } catch (err) {
    if (!(err instanceof VaultRefusedError)) throw err;
    return {
      state: "refused",
      ...base,
      key_store: store.describe(),
      reason: err.reason,
      message: err.message,
    };
  }
}

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args);
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  let dataDir: string;
  try {
    dataDir = await resolveDataDir(flags.dataDir, flags.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`bridge vault status: ${err.message}`);
    return 1;
  }
  const status = await vaultStatus(dataDir, flags.keyStore);
  if (flags.json) {
    console.log(JSON.stringify(status, null, 2));
  } else {
    console.log(humanStatus(status));
  }
  return status.state === "refused" ? 1 : 0;
}

function humanStatus(s: VaultStatus): string {
  const state = {
    ok: `readable, ${s.accounts} account${s.accounts === 1 ? "" : "s"}`,
    absent: "not created yet; `bridge login` creates it",
    refused: "REFUSED",
  }[s.state];
  const lines = [`Vault:     ${s.vault} (${state})`];
  if (s.key_store) {
    const what = s.key_store.kind === "file" ? "key file" : `OS keychain (${s.key_store.backend})`;
    lines.push(`Key store: ${what}: ${s.key_store.location}`);
    if (s.key_store.warning) lines.push(`Warning:   ${s.key_store.warning}`);
  }
  if (s.message) lines.push("", s.message);
  return lines.join("\n");
}

/** The `vault` entry of the command table. */
export const vaultCommand: Command = {
  name: "vault",
  summary: "show where the vault and its key are and whether it opens (status)",
  run,
};
