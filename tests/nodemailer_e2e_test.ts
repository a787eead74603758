/**
 * Nodemailer (npm `nodemailer`, the SMTP client of many Node.js apps) submitting through `bridge
 * serve`, backed by the reference API server: AUTH, a multipart message with a UTF-8 subject, an
 * HTML alternative and an attachment named in UTF-8, to an external recipient and a Cc.
 *
 * - the reply names every recipient accepted;
 * - the reference server's outbox holds one delivery per recipient, with the subject, the
 *   recipients, the HTML part as the body (a multipart/alternative message goes out as HTML, as
 *   Proton sends it) and the attachment's name and bytes as sent (external recipients without
 *   keys get clear session keys, so the outbox shows the decrypted content);
 * - the account's Sent holds exactly one copy.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import nodemailer from "nodemailer";
import { withClientFixture } from "./_client_fixture.ts";
import { eventually } from "./_eventually.ts";
import { refControl, refMessages } from "./_ref_control.ts";

interface Delivery {
  Recipient: string;
  Subject: string;
  MIMEType: string;
  ToList: { Name: string; Address: string }[];
  CCList: { Name: string; Address: string }[];
  Body?: string;
  Attachments: { Name: string; MIMEType: string; DataBase64?: string }[];
}

Deno.test({
  name: "nodemailer sends a multipart UTF-8 message with an attachment through bridge",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_nodemailer_e2e_", "nora@example.test", 5, async (f) => {
    await f.start();
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: f.smtpPort,
      secure: false,
      ignoreTLS: true, // serve runs with --security none on loopback here
      auth: { user: f.imap.username, pass: f.imap.password },
    });
    const subject = "nodemailer: Grüße aus Zürich ☕";
    const attachment = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) % 256);
    const info = (await transport.sendMail({
      from: `"Nora" <${f.email}>`,
      to: "Ext Reader <ext@outside.test>",
      cc: "cc@outside.test",
      subject,
      text: "Hello from nodemailer.\nSecond line: ünïcödé.\n",
      html: "<p>Hello from <b>nodemailer</b>.</p>",
      attachments: [{ filename: "notes-ü.bin", content: Buffer.from(attachment) }],
    })) as unknown as { accepted: string[]; rejected: string[] };
    assert.deepEqual([...info.accepted].sort(), ["cc@outside.test", "ext@outside.test"]);
    assert.deepEqual(info.rejected, []);
    transport.close();

    const outbox = (await refControl<{ Outbox: Delivery[] }>(f.server.url, "GET", "outbox"))
      .Outbox.filter((d) => d.Subject === subject);
    assert.deepEqual(outbox.map((d) => d.Recipient).sort(), [
      "cc@outside.test",
      "ext@outside.test",
    ]);
    for (const d of outbox) {
      // A multipart/alternative message goes out as its HTML part, as Proton sends it.
      assert.equal(d.MIMEType, "text/html", `${d.Recipient}: MIME type`);
      assert.equal(d.Body, "<p>Hello from <b>nodemailer</b>.</p>", `${d.Recipient}: body`);
      assert.deepEqual(d.ToList, [{ Name: "Ext Reader", Address: "ext@outside.test" }]);
      assert.deepEqual(d.CCList.map((a) => a.Address), ["cc@outside.test"]);
      assert.equal(d.Attachments.length, 1, `${d.Recipient}: attachments`);
      assert.equal(d.Attachments[0].Name, "notes-ü.bin");
      const bytes = Uint8Array.from(
        atob(d.Attachments[0].DataBase64 ?? ""),
        (c) => c.charCodeAt(0),
      );
      assert.deepEqual(bytes, attachment, `${d.Recipient}: attachment bytes`);
    }

    // serve's log names the send once, without the message's contents.
    assert.match(f.serveLog, / info +smtp: sent \S+ \(account \S+, 2 recipient\(s\), 1 attachment/);
    assert.doesNotMatch(f.serveLog, /smtp: smtp:|Grüße|nodemailer\./);

    // Exactly one copy in Sent (label 2).
    await eventually(async () => {
      const sent = (await refMessages(f.server.url, f.email))
        .filter((m) => m.Subject === subject && m.LabelIDs.includes("2"));
      assert.equal(sent.length, 1);
    });
  });
});
