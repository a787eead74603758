import assert from "node:assert/strict";
import { compactUidSet, SequenceSet, SequenceSetError, STAR } from "./sequence_set.ts";

Deno.test("sequence set: parse and serialize keep the written form", () => {
  for (const text of ["1", "1:5", "5:1", "1:*", "*:5", "*", "3,5:7,*", "4294967295", "1,1,1"]) {
    assert.equal(SequenceSet.parse(text).toString(), text);
  }
  assert.deepEqual(SequenceSet.parse("2:*").ranges, [{ start: 2, stop: STAR }]);
  assert.equal(SequenceSet.parse("7:7").toString(), "7");
});

Deno.test("sequence set: malformed text is refused", () => {
  for (
    const text of [
      "",
      "0",
      "1:0",
      ",1",
      "1,",
      "1,,2",
      "a",
      "1:2:3",
      " 1",
      "1 ",
      "-1",
      "4294967296",
      "99999999999999999999",
      "1.5",
      "$",
      ":",
      "1:",
      "**",
    ]
  ) {
    assert.throws(() => SequenceSet.parse(text), SequenceSetError, JSON.stringify(text));
  }
});

Deno.test("sequence set: $ only when allowed", () => {
  const s = SequenceSet.parse("$", true);
  assert.equal(s.isSearchResult, true);
  assert.equal(s.toString(), "$");
  assert.equal(s.contains(1, 10), false);
  assert.deepEqual(s.resolve(10), []);
});

Deno.test("sequence set: contains with * as the largest number", () => {
  const s = SequenceSet.parse("3,5:7,*");
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((n) => s.contains(n, 10)), [
    3,
    5,
    6,
    7,
    10,
  ]);
  assert.equal(s.contains(11, 10), false);
  assert.equal(s.contains(0, 10), false);
  // `*:5` in a 3-message mailbox is 3:5 → only 3 exists.
  assert.deepEqual([...SequenceSet.parse("*:5").values(3)], [3]);
  // RFC 3501 §6.4.8: 559:* includes the last UID even when it is below 559.
  assert.equal(SequenceSet.parse("559:*").contains(500, 500), true);
  assert.equal(SequenceSet.parse("559:*").contains(499, 500), false);
  assert.deepEqual(SequenceSet.parse("559:*").resolve(500), [[500, 500]]);
});

Deno.test("sequence set: an empty mailbox matches nothing", () => {
  for (const text of ["1:*", "*", "1", "5:*"]) {
    const s = SequenceSet.parse(text);
    assert.deepEqual(s.resolve(0), []);
    assert.equal(s.count(0), 0);
    assert.deepEqual([...s.values(0)], []);
    assert.equal(s.contains(1, 0), false);
  }
});

Deno.test("sequence set: resolve merges, sorts and clips", () => {
  assert.deepEqual(SequenceSet.parse("9,1:3,2:4,5,20:30").resolve(25), [[1, 5], [9, 9], [20, 25]]);
  assert.deepEqual(SequenceSet.parse("600:700").resolve(500), []);
  assert.equal(SequenceSet.parse("1:*").count(42), 42);
  assert.deepEqual([...SequenceSet.parse("4,2,2,3").values(10)], [2, 3, 4]);
});

Deno.test("sequence set: normalize", () => {
  assert.equal(
    SequenceSet.parse("5:3,4,6,10,*,8:*,*:2,*:8").normalize().toString(),
    "3:6,10,2:*,8:*,*",
  );
  assert.equal(SequenceSet.parse("1,2,3").normalize().toString(), "1:3");
  assert.equal(SequenceSet.parse("*:*").normalize().toString(), "*");
  assert.equal(SequenceSet.parse("3,1").hasStar, false);
  assert.equal(SequenceSet.parse("3,1:*").hasStar, true);
  assert.equal(SequenceSet.parse("3,1:*,7").maxExplicit(), 7);
});

Deno.test("sequence set: compact UID sets for COPYUID/APPENDUID", () => {
  assert.equal(compactUidSet([1, 2, 3, 7]), "1:3,7");
  assert.equal(compactUidSet([7, 3, 4, 5, 9, 4]), "3:5,7,9");
  assert.equal(compactUidSet([42]), "42");
  assert.equal(compactUidSet([304, 319, 320]), "304,319:320");
  assert.equal(compactUidSet([5, 6, 1, 2], true), "5:6,1:2");
  assert.equal(compactUidSet([3, 2, 1], true), "3,2,1");
  assert.throws(() => compactUidSet([]), RangeError);
  assert.throws(() => compactUidSet([0]), RangeError);
  assert.throws(() => compactUidSet([1.5]), RangeError);
  assert.equal(SequenceSet.fromNumbers([3, 1, 2, 9]).toString(), "1:3,9");
  // Compacted sets contain exactly the input numbers.
  const uids = [1, 5, 6, 7, 100, 101, 4000000000];
  const parsed = SequenceSet.parse(compactUidSet(uids));
  assert.deepEqual(uids.filter((u) => parsed.contains(u, 4000000000)), uids);
  assert.equal(parsed.count(4000000000), uids.length);
});
