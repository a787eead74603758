/**
 * `bridge config init|check`: writes the commented default config file, or validates the
 * effective configuration and shows where each value comes from.
 *
 * ```sh
 * bridge config init [--config F] [--force]
 * bridge config check [--config F] [--json]
 * ```
 *
 * @module
 */
import { dirname } from "node:path";
import type { Command } from "./command.ts";
import { parseCommandArgs, UsageError } from "./command.ts";
import { VERSION } from "./version.ts";
import { CommandFailure, trustedModulusKeys } from "./_account_common.ts";
import {
  type Config,
  ConfigError,
  configFilePath,
  defaultConfigText,
  displayKey,
  loadConfig,
  type LoadedConfig,
  sections,
  type Source,
  tomlValue,
  type Value,
} from "../config/mod.ts";

const HELP = `Usage: bridge config <init|check> [options]

Commands:
  init    write a commented config file listing every key with its default
  check   validate the configuration; print every effective value and where it came from

Options:
  --config F   the config file (default: $BRIDGE_CONFIG, else the platform's config file)
  --force      init: overwrite an existing file
  --json       check: print one JSON object instead of text
  -h, --help   show this help

check exits 0 when the configuration is valid, 1 when it is not. The keys, their defaults and the
precedence rules (flags > BRIDGE_* environment > file > defaults) are in docs/CONFIG.md.`;

interface ConfigFlags {
  sub: "init" | "check" | undefined;
  config?: string;
  force: boolean;
  json: boolean;
  help: boolean;
}

function parseConfigFlags(args: string[]): ConfigFlags {
  const parsed = parseCommandArgs(args, {
    config: { type: "string" },
    force: { type: "boolean" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  const { values, positionals } = parsed;
  const help = values.help ?? false;
  const [sub, ...extra] = positionals;
  if (!help) {
    if (sub === undefined) throw new UsageError("missing subcommand: init or check");
    if (sub !== "init" && sub !== "check") {
      throw new UsageError(`unknown subcommand '${sub}': use init or check`);
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (sub === "init" && values.json) throw new UsageError("--json applies to check only");
    if (sub === "check" && values.force) throw new UsageError("--force applies to init only");
  }
  return {
    sub: sub as ConfigFlags["sub"],
    config: values.config,
    force: values.force ?? false,
    json: values.json ?? false,
    help,
  };
}

async function runConfig(args: string[]): Promise<number> {
  const flags = parseConfigFlags(args);
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  return flags.sub === "init" ? await init(flags) : await check(flags);
}

async function init(flags: ConfigFlags): Promise<number> {
  const env = Deno.env.toObject();
  let file: string;
  try {
    file = configFilePath(flags.config, env, Deno.build.os).file;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`bridge config init: ${err.message}`);
    return 1;
  }
  const text = defaultConfigText({ os: Deno.build.os, env, version: VERSION });
  try {
    await Deno.mkdir(dirname(file), { recursive: true });
    await Deno.writeTextFile(file, text, { createNew: !flags.force });
  } catch (err) {
    const why = err instanceof Deno.errors.AlreadyExists
      ? `${file} already exists; use --force to overwrite it`
      : `cannot write ${file}: ${(err as Error).message}`;
    console.error(`bridge config init: ${why}`);
    return 1;
  }
  console.log(`Wrote the default configuration to ${file}`);
  return 0;
}

async function check(flags: ConfigFlags): Promise<number> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({ file: flags.config, version: VERSION });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (flags.json) {
      console.log(
        JSON.stringify({ valid: false, file: fileFor(flags), errors: err.problems }, null, 2),
      );
    } else {
      const file = fileFor(flags);
      console.error(
        `bridge config check: the configuration${file ? ` (${file})` : ""} is invalid:`,
      );
      for (const p of err.problems) {
        console.error(`  ${p.message}`);
        if (p.excerpt) console.error(p.excerpt.trimEnd().replace(/^/gm, "    "));
      }
    }
    return 1;
  }
  // Files the configuration names must be usable too: login would fail on them later.
  try {
    await trustedModulusKeys(loaded, []);
  } catch (err) {
    if (!(err instanceof CommandFailure)) throw err;
    const problem = { message: `api.trusted_modulus_keys: ${err.message}` };
    if (flags.json) {
      console.log(
        JSON.stringify({ valid: false, file: fileFor(flags), errors: [problem] }, null, 2),
      );
    } else {
      console.error(`bridge config check: the configuration is invalid:\n  ${problem.message}`);
    }
    return 1;
  }
  const entries = effectiveValues(loaded.config, loaded.sources);
  if (flags.json) {
    console.log(JSON.stringify(
      {
        valid: true,
        file: loaded.file,
        file_found: loaded.fileFound,
        file_named_by: loaded.fileNamedBy,
        values: Object.fromEntries(
          entries.map((
            e,
          ) => [e.name, { value: e.value, source: e.source.kind, ...details(e.source) }]),
        ),
      },
      null,
      2,
    ));
    return 0;
  }
  const via = { flag: "--config", env: "BRIDGE_CONFIG", default: "the platform default" }[
    loaded.fileNamedBy
  ];
  console.log(
    `Config file: ${loaded.file} (${via}${loaded.fileFound ? "" : "; not found, defaults apply"})`,
  );
  console.log("The configuration is valid. Effective values:");
  let table = "";
  const width = Math.max(...entries.map((e) => `${e.key} = ${tomlValue(e.value)}`.length));
  for (const e of entries) {
    if (e.table !== table) {
      table = e.table;
      console.log(`\n${table}`);
    }
    console.log(`${`${e.key} = ${tomlValue(e.value)}`.padEnd(width)}  # ${sourceLabel(e.source)}`);
  }
  return 0;
}

/** The config file `check` reads, for error reports (undefined when there is no home directory). */
function fileFor(flags: ConfigFlags): string | undefined {
  try {
    return configFilePath(flags.config, Deno.env.toObject(), Deno.build.os).file;
  } catch {
    return undefined;
  }
}

interface Entry {
  /** Dotted name, as in the sources map. */
  name: string;
  /** TOML table header the key belongs under. */
  table: string;
  key: string;
  value: Value;
  source: Source;
}

/** Every effective value in schema order, accounts last, with its source. */
function effectiveValues(config: Config, sources: Record<string, Source>): Entry[] {
  const out: Entry[] = [];
  const values = config as unknown as Record<string, Record<string, unknown>>;
  for (const [section, spec] of sections()) {
    const tables: [string | undefined, Record<string, unknown>][] = spec.keyed
      ? Object.entries(values[section]).map(([id, t]) => [id, t as Record<string, unknown>])
      : [[undefined, values[section]]];
    for (const [id, table] of tables) {
      for (const key of Object.keys(spec.keys)) {
        const name = displayKey(section, id, key);
        out.push({
          name,
          table: id === undefined ? `[${section}]` : `[${section}.${JSON.stringify(id)}]`,
          key,
          value: table[key] as Value,
          source: sources[name] ?? { kind: "default" },
        });
      }
    }
  }
  return out;
}

function sourceLabel(source: Source): string {
  switch (source.kind) {
    case "default":
      return "default";
    case "file":
      return source.line === undefined ? source.file : `${source.file}:${source.line}`;
    case "env":
      return `environment ${source.variable}`;
    case "flag":
      return source.flag ?? "flag";
  }
}

function details(source: Source): Record<string, unknown> {
  const { kind: _, ...rest } = source;
  return rest;
}

/** The `config` entry of the command table. */
export const configCommand: Command = {
  name: "config",
  summary: "write a commented default config file (init) or validate the configuration (check)",
  run: runConfig,
};
