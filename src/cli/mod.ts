/**
 * The command-line front door: picks the subcommand from argv and runs it.
 *
 * Every subcommand is a {@link Command} in {@link COMMANDS}; `bridge --help` is generated from that
 * table, so a command that exists is always listed.
 *
 * @module
 */
import { VERSION } from "./version.ts";
import { COMMANDS } from "./commands.ts";
import { UsageError } from "./command.ts";

export { UsageError };

/** Usage text shown by `bridge --help` and after a usage error. */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    `bridge ${VERSION}: use an end-to-end-encrypted mailbox from any IMAP/SMTP mail client`,
    "",
    "Usage: bridge <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show this help (or `bridge <command> --help`)",
    "  -V, --version  print the version",
  ];
  return lines.join("\n");
}

/**
 * Runs `bridge` with the given arguments and resolves to the process exit code.
 *
 * @example
 * ```ts
 * const code = await main(["--version"]);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    console.log(usage());
    return 0;
  }
  if (first === "-V" || first === "--version" || first === "version") {
    console.log(`bridge ${VERSION}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    console.error(`bridge: unknown command '${first}'\n`);
    console.error(usage());
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bridge ${command.name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
