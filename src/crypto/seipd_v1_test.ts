import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { eccKey, rejectsKind, rsaKey, type TestKey } from "./_test_keys.ts";
import { decryptMessage } from "./message.ts";
import {
  decryptSeipdV1,
  handlesAlgorithm,
  ModificationDetectedError,
  nativeDecryptions,
} from "./seipd_v1.ts";

/** Bytes 0..255 repeating, then a little randomness so compression cannot hide a wrong block. */
function sample(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  if (n > 64) out.set(crypto.getRandomValues(new Uint8Array(32)), n >> 1);
  return out;
}

/** The ciphertext of the SEIPD packet (tag 18) of a binary message, by walking the packets. */
function seipdCiphertext(binary: Uint8Array): Uint8Array {
  let at = 0;
  while (at < binary.length) {
    const first = binary[at];
    assert.ok(first & 0x40, "new-format packets only");
    const tag = first & 0x3f;
    let length = binary[at + 1];
    let header = 2;
    if (length >= 192 && length < 224) {
      length = ((length - 192) << 8) + binary[at + 2] + 192;
      header = 3;
    } else if (length === 255) {
      length = new DataView(binary.buffer, binary.byteOffset + at + 2, 4).getUint32(0);
      header = 6;
    } else {
      assert.ok(length < 192, "no partial lengths in these messages");
    }
    if (tag === 18) return binary.slice(at + header + 1, at + header + length);
    at += header + length;
  }
  throw new Error("no SEIPD packet");
}

async function encrypt(
  data: Uint8Array,
  to: TestKey,
  opts: { sign?: TestKey; compress?: boolean; sessionKey?: openpgp.SessionKey } = {},
): Promise<Uint8Array> {
  return await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: data }),
    encryptionKeys: to.unlocked.toPublic(),
    ...(opts.sign ? { signingKeys: opts.sign.unlocked } : {}),
    ...(opts.sessionKey ? { sessionKey: opts.sessionKey } : {}),
    format: "binary",
    config: {
      preferredCompressionAlgorithm: opts.compress
        ? openpgp.enums.compression.zlib
        : openpgp.enums.compression.uncompressed,
    },
  }) as Uint8Array;
}

/** openpgp.js's own answer, the reference the native path must match. */
async function reference(
  binary: Uint8Array,
  key: TestKey,
  verify?: TestKey,
): Promise<{ data: Uint8Array; signed: boolean; valid: boolean }> {
  const result = await openpgp.decrypt({
    message: await openpgp.readMessage({ binaryMessage: binary }),
    decryptionKeys: key.unlocked,
    ...(verify ? { verificationKeys: verify.unlocked.toPublic() } : {}),
    format: "binary",
  });
  const outcomes = await Promise.allSettled(result.signatures.map((s) => s.verified));
  return {
    data: result.data as Uint8Array,
    signed: result.signatures.length > 0,
    valid: outcomes.some((o) => o.status === "fulfilled" && o.value === true),
  };
}

Deno.test("SEIPD v1 native path: same plaintext and signature status as openpgp.js", async () => {
  const ecc = await eccKey("seipd");
  const rsa = await rsaKey();
  const signer = await eccKey("seipd-signer");
  const sizes = [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 65_543, 1 << 20];
  for (const key of [ecc, rsa]) {
    for (const size of sizes) {
      for (const compress of [false, true]) {
        for (const sign of [undefined, signer]) {
          const label = `${key === ecc ? "ecc" : "rsa"} ${size} B compress=${compress} ` +
            `signed=${!!sign}`;
          const data = sample(size);
          const binary = await encrypt(data, key, { sign, compress });
          const ref = await reference(binary, key, sign);
          assert.deepEqual(ref.data, data, label);
          const before = nativeDecryptions();
          const ours = await decryptMessage(binary, [key.unlocked], sign && [sign.unlocked]);
          assert.deepEqual(ours.data, data, label);
          assert.equal(nativeDecryptions(), before + 1, `${label}: native path taken`);
          assert.equal(
            ours.signature,
            !ref.signed ? "unsigned" : ref.valid ? "valid" : "invalid",
            label,
          );
          if (sign) {
            const unchecked = await decryptMessage(binary, [key.unlocked]);
            assert.equal(unchecked.signature, "not-checked", label);
            const other = await decryptMessage(binary, [key.unlocked], [key.unlocked]);
            assert.equal(other.signature, "invalid", label);
          }
        }
      }
    }
  }
});

