import assert from "node:assert/strict";
import { messageHash, SendRecorder, type SuppressedSend } from "./send_recorder.ts";

const enc = new TextEncoder();
const MSG = "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: Hi\r\n" +
  "Message-ID: <m1@example.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nHello Bob\r\n";

Deno.test("messageHash ignores Bcc, Date, line endings, trailing blanks and transfer encoding", () => {
  const base = messageHash(enc.encode(MSG));
  const sentCopy = MSG.replace("Date: Mon, 1 Jan 2024 10:00:00", "Date: Tue, 2 Jan 2024 11:00:00")
    .replace("Subject: Hi\r\n", "Subject: Hi\r\nBcc: carol@example.test\r\n")
    .replace(/\r\n/g, "\n").replace("Hello Bob\n", "Hello Bob  \n\n");
  assert.equal(messageHash(enc.encode(sentCopy)), base);
  const qp = MSG.replace("Date:", "Content-Transfer-Encoding: quoted-printable\r\nDate:")
    .replace("Hello Bob", "Hello=20Bob");
  assert.equal(messageHash(enc.encode(qp)), base);
  const b64 = MSG.replace("Date:", "Content-Transfer-Encoding: base64\r\nDate:")
    .replace("Hello Bob\r\n", btoa("Hello Bob\r\n") + "\r\n");
  assert.equal(messageHash(enc.encode(b64)), base);
});

Deno.test("messageHash tells apart subject, recipients, Message-ID and body", () => {
  const base = messageHash(enc.encode(MSG));
  for (
    const changed of [
      MSG.replace("Subject: Hi", "Subject: Ho"),
      MSG.replace("To: bob@", "To: rob@"),
      MSG.replace("<m1@", "<m2@"),
      MSG.replace("Hello Bob", "Hello Rob"),
      MSG.replace("Date:", "Content-Type: text/html\r\nDate:"),
    ]
  ) assert.notEqual(messageHash(enc.encode(changed)), base, changed);
  // Bad input never throws.
  assert.equal(typeof messageHash(new Uint8Array([0xff, 0x00, 0x0d])), "string");
});

Deno.test("SendRecorder: a resend to the same recipients within the window is a duplicate", async () => {
  let now = 1_000_000;
  const seen: SuppressedSend[] = [];
  const r = new SendRecorder({
    now: () => now,
    windowMs: 60_000,
    onDuplicate: (s) => seen.push(s),
  });
  const first = await r.begin("acc", "h1", ["Bob@x.test", "carol@x.test"]);
  assert.equal(first.kind, "send");
  if (first.kind === "send") first.sent("remote-1");
  const again = await r.begin("acc", "h1", ["carol@x.test", "bob@x.test"]);
  assert.deepEqual(again, { kind: "duplicate", messageID: "remote-1", sentAt: 1_000_000 });
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0].recipients, ["bob@x.test", "carol@x.test"]);
  // Other recipients, other account, other hash: sent normally.
  assert.equal((await r.begin("acc", "h1", ["bob@x.test"])).kind, "send");
  assert.equal((await r.begin("other", "h1", ["bob@x.test", "carol@x.test"])).kind, "send");
  assert.equal((await r.begin("acc", "h2", ["bob@x.test", "carol@x.test"])).kind, "send");
  assert.equal(r.status().duplicatesSuppressed, 1);
  // After the window it is sent again.
  now += 60_001;
  assert.equal((await r.begin("acc", "h1", ["bob@x.test", "carol@x.test"])).kind, "send");
});

