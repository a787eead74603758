import assert from "node:assert/strict";
import { ApiClient } from "../api/mod.ts";
import { Store, type Uid } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { createAccountConnector } from "./account_connector.ts";
import { fakeContext } from "./_fake_account.ts";
import { ensureRecoveryMailbox } from "./recovery_mailbox.ts";
import { UpdateBus } from "./update_bus.ts";

function connector(
  store: Store,
  showAllMail = true,
  user?: { UsedSpace: number; MaxSpace: number },
) {
  const f = fakeContext(store);
  const c = createAccountConnector({
    id: "acc",
    primaryEmail: "me@example.test",
    store,
    bus: f.ctx.bus,
    api: f.api,
    fetcher: f.ctx.fetcher,
    keys: { addresses: [], addressKeys: new Map(), user },
    literals: f.ctx.literals,
    showAllMail,
    log: () => {},
  });
  return { c, f };
}

Deno.test("connector: visibility (All Mail setting, Scheduled while empty), INBOX any case", () => {
  const store = Store.open(":memory:");
  try {
    const { c, f } = connector(store, false);
    const names = () => c.visibleMailboxes().map((m) => m.name);
    assert.ok(!names().includes("All Mail"));
    assert.ok(!names().includes("Scheduled"));
    assert.ok(names().includes("Folders") && names().includes("Labels/Tag"));
    assert.equal(c.mailboxByName("All Mail"), undefined);
    c.showAllMail = true;
    assert.ok(c.mailboxByName("All Mail"));
    f.add("s1", { LabelIDs: ["12", "5"], Flags: 2 });
    assert.ok(names().includes("Scheduled"));
    assert.equal(c.mailboxByName("inbox")?.name, "INBOX");
    assert.equal(c.mailboxByName("Nope"), undefined);
    const allMail = c.mailboxByName("All Mail")!;
    assert.ok(!c.mailboxFlags(allMail).flags.includes("\\Deleted"));
    assert.ok(c.mailboxFlags(c.mailboxByName("INBOX")!).permanentFlags.includes("\\*"));
  } finally {
    store.close();
  }
});

Deno.test("connector: subscriptions are local; unknown mailboxes are NONEXISTENT", () => {
  const store = Store.open(":memory:");
  try {
    const { c } = connector(store);
    const tag = c.mailboxByName("Labels/Tag")!;
    c.setSubscribed(tag.id, false);
    assert.equal(store.mailboxes.get(tag.id)!.subscribed, false);
    assert.throws(
      () => c.setSubscribed(9999 as never, true),
      (e) => e instanceof MailboxOperationError && e.code === "NONEXISTENT",
    );
  } finally {
    store.close();
  }
});

