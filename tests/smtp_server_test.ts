/**
 * The SMTP submission server over real sockets, driven by real clients: python3 `smtplib` (plain
 * with AUTH PLAIN/LOGIN, STARTTLS, implicit TLS), raw sockets (PIPELINING, STARTTLS command
 * injection, bad input), curl and `openssl s_client -starttls smtp`. The authenticator is a fake
 * and the submission handler records what it receives.
 */
import assert from "node:assert/strict";
import { generateCertificate } from "../src/tls/certificate.ts";
import {
  type AccountRef,
  type SmtpServer,
  type SmtpServerOptions,
  startSmtpServer,
  type Submission,
  SubmissionError,
} from "../src/smtp/mod.ts";

const USER = "alice@example.com";
const PASS = "bridge-pass-123";

const { certPem, keyPem } = await generateCertificate();

interface Harness {
  server: SmtpServer;
  submissions: Submission[];
  logs: string[];
  dir: string;
  cafile: string;
  /** Runs a python3 script (`port` and `cafile` are argv[1..2]); returns its last stdout line as JSON. */
  py(script: string): Promise<Record<string, unknown>>;
}

async function withServer(
  options: Partial<SmtpServerOptions>,
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "smtp_test_" });
  const cafile = `${dir}/cert.pem`;
  await Deno.writeTextFile(cafile, certPem);
  const submissions: Submission[] = [];
  const logs: string[] = [];
  const server = await startSmtpServer<AccountRef>({
    authenticator: {
      authenticate: (u, p) =>
        Promise.resolve(u === USER && p === PASS ? { id: "user-1", username: u } : null),
    },
    submission: {
      submit(s) {
        submissions.push(s);
        if (new TextDecoder().decode(s.data).includes("X-Refuse: yes")) {
          throw new SubmissionError("cannot send from this address: it is disabled", {
            code: 550,
            enhanced: "5.7.1",
          });
        }
        return Promise.resolve({ queuedAs: `Q${submissions.length}` });
      },
    },
    tls: { certPem, keyPem },
    limits: { authFailureDelayMs: 10, maxMessageSize: 64 * 1024, ...options.limits },
    log: (m) => logs.push(m),
    ...options,
  });
  const py = async (script: string) => {
    const file = `${dir}/client_${crypto.randomUUID()}.py`;
    await Deno.writeTextFile(file, PY_PRELUDE + script);
    const out = await new Deno.Command("python3", {
      args: [file, String(server.port), cafile],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`python failed:\n${stderr}\n${stdout}`);
    return JSON.parse(stdout.split("\n").at(-1)!);
  };
  try {
    await fn({ server, submissions, logs, dir, cafile, py });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const PY_PRELUDE = String.raw`
import base64, json, smtplib, socket, ssl, sys, time
PORT = int(sys.argv[1])
CAFILE = sys.argv[2]
USER = "alice@example.com"
PASS = "bridge-pass-123"
PLAIN = base64.b64encode(("\0" + USER + "\0" + PASS).encode()).decode()

def ctx():
    return ssl.create_default_context(cafile=CAFILE)

class Raw:
    """A line-oriented raw client that reads complete (multi-line) replies."""
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())
    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return " | ".join(lines) if lines else None
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            line = line.decode()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return " | ".join(lines)
    def code(self):
        r = self.reply()
        return None if r is None else int(r[:3])
    def say(self, line):
        self.send(line + "\r\n")
        return self.reply()

def raw_connect():
    r = Raw(socket.create_connection(("127.0.0.1", PORT), timeout=10))
    r.greeting = r.reply()
    return r

MSG = (b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: test\r\n\r\n"
       b"Hello Bob,\r\n.a line starting with a dot\r\n\r\n-- \r\nAlice\r\n")
`;

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const MSG_TEXT = "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: test\r\n\r\n" +
  "Hello Bob,\r\n.a line starting with a dot\r\n\r\n-- \r\nAlice\r\n";

Deno.test("smtp over sockets: smtplib with AUTH PLAIN and AUTH LOGIN on a plain connection", async () => {
  await withServer({}, async (h) => {
    const r = await h.py(String.raw`
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test", timeout=10)
greeting_code = s.ehlo()[0]
features = s.esmtp_features
s.login(USER, PASS)  # PLAIN (smtplib's first choice among PLAIN LOGIN)
refused = s.sendmail(USER, ["bob@example.org", "carol@example.net"], MSG)
s.quit()
s = smtplib.SMTP("127.0.0.1", PORT, timeout=10)
s.ehlo("client.test")
s.user, s.password = USER, PASS
code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
s.mail(USER, ["BODY=8BITMIME", "SIZE=%d" % len(MSG)])
s.rcpt("dave@example.org")
data_reply = s.data(MSG.replace(b"Hello", "Grüß".encode()))
s.quit()
print(json.dumps({"ehlo": greeting_code, "features": features, "refused": refused,
  "login": code, "data": [data_reply[0], data_reply[1].decode()]}))
`);
    assert.equal(r.ehlo, 250);
    const f = r.features as Record<string, string>;
    assert.deepEqual(Object.keys(f).sort(), [
      "8bitmime",
      "auth",
      "enhancedstatuscodes",
      "help",
      "pipelining",
      "size",
      "smtputf8",
      "starttls",
    ]);
    assert.equal(f.size, String(64 * 1024));
    assert.equal(f.auth.trim(), "PLAIN LOGIN"); // smtplib keeps a leading space
    assert.deepEqual(r.refused, {});
    assert.equal(r.login, 235);
    assert.deepEqual(r.data, [250, "2.0.0 OK Q2"]);
    assert.equal(h.submissions.length, 2);
    const [a, b] = h.submissions;
    assert.equal(a.account.username, USER);
    assert.equal(a.mailFrom, USER);
    assert.deepEqual(a.rcptTo, ["bob@example.org", "carol@example.net"]);
    assert.equal(dec(a.data), MSG_TEXT);
    assert.equal(b.body, "8BITMIME");
    assert.equal(dec(b.data), MSG_TEXT.replace("Hello", "Grüß"));
    assert.equal(b.remoteAddress, "127.0.0.1");
  });
});

Deno.test("smtp over sockets: STARTTLS then AUTH (no AUTH offered in clear when not allowed)", async () => {
  await withServer({ allowPlainAuth: false }, async (h) => {
    const r = await h.py(String.raw`
s = smtplib.SMTP("127.0.0.1", PORT, timeout=10)
s.ehlo("client.test")
before = dict(s.esmtp_features)
try:
    s.login(USER, PASS)
    clear_login = "accepted"
except smtplib.SMTPNotSupportedError:
    clear_login = "not offered"
code = s.starttls(context=ctx())[0]
s.ehlo("client.test")
after = dict(s.esmtp_features)
version = s.sock.version()
s.login(USER, PASS)
s.sendmail(USER, ["bob@example.org"], MSG)
s.quit()
print(json.dumps({"before": before, "clear_login": clear_login, "starttls": code,
  "after": after, "version": version}))
`);
    assert.ok("starttls" in (r.before as object));
    assert.ok(!("auth" in (r.before as object)));
    assert.equal(r.clear_login, "not offered");
    assert.equal(r.starttls, 220);
    assert.ok(!("starttls" in (r.after as object)));
    assert.equal((r.after as Record<string, string>).auth.trim(), "PLAIN LOGIN");
    assert.match(String(r.version), /^TLSv1\.[23]$/);
    assert.equal(h.submissions.length, 1);
    assert.equal(dec(h.submissions[0].data), MSG_TEXT);
  });
});

Deno.test("smtp over sockets: implicit TLS with SMTP_SSL", async () => {
  await withServer({ security: "ssl" }, async (h) => {
    assert.equal(h.server.security, "ssl");
    const r = await h.py(String.raw`
s = smtplib.SMTP_SSL("127.0.0.1", PORT, context=ctx(), timeout=10)
s.ehlo("client.test")
features = dict(s.esmtp_features)
s.login(USER, PASS)
s.sendmail(USER, ["bob@example.org"], MSG)
s.quit()
# A client that drops the TLS connection without close_notify must not disturb the server.
raw = ctx().wrap_socket(socket.create_connection(("127.0.0.1", PORT)), server_hostname="127.0.0.1")
raw.recv(100)
raw.sendall(b"EHLO x\r\n")
raw.recv(1000)
raw.close()
time.sleep(0.1)
s = smtplib.SMTP_SSL("127.0.0.1", PORT, context=ctx(), timeout=10)
code = s.noop()[0]
s.quit()
print(json.dumps({"features": features, "noop": code}))
`);
    assert.ok(!("starttls" in (r.features as object)));
    assert.equal((r.features as Record<string, string>).auth.trim(), "PLAIN LOGIN");
    assert.equal(r.noop, 250);
    assert.equal(h.submissions.length, 1);
  });
});

Deno.test("smtp over sockets: PIPELINING (one write, replies in order)", async () => {
  await withServer({}, async (h) => {
    const r = await h.py(String.raw`
c = raw_connect()
c.say("EHLO client.test")
c.send("AUTH PLAIN " + PLAIN + "\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<a@example.org>\r\n"
       "RCPT TO:<not an address>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
codes = [c.code() for _ in range(6)]
c.send("Subject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<c@example.org>\r\n"
       "DATA\r\n")
codes += [c.code() for _ in range(4)]
c.send("second\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
codes += [c.code() for _ in range(4)]
print(json.dumps({"codes": codes, "eof": c.reply()}))
`);
    assert.deepEqual(r.codes, [
      235,
      250,
      250,
      501,
      250,
      354,
      250,
      250,
      250,
      354,
      250,
      250,
      250,
      221,
    ]);
    assert.equal(r.eof, null);
    assert.deepEqual(h.submissions.map((s) => s.rcptTo), [
      ["a@example.org", "b@example.org"],
      ["c@example.org"],
    ]);
    assert.equal(dec(h.submissions[1].data), "second\r\n");
  });
});

Deno.test("smtp over sockets: plaintext injected after STARTTLS is not executed", async () => {
  await withServer({}, async (h) => {
    const r = await h.py(String.raw`
c = raw_connect()
c.say("EHLO client.test")
c.send("STARTTLS\r\nNOOP\r\nAUTH PLAIN " + PLAIN + "\r\n")
starttls = c.reply()
tls = ctx().wrap_socket(c.sock, server_hostname="127.0.0.1")
t = Raw(tls)
t.send("NOOP\r\n")
first = t.reply()
# Had the injected commands run, their replies would come before or after ours.
mail = t.say("MAIL FROM:<alice@example.com>")
t.say("EHLO client.test")
mail2 = t.say("MAIL FROM:<alice@example.com>")
t.send("QUIT\r\n")
rest = []
while True:
    x = t.reply()
    if x is None:
        break
    rest.append(x)
print(json.dumps({"starttls": starttls, "first": first, "mail": mail, "mail2": mail2, "rest": rest}))
`);
    assert.equal(r.starttls, "220 2.0.0 Ready to start TLS");
    assert.equal(r.first, "250 2.0.0 OK");
    assert.equal(r.mail, "503 5.5.1 Send EHLO first");
    assert.equal(r.mail2, "530 5.7.0 Authentication required");
    assert.deepEqual(r.rest, ["221 2.0.0 127.0.0.1 closing connection"]);
    assert.ok(h.logs.some((l) => /dropped \d+ octets sent in clear after STARTTLS/.test(l)));
  });
});

Deno.test("smtp over sockets: bad input gets the right code and the session continues", async () => {
  await withServer({}, async (h) => {
    const r = await h.py(String.raw`
out = {}
s = smtplib.SMTP("127.0.0.1", PORT, timeout=10)
s.ehlo("client.test")
out["unknown"] = s.docmd("FROBNICATE")
out["mail_before_auth"] = s.docmd("MAIL FROM:<alice@example.com>")
try:
    s.login(USER, "wrong password")
except smtplib.SMTPAuthenticationError as e:
    out["wrong_password"] = [e.smtp_code, e.smtp_error.decode()]
out["noop_after_wrong"] = s.noop()
s.login(USER, PASS)
out["data_before_rcpt"] = (s.docmd("MAIL FROM:<alice@example.com>"), s.docmd("DATA"))
s.rset()

def send_raw(body, mail_opts=""):
    s.docmd("MAIL FROM:<alice@example.com>" + mail_opts)
    s.docmd("RCPT TO:<bob@example.org>")
    code = s.docmd("DATA")[0]
    assert code == 354, code
    s.send(body)
    return s.getreply()

out["bare_lf"] = send_raw(b"Subject: x\n\nbare LF\r\n.\r\n")
out["overlong_line"] = send_raw(b"Subject: x\r\n\r\n" + b"a" * 1200 + b"\r\n.\r\n")
out["overlong_command"] = s.docmd("NOOP " + "x" * 5000)
out["eight_bit"] = send_raw("Subject: café\r\n\r\nté\r\n.\r\n".encode())
out["eight_bit_declared"] = send_raw("Subject: café\r\n\r\nté\r\n.\r\n".encode(), " BODY=8BITMIME")
out["size_param"] = s.docmd("MAIL FROM:<alice@example.com> SIZE=%d" % (10 * 1024 * 1024))
out["oversize"] = send_raw(b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 70 + b".\r\n")
out["refused_by_handler"] = send_raw(b"X-Refuse: yes\r\n\r\nx\r\n.\r\n")
out["final_noop"] = s.noop()
s.sendmail(USER, ["bob@example.org"], MSG)
out["quit"] = s.quit()
print(json.dumps({k: [v[0], v[1].decode() if isinstance(v[1], bytes) else v[1]]
                  if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], int)
                  else v for k, v in out.items()}, default=lambda b: b.decode()))
`);
    const code = (k: string) => (r[k] as [number, string])[0];
    const text = (k: string) => (r[k] as [number, string])[1];
    assert.deepEqual(r.unknown, [500, "5.5.1 Unknown command"]);
    assert.deepEqual(r.mail_before_auth, [530, "5.7.0 Authentication required"]);
    assert.deepEqual(r.wrong_password, [535, "5.7.8 Authentication credentials invalid"]);
    assert.equal(code("noop_after_wrong"), 250);
    assert.deepEqual(r.data_before_rcpt, [[250, "2.1.0 Sender OK"], [
      503,
      "5.5.1 Need RCPT before DATA",
    ]]);
    // Bare LF line ends are taken as CRLF, long lines as they are.
    assert.equal(code("bare_lf"), 250);
    assert.equal(code("overlong_line"), 250);
    assert.deepEqual(r.overlong_command, [500, "5.5.2 Line too long"]);
    assert.equal(code("eight_bit"), 554);
    assert.match(text("eight_bit"), /^5\.6\.0 .*BODY=8BITMIME/);
    assert.deepEqual(r.eight_bit_declared, [250, "2.0.0 OK Q3"]);
    assert.equal(code("size_param"), 552);
    assert.match(text("size_param"), /^5\.3\.4 /);
    assert.equal(code("oversize"), 552);
    assert.match(text("oversize"), /^5\.3\.4 Message size exceeds fixed maximum/);
    assert.deepEqual(r.refused_by_handler, [
      550,
      "5.7.1 cannot send from this address: it is disabled",
    ]);
    assert.equal(code("final_noop"), 250);
    assert.equal(code("quit"), 221);
    assert.equal(h.submissions.length, 5);
    assert.equal(dec(h.submissions[0].data), "Subject: x\r\n\r\nbare LF\r\n");
    assert.equal(dec(h.submissions[4].data), MSG_TEXT);
  });
});

Deno.test("smtp over sockets: connection limit and graceful close", async () => {
  await withServer({ limits: { maxConnections: 2, shutdownGraceMs: 3000 } }, async (h) => {
    const r = await h.py(String.raw`
a = raw_connect(); b = raw_connect(); c = raw_connect()
print(json.dumps({"a": a.greeting, "b": b.greeting, "c": c.greeting, "c_eof": c.reply()}))
`);
    assert.match(String(r.a), /^220 127\.0\.0\.1 ESMTP bridge$/);
    assert.match(String(r.b), /^220 /);
    assert.equal(r.c, "421 4.3.2 Too many connections, try again later");
    assert.equal(r.c_eof, null);
  });

  // close(): the idle session is told 421 at once; the one inside a message may finish it.
  const dir = await Deno.makeTempDir({ prefix: "smtp_close_" });
  try {
    const submissions: Submission[] = [];
    const server = await startSmtpServer({
      authenticator: { authenticate: (u) => Promise.resolve({ id: "1", username: u }) },
      submission: { submit: (s) => (submissions.push(s), Promise.resolve({ queuedAs: "Z" })) },
      limits: { shutdownGraceMs: 5000 },
      log: () => {},
    });
    const script = `${dir}/c.py`;
    await Deno.writeTextFile(
      script,
      PY_PRELUDE + String.raw`
idle = raw_connect()
busy = raw_connect()
busy.say("EHLO x")
busy.say("AUTH PLAIN " + PLAIN)
busy.say("MAIL FROM:<alice@example.com>")
print("ready", flush=True)
sys.stdin.readline()  # the test calls close() now
idle_reply = idle.reply()
rcpt = busy.say("RCPT TO:<bob@example.org>")
data = busy.say("DATA")
end = busy.say("x\r\n.")
after = busy.reply()
print(json.dumps({"idle": idle_reply, "rcpt": rcpt, "data": data, "end": end, "after": after}))
`,
    );
    const child = new Deno.Command("python3", {
      args: [script, String(server.port), `${dir}/none`],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("ready\n")) out += (await reader.read()).value ?? "";
    const closing = server.close();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    await child.status;
    await closing;
    const r = JSON.parse(out.trim().split("\n").at(-1)!);
    assert.equal(r.idle, "421 4.3.2 127.0.0.1 Service shutting down");
    assert.equal(r.rcpt, "250 2.1.5 Recipient OK");
    assert.match(r.data, /^354 /);
    assert.equal(r.end, "250 2.0.0 OK Z");
    assert.equal(r.after, "421 4.3.2 127.0.0.1 Service shutting down");
    assert.equal(submissions.length, 1);
    assert.equal(server.connections, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function run(cmd: string, args: string[], stdin?: string) {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function have(cmd: string): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .output()).success || cmd === "openssl";
  } catch {
    return false;
  }
}

Deno.test({
  name: "smtp over sockets: curl sends over plain and over STARTTLS",
  ignore: !(await have("curl")),
  fn: async () => {
    await withServer({}, async (h) => {
      const file = `${h.dir}/msg.eml`;
      await Deno.writeTextFile(file, MSG_TEXT);
      const base = [
        "-sS",
        "--mail-from",
        USER,
        "--mail-rcpt",
        "bob@example.org",
        "--upload-file",
        file,
        "--user",
        `${USER}:${PASS}`,
      ];
      const plain = await run("curl", [`smtp://127.0.0.1:${h.server.port}`, ...base]);
      assert.equal(plain.code, 0, plain.stderr);
      const tls = await run("curl", [
        `smtp://127.0.0.1:${h.server.port}`,
        "--ssl-reqd",
        "--cacert",
        h.cafile,
        ...base,
      ]);
      assert.equal(tls.code, 0, tls.stderr);
      const bad = await run("curl", [
        `smtp://127.0.0.1:${h.server.port}`,
        ...base.slice(0, -1),
        `${USER}:wrong`,
      ]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /535|Login denied/);
      assert.equal(h.submissions.length, 2);
      for (const s of h.submissions) {
        assert.equal(dec(s.data), MSG_TEXT);
        assert.deepEqual(s.rcptTo, ["bob@example.org"]);
      }
    });
  },
});

Deno.test({
  name: "smtp over sockets: openssl s_client -starttls smtp",
  ignore: !(await have("openssl")),
  fn: async () => {
    await withServer({ allowPlainAuth: false }, async (h) => {
      const plain = btoa(`\0${USER}\0${PASS}`);
      const r = await run("openssl", [
        "s_client",
        "-starttls",
        "smtp",
        "-connect",
        `127.0.0.1:${h.server.port}`,
        "-CAfile",
        h.cafile,
        "-verify_return_error",
        "-crlf",
        "-quiet",
      ], `EHLO openssl.test\nAUTH PLAIN ${plain}\nNOOP\nQUIT\n`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /250-AUTH PLAIN LOGIN/);
      assert.doesNotMatch(r.stdout, /250-STARTTLS/);
      assert.match(r.stdout, /235 2\.7\.0 Authentication successful/);
      assert.match(r.stdout, /250 2\.0\.0 OK/);
      assert.match(r.stdout, /221 2\.0\.0 /);
    });
  },
});
