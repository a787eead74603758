/**
 * How the SMTP server checks credentials: an injected {@link Authenticator} (the bridge's
 * implementation looks the username up among its accounts' addresses and compares the bridge
 * password; tests use a fake).
 *
 * @module
 */

/** The account a client authenticated as; implementations may add fields. */
export interface AccountRef {
  /** Stable identifier of the account (e.g. the bridge's user ID). */
  readonly id: string;
  /** The name the client logged in with (an address of the account). */
  readonly username: string;
}

/** Checks SMTP `AUTH` credentials. */
export interface Authenticator<A extends AccountRef = AccountRef> {
  /**
   * The account `username`/`password` belong to, or `null` when they are wrong (`535 5.7.8`).
   * Throwing means the check could not be made now (`454 4.7.0`, the client may retry).
   */
  authenticate(username: string, password: string): Promise<A | null>;
}
