/**
 * The SMTP submission server: a listener (plain with `STARTTLS`, implicit TLS, or plain only),
 * one {@link SmtpSession} per connection, a connection limit and a graceful close.
 *
 * - `security: "starttls"` (default with a certificate): plain TCP, `STARTTLS` offered.
 * - `security: "ssl"`: TLS from the first byte (`tls.createServer`).
 * - `security: "none"`: plain TCP only (loopback use without a certificate).
 *
 * `close()` stops accepting at once, tells idle sessions `421 4.3.2` and closes them, lets
 * sessions in the middle of a message finish for `shutdownGraceMs`, then tears down the rest.
 *
 * @module
 */
import type { AccountRef, Authenticator } from "./authenticator.ts";
import { AuthThrottle } from "../connector/auth_throttle.ts";
import { type PortSecurity, startListener } from "../tls/listener.ts";
import type { NodeSocketConnection } from "../tls/socket_connection.ts";
import { rateLimitedLog } from "../tls/rate_limited_log.ts";
import { isLoopback } from "../tls/loopback.ts";
import { resolveLimits, type SmtpLimits } from "./limits.ts";
import { formatReply } from "./reply.ts";
import { SmtpSession } from "./session.ts";
import type { SubmissionHandler } from "./submission.ts";

/** TLS modes, as in the config file's `smtp.security`. */
export type SmtpSecurity = PortSecurity;

/** Options of {@link startSmtpServer}. */
export interface SmtpServerOptions<A extends AccountRef = AccountRef> {
  /** Checks `AUTH` credentials. */
  authenticator: Authenticator<A>;
  /** Receives every accepted message. */
  submission: SubmissionHandler<A>;
  /** Address to listen on; default `127.0.0.1`. */
  hostname?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Default `starttls` with {@link tls}, `none` without. */
  security?: SmtpSecurity;
  /** Certificate and key (PEM) for `starttls` and `ssl`. */
  tls?: { certPem: string; keyPem: string };
  /** Name in the greeting and `EHLO` reply; default `127.0.0.1` (as the official bridge). */
  greetingName?: string;
  /** Limits; unset ones take {@link DEFAULT_LIMITS} values. */
  limits?: Partial<SmtpLimits>;
  /** Accept `AUTH` before TLS; default true when listening on loopback, else false. */
  allowPlainAuth?: boolean;
  /** Accept 8-bit content without `BODY=8BITMIME`; default false. */
  acceptUndeclared8bit?: boolean;
  /** Diagnostics; default `console.warn`. Never receives passwords or message contents. */
  log?: (message: string) => void;
}

/** A running SMTP server. */
export interface SmtpServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  readonly security: SmtpSecurity;
  /** The limits in force. */
  readonly limits: Readonly<SmtpLimits>;
  /** Sessions currently open. */
  readonly connections: number;
  /** Stops accepting, ends sessions gracefully (bounded by `shutdownGraceMs`). */
  close(): Promise<void>;
  /**
   * Ends the sessions authenticated as the account with this ID (`AccountRef.id`) as `close()`
   * ends sessions (`421` when idle, after the message in progress otherwise): the account was
   * signed out, signed in again or got a new bridge password. Returns how many.
   */
  endSessions(accountId: string): number;
}

export { isLoopback } from "../tls/loopback.ts";

/**
 * Starts listening. Rejects with a clear message when the port is taken or the TLS credentials
 * are missing or unusable.
 *
 * @example
 * ```ts ignore
 * const server = await startSmtpServer({
 *   authenticator, submission, port: 1025, tls: { certPem, keyPem },
 * });
 * // … later
 * await server.close();
 * ```
 */
export async function startSmtpServer<A extends AccountRef>(
  options: SmtpServerOptions<A>,
): Promise<SmtpServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const security = options.security ?? (options.tls ? "starttls" : "none");
  const limits = resolveLimits(options.limits);
  const log = options.log ?? ((m: string) => console.warn(m));
  if (security !== "none" && !options.tls) {
    throw new Error(`SMTP security "${security}" needs a TLS certificate and key`);
  }
  const throttle = new AuthThrottle({
    baseDelayMs: limits.authFailureDelayMs,
    maxDelayMs: limits.authFailureMaxDelayMs,
    lockoutFailures: limits.authLockoutFailures,
    windowMs: limits.authFailureWindowMs,
  });
  const sessionOptions = {
    hostname: options.greetingName ?? "127.0.0.1",
    authenticator: options.authenticator,
    submission: options.submission,
    limits,
    allowPlainAuth: options.allowPlainAuth ?? isLoopback(hostname),
    acceptUndeclared8bit: options.acceptUndeclared8bit ?? false,
    throttle,
    log,
  };

  const sessions = new Set<SmtpSession<A>>();
  const ended = new Set<() => void>();
  let closing = false;

  const logRefusal = rateLimitedLog(log);
  const accept = (conn: NodeSocketConnection) => {
    if (closing) {
      conn.destroy();
      return;
    }
    if (sessions.size >= limits.maxConnections) {
      logRefusal(`smtp ${conn.remoteAddress}: too many connections (${sessions.size}); refused`);
      const text = formatReply({
        code: 421,
        enhanced: "4.3.2",
        lines: ["Too many connections, try again later"],
      });
      conn.write(text).then(() => conn.close());
      return;
    }
    const session = new SmtpSession<A>(conn, sessionOptions);
    sessions.add(session);
    session.run().catch((e) => log(`smtp: session failed: ${String(e)}`)).finally(() => {
      sessions.delete(session);
      if (sessions.size === 0) { for (const f of ended) f(); }
    });
  };

  const listener = await startListener({
    protocol: "SMTP",
    hostname,
    port: options.port ?? 0,
    security,
    tls: options.tls,
    handshakeTimeoutMs: limits.tlsHandshakeTimeoutMs,
    onConnection: accept,
    log,
  });
  const port = listener.port;

  let closed: Promise<void> | undefined;
  const allEnded = () =>
    sessions.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const f = () => {
        ended.delete(f);
        resolve();
      };
      ended.add(f);
    });

  return {
    hostname,
    port,
    security,
    limits,
    get connections() {
      return sessions.size;
    },
    endSessions(accountId) {
      let n = 0;
      for (const s of sessions) {
        if (s.account?.id !== accountId) continue;
        n++;
        s.requestShutdown();
      }
      return n;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        const listenerClosed = listener.close();
        for (const s of sessions) s.requestShutdown();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          allEnded(),
          new Promise<void>((r) => (timer = setTimeout(r, limits.shutdownGraceMs))),
        ]);
        clearTimeout(timer);
        for (const s of sessions) s.abort();
        await allEnded();
        await listenerClosed;
      })();
      return closed;
    },
  };
}
