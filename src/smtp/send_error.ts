/**
 * Turning a failure of the send pipeline into the SMTP reply the client sees (a
 * {@link SubmissionError}): a code that says whether retrying can help, an enhanced status and a
 * reason a user can act on. Never message contents, keys or tokens.
 *
 * | failure | reply |
 * |---|---|
 * | the API refused the request (4xx other than 408/429) | `554 5.0.0` with the API's reason |
 * | human verification required | `451 4.7.0` |
 * | API busy or failing (408, 429, 5xx) | `451 4.3.0` |
 * | API unreachable or no reply | `451 4.4.1` |
 * | the send request's answer was lost (it may have gone out) | {@link UnconfirmedSendError}: `451` |
 * | the account is signed out | `451 4.7.0` (log in again in bridge) |
 * | a recipient's preferences cannot be served | `554 5.7.0` naming the recipient |
 * | encryption failed | `554 5.7.0` |
 * | anything else | rethrown: the session answers `451 4.3.0` |
 *
 * @module
 */
import {
  ApiError,
  HumanVerificationRequiredError,
  NetworkError,
  SignedOutError,
} from "../api/errors.ts";
import { SendPackageError } from "../api/send_packages.ts";
import { CryptoError } from "../crypto/errors.ts";
import { RecipientSchemeError } from "./recipient_scheme.ts";
import { SubmissionError } from "./submission.ts";

/** Whether the API answered this request with a final refusal (so nothing was sent). */
export function isApiRefusal(e: unknown): boolean {
  return e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 &&
    e.status !== 429 && !(e instanceof HumanVerificationRequiredError);
}

/**
 * Whether the API's answer to the send request means the message certainly did not go out: a
 * final refusal ({@link isApiRefusal}), a rate limit (429), "unavailable" (503) or a human
 * verification demand. Only then may the send's draft be deleted; after a lost reply, a time-out
 * or another server error the message may have been sent, and the draft stays.
 */
export function certainlyNotSent(e: unknown): boolean {
  return isApiRefusal(e) || e instanceof HumanVerificationRequiredError ||
    (e instanceof ApiError && (e.status === 429 || e.status === 503));
}

/**
 * The send request was made but not answered with a verdict (a lost reply, a time-out, a server
 * error): the message may have gone out as draft `draftID`, which is kept. Temporary, so the
 * client retries; the retry is checked against the draft before anything is sent again.
 */
export class UnconfirmedSendError extends SubmissionError {
  override name = "UnconfirmedSendError";
  /** The draft the send was made from (a sent message keeps its ID). */
  readonly draftID: string;

  constructor(draftID: string, cause: unknown) {
    const base = toSubmissionError(cause, "send the message");
    super(
      "the mail server did not confirm the send (it may have gone out); " +
        "a retry of this message within 30 minutes is checked against it first",
      {
        code: 451,
        enhanced: base instanceof SubmissionError && base.temporary ? base.enhanced : "4.3.0",
        cause,
      },
    );
    this.draftID = draftID;
  }
}

/**
 * The {@link SubmissionError} for `e`; `what` says what was being done ("send", "create the
 * draft"). Unknown errors are returned as they are (the session turns them into `451 4.3.0`).
 */
export function toSubmissionError(e: unknown, what: string): unknown {
  if (e instanceof SubmissionError) return e;
  const opts = (code: number, enhanced: string) => ({ code, enhanced, cause: e });
  if (e instanceof HumanVerificationRequiredError) {
    return new SubmissionError(
      `the mail server asks for human verification before it will ${what}; ` +
        "try again later or send one message from the web app",
      opts(451, "4.7.0"),
    );
  }
  if (e instanceof SignedOutError) {
    return new SubmissionError(
      "the account is signed out of bridge: log in again, then resend",
      opts(451, "4.7.0"),
    );
  }
  if (e instanceof ApiError) {
    if (isApiRefusal(e)) {
      return new SubmissionError(
        `the mail server refused to ${what}: ${e.message}`,
        opts(554, "5.0.0"),
      );
    }
    return new SubmissionError(
      `the mail server could not ${what} now (HTTP ${e.status}); try again later`,
      opts(451, "4.3.0"),
    );
  }
  if (e instanceof NetworkError) {
    return new SubmissionError(
      `cannot reach the mail server to ${what}; try again later`,
      opts(451, "4.4.1"),
    );
  }
  if (e instanceof RecipientSchemeError || e instanceof SendPackageError) {
    const text = e.email ? `cannot send to ${e.message}` : `cannot send: ${e.message}`;
    return new SubmissionError(text, opts(554, "5.7.0"));
  }
  if (e instanceof CryptoError) {
    return new SubmissionError(
      `cannot ${what}: encryption failed (${e.message})`,
      opts(554, "5.7.0"),
    );
  }
  return e;
}
