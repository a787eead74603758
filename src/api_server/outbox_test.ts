import assert from "node:assert/strict";
import { SqliteDb } from "./db.ts";
import { Outbox, type OutboxDelivery } from "./outbox.ts";

const delivery = (recipient: string): OutboxDelivery => ({
  Time: 1,
  UserID: "u",
  MessageID: "m",
  ExternalID: "x@y",
  From: { Name: "A", Address: "a@x" },
  ToList: [],
  CCList: [],
  Subject: "s",
  Recipient: recipient,
  Scheme: 4,
  Signature: 0,
  MIMEType: "text/plain",
  Encrypted: 0,
  Body: "hi",
  Attachments: [],
});

Deno.test("Outbox: ascending IDs, persisted across reopen, cleared", () => {
  const dir = Deno.makeTempDirSync({ prefix: "outbox-test-" });
  try {
    let db = new SqliteDb(dir);
    const a = new Outbox(db).add([delivery("one@x"), delivery("two@x")]);
    assert.deepEqual(a.map((e) => e.ID), ["0000000001", "0000000002"]);
    db.close();
    db = new SqliteDb(dir);
    const box = new Outbox(db);
    assert.deepEqual(box.list().map((e) => e.Recipient), ["one@x", "two@x"]);
    assert.equal(box.add([delivery("three@x")])[0].ID, "0000000003");
    assert.equal(box.clear(), 3);
    assert.deepEqual(box.list(), []);
    db.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
