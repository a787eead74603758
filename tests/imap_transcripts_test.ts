/**
 * IMAP transcript tests: one Deno.test per file in `tests/imap_transcripts/` (format in
 * `imap_transcript.ts`), played over real TCP connections against `startImapServer` with a seeded
 * local account; plus STARTTLS driven from TypeScript with the self-signed certificate, a check
 * that every advertised capability is exercised by some transcript (ARCHITECTURE invariant 6),
 * and tests of the runner itself (it must fail on a wrong line).
 *
 * ARCHITECTURE invariant 5 (an APPEND the server refuses is kept in the recovery mailbox) cannot
 * happen with the local test account, which has no refusal path; it is covered by the connector's
 * tests (`src/connector/*append*_test.ts`) and `tests/connector_test.ts`.
 *
 * Run: `deno test --allow-all tests/imap_transcripts_test.ts`
 */
import assert from "node:assert/strict";
import {
  CAPABILITY_USES,
  ClientConnection,
  parseTranscript,
  PASSWORD,
  runTranscript,
  runTranscriptFile,
  startTestServer,
  TranscriptMismatch,
  USER,
} from "./imap_transcript.ts";

const DIR = new URL("./imap_transcripts/", import.meta.url);

const files = [...Deno.readDirSync(DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".txt"))
  .map((e) => e.name)
  .sort();

for (const name of files) {
  Deno.test(`imap transcript ${name}`, async () => {
    await runTranscriptFile(new URL(name, DIR).pathname);
  });
}

/** Reads lines until one starts with `tag `; returns all lines read. */
async function untilTagged(c: ClientConnection, tag: string): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const got = await c.readLine(5_000);
    if (typeof got === "string") throw new Error(`connection: ${got} after ${lines.join(" | ")}`);
    lines.push(got.line);
    if (got.line.startsWith(`${tag} `)) return lines;
  }
}

async function command(c: ClientConnection, tag: string, text: string): Promise<string[]> {
  await c.send(new TextEncoder().encode(`${tag} ${text}\r\n`));
  return await untilTagged(c, tag);
}

Deno.test("imap STARTTLS from TypeScript: LOGINDISABLED in clear, LOGIN over TLS", async () => {
  const srv = await startTestServer({ tls: true, allowPlainAuth: false });
  const c = await ClientConnection.open(srv.port);
  try {
    const greeting = await c.readLine(5_000);
    assert.ok(typeof greeting !== "string");
    assert.match(greeting.line, /^\* OK \[CAPABILITY [^\]]*\bSTARTTLS\b[^\]]*\bLOGINDISABLED\b/);
    assert.doesNotMatch(greeting.line, /AUTH=PLAIN/);
    const refused = await command(c, "a1", `LOGIN ${USER} ${PASSWORD}`);
    assert.deepEqual(refused, ["a1 NO [PRIVACYREQUIRED] Use STARTTLS before logging in"]);
    assert.deepEqual(await command(c, "a2", "STARTTLS"), ["a2 OK Begin TLS negotiation now"]);
    await c.startTls(srv.certPem!);
    const caps = await command(c, "a3", "CAPABILITY");
    assert.equal(caps.length, 2);
    assert.match(caps[0], /^\* CAPABILITY IMAP4rev1 AUTH=PLAIN /);
    assert.doesNotMatch(caps[0], /STARTTLS|LOGINDISABLED/);
    const login = await command(c, "a4", `LOGIN ${USER} ${PASSWORD}`);
    assert.match(login.at(-1)!, /^a4 OK \[CAPABILITY IMAP4rev1 .*\] LOGIN completed$/);
    const select = await command(c, "a5", "SELECT INBOX");
    assert.ok(select.includes("* 6 EXISTS"));
    assert.equal(select.at(-1), "a5 OK [READ-WRITE] SELECT completed");
    assert.deepEqual(await command(c, "a6", "LOGOUT"), [
      "* BYE Logging out",
      "a6 OK LOGOUT completed",
    ]);
    assert.equal(await c.readLine(5_000), "eof");
  } finally {
    await c.close();
    await srv.close();
  }
});

/** The capability names a server advertises in a state (APPENDLIMIT=n as APPENDLIMIT). */
async function advertised(
  options: Parameters<typeof startTestServer>[0],
  login: boolean,
): Promise<string[]> {
  const srv = await startTestServer(options);
  const c = await ClientConnection.open(srv.port);
  try {
    await c.readLine(5_000);
    if (login) await command(c, "a1", `LOGIN ${USER} ${PASSWORD}`);
    const lines = await command(c, "a2", "CAPABILITY");
    const line = lines.find((l) => l.startsWith("* CAPABILITY "));
    assert.ok(line, lines.join("\n"));
    return line.slice("* CAPABILITY ".length).split(" ").map((cap) => cap.replace(/=\d+$/, ""));
  } finally {
    await c.close();
    await srv.close();
  }
}

Deno.test("imap every advertised capability is exercised by a transcript (invariant 6)", async () => {
  const caps = new Set([
    ...await advertised({}, true),
    ...await advertised({}, false),
    ...await advertised({ tls: true, allowPlainAuth: false }, false),
  ]);
  const texts = files.map((name) => ({
    name,
    text: Deno.readTextFileSync(new URL(name, DIR)),
  }));
  const missing: string[] = [];
  for (const cap of caps) {
    const use = CAPABILITY_USES[cap];
    if (!use) {
      missing.push(`${cap}: no rule in CAPABILITY_USES (add one and a transcript)`);
      continue;
    }
    const users = texts.filter((t) => use.test(t.text)).map((t) => t.name);
    if (users.length === 0) missing.push(`${cap}: no transcript matches ${use}`);
  }
  assert.deepEqual(missing, []);
});

Deno.test("imap transcript runner fails on a wrong line and shows the transcript so far", async () => {
  const t = parseTranscript(
    [
      "C1: a1 LOGIN user@example.test secret",
      "S1: a1 OK [CAPABILITY {*}] LOGIN completed",
      "C1: a2 NOOP",
      "S1: a2 OK something else",
    ].join("\n"),
    "broken.txt",
  );
  await assert.rejects(() => runTranscript(t), (e: unknown) => {
    assert.ok(e instanceof TranscriptMismatch);
    assert.match(e.message, /^broken\.txt:4: /);
    assert.match(e.message, /C1: a2 NOOP\nS1: a2 OK NOOP completed\n!! /);
    assert.match(e.message, /S1: \* OK \[CAPABILITY /); // the greeting is in the history
    return true;
  });
});

Deno.test("imap transcript runner fails on an unexpected extra line and on silence", async () => {
  const extra = parseTranscript("C1: a1 NOOP\n", "extra.txt");
  await assert.rejects(() => runTranscript(extra), /unexpected line at the end on connection 1/);
  const quiet = parseTranscript("C1: a1 NOOP\nS1!:\n", "quiet.txt");
  await assert.rejects(() => runTranscript(quiet), /expected nothing on connection 1/);
});

Deno.test("imap transcript parser rejects unknown directives with the line number", () => {
  assert.throws(
    () => parseTranscript("C1: a1 NOOP\nFROB 1\n", "x.txt"),
    /x\.txt:2: unknown directive/,
  );
  assert.throws(() => parseTranscript("C1: a1 NOOP\nOPTION tls\n", "y.txt"), /OPTION after/);
  assert.throws(() => parseTranscript("MESSAGE m\nSubject: x\n", "z.txt"), /MESSAGE without END/);
});
