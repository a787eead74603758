/**
 * SMTP and IMAP together, end to end through `bridge serve --demo --json` (a subprocess: reference
 * API server in-process, seeded demo account, STARTTLS with a self-signed certificate, events
 * polled every second) driven by python3 `smtplib`, `imaplib` and raw sockets:
 *
 * - **Sent copy exactly once.** A message sent over SMTP and then appended to Sent by the client
 *   (as Thunderbird does) is one message in Sent: `UID SEARCH HEADER Message-ID` finds one UID,
 *   the same one APPEND answered in APPENDUID (the contract: APPEND to Sent of a just-sent message
 *   returns the server's copy instead of importing), also after the event loop has caught up; the
 *   reference server has one message with that Message-ID. A client that does not append gets
 *   exactly one copy too, through the event loop.
 * - **Thunderbird-style draft saving.** APPEND a draft to Drafts, APPEND the next version, STORE
 *   the old one `+FLAGS (\Deleted)`, EXPUNGE, twice: Drafts holds one message with the last body,
 *   and the reference server has one draft with that subject.
 * - **Bad input through the real server**, on one connection (raw socket, STARTTLS through python
 *   `ssl`, since smtplib would repair the input): wrong password, DATA before RCPT, bare LF and
 *   bare CR line ends (taken as CRLF), an overlong line (taken), 8-bit data without
 *   `BODY=8BITMIME`, no From, `SIZE=` above the announced limit and a message that really is
 *   larger. Each gets its reply code and enhanced status, a NOOP after it is answered, and a good
 *   message afterwards on the same connection is sent — and only what was accepted reaches the
 *   reference server's outbox.
 *
 * Every check of "the server" reads the reference server's own state through its control routes
 * (the demo logs its URL), never bridge's index. The subprocess keeps HOME and XDG_CACHE_HOME
 * (Deno's module cache); no BRIDGE_* variable leaks in but the event poll settings.
 * `BRIDGE_TEST_BUNDLE` runs bridge from the single-file build (`bridgeArgv`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../src/cli/_cli_test_utils.ts";
import { eventually } from "./_eventually.ts";
import { runPythonJsonArg } from "./_python_json.ts";
import { refControl, refMessages } from "./_ref_control.ts";
import { demoServeArgs, eventPollEnv, ServeProcess } from "./_serve_process.ts";

const DEMO_EMAIL = "demo@bridge.test";
/** Event poll interval given to serve, seconds. */
const POLL_SECONDS = 1;
/** An external recipient (no key on the reference server: a clear delivery in its outbox). */
const EXTERNAL = "friend@example.org";

// ---------------------------------------------------------------------------------------------
// bridge serve --demo as a subprocess
// ---------------------------------------------------------------------------------------------

/** Where the running serve listens, and the demo account's bridge password. */
interface Ready {
  imapPort: number;
  smtpPort: number;
  user: string;
  password: string;
  /** The demo's reference API server (from the log line `demo: reference API server at …`). */
  apiUrl: string;
}

/** Starts `bridge serve --demo --json` on free ports, the demo's data under `home`. */
function startServe(home: string): ServeProcess {
  return new ServeProcess(home, demoServeArgs(join(home, "demo")), {
    env: eventPollEnv(POLL_SECONDS),
  });
}

/** Waits for the `ready` line and the demo's API URL on standard error. */
function demoReady(serve: ServeProcess): Promise<Ready> {
  return serve.until("ready line and demo API URL", () => {
    const ready = serve.events.find((e) => e.event === "ready");
    const url = /demo: reference API server at (http:\/\/\S+)/.exec(serve.stderr)?.[1];
    if (!ready || !url) return undefined;
    const imap = ready.imap as { port: number; security: string };
    const smtp = ready.smtp as { port: number; security: string };
    assert.equal(imap.security, "starttls");
    assert.equal(smtp.security, "starttls");
    const accounts = ready.accounts as { email: string; password: string }[];
    assert.equal(accounts[0].email, DEMO_EMAIL);
    return {
      imapPort: imap.port,
      smtpPort: smtp.port,
      user: accounts[0].email,
      password: accounts[0].password,
      apiUrl: url,
    };
  }, 40_000);
}

