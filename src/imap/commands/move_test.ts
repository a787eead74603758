import assert from "node:assert/strict";
import { MailboxOperationError } from "../../connector/account.ts";
import type { Uid } from "../../store/mod.ts";
import { FakeSession } from "../_test_account.ts";
import { moveCommand } from "./move.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("MOVE: untagged COPYUID, then the EXPUNGEs, then the tagged OK (RFC 6851)", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 4; i++) account.add(message(i), ["INBOX"]);
    const archive = account.mailboxByName("Archive")!;
    const view = session.selectByName("INBOX");
    const { result, output } = await session.run(moveCommand, "a1 MOVE 2:3 Archive");
    assert.equal(
      output,
      `* OK [COPYUID ${archive.uidValidity} 2:3 1:2] Moved\r\n* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n`,
    );
    assert.equal(tagged(result), "a1 OK MOVE completed");
    assert.deepEqual(view.uids, [1, 4]);
    assert.deepEqual(account.store.membership.uids(archive.id), [1, 2]);
    const uid = await session.run(moveCommand, "a1 UID MOVE 4 Archive");
    assert.equal(
      uid.output,
      `* OK [COPYUID ${archive.uidValidity} 4 3] Moved\r\n* 2 EXPUNGE\r\n`,
    );
    assert.equal(tagged(uid.result), "a1 OK UID MOVE completed");
  });
});

Deno.test("MOVE: another session on the source sees the EXPUNGE at its next flush", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 2; i++) account.add(message(i), ["INBOX"]);
    const other = new FakeSession(account, "session-2");
    other.selectByName("INBOX");
    session.selectByName("INBOX");
    await session.run(moveCommand, "a1 UID MOVE 1 Trash");
    await other.flushUpdates(true);
    assert.equal(other.output, "* 1 EXPUNGE\r\n");
  });
});

Deno.test("MOVE: EXPUNGEs go out even before the bus delivers the account's update", async () => {
  await withAccount(async (account, session) => {
    for (let i = 1; i <= 3; i++) account.add(message(i), ["INBOX"]);
    const trash = account.mailboxByName("Trash")!;
    const view = session.selectByName("INBOX");
    // An account that publishes nothing: the command alone must report the moved UIDs.
    account.move = (_origin, source, uids, destination) => {
      const ids = uids.map((u) => account.store.membership.messageAt(source, u)!);
      const destUids = account.store.membership.add(destination, ids);
      account.store.membership.remove(source, uids);
      return Promise.resolve({
        uidValidity: trash.uidValidity,
        sourceUids: [...uids],
        destUids,
        expunged: [...uids],
      });
    };
    const { output } = await session.run(moveCommand, "a1 MOVE 1,3 Trash");
    assert.equal(
      output,
      `* OK [COPYUID ${trash.uidValidity} 1,3 1:2] Moved\r\n* 3 EXPUNGE\r\n* 1 EXPUNGE\r\n`,
    );
    assert.deepEqual(view.uids, [2]);
  });
});

Deno.test("MOVE into a label that keeps the source (folder → label): COPYUID, no EXPUNGE", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Labels/Keep");
    account.add(message(1), ["Archive"]);
    const label = account.mailboxByName("Labels/Keep")!;
    session.selectByName("Archive");
    account.move = (origin, source, uids, destination) =>
      account.copy(origin, source, uids, destination);
    const { result, output } = await session.run(moveCommand, "a1 MOVE 1 Labels/Keep");
    assert.equal(output, `* OK [COPYUID ${label.uidValidity} 1 1] Moved\r\n`);
    assert.equal(result.status, "OK");
  });
});

Deno.test("MOVE: refusals (read-only, same mailbox, TRYCREATE, account rules, bad numbers)", async () => {
  await withAccount(async (account, session) => {
    account.add(message(1), ["INBOX"]);
    session.selectByName("INBOX", true);
    assert.equal(
      tagged((await session.run(moveCommand, "a1 MOVE 1 Trash")).result),
      "a1 NO [CANNOT] Mailbox is read-only",
    );
    session.selectByName("INBOX");
    const cases: [string, string][] = [
      ["a1 MOVE 1 inbox", "a1 NO [CANNOT] Source and destination are the same mailbox"],
      ["a1 MOVE 1 Nowhere", "a1 NO [TRYCREATE] Mailbox does not exist"],
      ["a1 MOVE 1 Folders", "a1 NO [CANNOT] Mailbox cannot hold messages"],
      ["a1 MOVE 2 Trash", "a1 BAD [CLIENTBUG] Invalid message number"],
      ["a1 UID MOVE 7 Trash", "a1 OK No messages moved"],
    ];
    for (const [line, expected] of cases) {
      const { result, output } = await session.run(moveCommand, line);
      assert.equal(tagged(result), expected, line);
      assert.equal(output, "", line);
    }
    account.move = () =>
      Promise.reject(
        new MailboxOperationError("CANNOT", "Messages cannot be moved from INBOX to Sent"),
      );
    const refused = await session.run(moveCommand, "a1 MOVE 1 Sent");
    assert.equal(
      tagged(refused.result),
      "a1 NO [CANNOT] Messages cannot be moved from INBOX to Sent",
    );
    assert.equal(refused.output, "");
    assert.deepEqual(session.view?.uids, [1 as Uid]);
  });
});