Deno.test("SEIPD v1 native path: decrypts the packet with the session key, rejects changes", async () => {
  const key = await eccKey("seipd");
  for (const algorithm of ["aes128", "aes192", "aes256"] as const) {
    assert.ok(handlesAlgorithm(algorithm));
    const bytes = algorithm === "aes128" ? 16 : algorithm === "aes192" ? 24 : 32;
    const sessionKey = { data: crypto.getRandomValues(new Uint8Array(bytes)), algorithm };
    const data = sample(5000);
    const binary = await encrypt(data, key, { sessionKey });
    const encrypted = seipdCiphertext(binary);
    const inner = decryptSeipdV1(algorithm, sessionKey.data, encrypted);
    const literal = (await openpgp.readMessage({ binaryMessage: inner })).getLiteralData();
    assert.deepEqual(literal, data, algorithm);

    // Any flipped bit, anywhere (prefix, body, MDC), fails the integrity check.
    for (const at of [0, 17, 2500, encrypted.length - 21, encrypted.length - 1]) {
      const changed = encrypted.slice();
      changed[at] ^= 0x01;
      assert.throws(
        () => decryptSeipdV1(algorithm, sessionKey.data, changed),
        ModificationDetectedError,
        `${algorithm} byte ${at}`,
      );
    }
    // So does the wrong key, and data too short to hold prefix and MDC.
    const wrong = crypto.getRandomValues(new Uint8Array(bytes));
    assert.throws(() => decryptSeipdV1(algorithm, wrong, encrypted), ModificationDetectedError);
    assert.throws(
      () => decryptSeipdV1(algorithm, sessionKey.data, encrypted.subarray(0, 39)),
      ModificationDetectedError,
    );
  }
  assert.equal(handlesAlgorithm("cast5"), false);
  assert.equal(handlesAlgorithm(null), false);
  assert.throws(() => decryptSeipdV1("cast5", new Uint8Array(16), new Uint8Array(64)), TypeError);
  assert.throws(() => decryptSeipdV1("aes256", new Uint8Array(16), new Uint8Array(64)), TypeError);
});

Deno.test("SEIPD v1 native path: a modified message is `tampered`, as through openpgp.js", async () => {
  const key = await eccKey("seipd");
  const binary = await encrypt(sample(3000), key);
  const changed = binary.slice();
  changed[changed.length - 100] ^= 0x40;
  await rejectsKind(() => decryptMessage(changed, [key.unlocked]), "tampered");
});

Deno.test("SEIPD v2 (AEAD) and non-AES ciphers still decrypt through openpgp.js", async () => {
  const key = await eccKey("seipd");
  const data = sample(4000);
  // SEIPD v2 needs a recipient key that announces it: an OpenPGP v6 key.
  const { privateKey: v6 } = await openpgp.generateKey({
    type: "curve25519",
    userIDs: [{ email: "v6@example.test" }],
    format: "object",
    config: { v6Keys: true, aeadProtect: true },
  });
  const aead = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: data }),
    encryptionKeys: v6.toPublic(),
    format: "binary",
    config: { aeadProtect: true },
  }) as Uint8Array;
  const seipd = (await openpgp.readMessage({ binaryMessage: aead })).packets.findPacket(
    openpgp.enums.packet.symEncryptedIntegrityProtectedData,
  ) as unknown as { version: number };
  assert.equal(seipd.version, 2);
  const cast5 = await encrypt(data, key, {
    sessionKey: { data: crypto.getRandomValues(new Uint8Array(16)), algorithm: "cast5" },
  });
  const before = nativeDecryptions();
  assert.deepEqual((await decryptMessage(aead, [v6])).data, data);
  assert.deepEqual((await decryptMessage(cast5, [key.unlocked])).data, data);
  assert.equal(nativeDecryptions(), before, "both went through openpgp.js");
});

Deno.test("SEIPD v1 native path: odd packets inside SEIPD get openpgp.js's answer", async () => {
  const key = await eccKey("seipd");
  const literal = (await openpgp.createMessage({ binary: sample(100) })).write() as Uint8Array;
  const marker = [0xca, 0x03, 0x50, 0x47, 0x50]; // "PGP", ignored by readers
  const cases = [
    { name: "marker before the literal", inner: new Uint8Array([...marker, ...literal]) },
    { name: "a whole encrypted message inside", inner: await encrypt(sample(50), key) },
  ];
  const allowAll = Object.fromEntries(
    Object.entries(openpgp).filter(([name, v]) =>
      name.endsWith("Packet") && typeof v === "function" && "tag" in v
    ).map(([, v]) => [(v as unknown as { tag: number }).tag, v]),
  );
  const { decryptWithSessionKeys } = await import("./_pgp.ts");
  for (const c of cases) {
    const sessionKey = crypto.getRandomValues(new Uint8Array(32));
    // deno-lint-ignore no-explicit-any
    const seipd = (openpgp.SymEncryptedIntegrityProtectedDataPacket as any).fromObject({
      version: 1,
    });
    // deno-lint-ignore no-explicit-any
    seipd.packets = await (openpgp.PacketList as any).fromBinary(c.inner, allowAll);
    await seipd.encrypt(openpgp.enums.symmetric.aes256, sessionKey);
    const list = new openpgp.PacketList();
    list.push(seipd);
    const binary = new openpgp.Message(list).write() as Uint8Array;
    const read = () => openpgp.readMessage({ binaryMessage: binary });
    const theirs = await openpgp.decrypt({
      message: await read(),
      sessionKeys: { data: sessionKey, algorithm: "aes256" },
      format: "binary",
    }).then((r) => r.data as Uint8Array, () => "refused");
    const ours = await decryptWithSessionKeys(
      await read() as openpgp.Message<Uint8Array>,
      [{ data: sessionKey, algorithm: "aes256" }],
      undefined,
      "test",
    ).then((r) => r.data, () => "refused");
    assert.deepEqual(ours, theirs, c.name);
  }
});