Deno.test("SendRecorder: waits for an identical send in flight; a failed send does not count", async () => {
  const r = new SendRecorder();
  const first = await r.begin("acc", "h", ["b@x.test"]);
  assert.equal(first.kind, "send");
  const waiting = r.begin("acc", "h", ["b@x.test"]);
  await new Promise((res) => setTimeout(res, 5));
  if (first.kind === "send") first.sent("remote-9");
  const w = await waiting;
  assert.equal(w.kind, "duplicate");
  assert.equal(w.kind === "duplicate" && w.messageID, "remote-9");

  const a = await r.begin("acc", "g", ["b@x.test"]);
  const b = r.begin("acc", "g", ["b@x.test"]);
  if (a.kind === "send") a.failed();
  const second = await b;
  assert.equal(second.kind, "send");
  if (second.kind === "send") second.sent("remote-10");
  assert.equal(r.status().inFlight, 0);
});

Deno.test("SendRecorder: in-flight wait is bounded; then busy, not a second copy", async () => {
  const r = new SendRecorder({ inFlightWaitMs: 20 });
  const first = await r.begin("acc", "h", ["b@x.test"]);
  const t0 = Date.now();
  const second = await r.begin("acc", "h", ["b@x.test"]);
  assert.equal(second.kind, "busy");
  assert.ok(Date.now() - t0 >= 15);
  if (first.kind === "send") first.sent("x");
  assert.equal((await r.begin("acc", "h", ["b@x.test"])).kind, "duplicate");
});

Deno.test("SendRecorder: disabled suppression still records for findSent", async () => {
  const r = new SendRecorder({ enabled: false });
  const literal = enc.encode(MSG);
  const t1 = await r.begin("acc", messageHash(literal), ["bob@example.test"]);
  assert.equal(t1.kind, "send");
  const t2 = await r.begin("acc", messageHash(literal), ["bob@example.test"]);
  assert.equal(t2.kind, "send");
  if (t1.kind === "send") t1.sent("remote-1");
  if (t2.kind === "send") t2.sent("remote-2");
  const copy = enc.encode(MSG.replace("Subject: Hi\r\n", "Subject: Hi\r\nBcc: x@example.test\r\n"));
  assert.equal(await r.findSent("acc", copy), "remote-2");
  assert.equal(await r.lookupFor("acc")(copy), "remote-2");
  assert.equal(await r.findSent("other", copy), undefined);
  assert.equal(r.status().duplicatesSuppressed, 0);
  assert.equal(r.status().enabled, false);
});

Deno.test("SendRecorder.findSent waits for a send in flight", async () => {
  const r = new SendRecorder();
  const literal = enc.encode(MSG);
  const t = await r.begin("acc", messageHash(literal), ["bob@example.test"]);
  const found = r.findSent("acc", literal, 5_000);
  assert.equal(await r.findSent("acc", literal, 0), undefined);
  if (t.kind === "send") t.sent("remote-3");
  assert.equal(await found, "remote-3");
  assert.equal(await r.findSent("acc", enc.encode(MSG.replace("Hi", "Other")), 10), undefined);
});

Deno.test("SendRecorder: suppress: false records the send but never answers duplicate", async () => {
  const r = new SendRecorder({ windowMs: 60_000 });
  const first = await r.begin("acc", "h1", ["a@x.test"], { suppress: false });
  assert.equal(first.kind, "send");
  if (first.kind === "send") first.sent("M1");
  const second = await r.begin("acc", "h1", ["a@x.test"], { suppress: false });
  assert.equal(second.kind, "send", "sent again");
  if (second.kind === "send") second.sent("M2");
  // Both are known to findSent-style lookups; a suppressing begin sees the last one.
  const third = await r.begin("acc", "h1", ["a@x.test"]);
  assert.deepEqual(third.kind === "duplicate" && third.messageID, "M2");
});

