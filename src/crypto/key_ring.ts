/**
 * An ordered set of unlocked private keys, as Bridge's `crypto.KeyRing`: the user keyring and one
 * keyring per address. The first key (first unlocked key in API order) encrypts and signs new data
 * (proton-api.md §3.1).
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { CryptoError } from "./errors.ts";

/** Unlocked private keys in API order. */
export class KeyRing {
  /** The keys, first one first. */
  readonly keys: readonly openpgp.PrivateKey[];

  /** @param keys Unlocked private keys in API order. */
  constructor(keys: openpgp.PrivateKey[]) {
    this.keys = [...keys];
  }

  /** Number of keys. */
  get size(): number {
    return this.keys.length;
  }

  /**
   * The key that encrypts and signs new data.
   *
   * @throws {CryptoError} `no-key` when the ring is empty.
   */
  first(): openpgp.PrivateKey {
    const key = this.keys[0];
    if (!key) throw new CryptoError("no-key", "The key ring is empty");
    return key;
  }

  /** The public parts of all keys, in order. */
  publicKeys(): openpgp.PublicKey[] {
    return this.keys.map((k) => k.toPublic());
  }
}
