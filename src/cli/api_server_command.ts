/**
 * `bridge api-server`: runs the reference API server until SIGINT/SIGTERM.
 *
 * ```sh
 * bridge api-server --port 8080 --data ./demo-data --seed alice@example.test:secret --seed-messages 50
 * bridge api-server --json   # one line: {"url": "http://127.0.0.1:PORT", "modulusKey": "-----BEGIN PGP…"}
 * ```
 *
 * Seed users are created only when their address does not exist yet, so `--data` plus `--seed`
 * can be repeated across restarts. Clients trust the server's modulus key only when told (it is
 * printed with `--json` and served at `GET /ref/v1/info`).
 *
 * @module
 */
import type { Command } from "./command.ts";
import { parseCommandArgs, UsageError } from "./command.ts";

const HELP = `Usage: bridge api-server [options]

Runs the reference Proton-compatible API server (real SRP, real OpenPGP) until interrupted.

Options:
  --port P            port to listen on (default 0: a free port)
  --host H            interface to listen on (default 127.0.0.1)
  --data DIR          keep state in SQLite under DIR (default: in memory)
  --seed EMAIL:PASS   create this user if absent (repeatable)
  --seed-messages N   seed N messages into each newly created seed user (default 0)
  --json              print one JSON line {"url", "modulusKey"} once listening
  -h, --help          show this help

Test and demo controls live under /ref/v1/ (see src/api_server/control_routes.ts).`;

/** Parsed flags of `bridge api-server`. */
export interface ApiServerFlags {
  port: number;
  host: string;
  data?: string;
  seeds: { email: string; password: string }[];
  seedMessages: number;
  json: boolean;
  help: boolean;
}

/** Parses the flags; throws {@link UsageError} on anything malformed. */
export function parseApiServerFlags(args: string[]): ApiServerFlags {
  const { values, positionals } = parseCommandArgs(args, {
    port: { type: "string" },
    host: { type: "string" },
    data: { type: "string" },
    seed: { type: "string", multiple: true },
    "seed-messages": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${positionals[0]}'. This command does not take positional arguments`,
    );
  }
  const int = (raw: string | undefined, name: string, max: number, dflt: number) => {
    if (raw === undefined) return dflt;
    if (!/^\d+$/.test(raw) || Number(raw) > max) {
      throw new UsageError(`--${name} must be an integer from 0 to ${max}, got '${raw}'`);
    }
    return Number(raw);
  };
  const seeds = (values.seed ?? []).map((s) => {
    const at = s.indexOf(":");
    const email = at < 0 ? "" : s.slice(0, at);
    const password = at < 0 ? "" : s.slice(at + 1);
    if (!/^[^@\s:]+@[^@\s:]+$/.test(email) || password === "") {
      // Name only what precedes the first colon: the rest may be a password.
      throw new UsageError(`--seed must look like EMAIL:PASSWORD, got '${s.split(":")[0]}:…'`);
    }
    return { email, password };
  });
  if (values.host !== undefined && values.host.trim() === "") {
    throw new UsageError("--host must not be empty");
  }
  return {
    port: int(values.port, "port", 65535, 0),
    host: values.host ?? "127.0.0.1",
    data: values.data,
    seeds,
    seedMessages: int(values["seed-messages"], "seed-messages", 1_000_000, 0),
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

/** Runs the server until SIGINT or SIGTERM; resolves to the exit code. */
export async function runApiServer(args: string[]): Promise<number> {
  const flags = parseApiServerFlags(args);
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  // Loaded on demand so that other commands do not pay for the server and OpenPGP at startup.
  const { startApiServer } = await import("../api_server/server.ts");
  const server = await startApiServer({
    hostname: flags.host,
    port: flags.port,
    dataDir: flags.data,
  });
  const stop = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const onSignal = () => stop.resolve();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const created: string[] = [];
    for (const seed of flags.seeds) {
      if (server.accounts.findAddress(seed.email)) continue;
      await server.createUser({
        email: seed.email,
        password: seed.password,
        messages: flags.seedMessages,
      });
      created.push(seed.email);
    }
    if (flags.json) {
      console.log(JSON.stringify({ url: server.url, modulusKey: server.modulusPublicKey }));
    } else {
      console.log(`api-server listening on ${server.url}`);
      for (const e of created) {
        console.log(
          `  created ${e}${flags.seedMessages ? ` with ${flags.seedMessages} messages` : ""}`,
        );
      }
      console.log(`  modulus key: ${server.url}/ref/v1/info (ModulusPublicKey)`);
      console.log("  press Ctrl-C to stop");
    }
    await stop.promise;
    return 0;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    await server.close();
  }
}

/** The `api-server` entry of the command table. */
export const apiServerCommand: Command = {
  name: "api-server",
  summary: "run the reference API server (SRP, OpenPGP, test controls) for tests and demos",
  run: runApiServer,
};
