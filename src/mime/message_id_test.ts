import assert from "node:assert/strict";
import { newMessageId } from "./message_id.ts";

Deno.test("newMessageId: random left part, the sender's domain, a safe default", () => {
  const a = newMessageId("Alice@Example.Test");
  assert.match(a, /^[0-9a-f-]{36}@example\.test$/);
  assert.notEqual(newMessageId("alice@example.test"), a);
  assert.match(newMessageId(), /@bridge\.local$/);
  assert.match(newMessageId("bad@exa mple>"), /@bridge\.local$/);
});
