/**
 * Splitting a binary encrypted message into its key packets and its data packet, and joining them
 * back: the Proton API stores attachments and send-package bodies split (proton-api.md §1.6,
 * §1.10, §3.3). The packet framing is walked here byte by byte (RFC 4880 §4.2 / RFC 9580 §4.2:
 * old-format and new-format headers, one-, two- and five-octet lengths, partial body lengths,
 * old-format indeterminate length), so both halves are exactly the original bytes.
 *
 * @module
 */
import { CryptoError } from "./errors.ts";
import { looksArmored } from "./_pgp.ts";

/** The two halves of an encrypted message. */
export interface SplitMessage {
  /** The PKESK/SKESK packet(s), concatenated. */
  keyPackets: Uint8Array;
  /** The encrypted data packet (SEIPD, AEAD or legacy SED) and anything after it. */
  dataPacket: Uint8Array;
}

/** Packet tags (RFC 9580 §5). */
const TAG = {
  pkesk: 1,
  skesk: 3,
  sed: 9,
  marker: 10,
  seipd: 18,
  aead: 20,
  padding: 21,
} as const;

const KEY_TAGS = new Set<number>([TAG.pkesk, TAG.skesk]);
const DATA_TAGS = new Set<number>([TAG.sed, TAG.seipd, TAG.aead]);

/** One packet's tag and where it starts and ends in the buffer. */
export interface PacketSpan {
  tag: number;
  start: number;
  end: number;
}

function bad(message: string): CryptoError {
  return new CryptoError("bad-input", `Cannot split message: ${message}`);
}

/**
 * Reads the packet starting at `pos` and returns its tag and end offset.
 *
 * @throws {CryptoError} `bad-input` for a malformed or truncated header or body.
 */
export function readPacketSpan(bytes: Uint8Array, pos: number): PacketSpan {
  const first = bytes[pos];
  if (first === undefined) throw bad(`truncated packet at offset ${pos}`);
  if ((first & 0x80) === 0) throw bad(`no packet header at offset ${pos}`);
  let p = pos + 1;
  const need = (n: number) => {
    if (p + n > bytes.length) throw bad(`truncated packet header at offset ${pos}`);
  };
  let tag: number;
  if (first & 0x40) {
    // New format: a sequence of partial body lengths ends with a definite length.
    tag = first & 0x3f;
    for (;;) {
      need(1);
      const o1 = bytes[p]!;
      let len: number;
      let partial = false;
      if (o1 < 192) {
        len = o1;
        p += 1;
      } else if (o1 < 224) {
        need(2);
        len = ((o1 - 192) << 8) + bytes[p + 1]! + 192;
        p += 2;
      } else if (o1 === 255) {
        need(5);
        len = readUint32(bytes, p + 1);
        p += 5;
      } else {
        len = 1 << (o1 & 0x1f);
        p += 1;
        partial = true;
      }
      if (p + len > bytes.length) throw bad(`truncated packet body at offset ${pos}`);
      p += len;
      if (!partial) break;
    }
  } else {
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 0x03;
    let len: number;
    if (lengthType === 0) {
      need(1);
      len = bytes[p]!;
      p += 1;
    } else if (lengthType === 1) {
      need(2);
      len = (bytes[p]! << 8) | bytes[p + 1]!;
      p += 2;
    } else if (lengthType === 2) {
      need(4);
      len = readUint32(bytes, p);
      p += 4;
    } else {
      // Indeterminate length: the packet runs to the end of the input.
      len = bytes.length - p;
    }
    if (p + len > bytes.length) throw bad(`truncated packet body at offset ${pos}`);
    p += len;
  }
  if (tag === 0) throw bad(`reserved packet tag 0 at offset ${pos}`);
  return { tag, start: pos, end: p };
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

/**
 * Lists the packets of a binary OpenPGP packet sequence.
 *
 * @param bytes Binary packets.
 * @returns Each packet's tag and byte range.
 * @throws {CryptoError} `bad-input` for malformed framing.
 */
export function listPackets(bytes: Uint8Array): PacketSpan[] {
  const spans: PacketSpan[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const span = readPacketSpan(bytes, pos);
    spans.push(span);
    pos = span.end;
  }
  return spans;
}

/**
 * Splits a binary encrypted message into its session-key packets and its data packet.
 * `joinMessage(keyPackets, dataPacket)` gives back the input byte for byte.
 *
 * @param binaryMessage A binary (not armored) encrypted OpenPGP message.
 * @returns The key packets and the data packet, as copies.
 * @throws {CryptoError} `bad-input` when the input is not a binary encrypted message.
 */
export function splitMessage(binaryMessage: Uint8Array): SplitMessage {
  if (!(binaryMessage instanceof Uint8Array)) throw bad("expected bytes");
  if (binaryMessage.length === 0) throw bad("the message is empty");
  if (looksArmored(binaryMessage)) throw bad("the message is armored; split needs binary");
  let dataStart = -1;
  let keyCount = 0;
  for (let pos = 0; pos < binaryMessage.length;) {
    const span = readPacketSpan(binaryMessage, pos);
    if (dataStart < 0) {
      if (DATA_TAGS.has(span.tag)) {
        dataStart = span.start;
      } else if (KEY_TAGS.has(span.tag)) {
        keyCount++;
      } else if (span.tag !== TAG.marker && span.tag !== TAG.padding) {
        throw bad(`unexpected packet (tag ${span.tag}) before the encrypted data`);
      }
    } else if (span.tag !== TAG.padding) {
      throw bad(`unexpected packet (tag ${span.tag}) after the encrypted data`);
    }
    pos = span.end;
  }
  if (dataStart < 0) throw bad("no encrypted data packet");
  if (keyCount === 0) throw bad("no session key packet");
  return {
    keyPackets: binaryMessage.slice(0, dataStart),
    dataPacket: binaryMessage.slice(dataStart),
  };
}

/**
 * Joins key packets and a data packet into one binary message (plain concatenation).
 *
 * @param keyPackets Binary PKESK/SKESK packet(s).
 * @param dataPacket The binary encrypted data packet.
 * @returns The binary message.
 */
export function joinMessage(keyPackets: Uint8Array, dataPacket: Uint8Array): Uint8Array {
  if (!(keyPackets instanceof Uint8Array) || !(dataPacket instanceof Uint8Array)) {
    throw new CryptoError("bad-input", "Cannot join message: key and data packets must be bytes");
  }
  const out = new Uint8Array(keyPackets.length + dataPacket.length);
  out.set(keyPackets, 0);
  out.set(dataPacket, keyPackets.length);
  return out;
}