// ---------------------------------------------------------------------------------------------
// The reference server, seen from outside
// ---------------------------------------------------------------------------------------------

/** One delivery to an external recipient (the fields this test reads). */
interface OutboxEntry {
  ExternalID: string;
  Subject: string;
  Recipient: string;
  Body?: string;
  /** The package's signature flag, and whether the body's signature verifies. */
  Signature: number;
  SignatureStatus?: string;
}

async function outbox(apiUrl: string): Promise<OutboxEntry[]> {
  return (await refControl<{ Outbox: OutboxEntry[] }>(apiUrl, "GET", "outbox")).Outbox;
}

/** Waits `polls` event polls (plus a little slack). */
function afterPolls(polls: number): Promise<void> {
  return new Promise((r) => setTimeout(r, polls * POLL_SECONDS * 1000 + 300));
}

// ---------------------------------------------------------------------------------------------
// python3 clients
// ---------------------------------------------------------------------------------------------

/**
 * Shared by every script: `A` is the JSON of argv[1] (ports, user, password and the script's own
 * arguments); `imap()` and `smtp()` are logged-in clients over STARTTLS (the demo's certificate is
 * self-signed: not verified); `Raw` is an SMTP client on a bare socket that sends exactly the
 * bytes it is given.
 */
const PRELUDE = String.raw`
import base64, imaplib, json, re, smtplib, socket, ssl, sys, time
A = json.loads(sys.argv[1])
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
def imap():
    m = imaplib.IMAP4("127.0.0.1", A["imapPort"])
    m.starttls(ssl_context=CTX)
    m.login(A["user"], A["password"])
    return m
def smtp():
    s = smtplib.SMTP("127.0.0.1", A["smtpPort"], timeout=60)
    s.starttls(context=CTX)
    s.login(A["user"], A["password"])
    return s
def ok(typ, data):
    if typ != "OK":
        raise SystemExit("command failed: %s %r" % (typ, data))
    return data
def s(v):
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, tuple):
        return [s(x) for x in v]
    return v
def uids(data):
    return [int(x) for x in (data[0] or b"").split()]
def by_message_id(m, box, mid):
    ok(*m.select('"%s"' % box, readonly=True))
    return uids(ok(*m.uid("SEARCH", None, "HEADER", "Message-ID", '"%s"' % mid)))
def appenduid(m):
    v = m.untagged_responses.get("APPENDUID")
    return [int(x) for x in s(v[-1]).split()] if v else None
class Raw:
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", A["smtpPort"]), timeout=60)
        self.f = self.sock.makefile("rb")
        self.greeting = self.read()
    def read(self):
        lines = []
        while True:
            l = self.f.readline()
            if not l:
                return {"code": 0, "lines": lines + ["<connection closed>"]}
            lines.append(l.decode("utf-8", "replace").rstrip("\r\n"))
            if l[3:4] != b"-":
                break
        last = lines[-1]
        mm = re.match(r"(\d{3})[ -](\d\.\d{1,3}\.\d{1,3})?", last)
        return {"code": int(last[:3]), "enhanced": mm.group(2) if mm else None, "lines": lines}
    def send(self, data):
        self.sock.sendall(data)
    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.read()
    def starttls(self):
        r = self.cmd("STARTTLS")
        self.sock = CTX.wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.f = self.sock.makefile("rb")
        return r
    def data(self, body):
        r = self.cmd("DATA")
        if r["code"] != 354:
            return r
        self.send(body + b".\r\n")
        return self.read()
`;

function python(home: string, ready: Ready, script: string, args: object = {}) {
  // deno-lint-ignore no-explicit-any
  return runPythonJsonArg<any>(home, PRELUDE + script, { ...ready, ...args });
}

