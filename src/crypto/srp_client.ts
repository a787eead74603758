/**
 * The client side of Proton's SRP login (go-srp `srp.go` `GenerateProofs`; shared/docs/
 * proton-api.md §2.2, §2.4): parameter checks on the modulus and server ephemeral, the client
 * ephemeral A, the client proof M1 and the expected server proof M2.
 *
 * Proton's variant of SRP-6a: g = 2, N a 2048-bit safe prime with N ≡ 3 (mod 8), every integer a
 * 256-byte little-endian string, H = {@link expandHash}, k = H(pad(g) ‖ N) mod N, u = H(A ‖ B),
 * S = (B − k·g^x)^(a + u·x) mod N, M1 = H(A ‖ B ‖ S), M2 = H(A ‖ M1 ‖ S). No username in x, no
 * H(N)⊕H(g) term, no K = H(S).
 *
 * @module
 */

import { SrpError } from "./srp_error.ts";
import {
  bigIntToBytesLE,
  bitLength,
  bytesEqual,
  bytesToBigIntLE,
  concatBytes,
  decodeBase64,
  encodeBase64,
  expandHash,
  mod,
  modPow,
  SRP_BIT_LENGTH,
  SRP_BYTE_LENGTH,
} from "./srp_hash.ts";
import { hashPassword } from "./srp_password.ts";

/** The generator g. */
export const SRP_GENERATOR = 2n;

/** Secrets a and b must exceed this (go-srp: `2 * bitLength`), so g^a wraps around N. */
const MIN_SECRET = BigInt(2 * SRP_BIT_LENGTH);

/** Miller–Rabin rounds with random bases for the safe-prime check (error ≤ 4^-32). */
const MILLER_RABIN_ROUNDS = 32;

/** Moduli that already passed {@link checkModulus}, keyed by their hex value. */
const checkedModuli = new Set<string>();

/** Small primes for trial division before Miller–Rabin. */
const SMALL_PRIMES: bigint[] = (() => {
  const out: bigint[] = [];
  for (let n = 3; n < 2000; n += 2) {
    let prime = true;
    for (let d = 3; d * d <= n; d += 2) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) out.push(BigInt(n));
  }
  return out;
})();

/**
 * Checks the modulus as go-srp does before use (`checkParams`): 256 bytes, exactly 2048 bits,
 * N ≡ 3 (mod 8), (N−1)/2 probably prime (so N is a safe prime), g^((N−1)/2) ≡ N−1 (mod N), and
 * 1 < g < N−1. Results are cached per modulus because the primality test is slow.
 *
 * @param modulus The 256-byte little-endian modulus.
 * @returns N as an integer.
 * @throws {SrpError} `bad-modulus` when a check fails.
 */
export function checkModulus(modulus: Uint8Array): bigint {
  if (modulus.length !== SRP_BYTE_LENGTH) {
    throw new SrpError(
      "bad-modulus",
      `SRP modulus must be ${SRP_BYTE_LENGTH} bytes, got ${modulus.length}`,
    );
  }
  const n = bytesToBigIntLE(modulus);
  const key = n.toString(16);
  if (checkedModuli.has(key)) return n;
  if (bitLength(n) !== SRP_BIT_LENGTH) {
    throw new SrpError(
      "bad-modulus",
      `SRP modulus has ${bitLength(n)} bits instead of ${SRP_BIT_LENGTH}`,
    );
  }
  if (n % 8n !== 3n) {
    throw new SrpError("bad-modulus", `SRP modulus is ${n % 8n} mod 8 instead of 3`);
  }
  const nMinusOne = n - 1n;
  if (SRP_GENERATOR <= 1n || SRP_GENERATOR >= nMinusOne) {
    throw new SrpError("bad-modulus", "SRP generator is out of bounds");
  }
  // g^((N−1)/2) ≡ −1 makes 2^(N−1) ≡ 1 (Fermat/Pocklington) and g a quadratic non-residue, hence
  // a generator of the full group when N is a safe prime.
  if (modPow(SRP_GENERATOR, nMinusOne >> 1n, n) !== nMinusOne) {
    throw new SrpError("bad-modulus", "SRP generator is not a quadratic non-residue modulo N");
  }
  if (!isProbablePrime(nMinusOne >> 1n)) {
    throw new SrpError("bad-modulus", "SRP modulus is not a safe prime");
  }
  checkedModuli.add(key);
  return n;
}

