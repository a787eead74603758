import assert from "node:assert/strict";
import { decryptMessage, encryptMessageBinary } from "./message.ts";
import { joinMessage, listPackets, splitMessage } from "./split.ts";
import { CryptoError } from "./errors.ts";
import { eccKey, rsaKey } from "./_test_keys.ts";

const isBadInput = (e: unknown) => e instanceof CryptoError && e.kind === "bad-input";

Deno.test("splitMessage/joinMessage: byte-exact, and the joined message decrypts", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const data = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
  const msg = await encryptMessageBinary({
    data,
    encryptionKeys: [alice.unlocked, bob.unlocked],
    signingKeys: [alice.unlocked],
  });
  const { keyPackets, dataPacket } = splitMessage(msg);
  assert.deepEqual(listPackets(keyPackets).map((p) => p.tag), [1, 1]);
  assert.deepEqual(listPackets(dataPacket).map((p) => p.tag), [18]);
  const joined = joinMessage(keyPackets, dataPacket);
  assert.deepEqual(joined, msg);
  assert.deepEqual((await decryptMessage(joined, [bob.unlocked])).data, data);
});

Deno.test("splitMessage: RSA key packet", async () => {
  const rsa = await rsaKey();
  const msg = await encryptMessageBinary({ data: "r", encryptionKeys: [rsa.unlocked] });
  const { keyPackets, dataPacket } = splitMessage(msg);
  assert.deepEqual(joinMessage(keyPackets, dataPacket), msg);
  assert.equal(
    (await decryptMessage(joinMessage(keyPackets, dataPacket), [rsa.unlocked])).data[0],
    114,
  );
});

/** New-format header for `tag` with a definite length of `len` in its shortest encoding. */
function newHeader(tag: number, len: number, form: 1 | 2 | 5): number[] {
  const h = [0xc0 | tag];
  if (form === 1) h.push(len);
  else if (form === 2) h.push(((len - 192) >> 8) + 192, (len - 192) & 0xff);
  else h.push(255, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
  return h;
}

function body(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => (i + seed) & 0xff);
}

Deno.test("splitMessage: new-format one-, two- and five-octet lengths and partial lengths", () => {
  const pkesk1 = [...newHeader(1, 100, 1), ...body(100, 1)];
  const pkesk2 = [...newHeader(1, 300, 2), ...body(300, 2)];
  const skesk = [...newHeader(3, 20, 5), ...body(20, 3)];
  // SEIPD in partial body lengths: 512 (0xE9), 1024 (0xEA), then a final 2-octet length of 200.
  const seipd = [
    0xc0 | 18,
    0xe9,
    ...body(512, 4),
    0xea,
    ...body(1024, 5),
    ((200 - 192) >> 8) + 192,
    (200 - 192) & 0xff,
    ...body(200, 6),
  ];
  const keys = Uint8Array.from([...pkesk1, ...pkesk2, ...skesk]);
  const msg = Uint8Array.from([...keys, ...seipd]);
  const { keyPackets, dataPacket } = splitMessage(msg);
  assert.deepEqual(keyPackets, keys);
  assert.deepEqual(dataPacket, Uint8Array.from(seipd));
  assert.deepEqual(joinMessage(keyPackets, dataPacket), msg);
  assert.deepEqual(listPackets(msg).map((p) => p.tag), [1, 1, 3, 18]);
});

Deno.test("splitMessage: old-format one-, two-, four-octet and indeterminate lengths", () => {
  const old = (tag: number, lenType: number, lenBytes: number[]) => [
    0x80 | (tag << 2) | lenType,
    ...lenBytes,
  ];
  const pkesk1 = [...old(1, 0, [50]), ...body(50, 1)];
  const pkesk2 = [...old(1, 1, [0x01, 0x2c]), ...body(300, 2)];
  const pkesk3 = [...old(1, 2, [0, 0, 0, 10]), ...body(10, 3)];
  const sed = [...old(9, 3, []), ...body(77, 4)]; // legacy SED (tag 9) to the end of input
  const keys = Uint8Array.from([...pkesk1, ...pkesk2, ...pkesk3]);
  const msg = Uint8Array.from([...keys, ...sed]);
  const { keyPackets, dataPacket } = splitMessage(msg);
  assert.deepEqual(keyPackets, keys);
  assert.deepEqual(dataPacket, Uint8Array.from(sed));
  assert.deepEqual(joinMessage(keyPackets, dataPacket), msg);
});

Deno.test("splitMessage: old-format SEIPD as gpg writes it", () => {
  const pkesk = [0x84, 0x5e, ...body(0x5e, 9)]; // old format, tag 1, 1-octet length
  const seipd = [0xd2, 0x40, ...body(0x40, 1)]; // new format, tag 18
  const msg = Uint8Array.from([...pkesk, ...seipd]);
  const { keyPackets, dataPacket } = splitMessage(msg);
  assert.equal(keyPackets.length, pkesk.length);
  assert.equal(dataPacket.length, seipd.length);
});

Deno.test("splitMessage: malformed input is bad-input", () => {
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    Uint8Array.from([0x00, 0x01]), // no header bit
    Uint8Array.from([0xc1, 10, 1, 2]), // truncated body
    Uint8Array.from([0xc1]), // truncated header
    Uint8Array.from([0xc1, 0xff, 0, 0]), // truncated 5-octet length
    Uint8Array.from([0xc1, 0xe9, 1, 2]), // truncated partial chunk
    Uint8Array.from([0xc1, 1, 0]), // only a key packet
    Uint8Array.from([0xd2, 1, 0]), // only a data packet
    Uint8Array.from([0xcb, 1, 0, 0xd2, 1, 0]), // literal packet before the data
    Uint8Array.from([0xc1, 1, 0, 0xd2, 1, 0, 0xc1, 1, 0]), // key packet after the data
    new TextEncoder().encode("-----BEGIN PGP MESSAGE-----\n"),
  ];
  for (const c of cases) assert.throws(() => splitMessage(c), isBadInput, String(c));
  assert.throws(() => joinMessage("x" as unknown as Uint8Array, new Uint8Array(1)), isBadInput);
});
