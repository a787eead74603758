import assert from "node:assert/strict";
import { FakeSession, LocalAccount } from "../_test_account.ts";
import { MessageFlag } from "../../store/mod.ts";
import { fetchCommand, PartsSink, SEEN_GROUP } from "./fetch.ts";

/** Expected output written with `\n`; the wire uses CRLF everywhere. */
function crlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

/** A literal `{n}` + CRLF + the text (ASCII, `\n` written as CRLF). */
function lit(text: string): string {
  const t = crlf(text);
  return `{${t.length}}\r\n${t}`;
}

// RFC 3501 §6.4.5 / §7.4.2 example message, with a folded cc field.
const RFC_MESSAGE = `Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
From: Terry Gray <gray@cac.washington.edu>
Subject: IMAP4rev1 WG mtg summary and minutes
To: imap@cac.washington.edu
cc: minutes@CNRI.Reston.VA.US,
 John Klensin <KLENSIN@MIT.EDU>
Message-Id: <B27397-0100000@cac.washington.edu>
MIME-Version: 1.0
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

Hello Joe, do you think we can meet at 3:30 tomorrow?
`;

const RFC_ENVELOPE = `("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" ` +
  `"IMAP4rev1 WG mtg summary and minutes" ` +
  `(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
  `(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
  `(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
  `((NIL NIL "imap" "cac.washington.edu")) ` +
  `((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) ` +
  `NIL NIL "<B27397-0100000@cac.washington.edu>")`;

const RFC_DATE = Date.UTC(1996, 6, 17, 9, 44, 25) / 1000;

// A multipart with a message/rfc822 part that is itself multipart.
const NESTED = `From: Forwarder <fwd@example.com>
To: bob@example.org
Subject: Fwd: inner message
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=us-ascii

See the forwarded message.

--outer
Content-Type: message/rfc822

From: Inner Sender <inner@example.net>
Subject: inner message
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=us-ascii

inner plain
--inner
Content-Type: text/html; charset=us-ascii

<b>inner html</b>
--inner--

--outer--
`;

async function withInbox(
  messages: { literal: string; flags?: string[]; date?: number }[],
  fn: (s: FakeSession, account: LocalAccount) => Promise<void>,
  readOnly = false,
): Promise<void> {
  const account = new LocalAccount();
  try {
    for (const m of messages) account.add(m.literal, ["INBOX"], { flags: m.flags, date: m.date });
    const session = new FakeSession(account);
    session.selectByName("INBOX", readOnly);
    await fn(session, account);
  } finally {
    account.close();
  }
}

Deno.test("FETCH: every non-body item, byte-exact (RFC 3501 example message)", async () => {
  await withInbox([{ literal: RFC_MESSAGE, flags: ["\\Flagged"], date: RFC_DATE }], async (s) => {
    const r = await s.run(
      fetchCommand,
      "a1 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE UID)",
    );
    assert.deepEqual(r.result, { status: "OK", text: "FETCH completed", code: undefined });
    assert.equal(
      r.output,
      `* 1 FETCH (UID 1 FLAGS (\\Flagged) INTERNALDATE "17-Jul-1996 09:44:25 +0000" ` +
        `RFC822.SIZE 399 ENVELOPE ${RFC_ENVELOPE} ` +
        `BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7bit" 55 1) ` +
        `BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7bit" 55 1 NIL NIL NIL NIL))\r\n`,
    );
  });
});

Deno.test("FETCH: macros ALL, FAST and FULL", async () => {
  await withInbox([{ literal: RFC_MESSAGE, date: RFC_DATE }], async (s) => {
    const fast = `FLAGS () INTERNALDATE "17-Jul-1996 09:44:25 +0000" RFC822.SIZE 399`;
    assert.equal((await s.run(fetchCommand, "a1 FETCH 1 FAST")).output, `* 1 FETCH (${fast})\r\n`);
    assert.equal(
      (await s.run(fetchCommand, "a2 FETCH 1 all")).output,
      `* 1 FETCH (${fast} ENVELOPE ${RFC_ENVELOPE})\r\n`,
    );
    assert.equal(
      (await s.run(fetchCommand, "a3 FETCH 1 FULL")).output,
      `* 1 FETCH (${fast} ENVELOPE ${RFC_ENVELOPE} ` +
        `BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7bit" 55 1))\r\n`,
    );
  });
});

