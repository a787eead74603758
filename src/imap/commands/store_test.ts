import assert from "node:assert/strict";
import { MailboxOperationError } from "../../connector/account.ts";
import { FakeSession, LocalAccount } from "../_test_account.ts";
import { storeCommand } from "./store.ts";

const msg = (n: number) => `Subject: m${n}\r\nFrom: a@b.c\r\n\r\nbody ${n}\r\n`;

async function withInbox(
  count: number,
  fn: (s: FakeSession, account: LocalAccount) => Promise<void>,
  readOnly = false,
): Promise<void> {
  const account = new LocalAccount();
  try {
    for (let i = 1; i <= count; i++) account.add(msg(i), ["INBOX"]);
    const session = new FakeSession(account);
    session.selectByName("INBOX", readOnly);
    await fn(session, account);
  } finally {
    account.close();
  }
}

function modseqOf(account: LocalAccount, uid: number): number {
  const box = account.mailboxByName("INBOX")!;
  return account.store.membership.flagRows(box.id, [{ first: uid as never, last: uid as never }])[0]
    .modseq;
}

Deno.test("STORE: +FLAGS, -FLAGS and FLAGS answer with the current flags, once", async () => {
  await withInbox(3, async (s) => {
    let r = await s.run(storeCommand, "a1 STORE 1:2 +FLAGS (\\Seen $Label1)");
    assert.deepEqual(r.result, { status: "OK", text: "STORE completed", code: undefined });
    assert.equal(
      r.output,
      "* 1 FETCH (FLAGS (\\Seen $Label1))\r\n* 2 FETCH (FLAGS (\\Seen $Label1))\r\n",
    );
    r = await s.run(storeCommand, "a2 STORE 2 -FLAGS ($Label1)");
    assert.equal(r.output, "* 2 FETCH (FLAGS (\\Seen))\r\n");
    r = await s.run(storeCommand, "a3 STORE 1,3 FLAGS (\\Flagged \\Deleted)");
    assert.equal(
      r.output,
      "* 1 FETCH (FLAGS (\\Flagged \\Deleted))\r\n* 3 FETCH (FLAGS (\\Flagged \\Deleted))\r\n",
    );
    // Messages the STORE did not change are still answered (RFC 3501 §6.4.6).
    r = await s.run(storeCommand, "a4 STORE 2 +FLAGS \\Seen");
    assert.equal(r.output, "* 2 FETCH (FLAGS (\\Seen))\r\n");
    assert.equal(s.view!.hasPending, false);
  });
});

Deno.test("STORE: UID STORE adds UID; \\Recent is ignored; forwarded shows both keywords", async () => {
  await withInbox(3, async (s) => {
    const r = await s.run(storeCommand, "a1 UID STORE 3 +FLAGS (\\Recent $Forwarded)");
    assert.equal(r.output, "* 3 FETCH (FLAGS ($Forwarded Forwarded) UID 3)\r\n");
    assert.equal(r.result.text, "UID STORE completed");
    // UIDs outside the mailbox are skipped.
    assert.equal((await s.run(storeCommand, "a2 UID STORE 7:9 +FLAGS (\\Seen)")).output, "");
  });
});

Deno.test("STORE: .SILENT answers nothing and the flush does not repeat it", async () => {
  await withInbox(2, async (s, account) => {
    const other = new FakeSession(account, "other");
    other.selectByName("INBOX");
    const r = await s.run(storeCommand, "a1 STORE 1:2 +FLAGS.SILENT (\\Seen)");
    assert.equal(r.output, "");
    assert.equal(r.result.status, "OK");
    // Another session on the mailbox hears of it at its next flush (ARCHITECTURE invariant 2).
    await other.flushUpdates(false);
    assert.equal(
      other.output,
      "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n",
    );
  });
});

Deno.test("STORE: a read-only mailbox refuses and changes nothing", async () => {
  await withInbox(1, async (s) => {
    const r = await s.run(storeCommand, "a1 STORE 1 +FLAGS (\\Seen)");
    assert.equal(r.result.status, "NO");
    assert.equal(r.output, "");
    assert.equal(s.view!.store.membership.search(s.view!.mailboxId, { flagsSet: 1 }).length, 0);
  }, true);
});

Deno.test("STORE: with CONDSTORE on, responses carry UID and MODSEQ, .SILENT ones too", async () => {
  await withInbox(3, async (s, account) => {
    s.enable("CONDSTORE");
    let r = await s.run(storeCommand, "a1 STORE 1 +FLAGS (\\Flagged)");
    assert.equal(
      r.output,
      `* 1 FETCH (FLAGS (\\Flagged) UID 1 MODSEQ (${modseqOf(account, 1)}))\r\n`,
    );
    // RFC 7162 §3.1.3: even with .SILENT the changed messages report their new MODSEQ; an
    // unchanged message (1 is already \Flagged) is not reported.
    r = await s.run(storeCommand, "a2 STORE 1:2 +FLAGS.SILENT (\\Flagged)");
    assert.equal(r.output, `* 2 FETCH (UID 2 MODSEQ (${modseqOf(account, 2)}))\r\n`);
  });
});

