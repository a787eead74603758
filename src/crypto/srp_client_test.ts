import assert from "node:assert/strict";
import { checkModulus, generateProofs, isProbablePrime, verifyServerProof } from "./srp_client.ts";
import { REFERENCE_MODULUS_B64 } from "./srp_constants.ts";
import { SrpError } from "./srp_error.ts";
import { bigIntToBytesLE, bytesToBigIntLE, decodeBase64, encodeBase64 } from "./srp_hash.ts";

function isSrpError(kind: string) {
  return (e: unknown) => e instanceof SrpError && e.kind === kind;
}

// go-srp srp_test.go `TestSRPauth` (github.com/ProtonMail/go-srp): Proton's test modulus and
// server ephemeral, and the proofs go-srp computes for version 4, jakubqa / abc123.
const GO_SRP_MODULUS = "W2z5HBi8RvsfYzZTS7qBaUxxPhsfHJFZpu3Kd6s1JafNrCCH9rfvPLrfuqocxWPgWDH2R8ne" +
  "K7PkNvjxto9TStuY5z7jAzWRvFWN9cQhAKkdWgy0JY6ywVn22+HFpF4cYesHrqFIKUPDMSSIlWjBVmEJZ/MusD44ZT29" +
  "xcPrOqeZvwtCffKtGAIjLYPZIEbZKnDM1Dm3q2K/xS5h+xdhjnndhsrkwm9U9oyA2wxzSXFL+pdfj2fOdRwuR5nW0J2N" +
  "Frq3kJjkRmpO/Genq1UW+TEknIWAb6VzJJJA244K/H8cnSx2+nSNZO3bbo6Ys228ruV9A8m6DhxmS+bihN3ttQ==";
const GO_SRP_SERVER_EPHEMERAL = "l13IQSVFBEV0ZZREuRQ4ZgP6OpGiIfIjbSDYQG3Yp39FkT2B/k3n1ZhwqrAdy+qv" +
  "PPFq/le0b7UDtayoX4aOTJihoRvifas8Hr3icd9nAHqd0TUBbkZkT6Iy6UpzmirCXQtEhvGQIdOLuwvy+vZWh24G2ahB" +
  "M75dAqwkP961EJMh67/I5PA5hJdQZjdPT5luCyVa7BS1d9ZdmuR0/VCjUOdJbYjgtIH7BQoZs+KacjhUN8gybu+fsycv" +
  "TK3eC+9mCN2Y6GdsuCMuR3pFB0RF9eKae7cA6RbJfF1bjm0nNfWLXzgKguKBOeF3GEAsnCgK68q82/pq9etiUDizUlUB" +
  "cA==";
const GO_SRP_CLIENT_PROOF = "Qb+1+jEqHRqpJ3nEJX2FEj0kXgCIWHngO0eT4R2Idkwke/ceCIUmQa0RfTYU53ybO1AV" +
  "ergtb7N0W/3bathdHT9FAHhy0vDGQDg/yPnuUneqV76NuU+pQHnO83gcjmZjDq/zvRRSD7dtIORRK97xhdR9W9bG5XRG" +
  "r2c9Zev40YVcXgUiNUG/0zHSKQfEhUpMKxdauKtGC+dZnZzU6xaU0qvulYEsraawurRf0b1VXwohM6KE52Fj5xlS2FWZ" +
  "3Mg0WIOC5KW5ziI6QirEUDK2pH/Rxvu4HcW9aMuppUmHk9Bm6kdg99o3vl0G7OgmEI7y6iyEYmXqH44XGORJ2sDMxQ==";
const GO_SRP_SERVER_PROOF = "SLCSIClioSAtozauZZzcJuVPyY+MjnxfJSgEe9y6RafgjlPqnhQTZclRKPGsEhxVyWan" +
  "7PIzhL+frPyZNaE1QaV5zbqz1yf9RXpGyTjZwU3FuVCJpkhp6iiCK3Wd2SemxawFXC06dgAdJ7I3HKvfkXeMANOUUh5o" +
  "fjnJtXg42OGp4x1lKoFcH+IbB/CvRNQCmRTyhOiBJmZyUFwxHXLT/h+PlD0XSehcyybIIBIsscQ7ZPVPxQw4BqlqoYzT" +
  "jjXPJxLxeQUQm2g9bPzT+izuR0VOPDtjt+dXrWny90k2nzS0Bs2YvNIqbJn1aQwFZr42p/O1I9n5S3mYtMgGk/7b1g==";