Deno.test("SendRecorder: an unconfirmed send makes the resend ask; confirm, keep or retry", async () => {
  let now = 5_000_000;
  const seen: SuppressedSend[] = [];
  const r = new SendRecorder({
    now: () => now,
    windowMs: 60_000,
    onDuplicate: (s) => seen.push(s),
  });
  const h = messageHash(enc.encode(MSG));
  const first = await r.begin("acct", h, ["bob@example.test"]);
  if (first.kind !== "send") throw new Error(first.kind);
  first.uncertain("draft-1");
  // Other recipients, or another account: a plain new send.
  assert.equal((await r.begin("acct", h, ["rob@example.test"])).kind, "send");
  assert.equal((await r.begin("other", h, ["bob@example.test"])).kind, "send");

  now += 1_000;
  const kept = await r.begin("acct", h, ["Bob@Example.test"]);
  if (kept.kind !== "uncertain") throw new Error(kept.kind);
  assert.equal(kept.draftID, "draft-1");
  assert.equal(kept.ageMs, 1_000);
  kept.keep();
  assert.throws(() => kept.confirm(), /settled twice/);

  // Even without suppression (no Message-ID), the retry of an unconfirmed send is looked at.
  const asked = await r.begin("acct", h, ["bob@example.test"], { suppress: false });
  if (asked.kind !== "uncertain") throw new Error(asked.kind);
  assert.equal(asked.ageMs, 1_000, "keep() left its age as it was");
  asked.confirm();
  const dup = await r.begin("acct", h, ["bob@example.test"]);
  if (dup.kind !== "duplicate") throw new Error(dup.kind);
  assert.equal(dup.messageID, "draft-1");
  assert.equal(seen.length, 2);
  assert.equal(await r.findSent("acct", enc.encode(MSG)), "draft-1");

  // Retry: the same entry becomes the new send.
  const h2 = messageHash(enc.encode(MSG.replace("<m1@", "<m9@")));
  const t = await r.begin("acct", h2, ["bob@example.test"]);
  if (t.kind !== "send") throw new Error(t.kind);
  t.uncertain("draft-2");
  const again = await r.begin("acct", h2, ["bob@example.test"]);
  if (again.kind !== "uncertain") throw new Error(again.kind);
  const ticket = again.retry();
  ticket.sent("sent-2");
  const after = await r.begin("acct", h2, ["bob@example.test"]);
  if (after.kind !== "duplicate") throw new Error(after.kind);
  assert.equal(after.messageID, "sent-2");
  assert.equal(r.status().remembered, 4);

  // An unconfirmed send is forgotten after the window, like a sent one.
  const h3 = messageHash(enc.encode(MSG.replace("<m1@", "<m3@")));
  const t3 = await r.begin("acct", h3, ["bob@example.test"]);
  if (t3.kind !== "send") throw new Error(t3.kind);
  t3.uncertain("draft-3");
  now += 61_000;
  assert.equal((await r.begin("acct", h3, ["bob@example.test"])).kind, "send");
});

Deno.test("SendRecorder: two retries of an unconfirmed send at once: one looks, the other waits", async () => {
  const r = new SendRecorder();
  const h = messageHash(enc.encode(MSG));
  const first = await r.begin("acct", h, ["bob@example.test"]);
  if (first.kind !== "send") throw new Error(first.kind);
  first.uncertain("draft-1");
  const a = await r.begin("acct", h, ["bob@example.test"]);
  if (a.kind !== "uncertain") throw new Error(a.kind);
  let settled = false;
  const b = r.begin("acct", h, ["bob@example.test"]).then((x) => {
    settled = true;
    return x;
  });
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(settled, false, "the second retry waits while the first looks");
  // The first found it still a draft and sends again: the second then sees that send.
  const ticket = a.retry();
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(settled, false, "and while the first sends");
  ticket.sent("sent-1");
  const second = await b;
  if (second.kind !== "duplicate") throw new Error(second.kind);
  assert.equal(second.messageID, "sent-1");
});

Deno.test("SendRecorder: without suppression an identical send in flight holds nothing back", async () => {
  const r = new SendRecorder({ inFlightWaitMs: 30 });
  const h = messageHash(enc.encode(MSG));
  assert.equal((await r.begin("acct", h, ["bob@example.test"])).kind, "send");
  assert.equal((await r.begin("acct", h, ["bob@example.test"], { suppress: false })).kind, "send");
});
