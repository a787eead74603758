import assert from "node:assert/strict";
import { SubmissionError } from "./submission.ts";

Deno.test("submission error: defaults and consistency", () => {
  const p = new SubmissionError("no");
  assert.deepEqual([p.code, p.enhanced, p.temporary], [554, "5.0.0", false]);
  const t = new SubmissionError("later", { temporary: true });
  assert.deepEqual([t.code, t.enhanced, t.temporary], [451, "4.3.0", true]);
  const c = new SubmissionError("x", { code: 550, enhanced: "5.7.1" });
  assert.deepEqual([c.code, c.enhanced, c.temporary], [550, "5.7.1", false]);
  const f = new SubmissionError("x", { code: 452, enhanced: "5.3.1" });
  assert.deepEqual([f.code, f.enhanced, f.temporary], [452, "4.3.1", true]);
  const m = new SubmissionError("x", { code: 550, temporary: true });
  assert.deepEqual([m.code, m.temporary], [451, true]);
  const bad = new SubmissionError("x", { code: 250 });
  assert.equal(bad.code, 554);
  const cause = new Error("inner");
  assert.equal(new SubmissionError("x", { cause }).cause, cause);
});
