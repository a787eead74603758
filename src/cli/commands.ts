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
import { loginCommand } from "./login_command.ts";
import { logoutCommand } from "./logout_command.ts";
import { accountsCommand } from "./accounts_command.ts";
import { infoCommand } from "./info_command.ts";
import { modeCommand } from "./mode_command.ts";
import { resetPasswordCommand } from "./reset_password_command.ts";
import { serveCommand } from "./serve_command.ts";
import { statusCommand } from "./status_command.ts";

/** All subcommands, in the order `bridge --help` lists them. */
export const COMMANDS: Command[] = [
  serveCommand,
  statusCommand,
  apiServerCommand,
  configCommand,
  vaultCommand,
  certCommand,
  loginCommand,
  logoutCommand,
  accountsCommand,
  infoCommand,
  modeCommand,
  resetPasswordCommand,
];
