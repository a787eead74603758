/**
 * IMAP transcript runner: starts a real {@link startImapServer} over a seeded {@link LocalAccount},
 * opens real TCP connections (`Deno.connect`, several at once) and plays a transcript file against
 * it, checking every server line.
 *
 * ## Transcript format
 *
 * One directive per line; blank lines and lines starting with `#` are ignored. `n` is a connection
 * number (1, 2, …).
 *
 * ```
 * # comment
 * OPTION tls                      server options, before the first step (see below)
 * C1: a1 LOGIN user@example.test secret
 * S1: a1 OK [CAPABILITY {*}] LOGIN completed
 * C2: b1 SELECT INBOX
 * S2: * FLAGS ({*})
 * S1!:                            nothing arrives on connection 1 within 200 ms (`S1!: 500`: 500 ms)
 * S1$:                            the server closed connection 1 (after reading what is left)
 * SLEEP 50                        wait 50 ms
 * ACTION deliver INBOX new1       a server-side change, as the event loop would make it (below)
 * TLS 1                           start TLS on connection 1 (after `OK` to STARTTLS)
 * CLOSE 2                         the client drops connection 2
 * ```
 *
 * - `Cn: text` sends `text` + CRLF on connection n; `Cn~: text` sends it without CRLF. A
 *   connection is opened on its first use: when that is a `Cn` line the greeting is read and must
 *   match `* OK [CAPABILITY {*}] {*}`; when it is an `Sn` line, that line is matched against the
 *   greeting instead.
 * - `Sn: pattern` reads the next line from connection n (CRLF-delimited, as on the wire: the lines
 *   of a literal in a FETCH response are lines of their own) and compares it byte for byte; `{*}`
 *   matches any text (also none). Waits up to 5 s.
 * - Client text may contain `${N*TEXT}` (TEXT repeated N times), `${xHH}` (one byte) and `${CRLF}`.
 * - Literals in client lines: `{N}` / `{N+}` followed by exactly N bytes further on the same line
 *   (`a1 LOGIN {17}user@example.test secret`), or `{name}` / `{name+}` for the bytes of a message
 *   fixture (`a2 APPEND INBOX {hello}`). For a synchronizing literal the runner sends the line up to
 *   the literal, waits for the `+` continuation (not written in the transcript) and goes on; when
 *   the server answers anything else (e.g. `a2 NO [TOOBIG] …`), the rest of the command is not sent
 *   and that line is left for the next `Sn:` to match. `{N}` / `{N+}` with fewer than N bytes after
 *   it sends the line up to the literal only (no CRLF after the data): for literals the server must
 *   refuse.
 * - Message fixtures: the seed messages (see {@link SEED}) and {@link EXTRA_MESSAGES} by name, plus
 *   ones defined in the transcript between `MESSAGE name` and `END` (lines joined with CRLF).
 * - `ACTION deliver <mailbox> <fixture> [flag …]` adds a message as the event loop does when mail
 *   arrives; `ACTION flag <mailbox> <uid,…> <+|-|=> [flag …]` changes flags as a remote change
 *   would; `ACTION expunge <mailbox> <uid,…>` removes messages as a remote delete would;
 *   `ACTION delete-mailbox <mailbox>` deletes a mailbox remotely; `ACTION storage <used> <limit>`
 *   (bytes) or `ACTION storage none` changes the account's storage figures as an event would (the
 *   seeded account uses 10 MiB + 1 byte of 1 GiB). Mailbox names with spaces go in double quotes.
 * - `OPTION tls` serves STARTTLS with a fresh self-signed certificate; `OPTION plain-auth=off`
 *   refuses LOGIN/AUTHENTICATE before TLS; `OPTION append-limit=N`, `OPTION max-line=N`,
 *   `OPTION max-bad=N`, `OPTION idle-keepalive=MS`, `OPTION autologout=MS`,
 *   `OPTION preauth-autologout=MS` set those limits.
 *
 * At the end every connection must have nothing unread (checked for 50 ms), then connections,
 * server and account are closed. A failure throws an Error holding the whole transcript so far
 * (what was sent, what was received) with the mismatch and the server's log.
 *
 * The test account: `user@example.test` / `secret` (anything else fails), seeded with
 * {@link SEED}: INBOX 1–6 (UIDNEXT 7), one message in `Folders/Work`, one also in
 * `Labels/Important`, one in Sent, one in Trash.
 *
 * @module
 */
