import assert from "node:assert/strict";
import { createCommand } from "./create.ts";
import { tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("CREATE: a folder, a label, a non-ASCII name; a trailing delimiter is dropped", async () => {
  await withAccount(async (account, session) => {
    const r = await session.run(createCommand, 'a1 CREATE "Folders/Work"');
    assert.equal(tagged(r.result), "a1 OK CREATE completed");
    assert.equal(r.output, "");
    assert.equal(account.mailboxByName("Folders/Work")?.kind, "folder");
    assert.equal((await session.run(createCommand, "a1 CREATE Labels/Todo/")).result.status, "OK");
    assert.equal(account.mailboxByName("Labels/Todo")?.kind, "label");
    assert.equal(
      (await session.run(createCommand, 'a1 CREATE "Folders/&ZeVnLIqe-"')).result.status,
      "OK",
    );
    assert.ok(account.mailboxByName("Folders/日本語"));
  });
});

Deno.test("CREATE: refusals carry RFC 5530 codes", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/Work");
    const cases: [string, string][] = [
      ["a1 CREATE INBOX", "a1 NO [ALREADYEXISTS] Mailbox already exists"],
      ["a1 CREATE inbox", "a1 NO [ALREADYEXISTS] Mailbox already exists"],
      ['a1 CREATE "Folders/Work"', "a1 NO [ALREADYEXISTS] Mailbox already exists"],
      ["a1 CREATE Trash", "a1 NO [ALREADYEXISTS] Mailbox already exists"],
      [
        'a1 CREATE "Elsewhere"',
        "a1 NO [CANNOT] Mailboxes can only be created under Folders/ or Labels/",
      ],
      ['a1 CREATE "/"', "a1 NO [CANNOT] Mailbox name is empty"],
      ['a1 CREATE "Folders//x"', "a1 NO [CANNOT] Mailbox name has an empty level"],
    ];
    for (const [line, expected] of cases) {
      const { result, output } = await session.run(createCommand, line);
      assert.equal(tagged(result), expected, line);
      assert.equal(output, "");
    }
    assert.equal((await session.run(createCommand, "a1 CREATE")).result.status, "BAD");
    assert.equal(
      (await session.run(createCommand, 'a1 CREATE "Folders/&Jjo"')).result.status,
      "BAD",
    );
  });
});
