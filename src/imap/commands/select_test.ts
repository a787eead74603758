import assert from "node:assert/strict";
import type { Uid } from "../../store/mod.ts";
import { selectCommand } from "./select.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

const FLAGS = "(\\Seen \\Flagged \\Deleted $Forwarded Forwarded)";

Deno.test("SELECT: the RFC 3501 untagged set and READ-WRITE, byte-exact", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["INBOX"], { flags: ["\\Seen"] });
    account.add(message(2), ["INBOX"]);
    account.add(message(3), ["INBOX"]);
    const inbox = account.mailboxByName("INBOX")!;
    const { result, output } = await session.run(selectCommand, 'a1 SELECT "INBOX"');
    assert.equal(tagged(result), "a1 OK [READ-WRITE] SELECT completed");
    assert.equal(
      output,
      [
        `* FLAGS ${FLAGS}`,
        "* 3 EXISTS",
        "* 0 RECENT",
        `* OK [PERMANENTFLAGS ${FLAGS}] Flags permitted`,
        "* OK [UNSEEN 2] First unseen",
        "* OK [UIDNEXT 4] Predicted next UID",
        `* OK [UIDVALIDITY ${inbox.uidValidity}] UIDs valid`,
        `* OK [HIGHESTMODSEQ ${inbox.highestModseq}] Highest`,
      ].map((l) => l + "\r\n").join(""),
    );
    assert.equal(session.state, "selected");
    assert.equal(session.view?.mailboxId, inbox.id);
    assert.equal(session.view?.readOnly, false);
    assert.deepEqual(session.view?.uids, [1, 2, 3]);
  });
});

Deno.test("EXAMINE: empty PERMANENTFLAGS, no UNSEEN when all are seen, READ-ONLY", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["Archive"], { flags: ["\\Seen"] });
    const archive = account.mailboxByName("Archive")!;
    const { result, output } = await session.run(selectCommand, "a1 EXAMINE Archive");
    assert.equal(tagged(result), "a1 OK [READ-ONLY] EXAMINE completed");
    assert.equal(
      output,
      [
        `* FLAGS ${FLAGS}`,
        "* 1 EXISTS",
        "* 0 RECENT",
        "* OK [PERMANENTFLAGS ()] Read-only mailbox",
        "* OK [UIDNEXT 2] Predicted next UID",
        `* OK [UIDVALIDITY ${archive.uidValidity}] UIDs valid`,
        `* OK [HIGHESTMODSEQ ${archive.highestModseq}] Highest`,
      ].map((l) => l + "\r\n").join(""),
    );
    assert.equal(session.view?.readOnly, true);
  });
});

Deno.test("SELECT: All Mail flags, lower-case INBOX, non-ASCII names", async () => {
  await withAccount(async (account, session) => {
    const all = await session.run(selectCommand, 'a1 SELECT "All Mail"');
    assert.match(all.output, /^\* FLAGS \(\\Seen \\Flagged\)\r\n\* 0 EXISTS\r\n/);
    const lower = await session.run(selectCommand, "a1 select inbox");
    assert.equal(lower.result.status, "OK");
    assert.equal(session.view?.name, "INBOX");
    await account.createMailbox("setup", "Folders/Café");
    const cafe = await session.run(selectCommand, 'a1 SELECT "Folders/Caf&AOk-"');
    assert.equal(cafe.result.status, "OK");
    assert.equal(session.view?.name, "Folders/Café");
  });
});

Deno.test("SELECT (CONDSTORE) turns CONDSTORE on; QRESYNC and unknown parameters are BAD", async () => {
  await withAccount(async (_account, session) => {
    const r = await session.run(selectCommand, "a1 SELECT INBOX (CONDSTORE)");
    assert.equal(r.result.status, "OK");
    assert.equal(session.enabled.has("CONDSTORE"), true);
    for (
      const line of [
        "a1 SELECT INBOX (QRESYNC (1 1))",
        "a1 SELECT INBOX (FOO)",
        "a1 SELECT",
        "a1 SELECT INBOX x",
      ]
    ) {
      const bad = await session.run(selectCommand, line);
      assert.equal(bad.result.status, "BAD", line);
      assert.equal(bad.output, "");
    }
    // A syntax error does not end the selection.
    assert.equal(session.state, "selected");
  });
});

