import assert from "node:assert/strict";
import { PROTON_MODULUS_PUBKEY, REFERENCE_MODULUS_B64 } from "./srp_constants.ts";
import { SrpError } from "./srp_error.ts";
import { decodeBase64, encodeBase64 } from "./srp_hash.ts";
import { generateModulusKey, readSignedModulus, signModulus } from "./srp_modulus.ts";

function isSrpError(kind: string) {
  return (e: unknown) => e instanceof SrpError && e.kind === kind;
}

// go-srp srp_test.go `testModulus` / `testModulusClearSign`: a modulus clear-signed by Proton's
// real modulus key.
const GO_SRP_MODULUS = "W2z5HBi8RvsfYzZTS7qBaUxxPhsfHJFZpu3Kd6s1JafNrCCH9rfvPLrfuqocxWPgWDH2R8ne" +
  "K7PkNvjxto9TStuY5z7jAzWRvFWN9cQhAKkdWgy0JY6ywVn22+HFpF4cYesHrqFIKUPDMSSIlWjBVmEJZ/MusD44ZT29" +
  "xcPrOqeZvwtCffKtGAIjLYPZIEbZKnDM1Dm3q2K/xS5h+xdhjnndhsrkwm9U9oyA2wxzSXFL+pdfj2fOdRwuR5nW0J2N" +
  "Frq3kJjkRmpO/Genq1UW+TEknIWAb6VzJJJA244K/H8cnSx2+nSNZO3bbo6Ys228ruV9A8m6DhxmS+bihN3ttQ==";
const GO_SRP_MODULUS_CLEARSIGN = `-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

${GO_SRP_MODULUS}
-----BEGIN PGP SIGNATURE-----
Version: ProtonMail
Comment: https://protonmail.com

wl4EARYIABAFAlwB1j0JEDUFhcTpUY8mAAD8CgEAnsFnF4cF0uSHKkXa1GIa
GO86yMV4zDZEZcDSJo0fgr8A/AlupGN9EdHlsrZLmTA1vhIx+rOgxdEff28N
kvNM7qIK
=q6vu
-----END PGP SIGNATURE-----`;

const REFERENCE_MODULUS = decodeBase64(REFERENCE_MODULUS_B64, "modulus");

Deno.test("readSignedModulus() verifies Proton's own signed test modulus (go-srp vector)", async () => {
  const modulus = await readSignedModulus(GO_SRP_MODULUS_CLEARSIGN, [PROTON_MODULUS_PUBKEY]);
  assert.equal(encodeBase64(modulus), GO_SRP_MODULUS);
  // Trailing whitespace is not data.
  await readSignedModulus(GO_SRP_MODULUS_CLEARSIGN + "\r\n", [PROTON_MODULUS_PUBKEY]);
});

Deno.test("readSignedModulus() rejects go-srp's tampered signature and trailing data", async () => {
  const text = GO_SRP_MODULUS_CLEARSIGN;
  // go-srp TestReadClearSigned: replace the character 100 from the end with "c".
  const tampered = text.slice(0, text.length - 100) + "c" + text.slice(text.length - 99);
  await assert.rejects(
    readSignedModulus(tampered, [PROTON_MODULUS_PUBKEY]),
    isSrpError("bad-signature"),
  );
  await assert.rejects(
    readSignedModulus(text + "data after modulus", [PROTON_MODULUS_PUBKEY]),
    isSrpError("bad-signature"),
  );
  await assert.rejects(
    readSignedModulus(text + "\n" + text, [PROTON_MODULUS_PUBKEY]),
    isSrpError("bad-signature"),
  );
});

Deno.test("signModulus() output verifies and looks like Proton's (Hash: SHA256)", async () => {
  const { privateKey, publicKey } = await generateModulusKey();
  const signed = await signModulus(REFERENCE_MODULUS, privateKey);
  assert.match(signed, /^-----BEGIN PGP SIGNED MESSAGE-----\r?\nHash: SHA256\r?\n\r?\n/);
  assert.ok(signed.includes(`\n${REFERENCE_MODULUS_B64}\n`));
  assert.deepEqual(await readSignedModulus(signed, [publicKey]), REFERENCE_MODULUS);
  // Any one trusted key is enough.
  const other = await generateModulusKey();
  assert.deepEqual(
    await readSignedModulus(signed, [PROTON_MODULUS_PUBKEY, other.publicKey, publicKey]),
    REFERENCE_MODULUS,
  );
});

Deno.test("readSignedModulus() rejects a wrong key, tampered text, unsigned and trailing data", async () => {
  const { privateKey, publicKey } = await generateModulusKey();
  const signed = await signModulus(REFERENCE_MODULUS, privateKey);

  const other = await generateModulusKey();
  await assert.rejects(readSignedModulus(signed, [other.publicKey]), isSrpError("bad-signature"));
  await assert.rejects(
    readSignedModulus(signed, [PROTON_MODULUS_PUBKEY]),
    isSrpError("bad-signature"),
  );

  const flipped = REFERENCE_MODULUS.slice();
  flipped[100] ^= 1;
  const tampered = signed.replace(REFERENCE_MODULUS_B64, encodeBase64(flipped));
  assert.notEqual(tampered, signed);
  await assert.rejects(readSignedModulus(tampered, [publicKey]), isSrpError("bad-signature"));

  await assert.rejects(
    readSignedModulus(REFERENCE_MODULUS_B64, [publicKey]),
    isSrpError("bad-signature"),
  );
  const unsignedArmor = signed.slice(0, signed.indexOf("-----BEGIN PGP SIGNATURE-----"));
  await assert.rejects(readSignedModulus(unsignedArmor, [publicKey]), isSrpError("bad-signature"));

  await assert.rejects(
    readSignedModulus(signed + "trailing", [publicKey]),
    isSrpError("bad-signature"),
  );
  await assert.rejects(
    readSignedModulus("leading\n" + signed, [publicKey]),
    isSrpError("bad-signature"),
  );
});

Deno.test("readSignedModulus() checks the decoded length and the trusted keys", async () => {
  const { privateKey, publicKey } = await generateModulusKey();
  // signModulus refuses other lengths, so sign a 255-byte text with openpgp.js directly.
  const openpgp = await import("openpgp");
  const short = await openpgp.sign({
    message: await openpgp.createCleartextMessage({
      text: encodeBase64(REFERENCE_MODULUS.subarray(0, 255)),
    }),
    signingKeys: privateKey,
  });
  await assert.rejects(readSignedModulus(short, [publicKey]), isSrpError("bad-modulus"));
  await assert.rejects(
    signModulus(REFERENCE_MODULUS.subarray(1), privateKey),
    isSrpError("bad-input"),
  );
  const signed = await signModulus(REFERENCE_MODULUS, privateKey);
  await assert.rejects(readSignedModulus(signed, []), isSrpError("bad-input"));
  await assert.rejects(readSignedModulus(signed, ["not a key"]), isSrpError("bad-input"));
});