Deno.test("FETCH: UID FETCH always reports UID first; duplicates are written once", async () => {
  await withInbox([{ literal: RFC_MESSAGE }, { literal: RFC_MESSAGE }], async (s) => {
    const r = await s.run(fetchCommand, "a1 UID FETCH 2:* (FLAGS FLAGS RFC822.SIZE)");
    assert.equal(r.output, "* 2 FETCH (UID 2 FLAGS () RFC822.SIZE 399)\r\n");
    assert.equal(r.result.text, "UID FETCH completed");
    // UIDs not in the mailbox are skipped (RFC 3501 §6.4.8).
    assert.equal((await s.run(fetchCommand, "a2 UID FETCH 5:9 FLAGS")).output, "");
    assert.equal(
      (await s.run(fetchCommand, "a3 UID FETCH 9:* UID")).output,
      "* 2 FETCH (UID 2)\r\n",
    );
  });
});

Deno.test("FETCH: whole-message and top-level sections, byte-exact", async () => {
  await withInbox([{ literal: RFC_MESSAGE }], async (s, account) => {
    const literal = new TextDecoder().decode([...account.literals.values()][0]);
    const header = literal.slice(0, literal.indexOf("\r\n\r\n") + 4);
    const text = literal.slice(header.length);
    const cases: [string, string][] = [
      ["BODY.PEEK[]", `BODY[] {${literal.length}}\r\n${literal}`],
      ["BODY.PEEK[HEADER]", `BODY[HEADER] {${header.length}}\r\n${header}`],
      ["BODY.PEEK[TEXT]", `BODY[TEXT] {${text.length}}\r\n${text}`],
      ["RFC822.HEADER", `RFC822.HEADER {${header.length}}\r\n${header}`],
      ["BODY.PEEK[1]", `BODY[1] {${text.length}}\r\n${text}`],
      ["BODY.PEEK[1.MIME]", `BODY[1.MIME] {${header.length}}\r\n${header}`],
      ["BODY.PEEK[]<0.10>", "BODY[]<0> {10}\r\nDate: Wed,"],
      ["BODY.PEEK[TEXT]<6.3>", "BODY[TEXT]<6> {3}\r\nJoe"],
      ["BODY.PEEK[TEXT]<50>", "BODY[TEXT]<50> {5}\r\now?\r\n"],
      ["BODY.PEEK[TEXT]<5000.10>", 'BODY[TEXT]<5000> ""'],
      ["BODY.PEEK[2]", 'BODY[2] ""'],
    ];
    for (const [item, expected] of cases) {
      const r = await s.run(fetchCommand, `t FETCH 1 (${item})`);
      assert.equal(r.output, `* 1 FETCH (${expected})\r\n`, item);
    }
    // PEEK and read-only items never set \Seen.
    assert.equal((await s.run(fetchCommand, "t FETCH 1 FLAGS")).output, "* 1 FETCH (FLAGS ())\r\n");
  });
});

Deno.test("FETCH: HEADER.FIELDS and HEADER.FIELDS.NOT keep folding and echo the names", async () => {
  await withInbox([{ literal: RFC_MESSAGE }], async (s) => {
    const r = await s.run(
      fetchCommand,
      'a1 UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject CC "X-Missing")])',
    );
    assert.equal(
      r.output,
      crlf(`* 1 FETCH (UID 1 BODY[HEADER.FIELDS (Subject CC X-Missing)] {114}
Subject: IMAP4rev1 WG mtg summary and minutes
cc: minutes@CNRI.Reston.VA.US,
 John Klensin <KLENSIN@MIT.EDU>

)
`),
    );
    const not = await s.run(
      fetchCommand,
      "a2 FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Date From Subject To Cc Message-Id)]",
    );
    assert.equal(
      not.output,
      crlf(`* 1 FETCH (BODY[HEADER.FIELDS.NOT (Date From Subject To Cc Message-Id)] {65}
MIME-Version: 1.0
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

)
`),
    );
    // mbsync's probe: no such field gives just the empty line.
    const tuid = await s.run(
      fetchCommand,
      "a3 UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (X-TUID)])",
    );
    assert.equal(
      tuid.output,
      "* 1 FETCH (UID 1 FLAGS () BODY[HEADER.FIELDS (X-TUID)] {2}\r\n\r\n)\r\n",
    );
  });
});

Deno.test("FETCH: header-only sections are served without loading the literal", async () => {
  await withInbox([{ literal: RFC_MESSAGE }], async (s, account) => {
    account.literals.clear();
    const r = await s.run(fetchCommand, "a1 FETCH 1 (RFC822.HEADER BODY.PEEK[HEADER.FIELDS (To)])");
    assert.equal(r.result.status, "OK");
    assert.match(r.output, /RFC822\.HEADER \{344\}\r\nDate:/);
    assert.match(
      r.output,
      /BODY\[HEADER\.FIELDS \(To\)\] \{31\}\r\nTo: imap@cac\.washington\.edu\r\n\r\n\)/,
    );
  });
});

