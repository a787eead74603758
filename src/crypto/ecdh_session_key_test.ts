import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { decryptEcdhKeyPacket, nativeKeyPacketDecryptions, unwrapKey } from "./ecdh_session_key.ts";
import { decryptMessage, encryptMessageBinary } from "./message.ts";
import { decryptSessionKey, type SessionKey } from "./session_key.ts";
import { eccKey, rejectsKind, rsaKey } from "./_test_keys.ts";

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!, (b) => parseInt(b, 16));
}

/** The bodies (bytes after the header) of the PKESK packets of a binary message. */
async function keyPacketBodies(binary: Uint8Array): Promise<Uint8Array[]> {
  const message = await openpgp.readMessage({ binaryMessage: binary });
  return message.packets
    .filter((p) => p instanceof openpgp.PublicKeyEncryptedSessionKeyPacket)
    .map((p) => (p as unknown as { write(): Uint8Array }).write());
}

async function keyPacketsFor(
  sessionKey: SessionKey,
  keys: openpgp.PublicKey[],
  wildcard = false,
): Promise<Uint8Array> {
  return await openpgp.encryptSessionKey({
    data: sessionKey.data,
    algorithm: sessionKey.algorithm as openpgp.enums.symmetricNames,
    encryptionKeys: keys,
    wildcard,
    format: "binary",
  });
}

// RFC 3394 §4.1, §4.2, §4.3 and §4.6: KEK 00 01 02 …, key data 00 11 22 … (and 00 01 02 … for
// the 256-bit key).
const RFC3394 = [
  {
    kek: "000102030405060708090A0B0C0D0E0F",
    data: "00112233445566778899AABBCCDDEEFF",
    wrapped: "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5",
  },
  {
    kek: "000102030405060708090A0B0C0D0E0F1011121314151617",
    data: "00112233445566778899AABBCCDDEEFF",
    wrapped: "96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D",
  },
  {
    kek: "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
    data: "00112233445566778899AABBCCDDEEFF",
    wrapped: "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7",
  },
  {
    kek: "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
    data: "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
    wrapped: "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21",
  },
];

Deno.test("unwrapKey: RFC 3394 test vectors; a changed byte or wrong KEK fails the check", () => {
  for (const v of RFC3394) {
    const wrapped = hex(v.wrapped);
    assert.deepEqual(
      unwrapKey(hex(v.kek), wrapped),
      hex(v.data),
      `KEK of ${v.kek.length * 4} bits`,
    );
    for (const at of [0, 8, wrapped.length - 1]) {
      const bad = wrapped.slice();
      bad[at] ^= 1;
      assert.equal(unwrapKey(hex(v.kek), bad), undefined, `byte ${at} changed`);
    }
    const otherKek = hex(v.kek);
    otherKek[0] ^= 0x80;
    assert.equal(unwrapKey(otherKek, wrapped), undefined, "wrong KEK");
  }
  assert.equal(unwrapKey(new Uint8Array(20), hex(RFC3394[0].wrapped)), undefined, "KEK size");
  assert.equal(unwrapKey(hex(RFC3394[0].kek), new Uint8Array(20)), undefined, "wrapped size");
});

Deno.test("decryptEcdhKeyPacket recovers what openpgp.js encrypted, for every AES size", async () => {
  const alice = await eccKey("alice");
  for (const algorithm of ["aes128", "aes192", "aes256"]) {
    for (let i = 0; i < 5; i++) {
      const size = { aes128: 16, aes192: 24, aes256: 32 }[algorithm]!;
      const sessionKey = { data: crypto.getRandomValues(new Uint8Array(size)), algorithm };
      const packets = await keyPacketsFor(sessionKey, [alice.unlocked.toPublic()]);
      const [body] = await keyPacketBodies(packets);
      assert.deepEqual(decryptEcdhKeyPacket(body!, [alice.unlocked]), sessionKey, algorithm);
      // openpgp.js reads the same packet the same way.
      assert.deepEqual(await decryptSessionKey(packets, [alice.unlocked]), sessionKey);
    }
  }
});

