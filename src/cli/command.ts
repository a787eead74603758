/** One `bridge` subcommand: its name, a one-line summary for `--help`, and how to run it. */
export interface Command {
  /** The word typed after `bridge`, e.g. `api-server`. */
  name: string;
  /** One line shown in `bridge --help`. */
  summary: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Thrown by a subcommand for bad flags; `main` prints the message and exits with code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
