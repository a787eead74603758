/**
 * `bridge serve` as a subprocess for end-to-end tests: started with {@link bridgeArgv} (so
 * `BRIDGE_TEST_BUNDLE` runs the single-file build) in the environment of {@link bridgeEnv}, its
 * standard output read as JSON lines (`--json`) and its standard error kept as text.
 *
 * @module
 */
import { bridgeArgv, bridgeEnv } from "../src/cli/_cli_test_utils.ts";

/** Reads lines of `stream` (without their `\n`), calling `fn` for each, until it ends. */
export async function eachLine(
  stream: ReadableStream<Uint8Array>,
  fn: (line: string) => void,
): Promise<void> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      fn(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  if (buf) fn(buf);
}

/** One JSON line `bridge serve --json` printed (a line that is not JSON is `{event:"not-json"}`). */
export type ServeEvent = Record<string, unknown>;

/**
 * Environment variables that make serve poll the event stream every `seconds`, without jitter
 * (for {@link ServeOptions.env}).
 */
export function eventPollEnv(seconds: number): Record<string, string> {
  return {
    BRIDGE_EVENTS_POLL_INTERVAL_SECONDS: String(seconds),
    BRIDGE_EVENTS_JITTER_SECONDS: "0",
  };
}

/**
 * Arguments of `bridge serve --demo --json` with the demo's data in `demoDir`, IMAP and SMTP on
 * free ports, then `more`.
 */
export function demoServeArgs(demoDir: string, ...more: string[]): string[] {
  return [
    "--demo",
    "--demo-data",
    demoDir,
    "--json",
    "--imap-port",
    "0",
    "--smtp-port",
    "0",
    ...more,
  ];
}

/**
 * Arguments of `bridge serve --json` against the API at `apiUrl`, IMAP and SMTP on free ports
 * without TLS (`--security none`, loopback only), then `more` (e.g. `--data-dir D`).
 */
export function plainServeArgs(apiUrl: string, ...more: string[]): string[] {
  return [
    "--json",
    "--api-url",
    apiUrl,
    "--imap-port",
    "0",
    "--smtp-port",
    "0",
    "--security",
    "none",
    ...more,
  ];
}

/** How to start a {@link ServeProcess}. */
export interface ServeOptions {
  /** Variables added to the subprocess environment (BRIDGE_* ones included). */
  env?: Record<string, string>;
}

/** How long to wait in {@link ServeProcess.waitFor}. */
export interface WaitOptions {
  /** Skip this many earlier events of the same name (default 0: the first one). */
  skip?: number;
  /** Give up after this many milliseconds (default 60,000). */
  timeoutMs?: number;
}

/** A running `bridge serve` subprocess, the events it printed and its standard error. */
export class ServeProcess {
  /** The subprocess (for signals other than through {@link stop}). */
  readonly child: Deno.ChildProcess;
  /** Every line of standard output so far, parsed. */
  readonly events: ServeEvent[] = [];
  /** Standard error so far. */
  stderr = "";
  /** Settles once both output streams have ended. */
  readonly done: Promise<void>;
  #ended = false;
  readonly #waiters: (() => void)[] = [];

  /** Starts `bridge serve <args>` with XDG config and data under `home`. */
  constructor(home: string, args: readonly string[], options: ServeOptions = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: bridgeArgv(["serve", ...args]),
      clearEnv: true,
      env: bridgeEnv(home, options.env),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = this.#lines(this.child.stdout, (line) => {
      try {
        this.events.push(JSON.parse(line));
      } catch {
        this.events.push({ event: "not-json", line });
      }
    });
    const err = this.#lines(this.child.stderr, (line) => {
      this.stderr += line + "\n";
    });
    this.done = Promise.all([out, err]).then(() => {
      this.#ended = true;
      this.#wake();
    });
  }

  async #lines(stream: ReadableStream<Uint8Array>, fn: (line: string) => void): Promise<void> {
    await eachLine(stream, (line) => {
      fn(line);
      this.#wake();
    });
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /**
   * Waits until `probe` answers something other than `undefined` and returns it, checking again
   * whenever output arrives (and every 200 ms). Throws, naming `what` and showing the output, once
   * `timeoutMs` has passed or the subprocess closed its output without `probe` answering.
   */
  async until<T>(
    what: string,
    probe: () => T | undefined,
    timeoutMs = 60_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = probe();
      if (found !== undefined) return found;
      if (this.#ended || Date.now() > deadline) {
        throw new Error(
          `no ${what} (${this.#ended ? "serve exited" : `${timeoutMs} ms passed`}); events: ${
            JSON.stringify(this.events.map((e) => e.event))
          }; last events: ${JSON.stringify(this.events.slice(-10))}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The first event named `name` (after `skip` earlier ones), waiting for it as {@link until}. */
  waitFor(name: string, options: WaitOptions = {}): Promise<ServeEvent> {
    const skip = options.skip ?? 0;
    return this.until(
      `"${name}" event`,
      () => this.events.filter((e) => e.event === name)[skip],
      options.timeoutMs,
    );
  }

  /** Sends `signal` (unless the subprocess is gone), waits for its exit; returns the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
    const status = await this.child.status;
    await this.done;
    return status.code;
  }
}
