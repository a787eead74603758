/**
 * Runs the single-file build (`deno task bundle` → `dist/bridge.js`) with permissions scoped to
 * what this invocation needs, computed from the same config the program reads:
 *
 * - `--allow-net`: the IMAP and SMTP listen hosts, 127.0.0.1 (control endpoint, demo server) and
 *   the API host;
 * - `--allow-read` / `--allow-write`: the config file's directory, the data and cache directories,
 *   the temporary directory (demo data, atomic writes) and — read only — the bundle's directory
 *   (`bridge.js` and its build worker);
 * - `--allow-run`: only the OS keychain tool (`secret-tool` on Linux, `security` on macOS), when
 *   it is installed;
 * - `--allow-env` and `--allow-sys`: configuration from the environment, OS name and hostname;
 * - `--v8-flags=--max-semi-space-size=4,--expose-gc` and `MALLOC_MMAP_THRESHOLD_=4194304` in the
 *   environment: the memory settings every launcher uses (`src/cli/launch_settings.ts`).
 *
 * Usage: `deno run --allow-read --allow-env --allow-run --allow-sys scripts/launch_bundle.ts
 * [--bundle dist/bridge.js] [--print] -- <bridge arguments>`. With `--print` it only prints the
 * command line (`env MALLOC_MMAP_THRESHOLD_=… deno run …`, for service files). The exit code is
 * the bridge's.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { tmpdir } from "node:os";
import { BRIDGE_ENV, BRIDGE_V8_FLAGS } from "../src/cli/launch_settings.ts";
import { type ConfigFlags, loadConfig } from "../src/config/mod.ts";

/** The `deno run` arguments that run `bundle` with `bridgeArgs` under scoped permissions. */
export async function launchArgs(bundle: string, bridgeArgs: string[]): Promise<string[]> {
  const { values } = parseArgs({
    args: bridgeArgs,
    strict: false,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      "data-dir": { type: "string" },
      "api-url": { type: "string" },
      host: { type: "string" },
      "demo-data": { type: "string" },
    },
  });
  const flags: ConfigFlags = {};
  if (typeof values["api-url"] === "string") flags.api = { url: values["api-url"] };
  if (typeof values.host === "string") {
    flags.imap = { host: values.host };
    flags.smtp = { host: values.host };
  }
  const loaded = await loadConfig({
    file: typeof values.config === "string" ? values.config : undefined,
    flags,
  });
  const config = loaded.config;
  const hosts = new Set(["127.0.0.1", "localhost"]);
  hosts.add(config.imap.host);
  hosts.add(config.smtp.host);
  try {
    hosts.add(new URL(config.api.url).host);
  } catch {
    // An invalid URL is reported by the bridge itself.
  }
  const dirs = new Set<string>([tmpdir()]);
  if (loaded.file) dirs.add(dirname(resolve(loaded.file)));
  const dataDir = typeof values["data-dir"] === "string"
    ? values["data-dir"]
    : config.paths.data_dir;
  dirs.add(resolve(dataDir));
  if (config.paths.cache_dir !== "") dirs.add(resolve(config.paths.cache_dir));

  if (typeof values["demo-data"] === "string") dirs.add(resolve(values["demo-data"]));
  const keychain = onPath(Deno.build.os === "darwin" ? "security" : "secret-tool");
  const rw = [...dirs].join(",");
  return [
    "run",
    "--no-prompt",
    `--allow-net=${[...hosts].join(",")}`,
    `--allow-read=${rw},${dirname(resolve(bundle))}`,
    `--allow-write=${rw}`,
    ...(keychain ? [`--allow-run=${keychain}`] : []),
    "--allow-env",
    "--allow-sys",
    `--v8-flags=${BRIDGE_V8_FLAGS}`,
    resolve(bundle),
    ...bridgeArgs,
  ];
}

/** The full path of `name` on PATH, if it is there. */
function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(Deno.build.os === "windows" ? ";" : ":")) {
    if (!dir) continue;
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

if (import.meta.main) {
  const split = Deno.args.indexOf("--");
  const own = split < 0 ? Deno.args : Deno.args.slice(0, split);
  const rest = split < 0 ? [] : Deno.args.slice(split + 1);
  const { values } = parseArgs({
    args: own,
    options: { bundle: { type: "string", default: "dist/bridge.js" }, print: { type: "boolean" } },
  });
  const args = await launchArgs(values.bundle!, rest);
  if (values.print) {
    const env = Object.entries(BRIDGE_ENV).map(([k, v]) => `${k}=${v}`);
    console.log(
      ["env", ...env, "deno", ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`))
        .join(" "),
    );
    Deno.exit(0);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { ...BRIDGE_ENV },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, () => child.kill(signal));
  }
  const status = await child.status;
  Deno.exit(status.code);
}
