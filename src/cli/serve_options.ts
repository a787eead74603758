/**
 * The flags of `bridge serve` and the configuration they override:
 *
 * ```sh
 * bridge serve [--config F] [--data-dir D] [--api-url URL] [--host H] [--imap-port N]
 *              [--smtp-port N] [--security starttls|ssl|none] [--log-level L] [--json]
 *              [--demo] [--demo-data DIR] [--allow-non-loopback] [--key-store S]
 * ```
 *
 * Flags beat `BRIDGE_*` environment variables, which beat the config file, which beats the
 * defaults (`src/config`). `--host` sets both `imap.host` and `smtp.host`, `--security` both
 * `imap.security` and `smtp.security`. A port of 0 means "any free port" (shown in the ready line
 * and by `bridge status`); it bypasses the config's 1–65535 range, which is for the file.
 * Listening on a non-loopback address without TLS is refused unless `--allow-non-loopback` (or
 * `server.allow_non_loopback = true`).
 *
 * @module
 */
import { resolve } from "node:path";
import { parseCommandArgs, UsageError } from "./command.ts";
import {
  ConfigError,
  type ConfigFlags,
  type Env,
  loadConfig,
  type LoadedConfig,
} from "../config/mod.ts";
import { KEY_STORE_CHOICES, type KeyStoreChoice } from "../vault/mod.ts";
import { VERSION } from "./version.ts";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./serve_output.ts";

/** Parsed flags of `bridge serve`. */
export interface ServeFlags {
  config?: string;
  dataDir?: string;
  keyStore: KeyStoreChoice;
  apiUrl?: string;
  host?: string;
  /** `--imap-port` as typed (0 allowed). */
  imapPort?: number;
  smtpPort?: number;
  security?: "starttls" | "ssl" | "none";
  logLevel?: LogLevel;
  json: boolean;
  demo: boolean;
  demoData?: string;
  allowNonLoopback: boolean;
  help: boolean;
}

/** Help text of `bridge serve`. */
export const SERVE_HELP = `Usage: bridge serve [options]

Runs the IMAP and SMTP servers for every account in the vault, syncs them and keeps them up to
date, until interrupted (Ctrl-C, SIGTERM). SIGHUP reloads the config file (log level, poll
interval) and the vault's accounts.

Options:
  --host H               listen address of IMAP and SMTP (default 127.0.0.1)
  --imap-port N          IMAP port (default 1143; 0 picks a free port)
  --smtp-port N          SMTP port (default 1025; 0 picks a free port)
  --security S           starttls (default), ssl (implicit TLS) or none, for both servers
  --allow-non-loopback   allow --security none on a non-loopback --host (passwords in clear!)
  --api-url URL          the API to talk to (default: api.url from the config)
  --log-level L          error, warn, info (default) or debug; logs go to standard error
  --json                 JSON lines on standard output: sync-progress, ready, error, ...
  --demo                 run against a built-in reference API server with a seeded demo
                         account (demo@bridge.test): no Proton account needed
  --demo-data DIR        keep the demo (server state and bridge data) in DIR between runs
                         (default: a temporary directory removed on exit)
  --data-dir D           the data directory (default: paths.data_dir from the config)
  --config F             the config file (default: BRIDGE_CONFIG, else the platform's)
  --key-store S          where the vault key is: auto (default), keychain or file
  -h, --help             show this help

With --json, once every account is synced and the listeners are up, one line
  {"event":"ready","imap":{"host","port","security"},"smtp":{...},"accounts":[{"email","password"}]}
is printed. \`bridge status\` asks a running serve how it is doing.

Exit code 0 after a clean stop; 1 when it cannot start (message on standard error); 2 bad
options.`;

function port(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,5}$/.test(raw.trim()) || Number(raw) > 65535) {
    throw new UsageError(`--${name} must be a port number from 0 to 65535, got '${raw}'`);
  }
  return Number(raw);
}

/**
 * Parses the flags of `bridge serve`.
 *
 * @throws {UsageError} for unknown or malformed flags.
 */
