import assert from "node:assert/strict";
import { MailboxOperationError } from "../../connector/account.ts";
import type { Uid } from "../../store/mod.ts";
import { FakeSession } from "../_test_account.ts";
import { expungeCommand } from "./expunge.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

const uids = (...n: number[]) => n as Uid[];

Deno.test("EXPUNGE: every \\Deleted message, highest sequence number first", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 4; i++) account.add(message(i), ["INBOX"]);
    const view = session.selectByName("INBOX");
    await account.storeFlags(session.id, view.mailboxId, uids(1, 3), {
      mode: "add",
      flags: ["\\Deleted"],
    });
    await new Promise((r) => setTimeout(r, 0));
    await session.flushUpdates(false);
    const { result, output } = await session.run(expungeCommand, "a1 EXPUNGE");
    assert.equal(output, "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\n");
    assert.equal(tagged(result), "a1 OK EXPUNGE completed");
    assert.deepEqual(view.uids, [2, 4]);
    const again = await session.run(expungeCommand, "a1 EXPUNGE");
    assert.equal(again.output, "");
    assert.equal(again.result.status, "OK");
  });
});

Deno.test("UID EXPUNGE: only the given UIDs (UIDPLUS)", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 3; i++) account.add(message(i), ["Drafts"]);
    const view = session.selectByName("Drafts");
    await account.storeFlags(session.id, view.mailboxId, uids(1, 2, 3), {
      mode: "add",
      flags: ["\\Deleted"],
    });
    await new Promise((r) => setTimeout(r, 0));
    await session.flushUpdates(false);
    const { result, output } = await session.run(expungeCommand, "a1 UID EXPUNGE 2:3");
    assert.equal(output, "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n");
    assert.equal(tagged(result), "a1 OK UID EXPUNGE completed");
    assert.deepEqual(view.uids, [1]);
    const none = await session.run(expungeCommand, "a1 UID EXPUNGE 7:9");
    assert.equal(none.output, "");
    assert.equal(none.result.status, "OK");
    assert.deepEqual(account.store.membership.uids(view.mailboxId), [1]);
  });
});

Deno.test("EXPUNGE: another session hears of it at its next allowed flush", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 2; i++) account.add(message(i), ["INBOX"]);
    const other = new FakeSession(account, "session-2");
    other.selectByName("INBOX");
    const view = session.selectByName("INBOX");
    await account.storeFlags(session.id, view.mailboxId, uids(2), {
      mode: "add",
      flags: ["\\Deleted"],
    });
    await session.run(expungeCommand, "a1 EXPUNGE");
    await other.flushUpdates(false);
    assert.equal(other.output, "", "no EXPUNGE yet, and no flag change for an expunged message");
    other.output = "";
    await other.flushUpdates(true);
    assert.equal(other.output, "* 2 EXPUNGE\r\n");
  });
});

Deno.test("EXPUNGE: read-only, refused by the account, malformed", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["All Mail"]);
    session.selectByName("All Mail", true);
    assert.equal(
      tagged((await session.run(expungeCommand, "a1 EXPUNGE")).result),
      "a1 NO [CANNOT] Mailbox is read-only",
    );
    session.selectByName("All Mail");
    account.expunge = () =>
      Promise.reject(
        new MailboxOperationError("CANNOT", "Messages cannot be expunged from All Mail"),
      );
    assert.equal(
      tagged((await session.run(expungeCommand, "a1 EXPUNGE")).result),
      "a1 NO [CANNOT] Messages cannot be expunged from All Mail",
    );
    for (const line of ["a1 EXPUNGE 1", "a1 UID EXPUNGE", "a1 UID EXPUNGE x"]) {
      assert.equal((await session.run(expungeCommand, line)).result.status, "BAD", line);
    }
  });
});

Deno.test("EXPUNGE with QRESYNC: VANISHED, and a HIGHESTMODSEQ that covers only what was reported", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 4; i++) account.add(message(i), ["INBOX"]);
    const view = session.selectByName("INBOX");
    session.enable("QRESYNC");
    session.enable("CONDSTORE");
    await account.storeFlags(session.id, view.mailboxId, uids(1, 3), {
      mode: "add",
      flags: ["\\Deleted"],
    });
    await new Promise((r) => setTimeout(r, 0));
    await session.flushUpdates(false);
    // Another producer has committed a change it has not published yet (the event loop writing
    // the literal cache in between): the tagged OK waits for it, and reports it first.
    const release = account.bus.hold(account.id);
    let done = false;
    const running = session.run(expungeCommand, "a1 EXPUNGE").finally(() => done = true);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, "EXPUNGE waits for the held change");
    await account.storeFlags("other", view.mailboxId, uids(2), { mode: "add", flags: ["\\Seen"] });
    release();
    const { result, output } = await running;
    const highest = account.mailboxByName("INBOX")!.highestModseq;
    assert.equal(tagged(result), `a1 OK [HIGHESTMODSEQ ${highest}] EXPUNGE completed`);
    assert.match(
      output,
      /^\* VANISHED 1,3\r\n\* 1 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)\r\n$/,
    );
    // Nothing removed: no code.
    const none = await session.run(expungeCommand, "a1 EXPUNGE");
    assert.equal(tagged(none.result), "a1 OK EXPUNGE completed");
  });
});
