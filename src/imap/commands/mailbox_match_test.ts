import assert from "node:assert/strict";
import { canonicalPattern, MailboxPattern } from "./mailbox_match.ts";

const m = (pattern: string, name: string) => new MailboxPattern(pattern).matches(name);

Deno.test("MailboxPattern: `*` crosses levels, `%` does not", () => {
  assert.equal(m("*", "INBOX"), true);
  assert.equal(m("*", "Folders/Work/2024"), true);
  assert.equal(m("%", "Folders"), true);
  assert.equal(m("%", "Folders/Work"), false);
  assert.equal(m("Folders/%", "Folders/Work"), true);
  assert.equal(m("Folders/%", "Folders/Work/2024"), false);
  assert.equal(m("Folders/%", "Folders"), false);
  assert.equal(m("Folders/*", "Folders/Work/2024"), true);
  assert.equal(m("Folders*", "Folders"), true);
  assert.equal(m("%/%", "Folders/Work"), true);
  assert.equal(m("%/%", "Folders/Work/2024"), false);
  assert.equal(m("F%s/W*", "Folders/Work/2024"), true);
  assert.equal(m("*4", "Folders/Work/2024"), true);
  assert.equal(m("%4", "Folders/Work/2024"), false);
  assert.equal(m("", "INBOX"), false);
  assert.equal(m("Sent", "Sent"), true);
  assert.equal(m("sent", "Sent"), false, "only INBOX is case-insensitive");
});

Deno.test("MailboxPattern: INBOX matches in any case, its children too", () => {
  for (const p of ["INBOX", "inbox", "InBoX", "inb*", "%", "*", "I%"]) {
    assert.equal(m(p, "INBOX"), true, p);
  }
  assert.equal(m("inbox/%", "INBOX/Sub"), true);
  assert.equal(m("inbox/sub", "INBOX/Sub"), false, "only the INBOX part is caseless");
  assert.equal(m("inboxes", "INBOXES"), false);
  assert.equal(m("inbox*", "INBOXES"), false);
});

Deno.test("MailboxPattern: non-ASCII names and characters outside the BMP", () => {
  assert.equal(m("Folders/Café ☕", "Folders/Café ☕"), true);
  assert.equal(m("Folders/Caf%", "Folders/Café ☕"), true);
  assert.equal(m("Labels/%😀", "Labels/fun😀"), true);
  assert.equal(m("Labels/fun?", "Labels/fun😀"), false);
});

Deno.test("MailboxPattern: many stars stay fast (no exponential backtracking)", () => {
  const pattern = "*a".repeat(200) + "b";
  const name = "a".repeat(2000);
  const start = performance.now();
  assert.equal(m(pattern, name), false);
  assert.ok(performance.now() - start < 2000);
  assert.equal(new MailboxPattern("***%").hasWildcards, true);
  assert.equal(new MailboxPattern("Sent").hasWildcards, false);
});

Deno.test("canonicalPattern: reference and pattern are concatenated", () => {
  assert.equal(canonicalPattern("", "*"), "*");
  assert.equal(canonicalPattern("Folders/", "%"), "Folders/%");
  assert.equal(canonicalPattern("Folders/", ""), "");
});
