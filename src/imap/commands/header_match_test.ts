import assert from "node:assert/strict";
import { binaryToText, decodeEncodedWords, parseHeader } from "../../mime/mod.ts";
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

Deno.test("HeaderSearch: whitespace runs match one space, as the client sees the field", () => {
  const h = header("Subject: Re: Quarterly review for the\n\tnorthern region\nX-Tag: a \t b\n\n");
  assert.ok(h.contains("subject", "for the northern"));
  assert.ok(h.contains("subject", "FOR  THE\tNORTHERN"));
  assert.ok(h.contains("x-tag", "a b"));
  assert.ok(!h.contains("subject", "thenorthern"));
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

/** What `contains` must answer: every field of the name parsed, unfolded and decoded. */
function referenceContains(bytes: Uint8Array, name: string, needle: string): boolean {
  const lower = needle.toLowerCase();
  for (const value of parseHeader(bytes).header.getAll(name)) {
    if (lower === "") return true;
    if (decodeEncodedWords(binaryToText(value)).toLowerCase().includes(lower)) return true;
  }
  return false;
}

Deno.test("HeaderSearch.contains answers as parsing and decoding every field would", () => {
  // Pieces that stress the field boundaries, folding, 8-bit bytes and encoded words.
  const pieces: (string | number[])[] = [
    "Subject: ",
    "subject:",
    "SUBJECT :",
    "Subject\t: ",
    "Sub ject: ",
    "To: ",
    ": ",
    " ",
    "\t",
    "\r\n",
    "\n",
    "\r",
    "\r\n ",
    "\n\t",
    "report",
    "REPort",
    "rep",
    "ort",
    "x",
    "=?",
    "=?utf-8?q?rep=6Frt?=",
    "=?utf-8?b?UkVQT1JU?=",
    "=?iso-8859-1?q?caf=E9?=",
    [0xc3, 0xa9], // é in UTF-8
    [0xe9], // é in windows-1252
    [0xe2, 0x84, 0xaa], // KELVIN SIGN: lower-cases to an ASCII "k"
    [0xc4, 0xb0], // LATIN CAPITAL I WITH DOT ABOVE
    "k",
    "caf",
  ];
  const needles = ["report", "REPORT", "k", "i", "café", "caf", "rep ort", "", "=?", "x"];
  const names = ["subject", "Subject", "to", "sub ject", "", "SUBJECT"];
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 0x80000000;
    return seed % n;
  };
  for (let round = 0; round < 3000; round++) {
    const parts: number[] = [];
    const count = 1 + random(14);
    for (let i = 0; i < count; i++) {
      const p = pieces[random(pieces.length)];
      if (typeof p === "string") { for (const c of p) parts.push(c.charCodeAt(0)); }
      else parts.push(...p);
    }
    if (random(3) === 0) parts.push(13, 10, 13, 10, ...enc.encode("Subject: report\r\n"));
    const bytes = new Uint8Array(parts);
    const h = new HeaderSearch(bytes);
    for (const name of names) {
      for (const needle of needles) {
        assert.equal(
          h.contains(name, needle),
          referenceContains(bytes, name, needle),
          `${JSON.stringify(String.fromCharCode(...bytes))} ${name} ${needle}`,
        );
      }
    }
  }
});