import { LocalAccount } from "../src/imap/_test_account.ts";
import { type ImapLimits, type ImapServer, startImapServer } from "../src/imap/server.ts";
import type { MailAccount } from "../src/connector/account.ts";
import type { Uid } from "../src/store/mod.ts";
import { generateCertificate } from "../src/tls/certificate.ts";

/** The test user's address. */
export const USER = "user@example.test";
/** The test user's password. */
export const PASSWORD = "secret";

/** A seed message. */
export interface SeedMessage {
  /** Fixture name (usable as `{name}` and in `ACTION deliver`). */
  name: string;
  /** RFC 822 text, LF or CRLF line ends (stored with CRLF). */
  text: string;
  mailboxes: string[];
  flags: string[];
  /** INTERNALDATE, Unix seconds. */
  date: number;
}

const ATTACHMENT_B64 = "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==";

/**
 * The fixed seed, in insertion order (INBOX UIDs 1–6 in this order):
 * 1 `plain1` (\Seen), 2 `plain2` (\Flagged, unseen), 3 `alternative` (\Seen \Answered),
 * 4 `attachment` (unseen), 5 `nonascii` (\Seen $Forwarded), 6 `plain3` (keyword `Work`, unseen).
 */
export const SEED: readonly SeedMessage[] = [
  {
    name: "plain1",
    text: `From: Alice Example <alice@example.org>
To: user@example.test
Subject: Hello there
Date: Wed, 01 Nov 2023 10:00:00 +0000
Message-ID: <plain1@example.org>
Content-Type: text/plain; charset=us-ascii

Hi,
this is the first message.
`,
    mailboxes: ["INBOX"],
    flags: ["\\Seen"],
    date: 1698832800, // 2023-11-01 10:00:00 UTC
  },
  {
    name: "plain2",
    text: `From: Bob <bob@example.net>
To: user@example.test, Carol <carol@example.com>
Cc: dave@example.com
Subject: Meeting tomorrow
Date: Fri, 15 Dec 2023 08:30:00 +0100
Message-ID: <plain2@example.net>
Content-Type: text/plain; charset=us-ascii

Can we meet at nine?
Bob
`,
    mailboxes: ["INBOX", "Folders/Work"],
    flags: ["\\Flagged"],
    date: 1702625400, // 2023-12-15 07:30:00 UTC
  },
  {
    name: "alternative",
    text: `From: Carol <carol@example.com>
To: user@example.test
Subject: Newsletter
Date: Tue, 02 Jan 2024 12:00:00 +0000
Message-ID: <alt@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Plain part
--b1
Content-Type: text/html; charset=utf-8

<p>HTML part</p>
--b1--
`,
    mailboxes: ["INBOX", "Labels/Important"],
    flags: ["\\Seen", "\\Answered"],
    date: 1704196800, // 2024-01-02 12:00:00 UTC
  },
  {
    name: "attachment",
    text: `From: Dave <dave@example.com>
To: user@example.test
Subject: Report attached
Date: Mon, 05 Feb 2024 09:15:00 +0000
Message-ID: <att@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset=us-ascii

See the attachment.
--mix
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

${ATTACHMENT_B64}
--mix--
`,
    mailboxes: ["INBOX"],
    flags: [],
    date: 1707124500, // 2024-02-05 09:15:00 UTC
  },
  {
    name: "nonascii",
    text: `From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>
To: user@example.test
Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgWsO8cmljaA==?=
Date: Sun, 10 Mar 2024 18:00:00 +0100
Message-ID: <nonascii@example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe!
`,
    mailboxes: ["INBOX"],
    flags: ["\\Seen", "$Forwarded"],
    date: 1710090000, // 2024-03-10 17:00:00 UTC
  },
  {
    name: "plain3",
    text: `From: Alice Example <alice@example.org>
To: user@example.test
Subject: Lunch?
Date: Thu, 04 Apr 2024 11:00:00 +0000
Message-ID: <plain3@example.org>
In-Reply-To: <plain1@example.org>
Content-Type: text/plain; charset=us-ascii

Lunch at noon?
`,
    mailboxes: ["INBOX"],
    flags: ["Work"],
    date: 1712228400, // 2024-04-04 11:00:00 UTC
  },
  {
    name: "sent1",
    text: `From: user@example.test
To: alice@example.org
Subject: Re: Hello there
Date: Wed, 01 Nov 2023 11:00:00 +0000
Message-ID: <sent1@example.test>
Content-Type: text/plain; charset=us-ascii

Hello Alice.
`,
    mailboxes: ["Sent"],
    flags: ["\\Seen"],
    date: 1698836400,
  },
  {
    name: "trash1",
    text: `From: spam@example.biz
To: user@example.test
Subject: Old offer
Date: Mon, 01 May 2023 00:00:00 +0000
Message-ID: <trash1@example.biz>
Content-Type: text/plain; charset=us-ascii

Nothing.
`,
    mailboxes: ["Trash"],
    flags: ["\\Seen"],
    date: 1682899200,
  },
];

