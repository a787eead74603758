/**
 * The explicit limits of the IMAP server (STYLE: every limit has a name, a default and a test).
 *
 * @module
 */
import { DEFAULT_READER_LIMITS, type ReaderLimits } from "../wire/mod.ts";

/** Limits of an IMAP server and its sessions. */
export interface ImapLimits extends ReaderLimits {
  /** Open connections at once; further clients get `* BYE` at once. */
  maxConnections: number;
  /** Commands in a row answered `BAD` before the session ends with `* BYE`. */
  maxBadCommands: number;
  /** Autologout outside IDLE (RFC 3501 §5.4: at least 30 minutes), ms. */
  autologoutMs: number;
  /**
   * How long a connection may stay without logging in, from when it opened, ms (whatever it sends
   * meanwhile): RFC 3501's 30-minute autologout minimum is for authenticated sessions, and
   * connections that never log in would otherwise hold a slot of `maxConnections` (Dovecot's login
   * processes allow 3 minutes too).
   */
  preAuthAutologoutMs: number;
  /**
   * How long an IDLE may last before the server ends it, ms. RFC 2177 has clients re-issue IDLE
   * at least every 29 minutes, and some do at exactly 29 (offlineimap's imaplib2): the limit lies
   * beyond that and beyond RFC 3501's 30-minute autologout minimum.
   */
  maxIdleMs: number;
  /** Interval of `* OK Still here` lines during IDLE, ms (well under NAT and client timeouts). */
  idleKeepaliveMs: number;
  /** Before login the APPEND literal limit is this small (nobody may upload before auth). */
  preAuthLiteralSize: number;
  /** Delay after the first failed login from an address, ms (doubles per failure, capped). */
  authFailureDelayMs: number;
  /** Largest failed-login delay, ms. */
  authFailureMaxDelayMs: number;
  /** Failed logins in the window after which the connection is closed after each failure. */
  authLockoutFailures: number;
  /** How long a failed login counts, ms. */
  authFailureWindowMs: number;
  /** Longest TLS handshake, ms. */
  tlsHandshakeMs: number;
  /**
   * How long `close()` (and ending an account's sessions) lets a command in progress finish
   * before its session is cut, ms. Idle sessions end at once.
   */
  shutdownGraceMs: number;
}

/** Defaults of {@link ImapLimits}. */
export const DEFAULT_IMAP_LIMITS: Readonly<ImapLimits> = Object.freeze({
  ...DEFAULT_READER_LIMITS,
  maxConnections: 200,
  maxBadCommands: 20,
  autologoutMs: 30 * 60_000,
  preAuthAutologoutMs: 3 * 60_000,
  maxIdleMs: 35 * 60_000,
  idleKeepaliveMs: 2 * 60_000,
  preAuthLiteralSize: 8 * 1024,
  authFailureDelayMs: 500,
  authFailureMaxDelayMs: 8_000,
  authLockoutFailures: 10,
  authFailureWindowMs: 10 * 60_000,
  tlsHandshakeMs: 15_000,
  shutdownGraceMs: 10_000,
});
