import assert from "node:assert/strict";
import { encryptMessage, encryptMessageBinary, toBase64 } from "../crypto/mod.ts";
import { eccKey } from "../crypto/_test_keys.ts";
import { encodeMultipart, type FormPart } from "../api/multipart.ts";
import { MemoryDb } from "./db.ts";
import { EventLog } from "./event_log.ts";
import { ApiServerError } from "./http.ts";
import { MailBackend } from "./mail_backend.ts";
import { TestDirectory } from "./_mail_test_util.ts";
import { importMessages, MAX_IMPORT_SIZE } from "./mail_import.ts";

const dir = new TestDirectory();
const alice = await dir.addUser(["alice@example.test"], "Alice");
const addr = dir.addresses(alice)[0];
const key = await dir.addressKey(addr.ID);
const enc = new TextEncoder();

function backend() {
  const db = new MemoryDb();
  const events = new EventLog(db);
  return { mail: new MailBackend(db, dir, events, () => 1_700_000_000), events };
}

async function form(
  messages: Record<string, Uint8Array>,
  metadata: unknown,
): Promise<FormData> {
  const parts: FormPart[] = Object.entries(messages).map(([name, data]) => ({
    name,
    filename: `${name}.eml`,
    contentType: "message/rfc822",
    data,
  }));
  if (metadata !== undefined) {
    parts.push({
      name: "Metadata",
      value: JSON.stringify(metadata),
      contentType: "application/json",
    });
  }
  const { body, contentType } = encodeMultipart(parts);
  return await new Response(body, { headers: { "content-type": contentType } }).formData();
}

const meta = (over: Record<string, unknown> = {}) => ({
  AddressID: addr.ID,
  LabelIDs: ["0"],
  Unread: 1,
  Flags: 1,
  ...over,
});

async function armored(text: string, to = key) {
  return await encryptMessage({ data: text, encryptionKeys: [to] });
}

Deno.test("import: multipart with HTML text and an inline image without Content-ID", async () => {
  const { mail, events } = backend();
  const from = events.latest(alice);
  const img = await encryptMessageBinary({
    data: new Uint8Array([1, 2, 3]),
    encryptionKeys: [key],
  });
  const literal = enc.encode(
    "From: =?UTF-8?B?Wm/Dqw==?= <zoe@else.test>\r\nTo: Alice <alice@example.test>, b@else.test\r\n" +
      "Cc: c@else.test\r\nReply-To: r@else.test\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n" +
      'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="r"\r\n\r\n--r\r\n' +
      "Content-Type: text/html; charset=utf-8\r\n\r\n" + await armored("<p>hi</p>") +
      '\r\n--r\r\nContent-Type: image/png; name="p.png"\r\nContent-Disposition: inline\r\n' +
      "Content-Transfer-Encoding: base64\r\n\r\n" + toBase64(img) + "\r\n--r--\r\n",
  );
  const [res] = await importMessages(
    mail,
    alice,
    await form({ "0": literal }, { "0": meta({ LabelIDs: ["0", "10"] }) }),
  );
  assert.equal(res.Response.Code, 1000);
  const m = mail.getMessage(alice, res.Response.MessageID!);
  assert.equal(m.MIMEType, "text/html");
  assert.equal(m.Subject, "Grüße");
  assert.deepEqual(m.Sender, { Name: "Zoë", Address: "zoe@else.test" });
  assert.deepEqual(m.ToList.map((a) => a.Address), ["alice@example.test", "b@else.test"]);
  assert.deepEqual(m.ReplyTos, [{ Name: "", Address: "r@else.test" }]);
  assert.equal(m.Time, 1_700_000_000); // no Date header
  assert.deepEqual([...m.LabelIDs].sort(), ["0", "10", "5"]);
  assert.equal(m.Attachments.length, 1);
  assert.deepEqual(
    [m.Attachments[0].Name, m.Attachments[0].Disposition, m.Attachments[0].MIMEType],
    ["p.png", "attachment", "image/png"],
  );
  assert.equal(m.ParsedHeaders["Subject"], "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=");
  assert.match(m.Header, /^From: .*\r\nTo: /);
  assert.equal(events.next(alice, from).Messages?.length, 1);
});

