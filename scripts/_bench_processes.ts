/**
 * The bridge subprocesses of the benchmarks (`bench_imap.ts`, `bench_scale.ts`): `main.ts` run
 * with the repository's `deno.json`, the launchers' environment (`src/cli/launch_settings.ts`)
 * and its own XDG directories; the reference API server seeded in its own process and driven
 * through its controls (`/ref/v1/`); `bridge login`; reading a process's output line by line and
 * stopping it.
 *
 * @module
 */
import { join } from "node:path";
import { BRIDGE_ENV } from "../src/cli/launch_settings.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** `deno.json` of the repository (import map), whichever the working directory. */
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Reads a process's output line by line (the end-to-end tests' reader). */
export { eachLine } from "../tests/_serve_process.ts";

/** Options of {@link bridgeEnv}. */
export interface BridgeEnvOptions {
  /**
   * Leaves the launchers' variables out (glibc's adjusting mmap threshold), and drops them also
   * when inherited.
   */
  glibcDefault?: boolean;
}

/**
 * Environment of bridge subprocesses: this process's without any BRIDGE_* variable, the
 * launchers' variables (`MALLOC_MMAP_THRESHOLD_`, unless `glibcDefault`), XDG dirs under `home`,
 * `NO_COLOR`.
 */
export function bridgeEnv(home: string, opts: BridgeEnvOptions = {}): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) =>
      !k.startsWith("BRIDGE_") && !(opts.glibcDefault && k in BRIDGE_ENV)
    ),
  );
  return {
    ...base,
    ...(opts.glibcDefault ? {} : BRIDGE_ENV),
    XDG_CONFIG_HOME: join(home, "xdg-config"),
    XDG_DATA_HOME: join(home, "xdg-data"),
    NO_COLOR: "1",
  };
}

/** Options of {@link bridgeCommand}. */
export interface BridgeCommandOptions extends BridgeEnvOptions {
  /** Where the subprocess's standard error goes (default `inherit`); standard output is piped. */
  stderr?: "piped" | "inherit";
  /** Flags of `deno run` (`--v8-flags=…`, `--inspect=…`). */
  denoFlags?: readonly string[];
}

/**
 * `deno run -A main.ts …args` with the repository's config and {@link bridgeEnv}'s environment
 * (nothing else); no standard input, standard output piped.
 */
export function bridgeCommand(
  home: string,
  args: readonly string[],
  opts: BridgeCommandOptions = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...opts.denoFlags ?? [], "--config", CONFIG, MAIN, ...args],
    clearEnv: true,
    env: bridgeEnv(home, opts),
    stdin: "null",
    stdout: "piped",
    stderr: opts.stderr ?? "inherit",
  });
}

/** Stops `child` with SIGTERM (unless it is gone) and waits for its exit. */
export async function terminate(child: Deno.ChildProcess): Promise<Deno.CommandStatus> {
  try {
    child.kill("SIGTERM");
  } catch {
    // gone
  }
  return await child.status;
}

/** Options of {@link startApiServer}. */
export interface ApiServerOptions extends BridgeEnvOptions {
  /** The home of the subprocess's XDG dirs. */
  home: string;
  /** The seeded account. */
  email: string;
  password: string;
  /** How many messages a new seed has. */
  messages: number;
  /** Keeps the server's data in this directory; a later start with it skips the seeding. */
  data?: string | undefined;
  /** Gets the process as soon as it is started (to stop it also when the start fails). */
  onChild?: (child: Deno.ChildProcess) => void;
}

/** A started reference API server. */
export interface ApiServer {
  url: string;
  /** The modulus signing key `bridge login` must trust. */
  modulusKey: string;
  child: Deno.ChildProcess;
  /** Milliseconds from the start to its address line (the seeding, unless `data` had it). */
  ms: number;
}

/**
 * Starts `main.ts api-server --json --seed email:password --seed-messages N` in its own process
 * (standard error inherited) and answers once it printed its address (after seeding). Throws when
 * the server exits before.
 */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const args = [
    "api-server",
    "--json",
    "--seed",
    `${opts.email}:${opts.password}`,
    "--seed-messages",
    String(opts.messages),
  ];
  if (opts.data) args.push("--data", opts.data);
  const started = performance.now();
  const child = bridgeCommand(opts.home, args, {
    stderr: "inherit",
    glibcDefault: opts.glibcDefault,
  }).spawn();
  opts.onChild?.(child);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the api-server exited before printing its address");
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const info = JSON.parse(text.slice(0, text.indexOf("\n"))) as { url: string; modulusKey: string };
  return { url: info.url, modulusKey: info.modulusKey, child, ms: performance.now() - started };
}

/**
 * Calls the reference server's control `path` under `/ref/v1/` with a JSON `body`; answers the
 * JSON reply. Throws unless the status is a success.
 */
export async function control<T>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${url}/ref/v1/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} /ref/v1/${path}: ${JSON.stringify(json).slice(0, 300)}`);
  return json as T;
}

/**
 * Moves every message of `email` on the reference server at `url` into the Inbox. The Inbox only
 * takes received mail, so sent mail and drafts first get the Received flag (as mail sent to
 * oneself has); their content does not change. Answers how many moved and the times (Unix
 * seconds) of the messages the Inbox then holds.
 */
export async function everythingToInbox(
  url: string,
  email: string,
): Promise<{ moved: number; inboxTimes: number[] }> {
  type Meta = { ID: string; LabelIDs: string[]; Time: number };
  const list = async () =>
    (await control<{ Messages: Meta[] }>(url, "GET", `users/${email}/messages`)).Messages;
  const ids = (await list()).filter((m) => !m.LabelIDs.includes("0")).map((m) => m.ID);
  for (let i = 0; i < ids.length; i += 100) {
    const IDs = ids.slice(i, i + 100);
    await control(url, "POST", `users/${email}/messages/flags`, { IDs, Set: 1 });
    await control(url, "POST", `users/${email}/messages/move`, { LabelID: "0", IDs });
  }
  return {
    moved: ids.length,
    inboxTimes: (await list()).filter((m) => m.LabelIDs.includes("0")).map((m) => m.Time),
  };
}

/** Options of {@link bridgeLogin}. */
export interface BridgeLoginOptions extends BridgeEnvOptions {
  /** The reference server: its URL and the modulus key to trust. */
  api: Pick<ApiServer, "url" | "modulusKey">;
  email: string;
  password: string;
  /** bridge's data directory (`--data-dir`). */
  data: string;
}

/**
 * `bridge login` into `opts.data` with a file key store; the password and modulus key are passed
 * as files in `home`. Answers the milliseconds the command took; throws with its standard error
 * when it fails.
 */
export async function bridgeLogin(home: string, opts: BridgeLoginOptions): Promise<number> {
  const keyFile = join(home, "modulus.asc");
  await Deno.writeTextFile(keyFile, opts.api.modulusKey);
  const passwordFile = join(home, "password");
  await Deno.writeTextFile(passwordFile, opts.password + "\n");
  const started = performance.now();
  const out = await bridgeCommand(home, [
    "login",
    opts.email,
    "--api-url",
    opts.api.url,
    "--password-file",
    passwordFile,
    "--trust-modulus-key",
    keyFile,
    "--data-dir",
    opts.data,
    "--key-store",
    "file",
  ], { stderr: "piped", glibcDefault: opts.glibcDefault }).output();
  if (!out.success) throw new Error(`bridge login: ${new TextDecoder().decode(out.stderr)}`);
  return performance.now() - started;
}