Deno.test("STORE: UNCHANGEDSINCE stores only into unmodified messages and lists the rest", async () => {
  await withInbox(3, async (s, account) => {
    const box = account.mailboxByName("INBOX")!;
    const base = account.store.membership.selectInfo(box.id).highestModseq;
    await account.storeFlags("other", box.id, [2 as never], { mode: "add", flags: ["$Other"] });
    await new Promise((r) => setTimeout(r, 0));
    await s.flushUpdates(false);
    s.output = "";
    let r = await s.run(storeCommand, `a1 STORE 1:3 (UNCHANGEDSINCE ${base}) +FLAGS (\\Seen)`);
    assert.deepEqual(r.result, {
      status: "OK",
      text: "Conditional STORE failed",
      code: "MODIFIED 2",
    });
    assert.ok(s.enabled.has("CONDSTORE"));
    assert.equal(
      r.output,
      `* 1 FETCH (FLAGS (\\Seen) UID 1 MODSEQ (${modseqOf(account, 1)}))\r\n` +
        `* 3 FETCH (FLAGS (\\Seen) UID 3 MODSEQ (${modseqOf(account, 3)}))\r\n`,
    );
    // Message 2 was not touched.
    assert.equal(account.store.membership.search(box.id, { flagsSet: 1 }).join(), "1,3");
    // UID STORE lists UIDs; UNCHANGEDSINCE 0 always fails (RFC 7162 §3.1.3).
    r = await s.run(storeCommand, "a2 UID STORE 2:3 (UNCHANGEDSINCE 0) -FLAGS.SILENT (\\Seen)");
    assert.equal(r.result.code, "MODIFIED 2:3");
    assert.equal(r.output, "");
  });
});

Deno.test("STORE: no EXPUNGE during STORE; an expunged-but-unreported message is skipped", async () => {
  await withInbox(3, async (s, account) => {
    const box = account.mailboxByName("INBOX")!;
    await account.storeFlags("other", box.id, [2 as never], { mode: "add", flags: ["\\Deleted"] });
    await account.expunge("other", box.id);
    await new Promise((r) => setTimeout(r, 0));
    const r = await s.run(storeCommand, "a1 STORE 1:3 +FLAGS (\\Answered)");
    assert.equal(r.result.status, "OK");
    assert.equal(
      r.output,
      "* 1 FETCH (FLAGS (\\Answered))\r\n* 3 FETCH (FLAGS (\\Answered))\r\n",
    );
    assert.equal(s.view!.exists, 3);
  });
});

Deno.test("STORE: a refusal from the account is NO with its code", async () => {
  await withInbox(1, async (s, account) => {
    account.storeFlags = () =>
      Promise.reject(new MailboxOperationError("UNAVAILABLE", "Proton is not reachable"));
    const r = await s.run(storeCommand, "a1 STORE 1 +FLAGS (\\Seen)");
    assert.deepEqual(r.result, {
      status: "NO",
      text: "Proton is not reachable",
      code: "UNAVAILABLE",
    });
    assert.equal(r.output, "");
  });
});

Deno.test("STORE: bad arguments are BAD", async () => {
  await withInbox(1, async (s) => {
    for (
      const line of [
        "a STORE 1 FLAGS",
        "a STORE 1 XFLAGS (\\Seen)",
        "a STORE 1 +FLAGS (\\Bogus)",
        "a STORE 1 +FLAGS (\\*)",
        "a STORE 2 +FLAGS (\\Seen)",
        "a STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)",
        "a STORE 1 (NOPE 1) +FLAGS (\\Seen)",
        "a STORE 1 +FLAGS (\\Seen) extra",
        "a STORE +FLAGS (\\Seen)",
      ]
    ) {
      const r = await s.run(storeCommand, line);
      assert.equal(r.result.status, "BAD", line);
      assert.equal(r.output, "", line);
    }
  });
});

Deno.test("STORE: UNCHANGEDSINCE failures the account finds when the change runs join MODIFIED", async () => {
  await withInbox(3, async (s, account) => {
    const box = account.mailboxByName("INBOX")!;
    const base = account.store.membership.selectInfo(box.id).highestModseq;
    // The account's own check (run in its mutation order) finds message 3 changed meanwhile.
    const plain = account.storeFlags.bind(account);
    let asked: bigint | undefined;
    account.storeFlags = async (origin, mailbox, uids, change) => {
      asked = change.unchangedSince;
      const late = uids.filter((u) => u === 3);
      const result = await plain(origin, mailbox, uids.filter((u) => u !== 3), change);
      return { ...result, modified: late };
    };
    const r = await s.run(storeCommand, `a1 STORE 1:3 (UNCHANGEDSINCE ${base}) +FLAGS (\\Seen)`);
    assert.equal(asked, BigInt(base));
    assert.deepEqual(r.result.code, "MODIFIED 3");
    assert.equal(
      r.output,
      `* 1 FETCH (FLAGS (\\Seen) UID 1 MODSEQ (${modseqOf(account, 1)}))\r\n` +
        `* 2 FETCH (FLAGS (\\Seen) UID 2 MODSEQ (${modseqOf(account, 2)}))\r\n`,
    );
  });
});
