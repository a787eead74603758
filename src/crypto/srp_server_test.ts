import assert from "node:assert/strict";
import { generateProofs, verifyServerProof } from "./srp_client.ts";
import { REFERENCE_MODULUS_B64 } from "./srp_constants.ts";
import { SrpError } from "./srp_error.ts";
import { bigIntToBytesLE, bytesToBigIntLE, decodeBase64, encodeBase64 } from "./srp_hash.ts";
import { generateVerifier, SrpServerSession } from "./srp_server.ts";

function isSrpError(kind: string) {
  return (e: unknown) => e instanceof SrpError && e.kind === kind;
}

const MODULUS = decodeBase64(REFERENCE_MODULUS_B64, "modulus");
const N = bytesToBigIntLE(MODULUS);
const SALT = Uint8Array.of(0x5a, 0x17, 0xc3, 0x08, 0x91, 0xee, 0x42, 0x7d, 0x10, 0xb6);
const PASSWORD = "correct horse battery staple";

/** One login: the server's session and the client's proofs for `password`. */
function login(version: number, stored: string, typed: string, username = "alice") {
  const verifier = generateVerifier(version, stored, username, SALT, MODULUS);
  const session = new SrpServerSession(MODULUS, verifier);
  const proofs = generateProofs({
    version,
    username,
    password: typed,
    salt: encodeBase64(SALT),
    modulus: MODULUS,
    serverEphemeral: session.serverEphemeral,
  });
  return { session, proofs };
}

for (const version of [0, 1, 2, 3, 4]) {
  Deno.test(`client and server agree for version ${version} with the right password`, () => {
    const { session, proofs } = login(version, PASSWORD, PASSWORD, "Alice.Smith");
    const serverProof = session.verifyClientProof(proofs.clientEphemeral, proofs.clientProof);
    assert.equal(serverProof, proofs.expectedServerProof);
    verifyServerProof(proofs.expectedServerProof, serverProof);
  });
}

Deno.test("the server refuses the proof of a wrong password (versions 1 and 4)", () => {
  for (const version of [1, 4]) {
    const { session, proofs } = login(version, PASSWORD, PASSWORD + "!");
    assert.throws(
      () => session.verifyClientProof(proofs.clientEphemeral, proofs.clientProof),
      isSrpError("bad-client-proof"),
    );
  }
});

Deno.test("the client rejects a forged server proof", () => {
  const { session, proofs } = login(4, PASSWORD, PASSWORD);
  const real = session.verifyClientProof(proofs.clientEphemeral, proofs.clientProof);
  const forged = decodeBase64(real, "proof");
  forged[0] ^= 0x80;
  assert.throws(
    () => verifyServerProof(proofs.expectedServerProof, encodeBase64(forged)),
    isSrpError("bad-server-proof"),
  );
  // A server that only knows a verifier for another password cannot produce M2 either.
  const impostor = login(4, "other password", PASSWORD);
  assert.throws(
    () =>
      impostor.session.verifyClientProof(
        impostor.proofs.clientEphemeral,
        impostor.proofs.clientProof,
      ),
    isSrpError("bad-client-proof"),
  );
});

Deno.test("the server rejects A ≡ 0 mod N, out-of-range A and malformed input", () => {
  const verifier = generateVerifier(4, PASSWORD, "alice", SALT, MODULUS);
  const proof = encodeBase64(new Uint8Array(256));
  const cases: [string, string][] = [
    [encodeBase64(bigIntToBytesLE(0n)), "bad-params"],
    [encodeBase64(bigIntToBytesLE(N)), "bad-params"],
    [encodeBase64(bigIntToBytesLE(1n)), "bad-params"],
    [encodeBase64(bigIntToBytesLE(N - 1n)), "bad-params"],
    [encodeBase64(new Uint8Array(255).fill(7)), "bad-input"],
    ["%%%", "bad-input"],
  ];
  for (const [a, kind] of cases) {
    const session = new SrpServerSession(MODULUS, verifier);
    assert.throws(() => session.verifyClientProof(a, proof), isSrpError(kind));
  }
});

Deno.test("a server session checks one proof only", () => {
  const { session, proofs } = login(4, PASSWORD, PASSWORD);
  session.verifyClientProof(proofs.clientEphemeral, proofs.clientProof);
  assert.throws(
    () => session.verifyClientProof(proofs.clientEphemeral, proofs.clientProof),
    isSrpError("bad-params"),
  );
});

Deno.test("SrpServerSession rejects a bad verifier or modulus", () => {
  assert.throws(() => new SrpServerSession(MODULUS, new Uint8Array(256)), isSrpError("bad-params"));
  assert.throws(() => new SrpServerSession(MODULUS, new Uint8Array(10)), isSrpError("bad-input"));
  assert.throws(
    () => new SrpServerSession(bigIntToBytesLE(N >> 1n), bigIntToBytesLE(5n)),
    isSrpError("bad-modulus"),
  );
});

