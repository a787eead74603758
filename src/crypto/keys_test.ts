import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import {
  fingerprintOf,
  generateKey,
  lockKey,
  publicKeyOf,
  readPrivateKey,
  readPublicKey,
  unlockKey,
  unlockKeyRaw,
} from "./keys.ts";
import { eccKey, rejectsKind, rsaKey } from "./_test_keys.ts";

Deno.test("generateKey ecc: locked curve25519 key with fingerprint and user ID", async () => {
  const k = await eccKey("alice");
  assert.match(k.privateKey, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
  assert.match(k.publicKey, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  assert.match(k.fingerprint, /^[0-9a-f]{40}$/);
  const priv = await readPrivateKey(k.privateKey);
  assert.equal(priv.isDecrypted(), false);
  assert.equal(fingerprintOf(priv), k.fingerprint);
  const info = priv.getAlgorithmInfo();
  assert.equal(info.algorithm, "eddsaLegacy");
  const sub = priv.subkeys[0]!.getAlgorithmInfo();
  assert.equal(sub.algorithm, "ecdh");
  assert.equal(sub.curve, "curve25519Legacy");
  assert.equal(priv.keyPacket.version, 4);
  assert.deepEqual(priv.getUserIDs(), ["alice <alice@example.test>"]);
  const pub = await readPublicKey(k.publicKey);
  assert.equal(pub.isPrivate(), false);
  assert.equal(fingerprintOf(pub), k.fingerprint);
});

Deno.test("generateKey rsa: 2048-bit key that unlocks", async () => {
  const k = await rsaKey();
  const priv = await readPrivateKey(k.privateKey);
  const info = priv.getAlgorithmInfo();
  assert.equal(info.algorithm, "rsaEncryptSign");
  assert.equal(info.bits, 2048);
  assert.equal(k.unlocked.isDecrypted(), true);
  assert.equal(fingerprintOf(k.unlocked), k.fingerprint);
});

Deno.test("unlockKey: right passphrase unlocks, wrong one is wrong-passphrase", async () => {
  const k = await eccKey("alice");
  const unlocked = await unlockKey(k.privateKey, k.passphrase);
  assert.equal(unlocked.isDecrypted(), true);
  const err = await rejectsKind(() => unlockKey(k.privateKey, "nope"), "wrong-passphrase");
  assert.match(err.message, /wrong passphrase/);
  await rejectsKind(() => unlockKey(k.privateKey, ""), "wrong-passphrase");
});

Deno.test("unlockKey: wrong passphrase on an RSA key", async () => {
  const k = await rsaKey();
  await rejectsKind(() => unlockKey(k.privateKey, "nope"), "wrong-passphrase");
});

Deno.test("lockKey: relock with a new passphrase; the old one no longer works", async () => {
  const k = await eccKey("alice");
  const relocked = await lockKey(k.unlocked, "new passphrase");
  assert.equal(k.unlocked.isDecrypted(), true, "the input key stays unlocked");
  const again = await unlockKey(relocked, "new passphrase");
  assert.equal(fingerprintOf(again), k.fingerprint);
  await rejectsKind(() => unlockKey(relocked, k.passphrase), "wrong-passphrase");
  const stillLocked = await readPrivateKey(k.privateKey);
  await rejectsKind(() => lockKey(stillLocked, "x"), "bad-input");
  await rejectsKind(() => lockKey(k.unlocked, ""), "bad-input");
});

Deno.test("lockKey/unlockKey on RSA", async () => {
  const k = await rsaKey();
  const relocked = await lockKey(k.unlocked, "other");
  assert.equal((await unlockKey(relocked, "other")).isDecrypted(), true);
});

Deno.test("publicKeyOf and readPublicKey of a private key give the public part", async () => {
  const k = await eccKey("alice");
  const armored = publicKeyOf(k.unlocked);
  assert.match(armored, /PUBLIC KEY BLOCK/);
  assert.doesNotMatch(armored, /PRIVATE/);
  const fromPrivate = await readPublicKey(k.privateKey);
  assert.equal(fromPrivate.isPrivate(), false);
  assert.equal(fingerprintOf(fromPrivate), k.fingerprint);
  const binary = (await readPublicKey(armored)).write();
  assert.equal(fingerprintOf(await readPublicKey(binary)), k.fingerprint);
});

Deno.test("key readers and generateKey reject bad input with bad-input", async () => {
  await rejectsKind(() => readPrivateKey("not a key"), "bad-input");
  await rejectsKind(
    () => readPublicKey("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n"),
    "bad-input",
  );
  await rejectsKind(() => readPrivateKey(new Uint8Array([1, 2, 3])), "bad-input");
  await rejectsKind(() => unlockKey("garbage", "x"), "bad-input");
  const k = await eccKey("alice");
  await rejectsKind(() => readPrivateKey(k.publicKey), "bad-input");
  await rejectsKind(() => generateKey({ email: "a@b.test", passphrase: "" }), "bad-input");
  await rejectsKind(() => generateKey({ email: "not an email", passphrase: "x" }), "bad-input");
  await rejectsKind(
    () => generateKey({ email: "a@b.test", passphrase: "x", type: "rsa", rsaBits: 1024 }),
    "bad-input",
  );
});

Deno.test("unlockKey returns an unencrypted key as it is", async () => {
  const { privateKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "curve25519Legacy",
    userIDs: [{ email: "plain@example.test" }],
    format: "armored",
  });
  assert.equal((await unlockKey(privateKey, "anything")).isDecrypted(), true);
});

Deno.test("unlockKeyRaw: byte-exact S2K agrees with openpgp.js (ECC and RSA, non-ASCII)", async () => {
  const pass = "pässwörd ✓ \u{1F511}";
  const bytes = new TextEncoder().encode(pass);
  for (const k of [await eccKey("raw-s2k"), await rsaKey()]) {
    const locked = await lockKey(k.unlocked, pass);
    const raw = await unlockKeyRaw(locked, bytes);
    assert.equal(raw.isDecrypted(), true);
    assert.equal(fingerprintOf(raw), k.fingerprint);
    // The key really works: it signs what its public half verifies.
    const text = await openpgp.createMessage({ text: "raw" });
    const signed = await openpgp.sign({ message: text, signingKeys: raw, format: "binary" });
    const check = await openpgp.verify({
      message: await openpgp.readMessage({ binaryMessage: signed as Uint8Array }),
      verificationKeys: raw.toPublic(),
    });
    await check.signatures[0]!.verified;
    // UTF-8 bytes through unlockKey take openpgp.js's own path and agree.
    assert.equal((await unlockKey(locked, bytes)).isDecrypted(), true);
    await rejectsKind(() => unlockKeyRaw(locked, bytes.subarray(1)), "wrong-passphrase");
    await rejectsKind(() => unlockKey(locked, Uint8Array.of(0xff, 0xfe)), "wrong-passphrase");
  }
  // A key that is not locked is returned as it is.
  const open = (await eccKey("raw-s2k")).unlocked.armor();
  assert.equal((await unlockKeyRaw(open, Uint8Array.of(0xff))).isDecrypted(), true);
});
