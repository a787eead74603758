import assert from "node:assert/strict";
import { REFERENCE_MODULUS_B64 } from "./srp_constants.ts";
import { SrpError } from "./srp_error.ts";
import { decodeBase64, encodeBase64 } from "./srp_hash.ts";
import { cleanUsername, hashPassword } from "./srp_password.ts";

const MODULUS = decodeBase64(REFERENCE_MODULUS_B64, "modulus");
const SALT = Uint8Array.of(0x5a, 0x17, 0xc3, 0x08, 0x91, 0xee, 0x42, 0x7d, 0x10, 0xb6);
const PASSWORD = "correct horse battery staple";
const USERNAME = "Alice.Smith-x_y";

/** First 33 bytes of x (base64) per version, computed once by this implementation. */
const X_PREFIXES: Record<number, string> = {
  0: "5EmOyFdw3Sc0/Xati6mt4wDaljgcMeT2hf+H7ywDZZOm",
  1: "Rvafz80X6yp+UqbXujdSXPc+M9/6sWYz5H8Zs7tF/NP9",
  2: "NvYMMEua1JTgJNUl1rdhUff/HitNKMGtCEhrK6oiIQJo",
  3: "jfdgh0PMFfA2Ef8qN8XlTVBWVr85Qa5dXX4thGO/6zMU",
  4: "jfdgh0PMFfA2Ef8qN8XlTVBWVr85Qa5dXX4thGO/6zMU",
};

function isSrpError(kind: string) {
  return (e: unknown) => e instanceof SrpError && e.kind === kind;
}

Deno.test("hashPassword() is deterministic, 256 bytes, and matches the recorded x per version", () => {
  for (const version of [0, 1, 2, 3, 4]) {
    const x = hashPassword(version, PASSWORD, USERNAME, SALT, MODULUS);
    assert.equal(x.length, 256);
    assert.deepEqual(hashPassword(version, PASSWORD, USERNAME, SALT, MODULUS), x);
    assert.equal(encodeBase64(x).slice(0, 44), X_PREFIXES[version], `version ${version}`);
  }
});

Deno.test("hashPassword() versions 0, 1, 2 and 3 differ; 3 and 4 are the same", () => {
  const xs = [0, 1, 2, 3].map((v) =>
    encodeBase64(hashPassword(v, PASSWORD, USERNAME, SALT, MODULUS))
  );
  assert.equal(new Set(xs).size, 4);
  assert.deepEqual(
    hashPassword(3, PASSWORD, USERNAME, SALT, MODULUS),
    hashPassword(4, PASSWORD, USERNAME, SALT, MODULUS),
  );
});

Deno.test("hashPassword() uses what each version says it uses", () => {
  const v4 = (password: string, username: string, salt: Uint8Array) =>
    encodeBase64(hashPassword(4, password, username, salt, MODULUS));
  // Versions 3/4 ignore the username, depend on password, salt and modulus.
  assert.equal(v4(PASSWORD, "a", SALT), v4(PASSWORD, "b", SALT));
  assert.notEqual(v4(PASSWORD, "a", SALT), v4(PASSWORD + "!", "a", SALT));
  assert.notEqual(v4(PASSWORD, "a", SALT), v4(PASSWORD, "a", SALT.map((b) => b ^ 1)));
  const otherModulus = MODULUS.slice();
  otherModulus[0] ^= 4;
  assert.notDeepEqual(
    hashPassword(4, PASSWORD, "a", SALT, otherModulus),
    hashPassword(4, PASSWORD, "a", SALT, MODULUS),
  );
  // Versions 0-2 ignore the salt; version 1 lower-cases the username, version 2 also cleans it.
  for (const version of [0, 1, 2]) {
    assert.deepEqual(
      hashPassword(version, PASSWORD, USERNAME, SALT, MODULUS),
      hashPassword(version, PASSWORD, USERNAME, new Uint8Array(0), MODULUS),
    );
  }
  assert.deepEqual(
    hashPassword(1, PASSWORD, "ALICE", SALT, MODULUS),
    hashPassword(1, PASSWORD, "alice", SALT, MODULUS),
  );
  assert.deepEqual(
    hashPassword(2, PASSWORD, USERNAME, SALT, MODULUS),
    hashPassword(1, PASSWORD, "alicesmithxy", SALT, MODULUS),
  );
  assert.equal(cleanUsername("Alice.Smith-x_y"), "alicesmithxy");
});

Deno.test("hashPassword() reproduces x of go-srp TestSRPauth (confirmed by its proofs)", () => {
  // go-srp srp_test.go: version 4, user jakubqa, password abc123, salt yKlc5/CvObfoiw==. The test
  // publishes proofs, not x; srp_client_test.ts reproduces those proofs, which pins this x.
  const modulus = decodeBase64(
    "W2z5HBi8RvsfYzZTS7qBaUxxPhsfHJFZpu3Kd6s1JafNrCCH9rfvPLrfuqocxWPgWDH2R8neK7PkNvjxto9TStuY5z7jAzWR" +
      "vFWN9cQhAKkdWgy0JY6ywVn22+HFpF4cYesHrqFIKUPDMSSIlWjBVmEJZ/MusD44ZT29xcPrOqeZvwtCffKtGAIjLYPZ" +
      "IEbZKnDM1Dm3q2K/xS5h+xdhjnndhsrkwm9U9oyA2wxzSXFL+pdfj2fOdRwuR5nW0J2NFrq3kJjkRmpO/Genq1UW+TEk" +
      "nIWAb6VzJJJA244K/H8cnSx2+nSNZO3bbo6Ys228ruV9A8m6DhxmS+bihN3ttQ==",
    "modulus",
  );
  const x = hashPassword(4, "abc123", "jakubqa", decodeBase64("yKlc5/CvObfoiw==", "salt"), modulus);
  assert.equal(
    encodeBase64(x),
    "UHwyXL718YTYWiTYh8/LPLSBa7DgezL5QJXZEgzEeeomD0Mf62Zu6qNkQj0z/sDxf3fIGTn0U8gk4jWCBLMnmY5jPwvT" +
      "X63SyvmWpF6LiMhWvz6bUZh+5z/hGQiI/YdRE4DW+2PXAmnGQJZ1MgTouDnLLavGuvSrC0qzzI37QNUDyAtFWwrXwbNq" +
      "hpWUa1PQDJ+gHpQjnCXa7dVlpj5TQbDvPEZ9JrA7c37TopINerrBmU/jhcPUFp8EHwsScuRxxDBXIkYBP1gIVTtJSTPL" +
      "XWKJlrdqNzHuJXxOrpeOiDjuIDFhWK2v/gXbyfwp53ph80VPd3eRPQWpCkO3iqKWUg==",
  );
});

Deno.test("hashPassword() rejects unsupported versions and bad inputs", () => {
  for (const version of [-1, 5, 1.5]) {
    assert.throws(
      () => hashPassword(version, PASSWORD, USERNAME, SALT, MODULUS),
      isSrpError("unsupported-version"),
    );
  }
  assert.throws(
    () => hashPassword(4, PASSWORD, USERNAME, SALT, MODULUS.subarray(1)),
    isSrpError("bad-input"),
  );
  assert.throws(
    () => hashPassword(4, PASSWORD, USERNAME, SALT.subarray(1), MODULUS),
    isSrpError("bad-input"),
  );
});
