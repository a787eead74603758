import assert from "node:assert/strict";
import { messageText } from "./message_text.ts";

const enc = new TextEncoder();
const bytes = (text: string) => enc.encode(text.replace(/\n/g, "\r\n"));

Deno.test("messageText: text parts decoded, attachments skipped, inner headers kept", () => {
  const literal = bytes(`Subject: =?utf-8?q?Outer_=C3=A9?=
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe
--b
Content-Type: image/png
Content-Transfer-Encoding: base64

aGlkZGVu
--b
Content-Type: message/rfc822

Subject: Inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGI+Qm9sZDwvYj4=
--b--
`);
  const body = messageText(literal, false);
  assert.ok(body.includes("grüße"));
  assert.ok(!body.includes("hidden"));
  assert.ok(body.includes("subject: inner"));
  assert.ok(body.includes("<b>bold</b>"));
  assert.ok(!body.includes("outer"));
  assert.ok(messageText(literal, true).includes("subject: outer é"));
});

Deno.test("messageText: a bounce's delivery status is body; TEXT also finds part headers", () => {
  const literal = bytes(`Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="r"

--r
Content-Type: text/plain

The mail system could not deliver your message.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; gone@example.net
Status: 5.1.1
--r
Content-Type: application/pdf; name="invoice-4711.pdf"
Content-Disposition: attachment; filename="invoice-4711.pdf"
Content-Transfer-Encoding: base64

JVBERi0=
--r--
`);
  const body = messageText(literal, false);
  assert.ok(body.includes("final-recipient: rfc822; gone@example.net"));
  assert.ok(body.includes("status: 5.1.1"));
  assert.ok(!body.includes("invoice-4711"), "BODY: part headers are not the body text");
  const text = messageText(literal, true);
  assert.ok(text.includes("invoice-4711.pdf"), "TEXT: an attachment is found by its file name");
  assert.ok(text.includes("gone@example.net"));
  assert.equal(text.split("subject: undelivered").length, 2, "the top header once");
});

Deno.test("messageText: no charset reads UTF-8 when valid, else windows-1252", () => {
  assert.ok(messageText(bytes("Subject: x\n\ncaf\u00e9\n"), false).includes("café"));
  const latin = new Uint8Array([...bytes("Subject: x\n\ncaf"), 0xe9, 0x0d, 0x0a]);
  assert.ok(messageText(latin, false).includes("café"));
});