/**
 * Sends A["message"] over SMTP (smtplib, to A["rcpt"]); when A["append"], then appends the same
 * bytes to Sent over IMAP at once (as Thunderbird does after a send) and answers APPENDUID.
 */
const SEND_THEN_APPEND = String.raw`
msg = A["message"].encode()
sm = smtp()
refused = sm.sendmail(A["user"], A["rcpt"], msg)
sm.quit()
out = {"refused": refused}
if A["append"]:
    m = imap()
    m.untagged_responses.clear()
    typ, data = m.append("Sent", "(\\Seen)", None, msg)
    out["append"] = {"typ": typ, "data": [s(x) for x in data], "appenduid": appenduid(m)}
    out["sent"] = by_message_id(m, "Sent", A["mid"])
    m.logout()
print(json.dumps(out))
`;

/** APPENDs A["message"] to Sent; answers the result and the UIDs with Message-ID A["mid"]. */
const APPEND_TO_SENT = String.raw`
m = imap()
m.untagged_responses.clear()
typ, data = m.append("Sent", "(\\Seen)", None, A["message"].encode())
out = {"typ": typ, "data": [s(x) for x in data], "appenduid": appenduid(m)}
out["sent"] = by_message_id(m, "Sent", A["mid"])
m.logout()
print(json.dumps(out))
`;

/** UIDs with Message-ID A["mid"] in each mailbox of A["boxes"]. */
const FIND_BY_MESSAGE_ID = String.raw`
m = imap()
out = {box: by_message_id(m, box, A["mid"]) for box in A["boxes"]}
m.logout()
print(json.dumps(out))
`;

/**
 * Thunderbird's draft saving: APPEND each of A["versions"] to Drafts; after the first, STORE the
 * previous one +FLAGS (\Deleted) and EXPUNGE. Answers each step and, at the end, the UIDs in
 * Drafts with A["subject"] and the body of each.
 */
const SAVE_DRAFTS = String.raw`
m = imap()
steps = []
prev = None
for v in A["versions"]:
    m.untagged_responses.clear()
    typ, data = m.append("Drafts", "(\\Seen \\Draft)", None, v.encode())
    step = {"append": typ, "appenduid": appenduid(m)}
    uid = step["appenduid"][1] if step["appenduid"] else None
    if prev is not None:
        ok(*m.select("Drafts"))
        step["store"] = ok(*m.uid("STORE", str(prev), "+FLAGS", "(\\Deleted)")) and "OK"
        typ, data = m.expunge()
        step["expunge"] = typ
        step["expunged"] = [s(x) for x in data if x]
    steps.append(step)
    prev = uid
ok(*m.select("Drafts", readonly=True))
found = uids(ok(*m.uid("SEARCH", None, "SUBJECT", '"%s"' % A["subject"])))
bodies = []
for u in found:
    data = ok(*m.uid("FETCH", str(u), "(BODY.PEEK[TEXT])"))
    bodies.append([s(x[1]) for x in data if isinstance(x, tuple)][0])
m.logout()
print(json.dumps({"steps": steps, "found": found, "bodies": bodies}))
`;

/**
 * APPEND A["draft"] to Drafts; answers its APPENDUID and its In-Reply-To and References as the
 * server now has them, then sends A["reply"] (the draft resumed with those fields, as a client
 * that reopens it does) and answers the FLAGS of the INBOX message with Message-ID A["parent"]
 * after A["wait"] seconds.
 */