Deno.test("SELECT: a failed SELECT ends the previous selection; \\Noselect is refused", async () => {
  await withAccount(async (_account, session) => {
    session.selectByName("INBOX");
    const missing = await session.run(selectCommand, "a1 SELECT Nowhere");
    assert.equal(tagged(missing.result), "a1 NO [NONEXISTENT] Mailbox does not exist");
    // RFC 7162 §3.2.11: the end of the previous mailbox's responses is marked.
    assert.equal(missing.output, "* OK [CLOSED] Previous mailbox closed\r\n");
    assert.equal(session.state, "authenticated");
    assert.equal(session.view, undefined);
    const noselect = await session.run(selectCommand, "a1 SELECT Folders");
    assert.equal(tagged(noselect.result), "a1 NO [CANNOT] Mailbox cannot hold messages");
    assert.equal(session.state, "authenticated");
  });
});

Deno.test("SELECT: the new view receives later updates (EXISTS at the next flush)", async () => {
  await withAccount(async (account, session) => {
    await session.run(selectCommand, "a1 SELECT INBOX");
    account.add(message(1), ["INBOX"]);
    await new Promise((r) => setTimeout(r, 0));
    session.output = "";
    await session.flushUpdates(true);
    assert.equal(session.output, "* 1 EXISTS\r\n");
  });
});

Deno.test("SELECT (QRESYNC …): VANISHED (EARLIER), then changed messages as FETCH, known UIDs honoured", async () => {
  await withAccount(async (account, session) => {
    for (let n = 1; n <= 6; n++) account.add(message(n), ["INBOX"]);
    const inbox = account.mailboxByName("INBOX")!;
    const before = inbox.highestModseq;
    await account.storeFlags("other", inbox.id, [2 as Uid], { mode: "add", flags: ["\\Seen"] });
    const gone = [3 as Uid, 5 as Uid];
    await account.storeFlags("other", inbox.id, gone, { mode: "add", flags: ["\\Deleted"] });
    assert.deepEqual(await account.expunge("other", inbox.id, gone), gone);
    const { uidValidity } = account.mailboxByName("INBOX")!;
    const modseq2 = account.store.membership.flagRows(inbox.id, [{
      first: 2 as Uid,
      last: 2 as Uid,
    }])[0].modseq;
    const line = (params: string) => `a1 SELECT INBOX (QRESYNC (${params}))`;

    const refused = await session.run(selectCommand, line(`${uidValidity} ${before}`));
    assert.equal(
      tagged(refused.result),
      "a1 BAD [CLIENTBUG] QRESYNC is not enabled (RFC 7162 §3.2.5)",
    );
    session.enable("QRESYNC");
    session.enable("CONDSTORE");

    const full = await session.run(selectCommand, line(`${uidValidity} ${before}`));
    assert.equal(tagged(full.result), "a1 OK [READ-WRITE] SELECT completed");
    const tail = full.output.split("\r\n").slice(-3);
    assert.deepEqual(tail, [
      "* VANISHED (EARLIER) 3,5",
      `* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (${modseq2}))`,
      "",
    ]);
    assert.ok(full.output.startsWith("* OK [CLOSED]") === false, "nothing was selected before");

    // Known UIDs limit both (RFC 7162 §3.2.5); the sequence match data is accepted.
    const known = await session.run(
      selectCommand,
      line(`${uidValidity} ${before} 4:6 (1:2 1:2)`),
    );
    assert.ok(known.output.startsWith("* OK [CLOSED] Previous mailbox closed\r\n"));
    assert.match(known.output, /\* VANISHED \(EARLIER\) 5\r\n$/);
    assert.doesNotMatch(known.output, /FETCH/, "UID 2 is not among the known UIDs");
    // Both parameters at once (eM Client; IMAP.md invariant 16, Purelymail #452).
    const both = await session.run(
      selectCommand,
      `a1 SELECT INBOX (CONDSTORE QRESYNC (${uidValidity} ${before}))`,
    );
    assert.equal(tagged(both.result), "a1 OK [READ-WRITE] SELECT completed");
    assert.match(both.output, /\* VANISHED \(EARLIER\) 3,5\r\n\* 2 FETCH /);
    // Another UIDVALIDITY: a plain SELECT.
    const other = await session.run(selectCommand, line(`${uidValidity + 1} ${before}`));
    assert.doesNotMatch(other.output, /FETCH|VANISHED/);
    assert.equal(tagged(other.result), "a1 OK [READ-WRITE] SELECT completed");
  });
});
