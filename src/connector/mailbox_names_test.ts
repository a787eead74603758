import assert from "node:assert/strict";
import type { Label } from "../api/mod.ts";
import {
  assignMailboxNames,
  isExposedLabel,
  isExposedLabelId,
  isNameFor,
  mailboxFlags,
  mailboxForLabel,
  mailboxVisible,
  parseUserMailboxName,
  systemMailboxName,
} from "./mailbox_names.ts";

function label(ID: string, Type: number, Name: string, extra: Partial<Label> = {}): Label {
  return { ID, Type, Name, Path: Name, Color: "#f66", ...extra };
}

const SYSTEM: Label[] = [
  ["0", "Inbox"],
  ["1", "All Drafts"],
  ["2", "All Sent"],
  ["3", "Trash"],
  ["4", "Spam"],
  ["5", "All Mail"],
  ["6", "Archive"],
  ["7", "Sent"],
  ["8", "Drafts"],
  ["9", "Outbox"],
  ["10", "Starred"],
  ["12", "All Scheduled"],
].map(([id, name]) => label(id, 4, name));

Deno.test("system labels get fixed names and special-use attributes; 1, 2, 9 are hidden", () => {
  const specs = assignMailboxNames(SYSTEM);
  assert.deepEqual(specs.map((s) => s.name), [
    "Folders",
    "Labels",
    "INBOX",
    "Drafts",
    "Sent",
    "Starred",
    "Archive",
    "Spam",
    "Trash",
    "All Mail",
    "Scheduled",
  ]);
  const byName = new Map(specs.map((s) => [s.name, s]));
  assert.deepEqual(byName.get("Folders"), {
    remoteId: null,
    name: "Folders",
    kind: "placeholder",
    attributes: ["\\Noselect"],
  });
  assert.deepEqual(byName.get("INBOX")?.attributes, ["\\Noinferiors"]);
  assert.deepEqual(byName.get("Trash")?.attributes, ["\\Noinferiors", "\\Trash"]);
  assert.deepEqual(byName.get("Spam")?.attributes, ["\\Noinferiors", "\\Junk"]);
  assert.deepEqual(byName.get("All Mail")?.attributes, ["\\Noinferiors", "\\All"]);
  assert.deepEqual(byName.get("Archive")?.attributes, ["\\Noinferiors", "\\Archive"]);
  assert.deepEqual(byName.get("Sent")?.attributes, ["\\Noinferiors", "\\Sent"]);
  assert.deepEqual(byName.get("Drafts")?.attributes, ["\\Noinferiors", "\\Drafts"]);
  assert.deepEqual(byName.get("Starred")?.attributes, ["\\Noinferiors", "\\Flagged"]);
  assert.deepEqual(byName.get("Scheduled")?.attributes, ["\\Noinferiors"]);
  assert.equal(byName.get("INBOX")?.remoteId, "0");
  assert.equal(systemMailboxName("12"), "Scheduled");
  assert.equal(systemMailboxName("1"), undefined);
});

Deno.test("exposure: contact groups and unknown system IDs are not mailboxes", () => {
  assert.equal(isExposedLabel({ ID: "x", Type: 2 }), false);
  assert.equal(isExposedLabel({ ID: "11", Type: 4 }), false);
  assert.equal(isExposedLabel({ ID: "x", Type: 1 }), true);
  assert.equal(isExposedLabelId("1"), false);
  assert.equal(isExposedLabelId("2"), false);
  assert.equal(isExposedLabelId("9"), false);
  assert.equal(isExposedLabelId("5"), true);
  assert.equal(isExposedLabelId("abc-DEF=="), true);
});

Deno.test("folders nest by ParentID, labels sit under Labels", () => {
  const labels = [
    label("f2", 3, "2024", { ParentID: "f1", Path: "Work/2024" }),
    label("f1", 3, "Work"),
    label("l1", 1, "Important"),
  ];
  const specs = assignMailboxNames(labels);
  assert.deepEqual(specs.map((s) => [s.name, s.kind, s.remoteId]), [
    ["Folders", "placeholder", null],
    ["Labels", "placeholder", null],
    ["Folders/Work", "folder", "f1"],
    ["Folders/Work/2024", "folder", "f2"],
    ["Labels/Important", "label", "l1"],
  ]);
  // Without the other labels the wire Path is used.
  assert.equal(mailboxForLabel(labels[0])?.name, "Folders/Work/2024");
});

