/**
 * Drafts, attachment upload, send and import over real HTTP: the API client (`src/api`) against
 * the reference server (`src/api_server`), both sides speaking the shapes of proton-api.md §1.6,
 * §1.8–§1.10.
 *
 * - internal send: draft → binary attachment with a non-ASCII name → send to another user of the
 *   server: the recipient's Inbox gets it (decryptable with the recipient's key, attachment too,
 *   signed by the sender), the sender's Sent has it, both feeds carry events; a reply marks the
 *   parent IsReplied;
 * - external send: a Clear recipient (outbox holds the decrypted body and attachment) and a
 *   PGP/MIME recipient whose key was registered through `/ref/v1/keys` (outbox holds ciphertext
 *   that only that key's private half opens);
 * - malformed packages are refused with 422 Code 2001 and leave the draft a draft;
 * - import of 12 messages (10 + 2 requests) with labels and unread state, visible through
 *   metadata paging; an oversize import is refused with `ImportSizeError` (client) and the
 *   API's error (server).
 */
import assert from "node:assert/strict";
import type * as openpgp from "openpgp";
import { type ApiServer, startApiServer } from "../src/api_server/server.ts";
import {
  decryptAttachment,
  decryptMessage,
  decryptSessionKey,
  encryptAttachment,
  encryptMessage,
  encryptMessageBinary,
  fromBase64,
  generateKey,
  readPublicKey,
  toBase64,
  unlockKey,
} from "../src/crypto/mod.ts";
import {
  ApiClient,
  ApiError,
  buildSendPackages,
  collectEvents,
  createDraft,
  createLabel,
  DraftAction,
  encryptDraftBody,
  EncryptionScheme,
  getAttachment,
  getLatestEventID,
  getMessage,
  getMessageMetadataPage,
  getPublicKeys,
  importForm,
  type ImportItem,
  importMessages,
  ImportSizeError,
  login,
  MAX_IMPORT_SIZE,
  type Message,
  MessageFlag,
  type PackageRecipient,
  sendDraft,
  SignatureType,
  unlock,
  type UnlockedAccount,
  updateDraft,
  uploadAttachment,
} from "../src/api/mod.ts";

const PASSWORD = "correct horse battery staple";
const dec = new TextDecoder();

interface Session {
  client: ApiClient;
  account: UnlockedAccount;
  email: string;
  addressID: string;
  key: openpgp.PrivateKey;
  requests: string[];
}

