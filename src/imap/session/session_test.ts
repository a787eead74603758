import assert from "node:assert/strict";
import { responseText } from "./session.ts";

Deno.test("responseText: one line of 7-bit text; names in modified UTF-7, our typography in ASCII", () => {
  assert.equal(
    responseText("The parent folder Folders/Café\r\ndoes not exist"),
    "The parent folder Folders/Caf&AOk- does not exist",
  );
  assert.equal(
    responseText("QRESYNC is not enabled (RFC 7162 §3.2.5) — see “docs”…"),
    'QRESYNC is not enabled (RFC 7162 section 3.2.5) - see "docs"...',
  );
  assert.equal(responseText("Labels/Grüße ☕"), "Labels/Gr&APwA3w-e &JhU-");
  assert.match(responseText("any\u0000thing\t\u00ff"), /^[\x20-\x7e]*$/);
});
