import assert from "node:assert/strict";
import { IN_DOUBT_WINDOW_MS, InDoubtImports } from "./in_doubt_imports.ts";

Deno.test("InDoubtImports: keyed by mailbox and bytes, aged, forgotten after the window", () => {
  let now = 1_000;
  const doubts = new InDoubtImports(() => now);
  const bytes = new TextEncoder().encode("Subject: x\r\n\r\nbody\r\n");
  const key = InDoubtImports.key("0", bytes);
  assert.notEqual(key, InDoubtImports.key("6", bytes));
  assert.notEqual(key, InDoubtImports.key("0", new TextEncoder().encode("other")));
  assert.equal(doubts.find(key), undefined);
  doubts.record(key, () => false);
  now += 5_000;
  assert.equal(doubts.find(key)?.ageMs, 5_000);
  doubts.forget(key);
  assert.equal(doubts.find(key), undefined);
  doubts.record(key, () => false);
  now += IN_DOUBT_WINDOW_MS + 1;
  assert.equal(doubts.find(key), undefined);
});
