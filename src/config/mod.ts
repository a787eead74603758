/**
 * The TOML config file: schema, defaults, loading with precedence (flags > `BRIDGE_*`
 * environment > file > defaults) and located errors, platform paths, and the commented default
 * file. The keys are documented in docs/CONFIG.md.
 *
 * ```ts
 * import { loadConfig } from "./src/config/mod.ts";
 * const { config } = await loadConfig({ file: flags.config, flags: { imap: { port: flags.imapPort } } });
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
