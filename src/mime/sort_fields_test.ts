import assert from "node:assert/strict";
import { sortFields } from "./sort_fields.ts";

const enc = new TextEncoder();
const block = (text: string) => enc.encode(text.replace(/\n/g, "\r\n") + "\r\n");

Deno.test("sortFields: the Date field in UTC, null when missing or unparsable", () => {
  assert.equal(sortFields(block("Date: Mon, 01 Jan 2024 12:00:00 +0200")).sentDate, 1704103200);
  assert.equal(sortFields(block("Subject: no date")).sentDate, null);
  assert.equal(sortFields(block("Date: not a date")).sentDate, null);
});

Deno.test("sortFields: base subject of the decoded Subject, ASCII letters upper-cased", () => {
  assert.equal(sortFields(block("Subject: Re: [list] Fwd: hello (fwd)")).subject, "HELLO");
  assert.equal(
    sortFields(block("Subject: =?UTF-8?Q?Re:_gr=C3=BC=C3=9Fe?=")).subject,
    "GRüßE",
  );
  // Raw UTF-8 (8-bit header) is read as UTF-8.
  assert.equal(sortFields(block("Subject: \uFB01 ligature")).subject, "\uFB01 LIGATURE");
  assert.equal(sortFields(block("From: a@x")).subject, "");
});

Deno.test("sortFields: first real address's local part; display name or addr-spec", () => {
  const f = sortFields(block(
    "To: Team: zed@x, amy@x;\nFrom: =?UTF-8?Q?=C3=89mile?= <zz@x>\nCc: (nobody), carl@y",
  ));
  // Group markers are skipped: the first To address is zed.
  assert.equal(f.to, "ZED");
  assert.equal(f.from, "ZZ");
  assert.equal(f.cc, "CARL");
  // Decoded, decomposed and upper-cased: É sorts as an E, letters before "_".
  assert.equal(f.displayFrom, "E\u0301MILE");
  assert.equal(f.displayTo, "ZED@X");
  const none = sortFields(block("Subject: x\nFrom: (no address here)"));
  assert.deepEqual([none.from, none.to, none.cc, none.displayFrom, none.displayTo], [
    "",
    "",
    "",
    "",
    "",
  ]);
  assert.equal(sortFields(block("From: <Bea@x>")).displayFrom, "BEA@X");
  assert.ok(
    sortFields(block("From: alice <a@x>")).displayFrom <
      sortFields(block("From: _admin <b@x>")).displayFrom,
  );
});
