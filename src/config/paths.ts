/**
 * Where `bridge` keeps its files on each operating system: the config file, the data directory
 * (vault, SQLite index, certificates) and the cache directory (encrypted message bodies).
 *
 * Every function here is a pure function of the operating system and the environment, so the
 * Windows and macOS layouts are tested on any machine.
 *
 * | | Linux and other Unix | macOS | Windows |
 * |---|---|---|---|
 * | config file | `$XDG_CONFIG_HOME/bridge/config.toml` (`~/.config/…`) | `~/Library/Application Support/bridge/config.toml` | `%APPDATA%\bridge\config.toml` |
 * | data dir | `$XDG_DATA_HOME/bridge` (`~/.local/share/…`) | `~/Library/Application Support/bridge` | `%LOCALAPPDATA%\bridge` |
 * | cache dir | `$XDG_CACHE_HOME/bridge` (`~/.cache/…`) | `~/Library/Caches/bridge` | `%LOCALAPPDATA%\bridge\cache` |
 *
 * @module
 */
import { posix, win32 } from "node:path";

/** An operating system as `Deno.build.os` names it. */
export type Os = typeof Deno.build.os;

/** Environment variables, as `Deno.env.toObject()` returns them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The folder name `bridge` uses inside each base directory. */
const APP_DIR = "bridge";

/** Thrown when no home directory can be found to place the default paths under. */
export class PathError extends Error {
  override name = "PathError";
}

/** The `node:path` flavour for paths on `os`. */
export function pathFlavour(os: Os): typeof posix {
  return os === "windows" ? win32 : posix;
}

/** The user's home directory: `HOME`, or on Windows `USERPROFILE` (then `HOMEDRIVE`+`HOMEPATH`). */
export function homeDir(os: Os, env: Env): string {
  const home = os === "windows"
    ? nonEmpty(env.USERPROFILE) ??
      (env.HOMEDRIVE && env.HOMEPATH ? env.HOMEDRIVE + env.HOMEPATH : undefined)
    : nonEmpty(env.HOME);
  if (home === undefined) {
    throw new PathError(
      os === "windows"
        ? "Cannot find the home directory: USERPROFILE is not set"
        : "Cannot find the home directory: HOME is not set",
    );
  }
  return home;
}

/** The default config file path (used when neither `--config` nor `BRIDGE_CONFIG` names one). */
export function defaultConfigFile(os: Os, env: Env): string {
  if (os === "windows") return win32.join(roamingAppData(env), APP_DIR, "config.toml");
  if (os === "darwin") {
    return posix.join(homeDir(os, env), "Library", "Application Support", APP_DIR, "config.toml");
  }
  return posix.join(xdg(env, "XDG_CONFIG_HOME", os, ".config"), APP_DIR, "config.toml");
}

/** The default data directory: vault, local index, certificates, lock and control files. */
export function defaultDataDir(os: Os, env: Env): string {
  if (os === "windows") return win32.join(localAppData(env), APP_DIR);
  if (os === "darwin") {
    return posix.join(homeDir(os, env), "Library", "Application Support", APP_DIR);
  }
  return posix.join(xdg(env, "XDG_DATA_HOME", os, ".local/share"), APP_DIR);
}

/** The default cache directory: the encrypted message-body cache, safe to delete. */
export function defaultCacheDir(os: Os, env: Env): string {
  if (os === "windows") return win32.join(localAppData(env), APP_DIR, "cache");
  if (os === "darwin") return posix.join(homeDir(os, env), "Library", "Caches", APP_DIR);
  return posix.join(xdg(env, "XDG_CACHE_HOME", os, ".cache"), APP_DIR);
}

/**
 * Expands a leading `~` to the home directory and, when `base` is given, resolves a relative
 * path against it (a relative path in a config file means relative to that file's folder).
 */
export function resolvePath(path: string, os: Os, env: Env, base?: string): string {
  const flavour = pathFlavour(os);
  let out = path;
  if (out === "~" || out.startsWith("~/") || (os === "windows" && out.startsWith("~\\"))) {
    out = flavour.join(homeDir(os, env), out.slice(1));
  }
  if (base !== undefined && !flavour.isAbsolute(out)) out = flavour.join(base, out);
  return out;
}

/** An XDG base directory: the variable when set to an absolute path (per the spec), else `~/<fallback>`. */
function xdg(env: Env, name: string, os: Os, fallback: string): string {
  const value = nonEmpty(env[name]);
  if (value !== undefined && posix.isAbsolute(value)) return value;
  return posix.join(homeDir(os, env), fallback);
}

function roamingAppData(env: Env): string {
  return nonEmpty(env.APPDATA) ?? win32.join(homeDir("windows", env), "AppData", "Roaming");
}

function localAppData(env: Env): string {
  return nonEmpty(env.LOCALAPPDATA) ?? win32.join(homeDir("windows", env), "AppData", "Local");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
