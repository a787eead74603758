import assert from "node:assert/strict";
import { messageIDs } from "../mime/mod.ts";
import { parseOutgoing } from "./outgoing_message.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const crlf = (lines: string[]) => enc.encode(lines.join("\r\n"));

Deno.test("parseOutgoing: header fields, addresses and references", () => {
  const m = parseOutgoing(crlf([
    "From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.test>",
    'To: a@x.test, "B, Person" <b@x.test>',
    "Cc: c@x.test",
    "Bcc: d@x.test",
    "Reply-To: r@x.test",
    "Subject: =?utf-8?b?w5xiZXI=?= it",
    "Message-ID: <m1@client.test>",
    "In-Reply-To: <p2@x.test>",
    "References: <p1@x.test>\r\n <p2@x.test>",
    "X-Forwarded-Message-Id: <f@x.test>",
    "",
    "Body",
    "",
  ]));
  assert.deepEqual(m.from, { name: "Jürgen", address: "juergen@example.test" });
  assert.deepEqual(m.to.map((a) => a.address), ["a@x.test", "b@x.test"]);
  assert.equal(m.to[1].name, "B, Person");
  assert.deepEqual(m.cc.map((a) => a.address), ["c@x.test"]);
  assert.deepEqual(m.bcc.map((a) => a.address), ["d@x.test"]);
  assert.deepEqual(m.replyTo.map((a) => a.address), ["r@x.test"]);
  assert.equal(m.subject, "Über it");
  assert.equal(m.messageID, "m1@client.test");
  assert.equal(m.inReplyTo, "p2@x.test");
  assert.deepEqual(m.references, ["p1@x.test", "p2@x.test"]);
  assert.equal(m.forwardedMessageID, "f@x.test");
  assert.equal(m.mimeType, "text/plain");
  assert.equal(m.plainBody, "Body\r\n");
  assert.equal(m.secured, undefined);
  // The MIME body is the message without its Bcc field, nothing else changed.
  const mime = dec.decode(m.mimeBody);
  assert.doesNotMatch(mime, /Bcc|d@x\.test/);
  assert.match(mime, /^From: .*\r\nTo: .*\r\nCc: c@x\.test\r\nReply-To:/);
  assert.deepEqual(messageIDs("bare@id"), ["bare@id"]);
  const encoded = parseOutgoing(crlf([
    "From: a@x.test",
    "References: =?utf-8?q?=3C-----a=3D=3D=40protonmail=2Einternalid=3E_=3Cb=40x?=",
    " =?utf-8?q?=2Etest=3E?=",
    "",
    "",
  ]));
  assert.deepEqual(encoded.references, ["-----a==@protonmail.internalid", "b@x.test"]);
  assert.deepEqual(messageIDs(" "), []);
});

Deno.test("parseOutgoing: multipart/alternative picks HTML for rich and plain for plain", () => {
  const m = parseOutgoing(crlf([
    "From: a@x.test",
    'Content-Type: multipart/alternative; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain; charset=iso-8859-1",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Gr=FC=DFe",
    "--b",
    "Content-Type: text/html; charset=utf-8",
    "",
    "<p>Gr\u00fc\u00dfe</p>",
    "--b--",
    "",
  ]));
  assert.equal(m.mimeType, "text/html");
  assert.equal(m.plainBody, "Grüße");
  assert.equal(m.richBody, "<p>Grüße</p>");
  assert.equal(m.attachments.length, 0);
});

Deno.test("parseOutgoing: a meeting invitation's text/calendar alternative is kept as an attachment", () => {
  // Outlook's invitation: text, HTML and the calendar object as three alternatives; and a file
  // attached in both branches of another alternative is sent once.
  const m = parseOutgoing(crlf([
    "From: a@x.test",
    'Content-Type: multipart/mixed; boundary="m"',
    "",
    "--m",
    'Content-Type: multipart/alternative; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Meeting on Monday",
    "--b",
    "Content-Type: text/html; charset=utf-8",
    "",
    "<p>Meeting on Monday</p>",
    "--b",
    "Content-Type: text/calendar; charset=utf-8; method=REQUEST",
    "",
    "BEGIN:VCALENDAR",
    "METHOD:REQUEST",
    "END:VCALENDAR",
    "--b--",
    "--m",
    'Content-Type: multipart/alternative; boundary="c"',
    "",
    "--c",
    'Content-Type: multipart/mixed; boundary="c1"',
    "",
    "--c1",
    "Content-Type: text/plain",
    "",
    "See the file.",
    "--c1",
    'Content-Type: application/pdf; name="a.pdf"',
    "Content-Disposition: attachment; filename=a.pdf",
    "",
    "%PDF-1",
    "--c1--",
    "--c",
    'Content-Type: multipart/mixed; boundary="c2"',
    "",
    "--c2",
    "Content-Type: text/html",
    "",
    "<p>See the file.</p>",
    "--c2",
    'Content-Type: application/pdf; name="a.pdf"',
    "Content-Disposition: attachment; filename=a.pdf",
    "",
    "%PDF-1",
    "--c2--",
    "--c--",
    "--m--",
    "",
  ]));
  assert.match(m.richBody ?? "", /<p>Meeting on Monday<\/p>/);
  assert.deepEqual(
    m.attachments.map((a) => [a.name, a.mimeType, dec.decode(a.data).split("\r\n")[0]]),
    [["attachment.ics", "text/calendar", "BEGIN:VCALENDAR"], [
      "a.pdf",
      "application/pdf",
      "%PDF-1",
    ]],
  );
  // What the attachment API gets: the parameters that make it an invitation, not the name.
  assert.deepEqual(m.attachments.map((a) => a.contentType), [
    "text/calendar; charset=utf-8; method=REQUEST",
    "application/pdf",
  ]);
});

