/**
 * Test helper: keys generated once per test process and shared by the crypto tests (key
 * generation, RSA above all, is the slow part).
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { type GeneratedKey, generateKey, unlockKey } from "./keys.ts";

/** A generated key pair with its passphrase and the unlocked private key. */
export interface TestKey extends GeneratedKey {
  passphrase: string;
  unlocked: openpgp.PrivateKey;
}

const cache = new Map<string, Promise<TestKey>>();

async function make(name: string, type: "ecc" | "rsa"): Promise<TestKey> {
  const passphrase = `pass-${name}`;
  const generated = await generateKey({ name, email: `${name}@example.test`, type, passphrase });
  return { ...generated, passphrase, unlocked: await unlockKey(generated.privateKey, passphrase) };
}

/** A curve25519 key named `name` (same object on every call). */
export function eccKey(name: string): Promise<TestKey> {
  return memo(`ecc:${name}`, () => make(name, "ecc"));
}

/** The one RSA-2048 key of the test run. */
export function rsaKey(): Promise<TestKey> {
  return memo("rsa", () => make("rsa", "rsa"));
}

function memo(key: string, create: () => Promise<TestKey>): Promise<TestKey> {
  let p = cache.get(key);
  if (!p) cache.set(key, p = create());
  return p;
}

/** Asserts that `fn` rejects with a CryptoError of `kind`; returns the error. */
export async function rejectsKind(
  fn: () => Promise<unknown>,
  kind: string,
): Promise<Error & { kind: string }> {
  try {
    await fn();
  } catch (err) {
    const e = err as Error & { kind: string };
    if (e?.name !== "CryptoError" || e.kind !== kind) {
      throw new Error(`expected CryptoError ${kind}, got ${e?.name} ${e?.kind}: ${e?.message}`, {
        cause: err,
      });
    }
    return e;
  }
  throw new Error(`expected CryptoError ${kind}, but it resolved`);
}
