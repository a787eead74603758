import assert from "node:assert/strict";
import { parseHeader } from "./header.ts";
import {
  fieldSearchText,
  headerSearchText,
  indexedSearchTexts,
  searchFold,
} from "./header_search_text.ts";

const block = (text: string) => new TextEncoder().encode(text.replace(/\n/g, "\r\n"));

Deno.test("fieldSearchText: 8-bit as UTF-8 else windows-1252, encoded words decoded, folded", () => {
  assert.equal(fieldSearchText("=?iso-8859-1?q?Gr=FC=DFe?= AUS"), "grüße aus");
  assert.equal(fieldSearchText("Caf\xc3\xa9"), "café"); // UTF-8 bytes
  assert.equal(fieldSearchText("Caf\xe9"), "café"); // not UTF-8: windows-1252
  assert.equal(fieldSearchText("\xc4\xb0"), "i\u0307"); // İ folds to two code units
  assert.equal(searchFold("İ"), "i\u0307");
});

Deno.test("searchFold: a run of spaces, tabs or line breaks is one space, as ENVELOPE shows it", () => {
  assert.equal(fieldSearchText("AW:  Angebot\t2024"), "aw: angebot 2024");
  assert.equal(fieldSearchText("=?utf-8?q?a=09=09b?=   c"), "a b c"); // also once decoded
  assert.equal(searchFold("AW:  Angebot 2024"), "aw: angebot 2024");
  assert.equal(searchFold(" x "), " x "); // single spaces stay
});

Deno.test("headerSearchText: every field of the name, unfolded, in order; null without one", () => {
  const { header } = parseHeader(block("To: A\n  B\nX-To: no\nTO : C\nCc:\nSubject: s\n\n"));
  assert.equal(headerSearchText(header, "to"), "a b\nc");
  assert.equal(headerSearchText(header, "cc"), "");
  assert.equal(headerSearchText(header, "bcc"), null);
});

Deno.test("indexedSearchTexts: Subject, From, To, Cc and Bcc of a block", () => {
  assert.deepEqual(
    indexedSearchTexts(block("From: =?utf-8?b?w4lsb2RpZQ==?= <e@x>\nSubject: Hi\n\nTo: body\n")),
    { subject: "hi", from: "élodie <e@x>", to: null, cc: null, bcc: null },
  );
});
