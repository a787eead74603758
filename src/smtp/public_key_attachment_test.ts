import assert from "node:assert/strict";
import { generateKey, readPublicKey } from "../crypto/keys.ts";
import { decodeTransfer, parseMessage } from "../mime/mod.ts";
import { appendToMimeBody, publicKeyAttachment } from "./public_key_attachment.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("publicKeyAttachment: name, type and armored public key", async () => {
  const k = await generateKey({ email: "alice@x.test", passphrase: "p" });
  const key = await readPublicKey(k.publicKey);
  const a = publicKeyAttachment(key, "alice@x.test");
  assert.equal(
    a.name,
    `publickey - alice@x.test - 0x${k.fingerprint.slice(0, 8).toUpperCase()}.asc`,
  );
  assert.equal(a.mimeType, "application/pgp-keys");
  assert.equal(a.disposition, "attachment");
  assert.match(dec.decode(a.data), /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  assert.equal((await readPublicKey(dec.decode(a.data))).getFingerprint(), k.fingerprint);
});

Deno.test("appendToMimeBody: content becomes part 1, the key part 2, other fields stay on top", () => {
  const original = "From: a@x.test\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHello ✓\r\n";
  const att = {
    name: "publickey - a@x.test - 0x01234567.asc",
    mimeType: "application/pgp-keys",
    contentType: "application/pgp-keys",
    disposition: "attachment" as const,
    contentID: "",
    data: enc.encode("KEY DATA"),
  };
  const out = appendToMimeBody(enc.encode(original), att);
  const root = parseMessage(out);
  assert.equal(root.mimeType, "multipart/mixed");
  assert.equal(root.header.get("subject"), "Hi");
  assert.equal(root.header.getAll("mime-version").length, 1);
  const [text, key] = root.children;
  assert.equal(text.mimeType, "text/plain");
  assert.equal(text.encoding, "8bit");
  assert.equal(dec.decode(text.bodyData()), "Hello ✓\r\n");
  assert.equal(key.filename, att.name);
  assert.equal(key.disposition?.type, "attachment");
  assert.equal(dec.decode(decodeTransfer(key.bodyData(), key.encoding)), "KEY DATA");
});
