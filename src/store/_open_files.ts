/**
 * Test helper: the files under a directory this process holds open (Linux). It asks `ls -l
 * /proc/PID/fd` in a subprocess: Deno refuses to read `/proc` itself without `--allow-all`, which
 * the test task does not grant, while running `ls` needs only `--allow-run`.
 *
 * @module
 */

/** Names (last path segment) of the files under `dir` this process has open, sorted. */
export function openFilesUnder(dir: string): string[] {
  // `ls` exits 1 when a descriptor closes between its listing and its look at it (other work of
  // this process); what it printed still holds every descriptor open at both moments.
  const out = new Deno.Command("ls", { args: ["-l", `/proc/${Deno.pid}/fd`] }).outputSync();
  if (out.stdout.length === 0) throw new Error(`ls /proc/${Deno.pid}/fd printed nothing`);
  const real = Deno.realPathSync(dir);
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((line) => line.split(" -> ")[1]?.trim())
    .filter((target): target is string => !!target && target.startsWith(`${real}/`))
    .map((target) => target.slice(target.lastIndexOf("/") + 1))
    .sort();
}