/**
 * Miller–Rabin with trial division, base 2 and {@link MILLER_RABIN_ROUNDS} random bases.
 *
 * @param n The odd candidate.
 * @returns Whether `n` is probably prime.
 */
export function isProbablePrime(n: bigint): boolean {
  if (n < 2n) return false;
  if (n === 2n) return true;
  if (n % 2n === 0n) return false;
  for (const p of SMALL_PRIMES) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while (d % 2n === 0n) {
    d >>= 1n;
    s++;
  }
  const byteLen = Math.ceil(bitLength(n) / 8);
  const witness = (a: bigint): boolean => {
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) return false;
    for (let i = 1; i < s; i++) {
      x = (x * x) % n;
      if (x === n - 1n) return false;
    }
    return true;
  };
  if (witness(2n)) return false;
  for (let round = 0; round < MILLER_RABIN_ROUNDS; round++) {
    // A base in [2, n−2].
    const a = 2n + mod(randomBigInt(byteLen + 8), n - 3n);
    if (witness(a)) return false;
  }
  return true;
}

/**
 * k = H(pad256LE(g) ‖ N) mod N, which must satisfy 1 < k < N−1 (go-srp `computeMultiplier`).
 *
 * @param n The modulus.
 * @returns k.
 * @throws {SrpError} `bad-params` when k is out of bounds.
 */
export function computeMultiplier(n: bigint): bigint {
  const k = mod(
    bytesToBigIntLE(expandHash(concatBytes(bigIntToBytesLE(SRP_GENERATOR), bigIntToBytesLE(n)))),
    n,
  );
  if (k <= 1n || k >= n - 1n) {
    throw new SrpError("bad-params", "SRP multiplier is out of bounds");
  }
  return k;
}

/**
 * A uniformly random secret in (4096, N−1), as go-srp draws a and b (`rand.Int(N−1)` until it
 * exceeds 2·bitLength).
 *
 * @param n The modulus.
 * @returns The secret.
 */
export function randomSecret(n: bigint): bigint {
  for (;;) {
    const candidate = randomBigInt(SRP_BYTE_LENGTH);
    if (candidate < n - 1n && candidate > MIN_SECRET) return candidate;
  }
}

/** Checks an injected secret (tests only) against the range {@link randomSecret} draws from. */
export function checkSecret(secret: bigint, n: bigint, what: string): void {
  if (secret <= MIN_SECRET || secret >= n - 1n) {
    throw new SrpError("bad-input", `SRP ${what} is out of range`);
  }
}

function randomBigInt(bytes: number): bigint {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return bytesToBigIntLE(buf);
}

/** What the client sends (`ClientEphemeral`, `ClientProof`) and expects back, all base64. */
export interface SrpProofs {
  /** base64 of A (256 bytes LE), sent as `ClientEphemeral`. */
  clientEphemeral: string;
  /** base64 of M1 (256 bytes), sent as `ClientProof`. */
  clientProof: string;
  /** base64 of M2 (256 bytes); the `ServerProof` of the reply must equal it. */
  expectedServerProof: string;
}

