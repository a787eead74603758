/**
 * From a downloaded API message to what the index stores: decrypt the body and every attachment
 * with the address's keys, build the RFC 822 literal (proton-api.md §3.4, `src/mime/build.ts`),
 * then parse the literal once to compute ENVELOPE, BODYSTRUCTURE, BODY and the header block.
 *
 * It never throws:
 * - a body or attachment that does not decrypt becomes the §3.4 step 6 / step 7 form (the armored
 *   ciphertext with an explanation, an `<name>.pgp` attachment, a `multipart/encrypted` wrapper);
 *   the build still counts as `ok`, because the result is what the bridge shows for such mail and
 *   rebuilding would give the same bytes;
 * - anything else (no unlocked key for the address, an attachment that was not downloaded, a
 *   malformed API object, a builder error) gives the §3.4 step 9 placeholder ("Message failed to
 *   build") with status `failed` and the reason, which the caller records.
 *
 * Signed PGP/MIME: when the decrypted PGP/MIME body carried an OpenPGP signature, it is handed to
 * the builder, which emits `multipart/signed` (Bridge's `ExtractSignatures`). The signature is
 * not verified here (neither does Bridge when building).
 *
 * FETCH strings (ENVELOPE, BODYSTRUCTURE, BODY) are the IMAP wire bytes as a binary string: one
 * character per byte (`bytesToBinary`), so 8-bit bytes survive the store's TEXT columns; the IMAP
 * layer writes them back with `binaryToBytes`.
 *
 * Used in-process and by `build_worker.ts`; pure apart from the crypto.
 *
 * @module
 */
import { createHash } from "node:crypto";
import * as openpgp from "openpgp";
import { type Message, MessageFlag as ApiFlag } from "../api/mod.ts";
import {
  decryptAttachment,
  decryptMessage,
  errorMessage,
  fromBase64,
  joinMessage,
  type KeyRing,
} from "../crypto/mod.ts";
import {
  body as bodyOf,
  bodyStructure,
  type BuildAddress,
  type BuildAttachment,
  type BuildInput,
  buildMessage,
  buildPlaceholder,
  bytesToBinary,
  type DecryptionFailure,
  envelopeOf,
  parseMessage,
  serializeEnvelope,
} from "../mime/mod.ts";
import { compressLiteral } from "../store/literal_cache.ts";
import type { BuiltContent } from "./apply.ts";

/** A built message: the literal plus what the index keeps of it. */
export interface BuildOutput extends BuiltContent {
  /** The RFC 822 bytes (what the literal cache stores and FETCH BODY[] returns). */
  literal: Uint8Array;
  /**
   * The literal as `compressLiteral` (the literal cache) compresses it, when the build was asked
   * for it (`{ compress: true }`): the first sync has the build workers compress, so that its
   * main thread only encrypts and appends (`LiteralCache.putCompressed`).
   */
  compressed?: Uint8Array;
}

/** Options of a build (`BuildPool.build`, `MessageBuilder.build`). */
export interface BuildOptions {
  /** Also compress the literal for the cache ({@link BuildOutput.compressed}). */
  compress?: boolean;
}

/** `output` with {@link BuildOutput.compressed} filled in when `options` ask for it. */
export function withCompressed(output: BuildOutput, options?: BuildOptions): BuildOutput {
  if (options?.compress) output.compressed = compressLiteral(output.literal);
  return output;
}

/** Attachment ID → the downloaded (encrypted) data packet. */
export type AttachmentData = ReadonlyMap<string, Uint8Array>;

/**
 * Decrypts and builds one message. `keyRing` is the unlocked keys of the message's address
 * (`undefined` when they could not be unlocked: the result is a failed placeholder).
 * Deterministic: the same message and data give the same bytes. Never throws.
 */
export async function buildFromApi(
  message: Message,
  attachments: AttachmentData,
  keyRing: KeyRing | undefined,
): Promise<BuildOutput> {
  try {
    checkMessage(message);
    if (!keyRing || keyRing.size === 0) {
      return failedBuild(message, "no unlocked key for the message's address");
    }
    const keys = [...keyRing.keys];
    const apiAttachments = message.Attachments ?? [];
    for (const a of apiAttachments) {
      if (!attachments.has(a.ID)) throw new Error(`attachment ${a.ID} was not downloaded`);
    }
    const isPgpMime = typeof message.MIMEType === "string" &&
      message.MIMEType.trim().toLowerCase() === "multipart/mixed";
    const [decrypted, built] = await Promise.all([
      isPgpMime ? decryptPgpMime(message.Body, keys) : decryptBody(message.Body, keys),
      Promise.all(apiAttachments.map(async (a): Promise<BuildAttachment> => ({
        id: a.ID,
        name: String(a.Name ?? ""),
        mimeType: String(a.MIMEType || "application/octet-stream"),
        disposition: String(a.Disposition || "attachment"),
        headers: a.Headers && typeof a.Headers === "object" ? a.Headers : {},
        data: await decryptAttachmentData(a.KeyPackets, attachments.get(a.ID)!, keys),
      }))),
    ]);
    const input: BuildInput = {
      id: message.ID,
      externalID: message.ExternalID || undefined,
      subject: String(message.Subject ?? ""),
      sender: address(message.Sender),
      to: addresses(message.ToList),
      cc: addresses(message.CCList),
      bcc: addresses(message.BCCList),
      replyTos: addresses(message.ReplyTos),
      time: Number(message.Time) || 0,
      flags: Number(message.Flags) || 0,
      isDraft: (Number(message.Flags) & (ApiFlag.Received | ApiFlag.Sent)) === 0,
      parsedHeaders: message.ParsedHeaders && typeof message.ParsedHeaders === "object"
        ? message.ParsedHeaders
        : {},
      mimeType: String(message.MIMEType || "text/plain"),
      body: decrypted.body,
      attachments: built,
      signature: decrypted.signature,
    };
    return contentOf(buildMessage(input), "ok");
  } catch (e) {
    return failedBuild(message, errorMessage(e));
  }
}

