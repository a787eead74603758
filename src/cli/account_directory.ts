/**
 * The accounts a `bridge serve` serves, and the login check IMAP and SMTP share: a client logs in
 * with any address of an account and that account's bridge password (compared in constant time on
 * the decoded bytes, as `bridgePasswordMatches` does). A wrong password is `null` (the servers
 * answer "authentication failed" and throttle); a right password for an account that cannot serve
 * yet (still syncing, signed out, failed) is an {@link AccountUnavailableError}, which the servers
 * turn into a temporary refusal with its message. In split address mode the IMAP login of an
 * address gets that address's view of the account (`AccountRuntime.mailAccountFor`).
 *
 * When a password does not match, the vault is read again if it changed since (a
 * `bridge reset-password` while serving), at most once per {@link VAULT_RECHECK_MS}, so a
 * client with the new password is let in without a restart.
 *
 * @module
 */
import { bridgePasswordMatches, type VaultAccount } from "../vault/mod.ts";
import type { MailAccount } from "../connector/account.ts";
import { type AccountRuntime, AccountUnavailableError } from "./account_runtime.ts";
import type { SendingAccount } from "../smtp/sending_account.ts";

/** Least time between two re-reads of the vault after failed logins, ms. */
export const VAULT_RECHECK_MS = 2_000;

/** Where the directory can re-read bridge passwords (the vault). */
export interface PasswordSource {
  /** Identifies the vault's current content cheaply (e.g. its modification time). */
  version(): Promise<string>;
  /** User ID → bridge password, from the vault now. */
  passwords(): Promise<Map<string, string>>;
}

/** A password check against a stored bridge password, in constant time. */
export function passwordMatches(stored: string, supplied: string): boolean {
  return bridgePasswordMatches({ bridgePassword: stored } as VaultAccount, supplied);
}

/** The running accounts by address, and the IMAP/SMTP authenticators over them. */
export class AccountDirectory {
  readonly #runtimes = new Map<string, AccountRuntime>();
  readonly #source: PasswordSource | undefined;
  readonly #now: () => number;
  #seenVersion: string | undefined;
  #lastRecheck = -Infinity;

  constructor(options: { source?: PasswordSource; now?: () => number } = {}) {
    this.#source = options.source;
    this.#now = options.now ?? Date.now;
  }

  /** Adds (or replaces) an account's runtime. */
  add(runtime: AccountRuntime): void {
    this.#runtimes.set(runtime.userId, runtime);
  }

  /** Removes an account's runtime. */
  remove(userId: string): void {
    this.#runtimes.delete(userId);
  }

  /** The runtime of a user ID. */
  byUserId(userId: string): AccountRuntime | undefined {
    return this.#runtimes.get(userId);
  }

  /** All runtimes, in the order they were added. */
  all(): AccountRuntime[] {
    return [...this.#runtimes.values()];
  }

  /** The runtime one of whose addresses is `username` (case-insensitive); the first of several. */
  find(username: string): AccountRuntime | undefined {
    return this.#holders(username)[0];
  }

  /**
   * Every runtime one of whose addresses is `username`: usually one, but an address that moved
   * from one account to another is listed by both until the first one learns of it (its events
   * are late, or it is signed out and keeps its last list).
   */
  #holders(username: string): AccountRuntime[] {
    const name = username.trim().toLowerCase();
    return [...this.#runtimes.values()].filter((rt) => rt.addresses().includes(name));
  }

  /**
   * The runtime `username`/`password` log in to, or `null`. When several accounts list the
   * address, the password decides (bridge passwords are random per account).
   */
  async check(username: string, password: string): Promise<AccountRuntime | null> {
    const holders = this.#holders(username);
    if (holders.length === 0) {
      // Spend the same comparison as for a known account.
      passwordMatches("AAAAAAAAAAAAAAAAAAAAAA", password);
      return null;
    }
    const matching = () => holders.find((rt) => passwordMatches(rt.bridgePassword, password));
    const rt = matching();
    if (rt) return rt;
    if (await this.#recheck()) return matching() ?? null;
    return null;
  }

  /** Re-reads the bridge passwords when the vault changed; whether any changed. */
  async #recheck(): Promise<boolean> {
    const source = this.#source;
    if (!source || this.#now() - this.#lastRecheck < VAULT_RECHECK_MS) return false;
    this.#lastRecheck = this.#now();
    try {
      const version = await source.version();
      if (version === this.#seenVersion) return false;
      this.#seenVersion = version;
      return this.refreshPasswords(await source.passwords());
    } catch {
      return false;
    }
  }

  /**
   * Installs new bridge passwords (user ID → password); whether any changed. The sessions logged
   * in with an old one are ended ({@link AccountDirectory.onPasswordChanged}): a password is
   * reset because it may have leaked.
   */
  refreshPasswords(passwords: Map<string, string>): boolean {
    let changed = false;
    for (const [userId, password] of passwords) {
      const rt = this.#runtimes.get(userId);
      if (rt && rt.bridgePassword !== password) {
        rt.bridgePassword = password;
        changed = true;
        this.onPasswordChanged?.(userId);
      }
    }
    return changed;
  }

  /** Told of each account whose bridge password changed (serve ends its sessions). */
  onPasswordChanged?: (userId: string) => void;

  /** The IMAP server's authenticator. */
  imapAuthenticator(): {
    authenticate(username: string, password: string): Promise<MailAccount | null>;
  } {
    return {
      authenticate: async (username, password) => {
        const rt = await this.check(username, password);
        if (!rt) return null;
        const mail = rt.mailAccountFor(username);
        if (mail) return mail;
        if (rt.state === "ready") {
          throw new AccountUnavailableError(
            "IMAP is not available: this build has no account connector",
          );
        }
        throw rt.unavailable();
      },
    };
  }

  /** The SMTP server's authenticator. */
  smtpAuthenticator(): {
    authenticate(username: string, password: string): Promise<SendingAccount | null>;
  } {
    return {
      authenticate: async (username, password) => {
        const rt = await this.check(username, password);
        return rt ? rt.smtpAccount(username) : null;
      },
    };
  }
}
