import assert from "node:assert/strict";
import { makeAddressKeyToken, unlockAddressKeys, unlockUserKeys } from "./address_keys.ts";
import { deriveKeyPassword } from "./key_password.ts";
import { fingerprintOf, generateKey, lockKey, unlockKey } from "./keys.ts";
import { KeyRing } from "./key_ring.ts";
import { decryptMessage, encryptMessage } from "./message.ts";
import { signDetached } from "./attachment.ts";
import { eccKey, rejectsKind } from "./_test_keys.ts";

const KEY_PASSWORD = deriveKeyPassword("mailbox password", "imK9IHsRcA2Zsv+yROZgbw==");

/** A user key locked with KEY_PASSWORD, plus a second user key that does not unlock. */
async function userKeys() {
  const user = await eccKey("user");
  const other = await eccKey("other");
  const locked = await lockKey(user.unlocked, KEY_PASSWORD);
  return {
    user,
    apiKeys: [
      { ID: "u-inactive", PrivateKey: other.privateKey, Primary: 0, Active: 0 },
      { ID: "u-other", PrivateKey: other.privateKey, Primary: 0, Active: 1 },
      { ID: "u1", PrivateKey: locked, Primary: 1, Active: 1 },
    ],
  };
}

Deno.test("unlockUserKeys unlocks active keys, skips failures, keeps order", async () => {
  const { user, apiKeys } = await userKeys();
  const ring = await unlockUserKeys(apiKeys, KEY_PASSWORD);
  assert.equal(ring.size, 1);
  assert.equal(fingerprintOf(ring.first()), user.fingerprint);
  await rejectsKind(() => unlockUserKeys(apiKeys, "wrong"), "wrong-passphrase");
  await rejectsKind(() => unlockUserKeys([apiKeys[0]!], KEY_PASSWORD), "no-key");
  await rejectsKind(() => unlockUserKeys([], KEY_PASSWORD), "no-key");
  await rejectsKind(
    () => unlockUserKeys([{ ID: "bad", PrivateKey: "garbage", Active: 1 }], KEY_PASSWORD),
    "bad-input",
  );
});

Deno.test("token scheme: makeAddressKeyToken → unlockAddressKeys", async () => {
  const { user, apiKeys } = await userKeys();
  const userRing = await unlockUserKeys(apiKeys, KEY_PASSWORD);
  const tok = await makeAddressKeyToken(userRing.first());
  assert.match(tok.passphrase, /^[0-9a-f]{64}$/);
  assert.match(tok.Token, /^-----BEGIN PGP MESSAGE-----/);
  assert.match(tok.Signature, /^-----BEGIN PGP SIGNATURE-----/);
  // The token really is the passphrase encrypted to the user key.
  const opened = await decryptMessage(tok.Token, [user.unlocked]);
  assert.equal(new TextDecoder().decode(opened.data), tok.passphrase);

  const addr = await generateKey({ email: "addr@example.test", passphrase: tok.passphrase });
  const ring = await unlockAddressKeys(
    [{
      ID: "a1",
      PrivateKey: addr.privateKey,
      Token: tok.Token,
      Signature: tok.Signature,
      Active: 1,
    }],
    userRing,
    "not used for token keys",
  );
  assert.equal(ring.size, 1);
  assert.equal(fingerprintOf(ring.first()), addr.fingerprint);
  assert.equal(ring.first().isDecrypted(), true);
});

Deno.test("legacy scheme: address key locked with the key password", async () => {
  const { apiKeys } = await userKeys();
  const userRing = await unlockUserKeys(apiKeys, KEY_PASSWORD);
  const addr = await generateKey({ email: "legacy@example.test", passphrase: KEY_PASSWORD });
  const ring = await unlockAddressKeys(
    [{ ID: "a1", PrivateKey: addr.privateKey, Token: null, Signature: null, Active: 1 }],
    userRing,
    KEY_PASSWORD,
  );
  assert.equal(fingerprintOf(ring.first()), addr.fingerprint);
  await rejectsKind(
    () => unlockAddressKeys([{ ID: "a1", PrivateKey: addr.privateKey }], userRing, "wrong"),
    "wrong-passphrase",
  );
});

