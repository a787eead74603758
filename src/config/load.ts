/**
 * Loads the effective configuration: defaults, then the TOML file, then `BRIDGE_*` environment
 * variables, then command-line flags, each overriding the one before. Every value is checked
 * against the schema; every problem is reported (all of them, not just the first) in one
 * {@link ConfigError} whose messages name the file and line, the variable or the flag, and the key.
 * The result also says where each value came from, for `bridge config check`.
 *
 * @module
 */
import { isLoopback } from "../tls/loopback.ts";
import { parse, TomlError } from "smol-toml";
import { scanKeyLines } from "./key_lines.ts";
import {
  defaultConfigFile,
  type Env,
  type Os,
  PathError,
  pathFlavour,
  resolvePath,
} from "./paths.ts";
import {
  type Config,
  defaultConfig,
  type DefaultContext,
  describeType,
  envVarName,
  type KeySpec,
  type KeyValue,
  PROGRAM_VERSION,
  type Schema,
  type SectionName,
  sections,
  type SectionSpec,
  sectionSpec,
  type Value,
} from "./schema.ts";

/** Where an effective value came from. */
export type Source =
  | { kind: "default" }
  | { kind: "file"; file: string; line?: number }
  | { kind: "env"; variable: string }
  | { kind: "flag"; flag?: string };

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** The whole message, naming the key and where the value came from. */
  message: string;
  /** The key in dotted form (`imap.port`, `accounts."a@b.c".address_mode`), when there is one. */
  key?: string;
  file?: string;
  line?: number;
  column?: number;
  /** The environment variable the bad value came from. */
  variable?: string;
  /** The command-line flag the bad value came from. */
  flag?: string;
  /** For TOML syntax errors: the offending lines with a caret under the column. */
  excerpt?: string;
}

/** The configuration is invalid; {@link problems} lists every reason, the message all of them. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** Every problem found, in file order, then environment, then flags. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map((p) => p.message).join("\n"));
    this.problems = problems;
  }
}

/** Values a flag may give for one section: typed, or the text typed on the command line. */
type FlagValues<S extends SectionName> = {
  [K in keyof Schema[S]["keys"]]?: KeyValue<Schema[S]["keys"][K]> | string;
};

/** Command-line overrides, shaped like {@link Config}; string values are parsed per key type. */
export type ConfigFlags = {
  [S in SectionName]?: Schema[S] extends { keyed: string } ? Record<string, FlagValues<S>>
    : FlagValues<S>;
};

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** The config file given with `--config`; overrides `BRIDGE_CONFIG`. Missing is an error. */
  file?: string;
  /** Environment variables; defaults to the process environment. */
  env?: Env;
  /** Command-line overrides. */
  flags?: ConfigFlags;
  /** The flag that set each key (`{"imap.port": "--imap-port"}`), for error messages. */
  flagNames?: Readonly<Record<string, string>>;
  /** Operating system for default paths and the app version; defaults to this one. */
  os?: Os;
  /** Program version for the default `api.app_version`; defaults to deno.json's. */
  version?: string;
}

/** How the config file was chosen. */
export type FileNamedBy = "flag" | "env" | "default";

/** The effective configuration and where each value came from. */
export interface LoadedConfig {
  config: Config;
  /** Source of every key, by dotted name (`imap.port`, `accounts."a@b.c".address_mode`). */
  sources: Record<string, Source>;
  /** The config file that was read (or would have been, when `fileFound` is false). */
  file: string;
  /** Whether the file existed; a missing default file just means defaults. */
  fileFound: boolean;
  /** Whether the file came from `--config`, `BRIDGE_CONFIG` or the platform default. */
  fileNamedBy: FileNamedBy;
}

