/**
 * The table of subcommands `bridge` knows. Later issues add `serve`, `login`, `status` and the
 * rest here.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { apiServerCommand } from "./api_server_command.ts";
import { configCommand } from "./config_command.ts";
import { vaultCommand } from "./vault_command.ts";
import { certCommand } from "./cert_command.ts";

/** All subcommands, in the order `bridge --help` lists them. */
export const COMMANDS: Command[] = [
  apiServerCommand,
  configCommand,
  vaultCommand,
  certCommand,
];
