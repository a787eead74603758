import assert from "node:assert/strict";
import type { Address } from "../api/types.ts";
import { findOwnAddress, resolveSender, stripPlusTag } from "./sender_address.ts";
import { SubmissionError } from "./submission.ts";

function address(id: string, email: string, extra: Partial<Address> = {}): Address {
  return {
    ID: id,
    Email: email,
    Send: 1,
    Receive: 1,
    Status: 1,
    Type: 1,
    Order: 1,
    DisplayName: `Name of ${id}`,
    Keys: [],
    ...extra,
  };
}

const ADDRESSES = [
  address("a1", "alice@example.test"),
  address("a2", "Alice.Alias@example.test", { Type: 2 }),
  address("a3", "old@example.test", { Status: 0 }),
  address("a4", "nosend@example.test", { Send: 0 }),
];

function refusal(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SubmissionError);
    assert.equal(e.code, 550);
    assert.equal(e.enhanced, "5.7.1");
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("stripPlusTag and findOwnAddress", () => {
  assert.equal(stripPlusTag("Alice+News@Example.test"), "alice@example.test");
  assert.equal(stripPlusTag("plain@example.test"), "plain@example.test");
  assert.equal(findOwnAddress(ADDRESSES, "alice.alias+x@EXAMPLE.test")?.ID, "a2");
  assert.equal(findOwnAddress(ADDRESSES, "bob@example.test"), undefined);
});

Deno.test("resolveSender: From wins over MAIL FROM, +tag kept, display name", () => {
  const base = { username: "alice@example.test", addresses: ADDRESSES, mode: "combined" as const };
  const r = resolveSender({
    ...base,
    from: { name: "", address: "alice+news@example.test" },
    mailFrom: "alice.alias@example.test",
  });
  assert.equal(r.address.ID, "a1");
  assert.equal(r.email, "alice+news@example.test");
  assert.equal(r.name, "Name of a1");
  const alias = resolveSender({
    ...base,
    from: { name: "Ally", address: "alice.alias@example.test" },
    mailFrom: "",
  });
  assert.equal(alias.address.ID, "a2");
  assert.equal(alias.name, "Ally");
  assert.equal(resolveSender({ ...base, mailFrom: "alice@example.test" }).address.ID, "a1");
  // Written in another case: sent as the account spells it.
  const shouted = resolveSender({
    ...base,
    from: { name: "", address: "ALICE@Example.TEST" },
    mailFrom: "",
  });
  assert.equal(shouted.email, "alice@example.test");
});

Deno.test("resolveSender refuses unknown, disabled, non-sending and missing senders", () => {
  const base = { username: "alice@example.test", addresses: ADDRESSES, mode: "combined" as const };
  const from = (address: string) => ({ name: "", address });
  refusal(
    () => resolveSender({ ...base, from: from("mallory@evil.test"), mailFrom: "" }),
    /cannot send from mallory@evil\.test: it is not an address of this account/,
  );
  refusal(
    () => resolveSender({ ...base, from: from("old@example.test"), mailFrom: "" }),
    /old@example\.test: the address is disabled/,
  );
  refusal(
    () => resolveSender({ ...base, from: from("nosend@example.test"), mailFrom: "" }),
    /not allowed to send/,
  );
  refusal(() => resolveSender({ ...base, mailFrom: "" }), /no sender/);
});

Deno.test("resolveSender in split mode: only the login address (with or without a tag)", () => {
  const base = {
    username: "alice@example.test",
    addresses: ADDRESSES,
    mode: "split" as const,
    mailFrom: "",
  };
  assert.equal(
    resolveSender({ ...base, from: { name: "", address: "alice+x@example.test" } }).address.ID,
    "a1",
  );
  refusal(
    () => resolveSender({ ...base, from: { name: "", address: "alice.alias@example.test" } }),
    /split address mode send from alice@example\.test/,
  );
});
