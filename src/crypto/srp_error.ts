/**
 * The error type of Proton's SRP (`srp_*.ts`): every failure of the login math, the modulus
 * signature or the inputs reaches callers as an {@link SrpError} whose `kind` says what went wrong.
 *
 * @module
 */

/**
 * What went wrong:
 * - `bad-modulus`: the modulus fails a parameter check (size, N ≡ 3 mod 8, safe prime, generator).
 * - `bad-params`: another SRP value is out of range (server/client ephemeral, multiplier, u = 0).
 * - `bad-server-proof`: the server's proof differs from the expected one (client side).
 * - `bad-client-proof`: the client's proof is wrong (server side: wrong password).
 * - `bad-signature`: the clear-signed modulus is unsigned, signed by an untrusted key, tampered
 *   with, or followed by trailing data.
 * - `unsupported-version`: an auth version other than 0–4.
 * - `bad-input`: malformed input (bad base64, wrong lengths).
 */
export type SrpErrorKind =
  | "bad-modulus"
  | "bad-params"
  | "bad-server-proof"
  | "bad-client-proof"
  | "bad-signature"
  | "unsupported-version"
  | "bad-input";

/** An SRP failure with a machine-readable {@link SrpErrorKind}. */
export class SrpError extends Error {
  /** What went wrong; see {@link SrpErrorKind}. */
  kind: SrpErrorKind;

  /**
   * @param kind What went wrong.
   * @param message Human text, sentence case, no trailing period.
   * @param options `cause`: the underlying exception, if any.
   */
  constructor(kind: SrpErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SrpError";
    this.kind = kind;
  }
}
