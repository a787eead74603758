import assert from "node:assert/strict";
import { decryptAttachment, decryptMessage, fromBase64 } from "../crypto/mod.ts";
import { TestDirectory } from "./_mail_test_util.ts";
import { buildMessage, encodeHeaderText, formatAddress, rfc5322Date } from "./deliver.ts";
import { MessageFlag } from "../api/types.ts";

const dir = new TestDirectory();
const userID = await dir.addUser(["alice@example.test"], "Alice");
const senderUser = await dir.addUser(["bob@example.test"], "Bob");
const address = dir.addresses(userID)[0];
const addressKey = await dir.addressKey(address.ID);
const bobKey = await dir.addressKey(dir.addresses(senderUser)[0].ID);
const ctx = { address, addressKey, now: () => 1_700_000_000 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("header helpers encode non-ASCII and quote specials", () => {
  assert.equal(encodeHeaderText("Hello"), "Hello");
  const enc = encodeHeaderText("Grüße aus Zürich — déjà vu ☕ ".repeat(3));
  for (const w of enc.split(" ")) {
    assert.match(w, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    assert.ok(w.length <= 75);
  }
  assert.equal(formatAddress({ Name: "", Address: "a@b.c" }), "a@b.c");
  assert.equal(formatAddress({ Name: "Carol, Acct", Address: "c@b.c" }), '"Carol, Acct" <c@b.c>');
  assert.equal(formatAddress({ Name: "Zoë", Address: "z@b.c" }), "=?UTF-8?B?Wm/Dqw==?= <z@b.c>");
  assert.equal(rfc5322Date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 +0000");
});

Deno.test("buildMessage: external plain text mail", async () => {
  const m = await buildMessage({
    From: { Name: "Zoë Ångström", Address: "zoe@example.org" },
    Subject: "Grüße ☕",
    Text: "Hallo\r\nWelt ✓",
    ExternalID: "abc@example.org",
  }, ctx);
  assert.equal(m.MIMEType, "text/plain");
  assert.equal(m.Flags & MessageFlag.Received, MessageFlag.Received);
  assert.equal(m.Flags & MessageFlag.Internal, 0);
  assert.equal(m.Unread, 1);
  assert.equal(m.Location, "0");
  assert.deepEqual(m.ToList, [{ Name: "Alice", Address: "alice@example.test" }]);
  assert.equal(m.ParsedHeaders["Message-ID"], "<abc@example.org>");
  assert.equal(m.ParsedHeaders["Content-Type"], "text/plain; charset=utf-8");
  assert.ok(Array.isArray(m.ParsedHeaders["Received"]));
  assert.match(m.Header, /^Return-Path: <zoe@example.org>\r\n/);
  assert.match(m.Header, /\r\nSubject: =\?UTF-8\?B\?/);
  assert.ok(m.Header.endsWith("\r\n"));
  const dec = await decryptMessage(m.Body, [addressKey]);
  assert.equal(text(dec.data), "Hallo\r\nWelt ✓");
  assert.equal(dec.signature, "unsigned");
});

Deno.test("buildMessage: internal sender signs; attachments split and decrypt", async () => {
  const data = crypto.getRandomValues(new Uint8Array(5000));
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
  const m = await buildMessage({
    From: { Name: "Bob", Address: "bob@example.test" },
    Subject: "Files",
    Text: "see attached",
    HTML: '<p>see attached <img src="cid:img1@x"></p>',
    Attachments: [
      { Name: "отчёт.bin", MIMEType: "application/octet-stream", Data: data },
      {
        Name: "i.png",
        MIMEType: "image/png",
        Data: png,
        Disposition: "inline",
        ContentID: "img1@x",
      },
    ],
  }, { ...ctx, senderKey: bobKey });
  assert.equal(m.MIMEType, "text/html");
  assert.equal(m.Flags & MessageFlag.Internal, MessageFlag.Internal);
  assert.match(String(m.ParsedHeaders["Content-Type"]), /^multipart\/mixed; boundary=/);
  const dec = await decryptMessage(m.Body, [addressKey], [bobKey.toPublic()]);
  assert.equal(dec.signature, "valid");
  assert.equal(m.Attachments.length, 2);
  const [a, b] = m.Attachments;
  assert.equal(a.Disposition, "attachment");
  assert.equal(b.Headers["content-id"], "<img1@x>");
  assert.match(a.Signature, /BEGIN PGP SIGNATURE/);
  assert.deepEqual(
    await decryptAttachment(fromBase64(a.KeyPackets), a.DataPacket, [addressKey]),
    data,
  );
  assert.deepEqual(
    await decryptAttachment(fromBase64(b.KeyPackets), b.DataPacket, [addressKey]),
    png,
  );
});

Deno.test("buildMessage: PGP/MIME body is a whole MIME entity, no attachment objects", async () => {
  const m = await buildMessage({
    From: { Name: "S", Address: "s@example.dk" },
    Subject: "enc",
    Text: "Hilsen ø",
    PGPMIME: true,
    Attachments: [{ Name: "k.pdf", MIMEType: "application/pdf", Data: new Uint8Array([1, 2, 3]) }],
  }, ctx);
  assert.equal(m.MIMEType, "multipart/mixed");
  assert.equal(m.Attachments.length, 0);
  assert.equal(m.Flags & MessageFlag.E2E, MessageFlag.E2E);
  assert.match(String(m.ParsedHeaders["Content-Type"]), /^multipart\/encrypted; protocol=/);
  const body = text((await decryptMessage(m.Body, [addressKey])).data);
  assert.match(body, /^Content-Type: multipart\/mixed; boundary="([^"]+)"\r\n\r\n--/);
  assert.match(body, /Content-Transfer-Encoding: base64\r\n\r\nSGlsc2VuIMO4\r\n/);
  assert.match(body, /Content-Disposition: attachment; filename="k.pdf"/);
  assert.match(body, /\r\nAQID\r\n/);
});

Deno.test("buildMessage: sent mail and drafts", async () => {
  const sent = await buildMessage({
    Kind: "sent",
    From: { Name: "Alice", Address: "ignored@example.test" },
    ToList: [{ Name: "Zoë", Address: "zoe@example.org" }],
    Subject: "Re: x",
    Text: "ok",
    Headers: { "In-Reply-To": "<a@b>", References: "<a@b>" },
  }, ctx);
  assert.equal(sent.Sender.Address, "alice@example.test");
  assert.equal(sent.Flags, MessageFlag.Sent);
  assert.equal(sent.Location, "7");
  assert.equal(sent.Unread, 0);
  assert.equal(sent.ParsedHeaders["In-Reply-To"], "<a@b>");
  assert.equal(
    (await decryptMessage(sent.Body, [addressKey], [addressKey.toPublic()])).signature,
    "valid",
  );
  const draft = await buildMessage(
    { Kind: "draft", From: { Name: "", Address: "" }, Subject: "" },
    ctx,
  );
  assert.equal(draft.Flags, 0);
  assert.equal(draft.Location, "8");
  assert.equal(draft.ExternalID, "");
  assert.equal(draft.ParsedHeaders["Message-ID"], undefined);
});

Deno.test("buildMessage refuses bad input", async () => {
  await assert.rejects(
    buildMessage({ From: { Name: "", Address: "" }, Subject: "x" }, ctx),
    /From/,
  );
  await assert.rejects(
    buildMessage({
      From: { Name: "", Address: "a@b.c" },
      Subject: "x",
      Attachments: [{
        Name: "i",
        MIMEType: "image/png",
        Data: new Uint8Array(1),
        Disposition: "inline",
      }],
    }, ctx),
    /Content ID/,
  );
  await assert.rejects(
    buildMessage(
      { From: { Name: "", Address: "a@b.c" }, Subject: "x", Headers: { "Bad: x": "y" } },
      ctx,
    ),
    /Invalid header/,
  );
});
