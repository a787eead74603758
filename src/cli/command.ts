import { parseArgs, type ParseArgsConfig } from "node:util";

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

/** `parseArgs` in strict mode, its complaints turned into {@link UsageError}s. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, strict: true, allowPositionals: true, options });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
