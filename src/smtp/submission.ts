/**
 * The seam between the SMTP protocol server and the send pipeline: once a message is fully
 * received and its checks passed, the session hands it to a {@link SubmissionHandler} and turns
 * the outcome into the reply to the end of `DATA`:
 *
 * - resolves `{ queuedAs }` → `250 2.0.0 OK <queuedAs>` (or `250 2.0.0 OK`);
 * - throws {@link SubmissionError} → its code, enhanced code and message (4xx when temporary);
 * - throws anything else → `451 4.3.0` with a generic text (the error is logged by class only,
 *   never with message contents).
 *
 * @module
 */
import type { AccountRef } from "./authenticator.ts";
import { enhancedMatches } from "./reply.ts";

/** A message as the SMTP session received it. */
export interface Submission<A extends AccountRef = AccountRef> {
  /** The account the client authenticated as. */
  account: A;
  /** The `MAIL FROM` reverse-path without angle brackets (empty for `<>`). */
  mailFrom: string;
  /** The `RCPT TO` forward-paths without angle brackets, in order, duplicates removed. */
  rcptTo: string[];
  /** The message exactly as received: dot-unstuffed, CRLF line ends, final CRLF included. */
  data: Uint8Array;
  /** The `BODY=` the client declared (`7BIT` when it declared none). */
  body: "7BIT" | "8BITMIME";
  /** Whether `MAIL FROM` carried `SMTPUTF8` (UTF-8 addresses and header fields). */
  smtputf8: boolean;
  /** The client's address, for logs. */
  remoteAddress: string;
}

/** What a successful submission reports. */
export interface SubmissionResult {
  /** An identifier for the reply `250 2.0.0 OK <queuedAs>`, e.g. the sent message's ID. */
  queuedAs?: string;
}

/** Sends what a client submitted (implemented by the send pipeline; faked in tests). */
export interface SubmissionHandler<A extends AccountRef = AccountRef> {
  /**
   * Sends the message. Throw {@link SubmissionError} for failures the client should see with
   * a specific code and reason; anything else becomes `451 4.3.0`.
   */
  submit(submission: Submission<A>): Promise<SubmissionResult>;
}

/** Options of {@link SubmissionError}. */
export interface SubmissionErrorOptions {
  /** Worth retrying later (4xx) rather than final (5xx); default from `code`, else false. */
  temporary?: boolean;
  /** Reply code, 4xx or 5xx; default 451 when temporary, 554 otherwise. */
  code?: number;
  /** RFC 3463 enhanced code; default `4.3.0` or `5.0.0`. Its class follows the code. */
  enhanced?: string;
  /** The underlying error, for logs. */
  cause?: unknown;
}

/**
 * A refusal of a submitted message, with the reply the client gets. The message is shown to the
 * user by most mail clients, so it should say what to fix ("cannot send from address x@y: it is
 * disabled"); it must not contain secrets or message content.
 *
 * @example
 * ```ts ignore
 * throw new SubmissionError("cannot send from bob@example.com: not an address of this account", {
 *   code: 550,
 *   enhanced: "5.7.1",
 * });
 * ```
 */
export class SubmissionError extends Error {
  override name = "SubmissionError";
  /** Reply code (4xx or 5xx). */
  readonly code: number;
  /** Enhanced status code whose class matches {@link code}. */
  readonly enhanced: string;
  /** Whether the client may retry (the code is 4xx). */
  readonly temporary: boolean;

  constructor(message: string, options: SubmissionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    let code = options.code;
    if (code !== undefined && !(Number.isInteger(code) && code >= 400 && code <= 599)) {
      code = undefined;
    }
    const temporary = options.temporary ?? (code !== undefined ? code < 500 : false);
    if (code === undefined || (code < 500) !== temporary) code = temporary ? 451 : 554;
    this.code = code;
    this.temporary = temporary;
    const cls = temporary ? "4" : "5";
    const enhanced = options.enhanced;
    this.enhanced = enhanced !== undefined && enhancedMatches(code, enhanced)
      ? enhanced
      : enhanced !== undefined && /^[245]\.\d{1,3}\.\d{1,3}$/.test(enhanced)
      ? cls + enhanced.slice(1)
      : `${cls}.${temporary ? "3" : "0"}.0`;
  }
}
