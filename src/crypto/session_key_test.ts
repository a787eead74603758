import assert from "node:assert/strict";
import { encryptAttachment } from "./attachment.ts";
import { decryptMessage, encryptMessageBinary } from "./message.ts";
import {
  decryptAndVerifyWithSessionKey,
  decryptSessionKey,
  decryptWithSessionKey,
  encryptAndSplit,
  encryptSessionKey,
} from "./session_key.ts";
import { joinMessage, listPackets, splitMessage } from "./split.ts";
import { eccKey, rejectsKind, rsaKey } from "./_test_keys.ts";

Deno.test("session key: extract, re-encrypt to another key, decrypt joined with that key", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const data = new TextEncoder().encode("forwarded attachment");
  const att = await encryptAttachment(data, alice.unlocked, alice.unlocked);

  const sk = await decryptSessionKey(att.keyPackets, [alice.unlocked]);
  assert.equal(sk.algorithm, "aes256");
  assert.equal(sk.data.length, 32);

  const bobPacket = await encryptSessionKey(sk, bob.unlocked.toPublic());
  assert.deepEqual(listPackets(bobPacket).map((p) => p.tag), [1]);
  const forBob = joinMessage(bobPacket, att.dataPacket);
  assert.deepEqual((await decryptMessage(forBob, [bob.unlocked])).data, data);
  await rejectsKind(() => decryptMessage(forBob, [alice.unlocked]), "wrong-key");

  // And to an RSA key.
  const rsa = await rsaKey();
  const rsaPacket = await encryptSessionKey(sk, rsa.unlocked);
  assert.deepEqual(
    (await decryptMessage(joinMessage(rsaPacket, att.dataPacket), [rsa.unlocked])).data,
    data,
  );
  assert.deepEqual(await decryptSessionKey(rsaPacket, [rsa.unlocked]), sk);
});

Deno.test("decryptWithSessionKey decrypts a bare data packet", async () => {
  const alice = await eccKey("alice");
  const data = Uint8Array.from({ length: 3000 }, (_, i) => i % 251);
  const msg = await encryptMessageBinary({ data, encryptionKeys: [alice.unlocked] });
  const { keyPackets, dataPacket } = splitMessage(msg);
  const sk = await decryptSessionKey(keyPackets, [alice.unlocked]);
  assert.deepEqual(await decryptWithSessionKey(dataPacket, sk), data);
  // A wrong session key fails the integrity check.
  const wrong = { ...sk, data: sk.data.map((b) => b ^ 0xff) };
  await rejectsKind(() => decryptWithSessionKey(dataPacket, wrong), "tampered");
});

Deno.test("encryptAndSplit: session key matches, body signed, other recipients work", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const body = "<p>hello</p>\r\n";
  const split = await encryptAndSplit(body, alice.unlocked, alice.unlocked);
  assert.deepEqual(await decryptSessionKey(split.keyPackets, [alice.unlocked]), split.sessionKey);
  assert.equal(
    new TextDecoder().decode(await decryptWithSessionKey(split.dataPacket, split.sessionKey)),
    body,
  );
  const bobPacket = await encryptSessionKey(split.sessionKey, bob.unlocked);
  const out = await decryptMessage(
    joinMessage(bobPacket, split.dataPacket),
    [bob.unlocked],
    [alice.unlocked.toPublic()],
  );
  assert.equal(new TextDecoder().decode(out.data), body);
  assert.equal(out.signature, "valid");

  const unsigned = await encryptAndSplit(new Uint8Array([1, 2, 3]), alice.unlocked.toPublic());
  const out2 = await decryptMessage(
    joinMessage(unsigned.keyPackets, unsigned.dataPacket),
    [alice.unlocked],
  );
  assert.deepEqual(out2.data, new Uint8Array([1, 2, 3]));
  assert.equal(out2.signature, "unsigned");
});

Deno.test("session key functions: bad input", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const att = await encryptAttachment(new Uint8Array(10), alice.unlocked, alice.unlocked);
  await rejectsKind(() => decryptSessionKey(att.keyPackets, [bob.unlocked]), "wrong-key");
  await rejectsKind(
    () => decryptSessionKey(new Uint8Array([9, 9, 9]), [alice.unlocked]),
    "bad-input",
  );
  await rejectsKind(() => decryptSessionKey(att.dataPacket, [alice.unlocked]), "bad-input");
  await rejectsKind(() => decryptSessionKey(att.keyPackets, []), "no-key");
  const sk = await decryptSessionKey(att.keyPackets, [alice.unlocked]);
  await rejectsKind(
    () => encryptSessionKey({ data: sk.data, algorithm: "rot13" }, bob.unlocked),
    "bad-input",
  );
  await rejectsKind(
    () => encryptSessionKey({ data: sk.data.slice(0, 16), algorithm: "aes256" }, bob.unlocked),
    "bad-input",
  );
  await rejectsKind(
    () => encryptSessionKey(sk, undefined as unknown as typeof bob.unlocked),
    "no-key",
  );
  await rejectsKind(() => decryptWithSessionKey(new Uint8Array([1, 2]), sk), "bad-input");
  await rejectsKind(() => decryptWithSessionKey(att.keyPackets, sk), "bad-input");
});

Deno.test("decryptAndVerifyWithSessionKey: plaintext and signature status", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const signed = await encryptAndSplit("signed body", alice.unlocked, alice.unlocked);
  const ok = await decryptAndVerifyWithSessionKey(signed.dataPacket, signed.sessionKey, [
    alice.unlocked.toPublic(),
  ]);
  assert.equal(new TextDecoder().decode(ok.data), "signed body");
  assert.equal(ok.signature, "valid");
  const wrong = await decryptAndVerifyWithSessionKey(signed.dataPacket, signed.sessionKey, [
    bob.unlocked.toPublic(),
  ]);
  assert.equal(wrong.signature, "invalid");
  const plain = await encryptAndSplit("unsigned", alice.unlocked);
  const none = await decryptAndVerifyWithSessionKey(plain.dataPacket, plain.sessionKey, [
    alice.unlocked.toPublic(),
  ]);
  assert.equal(none.signature, "unsigned");
});
