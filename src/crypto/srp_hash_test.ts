import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  bigIntToBytesLE,
  bytesEqual,
  bytesToBigIntLE,
  decodeBase64,
  encodeBase64,
  expandHash,
  modPow,
} from "./srp_hash.ts";
import { SrpError } from "./srp_error.ts";

function sha512(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

Deno.test("expandHash() is SHA512(data‖i) for i = 0..3, 256 bytes", () => {
  for (const data of [new Uint8Array(0), new TextEncoder().encode("proton"), new Uint8Array(300)]) {
    const h = expandHash(data);
    assert.equal(h.length, 256);
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(h.subarray(i * 64, i * 64 + 64), sha512(data, Uint8Array.of(i)));
    }
  }
  // Known answer: the first block for empty input is SHA-512 of the single byte 0x00.
  assert.equal(
    Array.from(expandHash(new Uint8Array(0)).subarray(0, 8), (b) => b.toString(16).padStart(2, "0"))
      .join(""),
    "b8244d028981d693",
  );
});

Deno.test("bytesToBigIntLE() and bigIntToBytesLE() are little-endian and pad to 256 bytes", () => {
  assert.equal(bytesToBigIntLE(Uint8Array.of(1, 2)), 0x0201n);
  assert.equal(bytesToBigIntLE(new Uint8Array(0)), 0n);
  const two = bigIntToBytesLE(2n);
  assert.equal(two.length, 256);
  assert.equal(two[0], 2);
  assert.ok(two.subarray(1).every((b) => b === 0));
  assert.deepEqual(bigIntToBytesLE(0x0102n, 2), Uint8Array.of(2, 1));
  const n = (1n << 2047n) + 12345n;
  assert.equal(bytesToBigIntLE(bigIntToBytesLE(n)), n);
  assert.throws(() => bigIntToBytesLE(1n << 2048n), RangeError);
  assert.throws(() => bigIntToBytesLE(-1n), RangeError);
});

Deno.test("modPow() matches small known values and Fermat on a prime", () => {
  assert.equal(modPow(4n, 13n, 497n), 445n);
  assert.equal(modPow(2n, 0n, 7n), 1n);
  assert.equal(modPow(-3n, 3n, 7n), 1n); // (-27) mod 7
  assert.equal(modPow(5n, 10n, 1n), 0n);
  const p = (1n << 127n) - 1n; // Mersenne prime
  assert.equal(modPow(3n, p - 1n, p), 1n);
});

Deno.test("bytesEqual() compares length and content", () => {
  assert.ok(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  assert.ok(!bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
  assert.ok(!bytesEqual(Uint8Array.of(1), Uint8Array.of(1, 0)));
});

Deno.test("decodeBase64() is strict padded base64 and round-trips encodeBase64()", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(257));
  assert.deepEqual(decodeBase64(encodeBase64(bytes), "x"), bytes);
  assert.deepEqual(decodeBase64("", "x"), new Uint8Array(0));
  for (const bad of ["abc", "a b=", "!!!!", "YQ", "YQ=", "YWJj\n"]) {
    assert.throws(() => decodeBase64(bad, "x"), (e: unknown) => {
      return e instanceof SrpError && e.kind === "bad-input";
    });
  }
});
