import assert from "node:assert/strict";
import { formatRfc1123Z, formatRfc822, GO_ZERO_TIME, parseRfc5322Date } from "./date.ts";

const iso = (s: string) => parseRfc5322Date(s)?.toISOString() ?? null;

Deno.test("parseRfc5322Date() reads RFC 5322 and obsolete forms", () => {
  assert.equal(iso("Mon, 7 Feb 1994 21:52:25 -0800"), "1994-02-08T05:52:25.000Z");
  assert.equal(iso("Mon, 7 Feb 1994 21:52:25 -0800 (PST)"), "1994-02-08T05:52:25.000Z");
  assert.equal(iso("7 Feb 94 21:52 PST"), "1994-02-08T05:52:00.000Z");
  assert.equal(iso("Wed, 02 Mar 2022 12:34:56 +0100"), "2022-03-02T11:34:56.000Z");
  assert.equal(iso("2 mar 05 01:02:03 GMT"), "2005-03-02T01:02:03.000Z");
  assert.equal(iso("Thu,  1 Jan 1970 00:00:00 +0000"), "1970-01-01T00:00:00.000Z");
  assert.equal(iso("1 January 2020 10:00:00"), "2020-01-01T10:00:00.000Z");
  assert.equal(iso("1 Jan 120 10:00:00 +0000"), "2020-01-01T10:00:00.000Z");
});

Deno.test("parseRfc5322Date() rejects what is not a date", () => {
  for (
    const bad of [
      "",
      "garbage",
      "2023-01-13T09:00:00Z",
      "31 Feb 2020 10:00:00 +0000",
      "1 Foo 2020 10:00 +0000",
      "1 Jan 2020 25:00 +0000",
    ]
  ) {
    assert.equal(parseRfc5322Date(bad), null, bad);
  }
});

Deno.test("formatRfc1123Z() and formatRfc822() match Go's layouts", () => {
  const d = new Date(Date.UTC(2023, 10, 14, 22, 13, 20));
  assert.equal(formatRfc1123Z(d), "Tue, 14 Nov 2023 22:13:20 +0000");
  assert.equal(formatRfc822(d), "14 Nov 23 22:13 UTC");
  assert.equal(formatRfc1123Z(GO_ZERO_TIME), "Mon, 01 Jan 0001 00:00:00 +0000");
  assert.equal(
    formatRfc1123Z(new Date(Date.UTC(1960, 0, 1, 9))),
    "Fri, 01 Jan 1960 09:00:00 +0000",
  );
});
