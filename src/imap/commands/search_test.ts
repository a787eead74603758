import assert from "node:assert/strict";
import { FakeSession, LocalAccount } from "../_test_account.ts";
import { searchCommand } from "./search.ts";
import { sortCommand } from "./sort.ts";

const enc = new TextEncoder();
const day = (y: number, m: number, d: number, h = 12) => Date.UTC(y, m - 1, d, h) / 1000;

// Four messages; an expunged first one makes UIDs (2..5) differ from sequence numbers (1..4).
const M1 = `From: Alice <alice@example.com>
To: bob@example.org
Cc: carol@example.net
Bcc: dave@example.net
Subject: =?UTF-8?Q?Caf=C3=A9_meeting?=
Date: Mon, 4 Mar 2024 10:00:00 +0100
X-Priority: 1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Let's meet at the caf=C3=A9 tomorrow.
`;

const M2 = `From: Bob <bob@example.org>
To: Alice <alice@example.com>
Subject: Invoice 42
Date: Sun, 10 Mar 2024 23:30:00 -0500
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: base64

UGxlYXNlIHBheSB0aGUgaW52b2ljZS4=
--b
Content-Type: application/pdf; name="x.pdf"
Content-Transfer-Encoding: base64

aW52b2ljZSBwYXk=
--b--
`;

const M3 = `From: Carol <carol@example.net>
To: bob@example.org
Subject: Fwd: something
Date: Wed, 20 Mar 2024 08:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="o"

--o
Content-Type: text/plain

see attached
--o
Content-Type: message/rfc822

From: Mallory <m@example.com>
Subject: Secret plans

Attack at dawn.
--o--
${"padding line to make this message the largest of all\n".repeat(40)}`;

const M4 = `From: dave@example.net
Subject: no date here

Plain body.
`;

async function withMailbox(
  fn: (s: FakeSession, account: LocalAccount) => Promise<void>,
): Promise<void> {
  const account = new LocalAccount();
  try {
    const [gone] = account.add("Subject: gone\n\nx\n", ["INBOX"]);
    const box = account.mailboxByName("INBOX")!;
    account.store.membership.remove(box.id, [gone]);
    account.add(M1, ["INBOX"], { flags: ["\\Seen", "\\Answered"], date: day(2024, 3, 5) });
    account.add(M2, ["INBOX"], { flags: ["\\Flagged", "$Label1"], date: day(2024, 3, 11) });
    account.add(M3, ["INBOX"], {
      flags: ["\\Draft", "$Forwarded"],
      date: day(2024, 3, 20),
    });
    account.add(M4, ["INBOX"], { date: day(2024, 3, 1) });
    const session = new FakeSession(account);
    const view = session.selectByName("INBOX");
    await account.storeFlags("setup", view.mailboxId, [4 as never], {
      mode: "add",
      flags: ["\\Deleted"],
    });
    await new Promise((r) => setTimeout(r, 0));
    await session.flushUpdates(false);
    session.output = "";
    await fn(session, account);
  } finally {
    account.close();
  }
}

/** Runs `SEARCH <keys>` and `UID SEARCH <keys>`; returns [sequence numbers, UIDs]. */
async function search(s: FakeSession, keys: string): Promise<[string, string]> {
  const a = await s.run(searchCommand, `a SEARCH ${keys}`);
  const b = await s.run(searchCommand, `b UID SEARCH ${keys}`);
  assert.equal(a.result.status, "OK", `${keys}: ${a.result.text}`);
  assert.equal(b.result.status, "OK", `${keys}: ${b.result.text}`);
  const m1 = /^\* SEARCH((?: \d+)*)\r\n$/.exec(a.output);
  const m2 = /^\* SEARCH((?: \d+)*)\r\n$/.exec(b.output);
  assert.ok(m1 && m2, `${keys}: ${a.output} ${b.output}`);
  return [m1[1].trim(), m2[1].trim()];
}

