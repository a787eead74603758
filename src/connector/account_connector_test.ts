import assert from "node:assert/strict";
import { Store } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { createAccountConnector } from "./account_connector.ts";
import { fakeContext } from "./_fake_account.ts";
import { UpdateBus } from "./update_bus.ts";

function connector(store: Store, showAllMail = true) {
  const f = fakeContext(store);
  const c = createAccountConnector({
    id: "acc",
    primaryEmail: "me@example.test",
    store,
    bus: f.ctx.bus,
    api: f.api,
    fetcher: f.ctx.fetcher,
    keys: { addresses: [], addressKeys: new Map() },
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
    assert.deepEqual(f.api.calls, ["read", "label L", "metadata", "label 10", "metadata"]);
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