// The client secret a that go-srp's test draws: its random source is Go's math/rand seeded with
// 42, read through crypto/rand.Int(N−1) (256 bytes, big-endian, accepted on the first draw).
// Derived once by replaying Go's math/rand (rngSource with seed 42, Rand.Read) outside this repo.
const GO_SRP_CLIENT_SECRET = BigInt(
  "0x538c7f96b164bf1b97bb9f4bb472e89f5b1484f25209c9d9343e92ba09dd9d52dfd79b4d76429b617a0c9f9f0d3b" +
    "a55b0cc0d6144c888535841acbe0709b0758083f61d375bc02b41df4f91929e18fda9e6f82e54e748e81e79e4bbd" +
    "6fe34cdcba843ee8d63e8c4ffe1cebea546d8fac13dd1aac04ce2ea2877c5579cfa2c78e1b0bafae881b82a75110" +
    "8a42ed3c903caa43465a78620616978aed0ce3c6c4f3ae7bc3e0495b5712fefdbe0c102887e100dacd2d885f692c" +
    "b607da00a11c1c7071e796a2dc2dc25a5b74b2e129705e273f05c92326828e2b056e3817658e1061498947fdf344" +
    "410ed4c116023fa8e3576b6fed27ff8974bac0cafd9ad05692b1",
);

const REFERENCE_MODULUS = decodeBase64(REFERENCE_MODULUS_B64, "modulus");
const N = bytesToBigIntLE(REFERENCE_MODULUS);

// Made with openssl alongside REFERENCE_MODULUS_B64 (little-endian base64):
// a 2048-bit safe prime that is 7 mod 8 (so 2 is a quadratic residue), and
const SAFE_PRIME_7_MOD_8 = "X1u7pAdajTting5H662SO1Ba44b3OCddtc/UP5PmWy/V0/1fTQGz3fZc5pkW5Ys0uXxV" +
  "2VoUx5IYfV1pVwKE3wc5dH4oJg6Jx1KMvNRRU5ouKWsmu1oYw44mwwtJKcKxTweFNoTsESKwyrBRtHsLxvePRwYpFmkj" +
  "d2RhTyBM3Jz0zAY70/g5Lnqfu8jpAdwhNenPeGnhv1ZXu23VSjbeklVUfChgrtPAMF6VEcgcQlH7fdnQiAZEVMbU+Lmk" +
  "xl6vCQhuwhhNRbRdsQ5Pmgl2NuEVrZV2DjVCDzzdKVxl0qJT1kNt7oCRVuMx9YyAdOOVx5cfWAODVIwSXOKhJji59g==";
// a 2048-bit prime that is 3 mod 8 but not safe ((N−1)/2 is composite).
const UNSAFE_PRIME_3_MOD_8 =
  "W75Q7EC/+RzWk7jpwLkZ/ht+95ar+66he80qlFoCJshGRBfYCPFC2tmLxK2t4BWSNMqv" +
  "oueUO+C7tr7RS7ywXUA3ms9FPbhZQf9FpdBeof+5yzc7UepbmagrG5oilte9uDa9TVfUxkRiN/3qdhi1i6CAcqp3RGaO" +
  "6HHQDR+8B+5lTOILPNMP9L82vyQIORighZ3UX/c3LVkVtQy5SRpcbuQ7dcjVEC5AhoCxdeVJNmK4WFYKZREeAyjuonfz" +
  "GIk8pNecwVOk+1shVipDnWxDuhuU5yxXAqqrEOJ4R4DHK+rCyFiapxIpOSNxeG+PzgMkb0d8zpJ3EJWsvHBcaTqq9Q==";

const BASE_OPTIONS = {
  version: 4,
  username: "alice",
  password: "secret",
  salt: "WhfDCJHuQn0Qtg==",
  modulus: REFERENCE_MODULUS,
};

Deno.test("generateProofs() reproduces go-srp TestSRPauth byte for byte", () => {
  const proofs = generateProofs({
    version: 4,
    username: "jakubqa",
    password: "abc123",
    salt: "yKlc5/CvObfoiw==",
    modulus: decodeBase64(GO_SRP_MODULUS, "modulus"),
    serverEphemeral: GO_SRP_SERVER_EPHEMERAL,
    randomA: GO_SRP_CLIENT_SECRET,
  });
  assert.equal(proofs.clientProof, GO_SRP_CLIENT_PROOF);
  assert.equal(proofs.expectedServerProof, GO_SRP_SERVER_PROOF);
  verifyServerProof(proofs.expectedServerProof, GO_SRP_SERVER_PROOF);
});