export function parseServeFlags(args: string[]): ServeFlags {
  const { values, positionals } = parseCommandArgs(args, {
    config: { type: "string" },
    "data-dir": { type: "string" },
    "key-store": { type: "string" },
    "api-url": { type: "string" },
    host: { type: "string" },
    "imap-port": { type: "string" },
    "smtp-port": { type: "string" },
    security: { type: "string" },
    "log-level": { type: "string" },
    json: { type: "boolean" },
    demo: { type: "boolean" },
    "demo-data": { type: "string" },
    "allow-non-loopback": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  for (const name of ["config", "data-dir", "api-url", "host", "demo-data"] as const) {
    if (values[name] !== undefined && values[name].trim() === "") {
      throw new UsageError(`--${name} must not be empty`);
    }
  }
  const keyStore = values["key-store"] ?? "auto";
  if (!(KEY_STORE_CHOICES as readonly string[]).includes(keyStore)) {
    throw new UsageError(`--key-store must be auto, keychain or file, got '${keyStore}'`);
  }
  const security = values.security;
  if (security !== undefined && !["starttls", "ssl", "none"].includes(security)) {
    throw new UsageError(`--security must be starttls, ssl or none, got '${security}'`);
  }
  const logLevel = values["log-level"];
  if (logLevel !== undefined && !isLogLevel(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got '${logLevel}'`);
  }
  const demo = values.demo ?? false;
  if (values["demo-data"] !== undefined && !demo) {
    throw new UsageError("--demo-data only goes with --demo");
  }
  if (demo && values["data-dir"] !== undefined) {
    throw new UsageError(
      "--demo uses its own data directory: give --demo-data DIR instead of " +
        "--data-dir",
    );
  }
  return {
    config: values.config,
    dataDir: values["data-dir"],
    keyStore: keyStore as KeyStoreChoice,
    apiUrl: values["api-url"],
    host: values.host?.trim(),
    imapPort: port(values["imap-port"], "imap-port"),
    smtpPort: port(values["smtp-port"], "smtp-port"),
    security: security as ServeFlags["security"],
    logLevel: logLevel as LogLevel | undefined,
    json: values.json ?? false,
    demo,
    demoData: values["demo-data"],
    allowNonLoopback: values["allow-non-loopback"] ?? false,
    help: values.help ?? false,
  };
}

/** The effective configuration of a serve run. */
export interface ServeConfig {
  loaded: LoadedConfig;
  /** Absolute data directory. */
  dataDir: string;
  /** Ports to listen on: the config's, or 0 given on the command line. */
  imapPort: number;
  smtpPort: number;
}

/** What {@link loadServeConfig} may override besides the flags (demo mode). */
export interface ServeOverrides {
  dataDir?: string;
  apiUrl?: string;
}

/**
 * Loads the configuration with the serve flags as the top layer.
 *
 * @throws {ConfigError} when anything is invalid (the message names file, line, variable or flag).
 */
export async function loadServeConfig(
  flags: ServeFlags,
  overrides: ServeOverrides = {},
  env?: Env,
): Promise<ServeConfig> {
  const cfg: ConfigFlags = {};
  const names: Record<string, string> = {};
  const dataDir = overrides.dataDir ?? flags.dataDir;
  if (dataDir !== undefined) {
    cfg.paths = { data_dir: resolve(dataDir) };
    names["paths.data_dir"] = overrides.dataDir !== undefined ? "--demo-data" : "--data-dir";
  }
  const apiUrl = overrides.apiUrl ?? flags.apiUrl;
  if (apiUrl !== undefined) {
    cfg.api = { url: apiUrl };
    names["api.url"] = overrides.apiUrl !== undefined ? "--demo" : "--api-url";
  }
  for (const server of ["imap", "smtp"] as const) {
    const section: Record<string, string | number> = {};
    if (flags.host !== undefined) {
      section.host = flags.host;
      names[`${server}.host`] = "--host";
    }
    const p = server === "imap" ? flags.imapPort : flags.smtpPort;
    if (p !== undefined && p !== 0) {
      section.port = p;
      names[`${server}.port`] = `--${server}-port`;
    }
    if (flags.security !== undefined) {
      section.security = flags.security;
      names[`${server}.security`] = "--security";
    }
    if (Object.keys(section).length > 0) cfg[server] = section;
  }
  if (flags.logLevel !== undefined) {
    cfg.log = { level: flags.logLevel };
    names["log.level"] = "--log-level";
  }
  if (flags.allowNonLoopback) {
    cfg.server = { allow_non_loopback: true };
    names["server.allow_non_loopback"] = "--allow-non-loopback";
  }
  const loaded = await loadConfig({
    file: flags.config,
    env,
    version: VERSION,
    flags: cfg,
    flagNames: names,
  });
  return {
    loaded,
    dataDir: resolve(loaded.config.paths.data_dir),
    imapPort: flags.imapPort === 0 ? 0 : loaded.config.imap.port,
    smtpPort: flags.smtpPort === 0 ? 0 : loaded.config.smtp.port,
  };
}

export { ConfigError };
