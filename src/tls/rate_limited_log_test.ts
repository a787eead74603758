import assert from "node:assert/strict";
import { rateLimitedLog } from "./rate_limited_log.ts";

Deno.test("rateLimitedLog: one line per interval, then the count of those left out", () => {
  const lines: string[] = [];
  let t = 0;
  const log = rateLimitedLog((l) => lines.push(l), { intervalMs: 10_000, now: () => t });
  log("refused 1");
  for (let i = 2; i <= 500; i++) {
    t += 10;
    log(`refused ${i}`);
  }
  assert.deepEqual(lines, ["refused 1"]);
  t = 12_000;
  log("refused 501");
  assert.deepEqual(lines, ["refused 1", "refused 501 (499 more like it in the last 12 s)"]);
  t = 30_000;
  log("refused 502");
  assert.equal(lines[2], "refused 502");
});
