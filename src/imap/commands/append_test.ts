import assert from "node:assert/strict";
import { MailboxOperationError } from "../../connector/account.ts";
import { MessageFlag } from "../../store/mod.ts";
import { appendCommand } from "./append.ts";
import { message, tagged, withAccount } from "./_mailbox_test_utils.ts";

const enc = new TextEncoder();

function appendLine(head: string, body: string, plus = false): string {
  return `${head} {${enc.encode(body).length}${plus ? "+" : ""}}\r\n${body}\r\n`;
}

Deno.test("APPEND with flags and date: APPENDUID, flags and INTERNALDATE stored", async () => {
  await withAccount(async (account, session) => {
    const drafts = account.mailboxByName("Drafts")!;
    const body = message(1);
    const { result, output } = await session.run(
      appendCommand,
      appendLine('a1 APPEND "Drafts" (\\Seen \\Draft) "14-Mar-2024 09:12:45 +0100"', body),
    );
    assert.equal(tagged(result), `a1 OK [APPENDUID ${drafts.uidValidity} 1] APPEND completed`);
    assert.equal(output, "");
    const id = account.store.membership.messageAt(drafts.id, 1 as never)!;
    const stored = account.store.messages.get(id)!;
    assert.equal(stored.internalDate, Date.UTC(2024, 2, 14, 8, 12, 45) / 1000);
    assert.equal(stored.flags & MessageFlag.Seen, MessageFlag.Seen);
    assert.equal(stored.flags & MessageFlag.Draft, MessageFlag.Draft);
    assert.deepEqual(account.literals.get(id), enc.encode(body));
  });
});

Deno.test("APPEND without flags or date, LITERAL+, non-ASCII mailbox; EXISTS when selected", async () => {
  await withAccount(async (account, session) => {
    await account.createMailbox("setup", "Folders/Café");
    const cafe = account.mailboxByName("Folders/Café")!;
    const r = await session.run(
      appendCommand,
      appendLine('a1 APPEND "Folders/Caf&AOk-"', message(1), true),
    );
    assert.equal(tagged(r.result), `a1 OK [APPENDUID ${cafe.uidValidity} 1] APPEND completed`);
    session.selectByName("INBOX");
    const inbox = account.mailboxByName("INBOX")!;
    const s = await session.run(
      appendCommand,
      appendLine("a1 APPEND inbox (\\Recent $Label1)", message(2)),
    );
    assert.equal(s.output, "* 1 EXISTS\r\n");
    assert.equal(tagged(s.result), `a1 OK [APPENDUID ${inbox.uidValidity} 1] APPEND completed`);
    const id = account.store.membership.messageAt(inbox.id, 1 as never)!;
    assert.deepEqual(account.store.messages.get(id)!.keywords, ["$Label1"]);
  });
});

Deno.test("APPEND: TRYCREATE, \\Noselect, the account's refusal, recovery mailbox", async () => {
  await withAccount(async (account, session) => {
    assert.equal(
      tagged(
        (await session.run(appendCommand, appendLine('a1 APPEND "Folders/New"', message(1))))
          .result,
      ),
      "a1 NO [TRYCREATE] Mailbox does not exist",
    );
    assert.equal(
      tagged((await session.run(appendCommand, appendLine("a1 APPEND Labels", message(1)))).result),
      "a1 NO [CANNOT] Mailbox cannot hold messages",
    );
    const original = account.append.bind(account);
    account.append = () =>
      Promise.reject(
        new MailboxOperationError("CANNOT", "Messages cannot be appended to All Mail"),
      );
    assert.equal(
      tagged(
        (await session.run(appendCommand, appendLine('a1 APPEND "All Mail"', message(1)))).result,
      ),
      "a1 NO [CANNOT] Messages cannot be appended to All Mail",
    );
    const archive = account.mailboxByName("Archive")!;
    account.append = async (origin, _mailbox, request) => {
      const r = await original(origin, archive.id, request);
      return { ...r, recovered: "the server refused the import (size)" };
    };
    const rec = await session.run(appendCommand, appendLine("a1 APPEND INBOX", message(2)));
    assert.equal(
      tagged(rec.result),
      "a1 OK Message kept in the local recovery mailbox, not in INBOX: the server refused the import (size)",
    );
    // Filed elsewhere by the server: OK, without an APPENDUID of another mailbox.
    account.append = (origin, _mailbox, request) => original(origin, archive.id, request);
    assert.equal(
      tagged((await session.run(appendCommand, appendLine("a1 APPEND INBOX", message(3)))).result),
      "a1 OK APPEND completed; the server keeps the message in Archive",
    );
    // Stored, not indexed yet: OK (a NO would make the client store it again), no APPENDUID.
    account.append = (_origin, mailbox) =>
      Promise.resolve({ uidValidity: 0, uid: 0 as never, mailbox, pending: "disk full" });
    assert.equal(
      tagged((await session.run(appendCommand, appendLine("a1 APPEND INBOX", message(4)))).result),
      "a1 OK APPEND completed; the message is stored on the server and appears here once the " +
        "bridge has indexed it (disk full)",
    );
  });
});

Deno.test("APPEND: empty, oversized and malformed", async () => {
  await withAccount(async (_account, session) => {
    assert.equal(
      tagged((await session.run(appendCommand, "a1 APPEND INBOX {0}\r\n\r\n")).result),
      "a1 NO [CANNOT] Message is empty",
    );
    session.appendLimit = 10;
    assert.equal(
      tagged((await session.run(appendCommand, appendLine("a1 APPEND INBOX", message(1)))).result),
      "a1 NO [TOOBIG] Message is larger than the limit of 10 bytes",
    );
    session.appendLimit = 1 << 20;
    for (
      const line of [
        "a1 APPEND INBOX",
        'a1 APPEND INBOX "not a literal"',
        appendLine('a1 APPEND INBOX "32-Foo-2024 99:00:00 +0000"', message(1)),
        appendLine("a1 APPEND INBOX (\\Seen", message(1)),
        appendLine("a1 APPEND INBOX", message(1)).slice(0, -2) + " extra",
      ]
    ) {
      let status: string;
      try {
        status = (await session.run(appendCommand, line)).result.status;
      } catch {
        status = "BAD"; // rejected by the reader already
      }
      assert.equal(status, "BAD", line);
    }
  });
});
