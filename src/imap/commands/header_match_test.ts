import assert from "node:assert/strict";
import { HeaderSearch } from "./header_match.ts";

const enc = new TextEncoder();
const header = (text: string) => new HeaderSearch(enc.encode(text.replace(/\n/g, "\r\n")));

Deno.test("HeaderSearch: decoded, unfolded, case-insensitive, every field of the name", () => {
  const h = header(
    "To: a@example.com\nSubject: =?iso-8859-1?q?Gr=FC=DFe?= aus\n Berlin\nTo: Zoë <z@example.org>\n\n",
  );
  assert.ok(h.contains("subject", "GRÜSSE".toLowerCase().replace("ss", "ß")));
  assert.ok(h.contains("Subject", "aus berlin"));
  assert.ok(h.contains("to", "ZOË"));
  assert.ok(h.contains("TO", "a@EXAMPLE"));
  assert.ok(!h.contains("to", "nobody"));
  assert.ok(h.contains("subject", ""));
  assert.ok(!h.contains("cc", ""));
});

Deno.test("HeaderSearch: the raw pre-check never hides a match inside an encoded word", () => {
  const h = header("Subject: =?utf-8?b?SW52b2ljZQ==?=\n\n");
  assert.ok(h.contains("subject", "invoice"));
  assert.ok(!header("Subject: hello\n\n").contains("subject", "invoice"));
});

Deno.test("HeaderSearch: sentDate is the day as written, in the sender's zone", () => {
  assert.deepEqual(header("Date: Sun, 10 Mar 2024 23:30:00 -0500\n\n").sentDate(), {
    year: 2024,
    month: 3,
    day: 10,
  });
  assert.deepEqual(header("Date: 1 Jan 99 00:00 GMT (comment)\n\n").sentDate(), {
    year: 1999,
    month: 1,
    day: 1,
  });
  assert.equal(header("Date: yesterday\n\n").sentDate(), undefined);
  assert.equal(header("Subject: x\n\n").sentDate(), undefined);
});
