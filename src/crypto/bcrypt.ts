/**
 * bcrypt as Proton's SRP and key-password derivation use it (go-srp `hash.go`): the bcrypt
 * base64 alphabet, cost 10, and the `$2y$` prefix in the output string.
 *
 * The hashing itself is npm `bcryptjs`; this module only fixes the salt encoding and the prefix.
 *
 * @module
 */

import bcrypt from "bcryptjs";

/** bcrypt's base64 alphabet: like standard base64 but `./` first and no padding. */
const BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The cost factor and prefix Proton uses everywhere. */
const BCRYPT_PREFIX = "$2y$10$";

/**
 * Encodes bytes with bcrypt's base64 alphabet, without padding (Go's
 * `base64.NewEncoding(alphabet).WithPadding(NoPadding)`): 16 bytes become 22 characters.
 *
 * @param bytes The bytes to encode.
 * @returns The encoded string.
 */
export function bcryptBase64Encode(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += BCRYPT_ALPHABET[(n >> 18) & 63]! + BCRYPT_ALPHABET[(n >> 12) & 63]! +
      BCRYPT_ALPHABET[(n >> 6) & 63]! + BCRYPT_ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += BCRYPT_ALPHABET[(n >> 18) & 63]! + BCRYPT_ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += BCRYPT_ALPHABET[(n >> 18) & 63]! + BCRYPT_ALPHABET[(n >> 12) & 63]! +
      BCRYPT_ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Runs bcrypt (cost 10) over `password` with the first 22 characters of an already
 * bcrypt-base64-encoded salt, and returns the full 60-character `$2y$10$<22 salt><31 hash>`
 * string. bcrypt reads only 16 salt bytes (22 characters, the last carrying 2 bits) and only the
 * first 72 bytes of the UTF-8 password.
 *
 * Proton's version 0–2 SRP hashing passes a 32-character hex string as the salt; bcrypt then
 * decodes its first 22 characters to 16 bytes. The returned string spells the salt canonically
 * (re-encoded from those 16 bytes), as bcryptjs in Proton's web client (WebClients
 * `packages/srp`) and the `bcrypt` crate in Proton's Rust `proton-srp` do. go-srp's bcrypt fork
 * (github.com/ProtonMail/bcrypt) instead echoes the 22 given characters, which differs in the 22nd
 * character whenever that character has non-zero low bits (most hex salts); for 16-byte salts
 * encoded with {@link bcryptBase64Encode} (versions 3/4, key passwords) all three agree.
 *
 * @param password The password (UTF-8 encoded by bcrypt).
 * @param encodedSalt At least 22 characters of bcrypt base64.
 * @returns The 60-character bcrypt string with the `$2y$` prefix.
 */
export function bcryptHashEncodedSalt(password: string, encodedSalt: string): string {
  if (encodedSalt.length < 22) {
    throw new RangeError(`bcrypt salt must have at least 22 characters, got ${encodedSalt.length}`);
  }
  for (const ch of encodedSalt.slice(0, 22)) {
    if (!BCRYPT_ALPHABET.includes(ch)) {
      throw new RangeError(`bcrypt salt has a character outside the bcrypt alphabet: "${ch}"`);
    }
  }
  const hashed = bcrypt.hashSync(password, BCRYPT_PREFIX + encodedSalt.slice(0, 22));
  if (hashed.length !== 60) {
    throw new Error(`bcrypt returned ${hashed.length} characters instead of 60`);
  }
  // bcryptjs keeps the minor version it was given; force `$2y$` whatever it is, as go-srp does.
  return BCRYPT_PREFIX + hashed.slice(BCRYPT_PREFIX.length);
}

/**
 * bcrypt (cost 10) of `password` with a 16-byte salt, as Proton does it: the salt is encoded with
 * {@link bcryptBase64Encode} and the result is the full 60-character `$2y$10$<22><31>` string.
 *
 * @param password The password (only its first 72 UTF-8 bytes matter to bcrypt).
 * @param salt16 Exactly 16 salt bytes.
 * @returns The 60-character bcrypt string with the `$2y$` prefix.
 */
export function bcryptHash(password: string, salt16: Uint8Array): string {
  if (salt16.length !== 16) {
    throw new RangeError(`bcrypt salt must be 16 bytes, got ${salt16.length}`);
  }
  return bcryptHashEncodedSalt(password, bcryptBase64Encode(salt16));
}
