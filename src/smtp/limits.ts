/**
 * The SMTP server's limits, all in one explicit object with documented defaults.
 *
 * Choices (and why):
 * - **Message size 35 MiB**, announced in `SIZE`. The Proton API accepts attachments up to 25 MB
 *   in total; base64 makes them a third bigger, so a message carrying the most the API takes is
 *   about 34 MB. A smaller SMTP limit would refuse mail the API accepts; a much larger one only
 *   lets the client upload something the API will refuse later. (The official bridge sets none.)
 * - **Text line 1000 octets including CRLF** (RFC 5321 §4.5.3.1.6; RFC 5322 §2.1.1 says 998
 *   characters plus CRLF). Counted after dot-unstuffing.
 * - **Command line 4096 octets** (RFC 5321 §4.5.3.1.4 asks for at least 512; extensions add
 *   parameters), **AUTH lines 12288 octets** (RFC 4954 §4).
 * - **100 recipients** per message (RFC 5321 §4.5.3.1.8: at least 100 must be accepted).
 * - **Idle timeout 5 minutes** (RFC 5321 §4.5.3.2.7 asks servers to wait at least 5 minutes for
 *   the next command).
 *
 * @module
 */

/** Every limit of the SMTP server. Sizes are in octets, times in milliseconds. */
export interface SmtpLimits {
  /** Largest message accepted after dot-unstuffing, announced as `SIZE <n>`. */
  maxMessageSize: number;
  /**
   * The RFC 5322 line length, CRLF included (1000 → 998 characters of content): a message line
   * longer than that is accepted and noted in the log (the message size is the limit).
   */
  maxLineLength: number;
  /** Longest command line, CRLF included. */
  maxCommandLineLength: number;
  /** Longest `AUTH` command line or SASL continuation line, CRLF included. */
  maxAuthLineLength: number;
  /** Recipients per message; the next `RCPT` gets `452 4.5.3`. */
  maxRecipients: number;
  /** Simultaneous connections; the next one gets `421 4.3.2` and is closed. */
  maxConnections: number;
  /** Unknown, malformed or out-of-sequence commands before `421 4.7.0` and close. */
  maxBadCommands: number;
  /** Failed `AUTH` attempts on one connection before `421 4.7.0` and close. */
  maxAuthFailuresPerConnection: number;
  /** Delay before the reply to the first failed `AUTH` from an address; doubles per failure. */
  authFailureDelayMs: number;
  /** Cap of that delay. */
  authFailureMaxDelayMs: number;
  /**
   * Failures from one client address within {@link authFailureWindowMs} after which every
   * further failure from that address closes its connection at once (`421 4.7.0`).
   */
  authLockoutFailures: number;
  /** How long a failed `AUTH` counts against its client address. */
  authFailureWindowMs: number;
  /** Silence from the client before `421 4.4.2` and close. */
  idleTimeoutMs: number;
  /**
   * How long a connection may stay without authenticating, from when it opened, whatever it sends
   * meanwhile (`421 4.4.2` and close): every transaction needs AUTH, and a connection that never
   * authenticates would otherwise hold one of `maxConnections` for as long as it keeps talking.
   */
  preAuthTimeoutMs: number;
  /** Longest TLS handshake (implicit TLS or after `STARTTLS`). */
  tlsHandshakeTimeoutMs: number;
  /** On `close()`, how long sessions in the middle of a message may take to finish it. */
  shutdownGraceMs: number;
}

/** The defaults (see the module documentation for the reasons). */
export const DEFAULT_LIMITS: Readonly<SmtpLimits> = Object.freeze({
  maxMessageSize: 35 * 1024 * 1024,
  maxLineLength: 1000,
  maxCommandLineLength: 4096,
  maxAuthLineLength: 12288,
  maxRecipients: 100,
  maxConnections: 50,
  maxBadCommands: 20,
  maxAuthFailuresPerConnection: 3,
  authFailureDelayMs: 500,
  authFailureMaxDelayMs: 8000,
  authLockoutFailures: 30,
  authFailureWindowMs: 15 * 60 * 1000,
  idleTimeoutMs: 5 * 60 * 1000,
  preAuthTimeoutMs: 3 * 60 * 1000,
  tlsHandshakeTimeoutMs: 30 * 1000,
  shutdownGraceMs: 10 * 1000,
});

/** Smallest value each limit may take (RFC minimums where there is one). */
const MINIMUMS: Readonly<SmtpLimits> = {
  maxMessageSize: 1024,
  maxLineLength: 1000,
  maxCommandLineLength: 512,
  maxAuthLineLength: 512,
  maxRecipients: 1,
  maxConnections: 1,
  maxBadCommands: 1,
  maxAuthFailuresPerConnection: 1,
  authFailureDelayMs: 0,
  authFailureMaxDelayMs: 0,
  authLockoutFailures: 1,
  authFailureWindowMs: 0,
  idleTimeoutMs: 10,
  preAuthTimeoutMs: 10,
  tlsHandshakeTimeoutMs: 10,
  shutdownGraceMs: 0,
};

/**
 * The defaults with `overrides` applied. Throws a `RangeError` naming the limit when a value is
 * not an integer or is below its minimum (e.g. a line limit under RFC 5321's 1000 octets).
 *
 * @example
 * ```ts
 * const limits = resolveLimits({ maxRecipients: 20 });
 * console.log(limits.maxRecipients, limits.maxLineLength); // 20 1000
 * ```
 */
export function resolveLimits(overrides: Partial<SmtpLimits> = {}): SmtpLimits {
  const limits: SmtpLimits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) throw new RangeError(`unknown SMTP limit "${key}"`);
    const k = key as keyof SmtpLimits;
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw new RangeError(`SMTP limit ${key} must be an integer, got ${String(value)}`);
    }
    if (value < MINIMUMS[k]) {
      throw new RangeError(`SMTP limit ${key} must be at least ${MINIMUMS[k]}, got ${value}`);
    }
    limits[k] = value;
  }
  return limits;
}
