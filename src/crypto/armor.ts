/**
 * ASCII armor for binary OpenPGP data the API carries armored: a split message joined back
 * (stored bodies, outbox ciphertexts) and detached signatures (stored attachment `Signature`).
 *
 * @module
 */
import * as openpgp from "openpgp";
import { looksArmored } from "./_pgp.ts";
import { CryptoError, toCryptoError } from "./errors.ts";
import { readSignature } from "./attachment.ts";
import { listPackets } from "./split.ts";

/**
 * Armors a binary OpenPGP message (for example `joinMessage(keyPackets, dataPacket)`).
 *
 * @param binaryMessage A binary OpenPGP packet sequence; armored input is returned as is.
 * @returns The armored message (`-----BEGIN PGP MESSAGE-----`).
 * @throws {CryptoError} `bad-input` when the bytes are not OpenPGP packets.
 */
export function armorMessage(binaryMessage: Uint8Array): string {
  if (!(binaryMessage instanceof Uint8Array) || binaryMessage.length === 0) {
    throw new CryptoError("bad-input", "Cannot armor message: it is empty");
  }
  if (looksArmored(binaryMessage)) return new TextDecoder().decode(binaryMessage);
  listPackets(binaryMessage); // framing check: throws bad-input for anything else
  try {
    return openpgp.armor(openpgp.enums.armor.message, binaryMessage);
  } catch (err) {
    throw toCryptoError(err, "bad-input", "Cannot armor message");
  }
}

/**
 * Armors a detached signature (binary or already armored).
 *
 * @param signature The signature bytes or armored text.
 * @returns The armored signature (`-----BEGIN PGP SIGNATURE-----`).
 * @throws {CryptoError} `bad-input` when it is not a signature.
 */
export async function armorSignature(signature: Uint8Array | string): Promise<string> {
  const sig = await readSignature(signature);
  return sig.armor();
}

/**
 * Turns an armored PGP message into its binary packets (binary input is returned as is).
 *
 * @param armored The armored message (text or its bytes).
 * @returns The binary packets.
 * @throws {CryptoError} `bad-input` when it is not an armored PGP message.
 */
export async function unarmorMessage(armored: string | Uint8Array): Promise<Uint8Array> {
  if (armored instanceof Uint8Array && !looksArmored(armored)) {
    listPackets(armored);
    return armored;
  }
  const text = typeof armored === "string" ? armored : new TextDecoder().decode(armored);
  let result: { type: openpgp.enums.armor; data: Uint8Array };
  try {
    result = await openpgp.unarmor(text) as { type: openpgp.enums.armor; data: Uint8Array };
  } catch (err) {
    throw toCryptoError(err, "bad-input", "Cannot read armored message");
  }
  if (result.type !== openpgp.enums.armor.message) {
    throw new CryptoError("bad-input", "Cannot read armored message: it is not a PGP MESSAGE");
  }
  return result.data;
}
