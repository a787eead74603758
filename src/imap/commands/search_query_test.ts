import assert from "node:assert/strict";
import { mergeCriteria } from "./search_query.ts";

Deno.test("mergeCriteria: bounds tighten, lists add up, contradictions give undefined", () => {
  assert.deepEqual(
    mergeCriteria([
      { since: 10, larger: 5, flagsSet: 1, keywords: ["a"] },
      { since: 20, before: 90, smaller: 50, flagsSet: 2, keywords: ["b"], modseq: 3 },
      { before: 80, larger: 7, notKeywords: ["c"] },
    ]),
    {
      since: 20,
      before: 80,
      larger: 7,
      smaller: 50,
      flagsSet: 3,
      keywords: ["a", "b"],
      notKeywords: ["c"],
      modseq: 3,
    },
  );
  assert.equal(mergeCriteria([{ deleted: true }, { deleted: false }]), undefined);
  assert.equal(mergeCriteria([{ flagsSet: 1 }, { flagsClear: 1 }]), undefined);
  assert.deepEqual(mergeCriteria([]), {});
});