/**
 * Loads the configuration: flags over environment over file over defaults.
 *
 * @throws {ConfigError} when anything is invalid, or a file named by `--config`/`BRIDGE_CONFIG`
 * does not exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const env = { HOME: "/nonexistent", BRIDGE_IMAP_PORT: "1993" };
 * const { config, sources } = await loadConfig({ env, os: "linux" });
 * assert.equal(config.imap.port, 1993);
 * assert.deepEqual(sources["imap.port"], { kind: "env", variable: "BRIDGE_IMAP_PORT" });
 * ```
 */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? Deno.env.toObject();
  const os = options.os ?? Deno.build.os;
  const { file, namedBy: fileNamedBy } = configFilePath(options.file, env, os);
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound) || fileNamedBy !== "default") {
      const namer = fileNamedBy === "flag" ? "--config" : "BRIDGE_CONFIG";
      const message = err instanceof Deno.errors.NotFound
        ? `config file ${file} (named by ${namer}) does not exist`
        : `cannot read config file ${file}: ${(err as Error).message}`;
      throw new ConfigError([{ message, file }]);
    }
  }
  return configFromText(text, { ...options, env, os, file, fileNamedBy });
}

/**
 * Which config file to use: `--config` (`flag`), else `BRIDGE_CONFIG`, else the platform default.
 *
 * @throws {ConfigError} when the default is needed and there is no home directory.
 */
export function configFilePath(
  flag: string | undefined,
  env: Env,
  os: Os,
): { file: string; namedBy: FileNamedBy } {
  if (flag !== undefined) return { file: flag, namedBy: "flag" };
  if (env.BRIDGE_CONFIG) return { file: env.BRIDGE_CONFIG, namedBy: "env" };
  try {
    return { file: defaultConfigFile(os, env), namedBy: "default" };
  } catch (err) {
    if (err instanceof PathError) throw new ConfigError([{ message: err.message }]);
    throw err;
  }
}

/** Options of {@link configFromText}. */
export interface FromTextOptions extends Omit<LoadOptions, "file"> {
  /** The file name the text came from, used in messages and for relative paths. */
  file: string;
  fileNamedBy?: FileNamedBy;
}

/**
 * Builds the configuration from the text of a config file (`undefined`: no file) plus the
 * environment and flags in `options`; {@link loadConfig} without the file reading.
 *
 * @throws {ConfigError} when anything is invalid.
 */
export function configFromText(text: string | undefined, options: FromTextOptions): LoadedConfig {
  const env = options.env ?? Deno.env.toObject();
  const os = options.os ?? Deno.build.os;
  const ctx: DefaultContext = { os, env, version: options.version ?? PROGRAM_VERSION };
  const builder = new Builder(ctx, options.file);
  try {
    builder.start();
  } catch (err) {
    if (err instanceof PathError) throw new ConfigError([{ message: err.message }]);
    throw err;
  }
  if (text !== undefined) builder.applyFile(text);
  builder.applyEnv();
  builder.applyFlags(options.flags ?? {}, options.flagNames ?? {});
  builder.checkListeners();
  if (builder.problems.length > 0) throw new ConfigError(builder.problems);
  return {
    config: builder.config as unknown as Config,
    sources: builder.sources,
    file: options.file,
    fileFound: text !== undefined,
    fileNamedBy: options.fileNamedBy ?? "flag",
  };
}

/** How a source reads in messages: "at config.toml:4", "from BRIDGE_IMAP_PORT", "from --host". */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case "default":
      return "by default";
    case "file":
      return `at ${source.line === undefined ? source.file : `${source.file}:${source.line}`}`;
    case "env":
      return `from ${source.variable}`;
    case "flag":
      return source.flag === undefined ? "from the command line" : `from ${source.flag}`;
  }
}

