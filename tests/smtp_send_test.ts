/**
 * The SMTP send pipeline end to end: python3 `smtplib` (and curl) submit over real sockets to
 * `startSmtpServer` with {@link createSubmissionHandler}, backed by the reference API server; the
 * assertions look at what left the server (its outbox of external deliveries, `/ref/v1/outbox`)
 * and what arrived in the other user's Inbox (read and decrypted through the API with that user's
 * keys).
 *
 * Users: alice@example.test (sender; an alias added after login, a disabled address) and
 * bob@example.test (internal recipient). Outside recipients: carol@outside.test (no key),
 * erin@wkd.test (a key registered through `/ref/v1/keys`, as WKD would give).
 */
import assert from "node:assert/strict";
import type * as openpgp from "openpgp";
import { type ApiServer, startApiServer } from "../src/api_server/server.ts";
import type { OutboxEntry } from "../src/api_server/outbox.ts";
import {
  ApiClient,
  createDraft,
  encryptDraftBody,
  getAddresses,
  getAttachment,
  getMessage,
  getMessageMetadataPage,
  login,
  type Message,
  MessageFlag,
  unlock,
  type UnlockedAccount,
} from "../src/api/mod.ts";
import {
  decryptAttachment,
  decryptMessage,
  fromBase64,
  generateKey,
  signDetached,
  unlockKey,
  verifyDetached,
} from "../src/crypto/mod.ts";
import { parseMessage } from "../src/mime/mod.ts";
import { type SmtpServer, startSmtpServer } from "../src/smtp/mod.ts";
import { createSubmissionHandler } from "../src/smtp/send_pipeline.ts";
import { type SendingAccount, sendingAccount } from "../src/smtp/sending_account.ts";
import { SendRecorder } from "../src/connector/send_recorder.ts";

const PASSWORD = "correct horse battery staple";
/** How long the harness's pipeline puts off the retry of an unconfirmed send still a draft. */
const UNCONFIRMED_GRACE_MS = 1_500;
const BRIDGE_PASS = "bridge-pass-123";
const ALICE = "alice@example.test";
const BOB = "bob@example.test";
const dec = new TextDecoder();

interface User {
  client: ApiClient;
  unlocked: UnlockedAccount;
  email: string;
}

interface Harness {
  api: ApiServer;
  smtp: SmtpServer;
  alice: User;
  bob: User;
  recorder: SendRecorder;
  logs: string[];
  dir: string;
  /** Runs a python3 script after the prelude; returns its last stdout line as JSON. */
  py(script: string, user?: string): Promise<Record<string, unknown>>;
  control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Outbox entries of one sent message. */
  outbox(messageID: string): Promise<OutboxEntry[]>;
}

async function signIn(api: ApiServer, email: string): Promise<User> {
  const client = new ApiClient({
    baseURL: api.url,
    appVersion: "linux-bridge@3.21.1",
    sleep: () => Promise.resolve(),
  });
  await login(client, {
    username: email,
    password: PASSWORD,
    trustedModulusKeys: [api.modulusPublicKey],
  });
  return { client, unlocked: await unlock(client, PASSWORD), email };
}