Deno.test("SEARCH: every RFC 3501 key", async () => {
  await withMailbox(async (s, account) => {
    const box = account.mailboxByName("INBOX")!;
    const sizes = [2, 3, 4, 5].map((u) =>
      account.store.membership.fetchRows(box.id, [{ first: u as never, last: u as never }])[0].size
    );
    const table: [string, string][] = [
      ["ALL", "1 2 3 4"],
      ["2:3", "2 3"],
      ["*", "4"],
      ["1,4:*", "1 4"],
      ["UID 3:4", "2 3"],
      ["UID 1", ""],
      ["ANSWERED", "1"],
      ["UNANSWERED", "2 3 4"],
      ["DELETED", "3"],
      ["UNDELETED", "1 2 4"],
      ["DRAFT", "3"],
      ["UNDRAFT", "1 2 4"],
      ["FLAGGED", "2"],
      ["UNFLAGGED", "1 3 4"],
      ["SEEN", "1"],
      ["UNSEEN", "2 3 4"],
      ["NEW", ""],
      ["RECENT", ""],
      ["OLD", "1 2 3 4"],
      ["KEYWORD $Label1", "2"],
      ["UNKEYWORD $Label1", "1 3 4"],
      ["KEYWORD $LABEL1", "2"],
      ["UNKEYWORD $label1", "1 3 4"],
      ["KEYWORD $Forwarded", "3"],
      ["KEYWORD Forwarded", "3"],
      ["UNKEYWORD $Forwarded", "1 2 4"],
      ["BEFORE 5-Mar-2024", "4"],
      ["ON 5-Mar-2024", "1"],
      ['SINCE "11-Mar-2024"', "2 3"],
      ["SENTBEFORE 4-Mar-2024", "4"],
      ["SENTON 4-Mar-2024", "1"],
      // 23:30 -0500 on the 10th is the 11th in UTC; the day as written counts.
      ["SENTON 10-Mar-2024", "2"],
      ["SENTSINCE 10-Mar-2024", "2 3"],
      [`LARGER ${sizes[2] - 1}`, "3"],
      [`SMALLER ${sizes[3] + 1}`, "4"],
      ["FROM alice", "1"],
      ["FROM ALICE@EXAMPLE", "1"],
      ["TO alice", "2"],
      ["CC carol", "1"],
      ["BCC dave", "1"],
      ['SUBJECT "café"', "1"],
      ['SUBJECT "CAFÉ MEETING"', "1"],
      ["SUBJECT invoice", "2"],
      ["HEADER X-Priority 1", "1"],
      ['HEADER x-priority ""', "1"],
      ['HEADER Date ""', "1 2 3"],
      ['HEADER Subject ""', "1 2 3 4"],
      ['HEADER BCC ""', "1"],
      ["HEADER subject MEETING", "1"],
      ['HEADER Subject "secret"', ""], // the attached message's header is not the message's
      ["SUBJECT café HEADER X-Priority 1", "1"],
      ["OR SUBJECT invoice HEADER X-Priority 1", "1 2"],
      ["NOT FROM alice", "2 3 4"],
      ["FROM carol SUBJECT fwd TO bob", "3"],
      ["SENTSINCE 10-Mar-2024 NOT SUBJECT invoice", "3"],
      ["BODY café", "1"],
      ['BODY "pay the invoice"', "2"],
      ["BODY invoice", "2"],
      ["BODY pay", "2"],
      ["BODY 42", ""],
      ["TEXT 42", "2"],
      ['BODY "attack at dawn"', "3"],
      ['BODY "secret plans"', "3"],
      ["TEXT alice", "1 2"],
      ["NOT SEEN", "2 3 4"],
      ["NOT NOT SEEN", "1"],
      ["OR SEEN FLAGGED", "1 2"],
      ["OR FROM alice BODY dawn", "1 3"],
      ["(SEEN) (ANSWERED)", "1"],
      ["UNDELETED (OR SUBJECT invoice FROM dave)", "2 4"],
      ["NOT (OR SEEN (FLAGGED KEYWORD $Label1))", "3 4"],
      ["SINCE 1-Mar-2024 BEFORE 12-Mar-2024 UNSEEN", "2 4"],
      ["DELETED UNDELETED", ""],
      ["SEEN UNSEEN", ""],
      ["2:4 NOT DELETED FROM dave", "4"],
    ];
    for (const [keys, expected] of table) {
      const [seqs, uids] = await search(s, keys);
      assert.equal(seqs, expected, `SEARCH ${keys}`);
      assert.equal(
        uids,
        expected.split(" ").filter((x) => x).map((n) => Number(n) + 1).join(" "),
        `UID SEARCH ${keys}`,
      );
    }
  });
});

Deno.test("SEARCH: a string with a line break never matches across two fields", async () => {
  const account = new LocalAccount();
  try {
    account.add("To: ann@a.example\nTo: bob@b.example\nSubject: s\n\nx\n", ["INBOX"]);
    const s = new FakeSession(account);
    s.selectByName("INBOX");
    const search = async (key: string, needle: string) =>
      (await s.run(searchCommand, `a SEARCH ${key} {${enc.encode(needle).length}}\r\n${needle}`))
        .output;
    assert.equal(await search("TO", "bob@B"), "* SEARCH 1\r\n");
    // Two To fields, each searched on its own: no string spans the end of one and the next.
    assert.equal(await search("TO", "example\nbob"), "* SEARCH\r\n");
    assert.equal(await search("HEADER To", "example\r\nbob"), "* SEARCH\r\n");
    assert.equal(await search("TO", "\n"), "* SEARCH\r\n");
  } finally {
    account.close();
  }
});