/** Messages that are not seeded but can be delivered or appended by name. */
export const EXTRA_MESSAGES: Readonly<Record<string, string>> = {
  new1: `From: Erin <erin@example.org>
To: user@example.test
Subject: Fresh news
Date: Fri, 10 May 2024 10:00:00 +0000
Message-ID: <new1@example.org>
Content-Type: text/plain; charset=us-ascii

Something new.
`,
  new2: `From: Frank <frank@example.org>
To: user@example.test
Subject: Second arrival
Date: Fri, 10 May 2024 11:00:00 +0000
Message-ID: <new2@example.org>
Content-Type: text/plain; charset=us-ascii

Another one.
`,
  small: `Subject: small

x
`,
};

/** Message text with CRLF line ends, as bytes. */
export function messageBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text.replace(/\r?\n/g, "\r\n"));
}

/** Server options a transcript can set with `OPTION`. */
export interface TranscriptServerOptions {
  tls?: boolean;
  allowPlainAuth?: boolean;
  limits?: Partial<ImapLimits>;
}

/** A running test server with its account. */
export interface TestServer {
  server: ImapServer;
  account: LocalAccount;
  port: number;
  /** PEM of the self-signed certificate when TLS is on. */
  certPem?: string;
  /** Server log lines so far. */
  logs: string[];
  close(): Promise<void>;
}

let certificate: Promise<{ certPem: string; keyPem: string }> | undefined;

/** Creates a LocalAccount with the fixed seed. */
export async function seededAccount(): Promise<LocalAccount> {
  const account = new LocalAccount();
  await account.createMailbox("seed", "Folders/Work");
  await account.createMailbox("seed", "Labels/Important");
  for (const m of SEED) {
    account.add(messageBytes(m.text), m.mailboxes, { flags: m.flags, date: m.date });
  }
  // 10 MiB and one byte used of 1 GiB (GETQUOTA rounds the usage up: 10241 KiB).
  account.storage = { usedBytes: 10 * 1024 * 1024 + 1, limitBytes: 1024 ** 3 };
  return account;
}

/** Starts an IMAP server on a free loopback port over a freshly seeded account. */
export async function startTestServer(options: TranscriptServerOptions = {}): Promise<TestServer> {
  const account = await seededAccount();
  const logs: string[] = [];
  let tls: { certPem: string; keyPem: string } | undefined;
  if (options.tls) tls = await (certificate ??= generateCertificate());
  const server = await startImapServer({
    authenticator: {
      authenticate: (user: string, password: string): Promise<MailAccount | null> =>
        Promise.resolve(user === USER && password === PASSWORD ? account : null),
    },
    port: 0,
    tls,
    security: tls ? "starttls" : "none",
    allowPlainAuth: options.allowPlainAuth ?? true,
    limits: {
      authFailureDelayMs: 1,
      authFailureMaxDelayMs: 1,
      shutdownGraceMs: 500,
      ...options.limits,
    },
    identity: { name: "bridge", version: "test" },
    log: (m) => logs.push(m),
  });
  return {
    server,
    account,
    port: server.port,
    certPem: tls?.certPem,
    logs,
    async close() {
      await server.close();
      account.close();
    },
  };
}

