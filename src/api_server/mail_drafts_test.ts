import assert from "node:assert/strict";
import {
  decryptMessage,
  encryptAttachment,
  encryptMessage,
  verifyDetached,
} from "../crypto/mod.ts";
import { eccKey } from "../crypto/_test_keys.ts";
import { encodeMultipart } from "../api/multipart.ts";
import { MemoryDb } from "./db.ts";
import { EventLog } from "./event_log.ts";
import { ApiServerError } from "./http.ts";
import { MailBackend } from "./mail_backend.ts";
import { TestDirectory } from "./_mail_test_util.ts";
import { createDraft, updateDraft, uploadAttachment } from "./mail_drafts.ts";
import { MessageFlag } from "../api/types.ts";

const dir = new TestDirectory();
const alice = await dir.addUser(["alice@example.test", "alias@example.test"], "Alice");
const aliceAddr = dir.addresses(alice)[0];
const aliasAddr = dir.addresses(alice)[1];
const aliceKey = await dir.addressKey(aliceAddr.ID);
const aliasKey = await dir.addressKey(aliasAddr.ID);

function backend() {
  const db = new MemoryDb();
  const events = new EventLog(db);
  return { mail: new MailBackend(db, dir, events, () => 1_700_000_000), events };
}

const refused = (code: number, re: RegExp) => (e: unknown) =>
  e instanceof ApiServerError && e.status === 422 && e.code === code && re.test(e.message);

async function template(over: Record<string, unknown> = {}) {
  return {
    Subject: "Hello",
    Sender: { Name: "", Address: "alice@example.test" },
    ToList: [{ Name: "Bob", Address: "bob@else.test" }],
    CCList: [],
    BCCList: [{ Name: "", Address: "hidden@else.test" }],
    Body: await encryptMessage({ data: "draft body", encryptionKeys: [aliceKey] }),
    MIMEType: "text/plain",
    Unread: 0,
    ...over,
  };
}

Deno.test("createDraft: stored in Drafts with draft flags, header, Create event", async () => {
  const { mail, events } = backend();
  const from = events.latest(alice);
  const m = await createDraft(mail, alice, {
    Message: await template({ ExternalID: "draft-1@example.test" }),
    AttachmentKeyPackets: null,
    Action: 0,
  });
  assert.deepEqual([...m.LabelIDs].sort(), ["1", "5", "8"]);
  assert.equal(m.Flags & (MessageFlag.Received | MessageFlag.Sent), 0);
  assert.equal(m.AddressID, aliceAddr.ID);
  assert.deepEqual(m.Sender, { Name: "Alice", Address: "alice@example.test" });
  assert.equal(m.MIMEType, "text/plain");
  assert.equal(m.Time, 1_700_000_000);
  assert.equal(m.ParsedHeaders["Message-ID"], "<draft-1@example.test>");
  assert.equal(m.ParsedHeaders["Bcc"], "hidden@else.test");
  assert.equal(
    new TextDecoder().decode((await decryptMessage(m.Body, [aliceKey])).data),
    "draft body",
  );
  const ev = events.next(alice, from);
  assert.deepEqual(ev.Messages?.map((i) => [i.ID, i.Action]), [[m.ID, 1]]);
});

