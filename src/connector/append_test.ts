import assert from "node:assert/strict";
import { type Address, MessageFlag as ApiFlag } from "../api/mod.ts";
import { KeyRing } from "../crypto/mod.ts";
import { Store } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { appendMessage, chooseAddress, importFlags } from "./append.ts";
import { fakeContext } from "./_fake_account.ts";
import { parseImapFlags } from "./flag_mapping.ts";

const enc = new TextEncoder();

function address(ID: string, Email: string, extra: Partial<Address> = {}): Address {
  return {
    ID,
    Email,
    Send: 1,
    Receive: 1,
    Status: 1,
    Type: 1,
    Order: 1,
    DisplayName: "",
    Keys: [],
    ...extra,
  };
}

Deno.test("chooseAddress: own address by default; From picks another enabled one (combined)", () => {
  const ring = new KeyRing([]);
  const addresses = [
    address("p", "me@proton.test"),
    address("alias", "alias@proton.test", { Type: 2 }),
    address("off", "off@proton.test", { Status: 0 }),
    address("ext", "ext@gmail.test", { Type: 5 }),
  ];
  const ctx = {
    addresses,
    addressKeys: new Map(addresses.map((a) => [a.ID, ring])),
    addressId: "p",
    combined: true,
  };
  const pick = (from: string) => chooseAddress(ctx, enc.encode(`From: ${from}\r\n\r\nx`));
  assert.equal(pick("someone@else.test").address?.ID, "p");
  assert.equal(pick("ALIAS+tag@proton.test").address?.ID, "alias");
  assert.equal(pick("ALIAS+tag@proton.test").fromAddress, "ALIAS+tag@proton.test");
  assert.equal(pick("off@proton.test").address?.ID, "p");
  assert.equal(pick("ext@gmail.test").address?.ID, "p");
  assert.equal(pick("me@proton.test").fromAddress, "me@proton.test");
  // Split mode: always the connector's own address.
  assert.equal(
    chooseAddress({ ...ctx, combined: false }, enc.encode("From: alias@proton.test\r\n\r\n"))
      .address?.ID,
    "p",
  );
});

Deno.test("importFlags: INBOX received, Sent sent, elsewhere by Received:, Replied with \\Answered", () => {
  const none = parseImapFlags([]);
  const plain = enc.encode("Subject: x\r\n\r\nbody");
  const received = enc.encode("Received: from a by b\r\nSubject: x\r\n\r\nbody");
  assert.equal(importFlags("0", plain, none), ApiFlag.Received);
  assert.equal(importFlags("7", received, none), ApiFlag.Sent);
  assert.equal(importFlags("6", received, none), ApiFlag.Received);
  assert.equal(importFlags("6", plain, none), ApiFlag.Sent);
  assert.equal(
    importFlags("0", plain, parseImapFlags(["\\Answered"])),
    ApiFlag.Received | ApiFlag.Replied,
  );
});

Deno.test("append: All Mail and Scheduled refused; a local mailbox stores locally", async () => {
  const store = Store.open(":memory:");
  try {
    const f = fakeContext(store);
    const literal = enc.encode("Subject: x\r\n\r\nbody\r\n");
    for (const name of ["All Mail", "Scheduled"]) {
      await assert.rejects(
        appendMessage(f.ctx, "s", store.mailboxes.byName(name)!.id, { literal, flags: [] }),
        (e) => e instanceof MailboxOperationError && e.code === "CANNOT",
      );
    }
    await assert.rejects(
      appendMessage(f.ctx, "s", store.mailboxes.byName("INBOX")!.id, {
        literal,
        flags: ["\\Nope"],
      }),
      MailboxOperationError,
    );
    // The keys are not unlocked yet (the account is served offline): try again later.
    await assert.rejects(
      appendMessage({ ...f.ctx, keysLocked: true }, "s", store.mailboxes.byName("INBOX")!.id, {
        literal,
        flags: [],
      }),
      (e) => e instanceof MailboxOperationError && e.code === "UNAVAILABLE",
    );
    assert.equal(store.mailboxes.byName("Recovered Messages"), undefined);
    // The address's keys did not unlock (no key at all here): refused by us, so kept in the
    // recovery mailbox with the reason.
    const ctx = f.ctx;
    const r = await appendMessage(ctx, "s", store.mailboxes.byName("INBOX")!.id, {
      literal,
      flags: ["\\Seen", "kw"],
      internalDate: 1234,
    });
    assert.ok(r.recovered);
    const id = store.membership.messageAt(r.mailbox, r.uid)!;
    const m = store.messages.get(id)!;
    assert.equal(m.internalDate, 1234);
    assert.deepEqual(m.keywords, ["kw"]);
    assert.deepEqual(f.literals.get(id), literal);
    assert.deepEqual(f.api.calls, []);
    const again = await appendMessage(ctx, "s", r.mailbox, { literal, flags: [] });
    assert.equal(again.recovered, undefined);
    assert.equal(again.mailbox, r.mailbox);
    assert.ok(again.uid > r.uid);
  } finally {
    store.close();
  }
});
