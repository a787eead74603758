import assert from "node:assert/strict";
import { ApiClient } from "../api/transport.ts";
import { DraftAction, MessageFlag } from "../api/types.ts";
import { messageIDs, parseHeader, referenceFields } from "../mime/mod.ts";
import { draftAction, findParent, hasReferences } from "./parent_lookup.ts";

interface Meta {
  ID: string;
  ExternalID: string;
  AddressID: string;
  Flags: number;
}

/** A fake metadata listing over `messages`; records each filter it was asked. */
function fakeApi(messages: Meta[], fail = false) {
  const filters: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    filters.push(body);
    if (fail) return Response.json({ Code: 500, Error: "down" }, { status: 500 });
    const hits = messages.filter((m) =>
      (!body.ID || body.ID.includes(m.ID)) &&
      (!body.ExternalID || m.ExternalID === body.ExternalID) &&
      (!body.AddressID || m.AddressID === body.AddressID)
    );
    return Response.json({ Code: 1000, Messages: hits, Total: hits.length, Stale: 0 });
  });
  const client = new ApiClient({
    baseURL: `http://127.0.0.1:${server.addr.port}`,
    appVersion: "linux-bridge@3.21.1",
    sleep: () => Promise.resolve(),
    maxRetries: 0,
  });
  client.setAuth({ uid: "uid", accessToken: "acc", refreshToken: "ref" });
  return { client, filters, close: () => server.shutdown() };
}

const R = MessageFlag.Received;
const S = MessageFlag.Sent;

Deno.test("draftAction: forward when In-Reply-To is the forwarded ID or missing, else reply", () => {
  assert.equal(draftAction({ references: [], inReplyTo: "a@x" }), DraftAction.Reply);
  assert.equal(
    draftAction({ references: [], inReplyTo: "a@x", forwardedMessageID: "a@x" }),
    DraftAction.Forward,
  );
  assert.equal(draftAction({ references: ["a@x"] }), DraftAction.Forward);
});

Deno.test("findParent: internal IDs first, drafts remembered, then the last external reference", async () => {
  const api = fakeApi([
    { ID: "draft1", ExternalID: "", AddressID: "A", Flags: 0 },
    { ID: "msg1", ExternalID: "one@x", AddressID: "A", Flags: R },
    { ID: "dupR", ExternalID: "dup@x", AddressID: "A", Flags: R },
    { ID: "dupS", ExternalID: "dup@x", AddressID: "A", Flags: S },
    { ID: "b1", ExternalID: "both@x", AddressID: "A", Flags: R },
    { ID: "b2", ExternalID: "both@x", AddressID: "B", Flags: R },
  ]);
  try {
    const c = api.client;
    assert.deepEqual(
      await findParent(c, {
        references: ["draft1@protonmail.internalid", "msg1@protonmail.internalid"],
        inReplyTo: "zzz@x",
      }),
      { parentID: "msg1", action: DraftAction.Reply, draftIDs: ["draft1"] },
    );
    // A draft named after the parent is found too (the parent comes first in References).
    assert.deepEqual(
      await findParent(c, {
        references: ["msg1@protonmail.internalid", "one@x", "draft1@protonmail.internalid"],
        inReplyTo: "one@x",
      }),
      { parentID: "msg1", action: DraftAction.Reply, draftIDs: ["draft1"] },
    );
    assert.deepEqual(
      await findParent(c, { references: ["one@x", "nothing@x"], inReplyTo: "one@x" }),
      { parentID: "msg1", action: DraftAction.Reply, draftIDs: [] },
      "In-Reply-To first, then the last reference",
    );
    assert.deepEqual(
      (await findParent(c, { references: [], inReplyTo: "one@x" })).parentID,
      "msg1",
    );
    assert.equal(
      (await findParent(c, { references: ["one@x"], inReplyTo: "nothing@x" })).parentID,
      "msg1",
    );
    assert.equal((await findParent(c, { references: ["dup@x"] })).parentID, "dupS");
    assert.equal((await findParent(c, { references: ["both@x"] })).parentID, undefined);
    // Split mode: only the sending address' messages.
    assert.equal((await findParent(c, { references: ["both@x"] }, "B")).parentID, "b2");
    assert.equal(api.filters.at(-1)?.AddressID, "B");
    assert.deepEqual(await findParent(c, { references: [] }), {
      action: DraftAction.Forward,
      draftIDs: [],
    });
  } finally {
    await api.close();
  }
});

Deno.test("findParent: a failing lookup means no parent", async () => {
  const api = fakeApi([], true);
  try {
    const errors: unknown[] = [];
    const p = await findParent(
      api.client,
      { references: ["a@x"], inReplyTo: "a@x" },
      undefined,
      (e) => errors.push(e),
    );
    assert.deepEqual(p, { action: DraftAction.Reply, draftIDs: [] });
    assert.equal(errors.length, 1);
  } finally {
    await api.close();
  }
});

Deno.test("referenceFields and hasReferences: decoded ID lists, a reply or forward or neither", () => {
  const header = (text: string) => parseHeader(new TextEncoder().encode(text)).header;
  const refs = referenceFields(header(
    "References: =?utf-8?q?=3Ca=40x=3E_=3Cb=40x=3E?=\r\nIn-Reply-To: bare@x\r\n\r\n",
  ));
  assert.deepEqual(refs, { references: ["a@x", "b@x"], inReplyTo: "bare@x" });
  assert.ok(hasReferences(refs));
  assert.ok(hasReferences({ references: ["a@x"] }));
  assert.ok(!hasReferences(referenceFields(header("Subject: new\r\n\r\n"))));
  assert.deepEqual(messageIDs("<a@x> junk <b@y>"), ["a@x", "b@y"]);
  assert.deepEqual(messageIDs("two words"), []);
});