Deno.test("createDraft: the +tag and alias resolve their address; refusals", async () => {
  const { mail } = backend();
  const tagged = await createDraft(mail, alice, {
    Message: await template({ Sender: { Name: "A", Address: "alice+news@example.test" } }),
  });
  assert.equal(tagged.AddressID, aliceAddr.ID);
  assert.equal(tagged.Sender.Address, "alice+news@example.test");
  const alias = await createDraft(mail, alice, {
    Message: await template({
      Sender: { Name: "", Address: "ALIAS@example.test" },
      Body: await encryptMessage({ data: "x", encryptionKeys: [aliasKey] }),
    }),
  });
  assert.equal(alias.AddressID, aliasAddr.ID);

  const other = await eccKey("stranger");
  const cases: [Record<string, unknown>, number, RegExp][] = [
    [{}, 2001, /Message is required/],
    [{ Message: await template({ Sender: null }) }, 2001, /Sender is required/],
    [{ Message: await template({ Sender: { Address: "eve@else.test" } }) }, 2001, /not an address/],
    [{ Message: await template({ Body: "" }) }, 2001, /Body is required/],
    [{ Message: await template({ Body: "hello" }) }, 2001, /armored PGP message/],
    [
      {
        Message: await template({
          Body: await encryptMessage({ data: "x", encryptionKeys: [other.unlocked] }),
        }),
      },
      2001,
      /not encrypted to the sender address' key/,
    ],
    [
      {
        Message: await template({
          Body: await encryptMessage({ data: "x", encryptionKeys: [aliasKey] }),
        }),
      },
      2001,
      /not encrypted to the sender address' key/,
    ],
    [
      { Message: await template({ MIMEType: "multipart/mixed" }) },
      2001,
      /text\/plain or text\/html/,
    ],
    [{ Message: await template({ ToList: "bob" }) }, 2001, /ToList must be a list/],
    [{ Message: await template({ ToList: [{ Name: "x" }] }) }, 2001, /ToList needs an Address/],
    [{ Message: await template(), AttachmentKeyPackets: [1] }, 2001, /AttachmentKeyPackets/],
    [{ Message: await template(), ParentID: "nope" }, 2501, /Parent message does not exist/],
    [{ Message: await template(), Action: 9 }, 2001, /invalid Action/],
  ];
  for (const [body, code, re] of cases) {
    await assert.rejects(() => createDraft(mail, alice, body), refused(code, re), re.source);
  }
});

Deno.test("updateDraft: replaces fields, keeps the body when empty, refuses non-drafts", async () => {
  const { mail } = backend();
  const parent = await mail.deliver(alice, {
    From: { Name: "Bob", Address: "bob@else.test" },
    Subject: "Question",
    Text: "?",
    ExternalID: "question@else.test",
  });
  const d = await createDraft(mail, alice, {
    Message: await template(),
    ParentID: parent,
    Action: 1,
  });
  assert.equal(d.ParsedHeaders["In-Reply-To"], "<question@else.test>");
  const u = await updateDraft(mail, alice, d.ID, {
    Message: await template({
      Subject: "Changed",
      Body: "",
      ToList: [{ Name: "", Address: "carol@else.test" }],
      MIMEType: "text/html",
    }),
  });
  assert.deepEqual([u.ID, u.Subject, u.MIMEType, u.ToList[0].Address], [
    d.ID,
    "Changed",
    "text/html",
    "carol@else.test",
  ]);
  assert.equal(u.Body, d.Body);
  assert.equal(u.ParsedHeaders["In-Reply-To"], "<question@else.test>");
  const newBody = await encryptMessage({ data: "new", encryptionKeys: [aliceKey] });
  const u2 = await updateDraft(mail, alice, d.ID, { Message: await template({ Body: newBody }) });
  assert.equal(u2.Body, newBody);
  assert.equal(u2.Size, newBody.length);
  await assert.rejects(
    () => updateDraft(mail, alice, parent, { Message: {} }),
    refused(2001, /not a draft/),
  );
  await assert.rejects(
    () => updateDraft(mail, alice, "nope", { Message: {} }),
    refused(2501, /does not exist/),
  );
});

async function form(fields: Record<string, string>, files: Record<string, Uint8Array>) {
  const { body, contentType } = encodeMultipart([
    ...Object.entries(fields).map(([name, value]) => ({ name, value })),
    ...Object.entries(files).map(([name, data]) => ({
      name,
      filename: "blob",
      contentType: "application/octet-stream",
      data,
    })),
  ]);
  return await new Response(body, { headers: { "content-type": contentType } }).formData();
}