Deno.test("SEARCH: CHARSET UTF-8 and US-ASCII are accepted, others BADCHARSET", async () => {
  await withMailbox(async (s) => {
    let r = await s.run(searchCommand, "a SEARCH CHARSET UTF-8 SUBJECT {5}\r\ncafé");
    assert.equal(r.output, "* SEARCH 1\r\n");
    r = await s.run(searchCommand, "a SEARCH CHARSET us-ascii FROM bob");
    assert.equal(r.output, "* SEARCH 2\r\n");
    const refused = {
      status: "NO",
      text: "Unsupported charset",
      code: "BADCHARSET (UTF-8 US-ASCII)",
    };
    r = await s.run(searchCommand, "a SEARCH CHARSET ISO-8859-1 FROM bob");
    assert.deepEqual(r.result, refused);
    assert.equal(r.output, "");
    // A string in that charset is not UTF-8: still NO [BADCHARSET], not BAD (RFC 3501 §6.4.4),
    // so the client can convert it and try again.
    const latin1 = new Uint8Array([
      ...new TextEncoder().encode("a SEARCH CHARSET ISO-8859-1 SUBJECT {4}\r\ncaf"),
      0xe9,
    ]);
    r = await s.run(searchCommand, latin1);
    assert.deepEqual(r.result, refused);
    assert.equal(r.output, "");
  });
});

Deno.test("SEARCH: MODSEQ (RFC 7162) reports the highest mod-sequence and enables CONDSTORE", async () => {
  await withMailbox(async (s, account) => {
    const box = account.mailboxByName("INBOX")!;
    const before = account.store.membership.selectInfo(box.id).highestModseq;
    await account.storeFlags("other", box.id, [3 as never], { mode: "add", flags: ["\\Seen"] });
    await new Promise((r) => setTimeout(r, 0));
    await s.flushUpdates(false);
    const now = account.store.membership.selectInfo(box.id).highestModseq;
    let r = await s.run(searchCommand, `a SEARCH MODSEQ ${before + 1}`);
    assert.equal(r.output, `* SEARCH 2 (MODSEQ ${now})\r\n`);
    assert.ok(s.enabled.has("CONDSTORE"));
    r = await s.run(searchCommand, `a UID SEARCH MODSEQ "/flags/\\\\draft" all ${before + 1}`);
    assert.equal(r.output, `* SEARCH 3 (MODSEQ ${now})\r\n`);
    r = await s.run(searchCommand, `a SEARCH MODSEQ ${now + 1}`);
    assert.equal(r.output, "* SEARCH\r\n");
  });
});

Deno.test("SEARCH: ESEARCH RETURN (MIN MAX COUNT ALL), RFC 4731", async () => {
  await withMailbox(async (s, account) => {
    let r = await s.run(searchCommand, "a1 UID SEARCH RETURN (MIN MAX COUNT ALL) UNDELETED");
    assert.equal(r.output, '* ESEARCH (TAG "a1") UID MIN 2 MAX 5 COUNT 3 ALL 2:3,5\r\n');
    r = await s.run(searchCommand, "a2 SEARCH RETURN () UNDELETED");
    assert.equal(r.output, '* ESEARCH (TAG "a2") ALL 1:2,4\r\n');
    r = await s.run(searchCommand, "a3 SEARCH RETURN (COUNT) SEEN");
    assert.equal(r.output, '* ESEARCH (TAG "a3") COUNT 1\r\n');
    r = await s.run(searchCommand, "a4 UID SEARCH RETURN (MIN MAX COUNT ALL) NEW");
    assert.equal(r.output, '* ESEARCH (TAG "a4") UID COUNT 0\r\n');
    r = await s.run(searchCommand, "a5 UID SEARCH RETURN (MIN) NEW");
    assert.equal(r.output, '* ESEARCH (TAG "a5") UID\r\n');
    // With MODSEQ: all matches for ALL/COUNT, only the returned message for MIN/MAX.
    const box = account.mailboxByName("INBOX")!;
    const rows = account.store.membership.flagRows(box.id, [{
      first: 1 as never,
      last: 9 as never,
    }]);
    const mod = (uid: number) => rows.find((x) => x.uid === uid)!.modseq;
    r = await s.run(searchCommand, "a6 UID SEARCH RETURN (MIN) MODSEQ 1");
    assert.equal(r.output, `* ESEARCH (TAG "a6") UID MIN 2 MODSEQ ${mod(2)}\r\n`);
    r = await s.run(searchCommand, "a7 SEARCH RETURN (COUNT) MODSEQ 1");
    assert.equal(
      r.output,
      `* ESEARCH (TAG "a7") COUNT 4 MODSEQ ${Math.max(...[2, 3, 4, 5].map(mod))}\r\n`,
    );
  });
});