/** Parses a duration: whole seconds (`"90"`), or units `h`, `m`, `s` (`"1h30m"`, `"45s"`). */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
  if (!m || t === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

type Parsed = { ok: true; value: Value } | { ok: false; why: string };
type Section = Record<string, Value>;

/** Accumulates values, sources and problems while the layers are applied in order. */
class Builder {
  readonly config: Record<string, Section | Record<string, Section>> = {};
  readonly sources: Record<string, Source> = {};
  readonly problems: ConfigProblem[] = [];

  constructor(readonly ctx: DefaultContext, readonly file: string) {}

  start(): void {
    Object.assign(this.config, defaultConfig(this.ctx));
    for (const [name, spec] of sections()) {
      if (spec.keyed) continue;
      for (const key of Object.keys(spec.keys)) {
        this.sources[`${name}.${key}`] = { kind: "default" };
      }
    }
  }

  /** Applies the config file's values. */
  applyFile(text: string): void {
    let doc: Record<string, unknown>;
    try {
      doc = parse(text, { integersAsBigInt: true, unsafeKeyBehaviour: "throw" });
    } catch (err) {
      if (!(err instanceof TomlError)) throw err;
      const what = err.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      this.problems.push({
        message: `invalid TOML at ${this.file}:${err.line}:${err.column}: ${what}`,
        file: this.file,
        line: err.line,
        column: err.column,
        excerpt: err.codeblock,
      });
      return;
    }
    const lines = scanKeyLines(text);
    const where = (path: string[]): Source => ({
      kind: "file",
      file: this.file,
      line: lines.lineOf(path),
    });
    for (const [name, value] of Object.entries(doc)) {
      const spec = sectionSpec(name);
      const src = where([name]);
      if (!spec) {
        const message = isTable(value)
          ? `unknown section [${name}] ${describeSource(src)}${suggest(name, sectionNames())}`
          : `unknown key '${name}' outside any section ${describeSource(src)}` +
            " (keys belong in a section such as [imap])";
        this.problem(message, src);
        continue;
      }
      if (!isTable(value)) {
        this.problem(
          `[${name}] ${describeSource(src)} must be a table, got ${tomlType(value)}`,
          src,
        );
        continue;
      }
      if (!spec.keyed) {
        this.applyTable(name, undefined, spec, value, where, "toml");
        continue;
      }
      for (const [id, sub] of Object.entries(value)) {
        const subSrc = where([name, id]);
        if (!isTable(sub)) {
          this.problem(
            `${name}.${JSON.stringify(id)} ${describeSource(subSrc)} must be a table, got ` +
              tomlType(sub),
            subSrc,
          );
        } else if (!this.checkId(name, id, spec, subSrc)) {
          this.applyTable(name, id, spec, sub, where, "toml");
        }
      }
    }
  }

  /** Applies `BRIDGE_<SECTION>_<KEY>` and `BRIDGE_DATA_DIR`. */
  applyEnv(): void {
    const env = this.ctx.env;
    const known = new Set(["BRIDGE_CONFIG", "BRIDGE_DATA_DIR"]);
    const alias = env.BRIDGE_DATA_DIR;
    const canonical = env[envVarName("paths", "data_dir")];
    if (alias && canonical && alias !== canonical) {
      this.problems.push({
        message: `BRIDGE_DATA_DIR and ${envVarName("paths", "data_dir")} are both set, ` +
          "to different directories; unset one",
        key: "paths.data_dir",
        variable: "BRIDGE_DATA_DIR",
      });
    }
    for (const [section, spec] of sections()) {
      if (spec.keyed) continue;
      for (const key of Object.keys(spec.keys)) {
        let variable = envVarName(section, key);
        known.add(variable);
        if (!env[variable] && section === "paths" && key === "data_dir" && alias) {
          variable = "BRIDGE_DATA_DIR";
        }
        const text = env[variable];
        // An empty variable counts as unset, as in most shells' `VAR= command` idiom.
        if (!text) continue;
        this.applyValue(section, undefined, key, text, { kind: "env", variable }, "text");
      }
    }
    const prefixes = sections().map(([s, spec]) => ({
      s,
      spec,
      prefix: `BRIDGE_${s.toUpperCase()}_`,
    }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
    for (const variable of Object.keys(env).sort()) {
      if (known.has(variable) || !variable.startsWith("BRIDGE_")) continue;
      const match = prefixes.find((p) => variable.startsWith(p.prefix));
      // Other BRIDGE_* names (not of a config section) belong to other parts of the program.
      if (!match) continue;
      const src: Source = { kind: "env", variable };
      if (match.spec.keyed) {
        this.problem(
          `${variable}: [${match.s}] settings cannot come from the environment; set them in the ` +
            "config file",
          src,
        );
        continue;
      }
      const key = variable.slice(match.prefix.length).toLowerCase();
      this.problem(
        `unknown key '${key}' in [${match.s}] ${describeSource(src)}` +
          suggest(key, Object.keys(match.spec.keys)),
        src,
      );
    }
  }

  /** Applies command-line overrides. */
  applyFlags(flags: ConfigFlags, flagNames: Readonly<Record<string, string>>): void {
    const where = (section: string, id: string | undefined, key?: string): Source => {
      const flag = key === undefined ? undefined : flagNames[displayKey(section, id, key)];
      return flag === undefined ? { kind: "flag" } : { kind: "flag", flag };
    };
    for (const [name, value] of Object.entries(flags as Record<string, unknown>)) {
      if (value === undefined) continue;
      const spec = sectionSpec(name);
      if (!spec) {
        this.problem(`unknown section [${name}] from the command line`, { kind: "flag" });
        continue;
      }
      if (!isTable(value)) throw new TypeError(`Flags for [${name}] must be an object`);
      if (!spec.keyed) {
        this.applyTable(
          name,
          undefined,
          spec,
          value,
          (path) => where(name, undefined, path[1]),
          "native",
        );
        continue;
      }
      for (const [id, sub] of Object.entries(value)) {
        if (!isTable(sub) || this.checkId(name, id, spec, { kind: "flag" })) continue;
        this.applyTable(name, id, spec, sub, (path) => where(name, id, path[2]), "native");
      }
    }
  }

  /** Refuses plaintext listeners on non-loopback addresses unless explicitly allowed. */
  checkListeners(): void {
    const server = this.config.server as Section;
    if (server.require_tls_login === true) {
      for (const name of ["imap", "smtp"]) {
        if ((this.config[name] as Section).security !== "none") continue;
        const src = this.sources[`${name}.security`];
        this.problem(
          `server.require_tls_login ${describeSource(this.sources["server.require_tls_login"])} ` +
            `is true and ${name}.security ${describeSource(src)} is 'none': no client could log ` +
            `in; set ${name}.security to starttls or ssl`,
          src,
          `${name}.security`,
        );
      }
    }
    if (server.allow_non_loopback === true) return;
    for (const name of ["imap", "smtp"]) {
      const section = this.config[name] as Section;
      const host = String(section.host);
      if (section.security !== "none" || isLoopback(host)) continue;
      const hostSrc = this.sources[`${name}.host`];
      const secSrc = this.sources[`${name}.security`];
      this.problem(
        `${name}.host ${describeSource(hostSrc)} is '${host}', not a loopback address, and ` +
          `${name}.security ${describeSource(secSrc)} is 'none': passwords would cross the ` +
          `network in clear; set ${name}.security to starttls or ssl, or set ` +
          "server.allow_non_loopback = true",
        hostSrc,
        `${name}.host`,
      );
    }
  }

  /** Reports an account name that is not an email address; returns whether it did. */
  private checkId(section: string, id: string, spec: SectionSpec, src: Source): boolean {
    if (spec.keyed !== "account email address" || /^[^@\s]+@[^@\s]+$/.test(id)) return false;
    this.problem(
      `[${section}.${JSON.stringify(id)}] ${describeSource(src)}: '${id}' is not an email address`,
      src,
    );
    return true;
  }

  private applyTable(
    section: string,
    id: string | undefined,
    spec: SectionSpec,
    table: Record<string, unknown>,
    where: (path: string[]) => Source,
    input: "toml" | "native",
  ): void {
    const base = id === undefined ? [section] : [section, id];
    if (id !== undefined) this.ensureEntry(section, id, spec);
    for (const [key, raw] of Object.entries(table)) {
      const src = where([...base, key]);
      if (!Object.hasOwn(spec.keys, key)) {
        const title = id === undefined ? section : `${section}.${JSON.stringify(id)}`;
        this.problem(
          `unknown key '${key}' in [${title}] ${describeSource(src)}` +
            suggest(key, Object.keys(spec.keys)),
          src,
        );
        continue;
      }
      if (raw === undefined) continue;
      this.applyValue(section, id, key, raw, src, input);
    }
  }

  /** Parses and checks one value from one layer and, if it is valid, makes it the effective one. */
  private applyValue(
    section: string,
    id: string | undefined,
    key: string,
    raw: unknown,
    src: Source,
    input: "toml" | "native" | "text",
  ): void {
    const spec = sectionSpec(section)!;
    const keySpec = spec.keys[key];
    const name = displayKey(section, id, key);
    const parsed = input === "text" || (input === "native" && typeof raw === "string")
      ? fromText(keySpec, String(raw))
      : fromToml(keySpec, input === "native" ? nativeToToml(raw) : raw);
    const why = parsed.ok ? checkValue(keySpec, parsed.value) : parsed.why;
    if (!parsed.ok || why !== undefined) {
      this.problem(`${name} ${describeSource(src)} ${why}`, src, name);
      return;
    }
    let value = parsed.value;
    if (keySpec.type === "path" && value !== "") {
      const dir = src.kind === "file" ? pathFlavour(this.ctx.os).dirname(src.file) : undefined;
      value = resolvePath(String(value), this.ctx.os, this.ctx.env, dir);
    }
    const target = id === undefined
      ? this.config[section] as Section
      : (this.config[section] as Record<string, Section>)[id] ??
        this.ensureEntry(section, id, spec);
    target[key] = value;
    this.sources[name] = src;
  }

  /** Creates the table of one account (all defaults) if it does not exist yet. */
  private ensureEntry(section: string, id: string, spec: SectionSpec): Section {
    const tables = this.config[section] as Record<string, Section>;
    if (Object.hasOwn(tables, id)) return tables[id];
    const entry: Section = {};
    for (const [key, keySpec] of Object.entries(spec.keys)) {
      entry[key] = keySpec.default as Value;
      this.sources[displayKey(section, id, key)] = { kind: "default" };
    }
    tables[id] = entry;
    return entry;
  }

  private problem(message: string, src: Source, key?: string): void {
    const p: ConfigProblem = { message };
    if (key !== undefined) p.key = key;
    if (src.kind === "file") {
      p.file = src.file;
      if (src.line !== undefined) p.line = src.line;
    } else if (src.kind === "env") {
      p.variable = src.variable;
    } else if (src.kind === "flag" && src.flag !== undefined) {
      p.flag = src.flag;
    }
    this.problems.push(p);
  }
}

/** The dotted name of a key: `imap.port`, or `accounts."a@b.c".address_mode` in keyed sections. */
export function displayKey(section: string, id: string | undefined, key: string): string {
  return id === undefined ? `${section}.${key}` : `${section}.${JSON.stringify(id)}.${key}`;
}

function sectionNames(): string[] {
  return sections().map(([name]) => name);
}

/** Converts a value as parsed TOML (integers as bigint) to the key's type. */
function fromToml(spec: KeySpec, raw: unknown): Parsed {
  const wrong = (): Parsed => ({
    ok: false,
    why: `must be ${describeType(spec)}, got ${tomlType(raw)}`,
  });
  switch (spec.type) {
    case "string":
    case "path":
    case "enum":
      return typeof raw === "string" ? { ok: true, value: raw } : wrong();
    case "int":
      return typeof raw === "bigint" ? bigintValue(raw) : wrong();
    case "bool":
      return typeof raw === "boolean" ? { ok: true, value: raw } : wrong();
    case "string[]":
      if (!Array.isArray(raw)) return wrong();
      for (const item of raw) {
        if (typeof item !== "string") {
          return {
            ok: false,
            why: `must be ${describeType(spec)}, got an array containing ${tomlType(item)}`,
          };
        }
      }
      return { ok: true, value: raw as string[] };
    case "duration":
      if (typeof raw === "bigint") return bigintValue(raw);
      if (typeof raw === "string") {
        const seconds = parseDuration(raw);
        return seconds === undefined
          ? { ok: false, why: `must be ${describeType(spec)}, got '${raw}'` }
          : { ok: true, value: seconds };
      }
      return wrong();
  }
}

/** Converts text from an environment variable or a flag to the key's type. */
function fromText(spec: KeySpec, text: string): Parsed {
  const wrong = (): Parsed => ({ ok: false, why: `must be ${describeType(spec)}, got '${text}'` });
  switch (spec.type) {
    case "string":
    case "path":
    case "enum":
      return { ok: true, value: text };
    case "int":
      return /^[+-]?\d+$/.test(text.trim()) ? bigintValue(BigInt(text.trim())) : wrong();
    case "bool": {
      const t = text.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(t)) return { ok: true, value: true };
      if (["false", "0", "no", "off"].includes(t)) return { ok: true, value: false };
      return wrong();
    }
    case "string[]": {
      if (!text.trimStart().startsWith("[")) return { ok: true, value: [text] };
      let raw: unknown;
      try {
        raw = parse(`v = ${text}`).v;
      } catch {
        return {
          ok: false,
          why: `must be one string or a TOML array of strings like ["a", "b"], got '${text}'`,
        };
      }
      return fromToml(spec, raw);
    }
    case "duration": {
      const seconds = parseDuration(text);
      return seconds === undefined ? wrong() : { ok: true, value: seconds };
    }
  }
}

/** Flags pass JavaScript values; integral numbers become TOML integers so one checker serves. */
function nativeToToml(raw: unknown): unknown {
  return typeof raw === "number" && Number.isInteger(raw) ? BigInt(raw) : raw;
}

function bigintValue(raw: bigint): Parsed {
  // Out-of-range values are caught by checkValue; clamp only what a number cannot hold exactly.
  const n = raw > BigInt(Number.MAX_SAFE_INTEGER)
    ? Number.MAX_SAFE_INTEGER
    : raw < BigInt(Number.MIN_SAFE_INTEGER)
    ? Number.MIN_SAFE_INTEGER
    : Number(raw);
  return { ok: true, value: n };
}

/** Checks range, allowed values and the key's own check; returns what is wrong, if anything. */
function checkValue(spec: KeySpec, value: Value): string | undefined {
  if (spec.type === "enum" && !spec.values!.includes(value as string)) {
    return `must be one of ${spec.values!.join(", ")}, got '${value}'`;
  }
  if (typeof value === "number") {
    const low = spec.min ?? -Infinity;
    const high = spec.max ?? Infinity;
    if (value < low || value > high) {
      const range = spec.max === undefined ? `at least ${low}` : `between ${low} and ${high}`;
      return `must be ${range}, got ${value}`;
    }
  }
  return spec.check?.(value);
}

/** The TOML name of a parsed value's type, for "got …" in messages. */
function tomlType(raw: unknown): string {
  if (typeof raw === "bigint") return "integer";
  if (typeof raw === "number") return "float";
  if (typeof raw === "string") return "string";
  if (typeof raw === "boolean") return "boolean";
  if (Array.isArray(raw)) return "array";
  if (raw instanceof Date || (raw !== null && typeof raw === "object" && "toISOString" in raw)) {
    return "date-time";
  }
  return "table";
}

function isTable(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === "object" && !Array.isArray(raw) &&
    tomlType(raw) === "table";
}

/** " (did you mean 'port'?)" when a known name is within two edits of `name`. */
function suggest(name: string, known: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best === undefined ? "" : ` (did you mean '${best}'?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
