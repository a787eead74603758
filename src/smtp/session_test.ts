import assert from "node:assert/strict";
import { MemoryConnection } from "./_memory_connection.ts";
import { AuthThrottle } from "../connector/auth_throttle.ts";
import type { AccountRef, Authenticator } from "./authenticator.ts";
import { resolveLimits, type SmtpLimits } from "./limits.ts";
import { SmtpSession } from "./session.ts";
import { type Submission, SubmissionError, type SubmissionHandler } from "./submission.ts";

const USER = "alice@example.com";
const PASS = "s3cret pass";
const PLAIN = btoa(`\0${USER}\0${PASS}`);

const fakeAuth: Authenticator = {
  authenticate(username, password) {
    return Promise.resolve(
      username === USER && password === PASS ? { id: "u1", username } : null,
    );
  },
};

interface Setup {
  conn?: MemoryConnection;
  limits?: Partial<SmtpLimits>;
  allowPlainAuth?: boolean;
  authenticator?: Authenticator;
  submit?: (s: Submission) => Promise<{ queuedAs?: string }>;
  acceptUndeclared8bit?: boolean;
  throttle?: AuthThrottle;
}

function start(setup: Setup = {}) {
  const conn = setup.conn ?? new MemoryConnection({ tls: true });
  const submissions: Submission[] = [];
  const logs: string[] = [];
  const submission: SubmissionHandler = {
    submit(s) {
      submissions.push(s);
      return setup.submit
        ? setup.submit(s)
        : Promise.resolve({ queuedAs: `id${submissions.length}` });
    },
  };
  const limits = resolveLimits({ authFailureDelayMs: 0, ...setup.limits });
  const session = new SmtpSession<AccountRef>(conn, {
    hostname: "127.0.0.1",
    authenticator: setup.authenticator ?? fakeAuth,
    submission,
    limits,
    allowPlainAuth: setup.allowPlainAuth ?? true,
    acceptUndeclared8bit: setup.acceptUndeclared8bit,
    throttle: setup.throttle ?? new AuthThrottle({
      baseDelayMs: limits.authFailureDelayMs,
      maxDelayMs: limits.authFailureMaxDelayMs,
      lockoutFailures: limits.authLockoutFailures,
      windowMs: limits.authFailureWindowMs,
    }),
    log: (m) => logs.push(m),
  });
  const done = session.run();
  const say = async (line: string) => {
    conn.send(line + "\r\n");
    return await conn.reply();
  };
  /** Greeting, EHLO and AUTH PLAIN. */
  const login = async () => {
    assert.match((await conn.reply())!, /^220 /);
    assert.match((await say("EHLO client.example"))!, /^250 /m);
    assert.equal(await say(`AUTH PLAIN ${PLAIN}`), "235 2.7.0 Authentication successful\r\n");
  };
  const quit = async () => {
    assert.match((await say("QUIT"))!, /^221 2\.0\.0 /);
    await done;
  };
  return { conn, session, submissions, logs, done, say, login, quit };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("session: greeting and EHLO capabilities", async () => {
  const t = start();
  assert.equal(await t.conn.reply(), "220 127.0.0.1 ESMTP bridge\r\n");
  const ehlo = await t.say("EHLO client.example");
  assert.equal(
    ehlo,
    [
      "250-127.0.0.1",
      "250-PIPELINING",
      `250-SIZE ${35 * 1024 * 1024}`,
      "250-8BITMIME",
      "250-ENHANCEDSTATUSCODES",
      "250-SMTPUTF8",
      "250-STARTTLS",
      "250-AUTH PLAIN LOGIN",
      "250 HELP",
      "",
    ].join("\r\n"),
  );
  assert.doesNotMatch(ehlo!, /CHUNKING|DSN/);
  assert.equal(await t.say("HELO client.example"), "250 127.0.0.1\r\n");
  await t.quit();
});

Deno.test("session: no AUTH before TLS unless allowed; no STARTTLS without TLS", async () => {
  const t = start({ allowPlainAuth: false });
  await t.conn.reply();
  const ehlo = (await t.say("EHLO x"))!;
  assert.match(ehlo, /STARTTLS/);
  assert.doesNotMatch(ehlo, /AUTH/);
  assert.equal(
    await t.say(`AUTH PLAIN ${PLAIN}`),
    "538 5.7.11 Encryption required: use STARTTLS before AUTH\r\n",
  );
  await t.quit();

  const u = start({ conn: new MemoryConnection({ tls: false }) });
  await u.conn.reply();
  const ehlo2 = (await u.say("EHLO x"))!;
  assert.doesNotMatch(ehlo2, /STARTTLS/);
  assert.match(ehlo2, /AUTH PLAIN LOGIN/);
  assert.equal(await u.say("STARTTLS"), "502 5.5.1 STARTTLS is not available\r\n");
  await u.quit();
});

Deno.test("session: full submission with dot-unstuffing; session continues", async () => {
  const t = start();
  await t.login();
  t.conn.send(
    "MAIL FROM:<alice@example.com> SIZE=100 BODY=8BITMIME\r\n" +
      "RCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.net>\r\nRCPT TO:<BOB@example.org>\r\n" +
      "DATA\r\n",
  );
  assert.equal(await t.conn.reply(), "250 2.1.0 Sender OK\r\n");
  for (let i = 0; i < 3; i++) assert.equal(await t.conn.reply(), "250 2.1.5 Recipient OK\r\n");
  assert.equal(await t.conn.reply(), "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
  t.conn.send("Subject: hi\r\n\r\n..leading dot\r\nh\u00e9\r\n.\r\n");
  assert.equal(await t.conn.reply(), "250 2.0.0 OK id1\r\n");
  assert.equal(t.submissions.length, 1);
  const s = t.submissions[0];
  assert.equal(s.mailFrom, USER);
  assert.deepEqual(s.rcptTo, ["bob@example.org", "carol@example.net"]);
  assert.equal(s.body, "8BITMIME");
  assert.equal(s.smtputf8, false);
  assert.equal(s.account.username, USER);
  assert.equal(text(s.data), "Subject: hi\r\n\r\n.leading dot\r\nh\u00e9\r\n");
  // A second message on the same connection.
  assert.match((await t.say("MAIL FROM:<alice@example.com>"))!, /^250 /);
  assert.match((await t.say("RCPT TO:<bob@example.org>"))!, /^250 /);
  assert.match((await t.say("DATA"))!, /^354 /);
  assert.equal(await t.say("x\r\n."), "250 2.0.0 OK id2\r\n");
  await t.quit();
});

Deno.test("session: PIPELINING replies come in order and grouped", async () => {
  const t = start();
  await t.login();
  const before = t.conn.writes.length;
  t.conn.send(
    "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@x.org>\r\nRCPT TO:<bad>\r\nRCPT TO:<b@x.org>\r\n" +
      "DATA\r\n",
  );
  assert.equal(await t.conn.reply(), "250 2.1.0 Sender OK\r\n");
  assert.equal(await t.conn.reply(), "250 2.1.5 Recipient OK\r\n");
  assert.match((await t.conn.reply())!, /^501 5\.1\.3 /);
  assert.equal(await t.conn.reply(), "250 2.1.5 Recipient OK\r\n");
  assert.match((await t.conn.reply())!, /^354 /);
  assert.equal(t.conn.writes.length, before + 1, "one write for the whole group");
  // Message, end, and the next commands in one packet.
  t.conn.send("hello\r\n.\r\nNOOP\r\nRSET\r\n");
  assert.equal(await t.conn.reply(), "250 2.0.0 OK id1\r\n");
  assert.equal(await t.conn.reply(), "250 2.0.0 OK\r\n");
  assert.equal(await t.conn.reply(), "250 2.0.0 OK\r\n");
  assert.deepEqual(t.submissions[0].rcptTo, ["a@x.org", "b@x.org"]);
  await t.quit();
});

Deno.test("session: AUTH PLAIN with continuation, LOGIN, cancel and errors", async () => {
  const t = start();
  await t.conn.reply();
  await t.say("EHLO x");
  assert.equal(await t.say("AUTH PLAIN"), "334 \r\n");
  assert.equal(await t.say("*"), "501 5.7.0 Authentication cancelled\r\n");
  assert.equal(
    await t.say("AUTH PLAIN not*base64"),
    "501 5.5.2 Cannot decode: the response is not valid base64\r\n",
  );
  assert.match((await t.say(`AUTH PLAIN ${btoa("no-nuls")}`))!, /^501 5\.5\.2 /);
  assert.equal(
    await t.say("AUTH CRAM-MD5"),
    "504 5.5.4 Unrecognized authentication mechanism CRAM-MD5\r\n",
  );
  assert.equal(await t.say("AUTH LOGIN"), `334 ${btoa("Username:")}\r\n`);
  assert.equal(await t.say(btoa(USER)), `334 ${btoa("Password:")}\r\n`);
  assert.equal(await t.say(btoa(PASS)), "235 2.7.0 Authentication successful\r\n");
  assert.equal(await t.say(`AUTH PLAIN ${PLAIN}`), "503 5.5.1 Already authenticated\r\n");
  await t.quit();

  const u = start();
  await u.conn.reply();
  await u.say("EHLO x");
  assert.equal(await u.say("AUTH PLAIN"), "334 \r\n");
  assert.equal(await u.say(PLAIN), "235 2.7.0 Authentication successful\r\n");
  await u.quit();

  // LOGIN with the username as initial response; UTF-8 credentials.
  const utf: Authenticator = {
    authenticate: (u, p) =>
      Promise.resolve(
        u === "jürgen@example.com" && p === "pässwörd" ? { id: "2", username: u } : null,
      ),
  };
  const v = start({ authenticator: utf });
  await v.conn.reply();
  await v.say("EHLO x");
  const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
  assert.match((await v.say(`AUTH LOGIN ${b64("jürgen@example.com")}`))!, /^334 /);
  assert.equal(await v.say(b64("pässwörd")), "235 2.7.0 Authentication successful\r\n");
  await v.quit();
});

Deno.test("session: wrong password gets 535 and the session continues; 3rd failure closes", async () => {
  const t = start();
  await t.conn.reply();
  await t.say("EHLO x");
  const wrong = btoa(`\0${USER}\0nope`);
  assert.equal(
    await t.say(`AUTH PLAIN ${wrong}`),
    "535 5.7.8 Authentication credentials invalid\r\n",
  );
  assert.equal(await t.say("NOOP"), "250 2.0.0 OK\r\n");
  assert.equal(
    await t.say(`AUTH PLAIN ${wrong}`),
    "535 5.7.8 Authentication credentials invalid\r\n",
  );
  assert.equal(
    await t.say(`AUTH PLAIN ${wrong}`),
    "421 4.7.0 Too many failed authentication attempts, closing connection\r\n",
  );
  await t.done;
  assert.ok(t.conn.closed);
  assert.ok(t.logs.some((l) => l.includes("authentication failed for alice@example.com")));
  assert.ok(!t.logs.some((l) => l.includes("nope")), "password never logged");
});

Deno.test("session: auth failures are delayed per address, growing", async () => {
  const throttle = new AuthThrottle({
    baseDelayMs: 40,
    maxDelayMs: 1000,
    lockoutFailures: 100,
    windowMs: 60_000,
  });
  const t = start({ throttle, limits: { maxAuthFailuresPerConnection: 10 } });
  await t.conn.reply();
  await t.say("EHLO x");
  const wrong = btoa(`\0${USER}\0nope`);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    assert.match((await t.say(`AUTH PLAIN ${wrong}`))!, /^535 /);
    times.push(performance.now() - t0);
  }
  assert.ok(times[0] >= 35 && times[1] >= 75 && times[2] >= 155, times.join(","));
  // A correct login is not delayed.
  const t0 = performance.now();
  assert.match((await t.say(`AUTH PLAIN ${PLAIN}`))!, /^235 /);
  assert.ok(performance.now() - t0 < 100);
  await t.quit();
});

Deno.test("session: a locked address is closed at its next failure", async () => {
  const throttle = new AuthThrottle({
    baseDelayMs: 0,
    maxDelayMs: 0,
    lockoutFailures: 2,
    windowMs: 60_000,
  });
  const wrong = btoa(`\0${USER}\0nope`);
  const t = start({ throttle });
  await t.conn.reply();
  await t.say("EHLO x");
  assert.match((await t.say(`AUTH PLAIN ${wrong}`))!, /^535 /);
  await t.quit();
  const u = start({ throttle });
  await u.conn.reply();
  await u.say("EHLO x");
  assert.match((await u.say(`AUTH PLAIN ${wrong}`))!, /^421 4\.7\.0 /);
  await u.done;
  // The right password still works from a locked address.
  const v = start({ throttle });
  await v.login();
  await v.quit();
});

Deno.test("session: authenticator failure is temporary (454)", async () => {
  const t = start({
    authenticator: { authenticate: () => Promise.reject(new Error("vault locked")) },
  });
  await t.conn.reply();
  await t.say("EHLO x");
  assert.equal(
    await t.say(`AUTH PLAIN ${PLAIN}`),
    "454 4.7.0 Temporary authentication failure, try again later\r\n",
  );
  await t.quit();
});

Deno.test("session: sequence errors", async () => {
  const t = start();
  await t.conn.reply();
  assert.equal(await t.say("MAIL FROM:<a@b.c>"), "503 5.5.1 Send EHLO first\r\n");
  assert.equal(await t.say("AUTH PLAIN"), "503 5.5.1 Send EHLO first\r\n");
  await t.say("EHLO x");
  assert.equal(await t.say("MAIL FROM:<a@b.c>"), "530 5.7.0 Authentication required\r\n");
  assert.equal(await t.say("RCPT TO:<a@b.c>"), "530 5.7.0 Authentication required\r\n");
  assert.equal(await t.say("DATA"), "530 5.7.0 Authentication required\r\n");
  assert.equal(await t.say(`AUTH PLAIN ${PLAIN}`), "235 2.7.0 Authentication successful\r\n");
  assert.equal(await t.say("RCPT TO:<a@b.c>"), "503 5.5.1 Need MAIL before RCPT\r\n");
  assert.equal(await t.say("DATA"), "503 5.5.1 Need MAIL before DATA\r\n");
  assert.equal(await t.say("MAIL FROM:<a@b.c>"), "250 2.1.0 Sender OK\r\n");
  assert.equal(await t.say("DATA"), "503 5.5.1 Need RCPT before DATA\r\n");
  assert.equal(await t.say("MAIL FROM:<a@b.c>"), "503 5.5.1 Nested MAIL command\r\n");
  assert.equal(await t.say("AUTH PLAIN x"), "503 5.5.1 Already authenticated\r\n");
  assert.equal(await t.say("RSET"), "250 2.0.0 OK\r\n");
  assert.equal(await t.say("MAIL FROM:<>"), "250 2.1.0 Sender OK\r\n");
  assert.equal(await t.say("DATA x"), "501 5.5.4 DATA takes no parameters\r\n");
  await t.quit();
});

Deno.test("session: unknown, unimplemented and informational commands", async () => {
  const t = start();
  await t.conn.reply();
  assert.equal(await t.say("FOO bar"), "500 5.5.1 Unknown command\r\n");
  assert.equal(await t.say(""), "500 5.5.1 Unknown command\r\n");
  assert.equal(await t.say("EXPN list"), "502 5.5.1 EXPN is not implemented\r\n");
  assert.equal(await t.say("BDAT 10 LAST"), "502 5.5.1 BDAT is not implemented\r\n");
  assert.equal(
    await t.say("VRFY bob"),
    "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n",
  );
  assert.match((await t.say("HELP"))!, /^214-2\.0\.0 Commands: .*\r\n214 2\.0\.0 /);
  assert.equal(await t.say("EHLO"), "501 5.5.4 Syntax: EHLO <your domain or address>\r\n");
  assert.equal(await t.say("noop"), "250 2.0.0 OK\r\n");
  await t.quit();
});

Deno.test("session: too many bad commands close the connection", async () => {
  const t = start({ limits: { maxBadCommands: 3 } });
  await t.conn.reply();
  t.conn.send("A\r\nB\r\nC\r\nNOOP\r\n");
  assert.match((await t.conn.reply())!, /^500 /);
  assert.match((await t.conn.reply())!, /^500 /);
  assert.equal(await t.conn.reply(), "421 4.7.0 Too many errors, closing connection\r\n");
  assert.equal(await t.conn.reply(), null, "the NOOP after the 421 is not executed");
  await t.done;
});

Deno.test("session: overlong command line gets 500 5.5.2 and the session continues", async () => {
  const t = start({ limits: { maxCommandLineLength: 600, maxAuthLineLength: 1000 } });
  await t.conn.reply();
  assert.equal(await t.say("NOOP " + "x".repeat(700)), "500 5.5.2 Line too long\r\n");
  // Longer than any buffer: skipped across several reads.
  t.conn.send("NOOP " + "y".repeat(3000));
  t.conn.send("z".repeat(3000));
  t.conn.send("\r\nNOOP\r\n");
  assert.equal(await t.conn.reply(), "500 5.5.2 Line too long\r\n");
  assert.equal(await t.conn.reply(), "250 2.0.0 OK\r\n");
  await t.quit();
});

Deno.test("session: MAIL and RCPT parameters", async () => {
  const t = start({ limits: { maxMessageSize: 5000, maxRecipients: 2 } });
  await t.login();
  assert.equal(
    await t.say("MAIL FROM:<alice@example.com> SIZE=5001"),
    "552 5.3.4 Message size exceeds fixed maximum message size (5000 octets)\r\n",
  );
  assert.equal(await t.say("MAIL FROM:<a@b.c> SIZE=x"), "501 5.5.4 Bad SIZE value\r\n");
  assert.equal(
    await t.say("MAIL FROM:<a@b.c> BODY=BINARYMIME"),
    "555 5.5.4 BODY=BINARYMIME is not supported\r\n",
  );
  assert.equal(
    await t.say("MAIL FROM:<a@b.c> RET=HDRS"),
    "555 5.5.4 MAIL FROM parameter RET is not supported\r\n",
  );
  assert.equal(
    await t.say("MAIL FROM:<jörg@b.c>"),
    "553 5.6.7 A non-ASCII address needs the SMTPUTF8 parameter\r\n",
  );
  assert.equal(await t.say("MAIL FROM:a@b.c"), "250 2.1.0 Sender OK\r\n");
  assert.equal(await t.say("RSET"), "250 2.0.0 OK\r\n");
  assert.equal(await t.say("MAIL TO:<a@b.c>"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  assert.equal(await t.say("MAIL FROM: <a@b.c> AUTH=<> SIZE=10"), "250 2.1.0 Sender OK\r\n");
  assert.equal(
    await t.say("RCPT TO:<x@y.z> NOTIFY=NEVER"),
    "555 5.5.4 RCPT TO parameter NOTIFY is not supported\r\n",
  );
  assert.equal(
    await t.say("RCPT TO:<jörg@y.z>"),
    "553 5.6.7 A non-ASCII address needs SMTPUTF8 in MAIL FROM\r\n",
  );
  assert.equal(await t.say("RCPT TO:<x@y.z>"), "250 2.1.5 Recipient OK\r\n");
  assert.equal(await t.say("RCPT TO:<w@y.z>"), "250 2.1.5 Recipient OK\r\n");
  assert.equal(await t.say("RCPT TO:<v@y.z>"), "452 4.5.3 Too many recipients (at most 2)\r\n");
  assert.equal(await t.say("RSET"), "250 2.0.0 OK\r\n");
  assert.equal(await t.say("MAIL FROM:<jörg@b.c> SMTPUTF8"), "250 2.1.0 Sender OK\r\n");
  assert.equal(await t.say("RCPT TO:<δοκιμή@παράδειγμα.δοκιμή>"), "250 2.1.5 Recipient OK\r\n");
  assert.match((await t.say("DATA"))!, /^354 /);
  assert.match((await t.say("Subject: χ\r\n\r\nü\r\n."))!, /^250 2\.0\.0 OK/);
  assert.equal(t.submissions[0].smtputf8, true);
  assert.deepEqual(t.submissions[0].rcptTo, ["δοκιμή@παράδειγμα.δοκιμή"]);
  await t.quit();
});

async function sendMessage(t: ReturnType<typeof start>, mail: string, body: string | Uint8Array) {
  assert.match((await t.say(mail))!, /^250 /);
  assert.match((await t.say("RCPT TO:<bob@example.org>"))!, /^250 /);
  assert.match((await t.say("DATA"))!, /^354 /);
  t.conn.send(body);
  return await t.conn.reply();
}

Deno.test("session: bad message content is refused after the end; the session continues", async () => {
  const t = start({ limits: { maxMessageSize: 2000 } });
  await t.login();
  const from = "MAIL FROM:<alice@example.com>";
  // Bare LF or CR line ends are taken as CRLF, and lines over 998 characters as they are
  // (scripts send both; the size is the limit).
  assert.match((await sendMessage(t, from, "Subject: x\n\nbare LF\r\n.\r\n"))!, /^250 /);
  assert.match((await sendMessage(t, from, "a\r\nb\rc\r\n.\r\n"))!, /^250 /);
  assert.match((await sendMessage(t, from, "a\r\n" + "x".repeat(1500) + "\r\n.\r\n"))!, /^250 /);
  assert.match((await sendMessage(t, from, "." + "x".repeat(998) + "\r\n.\r\n"))!, /^250 /);
  assert.equal(
    await sendMessage(t, from, "Subject: caf\u00e9\r\n\r\n.\r\n"),
    "554 5.6.0 Message has 8-bit data but MAIL FROM did not declare BODY=8BITMIME (RFC 6152)\r\n",
  );
  assert.match((await sendMessage(t, from + " BODY=8BITMIME", "caf\u00e9\r\n.\r\n"))!, /^250 /);
  assert.equal(
    await sendMessage(t, from, ("y".repeat(98) + "\r\n").repeat(30) + ".\r\n"),
    "552 5.3.4 Message size exceeds fixed maximum message size (2000 octets)\r\n",
  );
  assert.equal(await t.say("NOOP"), "250 2.0.0 OK\r\n");
  assert.equal(t.submissions.length, 5);
  assert.equal(new TextDecoder().decode(t.submissions[0].data), "Subject: x\r\n\r\nbare LF\r\n");
  assert.equal(new TextDecoder().decode(t.submissions[1].data), "a\r\nb\r\nc\r\n");
  await t.quit();
});

Deno.test("session: 8-bit without BODY is accepted when configured so", async () => {
  const t = start({ acceptUndeclared8bit: true });
  await t.login();
  assert.match((await sendMessage(t, "MAIL FROM:<a@b.c>", "\u00e9\r\n.\r\n"))!, /^250 /);
  await t.quit();
});

Deno.test("session: LF.CRLF does not end the message (no smuggling)", async () => {
  const t = start();
  await t.login();
  assert.match((await t.say("MAIL FROM:<a@b.c>"))!, /^250 /);
  assert.match((await t.say("RCPT TO:<b@c.d>"))!, /^250 /);
  assert.match((await t.say("DATA"))!, /^354 /);
  t.conn.send("one\n.\r\nMAIL FROM:<evil@x.y>\r\nRCPT TO:<v@x.y>\r\nDATA\r\nsmuggled\r\n.\r\n");
  // One message, with what follows the bare LF as its content: no second transaction.
  assert.match((await t.conn.reply())!, /^250 /);
  assert.equal(t.submissions.length, 1);
  assert.deepEqual(t.submissions[0].rcptTo, ["b@c.d"]);
  assert.equal(
    new TextDecoder().decode(t.submissions[0].data),
    "one\r\n.\r\nMAIL FROM:<evil@x.y>\r\nRCPT TO:<v@x.y>\r\nDATA\r\nsmuggled\r\n",
  );
  assert.equal(await t.say("NOOP"), "250 2.0.0 OK\r\n");
  await t.quit();
});

Deno.test("session: submission errors become replies", async () => {
  let mode = "perm";
  const t = start({
    submit: () => {
      if (mode === "perm") {
        throw new SubmissionError("cannot send from bob@x.y:\r\n250 not an address of yours", {
          code: 550,
          enhanced: "5.7.1",
        });
      }
      if (mode === "temp") throw new SubmissionError("API unreachable", { temporary: true });
      if (mode === "crash") throw new TypeError("x is undefined");
      return Promise.resolve({});
    },
  });
  await t.login();
  const from = "MAIL FROM:<alice@example.com>";
  assert.equal(
    await sendMessage(t, from, "x\r\n.\r\n"),
    "550 5.7.1 cannot send from bob@x.y: 250 not an address of yours\r\n",
  );
  mode = "temp";
  assert.equal(await sendMessage(t, from, "x\r\n.\r\n"), "451 4.3.0 API unreachable\r\n");
  mode = "crash";
  assert.equal(
    await sendMessage(t, from, "x\r\n.\r\n"),
    "451 4.3.0 Local error while sending; the message was not sent, try again\r\n",
  );
  assert.ok(t.logs.some((l) => l.includes("TypeError: x is undefined")));
  mode = "ok";
  assert.equal(await sendMessage(t, from, "x\r\n.\r\n"), "250 2.0.0 OK\r\n");
  await t.quit();
});

Deno.test("session: STARTTLS drops pipelined plaintext and resets state", async () => {
  const t = start({ allowPlainAuth: true });
  await t.login();
  t.conn.send("STARTTLS\r\nNOOP\r\nMAIL FROM:<evil@x.y>\r\n");
  assert.equal(await t.conn.reply(), "220 2.0.0 Ready to start TLS\r\n");
  assert.ok(t.conn.upgraded);
  // Nothing answered the injected commands.
  assert.equal(await t.say("MAIL FROM:<a@b.c>"), "503 5.5.1 Send EHLO first\r\n");
  const ehlo = (await t.say("EHLO x"))!;
  assert.doesNotMatch(ehlo, /STARTTLS/);
  assert.match(ehlo, /AUTH PLAIN LOGIN/);
  assert.equal(await t.say("MAIL FROM:<a@b.c>"), "530 5.7.0 Authentication required\r\n");
  assert.equal(await t.say("STARTTLS"), "503 5.5.1 TLS is already active\r\n");
  assert.ok(t.logs.some((l) => l.includes("dropped") && l.includes("after STARTTLS")));
  await t.quit();
});

Deno.test("session: a failed STARTTLS handshake ends the session", async () => {
  const conn = new MemoryConnection({ tls: true });
  conn.failTls = true;
  const t = start({ conn });
  await conn.reply();
  assert.match((await t.say("STARTTLS"))!, /^220 /);
  await t.done;
  assert.ok(conn.closed);
});

Deno.test("session: idle timeout", async () => {
  const t = start({ limits: { idleTimeoutMs: 50 } });
  await t.conn.reply();
  assert.equal(await t.conn.reply(), "421 4.4.2 127.0.0.1 Idle timeout, closing connection\r\n");
  await t.done;
  assert.ok(t.conn.closed);
});

Deno.test("session: no AUTH in time closes the connection, however busy the client keeps it", async () => {
  const t = start({ limits: { preAuthTimeoutMs: 150, idleTimeoutMs: 10_000 } });
  await t.conn.reply();
  // NOOPs keep it from being idle, not from the deadline.
  for (let i = 0; i < 3; i++) assert.match((await t.say("NOOP"))!, /^250 /);
  assert.equal(
    await t.conn.reply(),
    "421 4.4.2 127.0.0.1 No authentication in time, closing connection\r\n",
  );
  await t.done;
  assert.ok(t.conn.closed);
  // Once authenticated, only the idle timeout counts.
  const u = start({ limits: { preAuthTimeoutMs: 100, idleTimeoutMs: 10_000 } });
  await u.login();
  await new Promise((r) => setTimeout(r, 250));
  assert.match((await u.say("NOOP"))!, /^250 /);
  assert.match((await u.say("QUIT"))!, /^221 /);
  await u.done;
});

Deno.test("session: shutdown while idle, and after the message in progress", async () => {
  const t = start();
  await t.conn.reply();
  t.session.requestShutdown();
  assert.equal(await t.conn.reply(), "421 4.3.2 127.0.0.1 Service shutting down\r\n");
  await t.done;

  const u = start();
  await u.login();
  assert.match((await u.say("MAIL FROM:<a@b.c>"))!, /^250 /);
  u.session.requestShutdown();
  assert.ok(u.session.busy);
  assert.match((await u.say("RCPT TO:<b@c.d>"))!, /^250 /);
  assert.match((await u.say("DATA"))!, /^354 /);
  assert.match((await u.say("x\r\n."))!, /^250 2\.0\.0 OK/);
  assert.equal(await u.conn.reply(), "421 4.3.2 127.0.0.1 Service shutting down\r\n");
  await u.done;
  assert.equal(u.submissions.length, 1);
});

Deno.test("session: implicit TLS on the plaintext port and HTTP are recognised", async () => {
  const t = start();
  await t.conn.reply();
  t.conn.send(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x10]));
  await t.done;
  assert.equal(t.conn.unread, "");
  assert.ok(t.logs.some((l) => l.includes("implicit TLS")));

  const u = start();
  await u.conn.reply();
  assert.equal(
    await u.say("POST / HTTP/1.1"),
    "421 4.7.0 This is an SMTP server, not HTTP; closing connection\r\n",
  );
  await u.done;
});

Deno.test("session: EOF in the middle of DATA ends quietly", async () => {
  const t = start();
  await t.login();
  assert.match((await t.say("MAIL FROM:<a@b.c>"))!, /^250 /);
  assert.match((await t.say("RCPT TO:<b@c.d>"))!, /^250 /);
  assert.match((await t.say("DATA"))!, /^354 /);
  t.conn.send("partial");
  t.conn.end();
  await t.done;
  assert.equal(t.submissions.length, 0);
});

Deno.test("session: a client that stops reading replies is dropped", async () => {
  const t = start({ limits: { idleTimeoutMs: 50 } });
  await t.conn.reply();
  t.conn.stallWrites = true;
  t.conn.send("NOOP\r\n");
  await t.done;
  assert.ok(t.conn.closed);
  assert.ok(t.logs.some((l) => l.includes("stopped reading")));
});

Deno.test("session: an internal error answers 451 and keeps the connection", async () => {
  const conn = new MemoryConnection();
  const limits = resolveLimits();
  let explode = true;
  const session = new SmtpSession(conn, {
    hostname: "h",
    authenticator: fakeAuth,
    submission: { submit: () => Promise.resolve({}) },
    limits,
    allowPlainAuth: true,
    throttle: new AuthThrottle({ baseDelayMs: 0, maxDelayMs: 0, lockoutFailures: 9, windowMs: 1 }),
    log: (m) => {
      if (explode && m.includes("authenticated as")) throw new Error("logger bug");
    },
  });
  const done = session.run();
  await conn.reply();
  conn.send(`EHLO x\r\nAUTH PLAIN ${PLAIN}\r\nNOOP\r\n`);
  assert.match((await conn.reply())!, /^250 HELP/m);
  assert.equal(
    await conn.reply(),
    "451 4.3.0 Internal error, command not executed; try again\r\n",
  );
  assert.equal(await conn.reply(), "250 2.0.0 OK\r\n");
  explode = false;
  conn.send("QUIT\r\n");
  assert.match((await conn.reply())!, /^221 /);
  await done;
});
