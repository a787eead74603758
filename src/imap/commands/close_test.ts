import assert from "node:assert/strict";
import { MailboxOperationError } from "../../connector/account.ts";
import { closeCommand } from "./close.ts";
import { unselectCommand } from "./unselect.ts";
import { checkCommand } from "./check.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("CLOSE: expunges \\Deleted silently and ends the selection", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 3; i++) account.add(message(i), ["INBOX"]);
    const view = session.selectByName("INBOX");
    await account.storeFlags("other", view.mailboxId, [2 as never], {
      mode: "add",
      flags: ["\\Deleted"],
    });
    await new Promise((r) => setTimeout(r, 0));
    const { result, output } = await session.run(closeCommand, "a1 CLOSE");
    assert.equal(tagged(result), "a1 OK CLOSE completed");
    assert.equal(output, "");
    assert.equal(session.state, "authenticated");
    assert.deepEqual(account.store.membership.uids(view.mailboxId), [1, 3]);
  });
});

Deno.test("CLOSE after EXAMINE expunges nothing", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["INBOX"], { flags: ["\\Deleted"] });
    const inbox = account.mailboxByName("INBOX")!;
    account.store.membership.setDeleted(inbox.id, [1 as never], true);
    session.selectByName("INBOX", true);
    const { result, output } = await session.run(closeCommand, "a1 CLOSE");
    assert.equal(result.status, "OK");
    assert.equal(output, "");
    assert.deepEqual(account.store.membership.uids(inbox.id), [1]);
  });
});

Deno.test("CLOSE: a refused expunge is an untagged NO, and CLOSE still succeeds", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["INBOX"]);
    session.selectByName("INBOX");
    account.expunge = () =>
      Promise.reject(new MailboxOperationError("UNAVAILABLE", "API down\r\nretry"));
    const { result, output } = await session.run(closeCommand, "a1 CLOSE");
    assert.equal(output, "* NO [UNAVAILABLE] API down retry\r\n");
    assert.equal(tagged(result), "a1 OK CLOSE completed");
    assert.equal(session.state, "authenticated");
  });
});

Deno.test("UNSELECT: no expunge, no output; CHECK flushes pending updates", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["INBOX"]);
    const view = session.selectByName("INBOX");
    await account.storeFlags("other", view.mailboxId, [1 as never], {
      mode: "add",
      flags: ["\\Deleted"],
    });
    account.add(message(2), ["INBOX"]);
    await new Promise((r) => setTimeout(r, 0));
    const check = await session.run(checkCommand, "a1 CHECK");
    assert.equal(tagged(check.result), "a1 OK CHECK completed");
    assert.equal(check.output, "* 2 EXISTS\r\n* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n");
    const { result, output } = await session.run(unselectCommand, "a1 UNSELECT");
    assert.equal(tagged(result), "a1 OK UNSELECT completed");
    assert.equal(output, "");
    assert.equal(session.state, "authenticated");
    assert.deepEqual(account.store.membership.uids(view.mailboxId), [1, 2]);
    session.selectByName("INBOX");
    assert.equal((await session.run(unselectCommand, "a1 UNSELECT x")).result.status, "BAD");
    assert.equal((await session.run(closeCommand, "a1 CLOSE x")).result.status, "BAD");
    assert.equal((await session.run(checkCommand, "a1 CHECK x")).result.status, "BAD");
  });
});
