import assert from "node:assert/strict";
import { parseDraft } from "./draft_from_literal.ts";

const enc = new TextEncoder();

Deno.test("parseDraft: headers, HTML alternative preferred, attachments and inline images", () => {
  const literal = enc.encode(
    [
      "From: Me <me+work@example.test>",
      "To: A <a@x.test>, b@y.test",
      "Cc: c@z.test",
      "Subject: =?utf-8?q?Caf=C3=A9?=",
      "Message-ID: <id-1@example.test>",
      'Content-Type: multipart/mixed; boundary="m"',
      "",
      "--m",
      'Content-Type: multipart/alternative; boundary="a"',
      "",
      "--a",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "plain",
      "--a",
      "Content-Type: text/html; charset=iso-8859-1",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "<p>caf=E9</p>",
      "--a--",
      "--m",
      "Content-Type: image/png",
      "Content-ID: <img1>",
      "Content-Disposition: inline",
      "Content-Transfer-Encoding: base64",
      "",
      "AAEC",
      "--m",
      'Content-Type: text/plain; name="notes.txt"',
      'Content-Disposition: attachment; filename="notes.txt"',
      "",
      "a text file",
      "--m--",
      "",
    ].join("\r\n"),
  );
  const d = parseDraft(literal);
  assert.equal(d.subject, "Café");
  assert.deepEqual(d.from, { Name: "Me", Address: "me+work@example.test" });
  assert.deepEqual(d.to.map((a) => a.Address), ["a@x.test", "b@y.test"]);
  assert.deepEqual(d.cc.map((a) => a.Address), ["c@z.test"]);
  assert.equal(d.externalId, "id-1@example.test");
  assert.equal(d.mimeType, "text/html");
  assert.equal(d.body.trim(), "<p>café</p>");
  assert.deepEqual(
    d.attachments.map((a) => [a.name, a.contentType, a.disposition, a.contentId]),
    [["attachment.png", "image/png", "inline", "img1"], [
      "notes.txt",
      "text/plain",
      "attachment",
      "",
    ]],
  );
  assert.deepEqual(d.attachments[0].data, new Uint8Array([0, 1, 2]));
});

Deno.test("parseDraft: text parts with an image between them are all kept (Apple Mail)", () => {
  const literal = enc.encode(
    [
      "Subject: two paragraphs",
      'Content-Type: multipart/mixed; boundary="m"',
      "",
      "--m",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "First paragraph.",
      "--m",
      "Content-Type: image/jpeg; name=photo.jpg",
      "Content-Disposition: inline; filename=photo.jpg",
      "Content-Transfer-Encoding: base64",
      "",
      "AAEC",
      "--m",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Second paragraph.",
      "--m--",
      "",
    ].join("\r\n"),
  );
  const d = parseDraft(literal);
  assert.equal(d.mimeType, "text/plain");
  assert.match(d.body, /First paragraph\.[\s\S]*Second paragraph\./);
  assert.deepEqual(d.attachments.map((a) => a.name), ["photo.jpg"]);
});

Deno.test("parseDraft: plain single part; garbage gives an empty plain body", () => {
  const d = parseDraft(enc.encode("Subject: s\r\n\r\nhello\r\n"));
  assert.equal(d.mimeType, "text/plain");
  assert.equal(d.body, "hello\r\n");
  assert.deepEqual(d.attachments, []);
  const g = parseDraft(new Uint8Array([0xff, 0x00, 0x0a]));
  assert.equal(typeof g.body, "string");
});

Deno.test("parseDraft: a reply's reference fields are kept for its parent lookup", () => {
  const d = parseDraft(enc.encode(
    "Subject: Re: q\r\nIn-Reply-To: <q@x.test>\r\nReferences: <p@x.test>\r\n <q@x.test>\r\n" +
      "X-Forwarded-Message-Id: <f@x.test>\r\n\r\nanswer\r\n",
  ));
  assert.deepEqual(d.references, {
    inReplyTo: "q@x.test",
    references: ["p@x.test", "q@x.test"],
    forwardedMessageID: "f@x.test",
  });
  assert.deepEqual(parseDraft(enc.encode("Subject: s\r\n\r\nx\r\n")).references, {
    references: [],
  });
});
