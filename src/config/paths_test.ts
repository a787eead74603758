import assert from "node:assert/strict";
import {
  defaultCacheDir,
  defaultConfigFile,
  defaultDataDir,
  homeDir,
  PathError,
  resolvePath,
} from "./paths.ts";

Deno.test("paths on Linux follow XDG base directories", () => {
  const env = {
    HOME: "/home/ann",
    XDG_CONFIG_HOME: "/cfg",
    XDG_DATA_HOME: "/data",
    XDG_CACHE_HOME: "/cache",
  };
  assert.equal(defaultConfigFile("linux", env), "/cfg/bridge/config.toml");
  assert.equal(defaultDataDir("linux", env), "/data/bridge");
  assert.equal(defaultCacheDir("linux", env), "/cache/bridge");
});

Deno.test("paths on Linux fall back to ~/.config, ~/.local/share and ~/.cache", () => {
  const env = { HOME: "/home/ann" };
  assert.equal(defaultConfigFile("linux", env), "/home/ann/.config/bridge/config.toml");
  assert.equal(defaultDataDir("linux", env), "/home/ann/.local/share/bridge");
  assert.equal(defaultCacheDir("linux", env), "/home/ann/.cache/bridge");
});

Deno.test("paths ignore empty and relative XDG variables, as the XDG spec says", () => {
  const env = { HOME: "/home/ann", XDG_CONFIG_HOME: "", XDG_DATA_HOME: "rel/data" };
  assert.equal(defaultConfigFile("linux", env), "/home/ann/.config/bridge/config.toml");
  assert.equal(defaultDataDir("linux", env), "/home/ann/.local/share/bridge");
});

Deno.test("paths on FreeBSD use the XDG layout too", () => {
  assert.equal(defaultDataDir("freebsd", { HOME: "/u/b" }), "/u/b/.local/share/bridge");
});

Deno.test("paths on macOS live under ~/Library", () => {
  const env = { HOME: "/Users/ann", XDG_CONFIG_HOME: "/ignored" };
  assert.equal(
    defaultConfigFile("darwin", env),
    "/Users/ann/Library/Application Support/bridge/config.toml",
  );
  assert.equal(defaultDataDir("darwin", env), "/Users/ann/Library/Application Support/bridge");
  assert.equal(defaultCacheDir("darwin", env), "/Users/ann/Library/Caches/bridge");
});

Deno.test("paths on Windows use APPDATA and LOCALAPPDATA", () => {
  const env = {
    USERPROFILE: "C:\\Users\\ann",
    APPDATA: "C:\\Users\\ann\\AppData\\Roaming",
    LOCALAPPDATA: "D:\\Local",
  };
  assert.equal(
    defaultConfigFile("windows", env),
    "C:\\Users\\ann\\AppData\\Roaming\\bridge\\config.toml",
  );
  assert.equal(defaultDataDir("windows", env), "D:\\Local\\bridge");
  assert.equal(defaultCacheDir("windows", env), "D:\\Local\\bridge\\cache");
});

Deno.test("paths on Windows fall back to USERPROFILE when APPDATA/LOCALAPPDATA are unset", () => {
  const env = { USERPROFILE: "C:\\Users\\ann" };
  assert.equal(
    defaultConfigFile("windows", env),
    "C:\\Users\\ann\\AppData\\Roaming\\bridge\\config.toml",
  );
  assert.equal(defaultDataDir("windows", env), "C:\\Users\\ann\\AppData\\Local\\bridge");
  assert.equal(homeDir("windows", { HOMEDRIVE: "E:", HOMEPATH: "\\ann" }), "E:\\ann");
});

Deno.test("paths without a home directory throw PathError naming the variable", () => {
  assert.throws(
    () => defaultDataDir("linux", {}),
    (e) => e instanceof PathError && /HOME/.test(e.message),
  );
  assert.throws(() => defaultDataDir("windows", {}), /USERPROFILE/);
});

Deno.test("resolvePath() expands ~ and resolves relative paths against a base", () => {
  const env = { HOME: "/home/ann", USERPROFILE: "C:\\Users\\ann" };
  assert.equal(resolvePath("~/mail", "linux", env), "/home/ann/mail");
  assert.equal(resolvePath("~", "linux", env), "/home/ann");
  assert.equal(resolvePath("data", "linux", env, "/etc/bridge"), "/etc/bridge/data");
  assert.equal(resolvePath("/abs", "linux", env, "/etc/bridge"), "/abs");
  assert.equal(resolvePath("data", "linux", env), "data");
  assert.equal(resolvePath("~\\mail", "windows", env), "C:\\Users\\ann\\mail");
  assert.equal(resolvePath("D:\\x", "windows", env, "C:\\cfg"), "D:\\x");
  assert.equal(resolvePath("x", "windows", env, "C:\\cfg"), "C:\\cfg\\x");
});