Deno.test("import: per-message refusals and request-level limits", async () => {
  const { mail } = backend();
  const stranger = (await eccKey("stranger")).unlocked;
  const ok = enc.encode("Subject: ok\r\n\r\n" + await armored("ok"));
  const wrongKey = enc.encode("Subject: w\r\n\r\n" + await armored("w", stranger));
  const noText = enc.encode(
    'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: image/png\r\n\r\nxx\r\n--x--\r\n',
  );
  const badAttachment = enc.encode(
    'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n\r\n' + await armored("t") +
      "\r\n--x\r\nContent-Type: image/png\r\n\r\nnot pgp\r\n--x--\r\n",
  );
  const res = await importMessages(
    mail,
    alice,
    await form(
      { a: ok, b: wrongKey, c: noText, d: badAttachment, e: ok, f: ok, g: ok, h: ok },
      {
        a: meta(),
        b: meta(),
        c: meta(),
        d: meta(),
        e: meta({ AddressID: "nope" }),
        f: meta({ LabelIDs: ["0", "3"] }),
        g: meta({ Flags: -1 }),
      },
    ),
  );
  assert.deepEqual(res.map((r) => [r.Name, r.Response.Code]), [
    ["a", 1000],
    ["b", 2001],
    ["c", 2001],
    ["d", 2001],
    ["e", 2001],
    ["f", 2001],
    ["g", 2001],
    ["h", 2001],
  ]);
  const errors = res.slice(1).map((r) => r.Response.Error);
  for (
    const [i, re] of [
      /body is not encrypted to the address key/,
      /no text part/,
      /attachment 1 \(attachment.bin\) is not a PGP message/,
      /unknown AddressID nope/,
      /too many exclusive labels/,
      /Flags must be/,
      /no Metadata/,
    ].entries()
  ) assert.match(errors[i]!, re);
  assert.equal(mail.countMessages(alice, {}), 1);

  const refused = (status: number, re: RegExp) => (e: unknown) =>
    e instanceof ApiServerError && e.status === status && e.code === 2001 && re.test(e.message);
  const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [String(i), ok]));
  await assert.rejects(
    async () => importMessages(mail, alice, await form(eleven, {})),
    refused(422, /at most 10/),
  );
  await assert.rejects(
    async () => importMessages(mail, alice, await form({ "0": ok }, undefined)),
    refused(400, /Metadata must be a JSON object/),
  );
  await assert.rejects(
    async () => importMessages(mail, alice, await form({}, {})),
    refused(422, /no message/),
  );
  const half = new Uint8Array(MAX_IMPORT_SIZE / 2 + 1);
  await assert.rejects(
    async () => importMessages(mail, alice, await form({ "0": half, "1": half }, {})),
    (e) =>
      refused(422, /maximum import size of 30MB/)(e) &&
      "Total" in (e as never as { details: object }).details,
  );
});

Deno.test("import and UsedSpace: imported messages add their Size, in the import's event", async () => {
  const { mail, events } = backend();
  const from = events.latest(alice);
  const res = await importMessages(
    mail,
    alice,
    await form({
      "0": enc.encode("Subject: one\r\n\r\n" + await armored("one")),
      "1": enc.encode("Subject: two\r\n\r\n" + await armored("two ".repeat(100))),
    }, { "0": meta(), "1": meta() }),
  );
  const sizes = res.map((r) => mail.findMessage(alice, r.Response.MessageID!)!.Size);
  assert.equal(mail.usedSpace(alice), sizes[0] + sizes[1]);
  assert.equal(events.next(alice, from).UsedSpace, sizes[0] + sizes[1]);
});
