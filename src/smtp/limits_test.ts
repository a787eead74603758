import assert from "node:assert/strict";
import { DEFAULT_LIMITS, resolveLimits } from "./limits.ts";

Deno.test("limits: defaults and overrides", () => {
  const l = resolveLimits();
  assert.deepEqual(l, { ...DEFAULT_LIMITS });
  assert.equal(l.maxMessageSize, 36_700_160);
  assert.equal(l.maxLineLength, 1000);
  assert.equal(l.idleTimeoutMs, 300_000);
  assert.equal(resolveLimits({ maxRecipients: 5, idleTimeoutMs: undefined }).maxRecipients, 5);
});

Deno.test("limits: bad values are refused with the limit's name", () => {
  assert.throws(() => resolveLimits({ maxLineLength: 500 }), /maxLineLength must be at least 1000/);
  assert.throws(() => resolveLimits({ maxRecipients: 1.5 }), /maxRecipients must be an integer/);
  assert.throws(() => resolveLimits({ nope: 1 } as never), /unknown SMTP limit "nope"/);
});
