/**
 * Fixed values of Proton's SRP: the public key that signs Proton's moduli, and the modulus the
 * reference server uses.
 *
 * @module
 */

/**
 * Proton's modulus-signing public key (Ed25519, user ID `proton@srp.modulus`, key ID
 * 350585C4E9518F26). Every `Modulus` field of `/auth/v4/info` is clear-signed with it, and
 * Bridge accepts no other signer.
 *
 * Source: github.com/ProtonMail/go-srp `srp.go`, constant `modulusPubkey`, verbatim (the newer
 * copies of that file spell the line breaks as `\r\n`; the key is the same).
 */
export const PROTON_MODULUS_PUBKEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----

xjMEXAHLgxYJKwYBBAHaRw8BAQdAFurWXXwjTemqjD7CXjXVyKf0of7n9Ctm
L8v9enkzggHNEnByb3RvbkBzcnAubW9kdWx1c8J3BBAWCgApBQJcAcuDBgsJ
BwgDAgkQNQWFxOlRjyYEFQgKAgMWAgECGQECGwMCHgEAAPGRAP9sauJsW12U
MnTQUZpsbJb53d0Wv55mZIIiJL2XulpWPQD/V6NglBd96lZKBmInSXX/kXat
Sv+y0io+LR8i2+jV+AbOOARcAcuDEgorBgEEAZdVAQUBAQdAeJHUz1c9+KfE
kSIgcBRE3WuXC4oj5a2/U3oASExGDW4DAQgHwmEEGBYIABMFAlwBy4MJEDUF
hcTpUY8mAhsMAAD/XQD8DxNI6E78meodQI+wLsrKLeHn32iLvUqJbVDhfWSU
WO4BAMcm1u02t4VKw++ttECPt+HUgPUq5pqQWe5Q2cW4TMsE
=Y4Mw
-----END PGP PUBLIC KEY BLOCK-----`;

/**
 * The reference server's SRP modulus N: a 2048-bit safe prime with N ≡ 3 (mod 8), as 256
 * little-endian bytes in standard base64 (the form the `Modulus` field carries inside its
 * clear-signed text). The reference server signs it with its own key at start-up.
 *
 * Made once with `openssl prime -generate -safe -bits 2048` (OpenSSL 3.0.19), repeated until the
 * prime was 3 mod 8 (openssl's safe primes are 3 or 7 mod 8), then converted from big-endian to
 * little-endian. `openssl prime` confirms both N and (N−1)/2 prime. Big-endian hex:
 * d9f6301c030fec0cc0b1d6c39b3349382681d2e9e091d3e04337a18ed92ae933898f484dd971b88c068b3d281b6556
 * 54e9cf0c25ea4df87645311295652b2e69e2cccba53775d706e8945c5fa7d0276fe3275096cd7b662bde79f92543f4
 * 82e1fb0d3a704acb946cbcb295b24e3401625c14c86f623162cf170680b9c0396fca089ad76a5a8e26fb9347de2e23
 * 46b46c605aada00f0e3698341cc03f77feaa1f8146adb94381548637eb74203e84bf4ccd9a1a9883dd09754a528f8d
 * d61117d256debd3e92c38593113c217330d63f1abee153ecdc6c07dda951f82f710bab809c40d598011d0a58d2b278
 * a8371e3928e4c1201227f2f6c48152df2b324de5a3
 */
export const REFERENCE_MODULUS_B64 =
  "o+VNMivfUoHE9vInEiDB5Cg5HjeoeLLSWAodAZjVQJyAqwtxL/hRqd0HbNzsU+G+Gj/WMHMhPBGThcOSPr3eVtIXEdaN" +
  "j1JKdQndg5gams1Mv4Q+IHTrN4ZUgUO5rUaBH6r+dz/AHDSYNg4PoK1aYGy0RiMu3keT+yaOWmrXmgjKbznAuYAGF89i" +
  "MWJvyBRcYgE0TrKVsrxslMtKcDoN++GC9EMl+XneK2Z7zZZQJ+NvJ9CnX1yU6AbXdTely8ziaS4rZZUSMUV2+E3qJQzP" +
  "6VRWZRsoPYsGjLhx2U1Ij4kz6SrZjqE3Q+DTkeDp0oEmOEkzm8PWscAM7A8DHDD22Q==";
