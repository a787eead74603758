/**
 * Runs a python3 client script for end-to-end tests and reads its answer: the last line the
 * script prints is JSON.
 *
 * @module
 */
import { join } from "node:path";

/**
 * Writes `script` to a file in `dir`, runs it with python3 and `args`, removes the file, and
 * returns the last line of its standard output parsed as JSON. Throws with the script's
 * standard error and output when it exits with a failure.
 */
export async function runPythonJson<T = unknown>(
  dir: string,
  script: string,
  args: readonly string[],
): Promise<T> {
  const file = join(dir, `client_${crypto.randomUUID()}.py`);
  await Deno.writeTextFile(file, script);
  const out = await new Deno.Command("python3", {
    args: [file, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(file);
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout).trim();
  if (!out.success) throw new Error(`python failed:\n${dec.decode(out.stderr)}\n${stdout}`);
  return JSON.parse(stdout.split("\n").at(-1)!) as T;
}

/**
 * {@link runPythonJson} with one argument: `input` as JSON, which the script reads with
 * `json.loads(sys.argv[1])`.
 */
export function runPythonJsonArg<T = unknown>(
  dir: string,
  script: string,
  input: unknown,
): Promise<T> {
  return runPythonJson<T>(dir, script, [JSON.stringify(input)]);
}