Deno.test("SEARCH: no EXPUNGE during SEARCH; expunged-but-unreported messages never match", async () => {
  await withMailbox(async (s, account) => {
    const box = account.mailboxByName("INBOX")!;
    await account.expunge("other", box.id); // UID 4 (message 3) is \Deleted
    await new Promise((r) => setTimeout(r, 0));
    let r = await s.run(searchCommand, "a SEARCH NOT SEEN");
    assert.equal(r.output, "* SEARCH 2 4\r\n");
    r = await s.run(searchCommand, "a SEARCH ALL");
    assert.equal(r.output, "* SEARCH 1 2 4\r\n");
    assert.equal(s.view!.exists, 4);
    // A UID command lets the expunge out afterwards.
    r = await s.run(searchCommand, "a UID SEARCH ALL");
    assert.equal(r.output, "* SEARCH 2 3 5\r\n* 3 EXPUNGE\r\n");
  });
});

Deno.test("SEARCH: a literal that cannot be loaded for BODY gives NO [UNAVAILABLE]", async () => {
  await withMailbox(async (s, account) => {
    account.literals.clear();
    let r = await s.run(searchCommand, "a SEARCH BODY dawn");
    assert.equal(r.result.status, "NO");
    assert.equal(r.result.code, "UNAVAILABLE");
    assert.equal(r.output, "");
    // Header keys never need the literal.
    r = await s.run(searchCommand, "a SEARCH FROM carol");
    assert.equal(r.output, "* SEARCH 3\r\n");
  });
});

Deno.test("SEARCH: bad arguments are BAD", async () => {
  await withMailbox(async (s) => {
    for (
      const keys of [
        "",
        "BOGUS",
        "FROM",
        "OR SEEN",
        "NOT",
        "()",
        "BEFORE 32-Mar-2024",
        "LARGER x",
        "UID",
        "0:3",
        "$",
        "RETURN (SAVE) ALL",
        "RETURN (FOO) ALL",
        "CHARSET",
        "KEYWORD \\Seen",
        "MODSEQ x",
        "NOT ".repeat(200) + "ALL",
      ]
    ) {
      const r = await s.run(searchCommand, `a SEARCH ${keys}`.trimEnd());
      assert.equal(r.result.status, "BAD", keys);
      assert.equal(r.output, "", keys);
    }
  });
});

Deno.test("SEARCH header keys over a large mailbox with holes find every match, plain or encoded", async () => {
  const account = new LocalAccount();
  try {
    const box = account.mailboxByName("INBOX")!;
    const expected: number[] = [];
    const flaggedExpected: number[] = [];
    const gone: number[] = [];
    for (let n = 1; n <= 1300; n++) {
      const subject = n % 7 === 0
        ? (n % 2 ? "Monthly Report" : "=?utf-8?q?Quarterly_r=C3=A9port_and_REPORT?=")
        : `note ${n}`;
      const flags = n % 3 === 0 ? ["\\Flagged"] : [];
      const [uid] = account.add(`Subject: ${subject}\n\nx\n`, ["INBOX"], { flags });
      // Runs of 40 expunged messages leave holes wider than a query bridges.
      if (n % 200 < 40) gone.push(uid);
      else if (n % 7 === 0) {
        expected.push(uid);
        if (n % 3 === 0) flaggedExpected.push(uid);
      }
    }
    account.store.membership.remove(box.id, gone as never[]);
    const session = new FakeSession(account);
    session.selectByName("INBOX");
    let r = await session.run(searchCommand, "a UID SEARCH SUBJECT report");
    assert.equal(r.output, `* SEARCH ${expected.join(" ")}\r\n`);
    r = await session.run(searchCommand, "b UID SEARCH FLAGGED SUBJECT REPORT");
    assert.equal(r.output, `* SEARCH ${flaggedExpected.join(" ")}\r\n`);
  } finally {
    account.close();
  }
});

Deno.test("SORT: a charset it does not take is NO [BADCHARSET], also with 8-bit strings", async () => {
  await withMailbox(async (s) => {
    const latin1 = new Uint8Array([
      ...new TextEncoder().encode("a SORT (SUBJECT) ISO-8859-1 BODY {7}\r\nM"),
      0xfc,
      ...new TextEncoder().encode("nchen"),
    ]);
    const r = await s.run(sortCommand, latin1);
    assert.deepEqual(r.result, {
      status: "NO",
      text: "Unsupported charset",
      code: "BADCHARSET (UTF-8 US-ASCII)",
    });
    assert.equal(r.output, "");
  });
});