Deno.test("parseOutgoing: mixed plain and HTML parts are joined both ways", () => {
  const m = parseOutgoing(crlf([
    "From: a@x.test",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "a < b",
    "--b",
    "Content-Type: text/html",
    "",
    "<p>second &amp; last</p>",
    "--b--",
  ]));
  assert.equal(m.mimeType, "text/html");
  assert.equal(m.richBody, "a &lt; b<p>second &amp; last</p>");
  assert.equal(m.plainBody, "a < b\r\nsecond & last");
});

Deno.test("parseOutgoing: attachments, inline with and without Content-ID, names", () => {
  const m = parseOutgoing(crlf([
    "From: a@x.test",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    'Content-Type: multipart/related; boundary="r"',
    "",
    "--r",
    "Content-Type: text/html",
    "",
    '<img src="cid:img1@x">',
    "--r",
    "Content-Type: image/png",
    "Content-ID: <img1@x>",
    "Content-Transfer-Encoding: base64",
    "",
    "AAEC",
    "--r--",
    "--b",
    "Content-Type: image/gif",
    "Content-Disposition: inline",
    "Content-Transfer-Encoding: base64",
    "",
    "AwQF",
    "--b",
    "Content-Type: application/octet-stream",
    "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
    "",
    "raw",
    "--b",
    'Content-Type: text/plain; name="notes.txt"',
    "",
    "a text attachment",
    "--b",
    "Content-Type: message/rfc822",
    "",
    "Subject: inner",
    "",
    "inner body",
    "--b--",
  ]));
  assert.equal(m.mimeType, "text/html");
  assert.equal(m.richBody, '<img src="cid:img1@x">');
  assert.deepEqual(
    m.attachments.map((a) => [a.name, a.mimeType, a.disposition, a.contentID]),
    [
      ["attachment.png", "image/png", "inline", "img1@x"],
      ["attachment-2.gif", "image/gif", "attachment", ""],
      ["résumé.pdf", "application/octet-stream", "attachment", ""],
      ["notes.txt", "text/plain", "attachment", ""],
      ["message-5.eml", "message/rfc822", "attachment", ""],
    ],
  );
  assert.deepEqual(m.attachments[0].data, new Uint8Array([0, 1, 2]));
  assert.equal(dec.decode(m.attachments[4].data), "Subject: inner\r\n\r\ninner body");
});

Deno.test("parseOutgoing: client-signed and client-encrypted messages are marked", () => {
  const signed = parseOutgoing(crlf([
    "From: a@x.test",
    "Bcc: hidden@x.test",
    'Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary="s"',
    "",
    "--s",
    "Content-Type: text/plain",
    "",
    "signed text",
    "--s",
    "Content-Type: application/pgp-signature",
    "",
    "-----BEGIN PGP SIGNATURE-----",
    "--s--",
    "",
  ]));
  assert.equal(signed.secured, "signed");
  assert.equal(signed.plainBody, "signed text");
  assert.equal(signed.attachments.length, 0, "the signature is not an attachment");
  assert.doesNotMatch(dec.decode(signed.mimeBody), /hidden/);
  const encrypted = parseOutgoing(crlf([
    "From: a@x.test",
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"',
    "",
    "--e",
    "Content-Type: application/pgp-encrypted",
    "",
    "Version: 1",
    "--e",
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    "",
    "-----BEGIN PGP MESSAGE-----",
    "--e--",
  ]));
  assert.equal(encrypted.secured, "encrypted");
  assert.equal(encrypted.plainBody, "");
  assert.deepEqual(encrypted.attachments.map((a) => a.name), ["attachment.asc", "encrypted.asc"]);
});

Deno.test("parseOutgoing never throws on garbage", () => {
  for (
    const bytes of [new Uint8Array(), new Uint8Array([0xff, 0xfe, 0x0a]), enc.encode("no header")]
  ) {
    const m = parseOutgoing(bytes);
    assert.equal(m.from, undefined);
    assert.equal(typeof m.plainBody, "string");
  }
});

Deno.test("parseOutgoing: a format=flowed body is unflowed, unless it is clear-signed inline PGP", () => {
  const flowed = (body: string[]) =>
    parseOutgoing(crlf([
      "From: a@x.test",
      "Content-Type: text/plain; charset=utf-8; format=flowed",
      "",
      ...body,
    ])).plainBody;
  assert.equal(flowed(["one ", "two", ""]), "one two\r\n");
  const signed = [
    "-----BEGIN PGP SIGNED MESSAGE-----",
    "Hash: SHA256",
    "",
    "one ",
    "two",
    "-----BEGIN PGP SIGNATURE-----",
    "",
  ];
  assert.match(flowed(signed), /one \r\ntwo/);
});
