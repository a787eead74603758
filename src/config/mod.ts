/**
 * The TOML config file: schema, defaults, loading with precedence (flags > `BRIDGE_*`
 * environment > file > defaults) and located errors, platform paths, and the commented default
 * file. The keys are documented in docs/CONFIG.md.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./mod.ts";
 * const { config } = await loadConfig({
 *   env: { HOME: "/nonexistent" },
 *   os: "linux",
 *   flags: { imap: { port: "1993" } }, // e.g. the text of --imap-port
 *   flagNames: { "imap.port": "--imap-port" },
 * });
 * assert.equal(config.imap.port, 1993);
 * ```
 *
 * @module
 */
export {
  ConfigError,
  configFilePath,
  type ConfigFlags,
  configFromText,
  type ConfigProblem,
  describeSource,
  displayKey,
  type FileNamedBy,
  loadConfig,
  type LoadedConfig,
  type LoadOptions,
  type Source,
} from "./load.ts";
export {
  type AccountSettings,
  accountSettings,
  type Config,
  defaultAccountSettings,
  defaultConfig,
  PROGRAM_VERSION,
  SCHEMA,
  type SectionName,
  sections,
  type Value,
} from "./schema.ts";
export { tomlValue } from "./_text.ts";
export { defaultConfigText } from "./init.ts";
export {
  defaultCacheDir,
  defaultConfigFile,
  defaultDataDir,
  type Env,
  type Os,
  resolvePath,
} from "./paths.ts";
