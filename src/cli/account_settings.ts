/**
 * What a mail client needs to connect to `bridge` for one account: host, port and security of the
 * IMAP and SMTP servers (from the configuration) and the login (the account's primary address and
 * its bridge password, from the vault). `bridge info --json` and `bridge login --json` print
 * exactly this shape:
 *
 * ```json
 * {"imap":{"host":"127.0.0.1","port":1143,"security":"starttls","username":"alice@proton.me","password":"…"},
 *  "smtp":{"host":"127.0.0.1","port":1025,"security":"starttls","username":"alice@proton.me","password":"…"}}
 * ```
 *
 * @module
 */
import type { ListenerStatus } from "./status_report.ts";
import { askStatus } from "./status_command.ts";
import type { Config } from "../config/mod.ts";
import type { VaultAccount } from "../vault/mod.ts";

/** How a mail client connects to one of the servers. */
export interface ServerSettings {
  /** Where to connect (a wildcard listen address is shown as 127.0.0.1). */
  host: string;
  port: number;
  /** `starttls`, `ssl` (implicit TLS) or `none`. */
  security: "starttls" | "ssl" | "none";
  /** The login name: the account's primary address. */
  username: string;
  /** The bridge password (not the account password). */
  password: string;
}

/** The settings of both servers for one account. */
export interface MailClientSettings {
  imap: ServerSettings;
  smtp: ServerSettings;
}

/** Addresses that mean "every interface": a client reaches them through loopback. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]", ""]);

/** Whether a listen address is every interface of the machine. */
export function isWildcardHost(listenHost: string): boolean {
  return WILDCARD_HOSTS.has(listenHost);
}

/** The host a client on this machine uses to reach a listen address. */
export function connectHost(listenHost: string): string {
  return isWildcardHost(listenHost) ? "127.0.0.1" : listenHost;
}

/**
 * The IMAP and SMTP settings of `account` under `config`, keys in the order of the documented
 * JSON shape.
 *
 * @example
 * ```ts ignore
 * console.log(JSON.stringify(mailClientSettings(config, vault.getAccount("a@b.c")!)));
 * ```
 */
export function mailClientSettings(
  config: Pick<Config, "imap" | "smtp">,
  account: Pick<VaultAccount, "email" | "bridgePassword">,
): MailClientSettings {
  const server = (s: Config["imap"]): ServerSettings => ({
    host: connectHost(s.host),
    port: s.port,
    security: s.security,
    username: account.email,
    password: account.bridgePassword,
  });
  return { imap: server(config.imap), smtp: server(config.smtp) };
}

const SECURITY_TEXT: Record<ServerSettings["security"], string> = {
  starttls: "STARTTLS",
  ssl: "SSL/TLS (implicit TLS)",
  none: "none (no encryption)",
};

/**
 * `settings` with the host, port and security of a running serve's listeners where they listen:
 * serve may have been started with other ports than the configured ones (`--imap-port 0`), and
 * what a mail client needs is where it can connect now.
 */
export function withRunningListeners(
  settings: MailClientSettings,
  listeners: Record<"imap" | "smtp", Pick<ListenerStatus, "state" | "host" | "port" | "security">>,
): MailClientSettings {
  const pick = (
    s: ServerSettings,
    l: Pick<ListenerStatus, "state" | "host" | "port" | "security">,
  ) =>
    l.state === "listening"
      ? { ...s, host: connectHost(l.host), port: l.port, security: l.security }
      : s;
  return { imap: pick(settings.imap, listeners.imap), smtp: pick(settings.smtp, listeners.smtp) };
}

/**
 * {@link mailClientSettings}, with where the serve running on `dataDir` listens when one does
 * ({@link withRunningListeners}): what `bridge login` and `bridge info` print.
 */
export async function currentMailClientSettings(
  config: Pick<Config, "imap" | "smtp">,
  account: Pick<VaultAccount, "email" | "bridgePassword">,
  dataDir: string,
): Promise<MailClientSettings> {
  const configured = mailClientSettings(config, account);
  const running = await askStatus(dataDir);
  return running.kind === "running"
    ? withRunningListeners(configured, running.report.listeners)
    : configured;
}

/** The settings as people read them: one block per server. */
export function formatMailClientSettings(settings: MailClientSettings): string {
  const block = (title: string, s: ServerSettings) =>
    [
      `${title}`,
      `  Host:      ${s.host}`,
      `  Port:      ${s.port}`,
      `  Security:  ${SECURITY_TEXT[s.security]}`,
      `  Username:  ${s.username}`,
      `  Password:  ${s.password}`,
    ].join("\n");
  return `${block("IMAP", settings.imap)}\n\n${block("SMTP", settings.smtp)}`;
}
