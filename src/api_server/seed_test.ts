import assert from "node:assert/strict";
import { decryptAttachment, decryptMessage, fromBase64 } from "../crypto/mod.ts";
import { TestDirectory } from "./_mail_test_util.ts";
import { type Db, MemoryDb, SqliteDb } from "./db.ts";
import { EventLog } from "./event_log.ts";
import { MailBackend } from "./mail_backend.ts";
import { prng } from "./seed.ts";
import { LabelType, MessageFlag } from "../api/types.ts";

const dir = new TestDirectory();
const userA = await dir.addUser(["alice@example.test"], "Alice Ä");
// The same account on another server.
const dir2 = new TestDirectory();
const userB = await dir2.addUser(["alice@example.test"], "Alice Ä");

function backend(db: Db = new MemoryDb(), accounts = dir) {
  return new MailBackend(db, accounts, new EventLog(db));
}

/** The seeded mailbox with IDs replaced by label paths, comparable across backends. */
function snapshot(mail: MailBackend, userID: string) {
  const names = new Map<string, string>();
  for (const t of [LabelType.System, LabelType.Folder, LabelType.Label]) {
    for (const l of mail.listLabels(userID, t)) names.set(l.ID, `${t}:${l.Path}`);
  }
  return mail.messageIDs(userID, "", 1e9).map((id) => {
    const m = mail.getMessage(userID, id);
    return {
      Subject: m.Subject,
      Sender: m.Sender,
      ToList: m.ToList,
      Labels: m.LabelIDs.map((l) => names.get(l) ?? "?"),
      Flags: m.Flags,
      Unread: m.Unread,
      Time: m.Time,
      MIMEType: m.MIMEType,
      Attachments: m.Attachments.map((a) => [a.Name, a.MIMEType, a.Disposition]),
      Refs: m.ParsedHeaders["References"] ?? "",
    };
  });
}

Deno.test("prng is deterministic", () => {
  const a = prng(42), b = prng(42);
  const xs = Array.from({ length: 5 }, a);
  assert.deepEqual(Array.from({ length: 5 }, b), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

Deno.test("seedMailbox: same seed, same mailbox; every body and attachment decrypts", async () => {
  const one = backend(), two = backend(new MemoryDb(), dir2);
  await one.seedMailbox(userA, 400, 3);
  await two.seedMailbox(userB, 400, 3);
  const snap = snapshot(one, userA);
  assert.equal(snap.length, 400);
  assert.deepEqual(snapshot(two, userB), snap);

  // Folders and labels, nested and non-ASCII.
  assert.deepEqual(one.listLabels(userA, LabelType.Folder).map((l) => l.Path), [
    "Work",
    "Work/2024",
    "Receipts",
  ]);
  assert.deepEqual(one.listLabels(userA, LabelType.Label).map((l) => l.Name), [
    "Important",
    "Travel",
    "Café ☕",
  ]);
  // Every kind of place and feature is present.
  const has = (pred: (m: (typeof snap)[number]) => boolean) => snap.some(pred);
  for (
    const where of [
      "4:Inbox",
      "4:Archive",
      "4:Sent",
      "4:Trash",
      "4:Spam",
      "4:Drafts",
      "4:Starred",
      "3:Work",
      "3:Work/2024",
      "3:Receipts",
      "1:Important",
      "1:Travel",
      "1:Café ☕",
    ]
  ) assert.ok(has((m) => m.Labels.includes(where)), where);
  assert.ok(has((m) => m.Unread === 1) && has((m) => m.Unread === 0));
  assert.ok(has((m) => (m.Flags & MessageFlag.Replied) !== 0));
  assert.ok(has((m) => m.Refs !== "" && m.Subject.startsWith("Re: ")));
  assert.ok(has((m) => /[\u0080-\uffff]/.test(m.Subject)));
  assert.ok(has((m) => /[\u0080-\uffff]/.test(m.Sender.Name)));
  assert.ok(has((m) => m.MIMEType === "text/html") && has((m) => m.MIMEType === "text/plain"));
  assert.ok(has((m) => m.MIMEType === "multipart/mixed"));
  assert.ok(has((m) => m.Attachments.some(([n]) => /[\u0080-\uffff]/.test(n as string))));
  assert.ok(has((m) => m.Attachments.some(([, , d]) => d === "inline")));
  // Time follows creation order.
  assert.ok(snap.every((m, i) => i === 0 || m.Time > snap[i - 1].Time));

  // Everything decrypts with the address key; the PGP/MIME body is a MIME entity.
  const key = await dir.addressKey(dir.addresses(userA)[0].ID);
  let sizes = 0;
  for (const id of one.messageIDs(userA, "", 1e9)) {
    const m = one.getMessage(userA, id);
    const body = new TextDecoder().decode((await decryptMessage(m.Body, [key])).data);
    if (m.MIMEType === "multipart/mixed") assert.match(body, /^Content-Type: multipart\/mixed;/);
    for (const a of m.Attachments) {
      const data = await decryptAttachment(
        fromBase64(a.KeyPackets),
        one.attachmentData(userA, a.ID),
        [key],
      );
      sizes += data.length;
    }
  }
  assert.ok(sizes > 100_000, "attachments of realistic sizes");
});

Deno.test("mail state survives a restart on SQLite", async () => {
  const dirPath = await Deno.makeTempDir();
  try {
    let db = new SqliteDb(dirPath);
    let mail = backend(db);
    await mail.seedMailbox(userA, 20, 5);
    const before = snapshot(mail, userA);
    const label = mail.createLabel(userA, { Name: "Later", Color: "#aaa", Type: LabelType.Label });
    db.close();

    db = new SqliteDb(dirPath);
    mail = backend(db);
    assert.deepEqual(snapshot(mail, userA).map((m) => m.Subject), before.map((m) => m.Subject));
    // New IDs keep ascending after the restart.
    const last = mail.messageIDs(userA, "", 1e9).at(-1)!;
    const id = await mail.deliver(userA, { From: { Name: "", Address: "x@y.z" }, Subject: "new" });
    assert.ok(id > last && id > label.ID);
    db.close();
  } finally {
    await Deno.remove(dirPath, { recursive: true });
  }
});
