import assert from "node:assert/strict";
import { CryptoError, toCryptoError } from "./errors.ts";

Deno.test("CryptoError carries its kind and cause", () => {
  const cause = new Error("inner");
  const e = toCryptoError(cause, "tampered", "Cannot decrypt");
  assert.ok(e instanceof CryptoError && e instanceof Error);
  assert.equal(e.kind, "tampered");
  assert.equal(e.name, "CryptoError");
  assert.equal(e.message, "Cannot decrypt: inner");
  assert.equal(e.cause, cause);
  assert.equal(toCryptoError(e, "bad-input", "x"), e);
});
