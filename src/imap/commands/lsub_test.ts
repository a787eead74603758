import assert from "node:assert/strict";
import { lsubCommand } from "./lsub.ts";
import { tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test('LSUB "" INBOX and LSUB "" *: INBOX is subscribed (Evolution, gluon #331)', async () => {
  await withAccount(async (account, session) => {
    for (const p of ["INBOX", "inbox"]) {
      const { result, output } = await session.run(lsubCommand, `a1 LSUB "" ${p}`);
      assert.equal(tagged(result), "a1 OK LSUB completed");
      assert.equal(output, '* LSUB (\\Noinferiors) "/" "INBOX"\r\n');
    }
    await account.createMailbox("setup", "Labels/Café");
    account.setSubscribed(account.mailboxByName("Spam")!.id, false);
    const { output } = await session.run(lsubCommand, 'a1 LSUB "" *');
    assert.equal(
      output,
      [
        '* LSUB (\\Noinferiors) "/" "INBOX"',
        '* LSUB (\\Noinferiors) "/" "All Mail"',
        '* LSUB (\\Noinferiors) "/" "Archive"',
        '* LSUB (\\Noinferiors) "/" "Drafts"',
        '* LSUB (\\Noselect) "/" "Folders"',
        '* LSUB (\\Noselect) "/" "Labels"',
        '* LSUB (\\Noinferiors) "/" "Labels/Caf&AOk-"',
        '* LSUB (\\Noinferiors) "/" "Sent"',
        '* LSUB (\\Noinferiors) "/" "Starred"',
        '* LSUB (\\Noinferiors) "/" "Trash"',
      ].map((l) => l + "\r\n").join(""),
    );
  });
});

Deno.test("LSUB with %: an unsubscribed level with subscribed children is \\Noselect", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/Work");
    await account.createMailbox("setup", "Folders/Work/2024");
    account.setSubscribed(account.mailboxByName("Folders/Work")!.id, false);
    assert.equal(
      (await session.run(lsubCommand, 'a1 LSUB "" Folders/%')).output,
      '* LSUB (\\Noselect) "/" "Folders/Work"\r\n',
    );
    assert.equal(
      (await session.run(lsubCommand, 'a1 LSUB "Folders/" *')).output,
      '* LSUB () "/" "Folders/Work/2024"\r\n',
    );
    account.setSubscribed(account.mailboxByName("Folders/Work/2024")!.id, false);
    assert.equal((await session.run(lsubCommand, 'a1 LSUB "" Folders/%')).output, "");
    assert.equal(
      (await session.run(lsubCommand, 'a1 LSUB "" ""')).output,
      '* LSUB (\\Noselect) "/" ""\r\n',
    );
    const bad = await session.run(lsubCommand, 'a1 LSUB ""');
    assert.equal(bad.result.status, "BAD");
  });
});
