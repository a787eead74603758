import assert from "node:assert/strict";
import { bytesToBinary } from "./_bytes.ts";
import { corpusMessage } from "./_test_corpus.ts";
import { formatField, parseHeader, selectHeaderFields, unfold } from "./header.ts";

const enc = new TextEncoder();

Deno.test("parseHeader() reads folded fields, lines without colon and the end of the header", () => {
  const { crlf } = corpusMessage("08_broken_headers.eml");
  const hb = parseHeader(crlf);
  const h = hb.header;
  assert.equal(h.get("SUBJECT"), "broken headers with a\tfolded subject");
  assert.equal(h.getFolded("subject"), "broken\r\n headers with a\r\n\tfolded subject");
  assert.equal(h.get("spaced-name"), "value with space before colon");
  assert.equal(h.get("x-empty"), "");
  assert.ok(!h.has("this line has no colon at all"));
  assert.equal(h.fields[1].hasColon, false);
  assert.equal(h.fields[1].name, "This line has no colon at all");
  assert.equal(bytesToBinary(crlf.subarray(hb.end)), "body of broken headers message\r\n");
});

Deno.test("parseHeader() accepts bare LF and keeps 8-bit bytes", () => {
  const bytes = new Uint8Array([
    ...enc.encode("Subject: caf"),
    0xe9,
    0x0a,
    ...enc.encode("To: x\n\nbody"),
  ]);
  const hb = parseHeader(bytes);
  assert.equal(hb.header.get("subject"), "caf\xe9");
  assert.equal(hb.header.getText("subject"), "café");
  assert.equal(hb.header.get("to"), "x");
  assert.equal(hb.end, bytes.length - 4);
});

Deno.test("parseHeader() without an empty line runs to the end", () => {
  const bytes = enc.encode("A: 1\r\nB: 2");
  const hb = parseHeader(bytes);
  assert.equal(hb.end, bytes.length);
  assert.deepEqual(hb.header.fields.map((f) => f.name), ["A", "B"]);
  assert.equal(hb.header.get("b"), "2");
});

Deno.test("Header.getAll() and getText() decode encoded words", () => {
  const h =
    parseHeader(enc.encode("Received: a\r\nReceived: b\r\nSubject: =?utf-8?q?h=C3=A9?=\r\n\r\n"))
      .header;
  assert.deepEqual(h.getAll("received"), ["a", "b"]);
  assert.equal(h.getText("subject"), "hé");
  assert.equal(h.get("missing"), undefined);
});

Deno.test("selectHeaderFields() keeps raw folding and ends with an empty line", () => {
  const h = parseHeader(enc.encode("From: a\r\nSubject: x\r\n y\r\nTo: b\r\n\r\n")).header;
  assert.equal(
    bytesToBinary(selectHeaderFields(h, ["subject", "FROM"])),
    "From: a\r\nSubject: x\r\n y\r\n\r\n",
  );
  assert.equal(bytesToBinary(selectHeaderFields(h, ["subject", "from"], true)), "To: b\r\n\r\n");
  assert.equal(bytesToBinary(selectHeaderFields(h, ["nothing"])), "\r\n");
});

Deno.test("unfold() removes line breaks and leading whitespace only", () => {
  assert.equal(unfold("  a\r\n b\n\tc "), "a b\tc ");
  assert.equal(unfold("\r\n <id@x>"), " <id@x>");
});

Deno.test("formatField() folds at whitespace and never inside a word", () => {
  assert.equal(formatField("Subject", "short"), "Subject: short\r\n");
  const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ");
  const folded = formatField("X-Long", words);
  for (const line of folded.split("\r\n").slice(0, -1)) assert.ok(line.length <= 78, line);
  assert.equal(folded.replace(/\r\n/g, ""), "X-Long: " + words);
  const ew = "=?utf-8?q?" + "a".repeat(60) + "?=";
  const f2 = formatField("Subject", ew + " " + ew);
  assert.equal(f2, `Subject: ${ew}\r\n ${ew}\r\n`);
  const long = "x".repeat(120);
  assert.equal(formatField("X", long), `X: ${long}\r\n`);
  assert.equal(formatField("X", "a\r\nb"), "X: a b\r\n");
});

Deno.test("formatField() does not fold inside quoted strings", () => {
  const v =
    '"Bob Loooooooooooooong Name" <bob@example.org>, "Carol Loooooooooooooong Name" <c@x.y>';
  assert.equal(
    formatField("To", v),
    'To: "Bob Loooooooooooooong Name" <bob@example.org>,\r\n "Carol Loooooooooooooong Name" <c@x.y>\r\n',
  );
});
