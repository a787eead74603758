import assert from "node:assert/strict";
import { bcryptBase64Encode, bcryptHash, bcryptHashEncodedSalt } from "./bcrypt.ts";

// go-srp `hash_test.go` `Test_bcryptHash`: password `test!!!`, already-encoded salts.
const GO_SRP_VECTORS: [string, string][] = [
  ["PTTsDBs/mlLnSk6VmtFghe", "$2y$10$PTTsDBs/mlLnSk6VmtFgheNSiK/lSwtJsrBLLDK3kZYI7193nInqy"],
  ["4DZHd6WZX4fEaWKtCfYdde", "$2y$10$4DZHd6WZX4fEaWKtCfYddeZfcryISo9eEMgbA90O.Wnnz1s1VKmKC"],
  ["RpyeXO7K2eD3r/ZZ/B63V.", "$2y$10$RpyeXO7K2eD3r/ZZ/B63V.Tya53OExbyO8LR7TB93KYP4PvC.EPMW"],
  ["xVEeHQI8CyNkblUJDhyx3u", "$2y$10$xVEeHQI8CyNkblUJDhyx3uZjo8GDXoNNVoRpLwLvssO1GvV3eYFJS"],
  ["d4Q1rrFYjGq2jyVUi7YwTu", "$2y$10$d4Q1rrFYjGq2jyVUi7YwTuikgSeAgJfaAYJSJZIbIOvW1GBFwx2J6"],
  ["/.3KXCwRnsrxURMGxN7.R.", "$2y$10$/.3KXCwRnsrxURMGxN7.R.GLpVq0zyBbI9wgS0wB2U/g2btx1RYoy"],
  ["tuE3bNGezetI9Ra2aGePqu", "$2y$10$tuE3bNGezetI9Ra2aGePqutWPxG2r36BOzMGoXYzM0p2vmGT9fK1i"],
  ["GFfbuV2J/9BsY0Mb8sJOCe", "$2y$10$GFfbuV2J/9BsY0Mb8sJOCejr2HSgVY2R93m7qQYqSID5ONeYg7ngG"],
  ["FYvnvw/ghdYJbOADddZ3Ae", "$2y$10$FYvnvw/ghdYJbOADddZ3Ae.XoxSKZqOf5t0S/epYUaNn7YmdxmxD6"],
  ["jjMNLFvjPepiyCfuKxYUcO", "$2y$10$jjMNLFvjPepiyCfuKxYUcOykUITQRwkNY1oY5ZgxCDIgj6lXypXx2"],
];

/** Decodes bcrypt base64 (test helper; the inverse of bcryptBase64Encode). */
function decode(s: string): Uint8Array {
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let mapped = [...s].map((c) => std[alphabet.indexOf(c)]).join("");
  while (mapped.length % 4 !== 0) mapped += "=";
  return Uint8Array.from(atob(mapped), (c) => c.charCodeAt(0));
}

Deno.test("bcryptBase64Encode() uses the bcrypt alphabet without padding", () => {
  assert.deepEqual(bcryptBase64Encode(new Uint8Array(0)), "");
  assert.deepEqual(bcryptBase64Encode(new Uint8Array([0])), "..");
  assert.deepEqual(bcryptBase64Encode(new Uint8Array([0xff, 0xff, 0xff])), "9999");
  assert.deepEqual(bcryptBase64Encode(new Uint8Array([0, 0, 0, 0])), "......");
  assert.deepEqual(bcryptBase64Encode(new Uint8Array([0, 0, 0, 0, 0])), ".......");
  assert.deepEqual(bcryptBase64Encode(new Uint8Array(16)).length, 22);
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  assert.deepEqual(decode(bcryptBase64Encode(bytes)).slice(0, 16), bytes);
});

Deno.test("bcryptHashEncodedSalt() reproduces go-srp Test_bcryptHash", () => {
  for (const [salt, want] of GO_SRP_VECTORS) {
    assert.deepEqual(bcryptHashEncodedSalt("test!!!", salt), want);
  }
});

Deno.test("bcryptHash() encodes the 16 salt bytes and matches the go-srp vectors", () => {
  for (const [salt, want] of GO_SRP_VECTORS) {
    const bytes = decode(salt).slice(0, 16);
    assert.deepEqual(bcryptBase64Encode(bytes), salt);
    const got = bcryptHash("test!!!", bytes);
    assert.deepEqual(got, want);
    assert.deepEqual(got.length, 60);
    assert.deepEqual(got.slice(0, 7), "$2y$10$");
  }
});

Deno.test("bcryptHashEncodedSalt() spells a non-canonical 22nd salt character canonically", () => {
  // A hex salt (versions 0-2): the 22nd character `5` carries 4 bits bcrypt ignores. Proton's web
  // client (bcryptjs) and Rust crate print the canonical `u`; go-srp would echo `5`.
  const got = bcryptHashEncodedSalt("x", "0123456789abcdef0123456789abcdef");
  assert.deepEqual(got, bcryptHashEncodedSalt("x", "0123456789abcdef01234u"));
  assert.deepEqual(got.slice(0, 29), "$2y$10$0123456789abcdef01234u");
});

Deno.test("bcryptHash() rejects a salt that is not 16 bytes", () => {
  assert.throws(() => bcryptHash("p", new Uint8Array(15)), RangeError);
  assert.throws(() => bcryptHashEncodedSalt("p", "short"), RangeError);
  assert.throws(() => bcryptHashEncodedSalt("p", "+".repeat(22)), RangeError);
});
