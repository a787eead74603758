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
  getMessage,
  getMessageMetadataPage,
  login,
  type Message,
  MessageFlag,
  unlock,
  type UnlockedAccount,
} from "../src/api/mod.ts";
import { decryptMessage } from "../src/crypto/mod.ts";
import { type SmtpServer, startSmtpServer } from "../src/smtp/mod.ts";
import { createSubmissionHandler } from "../src/smtp/send_pipeline.ts";
import { type SendingAccount, sendingAccount } from "../src/smtp/sending_account.ts";
import { SendRecorder } from "../src/connector/send_recorder.ts";

const PASSWORD = "correct horse battery staple";
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
    code, resp = s.data(raw)
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
      submission: createSubmissionHandler({ recorder, log: (l) => logs.push(l) }),
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