Deno.test("uploadAttachment: stores key packets, data packet, armored signature; refusals", async () => {
  const { mail } = backend();
  const d = await createDraft(mail, alice, { Message: await template() });
  const data = crypto.getRandomValues(new Uint8Array(4096));
  const enc = await encryptAttachment(data, aliceKey, aliceKey);
  const files = {
    KeyPackets: enc.keyPackets,
    DataPacket: enc.dataPacket,
    Signature: enc.signature,
  };
  const att = await uploadAttachment(
    mail,
    alice,
    await form({
      MessageID: d.ID,
      Filename: "Ünïcödé.png",
      MIMEType: "image/png",
      Disposition: "inline",
      ContentID: "<img-1@x>",
    }, files),
  );
  assert.deepEqual([att.Name, att.MIMEType, att.Disposition], [
    "Ünïcödé.png",
    "image/png",
    "inline",
  ]);
  assert.equal(att.Headers["content-id"], "<img-1@x>");
  assert.ok(await verifyDetached(data, att.Signature, [aliceKey.toPublic()]));
  assert.deepEqual(mail.attachmentData(alice, att.ID), enc.dataPacket);
  const msg = mail.getMessage(alice, d.ID);
  assert.deepEqual(msg.Attachments.map((a) => a.ID), [att.ID]);
  assert.equal(msg.NumAttachments, 1);

  const other = await eccKey("stranger");
  const foreign = await encryptAttachment(data, other.unlocked, other.unlocked);
  const otherData = await encryptAttachment(new Uint8Array([1]), aliceKey, aliceKey);
  const base = { MessageID: d.ID, Filename: "f.bin", MIMEType: "application/octet-stream" };
  const cases: [Record<string, string>, Record<string, Uint8Array>, number, RegExp][] = [
    [{ ...base, MessageID: "" }, files, 2001, /MessageID is required/],
    [{ ...base, MessageID: "nope" }, files, 2501, /does not exist/],
    [{ ...base, Filename: "" }, files, 2001, /Filename is required/],
    [{ ...base, Disposition: "weird" }, files, 2001, /only allows 'attachment', or 'inline'/],
    [{ ...base, Disposition: "inline" }, files, 2001, /only allowed with Content ID/],
    [base, { ...files, KeyPackets: new Uint8Array() }, 2001, /KeyPackets is required/],
    [base, { ...files, DataPacket: new Uint8Array([1, 2, 3]) }, 2001, /DataPacket is not OpenPGP/],
    [base, { ...files, KeyPackets: enc.dataPacket }, 2001, /KeyPackets does not hold/],
    [base, { ...files, KeyPackets: foreign.keyPackets }, 2001, /do not open with/],
    [base, { ...files, DataPacket: otherData.dataPacket }, 2001, /does not decrypt/],
    [base, { ...files, Signature: new Uint8Array([1, 2]) }, 2001, /not an OpenPGP signature/],
  ];
  for (const [fields, parts, code, re] of cases) {
    await assert.rejects(
      async () => uploadAttachment(mail, alice, await form(fields, parts)),
      refused(code, re),
      re.source,
    );
  }
  // No signature at all is accepted (stored empty).
  const { Signature: _s, ...noSig } = files;
  const plain = await uploadAttachment(mail, alice, await form(base, noSig));
  assert.equal(plain.Signature, "");
  assert.equal(plain.Disposition, "attachment");
});

Deno.test("drafts and UsedSpace: creation adds the Size, a body update the difference, an upload its data packet", async () => {
  const { mail, events } = backend();
  let cursor = events.latest(alice);
  const d = await createDraft(mail, alice, { Message: await template() });
  assert.equal(mail.usedSpace(alice), d.Size);
  let ev = events.next(alice, cursor);
  assert.equal(ev.UsedSpace, d.Size);
  cursor = ev.EventID;

  const longer = await encryptMessage({ data: "x".repeat(3000), encryptionKeys: [aliceKey] });
  const u = await updateDraft(mail, alice, d.ID, { Message: await template({ Body: longer }) });
  assert.equal(u.Size, longer.length);
  assert.equal(mail.usedSpace(alice), longer.length);
  ev = events.next(alice, cursor);
  assert.equal(ev.UsedSpace, longer.length);
  cursor = ev.EventID;

  // An update that keeps the body keeps the size: its event does not carry UsedSpace.
  await updateDraft(mail, alice, d.ID, { Message: await template({ Subject: "S", Body: "" }) });
  ev = events.next(alice, cursor);
  assert.equal(ev.Messages?.length, 1);
  assert.equal(ev.UsedSpace, undefined);
  cursor = ev.EventID;

  const enc = await encryptAttachment(new Uint8Array(2048), aliceKey, aliceKey);
  await uploadAttachment(
    mail,
    alice,
    await form({ MessageID: d.ID, Filename: "f.bin", MIMEType: "application/octet-stream" }, {
      KeyPackets: enc.keyPackets,
      DataPacket: enc.dataPacket,
      Signature: enc.signature,
    }),
  );
  const total = longer.length + enc.dataPacket.length;
  assert.equal(mail.getMessage(alice, d.ID).Size, total);
  assert.equal(mail.usedSpace(alice), total);
  assert.equal(events.next(alice, cursor).UsedSpace, total);
});
