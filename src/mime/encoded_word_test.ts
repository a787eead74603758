import assert from "node:assert/strict";
import {
  base64DecodeLoose,
  base64Encode,
  decodeCharset,
  decodeEncodedWords,
  decodeExtendedValue,
  decodeParams,
  encodeWordB,
  encodeWordQ,
} from "./encoded_word.ts";

Deno.test("decodeEncodedWords() decodes B and Q in several charsets", () => {
  assert.equal(decodeEncodedWords("=?ISO-8859-1?Q?Andr=E9?= Pirard"), "André Pirard");
  assert.equal(
    decodeEncodedWords("=?windows-1252?B?UmVu6WUgkVNtYXJ0kg==?="),
    "Renée \u2018Smart\u2019",
  );
  assert.equal(decodeEncodedWords("=?Shift_JIS?B?k/qWe4zqgsyMj5a8?="), "日本語の件名");
  assert.equal(decodeEncodedWords("=?us-ascii?q?a_b?="), "a b");
  assert.equal(decodeEncodedWords("=?UTF-8*en?Q?x?="), "x");
});

Deno.test("decodeEncodedWords() joins adjacent words and split characters", () => {
  assert.equal(decodeEncodedWords("=?utf-8?q?a?= \r\n =?utf-8?q?b?= c"), "ab c");
  // "é" (C3 A9) split across two words.
  assert.equal(decodeEncodedWords("=?utf-8?q?=C3?= =?utf-8?q?=A9?="), "é");
  assert.equal(decodeEncodedWords("=?iso-8859-1?q?caf=E9?= =?utf-8?b?IOKCrA==?="), "café €");
});

Deno.test("decodeEncodedWords() leaves broken words as they are", () => {
  assert.equal(decodeEncodedWords("=?bogus?X?broken?="), "=?bogus?X?broken?=");
  assert.equal(decodeEncodedWords("=?no-such-charset?q?x?= y"), "=?no-such-charset?q?x?= y");
  assert.equal(decodeEncodedWords("plain =? text"), "plain =? text");
  assert.equal(decodeEncodedWords("=?utf-8?q?name?=.txt"), "name.txt");
});

Deno.test("encodeWordQ() matches Go's mime.QEncoding", () => {
  assert.equal(encodeWordQ("plain ascii"), "plain ascii");
  assert.equal(encodeWordQ("café = ok?"), "=?utf-8?q?caf=C3=A9_=3D_ok=3F?=");
  const long = encodeWordQ("é".repeat(30));
  // 63 content chars at most per word: 10 × "=C3=A9" (60) per word.
  assert.equal(
    long,
    [
      "=?utf-8?q?" + "=C3=A9".repeat(10) + "?=",
      "=?utf-8?q?" + "=C3=A9".repeat(10) + "?=",
      "=?utf-8?q?" + "=C3=A9".repeat(10) + "?=",
    ].join(" "),
  );
  assert.equal(
    decodeEncodedWords(encodeWordQ("日本語 and ascii_with=signs")),
    "日本語 and ascii_with=signs",
  );
});

Deno.test("encodeWordB() matches Go's mime.BEncoding", () => {
  assert.equal(encodeWordB("Zoë"), "=?utf-8?b?Wm/Dqw==?=");
  const s = 'Ünïcödé, "quoted" '.repeat(5);
  const enc = encodeWordB(s);
  for (const w of enc.split(" ")) assert.ok(w.length <= 75, w);
  assert.equal(decodeEncodedWords(enc), s);
});

Deno.test("decodeParams() joins RFC 2231 continuations and decodes charsets", () => {
  const m = decodeParams([
    { name: "filename*0*", value: "ISO-8859-1'fr'caf%E9%20" },
    { name: "filename*1", value: "long name" },
    { name: "filename*2*", value: "%E9.txt" },
    { name: "NAME*", value: "UTF-8''%E2%82%AC%20rates.txt" },
    { name: "title", value: "=?utf-8?b?w6ljb2xl?=.txt" },
    { name: "raw", value: "caf\xe9" },
  ]);
  assert.equal(m.get("filename"), "café long nameé.txt");
  assert.equal(m.get("name"), "€ rates.txt");
  assert.equal(m.get("title"), "école.txt");
  assert.equal(m.get("raw"), "café");
  assert.equal(decodeExtendedValue("us-ascii'en'a%20b"), "a b");
});

Deno.test("base64 helpers round-trip and tolerate noise", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  assert.equal(base64Encode(bytes), "AAEC+v8=");
  assert.deepEqual(base64DecodeLoose("AAE\r\nC+v8=garbage"), bytes);
  assert.deepEqual(base64DecodeLoose("AAEC+v8"), bytes);
  assert.equal(decodeCharset(new Uint8Array([0xe9]), "latin1"), "é");
  assert.equal(decodeCharset(new Uint8Array([0x41]), "x-unknown"), null);
});
