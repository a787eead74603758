import assert from "node:assert/strict";
import { listCommand } from "./list.ts";
import { statusCommand } from "./status.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("STATUS: every item, byte-exact", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["INBOX"], { flags: ["\\Seen"] });
    account.add(message(2), ["INBOX"]);
    account.add(message(3), ["INBOX"]);
    const inbox = account.mailboxByName("INBOX")!;
    await account.storeFlags("x", inbox.id, [3 as never], { mode: "add", flags: ["\\Deleted"] });
    const size = [1, 2, 3].reduce((n, i) => n + message(i).length, 0);
    const { result, output } = await session.run(
      statusCommand,
      "a1 STATUS inbox (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE)",
    );
    assert.equal(tagged(result), "a1 OK STATUS completed");
    assert.equal(
      output,
      `* STATUS "INBOX" (MESSAGES 3 RECENT 0 UIDNEXT 4 UIDVALIDITY ${inbox.uidValidity} UNSEEN 2 DELETED 1 SIZE ${size})\r\n`,
    );
    assert.equal(session.enabled.has("CONDSTORE"), false);
    const modseq = await session.run(statusCommand, 'a1 STATUS "INBOX" (HIGHESTMODSEQ)');
    const highest = account.mailboxByName("INBOX")!.highestModseq;
    assert.equal(modseq.output, `* STATUS "INBOX" (HIGHESTMODSEQ ${highest})\r\n`);
    assert.equal(session.enabled.has("CONDSTORE"), true);
  });
});

Deno.test("STATUS: a non-ASCII name in modified UTF-7 both ways; the selected mailbox is allowed", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/日本語");
    account.add(message(1), ["Folders/日本語"]);
    const { output } = await session.run(
      statusCommand,
      'a1 STATUS "Folders/&ZeVnLIqe-" (MESSAGES)',
    );
    assert.equal(output, '* STATUS "Folders/&ZeVnLIqe-" (MESSAGES 1)\r\n');
    session.selectByName("Folders/日本語");
    const selected = await session.run(statusCommand, 'a1 STATUS "Folders/&ZeVnLIqe-" (UNSEEN)');
    assert.equal(selected.result.status, "OK");
    assert.equal(selected.output, '* STATUS "Folders/&ZeVnLIqe-" (UNSEEN 1)\r\n');
  });
});

Deno.test("STATUS: missing, \\Noselect and malformed", async () => {
  await withAccount(async (_account, session) => {
    const missing = await session.run(statusCommand, "a1 STATUS Nope (MESSAGES)");
    assert.equal(tagged(missing.result), "a1 NO [NONEXISTENT] Mailbox does not exist");
    const noselect = await session.run(statusCommand, "a1 STATUS Folders (MESSAGES)");
    assert.equal(noselect.result.status, "NO");
    assert.equal(noselect.result.code, "CANNOT");
    for (
      const line of [
        "a1 STATUS INBOX ()",
        "a1 STATUS INBOX (FOO)",
        "a1 STATUS INBOX",
        "a1 STATUS INBOX MESSAGES",
      ]
    ) {
      const r = await session.run(statusCommand, line);
      assert.equal(r.result.status, "BAD", line);
      assert.equal(r.output, "");
    }
  });
});

Deno.test("STATUS: APPENDLIMIT (RFC 7889 §3.1) is the session's limit, also in LIST-STATUS", async () => {
  await withAccount(async (_account, session) => {
    const { result, output } = await session.run(
      statusCommand,
      "a1 STATUS INBOX (MESSAGES APPENDLIMIT)",
    );
    assert.equal(tagged(result), "a1 OK STATUS completed");
    assert.equal(output, `* STATUS "INBOX" (MESSAGES 0 APPENDLIMIT ${session.appendLimit})\r\n`);
    const list = await session.run(listCommand, 'a2 LIST "" INBOX RETURN (STATUS (APPENDLIMIT))');
    assert.equal(
      list.output,
      `* LIST (\\Noinferiors) "/" "INBOX"\r\n* STATUS "INBOX" (APPENDLIMIT ${session.appendLimit})\r\n`,
    );
  });
});