const PY_PRELUDE = String.raw`
import base64, json, smtplib, sys
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email import encoders, policy
from email.utils import make_msgid
PORT = int(sys.argv[1])
USER = sys.argv[2]
PASS = sys.argv[3]

def submit(raw, mail_from, rcpts, user=None):
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, bytes):
        raw = raw.as_bytes(policy=policy.SMTP)
    s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test", timeout=60)
    s.ehlo()
    s.login(user or USER, PASS)
    opts = ["BODY=8BITMIME"] if any(b > 127 for b in raw) else []
    code, resp = s.mail(mail_from, opts)
    for r in rcpts:
        c, rr = s.rcpt(r)
        if c != 250:
            s.quit()
            return {"code": c, "reply": rr.decode()}
    try:
        code, resp = s.data(raw)
    except smtplib.SMTPDataError as e:
        code, resp = e.smtp_code, e.smtp_error
    noop = s.noop()[0]
    s.quit()
    return {"code": code, "reply": resp.decode(), "noop": noop}

def out(x):
    print(json.dumps(x))
`;

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "smtp_send_test_" });
  const api = await startApiServer({ port: 0, quiet: true });
  let smtp: SmtpServer | undefined;
  try {
    await api.createUser({
      email: ALICE,
      password: PASSWORD,
      extraAddresses: ["old@example.test"],
    });
    await api.createUser({ email: BOB, password: PASSWORD });
    const alice = await signIn(api, ALICE);
    const bob = await signIn(api, BOB);
    const logs: string[] = [];
    const recorder = new SendRecorder({ onDuplicate: () => {} });
    const account = sendingAccount(alice.client, alice.unlocked, { username: ALICE });
    const addresses = new Set(alice.unlocked.addresses.map((a) => a.Email.toLowerCase()));
    smtp = await startSmtpServer<SendingAccount>({
      authenticator: {
        async authenticate(username, password) {
          if (password !== BRIDGE_PASS) return null;
          const current = await account.addresses();
          const known = addresses.has(username.toLowerCase()) ||
            current.some((a) => a.Email.toLowerCase() === username.toLowerCase());
          return known ? { ...account, username } : null;
        },
      },
      submission: createSubmissionHandler({
        recorder,
        log: (l) => logs.push(l),
        unconfirmedGraceMs: UNCONFIRMED_GRACE_MS,
      }),
      security: "none",
      limits: { authFailureDelayMs: 10 },
      log: (l) => logs.push(l),
    });
    const port = smtp.port;
    const control = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(api.url + path, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const h: Harness = {
      api,
      smtp,
      alice,
      bob,
      recorder,
      logs,
      dir,
      control,
      async py(script, user = ALICE) {
        const file = `${dir}/client_${crypto.randomUUID()}.py`;
        await Deno.writeTextFile(file, PY_PRELUDE + script);
        const out = await new Deno.Command("python3", {
          args: [file, String(port), user, BRIDGE_PASS],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stdout = dec.decode(out.stdout).trim();
        if (!out.success) {
          throw new Error(`python failed:\n${dec.decode(out.stderr)}\n${stdout}`);
        }
        return JSON.parse(stdout.split("\n").at(-1)!);
      },
      async outbox(messageID) {
        const all = (await control("GET", "/ref/v1/outbox")).Outbox as OutboxEntry[];
        return all.filter((e) => e.MessageID === messageID);
      },
    };
    await fn(h);
  } finally {
    await smtp?.close();
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The sent message ID from a `250 2.0.0 OK <id>` reply. */
function sentID(r: Record<string, unknown>): string {
  assert.equal(r.code, 250, JSON.stringify(r));
  const m = /OK (\S+)/.exec(String(r.reply));
  assert.ok(m, `no ID in ${r.reply}`);
  return m[1];
}

/** The newest Inbox message of `user` whose subject is `subject`, fetched in full. */
async function inboxMessage(user: User, subject: string): Promise<Message> {
  const page = await getMessageMetadataPage(user.client, 0, 50, { LabelID: "0", Desc: 1 });
  const meta = page.Messages.find((m) => m.Subject === subject);
  assert.ok(meta, `no "${subject}" in ${user.email}'s Inbox`);
  return await getMessage(user.client, meta.ID);
}

function addressKeys(user: User, addressID: string): openpgp.PrivateKey[] {
  return [...user.unlocked.addressKeys.get(addressID)!.keys];
}

async function decryptBody(user: User, m: Message): Promise<{ text: string; signature: string }> {
  const out = await decryptMessage(m.Body, addressKeys(user, m.AddressID));
  return { text: dec.decode(out.data), signature: out.signature };
}

Deno.test("smtp send: plain text to an internal and an outside recipient", async () => {
  await withHarness(async (h) => {
    const r = await h.py(String.raw`
m = EmailMessage()
m["From"] = "Alice Example <alice@example.test>"
m["To"] = "Bob <bob@example.test>, carol@outside.test"
m["Subject"] = "Plain hello ✓"
m["Message-ID"] = "<plain-1@client.test>"
m.set_content("Hello Bob and Carol,\nthis is plain text: grüße ✓\n")
out(submit(m, "alice@example.test", ["bob@example.test", "carol@outside.test"]))
`);
    const id = sentID(r);
    assert.equal(r.noop, 250, "the session continues");
    // Outside: a Clear text/plain delivery with the decrypted body.
    const [carol, ...rest] = await h.outbox(id);
    assert.equal(rest.length, 0);
    assert.equal(carol.Recipient, "carol@outside.test");
    assert.equal(carol.Scheme, 4);
    assert.equal(carol.Signature, 0);
    assert.equal(carol.MIMEType, "text/plain");
    assert.equal(carol.Encrypted, 0);
    assert.match(carol.Body!, /Hello Bob and Carol,\r?\nthis is plain text: grüße ✓/);
    assert.equal(carol.Subject, "Plain hello ✓");
    assert.equal(carol.From.Address, ALICE);
    assert.equal(carol.From.Name, "Alice Example");
    assert.equal(carol.ExternalID, "plain-1@client.test");
    assert.deepEqual(carol.ToList.map((a) => a.Address), [BOB, "carol@outside.test"]);
    // Internal: in Bob's Inbox, decryptable with Bob's key, signed by Alice.
    const got = await inboxMessage(h.bob, "Plain hello ✓");
    assert.equal(got.MIMEType, "text/plain");
    assert.equal(got.Sender.Address, ALICE);
    const body = await decryptBody(h.bob, got);
    assert.match(body.text, /this is plain text: grüße ✓/);
    // The sender's copy is in Sent with the same ID.
    const sent = await getMessage(h.alice.client, id);
    assert.ok(sent.LabelIDs.includes("7"), "in Sent");
    assert.ok(sent.Flags & MessageFlag.Sent);
  });
});

const BINARY = Uint8Array.from({ length: 150_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
const ATTACHMENT_NAME = "Prüfbericht – 2024 ✓ 報告.bin";
// A 1×1 PNG.
const PNG = fromBase64(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
);

Deno.test("smtp send: HTML, multipart/alternative, binary attachment with a non-ASCII name, inline image", async () => {
  await withHarness(async (h) => {
    await Deno.writeFile(`${h.dir}/blob.bin`, BINARY);
    await Deno.writeFile(`${h.dir}/logo.png`, PNG);
    // HTML only.
    const html = sentID(
      await h.py(String.raw`
m = EmailMessage()
m["From"] = "alice@example.test"
m["To"] = "carol@outside.test, bob@example.test"
m["Subject"] = "HTML only"
m.set_content("<html><body><p>Hello <b>HTML</b> &amp; friends</p></body></html>", subtype="html")
out(submit(m, "alice@example.test", ["carol@outside.test", "bob@example.test"]))
`),
    );
    const [htmlOut] = await h.outbox(html);
    assert.equal(htmlOut.MIMEType, "text/html");
    assert.equal(htmlOut.Scheme, 4);
    assert.match(htmlOut.Body!, /<p>Hello <b>HTML<\/b> &amp; friends<\/p>/);
    const bobHtml = await inboxMessage(h.bob, "HTML only");
    assert.equal(bobHtml.MIMEType, "text/html");
    assert.match((await decryptBody(h.bob, bobHtml)).text, /<b>HTML<\/b>/);

    // multipart/alternative with an inline image in multipart/related, and an attachment.
    const r = await h.py(String.raw`
import os
d = os.path.dirname(sys.argv[0])
m = EmailMessage()
m["From"] = "Alice <alice@example.test>"
m["To"] = "carol@outside.test"
m["Cc"] = "Bob <bob@example.test>"
m["Subject"] = "Attachments ✓"
m.set_content("Plain alternative\n")
m.add_alternative('<p>Rich alternative <img src="cid:logo123@client.test"></p>', subtype="html")
m.get_payload()[1].add_related(open(d + "/logo.png", "rb").read(), "image", "png", cid="<logo123@client.test>")
m.add_attachment(open(d + "/blob.bin", "rb").read(), maintype="application", subtype="octet-stream",
                 filename="Prüfbericht – 2024 ✓ 報告.bin")
out(submit(m, "alice@example.test", ["carol@outside.test", "bob@example.test"]))
`);
    const id = sentID(r);
    const [carol] = await h.outbox(id);
    assert.equal(carol.MIMEType, "text/html");
    assert.match(carol.Body!, /Rich alternative <img src="cid:logo123@client\.test">/);
    assert.doesNotMatch(carol.Body!, /Plain alternative/);
    const byName = new Map(carol.Attachments.map((a) => [a.Name, a]));
    const blob = byName.get(ATTACHMENT_NAME);
    assert.ok(blob, `attachments: ${[...byName.keys()]}`);
    assert.equal(blob.Disposition, "attachment");
    assert.equal(blob.MIMEType, "application/octet-stream");
    assert.deepEqual(fromBase64(blob.DataBase64!), BINARY);
    const logo = carol.Attachments.find((a) => a.ContentID === "logo123@client.test");
    assert.ok(logo, "inline image with its Content-ID");
    assert.equal(logo.Disposition, "inline");
    assert.equal(logo.MIMEType, "image/png");
    assert.deepEqual(fromBase64(logo.DataBase64!), PNG);
    // Bob (Cc) gets both attachments, decryptable with his key.
    const got = await inboxMessage(h.bob, "Attachments ✓");
    assert.equal(got.MIMEType, "text/html");
    assert.deepEqual(got.CCList.map((a) => a.Address), [BOB]);
    assert.equal(got.Attachments.length, 2);
    const att = got.Attachments.find((a) => a.Name === ATTACHMENT_NAME)!;
    const data = await decryptAttachment(
      fromBase64(att.KeyPackets),
      await getAttachment(h.bob.client, att.ID),
      addressKeys(h.bob, got.AddressID),
    );
    assert.deepEqual(data, BINARY);
    const inline = got.Attachments.find((a) => a.Disposition === "inline")!;
    assert.equal(inline.Headers["content-id"], "<logo123@client.test>");
  });
});

Deno.test("smtp send: attachments keep their order and their Content-Type parameters", async () => {
  await withHarness(async (h) => {
    // Large and small files mixed: uploads that finish out of order must not reorder them. A
    // meeting invitation needs its method= to be one; a text file needs its charset.
    const r = await h.py(String.raw`
m = EmailMessage()
m["From"] = "alice@example.test"
m["To"] = "carol@outside.test, bob@example.test"
m["Subject"] = "Pages"
m.set_content("Five pages.\n")
m.add_attachment(b"1" * 3_000_000, maintype="application", subtype="pdf", filename="page1.pdf")
m.add_attachment("Grüße\n".encode("latin-1"), maintype="text", subtype="plain", filename="page2.txt")
m.get_payload()[-1].set_param("charset", "iso-8859-1")
m.add_attachment(b"3" * 1_500_000, maintype="application", subtype="pdf", filename="page3.pdf")
m.add_attachment(b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", maintype="text",
                 subtype="calendar", filename="invite.ics")
m.get_payload()[-1].set_param("method", "REQUEST")
m.add_attachment(b"5", maintype="application", subtype="pdf", filename="page5.pdf")
out(submit(m, "alice@example.test", ["carol@outside.test", "bob@example.test"]))
`);
    const id = sentID(r);
    const names = ["page1.pdf", "page2.txt", "page3.pdf", "invite.ics", "page5.pdf"];
    const types = [
      "application/pdf",
      "text/plain; charset=iso-8859-1",
      "application/pdf",
      "text/calendar; method=REQUEST",
      "application/pdf",
    ];
    const [carol] = await h.outbox(id);
    assert.deepEqual(carol.Attachments.map((a) => a.Name), names);
    assert.deepEqual(carol.Attachments.map((a) => a.MIMEType), types);
    const bob = await inboxMessage(h.bob, "Pages");
    assert.deepEqual(bob.Attachments.map((a) => a.Name), names);
    assert.deepEqual(bob.Attachments.map((a) => a.MIMEType), types);
  });
});

Deno.test("smtp send: a format=flowed body reaches recipients as the paragraphs it meant", async () => {
  await withHarness(async (h) => {
    // Thunderbird's plain text: 72 columns, a space before each soft break, a signature.
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`);
    const r = await h.py(String.raw`
from email.mime.text import MIMEText
words = ${JSON.stringify(words)}
lines, line = [], ""
for w in words:
    if len(line) + len(w) + 1 > 72:
        lines.append(line + " ")
        line = ""
    line += (" " if line else "") + w
lines.append(line)
body = "Hello,\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\n> quoted that was \r\n> wrapped\r\n-- \r\nAlice\r\n"
m = MIMEText(body, "plain", "utf-8")
m.replace_header("Content-Type", 'text/plain; charset=utf-8; format=flowed')
m["From"] = "alice@example.test"
m["To"] = "carol@outside.test, bob@example.test"
m["Subject"] = "Flowed"
out(submit(m, "alice@example.test", ["carol@outside.test", "bob@example.test"]))
`);
    const id = sentID(r);
    const expected = "Hello,\r\n\r\n" + words.join(" ") +
      "\r\n\r\n> quoted that was wrapped\r\n-- \r\nAlice\r\n";
    const [carol] = await h.outbox(id);
    assert.equal(carol.MIMEType, "text/plain");
    assert.equal(carol.Body, expected);
    const bob = await inboxMessage(h.bob, "Flowed");
    assert.equal((await decryptBody(h.bob, bob)).text, expected);
  });
});

Deno.test("smtp send: reply with In-Reply-To marks the parent; Bcc recipients never show", async () => {
  await withHarness(async (h) => {
    const delivered = await h.control("POST", "/ref/v1/deliver", {
      To: ALICE,
      From: { Name: "Carol", Address: "carol@outside.test" },
      Subject: "Question",
      Text: "Can you answer?",
      ExternalID: "orig-1@outside.test",
    });
    const parentID = delivered.MessageID as string;
    const r = await h.py(String.raw`
m = EmailMessage()
m["From"] = "alice@example.test"
m["To"] = "Carol <carol@outside.test>"
m["Bcc"] = "bob@example.test"
m["Subject"] = "Re: Question"
m["In-Reply-To"] = "<orig-1@outside.test>"
m["References"] = "<orig-1@outside.test>"
m.set_content("Yes.\n")
out(submit(m, "alice@example.test", ["carol@outside.test", "dave@outside.test", "bob@example.test"]))
`);
    const id = sentID(r);
    const messages = (await h.control("GET", `/ref/v1/users/${ALICE}/messages`))
      .Messages as Message[];
    const parent = messages.find((m) => m.ID === parentID)!;
    assert.ok(parent.Flags & MessageFlag.Replied, "the parent is marked replied");
    assert.equal(parent.IsReplied, 1);
    const sent = await getMessage(h.alice.client, id);
    assert.deepEqual(sent.ToList.map((a) => a.Address), ["carol@outside.test"]);
    assert.deepEqual(sent.BCCList.map((a) => a.Address).sort(), [BOB, "dave@outside.test"]);
    assert.match(sent.Header, /In-Reply-To: <orig-1@outside\.test>/);
    // Outside: Carol and Dave each get it; nobody sees Dave or Bob.
    const out = await h.outbox(id);
    assert.deepEqual(out.map((e) => e.Recipient).sort(), [
      "carol@outside.test",
      "dave@outside.test",
    ]);
    for (const e of out) {
      assert.deepEqual(e.ToList.map((a) => a.Address), ["carol@outside.test"]);
      assert.deepEqual(e.CCList, []);
      assert.doesNotMatch(JSON.stringify(e), /dave@outside.test"\s*}|bob@example/i);
    }
    const bobCopy = await inboxMessage(h.bob, "Re: Question");
    assert.deepEqual(bobCopy.BCCList, []);
    // A Bcc field or Dave's address (not "bcc" inside a random Message-ID, such as 4bcc-…).
    assert.doesNotMatch(bobCopy.Header, /dave|^Bcc:/im);
  });
});

async function externalKey(email: string) {
  const k = await generateKey({ email, passphrase: "erin-secret" });
  return { publicKey: k.publicKey, privateKey: await unlockKey(k.privateKey, "erin-secret") };
}

Deno.test("smtp send: outside recipients without and with keys, per Sign and PGPScheme", async () => {
  await withHarness(async (h) => {
    const erin = await externalKey("erin@wkd.test");
    await h.control("POST", "/ref/v1/keys", { Email: "erin@wkd.test", PublicKey: erin.publicKey });
    const send = (subject: string) =>
      h.py(String.raw`
m = EmailMessage()
m["From"] = "alice@example.test"
m["To"] = "carol@outside.test, erin@wkd.test"
m["Subject"] = "${subject}"
m.set_content("Secret plans ✓\n")
out(submit(m, "alice@example.test", ["carol@outside.test", "erin@wkd.test"]))
`);
    // Default settings (Sign 0, PGP/MIME): Carol clear and unsigned, Erin PGP/MIME.
    let id = sentID(await send("Default"));
    let out = new Map((await h.outbox(id)).map((e) => [e.Recipient, e]));
    assert.equal(out.get("carol@outside.test")!.Scheme, 4);
    assert.equal(out.get("carol@outside.test")!.Signature, 0);
    const mime = out.get("erin@wkd.test")!;
    assert.equal(mime.Scheme, 16);
    assert.equal(mime.MIMEType, "multipart/mixed");
    assert.equal(mime.Encrypted, 1);
    assert.equal(mime.Body, undefined);
    const opened = await decryptMessage(mime.Ciphertext!, [erin.privateKey]);
    const entity = parseMessage(opened.data);
    assert.equal(entity.header.getText("subject"), "Default");
    assert.match(dec.decode(opened.data), /Secret plans/);

    // Sign on, PGP/MIME: Carol ClearMIME (signed), Erin still PGP/MIME.
    await h.control("PUT", `/ref/v1/users/${ALICE}/mail-settings`, { Sign: 1 });
    id = sentID(await send("Signed MIME"));
    out = new Map((await h.outbox(id)).map((e) => [e.Recipient, e]));
    const clearMime = out.get("carol@outside.test")!;
    assert.equal(clearMime.Scheme, 32);
    assert.equal(clearMime.Signature, 1);
    assert.equal(clearMime.MIMEType, "multipart/mixed");
    assert.equal(clearMime.SignatureStatus, "valid");
    assert.match(clearMime.Body!, /Subject: Signed MIME/);
    assert.equal(out.get("erin@wkd.test")!.Scheme, 16);

    // Sign on, PGP/Inline: Carol clear-signed text/plain, Erin PGP/Inline text/plain.
    await h.control("PUT", `/ref/v1/users/${ALICE}/mail-settings`, { PGPScheme: 8 });
    id = sentID(await send("Inline"));
    out = new Map((await h.outbox(id)).map((e) => [e.Recipient, e]));
    const clearSigned = out.get("carol@outside.test")!;
    assert.equal(clearSigned.Scheme, 4);
    assert.equal(clearSigned.Signature, 1);
    assert.equal(clearSigned.MIMEType, "text/plain");
    assert.equal(clearSigned.SignatureStatus, "valid");
    const inline = out.get("erin@wkd.test")!;
    assert.equal(inline.Scheme, 8);
    assert.equal(inline.MIMEType, "text/plain");
    const plain = await decryptMessage(inline.Ciphertext!, [erin.privateKey]);
    assert.match(dec.decode(plain.data), /^Secret plans ✓/);
  });
});

Deno.test("smtp send: a client-signed multipart/signed message still verifies after delivery", async () => {
  await withHarness(async (h) => {
    const erin = await externalKey("erin@wkd.test");
    await h.control("POST", "/ref/v1/keys", { Email: "erin@wkd.test", PublicKey: erin.publicKey });
    const client = await generateKey({ email: ALICE, passphrase: "client-secret" });
    const clientKey = await unlockKey(client.privateKey, "client-secret");
    const signedPart = "Content-Type: text/plain; charset=utf-8\r\n" +
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
      "Signed by the client =E2=9C=93\r\n-- \r\nAlice";
    // RFC 3156: the signed content ends before the CRLF that precedes the boundary.
    const signature = await signDetached(signedPart, clientKey, { armor: true });
    const message = [
      "From: Alice <alice@example.test>",
      "To: carol@outside.test, erin@wkd.test, bob@example.test",
      "Subject: Client signed",
      "Message-ID: <signed-1@client.test>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature";',
      ' boundary="sig-boundary"',
      "",
      "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)",
      "--sig-boundary",
      signedPart,
      "--sig-boundary",
      'Content-Type: application/pgp-signature; name="signature.asc"',
      "Content-Disposition: attachment; filename=signature.asc",
      "",
      signature.trim().replace(/\r?\n/g, "\r\n"),
      "--sig-boundary--",
      "",
    ].join("\r\n");
    await Deno.writeTextFile(`${h.dir}/signed.eml`, message);
    const id = sentID(
      await h.py(String.raw`
import os
raw = open(os.path.dirname(sys.argv[0]) + "/signed.eml", "rb").read()
out(submit(raw, "alice@example.test", ["carol@outside.test", "erin@wkd.test", "bob@example.test"]))
`),
    );
    const verify = async (entity: Uint8Array) => {
      const root = parseMessage(entity);
      assert.equal(root.mimeType, "multipart/signed");
      const [content, sig] = root.children;
      const signed = root.source.subarray(content.headerBytes[0], content.body[1]);
      return await verifyDetached(signed, sig.bodyData(), [clientKey.toPublic()]);
    };
    const out = new Map((await h.outbox(id)).map((e) => [e.Recipient, e]));
    const carol = out.get("carol@outside.test")!;
    assert.equal(carol.Scheme, 32, "ClearMIME, whatever the Sign setting");
    assert.equal(dec.decode(fromBase64(carol.BodyBase64!)), message, "byte for byte");
    assert.equal(await verify(fromBase64(carol.BodyBase64!)), true);
    const erinCopy = out.get("erin@wkd.test")!;
    assert.equal(erinCopy.Scheme, 16);
    const opened = await decryptMessage(erinCopy.Ciphertext!, [erin.privateKey]);
    assert.equal(await verify(opened.data), true);
    // Bob gets the signed text.
    const bobCopy = await inboxMessage(h.bob, "Client signed");
    assert.match((await decryptBody(h.bob, bobCopy)).text, /Signed by the client ✓/);
  });
});

Deno.test("smtp send: from an alias and a +tag; no From: uses MAIL FROM; disabled and foreign refused", async () => {
  await withHarness(async (h) => {
    // An alias added after login: its keys are unlocked on first use.
    await h.control("POST", `/ref/v1/users/${ALICE}/addresses`, {
      Email: "alice.alias@example.test",
      Type: 2,
    });
    const from = (sender: string, subject: string, user?: string) =>
      h.py(
        String.raw`
m = EmailMessage()
m["From"] = "${sender}"
m["To"] = "carol@outside.test"
m["Subject"] = "${subject}"
m.set_content("Hi\n")
out(submit(m, "alice@example.test", ["carol@outside.test"]))
`,
        user,
      );
    const alias = sentID(await from("Alias <alice.alias@example.test>", "From alias"));
    const [viaAlias] = await h.outbox(alias);
    assert.equal(viaAlias.From.Address, "alice.alias@example.test");
    const sent = await getMessage(h.alice.client, alias);
    const aliasAddress = (await getAddresses(h.alice.client))
      .find((a) => a.Email === "alice.alias@example.test")!;
    assert.equal(sent.AddressID, aliasAddress.ID);

    const tagged = sentID(await from("alice+news@example.test", "Tagged"));
    assert.equal((await h.outbox(tagged))[0].From.Address, "alice+news@example.test");

    const old = h.alice.unlocked.addresses.find((a) => a.Email === "old@example.test")!;
    await h.control("PUT", `/ref/v1/addresses/${old.ID}/disable`);
    const disabled = await from("old@example.test", "From disabled");
    assert.equal(disabled.code, 550);
    assert.match(String(disabled.reply), /^5\.7\.1 cannot send from old@example\.test: .*disabled/);
    assert.equal(disabled.noop, 250, "the session continues");

    const foreign = await from("mallory@evil.test", "Foreign");
    assert.equal(foreign.code, 550);
    assert.match(String(foreign.reply), /not an address of this account/);

    const missing = await h.py(String.raw`
out(submit("To: carol@outside.test\r\nSubject: no from\r\n\r\nHi\r\n", "alice@example.test", ["carol@outside.test"]))
`);
    // No From: field: sent as the envelope sender (RFC 6409 §8.1).
    const noFrom = sentID(missing);
    const [entry] = await h.outbox(noFrom);
    assert.equal(entry.From.Address, "alice@example.test");
    const nullSender = await h.py(String.raw`
out(submit("To: carol@outside.test\r\nSubject: nobody\r\n\r\nHi\r\n", "", ["carol@outside.test"]))
`);
    assert.equal(nullSender.code, 554);
    assert.match(String(nullSender.reply), /^5\.6\.0 .*From/);
    // Nothing of the refused ones left the server.
    const all = (await h.control("GET", "/ref/v1/outbox")).Outbox as OutboxEntry[];
    assert.deepEqual(all.map((e) => e.Subject).sort(), ["From alias", "Tagged", "no from"]);
  });
});

Deno.test("smtp send: an identical resend is suppressed and reported; APPEND lookup finds it", async () => {
  await withHarness(async (h) => {
    const raw = "From: alice@example.test\r\nTo: carol@outside.test\r\nSubject: Once\r\n" +
      "Message-ID: <once-1@client.test>\r\n\r\nOnly once, please.\r\n";
    await Deno.writeTextFile(`${h.dir}/once.eml`, raw);
    const script = String.raw`
import os
raw = open(os.path.dirname(sys.argv[0]) + "/once.eml", "rb").read()
out(submit(raw, "alice@example.test", ["carol@outside.test"]))
`;
    const first = sentID(await h.py(script));
    const second = sentID(await h.py(script));
    assert.equal(second, first, "the resend answers with the first send's ID");
    assert.equal((await h.outbox(first)).length, 1);
    assert.equal(h.recorder.status().duplicatesSuppressed, 1);
    assert.ok(h.logs.some((l) => /duplicate send suppressed/.test(l)), h.logs.join("\n"));
    // The client's Sent copy (with a Bcc line and its own Date) is recognised.
    const copy = new TextEncoder().encode(
      raw.replace(
        "Subject: Once\r\n",
        "Subject: Once\r\nBcc: x@outside.test\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n",
      ),
    );
    assert.equal(await h.recorder.findSent(h.alice.unlocked.user.ID, copy), first);

    // Without a Message-ID (a cron job's alert) the same message twice is sent twice.
    const alert = "From: alice@example.test\r\nTo: carol@outside.test\r\nSubject: Disk full\r\n" +
      "\r\n/var is 95 % full.\r\n";
    await Deno.writeTextFile(`${h.dir}/alert.eml`, alert);
    const again = script.replace("/once.eml", "/alert.eml");
    const one = sentID(await h.py(again));
    const two = sentID(await h.py(again));
    assert.notEqual(two, one, "a message without a Message-ID is not taken for a repeat");
    assert.equal((await h.outbox(one)).length, 1);
    assert.equal((await h.outbox(two)).length, 1);
    assert.equal(h.recorder.status().duplicatesSuppressed, 1, "unchanged");
  });
});

async function have(cmd: string): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "smtp send: curl smtp:// submission",
  ignore: !(await have("curl")),
  fn: async () => {
    await withHarness(async (h) => {
      const file = `${h.dir}/curl.eml`;
      await Deno.writeTextFile(
        file,
        "From: Alice <alice@example.test>\r\nTo: carol@outside.test\r\nSubject: Via curl\r\n\r\n" +
          "Sent with curl.\r\n",
      );
      const out = await new Deno.Command("curl", {
        args: [
          "-sS",
          "-v",
          `smtp://127.0.0.1:${h.smtp.port}`,
          "--mail-from",
          ALICE,
          "--mail-rcpt",
          "carol@outside.test",
          "--upload-file",
          file,
          "--user",
          `${ALICE}:${BRIDGE_PASS}`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = dec.decode(out.stderr);
      assert.ok(out.success, err);
      const id = /< 250 2\.0\.0 OK (\S+)/.exec(err)?.[1];
      assert.ok(id, err);
      const [carol] = await h.outbox(id);
      assert.equal(carol.Subject, "Via curl");
      assert.match(carol.Body!, /Sent with curl\./);
    });
  },
});

Deno.test("smtp send: AttachPublicKey adds the sender's key; a signed contact card picks PGP/Inline", async () => {
  await withHarness(async (h) => {
    const erin = await externalKey("erin@wkd.test");
    await h.control("POST", "/ref/v1/keys", { Email: "erin@wkd.test", PublicKey: erin.publicKey });
    const frank = await externalKey("frank@wkd.test");
    await h.control("POST", "/ref/v1/keys", {
      Email: "frank@wkd.test",
      PublicKey: frank.publicKey,
    });
    // Frank's contact card (signed with Alice's user key) asks for PGP/Inline.
    const card = [
      "BEGIN:VCARD",
      "VERSION:4.0",
      "FN:Frank",
      "ITEM1.EMAIL;PREF=1:frank@wkd.test",
      "ITEM1.X-PM-SCHEME:pgp-inline",
      "END:VCARD",
    ].join("\r\n");
    const userKey = h.alice.unlocked.userKeys.first();
    await h.control("POST", `/ref/v1/users/${ALICE}/contacts`, {
      Name: "Frank",
      Emails: [{ Email: "frank@wkd.test" }],
      Cards: [{
        Type: 2,
        Data: card,
        Signature: await signDetached(card, userKey, { armor: true }),
      }],
    });
    await h.control("PUT", `/ref/v1/users/${ALICE}/mail-settings`, { AttachPublicKey: 1 });
    const id = sentID(
      await h.py(String.raw`
m = EmailMessage()
m["From"] = "alice@example.test"
m["To"] = "carol@outside.test, erin@wkd.test, frank@wkd.test"
m["Subject"] = "With my key"
m.set_content("Here is my key.\n")
out(submit(m, "alice@example.test", ["carol@outside.test", "erin@wkd.test", "frank@wkd.test"]))
`),
    );
    const out = new Map((await h.outbox(id)).map((e) => [e.Recipient, e]));
    const aliceAddress = h.alice.unlocked.addresses[0];
    const fingerprint = h.alice.unlocked.addressKeys.get(aliceAddress.ID)!.first().getFingerprint()
      .slice(0, 8).toUpperCase();
    const keyName = `publickey - ${ALICE} - 0x${fingerprint}.asc`;
    const carolKey = out.get("carol@outside.test")!.Attachments.find((a) => a.Name === keyName);
    assert.ok(carolKey, JSON.stringify(out.get("carol@outside.test")!.Attachments));
    assert.equal(carolKey.MIMEType, "application/pgp-keys");
    assert.match(dec.decode(fromBase64(carolKey.DataBase64!)), /BEGIN PGP PUBLIC KEY BLOCK/);
    // PGP/MIME: the key is a part of the encrypted MIME body.
    const erinCopy = out.get("erin@wkd.test")!;
    assert.equal(erinCopy.Scheme, 16);
    const mime = parseMessage((await decryptMessage(erinCopy.Ciphertext!, [erin.privateKey])).data);
    assert.equal(mime.mimeType, "multipart/mixed");
    assert.deepEqual(mime.children.map((c) => c.filename ?? c.mimeType), ["text/plain", keyName]);
    // Frank's card wins over the account's PGP/MIME default.
    const frankCopy = out.get("frank@wkd.test")!;
    assert.equal(frankCopy.Scheme, 8);
    assert.equal(frankCopy.MIMEType, "text/plain");
    assert.match(
      dec.decode((await decryptMessage(frankCopy.Ciphertext!, [frank.privateKey])).data),
      /^Here is my key\./,
    );
  });
});

Deno.test("smtp send: internal reply by internal ID; a sent draft named in References is removed", async () => {
  await withHarness(async (h) => {
    // Bob writes to Alice; Alice replies citing the internal ID (as bridge-built messages allow).
    const bobSays = await h.control("POST", "/ref/v1/deliver", {
      To: ALICE,
      From: { Name: "Bob", Address: BOB },
      Subject: "Lunch?",
      Text: "Noon?",
    });
    const inboxID = bobSays.MessageID as string;
    const draft = await createDraft(h.alice.client, {
      Message: {
        Subject: "Re: Lunch?",
        Sender: { Name: "", Address: ALICE },
        ToList: [{ Name: "", Address: BOB }],
        CCList: [],
        BCCList: [],
        Body: await encryptDraftBody(
          "draft",
          h.alice.unlocked.addressKeys.get(h.alice.unlocked.addresses[0].ID)!.first(),
        ),
        MIMEType: "text/plain",
        Unread: 0,
      },
    });
    const id = sentID(
      await h.py(String.raw`
m = EmailMessage()
m["From"] = "alice@example.test"
m["To"] = "bob@example.test"
m["Subject"] = "Re: Lunch?"
m["In-Reply-To"] = "<${inboxID}@protonmail.internalid>"
m["References"] = "<${draft.ID}@protonmail.internalid> <${inboxID}@protonmail.internalid>"
m.set_content("Noon is fine.\n")
out(submit(m, "alice@example.test", ["bob@example.test"]))
`),
    );
    const messages = (await h.control("GET", `/ref/v1/users/${ALICE}/messages`))
      .Messages as Message[];
    assert.ok(messages.find((m) => m.ID === inboxID)!.Flags & MessageFlag.Replied);
    assert.equal(messages.some((m) => m.ID === draft.ID), false, "the saved draft is gone");
    assert.ok(messages.some((m) => m.ID === id));
    const got = await inboxMessage(h.bob, "Re: Lunch?");
    assert.match((await decryptBody(h.bob, got)).text, /Noon is fine\./);
  });
});

Deno.test("smtp send: API failures answer 554 or 451 and leave no draft behind", async () => {
  await withHarness(async (h) => {
    const send = (subject: string) =>
      h.py(String.raw`
m = EmailMessage()
m["From"] = "alice@example.test"
m["To"] = "carol@outside.test"
m["Subject"] = "${subject}"
m.set_content("Hi\n")
out(submit(m, "alice@example.test", ["carol@outside.test"]))
`);
    const drafts = async () =>
      ((await h.control("GET", `/ref/v1/users/${ALICE}/messages`)).Messages as Message[])
        .filter((m) => m.LabelIDs.includes("8")).length;
    await h.control("POST", "/ref/v1/faults", {
      Method: "POST",
      Path: "/mail/v4/messages/:id",
      Status: 422,
      Code: 2001,
      Error: "Recipient is blocked",
      Count: 1,
    });
    const refused = await send("Refused");
    assert.equal(refused.code, 554);
    assert.match(
      String(refused.reply),
      /^5\.0\.0 the mail server refused to send the message: Recipient is blocked/,
    );
    assert.equal(refused.noop, 250);
    assert.equal(await drafts(), 0, "the refused draft was deleted");

    await h.control("POST", "/ref/v1/faults", {
      Method: "GET",
      Path: "/core/v4/keys",
      Status: 503,
      Count: 10,
    });
    const busy = await send("Busy");
    assert.equal(busy.code, 451);
    assert.match(String(busy.reply), /^4\.3\.0 .*HTTP 503/);
    assert.equal(await drafts(), 0);
    await h.control("DELETE", "/ref/v1/faults");
    // Not a duplicate of the failed attempt: the retry is sent.
    const retried = sentID(await send("Busy"));
    assert.equal((await h.outbox(retried)).length, 1);

    // The send request itself rate limited, then unavailable: nothing went out, so no draft
    // stays behind (a client retries; each attempt made one).
    for (const status of [429, 503]) {
      await h.control("POST", "/ref/v1/faults", {
        Method: "POST",
        Path: "/mail/v4/messages/:id",
        Status: status,
        Count: 1,
      });
      const limited = await send(`Limited ${status}`);
      assert.equal(limited.code, 451, `HTTP ${status}`);
      assert.match(String(limited.reply), new RegExp(`HTTP ${status}`));
      assert.equal(await drafts(), 0, `no draft left after HTTP ${status}`);
    }
  });
});

/** Alice's messages on the reference server with this subject. */
async function aliceMessages(h: Harness, subject: string): Promise<Message[]> {
  return ((await h.control("GET", `/ref/v1/users/${ALICE}/messages`)).Messages as Message[])
    .filter((m) => m.Subject === subject);
}

/** What outside recipients were sent with this subject. */
async function outboxBySubject(h: Harness, subject: string): Promise<OutboxEntry[]> {
  return ((await h.control("GET", "/ref/v1/outbox")).Outbox as OutboxEntry[])
    .filter((e) => e.Subject === subject);
}

Deno.test("smtp send: a lost reply to the send answers 451; the retry looks before sending again", async () => {
  await withHarness(async (h) => {
    const send = (name: string) =>
      h.py(String.raw`
raw = ("From: alice@example.test\r\nTo: carol@outside.test\r\nSubject: ${name}\r\n"
       "Message-ID: <${name}@client.test>\r\n\r\nOnce.\r\n").encode()
out(submit(raw, "alice@example.test", ["carol@outside.test"]))
`);
    const messages = (subject: string) => aliceMessages(h, subject);
    const outbox = (subject: string) => outboxBySubject(h, subject);
    const loseReply = (afterHandling: boolean) =>
      h.control("POST", "/ref/v1/faults", {
        Method: "POST",
        Path: "/mail/v4/messages/:id",
        Drop: true,
        Count: 1,
        ...(afterHandling ? { AfterHandling: true } : {}),
      });

    // The message went out, its answer was lost: 451, and the retry is answered without a
    // second send, with the sent message's ID.
    await loseReply(true);
    const lost = await send("went-out");
    assert.equal(lost.code, 451, JSON.stringify(lost));
    assert.match(String(lost.reply), /did not confirm the send/);
    assert.equal((await outbox("went-out")).length, 1);
    const retried = sentID(await send("went-out"));
    assert.equal((await outbox("went-out")).length, 1, "not sent twice");
    const sent = await messages("went-out");
    assert.deepEqual(sent.map((m) => m.ID), [retried]);
    assert.ok(!sent[0].LabelIDs.includes("8"), "no draft left");
    assert.ok(h.logs.some((l) => /did go out/.test(l)), h.logs.join("\n"));

    // The connection broke before the server sent it: the draft stays. A retry at once is put
    // off (the send might still be under way on the server); a later one deletes the draft and
    // sends once.
    await loseReply(false);
    const broken = await send("not-out");
    assert.equal(broken.code, 451, JSON.stringify(broken));
    assert.equal((await outbox("not-out")).length, 0);
    assert.equal((await messages("not-out")).length, 1, "the draft is kept meanwhile");
    const early = await send("not-out");
    assert.equal(early.code, 451, JSON.stringify(early));
    assert.match(String(early.reply), /may still be under way/);
    assert.equal((await messages("not-out")).length, 1);
    await new Promise((r) => setTimeout(r, UNCONFIRMED_GRACE_MS + 100));
    const second = sentID(await send("not-out"));
    assert.equal((await outbox("not-out")).length, 1);
    assert.deepEqual((await messages("not-out")).map((m) => m.ID), [second]);

    // The send was done and answered with a refusal, as a repeated send is ("Message is not a
    // draft"): the message went out, so 250 with its ID, and the Sent copy stays.
    await h.control("POST", "/ref/v1/faults", {
      Method: "POST",
      Path: "/mail/v4/messages/:id",
      Status: 422,
      Code: 2001,
      Error: "Message is not a draft",
      Count: 1,
      AfterHandling: true,
    });
    const refused = sentID(await send("refused-after"));
    assert.equal((await outbox("refused-after")).length, 1);
    const kept = await messages("refused-after");
    assert.deepEqual(kept.map((m) => m.ID), [refused], "the Sent copy stays");
    assert.ok(
      kept[0].LabelIDs.includes("2") || kept[0].LabelIDs.includes("7"),
      kept[0].LabelIDs.join(),
    );
  });
});

Deno.test("smtp send: a lost reply to the draft or an attachment creates nothing twice", async () => {
  await withHarness(async (h) => {
    await Deno.writeFile(`${h.dir}/blob.bin`, BINARY);
    const send = (name: string, attach: boolean) =>
      h.py(String.raw`
import os
m = EmailMessage()
m["From"] = "alice@example.test"
m["To"] = "carol@outside.test"
m["Subject"] = "${name}"
m["Message-ID"] = "<${name}@client.test>"
m.set_content("Once.\n")
if ${attach ? "True" : "False"}:
    m.add_attachment(open(os.path.dirname(sys.argv[0]) + "/blob.bin", "rb").read(),
                     maintype="application", subtype="octet-stream", filename="blob.bin")
out(submit(m, "alice@example.test", ["carol@outside.test"]))
`);
    const messages = (subject: string) => aliceMessages(h, subject);
    const outbox = (subject: string) => outboxBySubject(h, subject);
    const loseReply = (path: string) =>
      h.control("POST", "/ref/v1/faults", {
        Method: "POST",
        Path: path,
        Status: 503,
        Count: 1,
        AfterHandling: true,
      });

    // The draft was created, its reply lost: found by its Message-ID and sent; no second draft.
    await loseReply("/mail/v4/messages");
    sentID(await send("draft-reply-lost", false));
    assert.equal((await outbox("draft-reply-lost")).length, 1);
    const all = await messages("draft-reply-lost");
    assert.equal(all.length, 1, JSON.stringify(all.map((m) => m.LabelIDs)));
    assert.ok(!all[0].LabelIDs.includes("8"), "no draft left");

    // The attachment was stored, its reply lost: not uploaded again (a second copy, or a send
    // refused for a key it lacks); the draft goes, 451, and the retry sends once.
    await loseReply("/mail/v4/attachments");
    const failed = await send("upload-reply-lost", true);
    assert.equal(failed.code, 451, JSON.stringify(failed));
    assert.equal((await messages("upload-reply-lost")).length, 0, "no draft left");
    sentID(await send("upload-reply-lost", true));
    const [carol] = await outbox("upload-reply-lost");
    assert.deepEqual(carol.Attachments.map((a) => a.Name), ["blob.bin"]);
    assert.equal((await outbox("upload-reply-lost")).length, 1);

    // No Message-ID (scripts): the draft gets one, and is found by it as above.
    await loseReply("/mail/v4/messages");
    sentID(
      await h.py(String.raw`
raw = b"From: alice@example.test\r\nTo: carol@outside.test\r\nSubject: no-mid\r\n\r\nOnce.\r\n"
out(submit(raw, "alice@example.test", ["carol@outside.test"]))
`),
    );
    assert.equal((await outbox("no-mid")).length, 1);
    const noMid = await messages("no-mid");
    assert.equal(noMid.length, 1, JSON.stringify(noMid.map((m) => m.LabelIDs)));
    assert.match(noMid[0].ExternalID, /@example\.test$/);
  });
});

Deno.test("smtp send: a draft of the message left by an attempt cut short is deleted after the send", async () => {
  await withHarness(async (h) => {
    // What a send killed between its draft and its send leaves (the client then retries).
    await h.control("POST", "/ref/v1/deliver", {
      To: "carol@outside.test",
      From: { Name: "Alice", Address: ALICE },
      Subject: "cut short",
      Text: "Once.",
      Kind: "draft",
      ExternalID: "cut-short@client.test",
    });
    assert.equal((await aliceMessages(h, "cut short")).length, 1);
    const id = sentID(
      await h.py(String.raw`
raw = ("From: alice@example.test\r\nTo: carol@outside.test\r\nSubject: cut short\r\n"
       "Message-ID: <cut-short@client.test>\r\n\r\nOnce.\r\n").encode()
out(submit(raw, "alice@example.test", ["carol@outside.test"]))
`),
    );
    const left = await aliceMessages(h, "cut short");
    assert.deepEqual(left.map((m) => m.ID), [id], "only the sent message");
    assert.ok(!left[0].LabelIDs.includes("8"));
    assert.equal((await outboxBySubject(h, "cut short")).length, 1);
  });
});
