import assert from "node:assert/strict";
import { bytesToBinary } from "./_bytes.ts";
import { decodeQuotedPrintable, encodeQuotedPrintable } from "./quoted_printable.ts";
import { decodeTransfer, encodeBase64Lines } from "./transfer_encoding.ts";

const enc = new TextEncoder();
const qp = (t: string | Uint8Array) =>
  bytesToBinary(encodeQuotedPrintable(typeof t === "string" ? enc.encode(t) : t));

Deno.test("encodeQuotedPrintable() matches Go's quotedprintable.Writer", () => {
  assert.equal(qp("Hello, world"), "Hello, world");
  assert.equal(qp("café = €"), "caf=C3=A9 =3D =E2=82=AC");
  assert.equal(qp("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd");
  assert.equal(qp("trailing \nend\t"), "trailing=20\r\nend=09");
  assert.equal(qp("x".repeat(80)), "x".repeat(75) + "=\r\n" + "x".repeat(5));
  assert.equal(qp("x".repeat(73) + "é"), "x".repeat(73) + "=\r\n=C3=A9");
  assert.equal(qp("x".repeat(72) + "é"), "x".repeat(72) + "=C3=\r\n=A9");
  assert.equal(qp(""), "");
});

Deno.test("quoted-printable round-trips text with CRLF line breaks", () => {
  const text = "Ünïcödé line with = signs and trailing space \r\n" + "long ".repeat(40) + "\r\nend";
  const back = new TextDecoder().decode(
    decodeQuotedPrintable(encodeQuotedPrintable(enc.encode(text))),
  );
  assert.equal(back, text);
  for (const line of bytesToBinary(encodeQuotedPrintable(enc.encode(text))).split("\r\n")) {
    assert.ok(line.length <= 76);
  }
});

Deno.test("decodeQuotedPrintable() tolerates broken input", () => {
  const d = (t: string) => bytesToBinary(decodeQuotedPrintable(enc.encode(t)));
  assert.equal(d("a=3Db=3db"), "a=b=b");
  assert.equal(d("soft=\r\nbreak=\nlf= \r\nx"), "softbreaklfx");
  assert.equal(d("bad=ZZ and = lone and end="), "bad=ZZ and = lone and end");
  assert.equal(d("trailing   \r\nx\t\n"), "trailing\r\nx\n");
});

Deno.test("decodeTransfer() and encodeBase64Lines() handle each encoding", () => {
  const data = new Uint8Array(100).map((_, i) => i);
  const b64 = encodeBase64Lines(data);
  const lines = bytesToBinary(b64).split("\r\n");
  assert.deepEqual(lines.map((l) => l.length), [76, 60]);
  assert.deepEqual(decodeTransfer(b64, "BASE64"), data);
  assert.equal(bytesToBinary(decodeTransfer(enc.encode("a=3Db"), "Quoted-Printable")), "a=b");
  assert.equal(bytesToBinary(decodeTransfer(enc.encode("a=3Db"), "8bit")), "a=3Db");
  assert.equal(bytesToBinary(decodeTransfer(enc.encode("a=3Db"), null)), "a=3Db");
  assert.equal(encodeBase64Lines(new Uint8Array(57)).length, 76);
  assert.equal(encodeBase64Lines(new Uint8Array(0)).length, 0);
});