// Known-answer vector on the reference modulus, computed once by this implementation (whose
// client half reproduces go-srp's own vector in srp_client_test.ts) and recorded here.
const KAT = {
  username: "alice",
  password: PASSWORD,
  salt: "WhfDCJHuQn0Qtg==",
  randomA: BigInt("0x" + "3a1f5c9e".repeat(60)),
  randomB: BigInt("0x" + "6c2e8a4f".repeat(63)),
  verifier:
    "3jDS3jvJ2tl7WY+I4G4gNO6AMZW15fqsv6v4WZ3K3C8MlBrpf0gaJ7tVPwrRwU5Wm/mzX0kYni6LMOY+vBC2F1AK" +
    "h7ICY87iVFl1B18AiP6BRAMnzMLsBZ66nEk/s2bGZYgQN5uwG5dKBCuYhcM69OnGUG6egOFzlwaF+5aSkSS6a0XnwXzz" +
    "f7+AIU1tcZcAcj+LWG/XGebliEikl3nmlyp4SlNNQAzCHtnVkLQEyggr8uQlGdZsqQBGqrzu1PUIVKpTh7n0+5w1Nqxz" +
    "HbN7qkrqyiX3DnegF+Cl2Zb1wxKrMCGqZZJopC/XyMoKi5n1xowGDXk4575UGdvdyey1uw==",
  serverEphemeral: "9pvI/TI5xmwPHpyzw29mEjuFNkSoyv8a6DLRX6i7d7GMd6xrK1FdUkBuG3wZHVepSvkDi3Gc" +
    "uqijG46+Jr2/qytg3N8LFonv0QgEikhOP5aVGQc5iBctpxePnstYjDeo48ixcZ+Ckksk22wVSRdBH2ULy7bUs9JibYZB" +
    "YO615oXRmHSVgMj5nTNAFzuBXAjgmDxpoMtkBkMMa57TZH5eoDN565Tjhnzn2kybJXt9BjKJUJTJSjieUYyOkSXOr4Ja" +
    "zHm9L9IMCaJAviLI04q4OY4NSYCe27wYR6L5QEAn+QNCdkuQvsV779FALhn17WpH/jC/nABLCaWRZS+AZ3oN0w==",
  clientEphemeral: "e6gspLHs6T56FgB4oG4PqF4UGadzpTSzZ2ejWIFcTBgP1ATmWsq6sAyoCAskXmoilpJ7HfAp" +
    "WhZwz9mkIkDjXBGuHgITIVPmmK6s3ZSz2AgfcawwLIGmeLAPzkhDw97OwBF3YdHz1NR77rMOU57+QP8RgZWssTu+y852" +
    "4ec8+v3obpP7qQz2KaegYBjNWfrqdM4Kdw/v0mVufdfXyRRKTy37rC3vRrz4YOD+HuB/cRZMz4yrIGFuCUn92kUjSJP+" +
    "fwrod/zMTbl0nbDRu6y+BYydyYLV/2st+mlcti9ffr9bDkQ3Y5vFaX35dUeuU5cpF16lOHEi1m6eWSjF8MIgBw==",
  clientProof: "XqJ6XklK89FBajvhzKa8jWLnT2QDFnHiL68zhgpNnJbq1UqEoJIMqKgenJHg3Us4Q3NWVDbdGwKS" +
    "NXwFpZIVRabHUFYnNBQj2Q3XSxPRqrDsX6HrTzkDFZloHBV3hRrVAn5ALOQpnhBVsPutDKjE4qDRKqSmZcWHe3sw8pQc" +
    "CCOKeq9sdWssTFWsxPOGLts0BsYy4/RXJ8D+8RFOtg2q/7WJn2w19BMF+er/R98Eq45WfuFlUPK5ATlROO1IYUAZzEex" +
    "8JhShwqrMvS7+NTqGujLEG5F917fJdweqHNMNZv6YlDyLYZKWjNGAFGnRY4D80+Z31UjH/oACEldqsl+xQ==",
  serverProof: "41KprJoww183NefRPkJb0yWQFTyDUKvwt40pZV1+ulG7zjAhi6gRlu/fWqJlm4lkYTf+zZOe5A3J" +
    "Mw4cry7rv5giPwB0oIdRMCM5Qfq9wZgwksl8GT0YpeMvzhNxSTU9+C1WHZ7U6eka/vx/OgVfwzXjpyuZx7KXF9fpvhHs" +
    "mmMnol93mhGomxzGyLlQ3mbLuiLD6bPqi5wmdGmmB8rUgdJA4wzN7FFcxrMKXhBuYlZN+R6PAJ9gco+Zob+ba1wz91p3" +
    "8cimx3C+m9rrJ0phy8hWy1DysHKkGECSHHm9BgHOeGNiLv1+az3ilWKpJaTjEUSEAiHXFWxHpD+sy9kBqg==",
};

Deno.test("known-answer vector on the reference modulus (version 4, fixed a and b)", () => {
  const salt = decodeBase64(KAT.salt, "salt");
  const verifier = generateVerifier(4, KAT.password, KAT.username, salt, MODULUS);
  assert.equal(encodeBase64(verifier), KAT.verifier);
  const session = new SrpServerSession(MODULUS, verifier, KAT.randomB);
  assert.equal(session.serverEphemeral, KAT.serverEphemeral);
  const proofs = generateProofs({
    version: 4,
    username: KAT.username,
    password: KAT.password,
    salt: KAT.salt,
    modulus: MODULUS,
    serverEphemeral: KAT.serverEphemeral,
    randomA: KAT.randomA,
  });
  assert.equal(proofs.clientEphemeral, KAT.clientEphemeral);
  assert.equal(proofs.clientProof, KAT.clientProof);
  assert.equal(proofs.expectedServerProof, KAT.serverProof);
  assert.equal(session.verifyClientProof(KAT.clientEphemeral, KAT.clientProof), KAT.serverProof);
});
