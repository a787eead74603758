import assert from "node:assert/strict";
import type { LocalAccount } from "../_test_account.ts";
import { listCommand } from "./list.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

const SYSTEM_TOP = [
  '* LIST (\\Noinferiors) "/" "INBOX"',
  '* LIST (\\Noinferiors \\All) "/" "All Mail"',
  '* LIST (\\Noinferiors \\Archive) "/" "Archive"',
  '* LIST (\\Noinferiors \\Drafts) "/" "Drafts"',
];
const SYSTEM_BOTTOM = [
  '* LIST (\\Noinferiors \\Sent) "/" "Sent"',
  '* LIST (\\Noinferiors \\Junk) "/" "Spam"',
  '* LIST (\\Noinferiors \\Flagged) "/" "Starred"',
  '* LIST (\\Noinferiors \\Trash) "/" "Trash"',
];

function lines(...l: string[]): string {
  return l.map((x) => x + "\r\n").join("");
}

async function addFolders(account: LocalAccount): Promise<void> {
  await account.createMailbox("setup", "Folders/Work");
  await account.createMailbox("setup", "Folders/Work/2024");
  await account.createMailbox("setup", "Folders/Café ☕");
  await account.createMailbox("setup", "Labels/Receipts");
}

Deno.test('LIST "" *: every mailbox, special-use and children attributes, modified UTF-7', async () => {
  await withAccount(async (account, session) => {
    await addFolders(account);
    const { result, output } = await session.run(listCommand, 'a1 LIST "" *');
    assert.equal(tagged(result), "a1 OK LIST completed");
    assert.equal(
      output,
      lines(
        ...SYSTEM_TOP,
        '* LIST (\\Noselect \\HasChildren) "/" "Folders"',
        '* LIST (\\HasNoChildren) "/" "Folders/Caf&AOk- &JhU-"',
        '* LIST (\\HasChildren) "/" "Folders/Work"',
        '* LIST (\\HasNoChildren) "/" "Folders/Work/2024"',
        '* LIST (\\Noselect \\HasChildren) "/" "Labels"',
        '* LIST (\\Noinferiors) "/" "Labels/Receipts"',
        ...SYSTEM_BOTTOM,
      ),
    );
  });
});

Deno.test('LIST "" %: the top level only; empty placeholders have no children', async () => {
  await withAccount(async (_account, session) => {
    const { output } = await session.run(listCommand, 'a1 LIST "" %');
    assert.equal(
      output,
      lines(
        ...SYSTEM_TOP,
        '* LIST (\\Noselect \\HasNoChildren) "/" "Folders"',
        '* LIST (\\Noselect \\HasNoChildren) "/" "Labels"',
        ...SYSTEM_BOTTOM,
      ),
    );
  });
});

Deno.test("LIST with Folders/% and with a reference", async () => {
  await withAccount(async (account, session) => {
    await addFolders(account);
    const expected = lines(
      '* LIST (\\HasNoChildren) "/" "Folders/Caf&AOk- &JhU-"',
      '* LIST (\\HasChildren) "/" "Folders/Work"',
    );
    assert.equal((await session.run(listCommand, 'a1 LIST "" "Folders/%"')).output, expected);
    assert.equal((await session.run(listCommand, 'a1 LIST "Folders/" "%"')).output, expected);
    assert.equal(
      (await session.run(listCommand, 'a1 LIST "" Folders/Work/*')).output,
      lines('* LIST (\\HasNoChildren) "/" "Folders/Work/2024"'),
    );
  });
});

Deno.test('LIST: INBOX in any case; LIST "" "" gives the delimiter', async () => {
  await withAccount(async (_account, session) => {
    for (const p of ["INBOX", "inbox", '"InBoX"', "Inb*"]) {
      const { result, output } = await session.run(listCommand, `a1 LIST "" ${p}`);
      assert.equal(result.status, "OK");
      assert.equal(output, lines('* LIST (\\Noinferiors) "/" "INBOX"'), p);
    }
    const root = await session.run(listCommand, 'a1 LIST "" ""');
    assert.equal(root.output, '* LIST (\\Noselect) "/" ""\r\n');
    const rootRef = await session.run(listCommand, 'a1 LIST "Folders/Work" ""');
    assert.equal(rootRef.output, '* LIST (\\Noselect) "/" ""\r\n');
    assert.equal((await session.run(listCommand, 'a1 LIST "" Nothing*')).output, "");
  });
});