Deno.test("FETCH: nested part numbers in a multipart with a message/rfc822 part", async () => {
  await withInbox([{ literal: NESTED }], async (s) => {
    const cases: [string, string][] = [
      ["1", lit("See the forwarded message.\n")],
      ["1.MIME", lit("Content-Type: text/plain; charset=us-ascii\n\n")],
      ["2.MIME", lit("Content-Type: message/rfc822\n\n")],
      [
        "2.HEADER",
        lit(
          "From: Inner Sender <inner@example.net>\nSubject: inner message\n" +
            'Content-Type: multipart/alternative; boundary="inner"\n\n',
        ),
      ],
      ["2.HEADER.FIELDS (SUBJECT)", lit("Subject: inner message\n\n")],
      ["2.1", lit("inner plain")],
      ["2.2", lit("<b>inner html</b>")],
      ["2.2.MIME", lit("Content-Type: text/html; charset=us-ascii\n\n")],
      ["1.TEXT", '""'],
      ["3", '""'],
      ["2.3", '""'],
    ];
    for (const [section, data] of cases) {
      const r = await s.run(fetchCommand, `t FETCH 1 (BODY.PEEK[${section}])`);
      assert.equal(r.output, `* 1 FETCH (BODY[${section}] ${data})\r\n`, section);
    }
    const text = await s.run(fetchCommand, "t FETCH 1 BODY.PEEK[2.TEXT]");
    assert.match(
      text.output,
      /^\* 1 FETCH \(BODY\[2\.TEXT\] \{\d+\}\r\n--inner\r\n[^]*--inner--\r\n\)\r\n$/,
    );
    // Several sections in one response, in the order asked.
    const both = await s.run(fetchCommand, "t FETCH 1 (BODY.PEEK[2.1] BODY.PEEK[1]<0.3>)");
    assert.equal(
      both.output,
      "* 1 FETCH (BODY[2.1] {11}\r\ninner plain BODY[1]<0> {3}\r\nSee)\r\n",
    );
  });
});

Deno.test("FETCH: a non-PEEK body fetch sets \\Seen once, reports FLAGS, and the flush stays quiet", async () => {
  await withInbox(
    [{ literal: RFC_MESSAGE }, { literal: RFC_MESSAGE, flags: ["\\Seen"] }],
    async (s, account) => {
      const r = await s.run(fetchCommand, "a1 FETCH 1:2 (BODY[]<0.4>)");
      assert.equal(
        r.output,
        "* 1 FETCH (FLAGS (\\Seen) BODY[]<0> {4}\r\nDate)\r\n" +
          "* 2 FETCH (BODY[]<0> {4}\r\nDate)\r\n",
      );
      const box = account.mailboxByName("INBOX")!;
      const row =
        account.store.membership.flagRows(box.id, [{ first: 1 as never, last: 1 as never }])[0];
      assert.equal(row.flags & MessageFlag.Seen, MessageFlag.Seen);
      assert.equal(s.view!.hasPending, false);
      // RFC822 and RFC822.TEXT set \Seen too; RFC822.HEADER does not.
      await account.storeFlags("x", box.id, [1 as never, 2 as never], {
        mode: "remove",
        flags: ["\\Seen"],
      });
      await new Promise((r) => setTimeout(r, 0));
      await s.flushUpdates(false);
      const h = await s.run(fetchCommand, "a2 FETCH 1 RFC822.HEADER");
      assert.doesNotMatch(h.output, /FLAGS/);
      const t = await s.run(fetchCommand, "a3 FETCH 1 RFC822.TEXT");
      assert.match(t.output, /^\* 1 FETCH \(FLAGS \(\\Seen\) RFC822\.TEXT \{55\}\r\n/);
      const full = await s.run(fetchCommand, "a4 UID FETCH 2 RFC822");
      assert.match(full.output, /^\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) RFC822 \{399\}\r\nDate:/);
    },
  );
});

