import assert from "node:assert/strict";
import type * as openpgp from "openpgp";
import {
  decryptMessage,
  decryptSessionKey,
  encryptAndSplit,
  encryptAttachment,
  encryptMessage,
  encryptSessionKey,
  fromBase64,
  toBase64,
} from "../crypto/mod.ts";
import { eccKey } from "../crypto/_test_keys.ts";
import { buildSendPackages, type PackageRecipient } from "../api/send_packages.ts";
import { MemoryDb } from "./db.ts";
import type { AccountDirectory } from "./directory.ts";
import { EventLog } from "./event_log.ts";
import { ApiServerError } from "./http.ts";
import { MailBackend } from "./mail_backend.ts";
import { TestDirectory } from "./_mail_test_util.ts";
import { createDraft, uploadAttachment } from "./mail_drafts.ts";
import { sendDraft } from "./mail_send.ts";
import { encodeMultipart } from "../api/multipart.ts";
import { EncryptionScheme as S, MessageFlag, SignatureType as Sig } from "../api/types.ts";

const dir = new TestDirectory();
const alice = await dir.addUser(["alice@example.test"], "Alice");
const bob = await dir.addUser(["bob@example.test"], "Bob");
const aliceAddr = dir.addresses(alice)[0];
const bobAddr = dir.addresses(bob)[0];
const aliceKey = await dir.addressKey(aliceAddr.ID);
const bobKey = await dir.addressKey(bobAddr.ID);
const carol = (await eccKey("carol")).unlocked;
const dec = new TextDecoder();
const data = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);

function backend(directory: AccountDirectory = dir) {
  const db = new MemoryDb();
  const events = new EventLog(db);
  return { mail: new MailBackend(db, directory, events, () => 1_700_000_000), events };
}

const refused = (re: RegExp) => (e: unknown) =>
  e instanceof ApiServerError && e.status === 422 && e.code === 2001 && re.test(e.message);

/** A draft from Alice to `to` (+ `bcc`) with one attachment; returns IDs and session keys. */
async function draft(
  mail: MailBackend,
  to: string[],
  opts: { bcc?: string[]; parentID?: string; action?: number; body?: string } = {},
) {
  const m = await createDraft(mail, alice, {
    Message: {
      Subject: "Subject ✓",
      Sender: { Name: "Alice", Address: "alice@example.test" },
      ToList: to.map((a) => ({ Name: "", Address: a })),
      CCList: [],
      BCCList: (opts.bcc ?? []).map((a) => ({ Name: "", Address: a })),
      Body: await encryptMessage({ data: opts.body ?? "hello", encryptionKeys: [aliceKey] }),
      MIMEType: "text/plain",
      Unread: 0,
    },
    ParentID: opts.parentID,
    Action: opts.action,
  });
  const enc = await encryptAttachment(data, aliceKey, aliceKey);
  const { body, contentType } = encodeMultipart([
    { name: "MessageID", value: m.ID },
    { name: "Filename", value: "file.bin" },
    { name: "MIMEType", value: "application/octet-stream" },
    { name: "Disposition", value: "attachment" },
    ...(["KeyPackets", "DataPacket", "Signature"] as const).map((name) => ({
      name,
      filename: "blob",
      contentType: "application/octet-stream",
      data: name === "KeyPackets"
        ? enc.keyPackets
        : name === "DataPacket"
        ? enc.dataPacket
        : enc.signature,
    })),
  ]);
  const form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  const att = await uploadAttachment(mail, alice, form);
  const attKey = await decryptSessionKey(fromBase64(att.KeyPackets), [aliceKey]);
  return { id: m.ID, attID: att.ID, attachmentKeys: { [att.ID]: attKey } };
}

function packages(
  attachmentKeys: Record<string, { data: Uint8Array; algorithm: string }>,
  recipients: PackageRecipient[],
  body = "hello",
) {
  return buildSendPackages({
    addressKey: aliceKey,
    mimeType: "text/plain",
    body,
    mimeBody: "Content-Type: text/plain\r\n\r\nmime hello",
    attachmentKeys,
    recipients,
  });
}

const internal = (email: string, key: openpgp.PrivateKey): PackageRecipient => ({
  email,
  scheme: S.Internal,
  signature: Sig.Detached,
  publicKey: key.toPublic(),
});

