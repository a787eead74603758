import assert from "node:assert/strict";
import type { Uid } from "../../store/mod.ts";
import { compareCodePoints, type SortCriterion, type SortItem, sortOrder } from "./sort_order.ts";

const enc = new TextEncoder();

function item(seq: number, header: string, internalDate = 1_700_000_000, size = 100): SortItem {
  return {
    uid: (seq * 10) as Uid,
    seq,
    internalDate,
    size,
    header: enc.encode(header.replace(/\n/g, "\r\n") + "\r\n"),
  };
}

const by = (...spec: string[]): SortCriterion[] =>
  spec.map((s) => {
    const reverse = s.startsWith("-");
    return { key: (reverse ? s.slice(1) : s) as SortCriterion["key"], reverse };
  });

Deno.test("sortOrder DATE: the Date field in UTC, INTERNALDATE without a usable one", () => {
  const items = [
    item(1, "Date: Mon, 01 Jan 2024 12:00:00 +0200", 1_800_000_000), // 10:00 UTC
    item(2, "Date: Mon, 01 Jan 2024 11:00:00 +0000"),
    item(3, "Subject: no date", 1_704_103_200), // 2024-01-01 10:00 UTC, ties with 1
    item(4, "Date: not a date", 1_600_000_000),
  ];
  assert.deepEqual(sortOrder(items, by("DATE")), [40, 10, 30, 20]);
  // Ties keep sequence order even under REVERSE.
  assert.deepEqual(sortOrder(items, by("-DATE")), [20, 10, 30, 40]);
});

Deno.test("sortOrder: later criteria break ties, sequence order breaks the rest", () => {
  const items = [
    item(1, "From: b@x\nSubject: two", 5, 300),
    item(2, "From: a@x\nSubject: Re: two", 4, 100),
    item(3, "From: B@y\nSubject: one", 3, 200),
    item(4, "From: a@z\nSubject: [list] one", 2, 100),
  ];
  assert.deepEqual(sortOrder(items, by("FROM")), [20, 40, 10, 30]);
  assert.deepEqual(sortOrder(items, by("FROM", "-ARRIVAL")), [20, 40, 10, 30]);
  assert.deepEqual(sortOrder(items, by("FROM", "ARRIVAL")), [40, 20, 30, 10]);
  assert.deepEqual(sortOrder(items, by("SUBJECT")), [30, 40, 10, 20]);
  assert.deepEqual(sortOrder(items, by("SUBJECT", "-SIZE")), [30, 40, 10, 20]);
  assert.deepEqual(sortOrder(items, by("SIZE", "-SUBJECT")), [20, 40, 30, 10]);
});

Deno.test("sortOrder addresses: first real address's local part; display name or addr-spec", () => {
  const items = [
    item(1, "To: Team: zed@x, amy@x;\nFrom: =?UTF-8?Q?=C3=89mile?= <zz@x>"),
    item(2, "To: mike@x\nFrom: <Bea@x>"),
    item(3, "Cc: carl@x\nFrom: Adam <yy@x>"),
    item(4, "From: (no address here)"),
  ];
  // Group markers are skipped: item 1's first To address is zed.
  assert.deepEqual(sortOrder(items, by("TO")), [30, 40, 20, 10]);
  assert.deepEqual(sortOrder(items, by("CC")), [10, 20, 40, 30]);
  assert.deepEqual(sortOrder(items, by("FROM")), [40, 20, 30, 10]);
  // DISPLAYFROM: "", "Adam", "bea@x" (no name), "Émile" (decoded, decomposed: sorts as an e).
  assert.deepEqual(sortOrder(items, by("DISPLAYFROM")), [40, 30, 20, 10]);
  assert.deepEqual(sortOrder(items, by("DISPLAYTO")), [30, 40, 20, 10]);
});

Deno.test("sortOrder SUBJECT: encoded words decoded, ASCII case ignored, code point order", () => {
  const items = [
    item(1, "Subject: =?UTF-8?B?8J+YgA==?= smile"), // U+1F600
    item(2, "Subject: \uFB01 ligature"), // raw UTF-8 in the header
    item(3, "Subject: apple"),
    item(4, "Subject: APPLE"),
    item(5, "Subject: Banana"),
  ];
  assert.deepEqual(sortOrder(items, by("SUBJECT")), [30, 40, 50, 20, 10]);
});

Deno.test("compareCodePoints orders like UTF-8 octets, surrogates above U+FFFF", () => {
  const strings = ["\uFFFD", "\u{1F600}", "a", "\uE000", "", "ab"];
  const byBytes = [...strings].sort((x, y) => {
    const a = enc.encode(x), b = enc.encode(y);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  assert.deepEqual([...strings].sort(compareCodePoints), byBytes);
});