Deno.test("decryptEcdhKeyPacket: the right key among several, wildcard IDs, and what it leaves to openpgp.js", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const rsa = await rsaKey();
  const sessionKey = { data: crypto.getRandomValues(new Uint8Array(32)), algorithm: "aes256" };

  // Two recipients: each packet opens with its own key only.
  const both = await keyPacketBodies(
    await keyPacketsFor(sessionKey, [alice.unlocked.toPublic(), bob.unlocked.toPublic()]),
  );
  assert.equal(both.length, 2);
  assert.deepEqual(decryptEcdhKeyPacket(both[0]!, [bob.unlocked, alice.unlocked]), sessionKey);
  assert.deepEqual(decryptEcdhKeyPacket(both[1]!, [alice.unlocked, bob.unlocked]), sessionKey);
  assert.equal(decryptEcdhKeyPacket(both[0]!, [bob.unlocked]), undefined, "not bob's packet");

  // A wildcard key ID: every ECDH key is tried.
  const [anonymous] = await keyPacketBodies(
    await keyPacketsFor(sessionKey, [bob.unlocked.toPublic()], true),
  );
  assert.deepEqual(anonymous!.subarray(1, 9), new Uint8Array(8));
  assert.deepEqual(decryptEcdhKeyPacket(anonymous!, [alice.unlocked, bob.unlocked]), sessionKey);
  assert.equal(decryptEcdhKeyPacket(anonymous!, [alice.unlocked]), undefined);

  // RSA packets, locked keys, public keys, changed bytes: not handled here.
  const [forRsa] = await keyPacketBodies(await keyPacketsFor(sessionKey, [rsa.unlocked]));
  assert.equal(decryptEcdhKeyPacket(forRsa!, [rsa.unlocked, alice.unlocked]), undefined);
  const [forAlice] = await keyPacketBodies(
    await keyPacketsFor(sessionKey, [alice.unlocked.toPublic()]),
  );
  const locked = await openpgp.readPrivateKey({ armoredKey: alice.privateKey });
  assert.equal(decryptEcdhKeyPacket(forAlice!, [locked]), undefined, "locked key");
  assert.equal(
    decryptEcdhKeyPacket(forAlice!, [alice.unlocked.toPublic() as unknown as openpgp.PrivateKey]),
    undefined,
    "public key",
  );
  for (let at = 0; at < forAlice!.length; at++) {
    const bad = forAlice!.slice();
    bad[at] ^= 0x01;
    const got = decryptEcdhKeyPacket(bad, [alice.unlocked]);
    // A changed byte never yields a wrong key: the unwrap check or the checksum catches it
    // (changing the ephemeral key's last bit changes nothing in X25519: the same key is fine).
    assert.ok(got === undefined || (at === 44 && sessionKeyEquals(got, sessionKey)), `byte ${at}`);
  }
  assert.equal(decryptEcdhKeyPacket(forAlice!.subarray(0, 40), [alice.unlocked]), undefined);
  assert.equal(decryptEcdhKeyPacket(new Uint8Array(0), [alice.unlocked]), undefined);
});

function sessionKeyEquals(a: SessionKey, b: SessionKey): boolean {
  return a.algorithm === b.algorithm && a.data.length === b.data.length &&
    a.data.every((x, i) => x === b.data[i]);
}

Deno.test("decryptMessage takes the native key packet path for ECC keys, openpgp.js for the rest", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const rsa = await rsaKey();
  const data = new TextEncoder().encode("native key packets");

  let before = nativeKeyPacketDecryptions();
  const toAlice = await encryptMessageBinary({ data, encryptionKeys: [alice.unlocked] });
  assert.deepEqual((await decryptMessage(toAlice, [alice.unlocked])).data, data);
  assert.equal(nativeKeyPacketDecryptions(), before + 1, "ECC: native");
  await rejectsKind(() => decryptMessage(toAlice, [bob.unlocked]), "wrong-key");

  before = nativeKeyPacketDecryptions();
  const toRsa = await encryptMessageBinary({ data, encryptionKeys: [rsa.unlocked] });
  assert.deepEqual((await decryptMessage(toRsa, [rsa.unlocked])).data, data);
  assert.equal(nativeKeyPacketDecryptions(), before, "RSA: openpgp.js");

  // A message to an RSA and an ECC key, opened with both: the packet for the RSA key, which
  // this path cannot open, sends the whole message to openpgp.js.
  const mixed = await encryptMessageBinary({
    data,
    encryptionKeys: [rsa.unlocked, alice.unlocked],
  });
  before = nativeKeyPacketDecryptions();
  assert.deepEqual((await decryptMessage(mixed, [rsa.unlocked, alice.unlocked])).data, data);
  assert.equal(nativeKeyPacketDecryptions(), before, "openpgp.js decided");
  // Opened with the ECC key alone, the RSA packet is someone else's: native.
  assert.deepEqual((await decryptMessage(mixed, [alice.unlocked])).data, data);
  assert.equal(nativeKeyPacketDecryptions(), before + 1);
});

Deno.test("decryptMessage: a key packet changed in transit still fails as wrong-key", async () => {
  const alice = await eccKey("alice");
  const data = new TextEncoder().encode("tampered key packet");
  const binary = await encryptMessageBinary({ data, encryptionKeys: [alice.unlocked] });
  // The wrapped key is the end of the first packet (a new-format header of 2 bytes).
  const length = binary[1]!;
  const bad = binary.slice();
  bad[2 + length - 3] ^= 0x10;
  await rejectsKind(() => decryptMessage(bad, [alice.unlocked]), "wrong-key");
});

Deno.test("decryptEcdhKeyPacket stops using a key whose secret was cleared", async () => {
  const { privateKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "curve25519Legacy",
    userIDs: [{ email: "clear@example.test" }],
    format: "object",
  });
  const sessionKey = { data: crypto.getRandomValues(new Uint8Array(16)), algorithm: "aes128" };
  const [body] = await keyPacketBodies(await keyPacketsFor(sessionKey, [privateKey.toPublic()]));
  assert.deepEqual(decryptEcdhKeyPacket(body!, [privateKey]), sessionKey);
  for (const sub of privateKey.subkeys) {
    (sub.keyPacket as unknown as { clearPrivateParams(): void }).clearPrivateParams();
  }
  assert.equal(decryptEcdhKeyPacket(body!, [privateKey]), undefined);
});