Deno.test("sendDraft: PGPInline, ClearMIME and clear-signed recipients in the outbox", async () => {
  const { mail } = backend();
  const d = await draft(mail, ["inline@else.test", "cmime@else.test", "signed@else.test"]);
  const sent = await sendDraft(mail, alice, d.id, {
    Packages: await packages(d.attachmentKeys, [
      { email: "inline@else.test", scheme: S.PGPInline, signature: Sig.Detached, publicKey: carol },
      { email: "cmime@else.test", scheme: S.ClearMIME, signature: Sig.Detached },
      {
        email: "signed@else.test",
        scheme: S.Clear,
        signature: Sig.Detached,
        mimeType: "text/plain",
      },
    ]),
  });
  assert.ok(sent.Flags & MessageFlag.Sent);
  assert.equal(sent.Flags & MessageFlag.Internal, 0);
  const out = Object.fromEntries(mail.outbox.list().map((e) => [e.Recipient, e]));
  const inline = out["inline@else.test"];
  assert.deepEqual([inline.Scheme, inline.Encrypted, inline.MIMEType], [8, 1, "text/plain"]);
  const opened = await decryptMessage(inline.Ciphertext!, [carol], [aliceKey.toPublic()]);
  assert.deepEqual([dec.decode(opened.data), opened.signature], ["hello", "valid"]);
  assert.equal(inline.Attachments.length, 1);
  assert.equal(inline.Attachments[0].DataBase64, undefined);
  assert.deepEqual((await decryptMessage(inline.Attachments[0].Ciphertext!, [carol])).data, data);
  const cmime = out["cmime@else.test"];
  assert.deepEqual([cmime.Scheme, cmime.Encrypted, cmime.MIMEType, cmime.Body], [
    32,
    0,
    "multipart/mixed",
    "Content-Type: text/plain\r\n\r\nmime hello",
  ]);
  assert.deepEqual(cmime.Attachments, []);
  const signed = out["signed@else.test"];
  assert.deepEqual([signed.Scheme, signed.Signature, signed.Body, signed.SignatureStatus], [
    4,
    1,
    "hello",
    "valid",
  ]);
  assert.deepEqual(fromBase64(signed.Attachments[0].DataBase64!), data);
  assert.deepEqual([signed.From, signed.Subject, signed.MessageID], [
    { Name: "Alice", Address: "alice@example.test" },
    "Subject ✓",
    d.id,
  ]);
  assert.deepEqual(new Set(mail.outbox.list().map((e) => e.ExternalID)).size, 1);
  assert.equal(mail.outbox.clear(), 3);
});

Deno.test("sendDraft: Bcc recipients get it without seeing Bcc; parent flags; one sender event", async () => {
  const { mail, events } = backend();
  for (
    const [action, flag] of [[0, "IsReplied"], [1, "IsRepliedAll"], [2, "IsForwarded"]] as const
  ) {
    const parent = await mail.deliver(alice, {
      From: { Name: "Bob", Address: "bob@example.test" },
      Subject: "Parent",
      Text: "?",
    });
    const d = await draft(mail, ["bob@example.test"], {
      bcc: ["alice@example.test"],
      parentID: parent,
      action,
    });
    const from = events.latest(alice);
    await sendDraft(mail, alice, d.id, {
      Packages: await packages(d.attachmentKeys, [
        internal("bob@example.test", bobKey),
        internal("alice@example.test", aliceKey),
      ]),
    });
    const p = mail.getMessage(alice, parent);
    assert.equal(p[flag], 1, flag);
    const ev = events.next(alice, from);
    // Alice's own Bcc copy (Create), then the sent draft (Update) and the parent (UpdateFlags).
    const items = ev.Messages!.map((i) => [i.Action, i.ID === parent, i.ID === d.id]);
    assert.deepEqual(items, [[1, false, false], [2, false, true], [3, true, false]]);
  }
  const bobCopies = mail.queryMessages(bob, { LabelID: ["0"] }).Messages;
  assert.equal(bobCopies.length, 3);
  for (const c of bobCopies) {
    assert.deepEqual(c.BCCList, []);
    assert.ok(c.Flags & MessageFlag.Internal);
    const full = mail.getMessage(bob, c.ID);
    assert.equal(full.ParsedHeaders["Bcc"], undefined);
    // The parent's Message-ID (delivered mail always has one).
    assert.match(String(full.ParsedHeaders["In-Reply-To"]), /^<[\w-]+@example\.test>$/);
  }
});

