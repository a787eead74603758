import assert from "node:assert/strict";
import { draftRecipients } from "./send_pipeline.ts";

const a = (address: string, name = "") => ({ name, address });

Deno.test("draftRecipients: envelope decides, header keeps places and names, the rest is Bcc", () => {
  const lists = draftRecipients(
    {
      to: [a("To@x.test", "To Person"), a("notinenvelope@x.test")],
      cc: [a("cc@x.test", "Cc Person"), a("to@x.test")],
      bcc: [a("bcc@x.test", "Hidden")],
    },
    ["to@x.test", "CC@x.test", "bcc@x.test", "extra@x.test", "Extra@x.test"],
  );
  assert.deepEqual(lists.to, [{ Name: "To Person", Address: "To@x.test" }]);
  assert.deepEqual(lists.cc, [{ Name: "Cc Person", Address: "cc@x.test" }]);
  assert.deepEqual(lists.bcc, [
    { Name: "Hidden", Address: "bcc@x.test" },
    { Name: "", Address: "extra@x.test" },
  ]);
});

Deno.test("draftRecipients: no header recipients at all", () => {
  const lists = draftRecipients({ to: [], cc: [], bcc: [] }, ["one@x.test"]);
  assert.deepEqual(lists, { to: [], cc: [], bcc: [{ Name: "", Address: "one@x.test" }] });
});

Deno.test("draftRecipients: a quoted local part in the envelope matches the header's address", () => {
  // RCPT TO:<"john doe"@x.test> with `To: "john doe"@x.test`, which the header parser reads as
  // the address `john doe@x.test`: it stays in To (it moved to Bcc), with its quotes (they were
  // lost: another, invalid address).
  const lists = draftRecipients(
    { to: [a("john doe@x.test", "John")], cc: [a('a"b@x.test')], bcc: [] },
    ['"john doe"@x.test', '"a\\"b"@x.test'],
  );
  assert.deepEqual(lists.to, [{ Name: "John", Address: '"john doe"@x.test' }]);
  assert.deepEqual(lists.cc, [{ Name: "", Address: '"a\\"b"@x.test' }]);
  assert.deepEqual(lists.bcc, []);
});
