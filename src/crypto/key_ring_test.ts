import assert from "node:assert/strict";
import { KeyRing } from "./key_ring.ts";
import { fingerprintOf } from "./keys.ts";
import { CryptoError } from "./errors.ts";
import { eccKey } from "./_test_keys.ts";

Deno.test("KeyRing keeps order; first() is the first key; publicKeys() are public", async () => {
  const a = await eccKey("alice");
  const b = await eccKey("bob");
  const ring = new KeyRing([a.unlocked, b.unlocked]);
  assert.equal(ring.size, 2);
  assert.equal(ring.first(), a.unlocked);
  const pubs = ring.publicKeys();
  assert.deepEqual(pubs.map(fingerprintOf), [a.fingerprint, b.fingerprint]);
  assert.ok(pubs.every((k) => !k.isPrivate()));
});

Deno.test("KeyRing.first() throws no-key when empty", () => {
  const ring = new KeyRing([]);
  assert.equal(ring.size, 0);
  assert.throws(
    () => ring.first(),
    (e: unknown) => e instanceof CryptoError && e.kind === "no-key",
  );
});
