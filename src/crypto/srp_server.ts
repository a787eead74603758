/**
 * The server side of Proton's SRP (go-srp `server.go`, `GenerateVerifier`), for the reference
 * server and tests: the verifier v = g^x mod N stored at sign-up, the server ephemeral
 * B = k·v + g^b mod N, and the check of the client proof with S = (A·v^u)^b mod N.
 *
 * @module
 */

import {
  checkModulus,
  checkSecret,
  computeMultiplier,
  randomSecret,
  SRP_GENERATOR,
} from "./srp_client.ts";
import { SrpError } from "./srp_error.ts";
import {
  bigIntToBytesLE,
  bytesEqual,
  bytesToBigIntLE,
  concatBytes,
  decodeBase64,
  encodeBase64,
  expandHash,
  modPow,
  SRP_BYTE_LENGTH,
} from "./srp_hash.ts";
import { hashPassword } from "./srp_password.ts";

/**
 * Computes the verifier v = g^x mod N that the server stores instead of the password.
 *
 * @param version The auth version the verifier is for (4 for new accounts).
 * @param password The password.
 * @param username The username (versions 0–2 only).
 * @param salt The raw salt (versions 3–4: normally 10 random bytes; sent base64 as `Salt`).
 * @param modulus The 256-byte little-endian modulus.
 * @returns v as 256 bytes, little-endian.
 * @throws {SrpError} `bad-modulus`, `bad-input` or `unsupported-version`.
 */
export function generateVerifier(
  version: number,
  password: string,
  username: string,
  salt: Uint8Array,
  modulus: Uint8Array,
): Uint8Array {
  const n = checkModulus(modulus);
  const x = bytesToBigIntLE(hashPassword(version, password, username, salt, modulus));
  return bigIntToBytesLE(modPow(SRP_GENERATOR, x, n));
}

/**
 * One SRP login attempt on the server: created for `/auth/v4/info` (which sends
 * {@link serverEphemeral}), consumed by `/auth/v4` ({@link verifyClientProof}). A session checks
 * one proof only; a second call throws, so each attempt needs a fresh session as with Proton.
 */
export class SrpServerSession {
  /** base64 of B (256 bytes LE), sent as `ServerEphemeral`. */
  readonly serverEphemeral: string;

  #n: bigint;
  #verifier: bigint;
  #secret: bigint;
  #serverEphemeralBytes: Uint8Array;
  #used = false;

  /**
   * @param modulus The 256-byte little-endian modulus (checked like the client does).
   * @param verifier The stored verifier v (256 bytes LE, from {@link generateVerifier}).
   * @param randomB The server secret b; tests only. Random when absent.
   * @throws {SrpError} `bad-modulus`, `bad-input` or `bad-params`.
   */
  constructor(modulus: Uint8Array, verifier: Uint8Array, randomB?: bigint) {
    const n = checkModulus(modulus);
    if (verifier.length !== SRP_BYTE_LENGTH) {
      throw new SrpError(
        "bad-input",
        `SRP verifier must be ${SRP_BYTE_LENGTH} bytes, got ${verifier.length}`,
      );
    }
    const v = bytesToBigIntLE(verifier);
    if (v <= 1n || v >= n - 1n) throw new SrpError("bad-params", "SRP verifier is out of bounds");
    const k = computeMultiplier(n);
    if (randomB !== undefined) checkSecret(randomB, n, "server secret");
    let b: bigint;
    let bigB: bigint;
    for (;;) {
      b = randomB ?? randomSecret(n);
      bigB = (k * v + modPow(SRP_GENERATOR, b, n)) % n;
      // The client rejects B outside (1, N−1); draw again (practically never happens).
      if (bigB > 1n && bigB < n - 1n) break;
      if (randomB !== undefined) {
        throw new SrpError("bad-params", "SRP server ephemeral is out of bounds");
      }
    }
    this.#n = n;
    this.#verifier = v;
    this.#secret = b;
    this.#serverEphemeralBytes = bigIntToBytesLE(bigB);
    this.serverEphemeral = encodeBase64(this.#serverEphemeralBytes);
  }

  /**
   * Checks the client's proof M1 and returns the server proof M2.
   *
   * @param clientEphemeral `ClientEphemeral`, base64 of A (256 bytes LE).
   * @param clientProof `ClientProof`, base64 of M1 (256 bytes).
   * @returns `ServerProof`, base64 of M2.
   * @throws {SrpError} `bad-client-proof` for a wrong proof (wrong password), `bad-params` for
   * an invalid A (A ≡ 0 mod N, out of bounds, u = 0) or a session already used, `bad-input` for
   * malformed base64 or lengths.
   */
  verifyClientProof(clientEphemeral: string, clientProof: string): string {
    if (this.#used) throw new SrpError("bad-params", "SRP session was already used");
    this.#used = true;
    const n = this.#n;
    const aBytes = decodeBase64(clientEphemeral, "the client ephemeral");
    const proof = decodeBase64(clientProof, "the client proof");
    if (aBytes.length !== SRP_BYTE_LENGTH) {
      throw new SrpError(
        "bad-input",
        `SRP client ephemeral must be ${SRP_BYTE_LENGTH} bytes, got ${aBytes.length}`,
      );
    }
    const a = bytesToBigIntLE(aBytes);
    if (a % n === 0n) throw new SrpError("bad-params", "SRP client ephemeral is zero modulo N");
    if (a <= 1n || a >= n - 1n) {
      throw new SrpError("bad-params", "SRP client ephemeral is out of bounds");
    }
    const u = bytesToBigIntLE(expandHash(concatBytes(aBytes, this.#serverEphemeralBytes)));
    if (u === 0n) throw new SrpError("bad-params", "SRP client ephemeral is invalid");

    const s = modPow((a * modPow(this.#verifier, u, n)) % n, this.#secret, n);
    const sBytes = bigIntToBytesLE(s);
    const expected = expandHash(concatBytes(aBytes, this.#serverEphemeralBytes, sBytes));
    if (!bytesEqual(expected, proof)) {
      throw new SrpError("bad-client-proof", "SRP client proof is wrong");
    }
    return encodeBase64(expandHash(concatBytes(aBytes, proof, sBytes)));
  }
}