Deno.test("token scheme: a tampered or foreign token signature is rejected", async () => {
  const { apiKeys } = await userKeys();
  const userRing = await unlockUserKeys(apiKeys, KEY_PASSWORD);
  const tok = await makeAddressKeyToken(userRing.first());
  const addr = await generateKey({ email: "addr2@example.test", passphrase: tok.passphrase });
  const key = { ID: "a1", PrivateKey: addr.privateKey, Token: tok.Token, Active: 1 };

  // A signature over different bytes.
  const otherSig = await signDetached(new TextEncoder().encode("x".repeat(64)), userRing.first(), {
    armor: true,
  });
  await rejectsKind(
    () => unlockAddressKeys([{ ...key, Signature: otherSig }], userRing, KEY_PASSWORD),
    "bad-signature",
  );
  // A signature by another key.
  const stranger = await eccKey("stranger");
  const strangerSig = await signDetached(
    new TextEncoder().encode(tok.passphrase),
    stranger.unlocked,
    { armor: true },
  );
  await rejectsKind(
    () => unlockAddressKeys([{ ...key, Signature: strangerSig }], userRing, KEY_PASSWORD),
    "bad-signature",
  );
  // A corrupted armored signature (one base64 character changed).
  const lines = tok.Signature.split("\n");
  const i = lines.findIndex((l) => /^[A-Za-z0-9+/]{20,}/.test(l));
  lines[i] = (lines[i]![5] === "A" ? "B" : "A").padStart(6, lines[i]!.slice(0, 5)) +
    lines[i]!.slice(6);
  await rejectsKind(
    () => unlockAddressKeys([{ ...key, Signature: lines.join("\n") }], userRing, KEY_PASSWORD),
    "bad-signature",
  );
  // The untampered key still works, and a good key next to a bad one is enough.
  const ring = await unlockAddressKeys(
    [{ ...key, ID: "bad", Signature: otherSig }, { ...key, Signature: tok.Signature }],
    userRing,
    KEY_PASSWORD,
  );
  assert.equal(ring.size, 1);
});

Deno.test("token scheme: a token for another user key is wrong-key", async () => {
  const { apiKeys } = await userKeys();
  const userRing = await unlockUserKeys(apiKeys, KEY_PASSWORD);
  const stranger = await eccKey("stranger");
  const tok = await makeAddressKeyToken(stranger.unlocked);
  const addr = await generateKey({ email: "addr3@example.test", passphrase: tok.passphrase });
  await rejectsKind(
    () =>
      unlockAddressKeys(
        [{ ID: "a", PrivateKey: addr.privateKey, Token: tok.Token, Signature: tok.Signature }],
        userRing,
        KEY_PASSWORD,
      ),
    "wrong-key",
  );
});

Deno.test("token scheme: opaque non-hex token bytes are used as the UTF-8 passphrase", async () => {
  const user = await eccKey("user");
  const userRing = new KeyRing([user.unlocked]);
  const passphrase = "zZ9+/ tøken";
  const bytes = new TextEncoder().encode(passphrase);
  const Token = await encryptMessage({ data: bytes, encryptionKeys: [user.unlocked] });
  const Signature = await signDetached(bytes, user.unlocked, { armor: true });
  const addr = await generateKey({ email: "addr4@example.test", passphrase });
  const ring = await unlockAddressKeys(
    [{ ID: "a", PrivateKey: addr.privateKey, Token, Signature }],
    userRing,
    "",
  );
  assert.equal(fingerprintOf(ring.first()), addr.fingerprint);
  assert.equal((await unlockKey(addr.privateKey, passphrase)).isDecrypted(), true);
});
