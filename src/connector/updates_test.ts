import assert from "node:assert/strict";
import type { MailboxId, Uid } from "../store/mod.ts";
import { describeUpdate, type MessagesCreated, updateData, withAck } from "./updates.ts";

const created = (uid: number): MessagesCreated => ({
  kind: "MessagesCreated",
  mailbox: 1 as MailboxId,
  uids: [uid as Uid],
});

Deno.test("withAck: applied resolves on ack, rejects on ack(error), copies the data", async () => {
  const data = created(1);
  const a = withAck(data, "session-1");
  const b = withAck(data);
  assert.equal(a.acked, false);
  a.ack();
  a.ack(new Error("ignored: second call"));
  await a.applied;
  assert.equal(a.acked, true);
  assert.equal(a.origin, "session-1");
  b.ack(new Error("boom"));
  await assert.rejects(b.applied, /boom/);
  assert.deepEqual(updateData(a), data);
  assert.equal(describeUpdate(a), "MessagesCreated mailbox=1 uids=1");
});

Deno.test("an un-awaited failed acknowledgement is not an unhandled rejection", async () => {
  withAck(created(1)).ack(new Error("nobody listens"));
  await new Promise((r) => setTimeout(r, 10));
});

Deno.test("describeUpdate names kinds and counts, nothing else", () => {
  assert.equal(
    describeUpdate({
      kind: "MembershipChanged",
      messageId: 4 as never,
      remoteId: "secret-id" as never,
      added: [{ mailbox: 1 as MailboxId, uid: 2 as Uid }],
      removed: [],
    }),
    "MembershipChanged message=4 +1 -0",
  );
  assert.equal(
    describeUpdate({ kind: "UidValidityBumped", mailboxes: [] }),
    "UidValidityBumped mailboxes=0",
  );
  const copy = withAck(withAck(created(3)));
  assert.deepEqual(updateData(copy), created(3));
  assert.equal(copy.acked, false);
});
