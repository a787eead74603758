import assert from "node:assert/strict";
import { bytesToBinary } from "./_bytes.ts";
import { corpusMessage, corpusNames, dovecotAnswers } from "./_test_corpus.ts";
import { body, bodyStructure } from "./body_structure.ts";
import { parseMessage } from "./entity.ts";

const answers = dovecotAnswers();

Deno.test("bodyStructure() matches Dovecot on every corpus message", () => {
  const names = corpusNames();
  assert.ok(names.length >= 15);
  for (const name of names) {
    const root = parseMessage(corpusMessage(name).crlf);
    assert.equal(bytesToBinary(bodyStructure(root)), answers[name].BODYSTRUCTURE, name);
  }
});

Deno.test("body() matches Dovecot's BODY on every corpus message", () => {
  for (const name of corpusNames()) {
    const root = parseMessage(corpusMessage(name).crlf);
    assert.equal(bytesToBinary(body(root)), answers[name].BODY, name);
  }
});

Deno.test("bodyStructure() of a bare-LF message counts the bytes as stored", () => {
  const { raw } = corpusMessage("05_bare_lf.eml");
  const s = bytesToBinary(bodyStructure(parseMessage(raw)));
  // "plain part\nline two" is 19 octets as stored (20 once converted to CRLF).
  assert.match(s, /^\(\("text" "plain" \("charset" "utf-8"\) NIL NIL "7bit" 19 1 /);
});

Deno.test("bodyStructure() defaults to text/plain us-ascii without Content-Type", () => {
  const root = parseMessage(new TextEncoder().encode("Subject: x\r\n\r\nhello\r\n"));
  assert.equal(
    bytesToBinary(bodyStructure(root)),
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 7 1 NIL NIL NIL NIL)',
  );
});

Deno.test("bodyStructure() sends 8-bit parameter values as literals", () => {
  const root = parseMessage(
    new Uint8Array([
      ...new TextEncoder().encode('Content-Type: application/pdf; name="'),
      0xe9,
      ...new TextEncoder().encode('.pdf"\r\n\r\nx'),
    ]),
  );
  assert.equal(
    bytesToBinary(bodyStructure(root)),
    '("application" "pdf" ("name" {5}\r\n\xe9.pdf) NIL NIL "7bit" 1 NIL NIL NIL NIL)',
  );
});

Deno.test("bodyStructure() stays grammatical past the nesting limit", () => {
  let msg = "Content-Type: text/plain\r\n\r\ninnermost\r\n";
  for (let i = 0; i < 80; i++) msg = "Content-Type: message/rfc822\r\n\r\n" + msg;
  const s = bytesToBinary(bodyStructure(parseMessage(new TextEncoder().encode(msg))));
  let depth = 0;
  for (const c of s) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    assert.ok(depth >= 0);
  }
  assert.equal(depth, 0);
});