Deno.test("generateProofs() returns 256-byte values and a fresh ephemeral each time", () => {
  const serverEphemeral = encodeBase64(bigIntToBytesLE(N / 3n));
  const one = generateProofs({ ...BASE_OPTIONS, serverEphemeral });
  const two = generateProofs({ ...BASE_OPTIONS, serverEphemeral });
  for (const value of [one.clientEphemeral, one.clientProof, one.expectedServerProof]) {
    assert.equal(decodeBase64(value, "value").length, 256);
  }
  assert.notEqual(one.clientEphemeral, two.clientEphemeral);
  assert.notEqual(one.clientProof, two.clientProof);
});

Deno.test("generateProofs() rejects a server ephemeral outside (1, N−1)", () => {
  for (const b of [0n, 1n, N - 1n, N]) {
    assert.throws(
      () => generateProofs({ ...BASE_OPTIONS, serverEphemeral: encodeBase64(bigIntToBytesLE(b)) }),
      isSrpError("bad-params"),
      `B = ${b === 0n || b === 1n ? b : b === N ? "N" : "N−1"}`,
    );
  }
  assert.throws(
    () => generateProofs({ ...BASE_OPTIONS, serverEphemeral: encodeBase64(new Uint8Array(255)) }),
    isSrpError("bad-input"),
  );
  assert.throws(
    () => generateProofs({ ...BASE_OPTIONS, serverEphemeral: "not base64!" }),
    isSrpError("bad-input"),
  );
});

Deno.test("generateProofs() rejects an out-of-range injected secret and a bad version", () => {
  const serverEphemeral = encodeBase64(bigIntToBytesLE(N / 3n));
  for (const a of [0n, 4096n, N - 1n]) {
    assert.throws(
      () => generateProofs({ ...BASE_OPTIONS, serverEphemeral, randomA: a }),
      isSrpError("bad-input"),
    );
  }
  assert.throws(
    () => generateProofs({ ...BASE_OPTIONS, serverEphemeral, version: 5 }),
    isSrpError("unsupported-version"),
  );
});

Deno.test("checkModulus() accepts the reference modulus and rejects bad moduli", () => {
  assert.equal(checkModulus(REFERENCE_MODULUS), N);
  assert.equal(N % 8n, 3n);
  const rejects = (modulus: Uint8Array, why: string) =>
    assert.throws(() => checkModulus(modulus), isSrpError("bad-modulus"), why);
  rejects(decodeBase64(SAFE_PRIME_7_MOD_8, "m"), "safe prime ≡ 7 mod 8");
  rejects(decodeBase64(UNSAFE_PRIME_3_MOD_8, "m"), "prime ≡ 3 mod 8, not safe");
  rejects(bigIntToBytesLE(N >> 1n), "2047 bits");
  rejects(REFERENCE_MODULUS.subarray(0, 255), "255 bytes");
  rejects(bigIntToBytesLE(N + 8n), "composite ≡ 3 mod 8");
  // generateProofs runs the same checks.
  assert.throws(
    () =>
      generateProofs({
        ...BASE_OPTIONS,
        modulus: decodeBase64(SAFE_PRIME_7_MOD_8, "m"),
        serverEphemeral: encodeBase64(bigIntToBytesLE(12345n)),
      }),
    isSrpError("bad-modulus"),
  );
});

Deno.test("isProbablePrime() separates small primes, composites and a Carmichael number", () => {
  for (const p of [2n, 3n, 5n, 1999n, 2003n, (1n << 127n) - 1n, (N - 1n) / 2n]) {
    assert.ok(isProbablePrime(p), `${p}`);
  }
  for (const c of [0n, 1n, 4n, 561n, 2003n * 2011n, (1n << 128n) - 1n, 3215031751n]) {
    assert.ok(!isProbablePrime(c), `${c}`);
  }
});

Deno.test("verifyServerProof() accepts the same proof and rejects anything else", () => {
  const proof = encodeBase64(crypto.getRandomValues(new Uint8Array(256)));
  verifyServerProof(proof, proof);
  const forged = decodeBase64(proof, "p");
  forged[17] ^= 1;
  for (const got of [encodeBase64(forged), "", "garbage!", proof.slice(0, -4)]) {
    assert.throws(() => verifyServerProof(proof, got), isSrpError("bad-server-proof"));
  }
});
