import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { decryptMessage, encryptMessage, encryptMessageBinary } from "./message.ts";
import { splitMessage } from "./split.ts";
import { readPublicKey } from "./keys.ts";
import { eccKey, rejectsKind, rsaKey } from "./_test_keys.ts";

Deno.test("encryptMessage/decryptMessage: text round trip, signature valid", async () => {
  const alice = await eccKey("alice");
  const text = "Héllo\nline two\r\nbare CR\r trailing spaces   \n";
  const armored = await encryptMessage({
    data: text,
    encryptionKeys: [alice.unlocked],
    signingKeys: [alice.unlocked],
  });
  assert.match(armored, /^-----BEGIN PGP MESSAGE-----/);
  const out = await decryptMessage(armored, [alice.unlocked], [alice.unlocked.toPublic()]);
  assert.equal(new TextDecoder().decode(out.data), text, "text is byte-exact, no EOL rewriting");
  assert.equal(out.signature, "valid");
});

Deno.test("encryptMessageBinary/decryptMessage: binary round trip is byte-exact", async () => {
  const alice = await eccKey("alice");
  const data = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + 7) & 0xff);
  const binary = await encryptMessageBinary({
    data,
    encryptionKeys: [await readPublicKey(alice.publicKey)],
  });
  assert.ok(binary instanceof Uint8Array);
  const out = await decryptMessage(binary, [alice.unlocked]);
  assert.deepEqual(out.data, data);
  assert.equal(out.signature, "unsigned");
  // Armored text given as bytes is accepted too.
  const armored = await encryptMessage({ data, encryptionKeys: [alice.unlocked] });
  assert.deepEqual(
    (await decryptMessage(new TextEncoder().encode(armored), [alice.unlocked])).data,
    data,
  );
  // Empty data.
  const empty = await encryptMessageBinary({
    data: new Uint8Array(0),
    encryptionKeys: [alice.unlocked],
  });
  assert.equal((await decryptMessage(empty, [alice.unlocked])).data.length, 0);
});

Deno.test("decryptMessage: signature statuses", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const signed = await encryptMessage({
    data: "x",
    encryptionKeys: [alice.unlocked],
    signingKeys: [bob.unlocked],
  });
  assert.equal((await decryptMessage(signed, [alice.unlocked])).signature, "not-checked");
  assert.equal((await decryptMessage(signed, [alice.unlocked], [])).signature, "not-checked");
  assert.equal(
    (await decryptMessage(signed, [alice.unlocked], [bob.unlocked.toPublic()])).signature,
    "valid",
  );
  assert.equal(
    (await decryptMessage(signed, [alice.unlocked], [alice.unlocked.toPublic()])).signature,
    "invalid",
  );
  const unsigned = await encryptMessage({ data: "x", encryptionKeys: [alice.unlocked] });
  assert.equal(
    (await decryptMessage(unsigned, [alice.unlocked], [alice.unlocked.toPublic()])).signature,
    "unsigned",
  );
});

Deno.test("decryptMessage: several recipients, any key decrypts", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const msg = await encryptMessage({
    data: "to both",
    encryptionKeys: [alice.unlocked.toPublic(), bob.unlocked],
  });
  for (const k of [alice, bob]) {
    assert.equal(
      new TextDecoder().decode((await decryptMessage(msg, [k.unlocked])).data),
      "to both",
    );
  }
  const carol = await eccKey("carol");
  assert.equal((await decryptMessage(msg, [carol.unlocked, bob.unlocked])).data.length, 7);
});

Deno.test("decryptMessage: RSA encrypt, ECC sign", async () => {
  const rsa = await rsaKey();
  const alice = await eccKey("alice");
  const msg = await encryptMessageBinary({
    data: "rsa body",
    encryptionKeys: [rsa.unlocked],
    signingKeys: [alice.unlocked],
  });
  const out = await decryptMessage(msg, [rsa.unlocked], [alice.unlocked.toPublic()]);
  assert.equal(new TextDecoder().decode(out.data), "rsa body");
  assert.equal(out.signature, "valid");
  await rejectsKind(() => decryptMessage(msg, [alice.unlocked]), "wrong-key");
});

Deno.test("decryptMessage: wrong key is wrong-key", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const msg = await encryptMessage({ data: "secret", encryptionKeys: [alice.unlocked] });
  await rejectsKind(() => decryptMessage(msg, [bob.unlocked]), "wrong-key");
  await rejectsKind(() => decryptMessage(msg, []), "no-key");
});

Deno.test("decryptMessage: a flipped byte in the data packet is tampered", async () => {
  const alice = await eccKey("alice");
  const data = new TextEncoder().encode("important ".repeat(50));
  const msg = await encryptMessageBinary({
    data,
    encryptionKeys: [alice.unlocked],
    signingKeys: [alice.unlocked],
  });
  const dataStart = splitMessage(msg).keyPackets.length;
  // Past the packet header: in the ciphertext (start, middle, MDC at the end).
  for (const at of [dataStart + 10, dataStart + 200, msg.length - 5, msg.length - 1]) {
    const bad = msg.slice();
    bad[at]! ^= 0x01;
    await rejectsKind(() => decryptMessage(bad, [alice.unlocked]), "tampered");
  }
});

Deno.test("decryptMessage: garbage and non-encrypted input is bad-input", async () => {
  const alice = await eccKey("alice");
  const keys = [alice.unlocked];
  await rejectsKind(() => decryptMessage("hello", keys), "bad-input");
  await rejectsKind(() => decryptMessage("", keys), "bad-input");
  await rejectsKind(() => decryptMessage(new Uint8Array([1, 2, 3, 4]), keys), "bad-input");
  await rejectsKind(() => decryptMessage(new Uint8Array(0), keys), "bad-input");
  await rejectsKind(
    () => decryptMessage("-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n", keys),
    "bad-input",
  );
  // A signed-only (not encrypted) message.
  const signedOnly = await openpgp.sign({
    message: await openpgp.createMessage({ text: "hi" }),
    signingKeys: alice.unlocked,
  });
  await rejectsKind(() => decryptMessage(signedOnly, keys), "bad-input");
  // A truncated message.
  const msg = await encryptMessageBinary({ data: "x".repeat(100), encryptionKeys: keys });
  await rejectsKind(() => decryptMessage(msg.slice(0, msg.length - 20), keys), "bad-input");
});

Deno.test("encryptMessage: bad arguments are CryptoErrors", async () => {
  const alice = await eccKey("alice");
  await rejectsKind(() => encryptMessage({ data: "x", encryptionKeys: [] }), "no-key");
  const locked = await openpgp.readPrivateKey({ armoredKey: alice.privateKey });
  await rejectsKind(
    () => encryptMessage({ data: "x", encryptionKeys: [alice.unlocked], signingKeys: [locked] }),
    "bad-input",
  );
  await rejectsKind(
    () => encryptMessage({ data: 42 as unknown as string, encryptionKeys: [alice.unlocked] }),
    "bad-input",
  );
});

Deno.test("decryptMessage: a locked decryption key is bad-input", async () => {
  const alice = await eccKey("alice");
  const msg = await encryptMessage({ data: "x", encryptionKeys: [alice.unlocked] });
  const locked = await openpgp.readPrivateKey({ armoredKey: alice.privateKey });
  await rejectsKind(() => decryptMessage(msg, [locked]), "bad-input");
});
