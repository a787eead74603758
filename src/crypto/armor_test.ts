import assert from "node:assert/strict";
import { armorMessage, armorSignature, unarmorMessage } from "./armor.ts";
import { signDetached, verifyDetached } from "./attachment.ts";
import { CryptoError } from "./errors.ts";
import { decryptMessage, encryptMessageBinary } from "./message.ts";
import { joinMessage, splitMessage } from "./split.ts";
import { eccKey } from "./_test_keys.ts";

Deno.test("armorMessage: a joined split message armors and decrypts", async () => {
  const alice = await eccKey("alice");
  const bin = await encryptMessageBinary({ data: "héllo", encryptionKeys: [alice.unlocked] });
  const { keyPackets, dataPacket } = splitMessage(bin);
  const armored = armorMessage(joinMessage(keyPackets, dataPacket));
  assert.match(armored, /^-----BEGIN PGP MESSAGE-----/);
  const { data } = await decryptMessage(armored, [alice.unlocked]);
  assert.equal(new TextDecoder().decode(data), "héllo");
  assert.equal(armorMessage(new TextEncoder().encode(armored)), armored);
});

Deno.test("armorMessage: refuses empty input and non-OpenPGP bytes", () => {
  for (const bad of [new Uint8Array(), new TextEncoder().encode("hello")]) {
    assert.throws(
      () => armorMessage(bad),
      (e) => e instanceof CryptoError && e.kind === "bad-input",
    );
  }
});

Deno.test("armorSignature: binary detached signature → armored, still verifies", async () => {
  const alice = await eccKey("alice");
  const sig = await signDetached("data", alice.unlocked);
  const armored = await armorSignature(sig);
  assert.match(armored, /^-----BEGIN PGP SIGNATURE-----/);
  assert.ok(await verifyDetached("data", armored, [alice.unlocked.toPublic()]));
  await assert.rejects(
    () => armorSignature(new Uint8Array([1, 2, 3])),
    (e) => e instanceof CryptoError && e.kind === "bad-input",
  );
});

Deno.test("unarmorMessage: armored → binary packets; refuses other armor types", async () => {
  const alice = await eccKey("alice");
  const bin = await encryptMessageBinary({ data: "x", encryptionKeys: [alice.unlocked] });
  assert.deepEqual(await unarmorMessage(armorMessage(bin)), bin);
  assert.deepEqual(await unarmorMessage(new TextEncoder().encode(armorMessage(bin))), bin);
  assert.deepEqual(await unarmorMessage(bin), bin);
  const sig = await armorSignature(await signDetached("d", alice.unlocked));
  await assert.rejects(
    () => unarmorMessage(sig),
    (e) => e instanceof CryptoError && e.kind === "bad-input",
  );
  await assert.rejects(
    () => unarmorMessage("not armor"),
    (e) => e instanceof CryptoError && e.kind === "bad-input",
  );
});
