import assert from "node:assert/strict";
import { Store } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { fakeContext } from "./_fake_account.ts";
import { parseImapFlags } from "./flag_mapping.ts";
import {
  ensureRecoveryMailbox,
  RECOVERY_MAILBOX_NAME,
  recoveryMailbox,
  storeLocalMessage,
} from "./recovery_mailbox.ts";

Deno.test("recovery mailbox: created once, local, FETCH data from the literal", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    assert.equal(recoveryMailbox(store), undefined);
    const literal = new TextEncoder().encode(
      "From: a@b.test\r\nSubject: Kept\r\n\r\nkeep me\r\n",
    );
    const r = await storeLocalMessage(f.ctx, "s", {
      literal,
      flags: parseImapFlags(["\\Flagged", "\\Deleted", "kw"]),
      internalDate: 99,
    }, { reason: "refused" });
    assert.equal(r.recovered, "refused");
    const box = recoveryMailbox(store)!;
    assert.equal(box.name, RECOVERY_MAILBOX_NAME);
    assert.equal(box.kind, "local");
    assert.equal(box.remoteId, null);
    assert.equal(ensureRecoveryMailbox(store).created, false);
    const row = store.membership.fetchRows(box.id, [{ first: r.uid, last: r.uid }])[0];
    assert.equal(row.remoteId, null);
    assert.equal(row.size, literal.length);
    assert.equal(row.deleted, true);
    assert.deepEqual(row.keywords, ["kw"]);
    assert.match(row.envelope, /Kept/);
    await new Promise((res) => setTimeout(res, 0));
    assert.deepEqual(f.published.map((p) => p.update.kind), ["MailboxCreated", "MessagesCreated"]);
  } finally {
    store.close();
  }
});

Deno.test("recovery mailbox: a failed cache write keeps nothing and says so", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const ctx = {
      ...f.ctx,
      literals: { ...f.ctx.literals, put: () => Promise.reject(new Error("disk full")) },
    };
    await assert.rejects(
      storeLocalMessage(ctx, "s", {
        literal: new TextEncoder().encode("Subject: x\r\n\r\ny"),
        flags: parseImapFlags([]),
        internalDate: 1,
      }),
      (e) => e instanceof MailboxOperationError && e.code === "UNAVAILABLE",
    );
    assert.equal(store.messages.count(), 0);
  } finally {
    store.close();
  }
});