// ---- client connections -------------------------------------------------------------------

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A client connection that reads CRLF-delimited lines with timeouts. */
export class ClientConnection {
  #conn: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);
  #pending: Promise<Uint8Array | null> | undefined;
  #eof = false;
  /** Lines read ahead and given back (a refused literal's answer). */
  #pushedBack: string[] = [];

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to the loopback port. */
  static async open(port: number): Promise<ClientConnection> {
    return new ClientConnection(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Sends bytes. */
  async send(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  /** Gives a line back so that the next {@link readLine} returns it. */
  pushBack(line: string): void {
    this.#pushedBack.unshift(line);
  }

  /** Whether nothing is buffered, pushed back or being read. */
  get idle(): boolean {
    return this.#buffer.length === 0 && this.#pushedBack.length === 0 &&
      this.#pending === undefined;
  }

  /**
   * The next line without CRLF; `"eof"` when the server closed the connection (a partial last
   * line is returned first), `"timeout"` when nothing complete arrived within `timeoutMs`.
   */
  async readLine(timeoutMs: number): Promise<{ line: string } | "eof" | "timeout"> {
    const pushed = this.#pushedBack.shift();
    if (pushed !== undefined) return { line: pushed };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = indexOfCrlf(this.#buffer);
      if (i >= 0) {
        const line = dec.decode(this.#buffer.subarray(0, i));
        this.#buffer = this.#buffer.slice(i + 2);
        return { line };
      }
      if (this.#eof) {
        if (this.#buffer.length > 0) {
          const line = dec.decode(this.#buffer);
          this.#buffer = new Uint8Array(0);
          return { line };
        }
        return "eof";
      }
      const left = deadline - Date.now();
      if (left <= 0) return "timeout";
      if (!this.#pending) {
        const buf = new Uint8Array(64 * 1024);
        this.#pending = this.#conn.read(buf).then(
          (n) => (n === null ? null : buf.slice(0, n)),
          () => null, // reset by peer counts as the end
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        this.#pending,
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (got === "timeout") return "timeout";
      this.#pending = undefined;
      if (got === null) this.#eof = true;
      else this.#buffer = concat(this.#buffer, got);
    }
  }

  /** Upgrades to TLS (nothing may be buffered or being read). */
  async startTls(certPem: string): Promise<void> {
    if (!this.idle) throw new Error("data pending on the connection before TLS");
    this.#conn = await Deno.startTls(this.#conn as Deno.TcpConn, {
      hostname: "127.0.0.1",
      caCerts: [certPem],
    });
  }

  /** Closes the connection and waits for an outstanding read to end. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    if (this.#pending) await this.#pending;
    this.#pending = undefined;
  }
}

function indexOfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---- parsing ------------------------------------------------------------------------------

/** One step of a transcript. */
export type Step =
  & { line: number; source: string }
  & (
    | { kind: "send"; conn: number; text: string; crlf: boolean }
    | { kind: "expect"; conn: number; pattern: string }
    | { kind: "quiet"; conn: number; ms: number }
    | { kind: "closed"; conn: number }
    | { kind: "sleep"; ms: number }
    | { kind: "action"; args: string[] }
    | { kind: "tls"; conn: number }
    | { kind: "close"; conn: number }
  );

/** A parsed transcript. */
export interface Transcript {
  name: string;
  options: TranscriptServerOptions;
  /** Message fixtures defined in the file (name → text). */
  messages: Map<string, string>;
  steps: Step[];
}

/** Parses transcript text; throws with the line number on a malformed directive. */
export function parseTranscript(text: string, name = "transcript"): Transcript {
  const out: Transcript = { name, options: {}, messages: new Map(), steps: [] };
  const lines = text.split(/\r?\n/);
  const fail = (n: number, why: string): never => {
    throw new Error(`${name}:${n}: ${why}: ${lines[n - 1]}`);
  };
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i];
    const source = raw;
    if (raw.trim() === "" || raw.startsWith("#")) continue;
    let m: RegExpMatchArray | null;
    if ((m = raw.match(/^MESSAGE (\S+)$/))) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== "END"; i++) body.push(lines[i]);
      if (i >= lines.length) fail(n, "MESSAGE without END");
      out.messages.set(m[1], body.join("\n") + "\n");
    } else if ((m = raw.match(/^C(\d+)(~?): ?(.*)$/))) {
      out.steps.push({ line: n, source, kind: "send", conn: +m[1], text: m[3], crlf: m[2] === "" });
    } else if ((m = raw.match(/^S(\d+): ?(.*)$/))) {
      out.steps.push({ line: n, source, kind: "expect", conn: +m[1], pattern: m[2] });
    } else if ((m = raw.match(/^S(\d+)!:\s*(\d*)\s*$/))) {
      out.steps.push({ line: n, source, kind: "quiet", conn: +m[1], ms: m[2] ? +m[2] : 200 });
    } else if ((m = raw.match(/^S(\d+)\$:\s*$/))) {
      out.steps.push({ line: n, source, kind: "closed", conn: +m[1] });
    } else if ((m = raw.match(/^SLEEP (\d+)$/))) {
      out.steps.push({ line: n, source, kind: "sleep", ms: +m[1] });
    } else if ((m = raw.match(/^ACTION (.+)$/))) {
      out.steps.push({ line: n, source, kind: "action", args: splitArgs(m[1]) });
    } else if ((m = raw.match(/^TLS (\d+)$/))) {
      out.steps.push({ line: n, source, kind: "tls", conn: +m[1] });
    } else if ((m = raw.match(/^CLOSE (\d+)$/))) {
      out.steps.push({ line: n, source, kind: "close", conn: +m[1] });
    } else if ((m = raw.match(/^OPTION (\S+?)(?:=(\S+))?$/))) {
      if (out.steps.length > 0) fail(n, "OPTION after the first step");
      applyOption(out.options, m[1], m[2]) || fail(n, "unknown option");
    } else fail(n, "unknown directive");
  }
  return out;
}

function applyOption(o: TranscriptServerOptions, key: string, value?: string): boolean {
  const num = () => {
    const v = Number(value);
    if (!Number.isInteger(v) || v < 0) throw new Error(`OPTION ${key} needs a number`);
    return v;
  };
  o.limits ??= {};
  switch (key) {
    case "tls":
      o.tls = true;
      return true;
    case "plain-auth":
      o.allowPlainAuth = value !== "off";
      return true;
    case "append-limit":
      o.limits.maxAppendSize = num();
      return true;
    case "max-line":
      o.limits.maxLineLength = num();
      return true;
    case "max-bad":
      o.limits.maxBadCommands = num();
      return true;
    case "idle-keepalive":
      o.limits.idleKeepaliveMs = num();
      return true;
    case "autologout":
      o.limits.autologoutMs = num();
      return true;
    case "preauth-autologout":
      o.limits.preAuthAutologoutMs = num();
      return true;
  }
  return false;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2]);
  return out;
}

