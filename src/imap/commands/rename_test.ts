import assert from "node:assert/strict";
import { renameCommand } from "./rename.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

// Children following their parent is the account's job (the test double renames one mailbox).
Deno.test("RENAME: a folder keeps its UIDs and UIDVALIDITY; non-ASCII target", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/Work");
    account.add(message(1), ["Folders/Work"]);
    const before = account.mailboxByName("Folders/Work")!;
    const { result, output } = await session.run(
      renameCommand,
      'a1 RENAME "Folders/Work" "Folders/Caf&AOk-"',
    );
    assert.equal(tagged(result), "a1 OK RENAME completed");
    assert.equal(output, "");
    assert.equal(account.mailboxByName("Folders/Work"), undefined);
    const moved = account.mailboxByName("Folders/Café")!;
    assert.equal(moved.id, before.id);
    assert.equal(moved.uidValidity, before.uidValidity);
    assert.deepEqual(account.store.membership.uids(moved.id), [1]);
  });
});

Deno.test("RENAME: INBOX (as the official bridge), system mailboxes and conflicts are refused", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/A");
    await account.createMailbox("setup", "Folders/B");
    await account.createMailbox("setup", "Labels/X");
    const cases: [string, string][] = [
      ['a1 RENAME INBOX "Folders/Old Inbox"', "a1 NO [CANNOT] INBOX cannot be renamed"],
      ['a1 RENAME inbox "Folders/Old Inbox"', "a1 NO [CANNOT] INBOX cannot be renamed"],
      ['a1 RENAME Sent "Folders/Sent"', "a1 NO [CANNOT] System mailboxes cannot be renamed"],
      ['a1 RENAME Labels "Folders/Labels"', "a1 NO [CANNOT] System mailboxes cannot be renamed"],
      ['a1 RENAME "Folders/Nope" "Folders/C"', "a1 NO [NONEXISTENT] Mailbox does not exist"],
      ['a1 RENAME "Folders/A" "Folders/B"', "a1 NO [ALREADYEXISTS] Mailbox already exists"],
      ['a1 RENAME "Folders/A" INBOX', "a1 NO [ALREADYEXISTS] Mailbox already exists"],
      [
        'a1 RENAME "Folders/A" "Folders/A/x"',
        "a1 NO [CANNOT] A mailbox cannot be moved below itself",
      ],
      ['a1 RENAME "Labels/X" "Labels/X/y"', "a1 NO [CANNOT] Labels have no sub-labels"],
      [
        'a1 RENAME "Folders/A" "/"',
        "a1 NO [CANNOT] New mailbox name is empty or has an empty level",
      ],
    ];
    for (const [line, expected] of cases) {
      assert.equal(tagged((await session.run(renameCommand, line)).result), expected, line);
    }
    assert.equal((await session.run(renameCommand, 'a1 RENAME "Folders/A"')).result.status, "BAD");
    assert.ok(account.mailboxByName("Folders/A"));
  });
});
