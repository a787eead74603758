import assert from "node:assert/strict";
import { subscribeCommand } from "./subscribe.ts";
import { unsubscribeCommand } from "./unsubscribe.ts";
import { tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("SUBSCRIBE / UNSUBSCRIBE: toggle the flag; unknown names are NONEXISTENT", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/Caf\u00e9");
    const un = await session.run(unsubscribeCommand, 'a1 UNSUBSCRIBE "Folders/Caf&AOk-"');
    assert.equal(tagged(un.result), "a1 OK UNSUBSCRIBE completed");
    assert.equal(account.mailboxByName("Folders/Café")?.subscribed, false);
    const again = await session.run(unsubscribeCommand, 'a1 UNSUBSCRIBE "Folders/Caf&AOk-"');
    assert.equal(again.result.status, "OK");
    const sub = await session.run(subscribeCommand, 'a1 SUBSCRIBE "Folders/Caf&AOk-"');
    assert.equal(tagged(sub.result), "a1 OK SUBSCRIBE completed");
    assert.equal(account.mailboxByName("Folders/Café")?.subscribed, true);
    assert.equal(sub.output + un.output, "");
    assert.equal(
      tagged((await session.run(subscribeCommand, "a1 SUBSCRIBE Nope")).result),
      "a1 NO [NONEXISTENT] Mailbox does not exist",
    );
    assert.equal(
      tagged((await session.run(unsubscribeCommand, "a1 UNSUBSCRIBE Nope")).result),
      "a1 NO [NONEXISTENT] Mailbox does not exist",
    );
    assert.equal((await session.run(subscribeCommand, "a1 SUBSCRIBE")).result.status, "BAD");
    assert.equal(
      (await session.run(unsubscribeCommand, "a1 UNSUBSCRIBE a b")).result.status,
      "BAD",
    );
  });
});
