/**
 * The SMTP submission server (RFC 5321/6409): `EHLO`, `AUTH PLAIN`/`LOGIN`, `STARTTLS` and
 * implicit TLS, `SIZE`, `PIPELINING`, `8BITMIME`, `ENHANCEDSTATUSCODES`, `SMTPUTF8`. It checks
 * credentials through an injected {@link Authenticator} and hands every fully received message
 * to an injected {@link SubmissionHandler}, whose result or {@link SubmissionError} becomes the
 * reply. See `session.ts` for every reply code and why.
 *
 * @example
 * ```ts ignore
 * const server = await startSmtpServer({
 *   port: 1025,
 *   tls: { certPem, keyPem },
 *   authenticator: { authenticate: (user, pass) => accounts.check(user, pass) },
 *   submission: { submit: (msg) => sender.send(msg) },
 * });
 * ```
 *
 * @module
 */
export type { AccountRef, Authenticator } from "./authenticator.ts";
export { DEFAULT_LIMITS, resolveLimits, type SmtpLimits } from "./limits.ts";
export {
  isLoopback,
  type SmtpSecurity,
  type SmtpServer,
  type SmtpServerOptions,
  startSmtpServer,
} from "./server.ts";
export {
  type Submission,
  SubmissionError,
  type SubmissionErrorOptions,
  type SubmissionHandler,
  type SubmissionResult,
} from "./submission.ts";
