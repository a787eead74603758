import assert from "node:assert/strict";
import { bytesToBinary } from "./_bytes.ts";
import { imapNString, imapString, imapStringForHumans, MAX_QUOTED_LENGTH } from "./imap_string.ts";

const s = (b: Uint8Array) => bytesToBinary(b);

Deno.test("imapString() quotes simple strings and escapes quotes and backslashes", () => {
  assert.equal(s(imapString("hello world")), '"hello world"');
  assert.equal(s(imapString("")), '""');
  assert.equal(s(imapString('a"b\\c')), '"a\\"b\\\\c"');
  assert.equal(s(imapString("tab\there")), '"tab\there"');
});

Deno.test("imapString() uses literals for CR, LF, NUL, 8-bit, many escapes and long strings", () => {
  assert.equal(s(imapString("a\r\nb")), "{4}\r\na\r\nb");
  assert.equal(s(imapString("café")), "{5}\r\ncaf\xc3\xa9");
  assert.equal(s(imapString(new Uint8Array([0x63, 0xe9]))), "{2}\r\nc\xe9");
  assert.equal(s(imapString('"""""')), '{5}\r\n"""""');
  const long = "x".repeat(MAX_QUOTED_LENGTH + 1);
  assert.equal(s(imapString(long)), `{${long.length}}\r\n${long}`);
});

Deno.test("imapNString() writes NIL for null", () => {
  assert.equal(s(imapNString(null)), "NIL");
  assert.equal(s(imapNString(undefined)), "NIL");
  assert.equal(s(imapNString("x")), '"x"');
});

Deno.test("imapStringForHumans() collapses whitespace like Dovecot", () => {
  assert.equal(s(imapStringForHumans("plain subject")), '"plain subject"');
  assert.equal(s(imapStringForHumans("folded\r\n\tsubject ")), "{14}\r\nfolded subject");
  assert.equal(s(imapStringForHumans('say "hi"')), '{8}\r\nsay "hi"');
  assert.equal(s(imapStringForHumans("  \r\n ")), '""');
  assert.equal(s(imapStringForHumans("")), '""');
  assert.equal(s(imapStringForHumans(null)), "NIL");
  assert.equal(s(imapStringForHumans(new Uint8Array([0x61, 0, 0x62]))), "{3}\r\na\x80b");
});
