/**
 * The IMAP server: a listener (plain with STARTTLS, implicit TLS, or plain only) and one
 * {@link Session} per connection, a connection limit and a graceful close (`* BYE`).
 *
 * @example
 * ```ts ignore
 * const server = await startImapServer({ authenticator, port: 1143, tls: { certPem, keyPem } });
 * // … later
 * await server.close();
 * ```
 *
 * @module
 */
import { AuthThrottle } from "../connector/auth_throttle.ts";
import { type PortSecurity, startListener } from "../tls/listener.ts";
import type { NodeSocketConnection } from "../tls/socket_connection.ts";
import { rateLimitedLog } from "../tls/rate_limited_log.ts";
import { isLoopback } from "../tls/loopback.ts";
import { ALL_COMMANDS, commandTable } from "./commands/command_table.ts";
import { serverIdentity } from "./commands/id.ts";
import { DEFAULT_IMAP_LIMITS, type ImapLimits } from "./session/limits.ts";
import { type ImapAuthenticator, Session } from "./session/session.ts";

export type { ImapAuthenticator } from "./session/session.ts";
export type { ImapLimits } from "./session/limits.ts";

/** TLS modes, as in the config file's `imap.security`. */
export type ImapSecurity = PortSecurity;

/** Options of {@link startImapServer}. */
export interface ImapServerOptions {
  /** Checks LOGIN / AUTHENTICATE credentials. */
  authenticator: ImapAuthenticator;
  /** Address to listen on; default `127.0.0.1`. */
  hostname?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Default `starttls` with {@link tls}, `none` without. */
  security?: ImapSecurity;
  /** Certificate and key (PEM) for `starttls` and `ssl`. */
  tls?: { certPem: string; keyPem: string };
  /** Accept LOGIN before TLS; default true when listening on loopback, else false. */
  allowPlainAuth?: boolean;
  /** Limits; unset ones take {@link DEFAULT_IMAP_LIMITS} values. */
  limits?: Partial<ImapLimits>;
  /** Name and version for the greeting and `ID`. */
  identity?: { name: string; version: string };
  /** Diagnostics; default `console.warn`. Never receives passwords or message contents. */
  log?: (message: string) => void;
}

/** A running IMAP server. */
export interface ImapServer {
  readonly hostname: string;
  readonly port: number;
  readonly security: ImapSecurity;
  readonly limits: Readonly<ImapLimits>;
  /** Sessions currently open. */
  readonly connections: number;
  /** Stops accepting, says `* BYE` to every session, waits for them (bounded), closes. */
  close(): Promise<void>;
  /**
   * Ends every session logged in to the account with this bus key (`MailAccount.id`) with
   * `* BYE text` (`Session.end`: a command in progress finishes first): the account was signed
   * out, signed in again or got a new bridge password, and its sessions must log in again.
   * Resolves with how many there were once they have ended, or after the shutdown grace.
   */
  endSessions(accountId: string, text: string): Promise<number>;
}

let sessionCounter = 0;

/** Starts listening; rejects with a clear message when the port is taken or TLS is unusable. */
export async function startImapServer(options: ImapServerOptions): Promise<ImapServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const security = options.security ?? (options.tls ? "starttls" : "none");
  const limits: ImapLimits = { ...DEFAULT_IMAP_LIMITS, ...options.limits };
  const log = options.log ?? ((m: string) => console.warn(m));
  if (options.identity) {
    serverIdentity.name = options.identity.name;
    serverIdentity.version = options.identity.version;
  }
  const throttle = new AuthThrottle({
    baseDelayMs: limits.authFailureDelayMs,
    maxDelayMs: limits.authFailureMaxDelayMs,
    lockoutFailures: limits.authLockoutFailures,
    windowMs: limits.authFailureWindowMs,
  });
  const sessionOptions = {
    authenticator: options.authenticator,
    commands: commandTable(ALL_COMMANDS),
    limits,
    allowPlainAuth: options.allowPlainAuth ?? isLoopback(hostname),
    throttle,
    greeting: `${serverIdentity.name} ${serverIdentity.version} ready`,
    nextId: () => `imap-${++sessionCounter}`,
    log,
  };
  const sessions = new Set<Session>();
  const running = new Map<Session, Promise<void>>();
  const ended = new Set<() => void>();
  let closing = false;

  const logRefusal = rateLimitedLog(log);
  const accept = (conn: NodeSocketConnection) => {
    if (closing) {
      conn.destroy();
      return;
    }
    if (sessions.size >= limits.maxConnections) {
      logRefusal(`imap ${conn.remoteAddress}: too many connections (${sessions.size}); refused`);
      conn.write("* BYE Too many connections, try again later\r\n").then(() => conn.close());
      return;
    }
    const session = new Session(conn, sessionOptions);
    sessions.add(session);
    running.set(
      session,
      session.run().catch((e) => log(`imap: session failed: ${String(e)}`)).finally(() => {
        sessions.delete(session);
        running.delete(session);
        if (sessions.size === 0) { for (const f of ended) f(); }
      }),
    );
  };

  const listener = await startListener({
    protocol: "IMAP",
    hostname,
    port: options.port ?? 0,
    security,
    tls: options.tls,
    handshakeTimeoutMs: limits.tlsHandshakeMs,
    onConnection: accept,
    log,
  });

  const allEnded = () =>
    sessions.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const f = () => {
        ended.delete(f);
        resolve();
      };
      ended.add(f);
    });
  let closed: Promise<void> | undefined;
  return {
    hostname,
    port: listener.port,
    security,
    limits,
    get connections() {
      return sessions.size;
    },
    async endSessions(accountId, text) {
      const ending = [...sessions].filter((s) => s.account?.id === accountId);
      if (ending.length === 0) return 0;
      log(`imap: ending ${ending.length} session(s) of an account: ${text}`);
      for (const s of ending) s.end(text);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(ending.map((s) => running.get(s))),
        new Promise<void>((r) => (timer = setTimeout(r, limits.shutdownGraceMs))),
      ]);
      clearTimeout(timer);
      for (const s of ending) if (sessions.has(s)) s.shutdown(text).catch(() => {});
      return ending.length;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        const listenerClosed = listener.close();
        // As for an account's sessions: a command in progress answers first (an APPEND whose
        // import is done and whose answer never came would be imported again by the client's
        // retry), then `* BYE`; idle sessions get it at once. What is still running after the
        // grace is cut.
        const ending = [...sessions];
        for (const s of ending) s.end("Server shutting down");
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          allEnded(),
          new Promise<void>((r) => (timer = setTimeout(r, limits.shutdownGraceMs))),
        ]);
        clearTimeout(timer);
        await Promise.all(ending.filter((s) => sessions.has(s)).map((s) => s.shutdown()));
        await listenerClosed;
      })();
      return closed;
    },
  };
}
