/**
 * Vault writes of a long-running `bridge serve`: new refresh tokens after each token refresh, the
 * cookie jar, the first-sync flag. Other commands (`bridge login`, `logout`, `reset-password`)
 * may change the vault while serve runs, so every write opens the vault afresh, changes one thing
 * and saves, one write at a time; a write about an account that has left the vault meanwhile is
 * skipped and reported, never resurrecting the account.
 *
 * @module
 */
import { type KeyStoreChoice, openKeyStore, Vault, type VaultAccount } from "../vault/mod.ts";

/** The account a write was about is no longer in the vault (`bridge logout` while serving). */
export class AccountRemovedError extends Error {
  override name = "AccountRemovedError";
}

/** Serialised read-modify-write of the vault file. */
export class VaultWriter {
  readonly dataDir: string;
  readonly keyStore: KeyStoreChoice;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #open: () => Promise<Vault>;

  /** `open` opens the vault (tests inject one). */
  constructor(dataDir: string, keyStore: KeyStoreChoice, open?: () => Promise<Vault>) {
    this.dataDir = dataDir;
    this.keyStore = keyStore;
    this.#open = open ??
      (async () => Vault.open(dataDir, await openKeyStore(dataDir, { choice: keyStore })));
  }

  /**
   * Opens the vault, runs `change` on it and saves; writes queue behind each other.
   * Resolves to what `change` returned.
   */
  update<T>(change: (vault: Vault) => T): Promise<T> {
    const run = this.#queue.then(async () => {
      const vault = await this.#open();
      const result = change(vault);
      await vault.save();
      return result;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Reads the vault's accounts now (no write). */
  async accounts(): Promise<VaultAccount[]> {
    await this.#queue;
    return (await this.#open()).accounts();
  }

  /**
   * Changes the account with `userId`.
   *
   * @throws {AccountRemovedError} when the vault no longer has it.
   */
  updateAccount(userId: string, change: (vault: Vault, email: string) => void): Promise<void> {
    return this.update((vault) => {
      const account = vault.accountByUserId(userId);
      if (!account) {
        throw new AccountRemovedError(
          "the account is no longer in the vault (signed out with `bridge logout`?)",
        );
      }
      change(vault, account.email);
    });
  }
}
