import assert from "node:assert/strict";
import {
  decryptAttachment,
  encryptAttachment,
  readSignature,
  signDetached,
  verifyDetached,
} from "./attachment.ts";
import { listPackets } from "./split.ts";
import { readPublicKey } from "./keys.ts";
import { eccKey, rejectsKind, rsaKey } from "./_test_keys.ts";

Deno.test("encryptAttachment → decryptAttachment, detached signature verifies", async () => {
  const alice = await eccKey("alice");
  const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 13) & 0xff);
  const att = await encryptAttachment(data, alice.unlocked, alice.unlocked);
  assert.deepEqual(listPackets(att.keyPackets).map((p) => p.tag), [1]);
  assert.deepEqual(listPackets(att.dataPacket).map((p) => p.tag), [18]);
  assert.deepEqual(listPackets(att.signature).map((p) => p.tag), [2]);
  assert.deepEqual(await decryptAttachment(att.keyPackets, att.dataPacket, [alice.unlocked]), data);
  const pub = await readPublicKey(alice.publicKey);
  assert.equal(await verifyDetached(data, att.signature, [pub]), true);
  const other = data.slice();
  other[500]! ^= 1;
  assert.equal(await verifyDetached(other, att.signature, [pub]), false);
});

Deno.test("decryptAttachment: wrong key, tampered data packet", async () => {
  const alice = await eccKey("alice");
  const bob = await eccKey("bob");
  const att = await encryptAttachment(new Uint8Array(1000).fill(7), alice.unlocked, alice.unlocked);
  await rejectsKind(
    () => decryptAttachment(att.keyPackets, att.dataPacket, [bob.unlocked]),
    "wrong-key",
  );
  const bad = att.dataPacket.slice();
  bad[bad.length - 3]! ^= 0x80;
  await rejectsKind(() => decryptAttachment(att.keyPackets, bad, [alice.unlocked]), "tampered");
});

Deno.test("encryptAttachment to an RSA key, signed by an ECC key", async () => {
  const rsa = await rsaKey();
  const alice = await eccKey("alice");
  const data = new TextEncoder().encode("attachment");
  const att = await encryptAttachment(data, rsa.unlocked.toPublic(), alice.unlocked);
  assert.deepEqual(await decryptAttachment(att.keyPackets, att.dataPacket, [rsa.unlocked]), data);
  assert.equal(await verifyDetached(data, att.signature, [rsa.unlocked.toPublic()]), false);
  assert.equal(
    await verifyDetached(data, att.signature, [rsa.unlocked.toPublic(), alice.unlocked.toPublic()]),
    true,
  );
});

Deno.test("signDetached: binary and armored; verifyDetached accepts both", async () => {
  const alice = await eccKey("alice");
  const pub = alice.unlocked.toPublic();
  const data = new TextEncoder().encode("line\r\nline\n");
  const bin = await signDetached(data, alice.unlocked);
  assert.ok(bin instanceof Uint8Array);
  const arm = await signDetached(data, alice.unlocked, { armor: true });
  assert.match(arm, /^-----BEGIN PGP SIGNATURE-----/);
  assert.equal(await verifyDetached(data, bin, [pub]), true);
  assert.equal(await verifyDetached(data, arm, [pub]), true);
  assert.equal(await verifyDetached(data, new TextEncoder().encode(arm), [pub]), true);
  assert.equal(await verifyDetached("line\r\nline\n", arm, [pub]), true);
  assert.equal(await verifyDetached("line\nline\n", arm, [pub]), false, "binary signature type");
  assert.equal(await verifyDetached(data, bin, []), false);
  const sig = await readSignature(bin);
  assert.equal(sig.getSigningKeyIDs()[0]!.toHex(), alice.unlocked.getKeyID().toHex());
});

Deno.test("signDetached/verifyDetached: bad input", async () => {
  const alice = await eccKey("alice");
  const pub = alice.unlocked.toPublic();
  await rejectsKind(() => verifyDetached(new Uint8Array(1), "not a signature", [pub]), "bad-input");
  await rejectsKind(
    () => verifyDetached(new Uint8Array(1), new Uint8Array([1, 2, 3]), [pub]),
    "bad-input",
  );
  await rejectsKind(() => verifyDetached(new Uint8Array(1), new Uint8Array(0), [pub]), "bad-input");
  const locked = await (await import("./keys.ts")).readPrivateKey(alice.privateKey);
  await rejectsKind(() => signDetached(new Uint8Array(1), locked), "bad-input");
  await rejectsKind(
    () => signDetached(new Uint8Array(1), pub as unknown as typeof locked),
    "bad-input",
  );
});