Deno.test("a / inside a name does not create hierarchy; control characters are spaces", () => {
  const byPath = mailboxForLabel(label("f", 3, "a/b", { Path: "Top/a/b" }));
  assert.equal(byPath?.name, "Folders/Top/a\u2215b");
  const withParents = new Map([
    ["p", label("p", 3, "x/y")],
    ["c", label("c", 3, "z", { ParentID: "p", Path: "x/y/z" })],
  ]);
  assert.equal(mailboxForLabel(withParents.get("c")!, withParents)?.name, "Folders/x\u2215y/z");
  assert.equal(mailboxForLabel(label("l", 1, "a/b"))?.name, "Labels/a\u2215b");
  assert.equal(mailboxForLabel(label("l", 1, "a\r\nb"))?.name, "Labels/a  b");
  assert.equal(mailboxForLabel(label("l", 1, "  "))?.name, "Labels/(l)");
  // A typed ∕ stays ∕ (an API that refuses "/" would refuse the name otherwise).
  assert.deepEqual(parseUserMailboxName("Labels/a\u2215b"), { type: 1, path: ["a\u2215b"] });
});

Deno.test("collisions: the smaller label ID keeps the name, others get a suffix", () => {
  const specs = assignMailboxNames([
    label("zz", 1, "a/b"),
    label("aa", 1, "a\u2215b"),
    label("mm", 1, "a/b"),
  ]);
  assert.deepEqual(specs.slice(2).map((s) => [s.remoteId, s.name]), [
    ["aa", "Labels/a\u2215b"],
    ["mm", "Labels/a\u2215b (mm)"],
    ["zz", "Labels/a\u2215b (zz)"],
  ]);
  // Deterministic whatever the input order.
  const again = assignMailboxNames([
    label("mm", 1, "a/b"),
    label("aa", 1, "a\u2215b"),
    label("zz", 1, "a/b"),
  ]);
  assert.deepEqual(again, specs);
});

Deno.test("collisions: the label whose mailbox has the name keeps it, whatever its ID", () => {
  const current = new Map([["zz", "Labels/a\u2215b"], ["aa", "Labels/a\u2215b (aa)"]]);
  const specs = assignMailboxNames(
    [label("zz", 1, "a/b"), label("aa", 1, "a\u2215b")],
    (id) => current.get(id),
  );
  assert.deepEqual(new Map(specs.slice(2).map((s) => [s.remoteId, s.name])), current);
});

Deno.test("isNameFor: the preferred name or its suffixed forms, nothing else", () => {
  assert.ok(isNameFor("Labels/x", "L2", "Labels/x"));
  assert.ok(isNameFor("Labels/x", "L2", "Labels/x (L2)"));
  assert.ok(isNameFor("Labels/x", "L2", "Labels/x (L2) 3"));
  assert.ok(!isNameFor("Labels/x", "L2", "Labels/x (L3)"));
  assert.ok(!isNameFor("Labels/x", "L2", "Labels/x (L2) a"));
  assert.ok(!isNameFor("Labels/x", "L2", "Labels/y"));
  // assignMailboxNames keeps a suffixed name whose collision has ended.
  const specs = assignMailboxNames([label("L2", 1, "x")], () => "Labels/x (L2)");
  assert.equal(specs.at(-1)!.name, "Labels/x (L2)");
});

Deno.test("a lone surrogate in a name is U+FFFD, as the index stores it", () => {
  assert.equal(mailboxForLabel(label("l", 1, "lone\ud800x"))?.name, "Labels/lone\ufffdx");
  assert.equal(mailboxForLabel(label("l", 1, "pair \ud83d\ude00"))?.name, "Labels/pair \u{1f600}");
});

Deno.test("parseUserMailboxName accepts only Folders/… and Labels/<one>", () => {
  assert.deepEqual(parseUserMailboxName("Folders/a/b"), { type: 3, path: ["a", "b"] });
  assert.deepEqual(parseUserMailboxName("Labels/x"), { type: 1, path: ["x"] });
  assert.equal(parseUserMailboxName("Labels/x/y"), undefined);
  assert.equal(parseUserMailboxName("Folders"), undefined);
  assert.equal(parseUserMailboxName("Folders//a"), undefined);
  assert.equal(parseUserMailboxName("INBOX/x"), undefined);
  assert.equal(parseUserMailboxName("Other"), undefined);
});

Deno.test("visibility and mailbox flags", () => {
  assert.equal(mailboxVisible("5", { messageCount: 3 }), true);
  assert.equal(mailboxVisible("5", { messageCount: 3, showAllMail: false }), false);
  assert.equal(mailboxVisible("12", { messageCount: 0 }), false);
  assert.equal(mailboxVisible("12", { messageCount: 1 }), true);
  assert.equal(mailboxVisible(null, { messageCount: 0 }), true);
  assert.deepEqual(mailboxFlags("5"), ["\\Seen", "\\Flagged"]);
  assert.deepEqual(mailboxFlags("0"), [
    "\\Seen",
    "\\Flagged",
    "\\Deleted",
    "$Forwarded",
    "Forwarded",
  ]);
});
