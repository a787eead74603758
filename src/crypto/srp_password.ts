/**
 * Proton's SRP password hashing: the private value x for auth versions 0–4 (go-srp `hash.go`
 * `HashPassword`; shared/docs/proton-api.md §2.3).
 *
 * - Versions 3 and 4 (every current account): bcrypt (cost 10, `$2y$`) of the password with the
 *   16-byte salt `salt ‖ "proton"` (the API's salt is 10 bytes), then x = H(bcrypt string ‖ N).
 * - Version 2: as version 1 with the username lower-cased and `-`, `.`, `_` removed.
 * - Version 1: the bcrypt salt is the lower-case hex of MD5(lower-cased username), of which bcrypt
 *   reads the first 22 characters as bcrypt base64; x = H(bcrypt string ‖ N).
 * - Version 0: the bcrypt password is base64(SHA512(lower(username) ‖ password)), then version 1.
 *
 * Where Proton's implementations disagree on the legacy versions, this follows the spec, Proton's
 * web client (WebClients `packages/srp/lib/passwords.ts`) and Proton's Rust `proton-srp`
 * (`pmhash.rs`), which agree with each other:
 * - version 0 hashes `lower(username) ‖ password`; go-srp hashes only the password;
 * - the bcrypt string of versions 0–2 spells its salt canonically; go-srp echoes the hex
 *   characters (see {@link bcryptHashEncodedSalt}).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { bcryptHash, bcryptHashEncodedSalt } from "./bcrypt.ts";
import { SrpError } from "./srp_error.ts";
import { concatBytes, encodeBase64, expandHash, SRP_BYTE_LENGTH } from "./srp_hash.ts";

const PROTON_SUFFIX = new TextEncoder().encode("proton");

/**
 * Hashes the password into x (256 bytes, little-endian when read as an integer).
 *
 * @param version The account's auth version (`AuthInfo.Version`), 0–4.
 * @param password The login password.
 * @param username The username (used by versions 0–2 only).
 * @param salt The decoded `AuthInfo.Salt` (used by versions 3–4 only; normally 10 bytes).
 * @param modulus The 256-byte little-endian modulus N.
 * @returns x as 256 bytes.
 * @throws {SrpError} `unsupported-version` for other versions, `bad-input` for a modulus that is
 * not 256 bytes or a salt shorter than 10 bytes.
 */
export function hashPassword(
  version: number,
  password: string,
  username: string,
  salt: Uint8Array,
  modulus: Uint8Array,
): Uint8Array {
  if (modulus.length !== SRP_BYTE_LENGTH) {
    throw new SrpError(
      "bad-input",
      `SRP modulus must be ${SRP_BYTE_LENGTH} bytes, got ${modulus.length}`,
    );
  }
  switch (version) {
    case 4:
    case 3:
      return hashVersion3(password, salt, modulus);
    case 2:
      return hashVersion1(password, cleanUsername(username), modulus);
    case 1:
      return hashVersion1(password, username, modulus);
    case 0:
      return hashVersion0(password, username, modulus);
    default:
      throw new SrpError("unsupported-version", `Unsupported SRP auth version ${version}`);
  }
}

/** Lower-cases the username and removes `-`, `.` and `_` (go-srp `cleanUserName`). */
export function cleanUsername(username: string): string {
  return username.replace(/[-._]/g, "").toLowerCase();
}

function hashVersion3(password: string, salt: Uint8Array, modulus: Uint8Array): Uint8Array {
  // bcrypt reads 16 salt bytes: the 10-byte API salt and "proton". A longer salt pushes part of
  // the suffix out, exactly as in go-srp and the web client; a shorter one cannot fill 16 bytes.
  const extended = concatBytes(salt, PROTON_SUFFIX);
  if (extended.length < 16) {
    throw new SrpError("bad-input", `SRP salt must be at least 10 bytes, got ${salt.length}`);
  }
  const crypted = bcryptHash(password, extended.subarray(0, 16));
  return expandHash(concatBytes(new TextEncoder().encode(crypted), modulus));
}

function hashVersion1(password: string, username: string, modulus: Uint8Array): Uint8Array {
  const md5Hex = createHash("md5").update(new TextEncoder().encode(username.toLowerCase()))
    .digest("hex");
  const crypted = bcryptHashEncodedSalt(password, md5Hex);
  return expandHash(concatBytes(new TextEncoder().encode(crypted), modulus));
}

function hashVersion0(password: string, username: string, modulus: Uint8Array): Uint8Array {
  const prehashed = createHash("sha512")
    .update(new TextEncoder().encode(username.toLowerCase() + password))
    .digest();
  return hashVersion1(encodeBase64(new Uint8Array(prehashed)), username, modulus);
}
