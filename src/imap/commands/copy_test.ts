import assert from "node:assert/strict";
import { MailboxOperationError } from "../../connector/account.ts";
import { copyCommand } from "./copy.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("COPY and UID COPY: COPYUID pairs source and destination UIDs", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Labels/Receipts");
    for (let i = 1; i <= 3; i++) account.add(message(i), ["INBOX"]);
    const label = account.mailboxByName("Labels/Receipts")!;
    session.selectByName("INBOX");
    const { result, output } = await session.run(copyCommand, 'a1 COPY 1:2 "Labels/Receipts"');
    assert.equal(tagged(result), `a1 OK [COPYUID ${label.uidValidity} 1:2 1:2] COPY completed`);
    assert.equal(output, "");
    assert.deepEqual(account.store.membership.uids(label.id), [1, 2]);
    const uid = await session.run(copyCommand, "a1 UID COPY 3 Labels/Receipts");
    assert.equal(tagged(uid.result), `a1 OK [COPYUID ${label.uidValidity} 3 3] UID COPY completed`);
  });
});

Deno.test("COPY: destination UIDs out of order keep their pairing", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Labels/X");
    account.add(message(1), ["INBOX"]);
    account.add(message(2), ["INBOX", "Labels/X"]); // already in the label as UID 1
    account.add(message(3), ["INBOX"]);
    const label = account.mailboxByName("Labels/X")!;
    session.selectByName("INBOX");
    const { result } = await session.run(copyCommand, "a1 COPY 1:* Labels/X");
    assert.equal(tagged(result), `a1 OK [COPYUID ${label.uidValidity} 1:3 2,1,3] COPY completed`);
  });
});

Deno.test("COPY: non-ASCII destination; UIDs that are gone; numbers beyond EXISTS", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/日本語");
    account.add(message(1), ["INBOX"]);
    session.selectByName("INBOX");
    const r = await session.run(copyCommand, 'a1 UID COPY 1 "Folders/&ZeVnLIqe-"');
    assert.equal(r.result.status, "OK");
    assert.equal(account.store.membership.count(account.mailboxByName("Folders/日本語")!.id), 1);
    const none = await session.run(copyCommand, "a1 UID COPY 5:9 Trash");
    assert.equal(tagged(none.result), "a1 OK No messages copied");
    const beyond = await session.run(copyCommand, "a1 COPY 2 Trash");
    assert.equal(tagged(beyond.result), "a1 BAD [CLIENTBUG] Invalid message number");
  });
});

Deno.test("COPY: TRYCREATE, \\Noselect and the account's refusals", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["INBOX"]);
    session.selectByName("INBOX");
    assert.equal(
      tagged((await session.run(copyCommand, "a1 COPY 1 Nowhere")).result),
      "a1 NO [TRYCREATE] Mailbox does not exist",
    );
    assert.equal(
      tagged((await session.run(copyCommand, "a1 COPY 1 Labels")).result),
      "a1 NO [CANNOT] Mailbox cannot hold messages",
    );
    account.copy = () =>
      Promise.reject(new MailboxOperationError("CANNOT", "Messages cannot be copied to All Mail"));
    assert.equal(
      tagged((await session.run(copyCommand, 'a1 COPY 1 "All Mail"')).result),
      "a1 NO [CANNOT] Messages cannot be copied to All Mail",
    );
    for (const line of ["a1 COPY 1", "a1 COPY x INBOX", "a1 COPY 1 INBOX extra"]) {
      assert.equal((await session.run(copyCommand, line)).result.status, "BAD", line);
    }
  });
});

Deno.test("COPY that moved messages on the server reports EXPUNGE only where allowed", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 2; i++) account.add(message(i), ["INBOX"]);
    const archive = account.mailboxByName("Archive")!;
    const view = session.selectByName("INBOX");
    // A copy into a folder moves on Proton: the account reports the source UID as gone.
    account.copy = (origin, source, uids, destination) =>
      account.move(origin, source, uids, destination);
    const { result, output } = await session.run(copyCommand, "a1 COPY 1 Archive");
    assert.equal(tagged(result), `a1 OK [COPYUID ${archive.uidValidity} 1 1] COPY completed`);
    assert.equal(output, "", "COPY is not a point where EXPUNGE is sent");
    assert.equal(view.exists, 2);
    session.output = "";
    await session.flushUpdates(true);
    assert.equal(session.output, "* 1 EXPUNGE\r\n");
  });
});
