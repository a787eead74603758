import assert from "node:assert/strict";
import { Store } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { fakeContext } from "./_fake_account.ts";
import { createMailbox, deleteMailbox, renameMailbox } from "./mailbox_admin.ts";

function refused(code: string) {
  return (e: unknown) => e instanceof MailboxOperationError && e.code === code;
}

Deno.test("mailbox admin: refusals before any API call", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const tag = store.mailboxes.byName("Labels/Tag")!;
    const work = store.mailboxes.byName("Folders/Work")!;
    await assert.rejects(createMailbox(f.ctx, "s", "Top"), refused("CANNOT"));
    await assert.rejects(createMailbox(f.ctx, "s", "Labels/a/b"), refused("CANNOT"));
    await assert.rejects(createMailbox(f.ctx, "s", "Folders/Work"), refused("ALREADYEXISTS"));
    await assert.rejects(createMailbox(f.ctx, "s", "Folders/No/x"), refused("NONEXISTENT"));
    await assert.rejects(renameMailbox(f.ctx, "s", inbox.id, "Folders/x"), refused("CANNOT"));
    await assert.rejects(renameMailbox(f.ctx, "s", tag.id, "Folders/x"), refused("CANNOT"));
    await assert.rejects(renameMailbox(f.ctx, "s", work.id, "Labels/Tag"), refused("CANNOT"));
    await assert.rejects(
      renameMailbox(f.ctx, "s", work.id, "Folders/Work/Sub"),
      refused("CANNOT"),
    );
    await assert.rejects(deleteMailbox(f.ctx, "s", inbox.id), refused("CANNOT"));
    await assert.rejects(
      deleteMailbox(f.ctx, "s", store.mailboxes.byName("Folders")!.id),
      refused("CANNOT"),
    );
    await assert.rejects(deleteMailbox(f.ctx, "s", 9999 as never), refused("NONEXISTENT"));
    await renameMailbox(f.ctx, "s", work.id, "Folders/Work"); // same name: nothing to do
    assert.deepEqual(f.api.calls, []);
  } finally {
    store.close();
  }
});
