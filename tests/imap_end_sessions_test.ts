/**
 * `ImapServer.endSessions` (serve calls it when an account is signed out, signed in again or gets
 * a new bridge password): every session of the account ends with `* BYE` and the reason, an IDLE
 * at once, a command in progress only after its tagged response (an APPEND cut short would be
 * imported again on the client's retry); sessions of other accounts are not touched. Real
 * sockets against `startImapServer` over the transcript tests' seeded account.
 */
import assert from "node:assert/strict";
import { PASSWORD, startTestServer, USER } from "./imap_transcript.ts";

/** A raw client: send lines, wait for a line matching a test, see whether the server closed. */
async function client(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
  const writer = conn.writable.getWriter();
  let text = "";
  let closed = false;
  const line = async (test: (l: string) => boolean): Promise<string> => {
    for (;;) {
      const at = text.split("\r\n").find(test);
      if (at) return at;
      const { value, done } = await reader.read();
      if (done) {
        closed = true;
        throw new Error(`closed after ${JSON.stringify(text)}`);
      }
      text += value;
    }
  };
  await line((l) => l.startsWith("* OK"));
  return {
    send: (s: string) => writer.write(new TextEncoder().encode(s)),
    line,
    get text() {
      return text;
    },
    async closedByServer(): Promise<boolean> {
      while (!closed) {
        const { value, done } = await reader.read();
        if (done) closed = true;
        else text += value;
      }
      return closed;
    },
    close() {
      try {
        conn.close();
      } catch {
        // closed by the server
      }
    },
  };
}

/**
 * Logs `c` in and starts `b2 APPEND` of a message with `subject`, whose import waits on the
 * "server" until the returned function releases it.
 */
async function appendUnderWay(
  t: Awaited<ReturnType<typeof startTestServer>>,
  c: Awaited<ReturnType<typeof client>>,
  subject: string,
): Promise<() => void> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const append = t.account.append.bind(t.account);
  t.account.append = async (...args: Parameters<typeof append>) => {
    await gate;
    return await append(...args);
  };
  const message = `Subject: ${subject}\r\n\r\nbody\r\n`;
  await c.send(`b1 LOGIN ${USER} ${PASSWORD}\r\n`);
  await c.line((l) => l.startsWith("b1 OK"));
  await c.send(`b2 APPEND INBOX {${message.length}+}\r\n${message}\r\n`);
  await new Promise((r) => setTimeout(r, 50)); // the APPEND is under way
  return release;
}

Deno.test("endSessions: IDLE ends at once, an APPEND in progress gets its answer first, then BYE", async () => {
  const t = await startTestServer();
  const idling = await client(t.port);
  const appending = await client(t.port);
  try {
    await idling.send(`a1 LOGIN ${USER} ${PASSWORD}\r\na2 SELECT INBOX\r\na3 IDLE\r\n`);
    await idling.line((l) => l.startsWith("+ "));
    const release = await appendUnderWay(t, appending, "kept");

    const ended = t.server.endSessions(t.account.id, "The account was signed out of the bridge");
    assert.match(await idling.line((l) => l.startsWith("* BYE")), /signed out of the bridge/);
    assert.match(await idling.line((l) => l.startsWith("a3 ")), /^a3 OK/);
    assert.ok(await idling.closedByServer());
    // The APPEND is still running: no BYE yet.
    await new Promise((r) => setTimeout(r, 50));
    assert.doesNotMatch(appending.text, /\* BYE/);
    release();
    assert.match(await appending.line((l) => l.startsWith("b2 ")), /^b2 OK \[APPENDUID/);
    assert.match(await appending.line((l) => l.startsWith("* BYE")), /signed out/);
    assert.ok(await appending.closedByServer());
    assert.equal(await ended, 2);
    assert.equal(await t.server.endSessions("another-account", "x"), 0);
  } finally {
    idling.close();
    appending.close();
    await t.close();
  }
});

Deno.test("server close: an APPEND in progress gets its answer before BYE; idle sessions at once", async () => {
  const t = await startTestServer({ limits: { shutdownGraceMs: 5_000 } });
  const idle = await client(t.port);
  const appending = await client(t.port);
  let closed: Promise<void> | undefined;
  try {
    await idle.send(`a1 LOGIN ${USER} ${PASSWORD}\r\n`);
    await idle.line((l) => l.startsWith("a1 OK"));
    const release = await appendUnderWay(t, appending, "kept at shutdown");

    closed = t.server.close();
    assert.match(await idle.line((l) => l.startsWith("* BYE")), /shutting down/);
    assert.ok(await idle.closedByServer());
    await new Promise((r) => setTimeout(r, 50));
    assert.doesNotMatch(appending.text, /\* BYE/);
    release();
    assert.match(await appending.line((l) => l.startsWith("b2 ")), /^b2 OK \[APPENDUID/);
    assert.match(await appending.line((l) => l.startsWith("* BYE")), /shutting down/);
    assert.ok(await appending.closedByServer());
    await closed;
  } finally {
    idle.close();
    appending.close();
    await (closed ?? t.server.close());
    t.account.close();
  }
});
