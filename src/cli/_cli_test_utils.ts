/**
 * Test helpers for the CLI: run `bridge` as a subprocess in a clean environment, and a temporary
 * directory that is always removed.
 *
 * @module
 */
import { join } from "node:path";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const LAUNCHER = new URL("../../scripts/launch_bundle.ts", import.meta.url).pathname;

/**
 * The `deno` arguments that run `bridge <args>`: the sources with all permissions, or — when the
 * environment names a single-file build in `BRIDGE_TEST_BUNDLE` (CI does, once) — that bundle
 * through `scripts/launch_bundle.ts`, with the scoped permissions users run it with.
 */
export function bridgeArgv(args: readonly string[]): string[] {
  const bundle = Deno.env.get("BRIDGE_TEST_BUNDLE");
  if (!bundle) return ["run", "--allow-all", MAIN, ...args];
  return [
    "run",
    "--allow-read",
    "--allow-env",
    "--allow-run",
    "--allow-sys",
    LAUNCHER,
    "--bundle",
    bundle,
    "--",
    ...args,
  ];
}

/** Exit code and decoded output of one `bridge` run. */
export interface BridgeRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a `bridge` subprocess: this process's environment without any BRIDGE_*
 * variable, XDG config and data under `home`, NO_COLOR, then `extra` (which may set BRIDGE_*
 * variables again). HOME and XDG_CACHE_HOME are left alone so Deno keeps its module cache.
 */
export function bridgeEnv(
  home: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("BRIDGE_")),
  );
  return {
    ...base,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    NO_COLOR: "1",
    ...extra,
  };
}

/**
 * Runs `bridge <args>` as a subprocess with no standard input and the environment of
 * {@link bridgeEnv} (`env` added to it).
 */
export async function runBridge(
  home: string,
  env: Record<string, string>,
  ...args: string[]
): Promise<BridgeRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: bridgeArgv(args),
    clearEnv: true,
    env: bridgeEnv(home, env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  prefix = "bridge_cli_",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
