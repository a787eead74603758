/**
 * Credentials at rest: the encrypted vault (`vault.enc`) and the store of its key (OS keychain or
 * a 0600 key file). See {@link Vault} and {@link openKeyStore}.
 *
 * @module
 */
export {
  type AccountInput,
  type AddressMode,
  bridgePasswordMatches,
  generateBridgePassword,
  type JsonValue,
  type SyncFlags,
  type TlsReference,
  Vault,
  VAULT_FILE_NAME,
  VAULT_FORMAT,
  VAULT_MAGIC,
  type VaultAccount,
  VaultError,
  vaultPath,
  type VaultRefusal,
  VaultRefusedError,
} from "./vault.ts";
export {
  type CommandRunner,
  denoRunner,
  KEY_FILE_NAME,
  KEY_STORE_CHOICES,
  type KeychainBackend,
  type KeyStore,
  type KeyStoreChoice,
  type KeyStoreDescription,
  KeyStoreError,
  type KeyStoreOptions,
  openKeyStore,
  type RunResult,
  VAULT_KEY_BYTES,
} from "./key_store.ts";