Deno.test("FETCH: a non-PEEK body fetch marks \\Seen a group at a time, each written first", async () => {
  await withInbox(
    Array.from({ length: 120 }, () => ({ literal: RFC_MESSAGE })),
    async (s, account) => {
      // What had been written when each group was marked read.
      const marked: { count: number; written: number }[] = [];
      const store = account.storeFlags.bind(account);
      account.storeFlags = (origin, mailbox, uids, change) => {
        marked.push({
          count: uids.length,
          written: (s.output.match(/\* \d+ FETCH/g) ?? []).length,
        });
        return store(origin, mailbox, uids, change);
      };
      const r = await s.run(fetchCommand, "a1 FETCH 1:* (BODY[]<0.4>)");
      assert.equal((r.output.match(/FLAGS \(\\Seen\)/g) ?? []).length, 120);
      assert.deepEqual(marked, [
        { count: SEEN_GROUP, written: 0 },
        { count: SEEN_GROUP, written: SEEN_GROUP },
        { count: 120 - 2 * SEEN_GROUP, written: 2 * SEEN_GROUP },
      ]);
    },
  );
});

Deno.test("FETCH: with CONDSTORE on, setting \\Seen reports UID and MODSEQ too", async () => {
  await withInbox([{ literal: RFC_MESSAGE }], async (s) => {
    s.enable("CONDSTORE");
    const r = await s.run(fetchCommand, "a1 FETCH 1 BODY[TEXT]<0.5>");
    assert.match(
      r.output,
      /^\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \(\d+\) BODY\[TEXT\]<0> \{5\}\r\nHello\)\r\n$/,
    );
  });
});

Deno.test("FETCH: a read-only mailbox never gets \\Seen from a body fetch", async () => {
  await withInbox([{ literal: RFC_MESSAGE }], async (s, account) => {
    const r = await s.run(fetchCommand, "a1 FETCH 1 (BODY[]<0.4>)");
    assert.equal(r.output, "* 1 FETCH (BODY[]<0> {4}\r\nDate)\r\n");
    const box = account.mailboxByName("INBOX")!;
    const row =
      account.store.membership.flagRows(box.id, [{ first: 1 as never, last: 1 as never }])[0];
    assert.equal(row.flags & MessageFlag.Seen, 0);
  }, true);
});

Deno.test("FETCH: MODSEQ and CHANGEDSINCE (RFC 7162) enable CONDSTORE and filter", async () => {
  await withInbox(
    [{ literal: RFC_MESSAGE }, { literal: RFC_MESSAGE }, { literal: RFC_MESSAGE }],
    async (s, account) => {
      const box = account.mailboxByName("INBOX")!;
      const before = account.store.membership.selectInfo(box.id).highestModseq;
      await account.storeFlags("other", box.id, [2 as never], {
        mode: "add",
        flags: ["\\Flagged"],
      });
      await new Promise((r) => setTimeout(r, 0));
      await s.flushUpdates(false);
      const r = await s.run(fetchCommand, `a1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${before})`);
      const after = account.store.membership.selectInfo(box.id).highestModseq;
      assert.equal(r.output, `* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (${after}))\r\n`);
      assert.ok(s.enabled.has("CONDSTORE"));
      const m = await s.run(fetchCommand, "a2 FETCH 2 (MODSEQ)");
      assert.equal(m.output, `* 2 FETCH (MODSEQ (${after}))\r\n`);
      const none = await s.run(fetchCommand, `a3 FETCH 1:* (FLAGS) (CHANGEDSINCE ${after})`);
      assert.equal(none.output, "");
    },
  );
});

