import assert from "node:assert/strict";
import { bytesToBinary } from "./_bytes.ts";
import { corpusMessage, corpusNames, dovecotAnswers } from "./_test_corpus.ts";
import { base64DecodeLoose } from "./encoded_word.ts";
import { parseMessage } from "./entity.ts";
import { findPart, parseSection, sectionBytes, slicePartial } from "./part_bytes.ts";

const answers = dovecotAnswers();

/**
 * Where we differ from Dovecot on purpose: a header that is not ended by an empty line keeps its
 * last line break here (Dovecot drops it in HEADER but counts it in the part size).
 */
const KNOWN_DIFFERENCES = new Set([
  "03_header_only.eml HEADER.FIELDS.NOT (From Subject)",
  "25_rfc822_base64.eml 1.1.MIME",
  "25_rfc822_base64.eml 1.HEADER",
]);

Deno.test("sectionBytes() matches Dovecot's BODY[section] on the corpus", () => {
  let compared = 0;
  for (const name of corpusNames()) {
    const root = parseMessage(corpusMessage(name).crlf);
    for (const [sec, b64] of Object.entries(answers[name].sections)) {
      if (KNOWN_DIFFERENCES.has(`${name} ${sec}`)) continue;
      const want = b64 === null ? "" : bytesToBinary(base64DecodeLoose(b64));
      assert.equal(bytesToBinary(sectionBytes(root, sec)), want, `${name} BODY[${sec}]`);
      compared++;
    }
  }
  assert.ok(compared > 400);
});

Deno.test("parseSection() reads section specifiers", () => {
  assert.deepEqual(parseSection(""), { path: [] });
  assert.deepEqual(parseSection("1.2.3"), { path: [1, 2, 3] });
  assert.deepEqual(parseSection("header"), { path: [], specifier: "HEADER" });
  assert.deepEqual(parseSection("2.TEXT"), { path: [2], specifier: "TEXT" });
  assert.deepEqual(parseSection("1.MIME"), { path: [1], specifier: "MIME" });
  assert.deepEqual(parseSection('4.HEADER.FIELDS.NOT (From "Subject")'), {
    path: [4],
    specifier: "HEADER.FIELDS.NOT",
    fields: ["From", "Subject"],
  });
  assert.equal(parseSection("MIME"), null);
  assert.equal(parseSection("0"), null);
  assert.equal(parseSection("1.X"), null);
  assert.equal(parseSection("HEADER.FIELDS ()"), null);
});

Deno.test("sectionBytes() returns views for numeric parts and whole messages", () => {
  const { crlf } = corpusMessage("06_nested_deep.eml");
  const root = parseMessage(crlf);
  assert.equal(sectionBytes(root, "").buffer, crlf.buffer);
  assert.equal(bytesToBinary(sectionBytes(root, "2")), "JVBERi0xLjQKJQ==");
  assert.equal(findPart(root, [1, 1, 2])?.mimeType, "text/html");
  assert.equal(findPart(root, [1, 2])?.mimeType, "image/png");
  assert.equal(findPart(root, [9]), null);
});

Deno.test("sectionBytes() applies <partial> ranges", () => {
  const root = parseMessage(corpusMessage("01_simple_plain.eml").crlf);
  assert.equal(bytesToBinary(sectionBytes(root, "TEXT", { offset: 0, length: 5 })), "Hello");
  assert.equal(bytesToBinary(sectionBytes(root, "1", { offset: 6, length: 3 })), "Bob");
  assert.equal(sectionBytes(root, "TEXT", { offset: 10_000 }).length, 0);
  assert.equal(bytesToBinary(slicePartial(new TextEncoder().encode("abcdef"), 4)), "ef");
});
