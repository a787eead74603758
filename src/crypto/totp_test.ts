import assert from "node:assert/strict";
import {
  base32Decode,
  base32Encode,
  generateTotpSecret,
  hotp,
  totpCode,
  verifyTotp,
} from "./totp.ts";

// RFC 6238 Appendix B uses the ASCII secret "12345678901234567890".
const RFC_SECRET = base32Encode(new TextEncoder().encode("12345678901234567890"));

Deno.test("base32 round-trips and matches RFC 4648 vectors", () => {
  assert.equal(RFC_SECRET, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  assert.equal(base32Encode(new TextEncoder().encode("foobar")), "MZXW6YTBOI");
  assert.equal(new TextDecoder().decode(base32Decode("mzxw 6ytb-oi======")), "foobar");
  assert.throws(() => base32Decode("abc1"), /invalid base32/);
});

Deno.test("RFC 4226 HOTP vectors", () => {
  const key = new TextEncoder().encode("12345678901234567890");
  assert.equal(hotp(key, 0), "755224");
  assert.equal(hotp(key, 1), "287082");
  assert.equal(hotp(key, 9), "520489");
});

Deno.test("RFC 6238 SHA-1 vectors", () => {
  assert.equal(totpCode(RFC_SECRET, 59, 8), "94287082");
  assert.equal(totpCode(RFC_SECRET, 59), "287082");
  assert.equal(totpCode(RFC_SECRET, 1111111109, 8), "07081804");
  assert.equal(totpCode(RFC_SECRET, 1234567890, 8), "89005924");
  assert.equal(totpCode(RFC_SECRET, 20000000000, 8), "65353130");
});

Deno.test("verifyTotp accepts the current and adjacent steps only", () => {
  const secret = generateTotpSecret();
  assert.equal(base32Decode(secret).length, 20);
  const t = 1_700_000_000;
  assert.ok(verifyTotp(secret, totpCode(secret, t), t));
  assert.ok(verifyTotp(secret, totpCode(secret, t - 30), t));
  assert.ok(verifyTotp(secret, totpCode(secret, t + 30), t));
  assert.ok(!verifyTotp(secret, totpCode(secret, t - 90), t, 1));
  assert.ok(!verifyTotp(secret, "12345", t));
  assert.ok(!verifyTotp(secret, "abcdef", t));
});