Deno.test("LIST: non-ASCII patterns are decoded from modified UTF-7 and matched", async () => {
  await withAccount(async (account, session) => {
    await addFolders(account);
    const { output } = await session.run(listCommand, 'a1 LIST "" "Folders/Caf&AOk-*"');
    assert.equal(output, lines('* LIST (\\HasNoChildren) "/" "Folders/Caf&AOk- &JhU-"'));
    const bad = await session.run(listCommand, 'a1 LIST "" "Folders/Caf&AOk"');
    assert.equal(bad.result.status, "BAD");
    assert.equal(bad.result.code, "CLIENTBUG");
  });
});

Deno.test('LIST (SUBSCRIBED) "" "*" RETURN (SPECIAL-USE): Thunderbird\'s login LIST', async () => {
  await withAccount(async (account, session) => {
    await addFolders(account);
    account.setSubscribed(account.mailboxByName("Spam")!.id, false);
    account.setSubscribed(account.mailboxByName("Folders/Work/2024")!.id, false);
    const { result, output } = await session.run(
      listCommand,
      'a1 LIST (SUBSCRIBED) "" "*" RETURN (SPECIAL-USE)',
    );
    assert.equal(tagged(result), "a1 OK LIST completed");
    assert.equal(
      output,
      lines(
        '* LIST (\\Noinferiors \\Subscribed) "/" "INBOX"',
        '* LIST (\\Noinferiors \\All \\Subscribed) "/" "All Mail"',
        '* LIST (\\Noinferiors \\Archive \\Subscribed) "/" "Archive"',
        '* LIST (\\Noinferiors \\Drafts \\Subscribed) "/" "Drafts"',
        '* LIST (\\Noselect \\HasChildren \\Subscribed) "/" "Folders"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "Folders/Caf&AOk- &JhU-"',
        '* LIST (\\HasChildren \\Subscribed) "/" "Folders/Work"',
        '* LIST (\\Noselect \\HasChildren \\Subscribed) "/" "Labels"',
        '* LIST (\\Noinferiors \\Subscribed) "/" "Labels/Receipts"',
        '* LIST (\\Noinferiors \\Sent \\Subscribed) "/" "Sent"',
        '* LIST (\\Noinferiors \\Flagged \\Subscribed) "/" "Starred"',
        '* LIST (\\Noinferiors \\Trash \\Subscribed) "/" "Trash"',
      ),
    );
  });
});

Deno.test("LIST (SUBSCRIBED RECURSIVEMATCH): CHILDINFO for parents of subscribed mailboxes", async () => {
  await withAccount(async (account, session) => {
    await addFolders(account);
    for (const name of ["Folders", "Folders/Work", "Folders/Café ☕", "Labels"]) {
      account.setSubscribed(account.mailboxByName(name)!.id, false);
    }
    const { output } = await session.run(
      listCommand,
      'a1 LIST (SUBSCRIBED RECURSIVEMATCH) "" "Folders/%"',
    );
    assert.equal(
      output,
      lines('* LIST (\\HasChildren) "/" "Folders/Work" ("CHILDINFO" ("SUBSCRIBED"))'),
    );
    const top = await session.run(listCommand, 'a1 LIST (SUBSCRIBED RECURSIVEMATCH) "" "F%"');
    assert.equal(
      top.output,
      lines('* LIST (\\Noselect \\HasChildren) "/" "Folders" ("CHILDINFO" ("SUBSCRIBED"))'),
    );
    // Without RECURSIVEMATCH an unsubscribed parent is not listed.
    assert.equal((await session.run(listCommand, 'a1 LIST (SUBSCRIBED) "" "F%"')).output, "");
    // A subscribed mailbox with subscribed children gets both.
    account.setSubscribed(account.mailboxByName("Folders/Work")!.id, true);
    const both = await session.run(
      listCommand,
      'a1 LIST (SUBSCRIBED RECURSIVEMATCH) "" "Folders/%"',
    );
    assert.equal(
      both.output,
      lines(
        '* LIST (\\HasChildren \\Subscribed) "/" "Folders/Work" ("CHILDINFO" ("SUBSCRIBED"))',
      ),
    );
  });
});

Deno.test("LIST (SPECIAL-USE) and RETURN (SUBSCRIBED CHILDREN)", async () => {
  await withAccount(async (account, session) => {
    await addFolders(account);
    const special = await session.run(listCommand, 'a1 LIST (SPECIAL-USE) "" *');
    assert.equal(
      special.output,
      lines(...SYSTEM_TOP.slice(1), ...SYSTEM_BOTTOM),
    );
    account.setSubscribed(account.mailboxByName("Labels/Receipts")!.id, false);
    const ret = await session.run(listCommand, 'a1 LIST "" "Labels*" RETURN (SUBSCRIBED CHILDREN)');
    assert.equal(
      ret.output,
      lines(
        '* LIST (\\Noselect \\HasChildren \\Subscribed) "/" "Labels"',
        '* LIST (\\Noinferiors) "/" "Labels/Receipts"',
      ),
    );
  });
});

