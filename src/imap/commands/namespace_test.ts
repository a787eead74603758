import assert from "node:assert/strict";
import { namespaceCommand } from "./namespace.ts";
import { tagged, withAccount } from "./_mailbox_test_utils.ts";

Deno.test("NAMESPACE: one personal namespace, no prefix, / delimiter", async () => {
  await withAccount(async (_account, session) => {
    const { result, output } = await session.run(namespaceCommand, "a1 NAMESPACE");
    assert.equal(output, '* NAMESPACE (("" "/")) NIL NIL\r\n');
    assert.equal(tagged(result), "a1 OK NAMESPACE completed");
    assert.equal((await session.run(namespaceCommand, "a1 NAMESPACE x")).result.status, "BAD");
  });
});