async function withServer(fn: (server: ApiServer) => Promise<void>): Promise<void> {
  const server = await startApiServer({ port: 0, quiet: true });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

async function session(server: ApiServer, email: string): Promise<Session> {
  await server.createUser({ email, password: PASSWORD });
  const requests: string[] = [];
  const client = new ApiClient({
    baseURL: server.url,
    appVersion: "linux-bridge@3.21.1",
    sleep: () => Promise.resolve(),
    random: () => 0,
    onRequest: (e) => requests.push(`${e.method} ${e.path}`),
  });
  await login(client, {
    username: email,
    password: PASSWORD,
    trustedModulusKeys: [server.modulusPublicKey],
  });
  const account = await unlock(client, PASSWORD);
  const address = account.addresses[0];
  return {
    client,
    account,
    email,
    addressID: address.ID,
    key: account.addressKeys.get(address.ID)!.first(),
    requests,
  };
}

async function control(server: ApiServer, method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The first public key the API gives for `email`, and its RecipientType. */
async function recipientKey(s: Session, email: string) {
  const keys = await getPublicKeys(s.client, email);
  return { type: keys.RecipientType, key: await readPublicKey(keys.Keys[0].PublicKey) };
}

const binary = Uint8Array.from({ length: 150_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
const ATTACHMENT_NAME = "Prüfbericht – 2024 ✓ 報告.bin";

async function draftWithAttachment(
  s: Session,
  to: string[],
  opts: { body: string; mimeType: "text/plain" | "text/html"; subject: string } & {
    ParentID?: string;
    Action?: number;
  },
) {
  const draft = await createDraft(s.client, {
    Message: {
      Subject: opts.subject,
      Sender: { Name: "Sender Name", Address: s.email },
      ToList: to.map((a) => ({ Name: "", Address: a })),
      CCList: [],
      BCCList: [],
      Body: await encryptDraftBody(opts.body, s.key),
      MIMEType: opts.mimeType,
      Unread: 0,
    },
    ParentID: opts.ParentID,
    Action: opts.Action,
  });
  const enc = await encryptAttachment(binary, s.key, s.key);
  const att = await uploadAttachment(s.client, {
    MessageID: draft.ID,
    Filename: ATTACHMENT_NAME,
    MIMEType: "application/octet-stream",
    Disposition: "attachment",
    KeyPackets: enc.keyPackets,
    DataPacket: enc.dataPacket,
    Signature: enc.signature,
  });
  const attKey = await decryptSessionKey(fromBase64(att.KeyPackets), [s.key]);
  return { draft, att, attachmentKeys: { [att.ID]: attKey } };
}

Deno.test("send to an internal recipient: Inbox copy decrypts with their key, events, reply flag", async () => {
  await withServer(async (server) => {
    const alice = await session(server, "alice@example.test");
    const bob = await session(server, "bob@example.test");
    const aliceFrom = await getLatestEventID(alice.client);
    const bobFrom = await getLatestEventID(bob.client);

    const { draft, att, attachmentKeys } = await draftWithAttachment(alice, [bob.email], {
      subject: "Über den Fluss ✓",
      body: "<p>Hello Bob ✓</p>",
      mimeType: "text/html",
    });
    assert.deepEqual([...draft.LabelIDs].sort(), ["1", "5", "8"]);
    assert.equal(draft.Flags & (MessageFlag.Received | MessageFlag.Sent), 0);
    assert.equal(att.Name, ATTACHMENT_NAME);
    assert.equal(att.Disposition, "attachment");
    assert.match(att.Signature, /BEGIN PGP SIGNATURE/);
    const stored = await getMessage(alice.client, draft.ID);
    assert.equal(stored.NumAttachments, 1);
    assert.equal(
      dec.decode((await decryptMessage(stored.Body, [alice.key])).data),
      "<p>Hello Bob ✓</p>",
    );

    const bobKey = await recipientKey(alice, bob.email);
    assert.equal(bobKey.type, 1);
    const packages = await buildSendPackages({
      addressKey: alice.key,
      mimeType: "text/html",
      body: "<p>Hello Bob ✓</p>",
      attachmentKeys,
      recipients: [{
        email: bob.email,
        scheme: EncryptionScheme.Internal,
        signature: SignatureType.Detached,
        publicKey: bobKey.key,
      }],
    });
    const sent = await sendDraft(alice.client, draft.ID, { Packages: packages });
    assert.equal(sent.ID, draft.ID);
    assert.deepEqual([...sent.LabelIDs].sort(), ["2", "5", "7"]);
    assert.ok(sent.Flags & MessageFlag.Sent);
    assert.ok(sent.ExternalID);

    // Bob's Inbox.
    const inbox = await getMessageMetadataPage(bob.client, 0, 50, { LabelID: "0" });
    assert.equal(inbox.Total, 1);
    const meta = inbox.Messages[0];
    assert.equal(meta.Subject, "Über den Fluss ✓");
    assert.equal(meta.Unread, 1);
    assert.ok(meta.Flags & MessageFlag.Received);
    assert.equal(meta.ExternalID, sent.ExternalID);
    assert.deepEqual(meta.BCCList, []);
    const got = await getMessage(bob.client, meta.ID);
    assert.equal(got.MIMEType, "text/html");
    const aliceVerify = (await recipientKey(bob, alice.email)).key;
    const body = await decryptMessage(got.Body, [
      ...bob.account.addressKeys.get(bob.addressID)!.keys,
    ], [
      aliceVerify,
    ]);
    assert.equal(dec.decode(body.data), "<p>Hello Bob ✓</p>");
    assert.equal(body.signature, "valid");
    assert.equal(got.Attachments.length, 1);
    assert.equal(got.Attachments[0].Name, ATTACHMENT_NAME);
    const data = await getAttachment(bob.client, got.Attachments[0].ID);
    const plain = await decryptAttachment(fromBase64(got.Attachments[0].KeyPackets), data, [
      bob.key,
    ]);
    assert.deepEqual(plain, binary);
    await assert.rejects(() => decryptMessage(got.Body, [alice.key]));

    // Events on both sides.
    const bobEvents = await collectEvents(bob.client, bobFrom);
    const created = bobEvents.events.flatMap((e) => e.Messages ?? []).filter((m) => m.Action === 1);
    assert.deepEqual(created.map((m) => m.ID), [meta.ID]);
    const aliceEvents = await collectEvents(alice.client, aliceFrom);
    const items = aliceEvents.events.flatMap((e) => e.Messages ?? []);
    assert.deepEqual(items.map((m) => m.Action), [1, 2, 2]); // create, attachment, sent
    assert.deepEqual([...items[2].Message!.LabelIDs].sort(), ["2", "5", "7"]);

    // Bob replies: the parent is marked IsReplied, Alice gets the reply.
    const reply = await createDraft(bob.client, {
      Message: {
        Subject: "Re: Über den Fluss ✓",
        Sender: { Name: "Bob", Address: bob.email },
        ToList: [{ Name: "Alice", Address: alice.email }],
        CCList: [],
        BCCList: [],
        Body: await encryptDraftBody("Thanks!", bob.key),
        MIMEType: "text/plain",
        Unread: 0,
      },
      ParentID: meta.ID,
      Action: DraftAction.Reply,
    });
    assert.equal(reply.ParsedHeaders["In-Reply-To"], `<${sent.ExternalID}>`);
    const replyPackages = await buildSendPackages({
      addressKey: bob.key,
      mimeType: "text/plain",
      body: "Thanks!",
      recipients: [{
        email: alice.email,
        scheme: EncryptionScheme.Internal,
        signature: SignatureType.Detached,
        publicKey: aliceVerify,
      }],
    });
    await sendDraft(bob.client, reply.ID, { Packages: replyPackages });
    const parent = await getMessage(bob.client, meta.ID);
    assert.deepEqual([parent.IsReplied, parent.IsRepliedAll, parent.IsForwarded], [1, 0, 0]);
    const aliceInbox = await getMessageMetadataPage(alice.client, 0, 50, { LabelID: "0" });
    assert.deepEqual(aliceInbox.Messages.map((m) => m.Subject), ["Re: Über den Fluss ✓"]);

    // A sent message is no draft any more.
    await assert.rejects(
      () => sendDraft(alice.client, draft.ID, { Packages: packages }),
      (e) => e instanceof ApiError && e.status === 422 && /not a draft/.test(e.message),
    );
  });
});

Deno.test("send to external recipients: clear → decrypted in the outbox, PGP/MIME → ciphertext", async () => {
  await withServer(async (server) => {
    const alice = await session(server, "alice@example.test");
    const carolKey = await generateKey({
      name: "Carol",
      email: "carol@else.test",
      passphrase: "carol-pass",
    });
    await control(server, "POST", "/ref/v1/keys", {
      Email: "carol@else.test",
      PublicKey: carolKey.publicKey,
    });
    const carolPrivate = await unlockKey(carolKey.privateKey, "carol-pass");

    const { draft, att, attachmentKeys } = await draftWithAttachment(
      alice,
      ["dave@outside.test", "carol@else.test"],
      { subject: "Outside", body: "Hello outside ✓", mimeType: "text/plain" },
    );
    const carol = await recipientKey(alice, "carol@else.test");
    assert.equal(carol.type, 2);
    const daveKeys = await getPublicKeys(alice.client, "dave@outside.test");
    assert.deepEqual([daveKeys.RecipientType, daveKeys.Keys.length], [2, 0]);
    const mimeBody = [
      'Content-Type: multipart/mixed; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Hello outside ✓",
      "--b1",
      'Content-Type: application/octet-stream; name="data.bin"',
      "Content-Transfer-Encoding: base64",
      "",
      toBase64(binary.subarray(0, 300)),
      "--b1--",
      "",
    ].join("\r\n");
    const recipients: PackageRecipient[] = [
      { email: "dave@outside.test", scheme: EncryptionScheme.Clear, signature: 0 },
      {
        email: "carol@else.test",
        scheme: EncryptionScheme.PGPMIME,
        signature: SignatureType.Detached,
        publicKey: carol.key,
      },
    ];
    const packages = await buildSendPackages({
      addressKey: alice.key,
      mimeType: "text/plain",
      body: "Hello outside ✓",
      mimeBody,
      attachmentKeys,
      recipients,
    });
    const sent = await sendDraft(alice.client, draft.ID, { Packages: packages });
    assert.deepEqual([...sent.LabelIDs].sort(), ["2", "5", "7"]);

    const { Outbox } = await control(server, "GET", "/ref/v1/outbox");
    assert.equal(Outbox.length, 2);
    const byRecipient = Object.fromEntries(
      Outbox.map((e: { Recipient: string }) => [e.Recipient, e]),
    );
    const dave = byRecipient["dave@outside.test"];
    assert.deepEqual(
      [dave.Scheme, dave.Signature, dave.MIMEType, dave.Encrypted, dave.Body, dave.Subject],
      [4, 0, "text/plain", 0, "Hello outside ✓", "Outside"],
    );
    assert.equal(dave.SignatureStatus, "valid");
    assert.equal(dave.MessageID, draft.ID);
    assert.equal(dave.Attachments.length, 1);
    assert.equal(dave.Attachments[0].Name, ATTACHMENT_NAME);
    assert.deepEqual(fromBase64(dave.Attachments[0].DataBase64), binary);
    assert.equal(dave.Attachments[0].ID, att.ID);

    const carolEntry = byRecipient["carol@else.test"];
    assert.deepEqual(
      [carolEntry.Scheme, carolEntry.Signature, carolEntry.MIMEType, carolEntry.Encrypted],
      [16, 1, "multipart/mixed", 1],
    );
    assert.equal(carolEntry.Body, undefined);
    assert.deepEqual(carolEntry.Attachments, []);
    const opened = await decryptMessage(carolEntry.Ciphertext, [carolPrivate], [
      (await recipientKey(alice, alice.email)).key,
    ]);
    assert.equal(dec.decode(opened.data), mimeBody);
    assert.equal(opened.signature, "valid");
    await assert.rejects(() => decryptMessage(carolEntry.Ciphertext, [alice.key]));

    assert.deepEqual(await control(server, "DELETE", "/ref/v1/outbox"), { Code: 1000, Removed: 2 });
    assert.deepEqual((await control(server, "GET", "/ref/v1/outbox")).Outbox, []);
  });
});

Deno.test("malformed packages are refused with 422 Code 2001 and the draft stays a draft", async () => {
  await withServer(async (server) => {
    const alice = await session(server, "alice@example.test");
    const bob = await session(server, "bob@example.test");
    const carol = await generateKey({ name: "C", email: "carol@else.test", passphrase: "p" });
    const { draft, attachmentKeys } = await draftWithAttachment(alice, [bob.email], {
      subject: "Bad packages",
      body: "body",
      mimeType: "text/plain",
    });
    const bobKey = (await recipientKey(alice, bob.email)).key;
    const good = async (over: Partial<PackageRecipient> = {}) =>
      await buildSendPackages({
        addressKey: alice.key,
        mimeType: "text/plain",
        body: "body",
        attachmentKeys,
        recipients: [{
          email: bob.email,
          scheme: EncryptionScheme.Internal,
          signature: SignatureType.Detached,
          publicKey: bobKey,
          ...over,
        }],
      });
    const [pkg] = await good();
    const rec = pkg.Addresses[bob.email];
    const [wrongKey] = await good({ publicKey: await readPublicKey(carol.publicKey) });
    const [clearPkg] = await buildSendPackages({
      addressKey: alice.key,
      mimeType: "text/plain",
      body: "body",
      attachmentKeys,
      recipients: [{ email: "x@outside.test", scheme: EncryptionScheme.Clear, signature: 0 }],
    });
    const cases: [unknown, RegExp][] = [
      [{}, /Packages must be a non-empty list/],
      [{ Packages: [] }, /non-empty list/],
      [{ Packages: [{ ...pkg, Body: undefined }] }, /Body must be non-empty standard base64/],
      [{ Packages: [{ ...pkg, Body: "%%%" }] }, /Body must be non-empty standard base64/],
      [{ Packages: [{ ...pkg, Type: 5 }] }, /Type is 5/],
      [{ Packages: [{ ...pkg, MIMEType: "image/png" }] }, /MIMEType/],
      [{ Packages: [{ ...pkg, MIMEType: "multipart/mixed" }] }, /PGPMIME or ClearMIME only/],
      [{ Packages: [{ ...pkg, Addresses: {} }] }, /at least one recipient/],
      [{ Packages: [{ ...pkg, BodyKey: clearPkg.BodyKey }] }, /no recipient needs it/],
      [{ Packages: [{ ...pkg, AttachmentKeys: clearPkg.AttachmentKeys }] }, /no recipient needs/],
      [
        {
          Packages: [{ ...pkg, Addresses: { [bob.email]: { ...rec, BodyKeyPacket: undefined } } }],
        },
        /BodyKeyPacket is required/,
      ],
      [
        {
          Packages: [{
            ...pkg,
            Addresses: { [bob.email]: { ...rec, AttachmentKeyPackets: undefined } },
          }],
        },
        /AttachmentKeyPackets lacks/,
      ],
      [
        { Packages: [{ ...pkg, Addresses: { [bob.email]: { ...rec, Signature: 0 } } }] },
        /must be signed/,
      ],
      [
        { Packages: [{ ...pkg, Addresses: { [bob.email]: { ...rec, Type: 3 } } }] },
        /one encryption scheme/,
      ],
      [{ Packages: [wrongKey] }, /does not open with the recipient's key/],
      [{ Packages: [clearPkg] }, /not a recipient of the draft/],
      [{ Packages: [pkg, pkg] }, /more than one package/],
      [
        {
          Packages: [{
            ...pkg,
            Addresses: { [bob.email]: { ...rec, Type: EncryptionScheme.Clear } },
            Type: 4,
            BodyKey: clearPkg.BodyKey,
            AttachmentKeys: clearPkg.AttachmentKeys,
          }],
        },
        /takes no BodyKeyPacket/,
      ],
    ];
    for (const [body, re] of cases) {
      const res = await alice.client.request("POST", `/mail/v4/messages/${draft.ID}`, {
        body,
        maxRetries: 0,
      }).then(() => undefined, (e) => e);
      assert.ok(res instanceof ApiError, `${re}: expected a refusal`);
      assert.deepEqual([res.status, res.code], [422, 2001], `${re}: ${res.message}`);
      assert.match(res.message, re);
    }
    // Missing a recipient of the draft.
    const withTwo = await updateDraft(alice.client, draft.ID, {
      Message: {
        Subject: "Bad packages",
        Sender: { Name: "", Address: alice.email },
        ToList: [{ Name: "", Address: bob.email }, { Name: "", Address: "y@outside.test" }],
        CCList: [],
        BCCList: [],
        Body: "",
        MIMEType: "text/plain",
        Unread: 0,
      },
    });
    assert.equal(withTwo.ToList.length, 2);
    await assert.rejects(
      () => sendDraft(alice.client, draft.ID, { Packages: [pkg] }),
      (e) => e instanceof ApiError && /no package for recipient y@outside.test/.test(e.message),
    );
    // Untouched: still a draft, nothing delivered.
    const still = await getMessage(alice.client, draft.ID);
    assert.deepEqual([...still.LabelIDs].sort(), ["1", "5", "8"]);
    assert.equal((await getMessageMetadataPage(bob.client, 0, 10, { LabelID: "0" })).Total, 0);
    assert.deepEqual((await control(server, "GET", "/ref/v1/outbox")).Outbox, []);
    // Unknown draft.
    await assert.rejects(
      () => sendDraft(alice.client, "nope", { Packages: [pkg] }),
      (e) => e instanceof ApiError && e.status === 422 && e.code === 2501,
    );
    // Inline attachment without a Content-ID is refused like the fake does.
    const enc = await encryptAttachment(new Uint8Array([1, 2, 3]), alice.key, alice.key);
    await assert.rejects(
      () =>
        uploadAttachment(alice.client, {
          MessageID: draft.ID,
          Filename: "img.png",
          MIMEType: "image/png",
          Disposition: "inline",
          KeyPackets: enc.keyPackets,
          DataPacket: enc.dataPacket,
          Signature: enc.signature,
        }),
      (e) =>
        e instanceof ApiError && e.status === 422 &&
        e.message === "The 'inline' Disposition is only allowed with Content ID",
    );
  });
});

/** A single-part text message whose body is encrypted to `key` (per-part import form). */
async function encryptedLiteral(
  key: openpgp.PrivateKey,
  n: number,
  extra = "",
): Promise<Uint8Array> {
  const armored = await encryptMessage({ data: `Body ${n} ✓`, encryptionKeys: [key] });
  return new TextEncoder().encode(
    `From: Sender ${n} <sender${n}@else.test>\r\nTo: alice@example.test\r\n` +
      `Subject: Imported ${n}\r\nDate: Tue, 05 Mar 2024 10:${
        String(n).padStart(2, "0")
      }:00 +0000\r\n` +
      `Message-ID: <import-${n}@else.test>\r\n${extra}MIME-Version: 1.0\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\n${armored}`,
  );
}

Deno.test("import: 12 messages in 10 + 2 requests, labels and unread visible through paging", async () => {
  await withServer(async (server) => {
    const alice = await session(server, "alice@example.test");
    const work = await createLabel(alice.client, { Name: "Work", Color: "#ff0000", Type: 1 });
    const items: ImportItem[] = [];
    for (let n = 0; n < 12; n++) {
      items.push({
        literal: await encryptedLiteral(alice.key, n),
        metadata: {
          AddressID: alice.addressID,
          LabelIDs: n < 7 ? ["0"] : n < 11 ? ["6", work.ID] : ["0", "10"],
          Unread: n % 3 === 0 ? 1 : 0,
          Flags: MessageFlag.Received,
        },
      });
    }
    // One message with an attachment, per part.
    const attMsg = await encryptMessageBinary({ data: binary, encryptionKeys: [alice.key] });
    const textPart = await encryptMessage({ data: "with attachment", encryptionKeys: [alice.key] });
    items[5].literal = new TextEncoder().encode(
      "From: a@else.test\r\nSubject: Imported 5\r\nMIME-Version: 1.0\r\n" +
        'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n' +
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + textPart + "\r\n--x\r\n" +
        `Content-Type: application/octet-stream; name="${"data.bin"}"\r\n` +
        'Content-Disposition: attachment; filename="data.bin"\r\n' +
        "Content-Transfer-Encoding: base64\r\n\r\n" + toBase64(attMsg) + "\r\n--x--\r\n",
    );
    // One message wrapped whole (multipart/encrypted fallback).
    const whole = await encryptMessage({
      data: "Content-Type: text/plain\r\n\r\nwhole",
      encryptionKeys: [alice.key],
      signingKeys: [alice.key],
    });
    items[6].literal = new TextEncoder().encode(
      "From: b@else.test\r\nSubject: Imported 6\r\nMIME-Version: 1.0\r\n" +
        'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"\r\n' +
        "\r\n--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--e\r\n" +
        'Content-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n' + whole +
        "\r\n--e--\r\n",
    );

    const before = alice.requests.length;
    const results = await importMessages(alice.client, items);
    assert.deepEqual(
      alice.requests.slice(before).filter((r) => r.startsWith("POST /mail/v4/messages/import")),
      ["POST /mail/v4/messages/import", "POST /mail/v4/messages/import"],
    );
    assert.equal(results.length, 12);
    assert.ok(results.every((r) => r.ok), JSON.stringify(results.filter((r) => !r.ok)));

    const inbox = await getMessageMetadataPage(alice.client, 0, 50, { LabelID: "0" });
    assert.equal(inbox.Total, 8);
    const archive = await getMessageMetadataPage(alice.client, 0, 50, { LabelID: "6" });
    assert.equal(archive.Total, 4);
    const labelled = await getMessageMetadataPage(alice.client, 0, 50, { LabelID: work.ID });
    assert.deepEqual(labelled.Messages.map((m) => m.Subject).sort(), [
      "Imported 10",
      "Imported 7",
      "Imported 8",
      "Imported 9",
    ]);
    const starred = await getMessageMetadataPage(alice.client, 0, 50, { LabelID: "10" });
    assert.deepEqual(starred.Messages.map((m) => m.Subject), ["Imported 11"]);
    const all = await getMessageMetadataPage(alice.client, 0, 50, { LabelID: "5" });
    assert.equal(all.Total, 12);
    const byID = new Map(all.Messages.map((m) => [m.ID, m]));
    results.forEach((r, n) => {
      const m = byID.get(r.messageID)!;
      assert.equal(m.Subject, `Imported ${n}`);
      assert.equal(m.Unread, n % 3 === 0 ? 1 : 0);
      assert.ok(m.Flags & MessageFlag.Received);
    });
    const m0 = byID.get(results[0].messageID)!;
    assert.deepEqual([m0.Sender, m0.ExternalID], [
      { Name: "Sender 0", Address: "sender0@else.test" },
      "import-0@else.test",
    ]);
    assert.equal(m0.Time, Date.UTC(2024, 2, 5, 10, 0) / 1000);

    const full0 = await getMessage(alice.client, results[0].messageID);
    assert.equal(full0.MIMEType, "text/plain");
    assert.equal(dec.decode((await decryptMessage(full0.Body, [alice.key])).data), "Body 0 ✓");
    const full5: Message = await getMessage(alice.client, results[5].messageID);
    assert.equal(full5.MIMEType, "text/plain");
    assert.equal(
      dec.decode((await decryptMessage(full5.Body, [alice.key])).data),
      "with attachment",
    );
    assert.equal(full5.Attachments.length, 1);
    assert.equal(full5.Attachments[0].Name, "data.bin");
    const data = await getAttachment(alice.client, full5.Attachments[0].ID);
    assert.deepEqual(
      await decryptAttachment(fromBase64(full5.Attachments[0].KeyPackets), data, [alice.key]),
      binary,
    );
    const full6 = await getMessage(alice.client, results[6].messageID);
    assert.equal(full6.MIMEType, "multipart/mixed");
    assert.equal(
      dec.decode((await decryptMessage(full6.Body, [alice.key])).data),
      "Content-Type: text/plain\r\n\r\nwhole",
    );

    // Per-message refusals do not fail the others.
    const mixed = await importMessages(alice.client, [
      { literal: await encryptedLiteral(alice.key, 20), metadata: { ...items[0].metadata } },
      {
        literal: await encryptedLiteral(alice.key, 21),
        metadata: { ...items[0].metadata, LabelIDs: ["5"] },
      },
      {
        literal: await encryptedLiteral(alice.key, 22),
        metadata: { ...items[0].metadata, LabelIDs: ["0", "6"] },
      },
      {
        literal: new TextEncoder().encode("Subject: plain\r\n\r\nnot encrypted"),
        metadata: { ...items[0].metadata },
      },
    ]);
    assert.deepEqual(mixed.map((r) => [r.ok, r.code]), [
      [true, 1000],
      [false, 2001],
      [false, 2001],
      [false, 2001],
    ]);
    assert.match(mixed[1].error, /invalid label ID: 5/);
    assert.match(mixed[2].error, /too many exclusive labels/);
    assert.match(mixed[3].error, /not an armored PGP message/);
  });
});

Deno.test("import: an oversize message is refused (ImportSizeError; the server's own check)", async () => {
  await withServer(async (server) => {
    const alice = await session(server, "alice@example.test");
    const big: ImportItem = {
      literal: new Uint8Array(MAX_IMPORT_SIZE + 1).fill(0x41),
      metadata: { AddressID: alice.addressID, LabelIDs: ["0"], Unread: 1, Flags: 1 },
    };
    const before = alice.requests.length;
    await assert.rejects(
      () => importMessages(alice.client, [big]),
      (e) => e instanceof ImportSizeError && e.index === 0 && e.size === MAX_IMPORT_SIZE + 1,
    );
    assert.equal(alice.requests.length, before);
    // Past the client's check, the server refuses it with the API's error.
    const { body, contentType } = importForm([big]);
    await assert.rejects(
      () =>
        alice.client.post("/mail/v4/messages/import", body, {
          headers: { "Content-Type": contentType },
          maxRetries: 0,
        }),
      (e) =>
        e instanceof ApiError && e.status === 422 && e.code === 2001 &&
        e.message === "message exceeds maximum import size of 30MB" &&
        (e.details as { Name: string }).Name === "0",
    );
  });
});
