import assert from "node:assert/strict";
import { deleteCommand } from "./delete.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("DELETE: a user folder goes; its messages stay elsewhere", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/Old");
    account.add(message(1), ["Folders/Old", "INBOX"]);
    const { result, output } = await session.run(deleteCommand, 'a1 DELETE "Folders/Old"');
    assert.equal(tagged(result), "a1 OK DELETE completed");
    assert.equal(output, "");
    assert.equal(account.mailboxByName("Folders/Old"), undefined);
    assert.equal(account.store.membership.count(account.mailboxByName("INBOX")!.id), 1);
  });
});

Deno.test("DELETE: INBOX, system mailboxes, placeholders and unknown names are refused", async () => {
  await withAccount(async (_account, session) => {
    const cases: [string, string][] = [
      ["a1 DELETE INBOX", "a1 NO [CANNOT] INBOX cannot be deleted"],
      ["a1 DELETE inbox", "a1 NO [CANNOT] INBOX cannot be deleted"],
      ["a1 DELETE Trash", "a1 NO [CANNOT] System mailboxes cannot be deleted"],
      ["a1 DELETE Folders", "a1 NO [CANNOT] System mailboxes cannot be deleted"],
      ['a1 DELETE "Folders/Nope"', "a1 NO [NONEXISTENT] Mailbox does not exist"],
    ];
    for (const [line, expected] of cases) {
      assert.equal(tagged((await session.run(deleteCommand, line)).result), expected, line);
    }
    assert.equal((await session.run(deleteCommand, "a1 DELETE")).result.status, "BAD");
  });
});

Deno.test("DELETE of the selected mailbox ends the selection quietly", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Labels/Temp");
    session.selectByName("Labels/Temp");
    const { result, output } = await session.run(deleteCommand, 'a1 DELETE "Labels/Temp"');
    assert.equal(result.status, "OK");
    assert.equal(output, "");
    assert.equal(session.state, "authenticated");
  });
});
