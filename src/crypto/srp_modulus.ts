/**
 * The signed SRP modulus (go-srp `srp.go` `readClearSignedMessage`; shared/docs/proton-api.md
 * §2.2): `AuthInfo.Modulus` and `GET /auth/v4/modulus` carry N as a PGP clear-signed message
 * ("Hash: SHA256") whose text is the base64 of the 256-byte little-endian modulus. The client
 * verifies it against a fixed key (Proton's {@link PROTON_MODULUS_PUBKEY}, or the reference
 * server's key in tests and demos) before using N.
 *
 * @module
 */

import * as openpgp from "openpgp";
import { SrpError } from "./srp_error.ts";
import { decodeBase64, encodeBase64, SRP_BYTE_LENGTH } from "./srp_hash.ts";

const BEGIN_SIGNED = "-----BEGIN PGP SIGNED MESSAGE-----";
const END_SIGNATURE = "-----END PGP SIGNATURE-----";

// openpgp.js 6.3.2 runtime signatures its typings hide (the version is pinned in deno.json; the
// tests check the `Hash: SHA256` header, so a change in a later version is caught there):
// `LiteralDataPacket.setText`, the 5th (config) argument of `SignaturePacket.sign`, and the
// `CleartextMessage(text, signature)` constructor that `openpgp.sign` itself uses.
interface LiteralDataPacketInternals {
  setText(text: string): void;
}
interface SignaturePacketInternals {
  sign(
    key: openpgp.AnySecretKeyPacket | openpgp.PublicKeyPacket | openpgp.PublicSubkeyPacket,
    data: openpgp.LiteralDataPacket,
    date: Date,
    detached: boolean,
    config: openpgp.Config,
  ): Promise<void>;
}
type CleartextMessageConstructor = new (
  text: string,
  signature: openpgp.Signature,
) => openpgp.CleartextMessage;

/** User ID of the reference server's modulus-signing key (Proton's is `proton@srp.modulus`). */
export const REFERENCE_MODULUS_KEY_EMAIL = "reference-server@srp.modulus";

/**
 * Clear-signs a modulus the way Proton's `Modulus` field looks: `Hash: SHA256`, one detached v4
 * text signature, text = standard base64 of the 256 bytes.
 *
 * openpgp.js 6 always picks SHA-512 for an Ed25519 key (the curve's preferred hash), so the
 * signature packet is built directly with SHA-256, as Proton's own modulus signatures are.
 *
 * @param modulus The 256-byte little-endian modulus.
 * @param signingKey A decrypted private key (for example from {@link generateModulusKey}).
 * @returns The armored clear-signed message.
 * @throws {SrpError} `bad-input` when the modulus is not 256 bytes or the key cannot sign.
 */
export async function signModulus(
  modulus: Uint8Array,
  signingKey: openpgp.PrivateKey,
): Promise<string> {
  if (modulus.length !== SRP_BYTE_LENGTH) {
    throw new SrpError(
      "bad-input",
      `SRP modulus must be ${SRP_BYTE_LENGTH} bytes, got ${modulus.length}`,
    );
  }
  const text = encodeBase64(modulus);
  try {
    const key = await signingKey.getSigningKey();
    const now = new Date();
    const literal = new openpgp.LiteralDataPacket();
    (literal as unknown as LiteralDataPacketInternals).setText(text);
    const signature = new openpgp.SignaturePacket();
    signature.signatureType = openpgp.enums.signature.text;
    signature.publicKeyAlgorithm = key.keyPacket.algorithm;
    signature.hashAlgorithm = openpgp.enums.hash.sha256;
    await (signature as unknown as SignaturePacketInternals).sign(
      key.keyPacket,
      literal,
      now,
      true,
      {
        ...openpgp.config,
        // Keep the packet plain, like Proton's (no openpgp.js salt notation).
        nonDeterministicSignaturesViaNotation: false,
      },
    );
    const packets = new openpgp.PacketList<openpgp.SignaturePacket>();
    packets.push(signature);
    const Cleartext = openpgp.CleartextMessage as unknown as CleartextMessageConstructor;
    return new Cleartext(text, new openpgp.Signature(packets)).armor();
  } catch (err) {
    throw new SrpError("bad-input", `Cannot sign the SRP modulus: ${errorText(err)}`, {
      cause: err,
    });
  }
}

