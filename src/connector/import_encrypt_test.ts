import assert from "node:assert/strict";
import { decryptMessage } from "../crypto/mod.ts";
import { eccKey } from "../crypto/_test_keys.ts";
import { decodeTransfer, parseMessage } from "../mime/mod.ts";
import { encryptForImport, perPartRefusal } from "./import_encrypt.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function msg(s: string): Uint8Array {
  return enc.encode(s.replaceAll("\n", "\r\n"));
}

Deno.test("import encryption: one text part, per part, converted to UTF-8, armored", async () => {
  const key = (await eccKey("import")).unlocked;
  const literal = msg(
    "From: a@b.test\nSubject: Hi\nContent-Type: text/plain; charset=iso-8859-1\n" +
      "Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 au lait\n",
  );
  const { literal: out, method } = await encryptForImport(literal, key);
  assert.equal(method, "per-part");
  const root = parseMessage(out);
  assert.equal(root.header.get("Subject")?.trim(), "Hi");
  assert.equal(root.header.get("Content-Transfer-Encoding"), undefined);
  assert.match(root.header.get("Content-Type")!, /text\/plain; charset=utf-8/);
  const body = dec.decode(root.bodyData());
  assert.ok(body.startsWith("-----BEGIN PGP MESSAGE-----"));
  assert.ok(!/[^\r]\n/.test(dec.decode(out)), "CRLF only");
  assert.equal(dec.decode((await decryptMessage(body, [key])).data), "Café au lait\r\n");
});

Deno.test("import encryption: text and attachment keep the tree; attachment as base64 PGP", async () => {
  const key = (await eccKey("import")).unlocked;
  const data = new Uint8Array([0, 1, 2, 250, 251, 252]);
  const literal = msg(
    "From: a@b.test\nSubject: Files\nMIME-Version: 1.0\n" +
      'Content-Type: multipart/mixed; boundary="XYZ"\n\npreamble\n--XYZ\n' +
      "Content-Type: text/plain; charset=utf-8\n\nSee attached\n--XYZ\n" +
      'Content-Type: application/octet-stream; name="a.bin"\n' +
      'Content-Disposition: attachment; filename="a.bin"\nContent-Transfer-Encoding: base64\n\n' +
      btoa(String.fromCharCode(...data)) + "\n--XYZ--\n",
  );
  const { literal: out, method } = await encryptForImport(literal, key);
  assert.equal(method, "per-part");
  const root = parseMessage(out);
  assert.equal(root.subtype, "mixed");
  assert.equal(root.children.length, 2);
  assert.ok(dec.decode(out).includes("--XYZ--"));
  const [text, file] = root.children;
  assert.equal(
    dec.decode((await decryptMessage(dec.decode(text.bodyData()), [key])).data),
    "See attached",
  );
  assert.equal(file.encoding, "base64");
  assert.equal(file.filename, "a.bin");
  const binary = decodeTransfer(file.bodyData(), "base64");
  assert.deepEqual((await decryptMessage(binary, [key])).data, data);
});

Deno.test("import encryption: multipart/alternative falls back to the whole message, unsigned", async () => {
  const key = (await eccKey("import")).unlocked;
  const literal = msg(
    "From: a@b.test\nTo: c@d.test\nSubject: Alt\nX-Custom: dropped\nMessage-ID: <1@b>\n" +
      'Content-Type: multipart/alternative; boundary="B"\n\n--B\n' +
      "Content-Type: text/plain\n\nplain\n--B\nContent-Type: text/html\n\n<p>html</p>\n--B--\n",
  );
  assert.match(perPartRefusal(parseMessage(literal))!, /more than one text part/);
  const { literal: out, method } = await encryptForImport(literal, key);
  assert.equal(method, "whole");
  const root = parseMessage(out);
  assert.equal(root.mimeType, "multipart/encrypted");
  assert.equal(root.header.get("X-Custom"), undefined);
  assert.equal(root.header.get("Message-ID")?.trim(), "<1@b>");
  assert.equal(root.children.length, 2);
  const armored = dec.decode(root.children[1].bodyData());
  const opened = await decryptMessage(armored, [key], [key.toPublic()]);
  assert.deepEqual(opened.data, literal);
  // Not signed: served back, it would be multipart/signed by the account's own key.
  assert.equal(opened.signature, "unsigned");
});

Deno.test("import encryption: no text part, or an encrypted part, falls back", async () => {
  const key = (await eccKey("import")).unlocked;
  const onlyFile = msg("Subject: x\nContent-Type: image/png\n\nabc\n");
  assert.equal((await encryptForImport(onlyFile, key)).method, "whole");
  const signed = msg(
    'Subject: s\nContent-Type: multipart/signed; boundary="S"\n\n--S\nContent-Type: text/plain\n\n' +
      "x\n--S\nContent-Type: application/pgp-signature\n\nsig\n--S--\n",
  );
  assert.match(perPartRefusal(parseMessage(signed))!, /multipart\/signed/);
  assert.equal((await encryptForImport(signed, key)).method, "whole");
});

Deno.test("import encryption: text parts the body conversion would garble go whole", () => {
  const refusal = (text: string) => perPartRefusal(parseMessage(msg(text)));
  // A binary file without a Content-Type (text/plain by default), attached.
  assert.match(
    refusal(
      'Subject: s\nContent-Disposition: attachment; filename="scan.bin"\n' +
        "Content-Transfer-Encoding: base64\n\n/wCAgYKDhA==\n",
    )!,
    /text part is an attachment/,
  );
  // A text file attached beside a picture: the API would take it for the body.
  assert.match(
    refusal(
      'Subject: s\nContent-Type: multipart/mixed; boundary="M"\n\n--M\n' +
        'Content-Type: text/csv; charset=windows-1252; name="r.csv"\n' +
        'Content-Disposition: attachment; filename="r.csv"\n\na;b\n--M\n' +
        "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw==\n--M--\n",
    )!,
    /text part is an attachment/,
  );
  // 8-bit bytes labelled us-ascii, or not the UTF-8 they claim.
  const latin = new TextEncoder().encode("Subject: s\nContent-Type: text/plain\n\nna");
  const eightBit = new Uint8Array([...latin, 0xc3, 0xaf, 0x76, 0x65, 0x0a]);
  assert.match(perPartRefusal(parseMessage(eightBit))!, /bytes are not us-ascii/);
  const badUtf8 = new Uint8Array([
    ...new TextEncoder().encode("Subject: s\nContent-Type: text/plain; charset=utf-8\n\n"),
    0xff,
    0x0a,
  ]);
  assert.match(perPartRefusal(parseMessage(badUtf8))!, /bytes are not utf-8/);
  // An invitation keeps its method only whole.
  assert.match(
    refusal("Subject: s\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\n")!,
    /calendar/,
  );
  // A plain body still goes per part, also with 8-bit text in a charset that has it.
  assert.equal(
    refusal("Subject: s\nContent-Type: text/plain; charset=utf-8\n\nnaïve\n"),
    undefined,
  );
  assert.equal(
    perPartRefusal(parseMessage(
      new Uint8Array([
        ...new TextEncoder().encode("Subject: s\nContent-Type: text/plain; charset=iso-8859-1\n\n"),
        0xe9,
        0x0a,
      ]),
    )),
    undefined,
  );
});