Deno.test("connector: mutations run one at a time, in call order, a failure does not block", async () => {
  const store = Store.open(":memory:");
  try {
    const { c, f } = connector(store);
    const inbox = c.mailboxByName("INBOX")!;
    const tag = c.mailboxByName("Labels/Tag")!;
    const id = f.add("a");
    const uid = store.membership.uidOf(inbox.id, id)!;
    f.api.fail = new Error("first fails");
    const results = await Promise.allSettled([
      c.storeFlags("s", inbox.id, [uid], { mode: "add", flags: ["\\Seen"] }),
      c.copy("s", inbox.id, [uid], tag.id),
      c.storeFlags("s", inbox.id, [uid], { mode: "add", flags: ["\\Flagged"] }),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["rejected", "fulfilled", "fulfilled"]);
    assert.deepEqual(f.api.calls, ["read", "label L", "metadata", "label 10"]);
  } finally {
    store.close();
  }
});

Deno.test("connector: needs an API (client or api) and a fetcher", () => {
  const store = Store.open(":memory:");
  try {
    const base = {
      id: "acc",
      primaryEmail: "x",
      store,
      bus: new UpdateBus(),
      keys: { addresses: [], addressKeys: new Map() },
      literals: {
        get: () => Promise.resolve(undefined),
        put: () => Promise.resolve(),
        delete: () => Promise.resolve(),
      },
    };
    assert.throws(() => createAccountConnector(base), TypeError);
    assert.throws(
      () => createAccountConnector({ ...base, api: fakeContext(store).api }),
      TypeError,
    );
  } finally {
    store.close();
  }
});

Deno.test("connector: storage usage is the user's, shared by split views and kept in place", () => {
  const store = Store.open(":memory:");
  try {
    const user = { UsedSpace: 5_000, MaxSpace: 1024 ** 3 };
    const { c } = connector(store, true, user);
    const view = c.forAddress("addrB");
    assert.deepEqual(c.storageUsage(), { usedBytes: 5_000, limitBytes: 1024 ** 3 });
    // The account runtime updates the same object from events; every view sees it.
    user.UsedSpace = 7_000;
    user.MaxSpace = 0;
    assert.deepEqual(view.storageUsage(), { usedBytes: 7_000, limitBytes: 0 });
    user.UsedSpace = Number.NaN;
    assert.equal(c.storageUsage(), undefined);
    // Without a user there is nothing to report.
    assert.equal(connector(store).c.storageUsage(), undefined);
    // EXPUNGE frees storage only where it deletes for good.
    const name = (n: string) => c.mailboxByName(n)!;
    assert.deepEqual(
      ["INBOX", "Trash", "Drafts", "All Mail"].map((n) => c.expungeFreesStorage(name(n))),
      [false, true, true, false],
    );
  } finally {
    store.close();
  }
});

/** Two addresses' messages in INBOX: UIDs 1 (A), 2 (B), 3 (A), 4 (B). */
function twoAddresses(store: Store) {
  const { c, f } = connector(store);
  const ids = ["a1", "b1", "a2", "b2"].map((id) =>
    f.add(id, { AddressID: id.startsWith("a") ? "addrA" : "addrB" })
  );
  return { c, f, ids, inbox: c.mailboxByName("INBOX")!, a: c.forAddress("addrA") };
}

Deno.test("connector: forAddress() and addressMode split show one address's messages, same UIDs", () => {
  const store = Store.open(":memory:");
  try {
    const { c, f, a, inbox } = twoAddresses(store);
    assert.equal(c.addressId, undefined);
    assert.equal(a.addressId, "addrA");
    assert.deepEqual(c.store.membership.uids(inbox.id), [1, 2, 3, 4]);
    assert.deepEqual(a.store.membership.uids(inbox.id), [1, 3]);
    assert.equal(a.store.membership.status(inbox.id).messages, 2);
    assert.equal(a.store.membership.selectInfo(inbox.id).uidNext, 5);
    const b = createAccountConnector({
      id: "acc",
      primaryEmail: "me@example.test",
      store,
      bus: c.bus,
      api: f.api,
      fetcher: f.ctx.fetcher,
      keys: { addresses: [], addressKeys: new Map() },
      literals: f.ctx.literals,
      addressMode: "split",
      addressId: "addrB",
    });
    assert.equal(b.addressId, "addrB");
    assert.deepEqual(b.store.membership.uids(inbox.id), [2, 4]);
  } finally {
    store.close();
  }
});

Deno.test("connector: split STORE, COPY and EXPUNGE skip the other address's UIDs", async () => {
  const store = Store.open(":memory:");
  try {
    const { f, a, inbox, ids } = twoAddresses(store);
    const tag = a.mailboxByName("Labels/Tag")!;
    const stored = await a.storeFlags("s", inbox.id, [1, 2] as Uid[], {
      mode: "add",
      flags: ["\\Seen"],
    });
    assert.deepEqual(stored.updates.map((u) => u.messageId), [ids[0]]);
    assert.equal(f.api.messages.get("b1")!.Unread, 1);
    assert.equal(f.api.messages.get("a1")!.Unread, 0);

    const copied = await a.copy("s", inbox.id, [2, 3] as Uid[], tag.id);
    assert.deepEqual(copied.sourceUids, [3]);
    assert.deepEqual(store.membership.uids(tag.id).length, 1);

    // \Deleted on every message (through the full store), then EXPUNGE through A's view.
    store.membership.setDeleted(inbox.id, [1, 2, 3, 4] as Uid[], true);
    assert.deepEqual(await a.expunge("s", inbox.id), [1, 3]);
    assert.deepEqual(store.membership.uids(inbox.id), [2, 4]);
    assert.deepEqual(await a.expunge("s", inbox.id, [2, 4] as Uid[]), []);
    assert.deepEqual(store.membership.uids(inbox.id), [2, 4]);
  } finally {
    store.close();
  }
});

Deno.test("connector: split mode keeps a local (recovered) message to the address that appended it", async () => {
  const store = Store.open(":memory:");
  try {
    const { c, a } = twoAddresses(store);
    const b = c.forAddress("addrB");
    const { mailbox: recovery } = ensureRecoveryMailbox(store);
    const literal = new TextEncoder().encode(
      "From: a@example.test\r\nSubject: A's\r\n\r\nmine\r\n",
    );
    const r = await a.append("s", recovery.id, { literal, flags: [] });
    assert.deepEqual(a.store.membership.uids(recovery.id), [r.uid]);
    assert.deepEqual(b.store.membership.uids(recovery.id), []);
    assert.equal(b.store.membership.status(recovery.id).messages, 0);
    // Combined mode still sees everything.
    assert.deepEqual(c.store.membership.uids(recovery.id), [r.uid]);
  } finally {
    store.close();
  }
});

Deno.test("connector: UNCHANGEDSINCE is checked when the STORE runs, after mutations queued before it", async () => {
  const store = Store.open(":memory:");
  try {
    const { c, f } = connector(store);
    const id = f.add("m", { Unread: 1 });
    const inbox = c.mailboxByName("INBOX")!;
    const uid = store.membership.uidOf(inbox.id, id)!;
    const before = store.membership.flagRows(inbox.id, [{ first: uid, last: uid }])[0].modseq;
    // The client checked the mod-sequence (RFC 7162 §3.1.3) while another session's STORE was
    // already queued: that STORE changes the message first, so this one must fail.
    const [first, second] = await Promise.all([
      c.storeFlags("s1", inbox.id, [uid], { mode: "add", flags: ["\\Seen"] }),
      c.storeFlags("s2", inbox.id, [uid], {
        mode: "add",
        flags: ["kw"],
        unchangedSince: BigInt(before),
      }),
    ]);
    assert.equal(first.updates.length, 1);
    assert.deepEqual(second.modified, [uid]);
    assert.deepEqual(second.updates, []);
    assert.deepEqual(store.messages.get(id)!.keywords, []);
    // Still unchanged since the new mod-sequence: stored.
    const now = store.membership.flagRows(inbox.id, [{ first: uid, last: uid }])[0].modseq;
    const third = await c.storeFlags("s2", inbox.id, [uid], {
      mode: "add",
      flags: ["kw"],
      unchangedSince: BigInt(now),
    });
    assert.deepEqual(third.modified, []);
    assert.deepEqual(store.messages.get(id)!.keywords, ["kw"]);
  } finally {
    store.close();
  }
});

Deno.test("connector: its API calls give up after one retry and 10 s of Retry-After", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const id = f.add("m1");
    const inbox = store.mailboxes.byName("INBOX")!;
    let calls = 0;
    const sleeps: number[] = [];
    const client = new ApiClient({
      baseURL: "http://api.invalid",
      appVersion: "linux-bridge@3.21.1",
      maxRetries: 3,
      random: () => 0,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      fetch: () => {
        calls++;
        return Promise.resolve(
          new Response(JSON.stringify({ Code: 2028, Error: "Too many requests" }), {
            status: 429,
            headers: { "Retry-After": "600" },
          }),
        );
      },
    });
    const c = createAccountConnector({
      id: "acc",
      primaryEmail: "me@example.test",
      store,
      bus: f.ctx.bus,
      client,
      fetcher: f.ctx.fetcher,
      keys: { addresses: [], addressKeys: new Map() },
      literals: f.ctx.literals,
      log: () => {},
    });
    const uid = store.membership.uidOf(inbox.id, id)!;
    await assert.rejects(
      c.storeFlags("s", inbox.id, [uid], { mode: "add", flags: ["\\Seen"] }),
      (e) => e instanceof MailboxOperationError && e.code === "UNAVAILABLE",
    );
    assert.equal(calls, 2, "one retry, not three");
    assert.deepEqual(sleeps, [10_000], "not 60 s, let alone 600");
  } finally {
    store.close();
  }
});
