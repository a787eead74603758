import assert from "node:assert/strict";
import { xlistAttributes, xlistCommand } from "./xlist.ts";
import { tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("xlistAttributes: Gmail's names for the special-use attributes, \\Inbox on INBOX", () => {
  assert.deepEqual(xlistAttributes("INBOX", ["\\Noinferiors"]), ["\\Noinferiors", "\\Inbox"]);
  assert.deepEqual(xlistAttributes("All Mail", ["\\Noinferiors", "\\All"]), [
    "\\Noinferiors",
    "\\AllMail",
  ]);
  assert.deepEqual(xlistAttributes("Spam", ["\\junk"]), ["\\Spam"]);
  assert.deepEqual(xlistAttributes("Starred", ["\\Flagged"]), ["\\Starred"]);
  for (const a of ["\\Sent", "\\Drafts", "\\Trash", "\\Archive", "\\HasChildren"]) {
    assert.deepEqual(xlistAttributes("X", [a]), [a]);
  }
});

Deno.test("XLIST lists what LIST lists, in XLIST lines; a label's name is encoded", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Labels/Café");
    const { result, output } = await session.run(xlistCommand, 'a1 XLIST "" "Labels/*"');
    assert.equal(tagged(result), "a1 OK XLIST completed");
    assert.equal(output, '* XLIST (\\Noinferiors) "/" "Labels/Caf&AOk-"\r\n');
    const bad = await session.run(xlistCommand, 'a2 XLIST "" "*" extra');
    assert.equal(bad.result.status, "BAD");
  });
});
