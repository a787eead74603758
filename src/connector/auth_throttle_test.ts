import assert from "node:assert/strict";
import { AuthThrottle } from "./auth_throttle.ts";

Deno.test("auth throttle: growing delay, lockout, window", () => {
  let now = 1_000_000;
  const t = new AuthThrottle({
    baseDelayMs: 100,
    maxDelayMs: 500,
    lockoutFailures: 4,
    windowMs: 60_000,
    now: () => now,
  });
  assert.deepEqual(t.recordFailure("a"), { delayMs: 100, locked: false });
  assert.deepEqual(t.recordFailure("a"), { delayMs: 200, locked: false });
  assert.deepEqual(t.recordFailure("a"), { delayMs: 400, locked: false });
  assert.deepEqual(t.recordFailure("a"), { delayMs: 500, locked: true });
  assert.ok(t.isLocked("a"));
  assert.equal(t.failures("b"), 0);
  now += 60_001;
  assert.equal(t.failures("a"), 0);
  assert.deepEqual(t.recordFailure("a"), { delayMs: 100, locked: false });
});