Deno.test("sendDraft: refusals that need crypto or accounts", async () => {
  const { mail } = backend();
  const d = await draft(mail, ["bob@example.test", "ext@else.test"]);
  const good = await packages(d.attachmentKeys, [
    internal("bob@example.test", bobKey),
    { email: "ext@else.test", scheme: S.Clear, signature: 0 },
  ]);
  // A body that is not signed by the sender.
  const unsigned = await encryptAndSplit("hello", aliceKey);
  const sk = unsigned.sessionKey;
  const [bobPkg, clearPkg] = [good.find((p) => p.Addresses["bob@example.test"])!, good[0]];
  assert.equal(bobPkg, clearPkg); // both are text/plain: one package
  const rec = bobPkg.Addresses["bob@example.test"];
  const cases: [unknown, RegExp][] = [
    [
      {
        Packages: [{
          ...bobPkg,
          Body: toBase64(unsigned.dataPacket),
          BodyKey: { Key: toBase64(sk.data), Algorithm: sk.algorithm },
          Addresses: {
            ...bobPkg.Addresses,
            "bob@example.test": {
              ...rec,
              BodyKeyPacket: toBase64(await encryptSessionKey(sk, bobKey)),
            },
          },
        }],
      },
      /not signed by the sender/,
    ],
    [
      {
        Packages: [{
          ...bobPkg,
          BodyKey: { Key: toBase64(new Uint8Array(32)), Algorithm: "aes256" },
        }],
      },
      /BodyKey: the data does not decrypt/,
    ],
    [
      { Packages: [{ ...bobPkg, BodyKey: { Key: "AAAA", Algorithm: "aes256" } }] },
      /aes256 key has 32 bytes/,
    ],
    [
      { Packages: [{ ...bobPkg, BodyKey: { Key: "AAAA", Algorithm: "idea" } }] },
      /unsupported Algorithm/,
    ],
  ];
  for (const [body, re] of cases) {
    await assert.rejects(() => sendDraft(mail, alice, d.id, body as never), refused(re), re.source);
  }

  // Internal to an address not on this server; Clear to one that is.
  const d2 = await draft(mail, ["nobody@example.test"]);
  await assert.rejects(
    async () =>
      sendDraft(mail, alice, d2.id, {
        Packages: await packages(d2.attachmentKeys, [internal("nobody@example.test", bobKey)]),
      }),
    refused(/not an address of this server/),
  );
  const d3 = await draft(mail, ["bob@example.test"]);
  await assert.rejects(
    async () =>
      sendDraft(mail, alice, d3.id, {
        Packages: await packages(d3.attachmentKeys, [
          { email: "bob@example.test", scheme: S.Clear, signature: 0 },
        ]),
      }),
    refused(/address of this server, use Internal/),
  );
  assert.equal(mail.outbox.list().length, 0);
  assert.equal(mail.queryMessages(bob, {}).Messages.length, 0);

  // A disabled sender address.
  const disabled: AccountDirectory = {
    userIDs: () => dir.userIDs(),
    addresses: (u) => dir.addresses(u).map((a) => ({ ...a, Status: 0 })),
    findAddress: (e) => dir.findAddress(e),
    addressKey: (id) => dir.addressKey(id),
    addressPublicKeys: (id) => dir.addressPublicKeys(id),
  };
  const off = backend(disabled).mail;
  const d4 = await draft(off, ["bob@example.test"]);
  await assert.rejects(
    async () =>
      sendDraft(off, alice, d4.id, {
        Packages: await packages(d4.attachmentKeys, [internal("bob@example.test", bobKey)]),
      }),
    refused(/cannot send from address alice@example.test/),
  );
});

Deno.test("sendDraft and UsedSpace: the recipient's copy counts for the recipient, the sent draft stays counted", async () => {
  const { mail, events } = backend();
  const d = await draft(mail, ["bob@example.test"]);
  const draftSize = mail.findMessage(alice, d.id)!.Size;
  assert.equal(mail.usedSpace(alice), draftSize);
  assert.equal(mail.usedSpace(bob), 0);
  const fromAlice = events.latest(alice);
  const fromBob = events.latest(bob);
  await sendDraft(mail, alice, d.id, {
    Packages: await packages(d.attachmentKeys, [internal("bob@example.test", bobKey)]),
  });
  assert.equal(mail.usedSpace(alice), draftSize);
  assert.equal(events.next(alice, fromAlice).UsedSpace, undefined);
  const [copy] = mail.queryMessages(bob, {}).Messages;
  assert.ok(copy.Size > data.length, "the copy's Size includes its attachment");
  assert.equal(mail.usedSpace(bob), copy.Size);
  assert.equal(events.next(bob, fromBob).UsedSpace, copy.Size);
});
