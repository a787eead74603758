/**
 * The one error type of `src/crypto`: every failure of the OpenPGP layer (openpgp.js exceptions,
 * bad base64, missing keys) reaches callers as a {@link CryptoError} whose `kind` says what went
 * wrong, so the API client, the reference server and the IMAP/SMTP side can map it without parsing
 * openpgp.js messages.
 *
 * @module
 */

/**
 * What went wrong:
 * - `wrong-passphrase`: a private key (or every key of a list) did not unlock with the passphrase.
 * - `wrong-key`: none of the given keys can decrypt the message's session key.
 * - `tampered`: the session key was found but the data is corrupt or was modified (MDC/AEAD check).
 * - `bad-input`: the input is not what it claims to be (not OpenPGP, not base64, wrong sizes).
 * - `bad-signature`: a signature that must be valid is not (address key tokens, detached checks).
 * - `no-key`: a key ring is empty, or no key in it can do the job (for example no encryption key).
 */
export type CryptoErrorKind =
  | "wrong-passphrase"
  | "wrong-key"
  | "tampered"
  | "bad-input"
  | "bad-signature"
  | "no-key";

/** An OpenPGP-layer failure with a machine-readable {@link CryptoErrorKind}. */
export class CryptoError extends Error {
  /** What went wrong; see {@link CryptoErrorKind}. */
  kind: CryptoErrorKind;

  /**
   * @param kind What went wrong.
   * @param message Human text, sentence case, no trailing period.
   * @param options `cause`: the underlying exception, if any.
   */
  constructor(kind: CryptoErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CryptoError";
    this.kind = kind;
  }
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Returns `err` unchanged when it already is a {@link CryptoError}, otherwise wraps it as `kind`
 * with `context` in front of the original message.
 */
export function toCryptoError(err: unknown, kind: CryptoErrorKind, context: string): CryptoError {
  if (err instanceof CryptoError) return err;
  return new CryptoError(kind, `${context}: ${errorMessage(err)}`, { cause: err });
}
