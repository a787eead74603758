import assert from "node:assert/strict";
import { MessageFlag, Store, type Uid } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { fakeContext } from "./_fake_account.ts";
import { parseImapFlags } from "./flag_mapping.ts";
import { storeLocalMessage } from "./recovery_mailbox.ts";
import { storeFlags } from "./store_flags.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("STORE: API only for bits that change; Starred follows \\Flagged", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const starred = store.mailboxes.byName("Starred")!;
    const a = f.add("a", { Unread: 1 });
    const b = f.add("b", { Unread: 0 });
    const uids = [a, b].map((id) => store.membership.uidOf(inbox.id, id)!);
    const r = await storeFlags(f.ctx, "s", inbox.id, uids, {
      mode: "add",
      flags: ["\\Seen", "\\Flagged"],
    });
    assert.deepEqual(f.api.calls, ["read", "label 10", "metadata"]);
    assert.deepEqual(f.api.messages.get("a")!.Unread, 0);
    assert.equal(r.updates.length, 2);
    assert.ok(store.membership.uidOf(starred.id, a) && store.membership.uidOf(starred.id, b));
    await tick();
    assert.deepEqual(f.published.map((p) => [p.origin, p.update.kind]), [
      ["s", "FlagsChanged"],
      ["s", "MembershipChanged"],
      ["s", "MembershipChanged"],
    ]);

    // Same again: nothing changes, nothing is called but the (empty) read-back.
    f.api.calls = [];
    const again = await storeFlags(f.ctx, "s", inbox.id, uids, {
      mode: "add",
      flags: ["\\Seen", "\\Flagged"],
    });
    assert.deepEqual(again, { updates: [], deletedChanged: [] });
    assert.deepEqual(f.api.calls, []);
  } finally {
    store.close();
  }
});

Deno.test("STORE replace: remote bits through the API, local bits and keywords replaced", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const a = f.add("a", { Unread: 0, IsForwarded: 1 });
    const uid = store.membership.uidOf(inbox.id, a)!;
    store.messages.setFlags([a], { mode: "add", flags: MessageFlag.Answered, keywords: ["old"] });
    const r = await storeFlags(f.ctx, "s", inbox.id, [uid], {
      mode: "replace",
      flags: ["\\Draft", "new", "\\Deleted"],
    });
    assert.deepEqual(f.api.calls, ["unread", "unforward", "metadata"]);
    const m = store.messages.get(a)!;
    assert.equal(m.flags, MessageFlag.Draft);
    assert.deepEqual(m.keywords, ["new"]);
    assert.deepEqual(r.deletedChanged, [uid]);
    assert.equal(r.updates[0].flags, MessageFlag.Draft);
  } finally {
    store.close();
  }
});

Deno.test("STORE: API failure changes nothing; bad flags refused; local messages all local", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const inbox = store.mailboxes.byName("INBOX")!;
    const a = f.add("a");
    const uid = store.membership.uidOf(inbox.id, a)!;
    f.api.fail = new Error("nope");
    await assert.rejects(
      storeFlags(f.ctx, "s", inbox.id, [uid], { mode: "add", flags: ["\\Seen", "kw"] }),
      MailboxOperationError,
    );
    assert.deepEqual(store.messages.get(a)!.keywords, []);
    assert.equal(store.messages.get(a)!.flags & MessageFlag.Seen, 0);
    await assert.rejects(
      storeFlags(f.ctx, "s", inbox.id, [uid], { mode: "add", flags: ["\\Bogus"] }),
      (e) => e instanceof MailboxOperationError && /\\Bogus/.test(e.message),
    );
    assert.deepEqual(
      await storeFlags(f.ctx, "s", inbox.id, [77 as Uid], { mode: "add", flags: ["\\Seen"] }),
      { updates: [], deletedChanged: [] },
    );

    f.api.calls = [];
    const local = await storeLocalMessage(f.ctx, "s", {
      literal: new TextEncoder().encode("Subject: l\r\n\r\nx\r\n"),
      flags: parseImapFlags([]),
      internalDate: 1,
    });
    const r = await storeFlags(f.ctx, "s", local.mailbox, [local.uid], {
      mode: "add",
      flags: ["\\Seen", "\\Flagged", "$Forwarded"],
    });
    assert.deepEqual(f.api.calls, []);
    assert.equal(
      r.updates[0].flags,
      MessageFlag.Seen | MessageFlag.Flagged | MessageFlag.Forwarded,
    );
  } finally {
    store.close();
  }
});
