import assert from "node:assert/strict";
import { READ_BACK_MEMORY_MS, ReadBacks } from "./read_backs.ts";

Deno.test("ReadBacks: newer than a fetch only when read back after it; forgotten in time", () => {
  let now = 100;
  const r = new ReadBacks(() => now);
  assert.equal(r.now(), 100);
  assert.equal(r.newerThan("m1", 50), false);
  r.record(["m1", "m2"], 120);
  assert.equal(r.newerThan("m1", 110), true);
  assert.equal(r.newerThan("m1", 120), false);
  assert.equal(r.newerThan("m3", 0), false);
  r.record(["m1"], 90); // an older read-back does not move it back
  assert.equal(r.newerThan("m1", 110), true);
  now += READ_BACK_MEMORY_MS + 200;
  r.record(["m9"], now);
  assert.equal(r.newerThan("m1", 0), false);
  assert.equal(r.newerThan("m9", now - 1), true);
});