const REPLY_DRAFT = String.raw`
m = imap()
m.untagged_responses.clear()
ok(*m.append("Drafts", "(\Seen \Draft)", None, A["draft"].encode()))
uid = appenduid(m)[1]
ok(*m.select("Drafts", readonly=True))
data = ok(*m.uid("FETCH", str(uid), "(BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO REFERENCES)])"))
fields = [s(x[1]) for x in data if isinstance(x, tuple)][0]
irt = re.search(r"In-Reply-To: *(<[^>]*>)", fields, re.I)
reply = A["reply"].replace("IN-REPLY-TO", irt.group(1) if irt else "<none@x>")
c = smtp()
c.sendmail(A["from"], [A["to"]], reply.encode())
c.quit()
time.sleep(A["wait"])
ok(*m.select("INBOX", readonly=True))
parent = by_message_id(m, "INBOX", A["parent"])
flags = s(ok(*m.uid("FETCH", str(parent[0]), "(FLAGS)"))[0]) if parent else ""
m.logout()
print(json.dumps({"uid": uid, "fields": fields, "parentFlags": flags}))
`;

/** Drafts: UIDs with A["subject"] and their bodies. */
const DRAFTS_NOW = String.raw`
m = imap()
ok(*m.select("Drafts", readonly=True))
found = uids(ok(*m.uid("SEARCH", None, "SUBJECT", '"%s"' % A["subject"])))
bodies = []
for u in found:
    data = ok(*m.uid("FETCH", str(u), "(BODY.PEEK[TEXT])"))
    bodies.append([s(x[1]) for x in data if isinstance(x, tuple)][0])
m.logout()
print(json.dumps({"found": found, "bodies": bodies}))
`;

/**
 * One raw SMTP connection through every kind of bad input, each followed by a NOOP, then a good
 * message and QUIT. Answers the transcript: step name → the replies that matter.
 */
const BAD_INPUT = String.raw`
def msg(subject, body=b"Hello.\r\n", frm=True, extra=b""):
    h = b""
    if frm:
        h += ("From: Demo <%s>\r\n" % A["user"]).encode()
    h += ("To: %s\r\nSubject: %s\r\nMessage-ID: <%s-%s>\r\n" % (A["rcpt"], subject, subject.replace(" ", "-"), A["tag"])).encode()
    return h + extra + b"\r\n" + body
r = Raw()
out = {"greeting": r.greeting}
out["ehlo"] = r.cmd("EHLO client.test")
out["starttls"] = r.starttls()
out["ehlo_tls"] = r.cmd("EHLO client.test")
size = int([l for l in out["ehlo_tls"]["lines"] if l[4:].startswith("SIZE")][0].split()[1])
out["size"] = size
mail = "MAIL FROM:<%s>" % A["user"]
rcpt = "RCPT TO:<%s>" % A["rcpt"]

def plain(user, password):
    return base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()
out["wrong_password"] = r.cmd("AUTH PLAIN " + plain(A["user"], "not-the-password-123"))
out["wrong_password_noop"] = r.cmd("NOOP")
out["auth"] = r.cmd("AUTH PLAIN " + plain(A["user"], A["password"]))

out["data_before_mail"] = r.cmd("DATA")
out["mail1"] = r.cmd(mail)
out["data_before_rcpt"] = r.cmd("DATA")
out["data_before_rcpt_noop"] = r.cmd("NOOP")
out["rset1"] = r.cmd("RSET")

def transaction(name, data, mail_line=mail):
    out[name + "_mail"] = r.cmd(mail_line)
    out[name + "_rcpt"] = r.cmd(rcpt)
    out[name] = r.data(data)
    out[name + "_noop"] = r.cmd("NOOP")

transaction("bare_lf", msg("bare LF", b"line one\nline two\r\n"))
transaction("bare_cr", msg("bare CR", b"line one\rline two\r\n"))
transaction("long_line", msg("long line", b"x" * 1200 + b"\r\n"))
transaction("eight_bit", msg("undeclared eight bit", "Gr\u00fc\u00dfe aus Z\u00fcrich\r\n".encode()))
transaction("no_from", msg("no From header", frm=False))
out["size_param"] = r.cmd(mail + " SIZE=%d" % (size + 1))
out["size_param_noop"] = r.cmd("NOOP")
out["rset2"] = r.cmd("RSET")
# A message that really is larger than SIZE announced: 78-octet lines, streamed.
out["oversize_mail"] = r.cmd(mail)
out["oversize_rcpt"] = r.cmd(rcpt)
out["oversize_354"] = r.cmd("DATA")
r.send(msg("bad oversize", b""))
line = (b"A" * 76) + b"\r\n"
chunk = line * 8192
sent = 0
while sent <= size:
    r.send(chunk)
    sent += len(chunk)
r.send(b".\r\n")
out["oversize"] = r.read()
out["oversize_sent"] = sent
out["oversize_noop"] = r.cmd("NOOP")
transaction("good", msg("good after bad input", "8-bit is fine when declared: Gr\u00fc\u00dfe\r\n".encode(),
            extra=b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"),
            mail + " BODY=8BITMIME")
out["quit"] = r.cmd("QUIT")
print(json.dumps(out))
`;

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

