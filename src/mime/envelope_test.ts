import assert from "node:assert/strict";
import { bytesToBinary } from "./_bytes.ts";
import { corpusMessage, corpusNames, dovecotAnswers } from "./_test_corpus.ts";
import { parseMessage } from "./entity.ts";
import { envelopeOf, serializeEnvelope } from "./envelope.ts";
import { parseHeader } from "./header.ts";

const answers = dovecotAnswers();

function envelope(text: string | Uint8Array): string {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  return bytesToBinary(serializeEnvelope(envelopeOf(parseHeader(bytes).header)));
}

Deno.test("serializeEnvelope() matches Dovecot on every corpus message", () => {
  for (const name of corpusNames()) {
    const root = parseMessage(corpusMessage(name).crlf);
    assert.equal(
      bytesToBinary(serializeEnvelope(envelopeOf(root.header))),
      answers[name].ENVELOPE,
      name,
    );
  }
});

Deno.test("envelopeOf() defaults Sender and Reply-To to From, also when they are empty", () => {
  const env = envelopeOf(
    parseHeader(new TextEncoder().encode("From: a@b.c\r\nSender:\r\nSubject: s\r\n\r\n")).header,
  );
  assert.deepEqual(env.sender, env.from);
  assert.deepEqual(env.replyTo, env.from);
  assert.equal(env.to, null);
});

Deno.test("serializeEnvelope() keeps encoded words and escapes quoted strings", () => {
  assert.equal(
    envelope(
      'Subject: =?utf-8?q?caf=C3=A9?=\r\nFrom: "A \\\\ B" <a@b.c>\r\nMessage-ID: <"x"@y>\r\n\r\n',
    ),
    '(NIL "=?utf-8?q?caf=C3=A9?=" (({5}\r\nA \\ B NIL "a" "b.c")) (({5}\r\nA \\ B NIL "a" "b.c")) ' +
      '(({5}\r\nA \\ B NIL "a" "b.c")) NIL NIL NIL NIL "<\\"x\\"@y>")',
  );
});

Deno.test("serializeEnvelope() encodes groups with start and end markers", () => {
  assert.equal(
    envelope("To: Team: a@x.y, b@x.y;\r\n\r\n"),
    '(NIL NIL NIL NIL NIL ((NIL NIL "Team" NIL)(NIL NIL "a" "x.y")(NIL NIL "b" "x.y")(NIL NIL NIL NIL)) NIL NIL NIL NIL)',
  );
});

Deno.test("serializeEnvelope() sends 8-bit subjects as literals of the raw bytes", () => {
  const bytes = new Uint8Array([...new TextEncoder().encode("Subject: caf"), 0xe9, 13, 10, 13, 10]);
  assert.equal(envelope(bytes), "(NIL {4}\r\ncaf\xe9 NIL NIL NIL NIL NIL NIL NIL NIL)");
});