/**
 * The placeholder literal of a message that could not be built (§3.4 step 9), with its FETCH
 * data, status `failed` and `reason`. Never throws.
 */
export function failedBuild(
  message: Pick<Message, "ID" | "Subject" | "Time">,
  reason: string,
): BuildOutput {
  const why = reason || "unknown error";
  const id = typeof message?.ID === "string" ? message.ID : "";
  const subject = typeof message?.Subject === "string" ? message.Subject : "";
  const time = Number(message?.Time) || 0;
  return contentOf(buildPlaceholder(id, subject, why, { time }), "failed", why);
}

/**
 * Parses a literal and computes ENVELOPE, BODYSTRUCTURE, BODY and the header block.
 * The parser never throws on bad input.
 */
export function contentOf(
  literal: Uint8Array,
  status: "ok" | "failed",
  reason?: string,
): BuildOutput {
  const root = parseMessage(literal);
  return {
    literal,
    literalSize: literal.length,
    envelope: bytesToBinary(serializeEnvelope(envelopeOf(root.header))),
    bodyStructure: bytesToBinary(bodyStructure(root)),
    body: bytesToBinary(bodyOf(root)),
    headerBytes: literal.slice(root.headerBytes[0], root.headerBytes[1]),
    status,
    ...(reason !== undefined ? { reason } : {}),
    literalSha256: literalSha256(literal),
  };
}

/** SHA-256 of a literal ({@link BuiltContent.literalSha256}). */
export function literalSha256(literal: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(literal).digest());
}

function checkMessage(message: Message): void {
  if (!message || typeof message !== "object") throw new Error("the message is not an object");
  if (typeof message.ID !== "string" || message.ID === "") throw new Error("the message has no ID");
  if (typeof message.Body !== "string") throw new Error("the message has no Body");
  if (message.Attachments != null && !Array.isArray(message.Attachments)) {
    throw new Error("the message's Attachments is not a list");
  }
}

function address(a: unknown): BuildAddress {
  const x = (a ?? {}) as { Name?: unknown; Address?: unknown };
  return { name: String(x.Name ?? ""), address: String(x.Address ?? "") };
}

function addresses(list: unknown): BuildAddress[] {
  return Array.isArray(list) ? list.map(address) : [];
}

interface DecryptedBody {
  body: Uint8Array | DecryptionFailure;
  signature?: { armored: string; micalg: string };
}

async function decryptBody(armored: string, keys: openpgp.PrivateKey[]): Promise<DecryptedBody> {
  try {
    return { body: (await decryptMessage(armored, keys)).data };
  } catch (e) {
    return { body: { error: errorMessage(e), armored } };
  }
}

/** Decrypts a PGP/MIME body and picks up an embedded signature, if there is one. */
async function decryptPgpMime(
  armored: string,
  keys: openpgp.PrivateKey[],
): Promise<DecryptedBody> {
  let result: openpgp.DecryptMessageResult & { data: Uint8Array };
  try {
    const message = await openpgp.readMessage({ armoredMessage: armored });
    result = await openpgp.decrypt({ message, decryptionKeys: keys, format: "binary" }) as
      & openpgp.DecryptMessageResult
      & { data: Uint8Array };
  } catch (e) {
    return { body: { error: errorMessage(e), armored } };
  }
  const out: DecryptedBody = { body: result.data };
  try {
    const first = result.signatures[0];
    if (first) {
      const signature = await first.signature;
      const hash = signature.packets[0]?.hashAlgorithm;
      const name = hash != null ? openpgp.enums.read(openpgp.enums.hash, hash) : "sha256";
      out.signature = { armored: signature.armor(), micalg: `pgp-${String(name).toLowerCase()}` };
    }
  } catch {
    // A signature that cannot be read is left out; the message still builds.
  }
  return out;
}

async function decryptAttachmentData(
  keyPacketsB64: string,
  dataPacket: Uint8Array,
  keys: openpgp.PrivateKey[],
): Promise<Uint8Array | DecryptionFailure> {
  let keyPackets: Uint8Array;
  try {
    keyPackets = fromBase64(String(keyPacketsB64 ?? ""));
  } catch (e) {
    return { error: errorMessage(e), armored: armorMessage(dataPacket) };
  }
  try {
    return await decryptAttachment(keyPackets, dataPacket, keys);
  } catch (e) {
    return { error: errorMessage(e), armored: armorMessage(joinMessage(keyPackets, dataPacket)) };
  }
}

function armorMessage(bytes: Uint8Array): string {
  return openpgp.armor(openpgp.enums.armor.message, bytes);
}