/** Expands `${N*TEXT}`, `${xHH}` and `${CRLF}` in client text; returns bytes. */
export function expandClientText(text: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const m of text.matchAll(/\$\{(?:(\d+)\*([^}]*)|x([0-9A-Fa-f]{2})|(CRLF))\}/g)) {
    parts.push(enc.encode(text.slice(last, m.index)));
    if (m[1] !== undefined) parts.push(enc.encode(m[2].repeat(+m[1])));
    else if (m[3] !== undefined) parts.push(new Uint8Array([parseInt(m[3], 16)]));
    else parts.push(enc.encode("\r\n"));
    last = m.index! + m[0].length;
  }
  parts.push(enc.encode(text.slice(last)));
  return parts.reduce(concat, new Uint8Array(0));
}

/** A piece of a client command: bytes to send, then (optionally) a synchronizing literal wait. */
export interface Chunk {
  bytes: Uint8Array;
  /** After sending, wait for `+` (synchronizing literal); `missing` data means only a refusal fits. */
  waitForContinuation: boolean;
  missing: boolean;
}

/**
 * Splits a client line into chunks at synchronizing literals, expanding fixture literals
 * (`{name}` → `{len}` CRLF bytes) and checking numeric ones have their data.
 */
export function clientChunks(
  text: string,
  crlf: boolean,
  fixtures: (name: string) => Uint8Array | undefined,
): Chunk[] {
  const bytes = expandClientText(text);
  const chunks: Chunk[] = [];
  let cur: Uint8Array[] = [];
  let pos = 0;
  const flush = (wait: boolean, missing = false) => {
    chunks.push({
      bytes: cur.reduce(concat, new Uint8Array(0)),
      waitForContinuation: wait,
      missing,
    });
    cur = [];
  };
  // Scan for `{…}` markers outside literal data.
  while (pos < bytes.length) {
    const open = bytes.indexOf(0x7b, pos);
    if (open < 0) break;
    const close = bytes.indexOf(0x7d, open);
    if (close < 0) break;
    const inner = dec.decode(bytes.subarray(open + 1, close));
    const m = inner.match(/^(\d+|[A-Za-z][\w-]*)(\+?)$/);
    const fixture = m && !/^\d/.test(m[1]) ? fixtures(m[1]) : undefined;
    if (!m || (!/^\d/.test(m[1]) && !fixture)) {
      cur.push(bytes.subarray(pos, close + 1));
      pos = close + 1;
      continue;
    }
    const plus = m[2] === "+";
    if (fixture) {
      cur.push(bytes.subarray(pos, open), enc.encode(`{${fixture.length}${m[2]}}\r\n`));
      if (!plus) flush(true);
      cur.push(fixture);
      pos = close + 1;
      continue;
    }
    const size = Number(m[1]);
    cur.push(bytes.subarray(pos, close + 1), enc.encode("\r\n"));
    const available = bytes.length - (close + 1);
    if (!plus) flush(true, available < size);
    if (available < size) {
      // Only a refusal fits: the server must answer before (or without) the data.
      if (plus) flush(false);
      return chunks;
    }
    cur.push(bytes.subarray(close + 1, close + 1 + size));
    pos = close + 1 + size;
  }
  cur.push(bytes.subarray(pos));
  if (crlf) cur.push(enc.encode("\r\n"));
  flush(false);
  return chunks;
}

