import assert from "node:assert/strict";
import {
  addLabel,
  checkLabelTarget,
  idCounter,
  type LabelState,
  removeLabel,
  sortableID,
  wireLabelIDs,
} from "./mail_model.ts";
import { LabelType, MessageFlag } from "../api/types.ts";

const received: LabelState = {
  Location: "0",
  Labels: [],
  Starred: false,
  Flags: MessageFlag.Received,
};

Deno.test("addLabel moves into locations and folders, adds labels and Starred", () => {
  const archived = addLabel(received, "6");
  assert.equal(archived.Location, "6");
  const labelled = addLabel(archived, "L1", LabelType.Label);
  assert.deepEqual(labelled.Labels, ["L1"]);
  assert.equal(labelled.Location, "6");
  const starred = addLabel(labelled, "10");
  assert.equal(starred.Starred, true);
  const inFolder = addLabel(starred, "F1", LabelType.Folder);
  assert.equal(inFolder.Location, "F1");
  assert.deepEqual(inFolder.Labels, ["L1"]);
  const trashed = addLabel(inFolder, "3");
  // go-proton-api keeps labels and Starred when moving to Trash.
  assert.deepEqual(wireLabelIDs(trashed), ["3", "L1", "5", "10"]);
  assert.deepEqual(received.Labels, [], "input state untouched");
});

Deno.test("flag locations follow the flags like the fake server", () => {
  assert.equal(addLabel({ ...received, Location: "6" }, "0").Location, "0");
  // A received message cannot go to Sent: it returns to its natural location.
  assert.equal(addLabel({ ...received, Location: "6" }, "7").Location, "0");
  const sent: LabelState = { Location: "3", Labels: [], Starred: false, Flags: MessageFlag.Sent };
  assert.equal(addLabel(sent, "0").Location, "7");
  assert.equal(addLabel(sent, "7").Location, "7");
  assert.deepEqual(wireLabelIDs({ ...sent, Location: "7" }), ["7", "5", "2"]);
  const draft: LabelState = { Location: "8", Labels: [], Starred: false, Flags: 0 };
  assert.deepEqual(wireLabelIDs(draft), ["8", "5", "1"]);
});

Deno.test("removeLabel: only the current location is removed; labels and Starred go", () => {
  const s: LabelState = { ...received, Labels: ["L1", "L2"], Starred: true };
  assert.equal(removeLabel(s, "7").Location, "0");
  assert.equal(removeLabel(s, "0").Location, "");
  assert.deepEqual(removeLabel(s, "L1").Labels, ["L2"]);
  assert.equal(removeLabel(s, "10").Starred, false);
  assert.deepEqual(wireLabelIDs(removeLabel(s, "0")), ["L1", "L2", "5", "10"]);
});

Deno.test("checkLabelTarget refuses All Mail, All Drafts, All Sent, Outbox and unknown labels", () => {
  for (const id of ["1", "2", "5", "9"]) assert.equal(checkLabelTarget(id, undefined), "forbidden");
  assert.equal(checkLabelTarget("nope", undefined), "unknown");
  assert.equal(checkLabelTarget("0", undefined), undefined);
  assert.equal(checkLabelTarget("x", LabelType.Folder), undefined);
  assert.equal(checkLabelTarget("x", LabelType.ContactGroup), "unknown");
});

Deno.test("sortableID: 88 base64url characters that sort in counter order", () => {
  const ids = [1, 2, 63, 64, 65, 4095, 4096, 1_000_000, 2 ** 40].map(sortableID);
  for (const id of ids) {
    assert.equal(id.length, 88);
    assert.match(id, /^[A-Za-z0-9_-]{86}==$/);
  }
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(idCounter(ids[7]), 1_000_000);
  assert.equal(idCounter("0"), 0);
});
