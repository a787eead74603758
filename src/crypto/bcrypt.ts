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
 * Proton's version-1/2 SRP hashing passes a 32-character hex string as the salt; bcrypt then
 * uses its first 22 characters, which this function reproduces.
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
  const salt22 = encodedSalt.slice(0, 22);
  const hashed = bcrypt.hashSync(password, BCRYPT_PREFIX + salt22);
  if (hashed.length !== 60) {
    throw new Error(`bcrypt returned ${hashed.length} characters instead of 60`);
  }
  // go-srp's bcrypt (github.com/ProtonMail/bcrypt, `HashBytes`) copies the 22 salt characters it
  // was given into its output verbatim, while bcryptjs re-encodes the 16 decoded bytes, which
  // changes the 22nd character when its low 4 bits are not zero (always possible with the hex
  // salts of versions 0-2). The output string is hashed into x, so keep the given characters.
  return BCRYPT_PREFIX + salt22 + hashed.slice(BCRYPT_PREFIX.length + 22);
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