/** Inputs of {@link generateProofs}: the `/auth/v4/info` reply plus the credentials. */
export interface GenerateProofsOptions {
  /** `AuthInfo.Version`, 0–4. */
  version: number;
  /** The username (hashed into x by versions 0–2 only). */
  username: string;
  /** The login password. */
  password: string;
  /** `AuthInfo.Salt`, base64 (decoded for versions 3–4 only, as go-srp does). */
  salt: string;
  /** The verified modulus N: 256 bytes, little-endian (see `readSignedModulus`). */
  modulus: Uint8Array;
  /** `AuthInfo.ServerEphemeral`, base64 of B (256 bytes LE). */
  serverEphemeral: string;
  /** The client secret a; tests only (known-answer vectors). Random when absent. */
  randomA?: bigint;
}

/**
 * Computes the client ephemeral, the client proof and the expected server proof.
 *
 * @param opts See {@link GenerateProofsOptions}.
 * @returns The proofs, base64.
 * @throws {SrpError} `bad-modulus`, `bad-params`, `bad-input` or `unsupported-version`.
 */
export function generateProofs(opts: GenerateProofsOptions): SrpProofs {
  const n = checkModulus(opts.modulus);
  const nMinusOne = n - 1n;
  const k = computeMultiplier(n);

  const serverEphemeralBytes = decodeBase64(opts.serverEphemeral, "the server ephemeral");
  if (serverEphemeralBytes.length !== SRP_BYTE_LENGTH) {
    throw new SrpError(
      "bad-input",
      `SRP server ephemeral must be ${SRP_BYTE_LENGTH} bytes, got ${serverEphemeralBytes.length}`,
    );
  }
  const bigB = bytesToBigIntLE(serverEphemeralBytes);
  if (bigB <= 1n || bigB >= nMinusOne) {
    throw new SrpError("bad-params", "SRP server ephemeral is out of bounds");
  }

  if (opts.randomA !== undefined) checkSecret(opts.randomA, n, "client secret");

  const salt = opts.version >= 3 ? decodeBase64(opts.salt, "the salt") : new Uint8Array(0);
  const xBytes = hashPassword(opts.version, opts.password, opts.username, salt, opts.modulus);
  const x = bytesToBigIntLE(xBytes);

  let a: bigint;
  let aBytes: Uint8Array;
  let u: bigint;
  for (;;) {
    a = opts.randomA ?? randomSecret(n);
    aBytes = bigIntToBytesLE(modPow(SRP_GENERATOR, a, n));
    u = bytesToBigIntLE(expandHash(concatBytes(aBytes, serverEphemeralBytes)));
    if (u !== 0n) break;
    if (opts.randomA !== undefined) {
      throw new SrpError("bad-params", "SRP scrambling parameter is zero");
    }
  }

  const base = mod(bigB - (k * modPow(SRP_GENERATOR, x, n)) % n, n);
  const exponent = mod(a + u * x, nMinusOne);
  const sBytes = bigIntToBytesLE(modPow(base, exponent, n));

  const clientProof = expandHash(concatBytes(aBytes, serverEphemeralBytes, sBytes));
  const serverProof = expandHash(concatBytes(aBytes, clientProof, sBytes));
  return {
    clientEphemeral: encodeBase64(aBytes),
    clientProof: encodeBase64(clientProof),
    expectedServerProof: encodeBase64(serverProof),
  };
}

/**
 * Compares the server's `ServerProof` with the expected M2 in constant time.
 *
 * @param expected `expectedServerProof` from {@link generateProofs}.
 * @param got `ServerProof` from the `/auth/v4` reply.
 * @throws {SrpError} `bad-server-proof` when they differ or `got` is not valid base64.
 */
export function verifyServerProof(expected: string, got: string): void {
  let want: Uint8Array;
  let have: Uint8Array;
  try {
    want = decodeBase64(expected, "the expected server proof");
    have = decodeBase64(got, "the server proof");
  } catch (err) {
    throw new SrpError("bad-server-proof", "SRP server proof is not valid base64", {
      cause: err,
    });
  }
  if (want.length === 0 || !bytesEqual(want, have)) {
    throw new SrpError("bad-server-proof", "SRP server proof does not match");
  }
}