/**
 * Verifies a clear-signed modulus and returns N.
 *
 * Rejects (kind `bad-signature`) a message that is not clear-signed, has no signature, has a
 * signature not made by one of `trustedPublicKeys`, does not verify (tampered text or
 * signature), or has anything but whitespace before the `BEGIN PGP SIGNED MESSAGE` line or after
 * the first `END PGP SIGNATURE` line (go-srp `ErrDataAfterModulus`). Every signature present must
 * verify against a trusted key.
 *
 * @param clearSigned The `Modulus` field.
 * @param trustedPublicKeys Armored public keys, any of which may have signed.
 * @returns The 256-byte little-endian modulus (its SRP parameters are not checked here; the
 * client checks them in `generateProofs`).
 * @throws {SrpError} `bad-signature` as above, `bad-modulus` when the text is not base64 of
 * 256 bytes, `bad-input` when a trusted key cannot be read.
 */
export async function readSignedModulus(
  clearSigned: string,
  trustedPublicKeys: string[],
): Promise<Uint8Array> {
  if (typeof clearSigned !== "string") {
    throw new SrpError("bad-signature", "SRP modulus is not a clear-signed message");
  }
  const begin = clearSigned.indexOf(BEGIN_SIGNED);
  if (begin < 0) throw new SrpError("bad-signature", "SRP modulus is not clear-signed");
  if (clearSigned.slice(0, begin).trim() !== "") {
    throw new SrpError("bad-signature", "SRP modulus has data before the signed message");
  }
  const end = clearSigned.indexOf(END_SIGNATURE, begin);
  if (end < 0) throw new SrpError("bad-signature", "SRP modulus signature is incomplete");
  const blockEnd = end + END_SIGNATURE.length;
  if (clearSigned.slice(blockEnd).trim() !== "") {
    throw new SrpError("bad-signature", "SRP modulus has data after the signature");
  }
  if (trustedPublicKeys.length === 0) {
    throw new SrpError("bad-input", "No trusted key to verify the SRP modulus with");
  }

  let keys: openpgp.Key[];
  try {
    keys = await Promise.all(
      trustedPublicKeys.map((armoredKey) => openpgp.readKey({ armoredKey })),
    );
  } catch (err) {
    throw new SrpError("bad-input", `Cannot read a trusted modulus key: ${errorText(err)}`, {
      cause: err,
    });
  }

  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({
      cleartextMessage: clearSigned.slice(begin, blockEnd),
    });
  } catch (err) {
    throw new SrpError("bad-signature", `SRP modulus is malformed: ${errorText(err)}`, {
      cause: err,
    });
  }

  let text: string;
  try {
    const result = await openpgp.verify({ message, verificationKeys: keys });
    if (result.signatures.length === 0) throw new Error("no signature");
    for (const signature of result.signatures) await signature.verified;
    text = message.getText();
  } catch (err) {
    throw new SrpError("bad-signature", `Invalid SRP modulus signature: ${errorText(err)}`, {
      cause: err,
    });
  }

  let modulus: Uint8Array;
  try {
    // Go's base64 decoder skips line breaks; nothing else is allowed.
    modulus = decodeBase64(text.replace(/[\r\n]/g, ""), "the SRP modulus");
  } catch (err) {
    throw new SrpError("bad-modulus", "SRP modulus text is not base64", { cause: err });
  }
  if (modulus.length !== SRP_BYTE_LENGTH) {
    throw new SrpError(
      "bad-modulus",
      `SRP modulus must be ${SRP_BYTE_LENGTH} bytes, got ${modulus.length}`,
    );
  }
  return modulus;
}

/**
 * Generates a modulus-signing key for the reference server: a v4 Ed25519 (EdDSA legacy) key like
 * Proton's, user ID `<reference-server@srp.modulus>`, no subkeys, no passphrase.
 *
 * @returns The private key object and the armored public key to give clients as trusted.
 */
export async function generateModulusKey(): Promise<
  { privateKey: openpgp.PrivateKey; publicKey: string }
> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ email: REFERENCE_MODULUS_KEY_EMAIL }],
    subkeys: [],
    format: "object",
  });
  return { privateKey, publicKey: publicKey.armor() };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