function textMessage(opts: {
  from: string;
  to: string;
  subject: string;
  messageId: string;
  body: string;
  extraHeaders?: string[];
}): string {
  return [
    `From: Demo User <${opts.from}>`,
    `To: ${opts.to}`,
    `Subject: ${opts.subject}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${opts.messageId}>`,
    ...(opts.extraHeaders ?? []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 7bit",
    "",
    opts.body,
    "",
  ].join("\r\n");
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

Deno.test({
  name: "smtp+imap e2e through bridge serve --demo: Sent once, drafts, bad input",
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  await withTempDir(async (home) => {
    const serve = startServe(home);
    const tag = crypto.randomUUID().slice(0, 8);
    try {
      const ready = await demoReady(serve);
      const api = ready.apiUrl;

      await t.step(
        "send, then APPEND the same message to Sent: one copy, APPENDUID is its UID",
        async () => {
          const mid = `sent-append-${tag}@bridge.test`;
          const message = textMessage({
            from: ready.user,
            to: EXTERNAL,
            subject: `Sent and appended ${tag}`,
            messageId: mid,
            body: "Sent over SMTP, then appended to Sent by the client.",
          });
          const r = await python(home, ready, SEND_THEN_APPEND, {
            message,
            rcpt: [EXTERNAL],
            append: true,
            mid: `<${mid}>`,
          });
          assert.deepEqual(r.refused, {});
          assert.equal(r.append.typ, "OK", JSON.stringify(r.append));
          assert.ok(r.append.appenduid, `no APPENDUID: ${JSON.stringify(r.append)}`);
          const appendUid = r.append.appenduid[1];
          assert.deepEqual(r.sent, [appendUid], "right after APPEND");
          // The event loop learns about the send (and the APPEND) and must not add a copy.
          await afterPolls(3);
          const found = await python(home, ready, FIND_BY_MESSAGE_ID, {
            mid: `<${mid}>`,
            boxes: ["Sent", "All Mail", "INBOX"],
          });
          assert.deepEqual(found.Sent, [appendUid], "after the event loop ran");
          assert.equal(found["All Mail"].length, 1);
          assert.deepEqual(found.INBOX, []);
          const onServer = (await refMessages(api, DEMO_EMAIL)).filter((m) => m.ExternalID === mid);
          assert.equal(onServer.length, 1, JSON.stringify(onServer.map((m) => m.LabelIDs)));
          assert.ok(onServer[0].LabelIDs.includes("7"), `${onServer[0].LabelIDs}`);
          const out = (await outbox(api)).filter((e) => e.ExternalID === mid);
          assert.equal(out.length, 1, "delivered once to the external recipient");
        },
      );

      // The message of the next step, appended to Sent late in the step after it.
      const onlyMid = `sent-only-${tag}@bridge.test`;
      let onlyMessage = "";
      let onlySentUid = 0;
      await t.step("send without APPEND: exactly one copy in Sent", async () => {
        onlyMessage = textMessage({
          from: ready.user,
          to: EXTERNAL,
          subject: `Sent without append ${tag}`,
          messageId: onlyMid,
          body: "This client leaves the Sent copy to the server.",
        });
        const r = await python(home, ready, SEND_THEN_APPEND, {
          message: onlyMessage,
          rcpt: [EXTERNAL],
          append: false,
        });
        assert.deepEqual(r.refused, {});
        await eventually(async () => {
          const found = await python(home, ready, FIND_BY_MESSAGE_ID, {
            mid: `<${onlyMid}>`,
            boxes: ["Sent"],
          });
          assert.equal(found.Sent.length, 1, JSON.stringify(found));
          onlySentUid = found.Sent[0];
        });
        await afterPolls(2);
        const again = await python(home, ready, FIND_BY_MESSAGE_ID, {
          mid: `<${onlyMid}>`,
          boxes: ["Sent", "All Mail"],
        });
        assert.deepEqual(again.Sent, [onlySentUid]);
        assert.equal(again["All Mail"].length, 1);
        const onServer = (await refMessages(api, DEMO_EMAIL)).filter((m) =>
          m.ExternalID === onlyMid
        );
        assert.equal(onServer.length, 1);
        assert.ok(onServer[0].LabelIDs.includes("7"));
      });

      await t.step(
        "APPEND to Sent after the event loop has the sent message: the one message, a new UID",
        async () => {
          const r = await python(home, ready, APPEND_TO_SENT, {
            message: onlyMessage,
            mid: `<${onlyMid}>`,
          });
          assert.equal(r.typ, "OK", JSON.stringify(r));
          // An APPEND makes a new message: the sent message gets a new UID, the old one is
          // expunged (a Maildir client keeps one file, not two with one UID).
          const appended = r.appenduid?.[1];
          assert.ok(appended > onlySentUid, JSON.stringify(r));
          assert.deepEqual(r.sent, [appended]);
          await afterPolls(2);
          const found = await python(home, ready, FIND_BY_MESSAGE_ID, {
            mid: `<${onlyMid}>`,
            boxes: ["Sent", "All Mail"],
          });
          assert.deepEqual(found.Sent, [appended]);
          assert.equal(found["All Mail"].length, 1);
          const onServer = (await refMessages(api, DEMO_EMAIL)).filter((m) =>
            m.ExternalID === onlyMid
          );
          assert.equal(onServer.length, 1);
          assert.equal((await outbox(api)).filter((e) => e.ExternalID === onlyMid).length, 1);
        },
      );

      await t.step(
        "Thunderbird-style draft saving (APPEND new, \\Deleted old, EXPUNGE) leaves one draft",
        async () => {
          const subject = `Draft in progress ${tag}`;
          const versions = [1, 2, 3].map((n) =>
            textMessage({
              from: ready.user,
              to: EXTERNAL,
              subject,
              // Thunderbird keeps the draft's Message-ID across saves.
              messageId: `draft-${tag}@bridge.test`,
              body: `Draft version ${n}: ${"words ".repeat(n * 3).trim()}`,
              extraHeaders: ["X-Mozilla-Draft-Info: internal/draft; vcard=0; receipt=0"],
            })
          );
          const r = await python(home, ready, SAVE_DRAFTS, { versions, subject });
          for (const [i, step] of r.steps.entries()) {
            assert.equal(step.append, "OK", `save ${i + 1}: ${JSON.stringify(step)}`);
            assert.ok(step.appenduid, `save ${i + 1}: no APPENDUID`);
            if (i > 0) {
              assert.equal(step.expunge, "OK");
              assert.equal(step.expunged.length, 1, `save ${i + 1}: ${JSON.stringify(step)}`);
            }
          }
          const last = r.steps.at(-1).appenduid[1];
          assert.deepEqual(r.found, [last], JSON.stringify(r));
          assert.match(r.bodies[0], /Draft version 3/);
          const serverDrafts = async () =>
            (await refMessages(api, DEMO_EMAIL)).filter((m) => m.Subject === subject);
          await eventually(async () => {
            const drafts = await serverDrafts();
            assert.equal(drafts.length, 1, JSON.stringify(drafts.map((m) => m.LabelIDs)));
            assert.ok(drafts[0].LabelIDs.includes("8"));
          });
          // The event loop sees the creations and deletions and leaves it so.
          await afterPolls(2);
          const now = await python(home, ready, DRAFTS_NOW, { subject });
          assert.deepEqual(now.found, [last]);
          assert.match(now.bodies[0], /Draft version 3/);
          assert.equal((await serverDrafts()).length, 1);
        },
      );

      await t.step(
        "a reply saved as a draft names its parent: it keeps In-Reply-To, and sent it answers",
        async () => {
          const parentMid = `question-${tag}@elsewhere.test`;
          await refControl(api, "POST", "deliver", {
            To: DEMO_EMAIL,
            From: { Name: "Carol", Address: "carol@elsewhere.test" },
            Subject: `Question ${tag}`,
            Text: "Can you answer?\n",
            ExternalID: parentMid,
          });
          await afterPolls(2);
          const reply = (messageId: string, extra: string[]) =>
            textMessage({
              from: ready.user,
              to: "carol@elsewhere.test",
              subject: `Re: Question ${tag}`,
              messageId,
              body: "Here is my answer.",
              extraHeaders: extra,
            });
          const r = await python(home, ready, REPLY_DRAFT, {
            draft: reply(`reply-draft-${tag}@bridge.test`, [
              `In-Reply-To: <${parentMid}>`,
              `References: <${parentMid}>`,
            ]),
            reply: reply(`reply-${tag}@bridge.test`, ["In-Reply-To: IN-REPLY-TO"]),
            from: ready.user,
            to: "carol@elsewhere.test",
            parent: parentMid,
            wait: 3 * POLL_SECONDS,
          });
          assert.match(r.fields, new RegExp(`In-Reply-To: <${parentMid}>`), r.fields);
          assert.match(r.fields, new RegExp(`References: <${parentMid}>`), r.fields);
          assert.match(r.parentFlags, /\\Answered/, r.parentFlags);
        },
      );

      await t.step(
        "bad input on one raw connection: each refused with its code, the session goes on",
        async () => {
          const r = await python(home, ready, BAD_INPUT, { rcpt: EXTERNAL, tag });
          const transcript = JSON.stringify(r, null, 1);
          const is = (step: string, code: number, enhanced?: string) => {
            assert.equal(r[step].code, code, `${step}: ${JSON.stringify(r[step])}`);
            if (enhanced) assert.equal(r[step].enhanced, enhanced, `${step}: ${r[step].lines}`);
            // A human reason, never a stack trace.
            assert.doesNotMatch(r[step].lines.join("\n"), /\bat .*\.ts:\d+|Error:/);
          };
          is("greeting", 220);
          is("starttls", 220);
          assert.ok(r.ehlo_tls.lines.some((l: string) => /^250[- ]8BITMIME$/.test(l)));
          assert.ok(r.ehlo_tls.lines.some((l: string) => /^250[- ]PIPELINING$/.test(l)));
          assert.ok(r.size > 0, transcript);
          is("wrong_password", 535, "5.7.8");
          is("wrong_password_noop", 250);
          is("auth", 235, "2.7.0");
          is("data_before_mail", 503, "5.5.1");
          is("mail1", 250, "2.1.0");
          is("data_before_rcpt", 503, "5.5.1");
          assert.match(r.data_before_rcpt.lines[0], /RCPT/);
          is("data_before_rcpt_noop", 250);
          is("rset1", 250);
          // Bare LF or CR line ends are taken as CRLF and long lines as they are: sent.
          for (const step of ["bare_lf", "bare_cr", "long_line"]) {
            is(`${step}_mail`, 250);
            is(`${step}_rcpt`, 250);
            is(step, 250, "2.0.0");
            is(`${step}_noop`, 250);
          }
          // 8-bit text without BODY=8BITMIME is accepted by default (smtp.accept_undeclared_8bit).
          is("eight_bit_mail", 250);
          is("eight_bit_rcpt", 250);
          is("eight_bit", 250, "2.0.0");
          is("eight_bit_noop", 250);
          // No From: field: sent as the envelope sender (RFC 6409 §8.1).
          is("no_from", 250, "2.0.0");
          is("size_param", 552, "5.3.4");
          is("size_param_noop", 250);
          is("oversize_mail", 250);
          is("oversize_rcpt", 250);
          is("oversize_354", 354);
          assert.ok(r.oversize_sent > r.size);
          is("oversize", 552, "5.3.4");
          is("oversize_noop", 250);
          is("good_mail", 250);
          is("good_rcpt", 250);
          is("good", 250, "2.0.0");
          is("quit", 221);

          // What was accepted left the server, text intact; nothing refused did.
          const accepted = [
            "bare LF",
            "bare CR",
            "long line",
            "undeclared eight bit",
            "no From header",
            "good after bad input",
          ];
          await eventually(async () => {
            const mine = (await outbox(api)).filter((e) => e.ExternalID.endsWith(`-${tag}`));
            assert.deepEqual(mine.map((e) => e.Subject), accepted);
            assert.match(mine[0].Body ?? "", /line one\r?\nline two/);
            assert.match(mine[2].Body ?? "", /x{1200}/);
            assert.match(mine[3].Body ?? "", /Grüße/);
            assert.match(mine[5].Body ?? "", /Grüße/);
          });
          const sent = (await refMessages(api, DEMO_EMAIL)).filter((m) =>
            m.ExternalID.endsWith(`-${tag}`)
          );
          assert.deepEqual(sent.map((m) => m.Subject), accepted);
        },
      );

      await t.step(
        "sends use the kept addresses and mail settings; a MailSettings event changes them",
        async () => {
          // With both lookups failing on the server, sends still work: they are not asked.
          await refControl(api, "PUT", "faults", {
            Faults: [
              { Method: "GET", Path: "/core/v4/addresses", ErrorRate: 1, Status: 500 },
              { Method: "GET", Path: "/mail/v4/settings", ErrorRate: 1, Status: 500 },
            ],
          });
          const send = async (n: number) => {
            const mid = `kept-settings-${n}-${tag}@bridge.test`;
            const r = await python(home, ready, SEND_THEN_APPEND, {
              message: textMessage({
                from: ready.user,
                to: EXTERNAL,
                subject: `Kept settings ${n} ${tag}`,
                messageId: mid,
                body: `Send ${n} with the kept mail settings.`,
              }),
              rcpt: [EXTERNAL],
              append: false,
              mid: `<${mid}>`,
            });
            assert.deepEqual(r.refused, {});
            let entry: OutboxEntry | undefined;
            await eventually(async () => {
              const out = (await outbox(api)).filter((e) => e.ExternalID === mid);
              assert.equal(out.length, 1);
              entry = out[0];
            });
            return entry!;
          };
          try {
            const before = await send(1);
            assert.equal(before.Signature, 0, "the demo's default: Sign off");
            // The user turns signing on elsewhere: the event reaches bridge within a poll.
            await refControl(api, "PUT", `users/${encodeURIComponent(DEMO_EMAIL)}/mail-settings`, {
              Sign: 1,
            });
            await afterPolls(3);
            const after = await send(2);
            assert.equal(after.Signature, 1, "Sign on after the MailSettings event");
            assert.equal(after.SignatureStatus, "valid");
          } finally {
            await refControl(api, "PUT", "faults", { Faults: [] });
            await refControl(api, "PUT", `users/${encodeURIComponent(DEMO_EMAIL)}/mail-settings`, {
              Sign: 0,
            });
          }
        },
      );
    } finally {
      const code = await serve.stop();
      if (code !== 0) console.error(`serve exited ${code}:\n${serve.stderr}`);
    }
  }, "bridge_smtp_imap_e2e_");
});
