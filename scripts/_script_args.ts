/**
 * What every script under `scripts/` does with its command line: `node:util` `parseArgs` over
 * `Deno.args` (strict), and a usage error as one line `<script>: <message>` on standard error with
 * exit status 2.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Options of `node:util` `parseArgs`. */
export type ScriptOptions = NonNullable<ParseArgsConfig["options"]>;

/** A function that reports a usage error of `script` and exits with status 2. */
export function usageError(script: string): (message: string) => never {
  return (message: string): never => {
    console.error(`${script}: ${message}`);
    Deno.exit(2);
  };
}

/** `Deno.args` parsed strictly with `options`; a parse error is a usage error of `script`. */
export function scriptArgs<O extends ScriptOptions>(script: string, options: O) {
  try {
    return parseArgs({ args: Deno.args, options, strict: true }).values;
  } catch (e) {
    return usageError(script)(e instanceof Error ? e.message : String(e));
  }
}

/**
 * The integer `raw` says (or `fallback` when it is absent), at least `min` (default 1); anything
 * else is a usage error of `script` naming `--flag`.
 */
export function intArg(
  script: string,
  raw: string | undefined,
  flag: string,
  fallback: number,
  min = 1,
): number {
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min) usageError(script)(`--${flag} must be an integer ≥ ${min}`);
  return n;
}