Deno.test("LIST RETURN (STATUS (MESSAGES UNSEEN)): a STATUS after each selectable mailbox", async () => {
  await withAccount(async (account, session) => {
    await addFolders(account);
    account.add(message(1), ["INBOX"]);
    account.add(message(2), ["INBOX"], { flags: ["\\Seen"] });
    account.add(message(3), ["Folders/Work"]);
    const { result, output } = await session.run(
      listCommand,
      'a1 LIST "" ("INBOX" "Folders*") RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))',
    );
    assert.equal(result.status, "OK");
    assert.equal(
      output,
      lines(
        '* LIST (\\Noinferiors) "/" "INBOX"',
        '* STATUS "INBOX" (MESSAGES 2 UNSEEN 1)',
        '* LIST (\\Noselect \\HasChildren) "/" "Folders"',
        '* LIST (\\HasNoChildren) "/" "Folders/Caf&AOk- &JhU-"',
        '* STATUS "Folders/Caf&AOk- &JhU-" (MESSAGES 0 UNSEEN 0)',
        '* LIST (\\HasChildren) "/" "Folders/Work"',
        '* STATUS "Folders/Work" (MESSAGES 1 UNSEEN 1)',
        '* LIST (\\HasNoChildren) "/" "Folders/Work/2024"',
        '* STATUS "Folders/Work/2024" (MESSAGES 0 UNSEEN 0)',
      ),
    );
    assert.equal(session.enabled.has("CONDSTORE"), false);
    const modseq = await session.run(
      listCommand,
      'a1 LIST "" INBOX RETURN (STATUS (UIDNEXT HIGHESTMODSEQ))',
    );
    assert.match(
      modseq.output,
      /^\* LIST \(\\Noinferiors\) "\/" "INBOX"\r\n\* STATUS "INBOX" \(UIDNEXT 3 HIGHESTMODSEQ \d+\)\r\n$/,
    );
    assert.equal(session.enabled.has("CONDSTORE"), true);
  });
});

Deno.test("LIST: multiple patterns list a mailbox once", async () => {
  await withAccount(async (_account, session) => {
    const { output } = await session.run(listCommand, 'a1 LIST "" (INBOX "*X" "Tr*")');
    assert.equal(
      output,
      lines('* LIST (\\Noinferiors) "/" "INBOX"', '* LIST (\\Noinferiors \\Trash) "/" "Trash"'),
    );
  });
});

Deno.test("LIST: a parent that is only implied is \\Noselect (plain) or \\NonExistent (extended)", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/Old/2019");
    assert.equal(
      (await session.run(listCommand, 'a1 LIST "" "Folders/%"')).output,
      lines('* LIST (\\Noselect \\HasChildren) "/" "Folders/Old"'),
    );
    assert.equal(
      (await session.run(listCommand, 'a1 LIST "" ("Folders/%")')).output,
      lines('* LIST (\\NonExistent \\HasChildren) "/" "Folders/Old"'),
    );
    // `*` lists the real mailbox, not the implied parent.
    assert.equal(
      (await session.run(listCommand, 'a1 LIST "" "Folders/*"')).output,
      lines('* LIST (\\HasNoChildren) "/" "Folders/Old/2019"'),
    );
  });
});

Deno.test("LIST: bad syntax and unknown options are BAD", async () => {
  await withAccount(async (_account, session) => {
    for (
      const line of [
        'a1 LIST ""',
        'a1 LIST (FOO) "" *',
        'a1 LIST (RECURSIVEMATCH) "" *',
        'a1 LIST (REMOTE RECURSIVEMATCH) "" *',
        'a1 LIST "" * RETURN (FOO)',
        'a1 LIST "" * RETURN (STATUS (MESSAGES BOGUS))',
        'a1 LIST "" * RETURN (STATUS ())',
        'a1 LIST "" ()',
        'a1 LIST "" * extra',
      ]
    ) {
      const { result, output } = await session.run(listCommand, line);
      assert.equal(result.status, "BAD", line);
      assert.equal(output, "", line);
    }
    const remote = await session.run(listCommand, 'a1 LIST (REMOTE) "" INBOX');
    assert.equal(remote.output, lines('* LIST (\\Noinferiors) "/" "INBOX"'));
  });
});