/** Converts a server-line pattern to a RegExp (`{*}` = any text, the rest literal). */
export function patternRegExp(pattern: string): RegExp {
  const parts = pattern.split("{*}").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("[\\s\\S]*?")}$`);
}

// ---- running ------------------------------------------------------------------------------

/** Thrown when a transcript does not match; the message holds the transcript so far. */
export class TranscriptMismatch extends Error {
  override name = "TranscriptMismatch";
}

const EXPECT_TIMEOUT_MS = 5_000;

/** Runs a transcript file; returns the server's log lines. */
export async function runTranscriptFile(path: string): Promise<string[]> {
  const name = path.split("/").pop()!;
  return await runTranscript(parseTranscript(await Deno.readTextFile(path), name));
}

/** Runs a parsed transcript against a fresh server; returns the server's log lines. */
export async function runTranscript(t: Transcript): Promise<string[]> {
  const srv = await startTestServer(t.options);
  const conns = new Map<number, ClientConnection>();
  const history: string[] = [];
  const failure = (step: Step | undefined, why: string): TranscriptMismatch => {
    const at = step ? `${t.name}:${step.line}` : t.name;
    return new TranscriptMismatch(
      `${at}: ${why}\n--- transcript so far ---\n${history.join("\n")}\n!! ${why}\n` +
        `--- server log ---\n${srv.logs.slice(-20).join("\n")}`,
    );
  };
  const fixtures = (name: string): Uint8Array | undefined => {
    const text = t.messages.get(name) ?? EXTRA_MESSAGES[name] ??
      SEED.find((m) => m.name === name)?.text;
    return text === undefined ? undefined : messageBytes(text);
  };
  const connection = async (step: Step, n: number, greetingByTranscript: boolean) => {
    let c = conns.get(n);
    if (c) return c;
    c = await ClientConnection.open(srv.port);
    conns.set(n, c);
    if (!greetingByTranscript) {
      const got = await c.readLine(EXPECT_TIMEOUT_MS);
      if (typeof got === "string") throw failure(step, `no greeting on connection ${n}: ${got}`);
      history.push(`S${n}: ${got.line}`);
      if (!patternRegExp("* OK [CAPABILITY {*}] {*}").test(got.line)) {
        throw failure(step, `unexpected greeting on connection ${n}`);
      }
    }
    return c;
  };

  try {
    for (const step of t.steps) {
      switch (step.kind) {
        case "send": {
          const c = await connection(step, step.conn, false);
          history.push(step.source);
          let chunks: Chunk[];
          try {
            chunks = clientChunks(step.text, step.crlf, fixtures);
          } catch (e) {
            throw failure(step, (e as Error).message);
          }
          for (const chunk of chunks) {
            try {
              await c.send(chunk.bytes);
            } catch (e) {
              throw failure(
                step,
                `cannot send on connection ${step.conn}: ${(e as Error).message}`,
              );
            }
            if (!chunk.waitForContinuation) continue;
            const got = await c.readLine(EXPECT_TIMEOUT_MS);
            if (typeof got === "string") {
              throw failure(step, `expected a continuation for the literal, got ${got}`);
            }
            if (!got.line.startsWith("+")) {
              c.pushBack(got.line); // refused: the transcript matches this line next
              break;
            }
            history.push(`S${step.conn}: ${got.line}    (continuation, implicit)`);
            if (chunk.missing) throw failure(step, "the server accepted a literal with no data");
          }
          break;
        }
        case "expect": {
          const c = await connection(step, step.conn, true);
          const got = await c.readLine(EXPECT_TIMEOUT_MS);
          if (typeof got === "string") {
            throw failure(
              step,
              `expected on connection ${step.conn}: ${step.pattern}\n!! got ${got}`,
            );
          }
          history.push(`S${step.conn}: ${got.line}`);
          if (!patternRegExp(step.pattern).test(got.line)) {
            throw failure(step, `line ${step.line} expected: ${step.source}`);
          }
          break;
        }
        case "quiet": {
          const c = conns.get(step.conn);
          if (!c) throw failure(step, `connection ${step.conn} is not open`);
          const got = await c.readLine(step.ms);
          if (got !== "timeout") {
            history.push(`S${step.conn}: ${typeof got === "string" ? `(${got})` : got.line}`);
            throw failure(step, `expected nothing on connection ${step.conn} for ${step.ms} ms`);
          }
          history.push(step.source);
          break;
        }
        case "closed": {
          const c = conns.get(step.conn);
          if (!c) throw failure(step, `connection ${step.conn} is not open`);
          const got = await c.readLine(EXPECT_TIMEOUT_MS);
          if (got !== "eof") {
            history.push(`S${step.conn}: ${typeof got === "string" ? `(${got})` : got.line}`);
            throw failure(step, `expected connection ${step.conn} to be closed by the server`);
          }
          history.push(step.source);
          break;
        }
        case "sleep":
          history.push(step.source);
          await new Promise((r) => setTimeout(r, step.ms));
          break;
        case "action":
          history.push(step.source);
          try {
            await serverAction(srv.account, step.args, fixtures);
          } catch (e) {
            throw failure(step, `ACTION failed: ${(e as Error).message}`);
          }
          break;
        case "tls": {
          const c = conns.get(step.conn);
          if (!c || !srv.certPem) {
            throw failure(step, "TLS needs an open connection and OPTION tls");
          }
          history.push(step.source);
          try {
            await c.startTls(srv.certPem);
          } catch (e) {
            throw failure(step, `TLS failed: ${(e as Error).message}`);
          }
          break;
        }
        case "close": {
          history.push(step.source);
          await conns.get(step.conn)?.close();
          conns.delete(step.conn);
          break;
        }
      }
    }
    // Nothing may be left unread.
    await Promise.all([...conns].map(async ([n, c]) => {
      const got = await c.readLine(50);
      if (typeof got !== "string") {
        history.push(`S${n}: ${got.line}`);
        throw failure(undefined, `unexpected line at the end on connection ${n}`);
      }
    }));
  } finally {
    await Promise.all([...conns.values()].map((c) => c.close()));
    await srv.close();
  }
  return srv.logs;
}

function uidList(s: string): Uid[] {
  return s.split(",").map((x) => {
    const v = Number(x);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`bad UID ${x}`);
    return v as Uid;
  });
}

/** Applies one `ACTION` to the account, the way the event loop would. */
export async function serverAction(
  account: LocalAccount,
  args: string[],
  fixtures: (name: string) => Uint8Array | undefined,
): Promise<void> {
  const [verb, mailboxName, ...rest] = args;
  if (verb === "storage") {
    // ACTION storage <used bytes> <limit bytes> | ACTION storage none (the API's figures changed)
    const [used, limit] = args.slice(1).map(Number);
    account.storage = args[1] === "none" ? undefined : { usedBytes: used, limitBytes: limit };
    return;
  }
  const box = mailboxName === undefined ? undefined : account.mailboxByName(mailboxName);
  if (!box) throw new Error(`no mailbox ${mailboxName}`);
  switch (verb) {
    case "deliver": {
      const bytes = fixtures(rest[0] ?? "");
      if (!bytes) throw new Error(`no message fixture ${rest[0]}`);
      account.add(bytes, [box.name], { flags: rest.slice(1) });
      return;
    }
    case "flag": {
      const [uids, op, ...flags] = rest;
      const mode = op === "+" ? "add" : op === "-" ? "remove" : op === "=" ? "replace" : undefined;
      if (!mode || !uids) throw new Error("usage: ACTION flag <mailbox> <uids> <+|-|=> flags…");
      await account.storeFlags("event-loop", box.id, uidList(uids), { mode, flags });
      return;
    }
    case "expunge": {
      const gone = account.store.membership.remove(box.id, uidList(rest[0] ?? "")).map((r) =>
        r.uid
      );
      if (gone.length > 0) {
        account.bus.publish(account.id, { kind: "MessagesExpunged", mailbox: box.id, uids: gone });
      }
      return;
    }
    case "delete-mailbox":
      await account.deleteMailbox("event-loop", box.id);
      return;
  }
  throw new Error(`unknown action ${verb}`);
}

/**
 * For ARCHITECTURE invariant 6: which transcript text counts as exercising a capability. Keys
 * are capability names (`APPENDLIMIT` for `APPENDLIMIT=n`); a transcript uses a capability when
 * one of its lines matches.
 */
export const CAPABILITY_USES: Readonly<Record<string, RegExp>> = {
  "IMAP4rev1": /^C\d+: \S+ (SELECT|FETCH)/m,
  "STARTTLS": /^C\d+: \S+ STARTTLS$/m,
  "LOGINDISABLED": /^S\d+: .*\bLOGINDISABLED\b/m,
  "AUTH=PLAIN": /^C\d+: \S+ AUTHENTICATE PLAIN/m,
  "SASL-IR": /^C\d+: \S+ AUTHENTICATE PLAIN \S+$/m,
  "LITERAL+": /^C\d+: .*\{[\w-]+\+\}/m,
  "ID": /^C\d+: \S+ ID /m,
  "ENABLE": /^C\d+: \S+ ENABLE /m,
  "IDLE": /^C\d+: \S+ IDLE$/m,
  "NAMESPACE": /^C\d+: \S+ NAMESPACE$/m,
  "CHILDREN": /^S\d+: \* LIST \(.*\\Has(No)?Children/m,
  "UNSELECT": /^C\d+: \S+ UNSELECT$/m,
  "UIDPLUS": /^S\d+: \S+ OK \[(APPENDUID|COPYUID) /m,
  "MOVE": /^C\d+: \S+ (UID )?MOVE /m,
  "SPECIAL-USE": /^C\d+: \S+ LIST .*(RETURN \(.*SPECIAL-USE|\(SPECIAL-USE\) )/m,
  "LIST-EXTENDED": /^C\d+: \S+ LIST \(/m,
  "LIST-STATUS": /^C\d+: \S+ LIST .*RETURN \(.*STATUS \(/m,
  "XLIST": /^C\d+: \S+ XLIST /m,
  "ESEARCH": /^C\d+: \S+ (UID )?SEARCH RETURN /m,
  "SORT": /^C\d+: \S+ (UID )?SORT \(/m,
  "SORT=DISPLAY": /^C\d+: \S+ (UID )?SORT \(.*DISPLAY(FROM|TO)/m,
  "CONDSTORE": /^C\d+: \S+ .*(UNCHANGEDSINCE|CHANGEDSINCE|\(CONDSTORE\)|ENABLE CONDSTORE)/m,
  "QRESYNC": /^C\d+: \S+ (ENABLE .*QRESYNC|UID FETCH .*VANISHED)/m,
  "QUOTA": /^C\d+: \S+ GETQUOTAROOT /m,
  "QUOTA=RES-STORAGE": /^S\d+: \* QUOTA "" \(STORAGE \d+ \d+\)/m,
  "STATUS=SIZE": /^C\d+: \S+ STATUS .*\bSIZE\b/m,
  "APPENDLIMIT": /^S\d+: \S+ NO \[TOOBIG\]/m,
};
