/**
 * Which address mode an account runs in, from its two sources: the configuration file's
 * `[accounts."<email>"] address_mode` when the file has a table for the account (an explicit
 * setting, like any other key of the file), else the vault's, which `bridge login` takes from the
 * configuration and `bridge mode EMAIL combined|split` changes. `bridge serve` reads both at start
 * and again on SIGHUP, and applies a change without a restart (`AccountRuntime.setAddressMode`).
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { AddressMode, VaultAccount } from "../vault/mod.ts";

/** The `[accounts."<email>"]` key of the configuration naming `email` (case-insensitive). */
export function configAccountKey(
  config: Pick<Config, "accounts">,
  email: string,
): string | undefined {
  const want = email.toLowerCase();
  return Object.keys(config.accounts).find((k) => k.toLowerCase() === want);
}

/**
 * The mode `account` runs in under `config`: the file's explicit setting, else the vault's.
 *
 * @example
 * ```ts ignore
 * const mode = effectiveAddressMode(config, vault.getAccount("alice@proton.me")!);
 * ```
 */
export function effectiveAddressMode(
  config: Pick<Config, "accounts">,
  account: Pick<VaultAccount, "email" | "addressMode">,
): AddressMode {
  const key = configAccountKey(config, account.email);
  return key === undefined ? account.addressMode : config.accounts[key].address_mode;
}
