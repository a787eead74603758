import assert from "node:assert/strict";
import { type Db, MemoryDb, SqliteDb } from "./db.ts";
import { EventLog } from "./event_log.ts";
import { MailBackend } from "./mail_backend.ts";
import { TestDirectory } from "./_mail_test_util.ts";
import { SystemLabel } from "../api/types.ts";

const dir = new TestDirectory();
const alice = await dir.addUser(["alice@example.test"], "Alice");
const bob = await dir.addUser(["bob@example.test"], "Bob");

function backend(db: Db = new MemoryDb()) {
  const events = new EventLog(db);
  return { mail: new MailBackend(db, dir, events, () => 1_700_000_000), events, db };
}

/** The sum of the `Size` of every message of the user, by a full scan. */
function scannedSize(mail: MailBackend, userID: string): number {
  return mail.messageIDs(userID, "", 1e9)
    .reduce((n, id) => n + mail.findMessage(userID, id)!.Size, 0);
}

const attachment = {
  Name: "data.bin",
  MIMEType: "application/octet-stream",
  Data: crypto.getRandomValues(new Uint8Array(5000)),
};

Deno.test("usedSpace: delivered messages add their Size, permanent deletes free it; events carry it only when it changes", async () => {
  const { mail, events } = backend();
  assert.equal(mail.usedSpace(alice), 0);
  let cursor = events.latest(alice);

  const id1 = await mail.deliver(alice, {
    From: { Name: "Zoë", Address: "zoe@else.test" },
    Subject: "with attachment",
    Text: "hello",
    Attachments: [attachment],
  });
  const size1 = mail.findMessage(alice, id1)!.Size;
  assert.ok(size1 > attachment.Data.length, "Size includes the attachment");
  assert.equal(mail.usedSpace(alice), size1);
  let ev = events.next(alice, cursor);
  assert.deepEqual(ev.Messages?.map((i) => [i.ID, i.Action]), [[id1, 1]]);
  assert.equal(ev.UsedSpace, size1);
  cursor = ev.EventID;

  const id2 = await mail.deliver(alice, {
    From: { Name: "", Address: "x@else.test" },
    Subject: "plain",
    Text: "short",
  });
  const size2 = mail.findMessage(alice, id2)!.Size;
  assert.equal(mail.usedSpace(alice), size1 + size2);
  ev = events.next(alice, cursor);
  assert.equal(ev.UsedSpace, size1 + size2);
  cursor = ev.EventID;

  // Flags and label changes, Trash and Spam included, do not change it; their events lack it.
  mail.setUnread(alice, [id1], false);
  mail.label(alice, SystemLabel.Trash, [id1]);
  mail.label(alice, SystemLabel.Spam, [id2]);
  const label = mail.createLabel(alice, { Name: "L", Color: "#aaa", Type: 1 });
  mail.label(alice, label.ID, [id1]);
  mail.deleteLabel(alice, label.ID);
  assert.equal(mail.usedSpace(alice), size1 + size2);
  ev = events.next(alice, cursor);
  assert.ok((ev.Messages?.length ?? 0) > 0);
  assert.equal(ev.UsedSpace, undefined);
  cursor = ev.EventID;

  // Permanent delete frees the Size; unknown IDs change nothing.
  mail.deleteMessages(alice, [id1, "nope"]);
  assert.equal(mail.usedSpace(alice), size2);
  ev = events.next(alice, cursor);
  assert.deepEqual(ev.Messages?.map((i) => [i.ID, i.Action]), [[id1, 0]]);
  assert.equal(ev.UsedSpace, size2);
  cursor = ev.EventID;
  mail.deleteMessages(alice, ["nope"]);
  assert.equal(events.next(alice, cursor).EventID, cursor, "no event for nothing deleted");

  // Per user: Bob's mail is his own.
  const idB = await mail.deliver(bob, { From: { Name: "", Address: "x@else.test" }, Subject: "b" });
  assert.equal(mail.usedSpace(bob), mail.findMessage(bob, idB)!.Size);
  assert.equal(mail.usedSpace(alice), size2);
  assert.equal(mail.usedSpace("nobody"), 0);
  mail.deleteMessages(alice, [id2]);
  assert.equal(mail.usedSpace(alice), 0);
  assert.equal(events.next(alice, cursor).UsedSpace, 0);
});

Deno.test("usedSpace: seeding keeps a running total equal to the scanned sum, one UsedSpace per batch", async () => {
  const { mail, events } = backend();
  const cursor = events.latest(alice);
  await mail.seedMailbox(alice, 150, 7);
  const total = scannedSize(mail, alice);
  assert.ok(total > 0);
  assert.equal(mail.usedSpace(alice), total);
  // Seeding stores batches of 64: three events with Create items, each with the running total.
  const spaces: number[] = [];
  for (let at = cursor;;) {
    const ev = events.next(alice, at);
    if (ev.EventID === at) break;
    if (ev.UsedSpace !== undefined) spaces.push(ev.UsedSpace);
    at = ev.EventID;
  }
  assert.equal(spaces.length, 3);
  assert.ok(spaces[0] < spaces[1] && spaces[1] < spaces[2]);
  assert.equal(spaces.at(-1), total);
});

Deno.test("usedSpace: editMessages changes it by the size difference; reload sums it again", async () => {
  const path = await Deno.makeTempDir();
  try {
    let db: Db = new SqliteDb(path);
    let { mail, events } = backend(db);
    const id = await mail.deliver(alice, {
      Kind: "draft",
      From: { Name: "Alice", Address: "alice@example.test" },
      Subject: "draft",
      Text: "first version",
    });
    const before = mail.usedSpace(alice);
    const body = mail.getMessage(alice, id).Body;
    const cursor = events.latest(alice);
    mail.editMessages(alice, [{ ID: id, Body: body + "\n\n", apply() {} }]);
    assert.equal(mail.usedSpace(alice), before + 2);
    assert.equal(events.next(alice, cursor).UsedSpace, before + 2);
    // A metadata-only edit does not carry it.
    const cursor2 = events.latest(alice);
    mail.editMessages(alice, [{ ID: id, apply: (m) => m.Subject = "renamed" }]);
    assert.equal(events.next(alice, cursor2).UsedSpace, undefined);
    await mail.seedMailbox(bob, 10, 2);
    const bobTotal = mail.usedSpace(bob);
    db.close();

    db = new SqliteDb(path);
    ({ mail } = backend(db));
    assert.equal(mail.usedSpace(alice), before + 2);
    assert.equal(mail.usedSpace(alice), scannedSize(mail, alice));
    assert.equal(mail.usedSpace(bob), bobTotal);
    db.close();
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});