Deno.test("FETCH: no EXPUNGE during FETCH; expunged-but-unreported messages are skipped", async () => {
  await withInbox(
    [{ literal: RFC_MESSAGE }, { literal: RFC_MESSAGE }, { literal: RFC_MESSAGE }],
    async (s, account) => {
      const other = new FakeSession(account, "other");
      const box = account.mailboxByName("INBOX")!;
      other.selectByName("INBOX");
      await account.storeFlags("other", box.id, [2 as never], {
        mode: "add",
        flags: ["\\Deleted"],
      });
      await account.expunge("other", box.id);
      await new Promise((r) => setTimeout(r, 0));
      const r = await s.run(
        fetchCommand,
        "a1 FETCH 1:3 (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)])",
      );
      assert.equal(r.result.status, "OK");
      assert.doesNotMatch(r.output, /EXPUNGE/);
      assert.match(r.output, /^\* 1 FETCH \(UID 1 /);
      assert.match(r.output, /\r\n\* 3 FETCH \(UID 3 /);
      assert.doesNotMatch(r.output, /\* 2 FETCH/);
      // Sequence numbers still mean what the client was told: 3 is still UID 3.
      assert.equal(s.view!.exists, 3);
      // UID FETCH may report it (the session flushes with expunges after UID commands).
      const u = await s.run(fetchCommand, "a2 UID FETCH 1:* FLAGS");
      assert.equal(
        u.output,
        "* 1 FETCH (UID 1 FLAGS ())\r\n* 3 FETCH (UID 3 FLAGS ())\r\n* 2 EXPUNGE\r\n",
      );
    },
  );
});

Deno.test("FETCH: a literal that cannot be loaded gives NO [UNAVAILABLE] after the others", async () => {
  await withInbox([{ literal: RFC_MESSAGE }, { literal: RFC_MESSAGE }], async (s, account) => {
    const first = [...account.literals.keys()][0];
    account.literals.delete(first);
    const r = await s.run(fetchCommand, "a1 FETCH 1:2 (UID BODY.PEEK[]<0.4>)");
    assert.equal(r.output, "* 2 FETCH (UID 2 BODY[]<0> {4}\r\nDate)\r\n");
    assert.equal(r.result.status, "NO");
    assert.equal(r.result.code, "UNAVAILABLE");
  });
});

Deno.test("FETCH: large bodies are streamed as their own parts, not copied", async () => {
  const big = "Subject: big\n\n" + "0123456789abcdef\n".repeat(20_000);
  await withInbox([{ literal: big }, { literal: big }], async (s, account) => {
    const writes: Uint8Array[] = [];
    const write = s.write.bind(s);
    s.write = (bytes) => {
      for (const b of bytes instanceof Uint8Array ? [bytes] : bytes) writes.push(b);
      return write(bytes);
    };
    const r = await s.run(fetchCommand, "a1 UID FETCH 1:2 BODY.PEEK[]");
    assert.equal(r.result.status, "OK");
    const literals = [...account.literals.values()];
    for (const literal of literals) {
      assert.ok(writes.some((w) => w.buffer === literal.buffer && w.length === literal.length));
    }
    assert.equal(
      r.output.length,
      2 * (literals[0].length + "* 1 FETCH (UID 1 BODY[] {340015}\r\n)\r\n".length),
    );
  });
});

Deno.test("FETCH: bad arguments are BAD, not a crash", async () => {
  await withInbox([{ literal: RFC_MESSAGE }], async (s) => {
    for (
      const line of [
        "a FETCH 1 (FLAGS BOGUS)",
        "a FETCH 1 ()",
        "a FETCH 1 BODY.PEEK",
        "a FETCH 1 BINARY[1]",
        "a FETCH 1 BODY[MIME]",
        "a FETCH 1 BODY[0]",
        "a FETCH 1 BODY[1.FOO]",
        "a FETCH 1 BODY[HEADER.FIELDS]",
        "a FETCH 1 BODY[HEADER.FIELDS ()]",
        "a FETCH 1 BODY[TEXT (X)]",
        "a FETCH 1 FLAGS (CHANGEDSINCE x)",
        "a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)",
        "a FETCH 1 FLAGS (NOPE)",
        "a FETCH 2 FLAGS",
        "a FETCH 1",
        "a FETCH 1 FLAGS extra",
      ]
    ) {
      const r = await s.run(fetchCommand, line);
      assert.equal(r.result.status, "BAD", line);
      assert.equal(r.output, "", line);
    }
  });
});

Deno.test("FETCH: small responses are packed into few writes", async () => {
  await withInbox(Array.from({ length: 300 }, () => ({ literal: RFC_MESSAGE })), async (s) => {
    const writes: number[] = [];
    const write = s.write.bind(s);
    s.write = (bytes) => {
      writes.push(bytes instanceof Uint8Array ? 1 : bytes.length);
      return write(bytes);
    };
    const r = await s.run(fetchCommand, "a1 FETCH 1:* (UID FLAGS ENVELOPE)");
    assert.equal(r.output.split("\r\n").length - 1, 300);
    // About 400 bytes a message: two writes of one or two packed parts each.
    assert.ok(writes.length <= 3, JSON.stringify(writes));
    assert.ok(writes.every((n) => n <= 2), JSON.stringify(writes));
  });
});

Deno.test("PartsSink: packs small pieces, passes large ones through", () => {
  const sink = new PartsSink();
  const big = new Uint8Array(20_000);
  sink.write(new Uint8Array([1, 2]));
  sink.write(new Uint8Array([3]));
  sink.write(big);
  sink.write(new Uint8Array([4]));
  assert.equal(sink.size, 20_004);
  const parts = sink.take();
  assert.equal(parts.length, 3);
  assert.deepEqual([...parts[0]], [1, 2, 3]);
  assert.equal(parts[1], big);
  assert.deepEqual([...parts[2]], [4]);
  assert.equal(sink.size, 0);
  assert.deepEqual(sink.take(), []);
});
