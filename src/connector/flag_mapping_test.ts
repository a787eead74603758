import assert from "node:assert/strict";
import { MessageFlag } from "../store/mod.ts";
import {
  bitChanges,
  flagsOfMailbox,
  imapFlags,
  parseImapFlags,
  plannedRemoteActions,
  remoteAction,
} from "./flag_mapping.ts";

Deno.test("parseImapFlags: system flags case-insensitively, both forwarded spellings, keywords", () => {
  const p = parseImapFlags([
    "\\SEEN",
    "\\flagged",
    "\\Answered",
    "\\Draft",
    "$forwarded",
    "Forwarded",
    "\\Deleted",
    "\\Recent",
    "$Label1",
    "$label1",
    "Junk",
  ]);
  assert.equal(
    p.bits,
    MessageFlag.Seen | MessageFlag.Flagged | MessageFlag.Answered | MessageFlag.Draft |
      MessageFlag.Forwarded,
  );
  assert.equal(p.deleted, true);
  assert.deepEqual(p.keywords, ["$Label1", "Junk"]);
  assert.deepEqual(p.invalid, []);
});

Deno.test("parseImapFlags: unknown system flags and non-atoms are invalid; empty is ignored", () => {
  const p = parseImapFlags(["\\Bogus", "a b", "x(y", "", "ok"]);
  assert.deepEqual(p.invalid, ["\\Bogus", "a b", "x(y"]);
  assert.deepEqual(p.keywords, ["ok"]);
  assert.equal(p.bits, 0);
});

Deno.test("imapFlags: stable order, $Forwarded and Forwarded together, keywords last", () => {
  const all = MessageFlag.Seen | MessageFlag.Answered | MessageFlag.Flagged | MessageFlag.Draft |
    MessageFlag.Forwarded;
  assert.deepEqual(imapFlags(all, ["$x", "forwarded"], true), [
    "\\Seen",
    "\\Answered",
    "\\Flagged",
    "\\Deleted",
    "\\Draft",
    "$Forwarded",
    "Forwarded",
    "$x",
  ]);
  assert.deepEqual(imapFlags(0, [], false), []);
});

Deno.test("bitChanges: add, remove, replace within a mask", () => {
  const S = MessageFlag.Seen, F = MessageFlag.Flagged, A = MessageFlag.Answered;
  assert.deepEqual(bitChanges("add", S | A, F, S | F), { set: S, clear: 0 });
  assert.deepEqual(bitChanges("remove", F | A, F | A, S | F), { set: 0, clear: F });
  assert.deepEqual(bitChanges("replace", S, F | A, S | F), { set: S, clear: F });
  assert.deepEqual(bitChanges("add", S, S, S), { set: 0, clear: 0 });
});

Deno.test("plannedRemoteActions: only messages whose bit changes, local messages skipped", () => {
  const S = MessageFlag.Seen, F = MessageFlag.Flagged, W = MessageFlag.Forwarded;
  const messages = [
    { remoteId: "a", flags: 0 },
    { remoteId: "b", flags: S | F },
    { remoteId: null, flags: 0 },
  ];
  assert.deepEqual(
    [...plannedRemoteActions("add", S | W, messages)],
    [["read", ["a"]], ["forward", ["a", "b"]]],
  );
  assert.deepEqual(
    [...plannedRemoteActions("replace", S, messages)],
    [["read", ["a"]], ["unstar", ["b"]]],
  );
  assert.deepEqual(
    [...plannedRemoteActions("remove", MessageFlag.Answered, messages)],
    [],
  );
});

Deno.test("remoteAction: one action per remote bit; local bits have none", () => {
  assert.equal(remoteAction(MessageFlag.Seen, false), "unread");
  assert.equal(remoteAction(MessageFlag.Flagged, true), "star");
  assert.equal(remoteAction(MessageFlag.Forwarded, false), "unforward");
  assert.throws(() => remoteAction(MessageFlag.Answered, true), RangeError);
});

Deno.test("flagsOfMailbox: All Mail has no \\Deleted; PERMANENTFLAGS allow keywords", () => {
  const inbox = flagsOfMailbox(false);
  assert.ok(inbox.flags.includes("\\Deleted"));
  assert.ok(inbox.flags.includes("$Forwarded") && inbox.flags.includes("Forwarded"));
  assert.deepEqual(inbox.permanentFlags, [...inbox.flags, "\\*"]);
  assert.ok(!flagsOfMailbox(true).flags.includes("\\Deleted"));
});
