/**
 * Errors of the Proton API client. Every failure the client surfaces is one of these, so callers
 * can tell "the server said no" ({@link ApiError}) from "the session is gone"
 * ({@link SignedOutError}), "a human must solve a challenge" ({@link HumanVerificationRequiredError})
 * and "the network failed" ({@link NetworkError}, {@link TimeoutError}).
 *
 * None of these messages ever contain tokens or request/response bodies.
 *
 * @module
 */
import { type AuthInfo, ErrorCode } from "./types.ts";

/** Where a failed request went: used in messages, never containing query secrets. */
export interface RequestInfo {
  /** HTTP method. */
  method: string;
  /** Path without query string, e.g. `/core/v4/users`. */
  path: string;
}

/**
 * An error reply of the API: HTTP status ≥ 400 with `{"Code", "Error", "Details"}`, or with no or
 * an unreadable body (then `code` is 0 and the message is the HTTP status text). Mirrors
 * go-proton-api `response.go` `APIError`.
 */
export class ApiError extends Error {
  override name = "ApiError";
  /** HTTP status of the reply. */
  readonly status: number;
  /** API `Code` (0 when the body had none). */
  readonly code: number;
  /** API `Details`, as sent. */
  readonly details: unknown;
  /** Method and path of the request that failed, when known. */
  readonly request?: RequestInfo;

  /** `message` is the API's `Error` text (or the HTTP status text when there was none). */
  constructor(
    status: number,
    code: number,
    message: string,
    details?: unknown,
    request?: RequestInfo,
  ) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.details = details;
    this.request = request;
  }

  /** `<method> <path>: <message> (Code=<code>, Status=<status>)`, for logs. */
  describe(): string {
    const where = this.request ? `${this.request.method} ${this.request.path}: ` : "";
    return `${where}${this.message} (Code=${this.code}, Status=${this.status})`;
  }
}

/**
 * The session is gone: a token refresh was refused (HTTP 400/422 or Code 10013), or a request was
 * made after that. The stored refresh token is useless; the user must log in again.
 */
export class SignedOutError extends Error {
  override name = "SignedOutError";
  /** HTTP status of the refused refresh (0 when raised for a later request). */
  readonly status: number;
  /** API `Code` of the refused refresh (0 when unknown). */
  readonly code: number;

  /** `cause` is the refresh's {@link ApiError}, when there was one. */
  constructor(message = "signed out: the session was revoked, log in again", cause?: ApiError) {
    super(message, cause ? { cause } : undefined);
    this.status = cause?.status ?? 0;
    this.code = cause?.code ?? 0;
  }
}

/** Human-verification details the caller passes back after solving the challenge. */
export interface HumanVerification {
  /** `HumanVerificationToken` from the 9001 error. */
  token: string;
  /** `HumanVerificationMethods` from the 9001 error (sent back joined by ","). */
  methods: string[];
}

/** Base URL of Proton's verification page (proton-bridge `internal/hv/hv.go`). */
export const HUMAN_VERIFICATION_URL = "https://verify.proton.me/";

/** Builds `https://verify.proton.me/?methods=<m1,m2>&token=<token>`. */
export function humanVerificationURL(hv: HumanVerification): string {
  return `${HUMAN_VERIFICATION_URL}?methods=${hv.methods.join(",")}&token=${hv.token}`;
}

/**
 * Code 9001: the API wants a human to solve a challenge first. Show {@link verificationURL}, then
 * repeat the request through `client.withHumanVerification(error.verification)`.
 */
export class HumanVerificationRequiredError extends ApiError {
  override name = "HumanVerificationRequiredError";
  /** `HumanVerificationMethods` (e.g. `["captcha"]`). */
  readonly methods: string[];
  /** `HumanVerificationToken`. */
  readonly token: string;
  /** Where the user solves the challenge. */
  readonly verificationURL: string;
  /** Set by `login` when the challenge came from `POST /auth/v4`: pass it back to reuse the SRP
   * session the token is bound to. */
  authInfo?: AuthInfo;

  /** Reads methods and token from the error's `Details`. */
  constructor(status: number, message: string, details: unknown, request?: RequestInfo) {
    super(status, ErrorCode.HumanVerificationRequired, message, details, request);
    const d = (details ?? {}) as Record<string, unknown>;
    this.methods = Array.isArray(d.HumanVerificationMethods)
      ? d.HumanVerificationMethods.map(String)
      : [];
    this.token = typeof d.HumanVerificationToken === "string" ? d.HumanVerificationToken : "";
    this.verificationURL = humanVerificationURL(this.verification);
  }

  /** Token and methods, ready for `client.withHumanVerification`. */
  get verification(): HumanVerification {
    return { token: this.token, methods: this.methods };
  }
}

/** The request never got an HTTP reply (refused, reset, DNS, TLS…), after all retries. */
export class NetworkError extends Error {
  override name = "NetworkError";
  /** Method and path of the request, when known. */
  readonly request?: RequestInfo;

  /** `cause` is the underlying fetch error. */
  constructor(message: string, request?: RequestInfo, cause?: unknown) {
    super(
      request ? `${request.method} ${request.path}: ${message}` : message,
      cause === undefined ? undefined : { cause },
    );
    this.request = request;
  }
}

/** No reply within the per-request timeout, after all retries. */
export class TimeoutError extends NetworkError {
  override name = "TimeoutError";
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;

  /** Records which timeout expired. */
  constructor(timeoutMs: number, request?: RequestInfo) {
    super(`no reply within ${timeoutMs} ms`, request);
    this.timeoutMs = timeoutMs;
  }
}

/** Login could not be trusted: the SRP modulus signature or the server proof did not check out. */
export class LoginSecurityError extends Error {
  override name = "LoginSecurityError";
  /** What failed. */
  readonly reason: "modulus" | "server-proof";

  /** `reason` says which check failed; `cause` is the underlying error, if any. */
  constructor(reason: "modulus" | "server-proof", message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}

/** One failed item of a multi-status (`Code` 1001) reply. */
export interface ItemFailure {
  /** The item's ID (message ID), as the server echoed it. */
  id: string;
  /** The item's `Code`. */
  code: number;
  /** The item's `Error` text, if any. */
  error: string;
}

/**
 * Some items of a batch action failed. For label/unlabel the successful chunks were undone
 * (`undone` tells whether the undo itself worked).
 */
export class PartialFailureError extends Error {
  override name = "PartialFailureError";
  /** The items that failed. */
  readonly failures: ItemFailure[];
  /** Whether the successful part was rolled back (label/unlabel only). */
  readonly undone: boolean;

  /** `action` names the batch action in the message (e.g. "label messages"). */
  constructor(action: string, failures: ItemFailure[], undone: boolean, cause?: unknown) {
    const ids = failures.map((f) => f.id).join(", ");
    super(
      `${action}: ${failures.length} item(s) failed: ${ids}` +
        (undone ? " (the rest was undone)" : ""),
      cause === undefined ? undefined : { cause },
    );
    this.failures = failures;
    this.undone = undone;
  }

  /** IDs of the failed items. */
  get failedIDs(): string[] {
    return this.failures.map((f) => f.id);
  }
}
