import assert from "node:assert/strict";
import { fromBase64, toBase64 } from "./base64.ts";
import { CryptoError } from "./errors.ts";

Deno.test("toBase64/fromBase64 round-trip all byte values and padding lengths", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(fromBase64(toBase64(all)), all);
  for (let n = 0; n < 5; n++) {
    const b = all.subarray(0, n);
    assert.deepEqual(fromBase64(toBase64(b)), b);
  }
  assert.equal(toBase64(new TextEncoder().encode("foobar")), "Zm9vYmFy");
  assert.equal(toBase64(new TextEncoder().encode("fo")), "Zm8=");
});

Deno.test("toBase64 handles large inputs", () => {
  const big = new Uint8Array(300_000).map((_, i) => i * 7);
  assert.deepEqual(fromBase64(toBase64(big)), big);
});

Deno.test("fromBase64 accepts wrapped and unpadded input", () => {
  assert.deepEqual(fromBase64("Zm9v\nYmFy\r\n"), new TextEncoder().encode("foobar"));
  assert.deepEqual(fromBase64("Zm8"), new TextEncoder().encode("fo"));
});

Deno.test("fromBase64 throws bad-input on invalid text", () => {
  for (const bad of ["Zm9v!", "Z", "Zm9vY", "a=b=", "-_-_", "Zm8==="]) {
    assert.throws(
      () => fromBase64(bad),
      (e: unknown) => e instanceof CryptoError && e.kind === "bad-input",
      bad,
    );
  }
});
