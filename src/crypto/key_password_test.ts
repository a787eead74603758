import assert from "node:assert/strict";
import { bcryptBase64Encode, bcryptHash } from "./bcrypt.ts";
import { fromBase64, toBase64 } from "./base64.ts";
import { CryptoError } from "./errors.ts";
import { deriveKeyPassword, selectKeySalt } from "./key_password.ts";

const isBadInput = (e: unknown) => e instanceof CryptoError && e.kind === "bad-input";

Deno.test("deriveKeyPassword: fixed vector", () => {
  // Salt = bytes 0..15. Computed once with this implementation and committed.
  const salt = toBase64(Uint8Array.from({ length: 16 }, (_, i) => i));
  assert.equal(salt, "AAECAwQFBgcICQoLDA0ODw==");
  const kp = deriveKeyPassword("correct horse battery staple", salt);
  assert.equal(kp, "bRoslBHnMTNf7r5vXwx5UX9sWYt/FHi");
  // Structure: the hash part of "$2y$10$" + bcrypt-base64(salt) + 31 chars.
  const full = bcryptHash("correct horse battery staple", fromBase64(salt));
  assert.equal(full.length, 60);
  assert.equal(full.slice(0, 29), "$2y$10$" + bcryptBase64Encode(fromBase64(salt)));
  assert.equal(full.slice(29), kp);
  assert.match(kp, /^[./A-Za-z0-9]{31}$/);
});

Deno.test("deriveKeyPassword matches proton-srp's published mailbox password vectors", () => {
  // Last 31 characters of the expected hashes of proton-srp's `test_mailbox_password_hash`.
  const vectors: [string, string, string][] = [
    ["password", "imK9IHsRcA2Zsv+yROZgbw==", "Q.Gd9rSsqE0xQ8Qcf0Q9ckInb4hIzOu"],
    ["a loooong password~~~?\n\n", "6hGAnuIZ7Dgf3f/diExc6A==", "5x5DgJBFXMNlS93R3YxYVVxR7Jq8V3q"],
    ["t", "rNBLbNt14Nuo9lzr6/QpVg==", "QSN9nb4NyO/HCMNYgPTztxZHDF9XRVO"],
  ];
  for (const [password, salt, expected] of vectors) {
    assert.equal(deriveKeyPassword(password, salt), expected, password);
  }
});

Deno.test("deriveKeyPassword: unsalted (legacy) keys use the mailbox password itself", () => {
  assert.equal(deriveKeyPassword("secret", null), "secret");
  assert.equal(deriveKeyPassword("secret", ""), "secret");
});

Deno.test("deriveKeyPassword: bad salts are bad-input", () => {
  assert.throws(() => deriveKeyPassword("x", "not base64!"), isBadInput);
  assert.throws(() => deriveKeyPassword("x", toBase64(new Uint8Array(10))), isBadInput);
});

Deno.test("selectKeySalt picks the primary key's salt", () => {
  const salts = [
    { ID: "k1", KeySalt: "AAECAwQFBgcICQoLDA0ODw==" },
    { ID: "k2", KeySalt: "imK9IHsRcA2Zsv+yROZgbw==" },
    { ID: "k3", KeySalt: null },
  ];
  assert.equal(selectKeySalt(salts, "k2"), "imK9IHsRcA2Zsv+yROZgbw==");
  assert.equal(selectKeySalt(salts, "k3"), "");
  assert.throws(() => selectKeySalt(salts, "missing"), isBadInput);
  assert.throws(() => selectKeySalt([], "k1"), isBadInput);
});
