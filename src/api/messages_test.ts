import assert from "node:assert/strict";
import { startFake } from "./_fake_test_server.ts";
import {
  countMessages,
  filterBody,
  getAllMessageIDs,
  getGroupedMessageCount,
  getMessage,
  getMessageIDs,
  getMessageMetadataPage,
  iterateMetadataNewestFirst,
} from "./messages.ts";
import type { MessageMetadata } from "./types.ts";

function meta(id: string): MessageMetadata {
  return {
    ID: id,
    AddressID: "a",
    LabelIDs: ["0", "5"],
    ExternalID: "",
    Subject: id,
    Sender: { Name: "", Address: "x@y" },
    ToList: [],
    CCList: [],
    BCCList: [],
    ReplyTos: [],
    Flags: 1,
    Time: 0,
    Size: 1,
    Unread: 0,
    IsReplied: 0,
    IsRepliedAll: 0,
    IsForwarded: 0,
    NumAttachments: 0,
  };
}

Deno.test("filterBody omits empty fields and always sends Desc", () => {
  assert.deepEqual(filterBody(), { Desc: 0 });
  assert.deepEqual(filterBody({ LabelID: "0", ID: [], Subject: "", Desc: 1 }), {
    Desc: 1,
    LabelID: "0",
  });
});

Deno.test('countMessages: POST with method override and Limit "0"', async () => {
  const srv = startFake(() => ({ Code: 1000, Total: 42 }));
  try {
    assert.equal(await countMessages(srv.client(), { LabelID: "5" }), 42);
    const r = srv.requests[0];
    assert.equal(r.method, "POST");
    assert.equal(r.path, "/mail/v4/messages");
    assert.equal(r.headers.get("x-http-method-override"), "GET");
    assert.deepEqual(r.body, { Desc: 0, LabelID: "5", Limit: "0" });
  } finally {
    await srv.close();
  }
});

Deno.test("metadata page: Sort ID, Page, PageSize; Stale repeated (bounded); size checked", async () => {
  let n = 0;
  const srv = startFake(() => ({
    Code: 1000,
    Messages: [meta("m1")],
    Stale: ++n < 3 ? 1 : 0,
    Total: 1,
  }));
  try {
    const c = srv.client();
    const page = await getMessageMetadataPage(c, 2, 100, { LabelID: "0" });
    assert.deepEqual(page.Messages.map((m) => m.ID), ["m1"]);
    assert.equal(page.Stale, 0);
    assert.equal(srv.requests.length, 3);
    assert.deepEqual(srv.requests[0].body, {
      Desc: 0,
      LabelID: "0",
      Page: 2,
      PageSize: 100,
      Sort: "ID",
    });
    await assert.rejects(() => getMessageMetadataPage(c, 0, 151), RangeError);
    n = -100; // always stale now
    const stale = await getMessageMetadataPage(c, 0, 10);
    assert.equal(stale.Stale, 1);
  } finally {
    await srv.close();
  }
});

Deno.test("iterateMetadataNewestFirst: Desc + EndID, boundary dropped, stops on a short page", async () => {
  // 23 messages, IDs m23 (newest) … m01; EndID inclusive as the API does.
  const all = Array.from({ length: 23 }, (_, i) => `m${String(23 - i).padStart(2, "0")}`);
  const srv = startFake((r) => {
    const b = r.body as { EndID?: string; PageSize: number; Desc: number; Page: number };
    assert.equal(b.Desc, 1);
    assert.equal(b.Page, 0);
    const start = b.EndID ? all.indexOf(b.EndID) : 0;
    return { Messages: all.slice(start, start + b.PageSize).map(meta), Stale: 0, Total: 23 };
  });
  try {
    const seen: string[] = [];
    for await (const page of iterateMetadataNewestFirst(srv.client(), {}, 5)) {
      assert.ok(page.length > 0);
      seen.push(...page.map((m) => m.ID));
    }
    assert.deepEqual(seen, all);
    assert.deepEqual(
      srv.requests.map((r) => (r.body as { EndID?: string }).EndID),
      [undefined, "m19", "m15", "m11", "m07", "m03"],
    );

    // Resume from a checkpoint: the checkpoint message itself is not repeated.
    const resumed: string[] = [];
    for await (const page of iterateMetadataNewestFirst(srv.client(), { EndID: "m10" }, 5)) {
      resumed.push(...page.map((m) => m.ID));
    }
    assert.deepEqual(resumed, all.slice(all.indexOf("m10") + 1));
  } finally {
    await srv.close();
  }
});

Deno.test("iterateMetadataNewestFirst: exclusive EndID servers and empty mailboxes work too", async () => {
  const all = Array.from({ length: 10 }, (_, i) => `x${9 - i}`);
  const srv = startFake((r) => {
    const b = r.body as { EndID?: string; PageSize: number; LabelID?: string };
    if (b.LabelID === "empty") return { Messages: [], Stale: 0, Total: 0 };
    const start = b.EndID ? all.indexOf(b.EndID) + 1 : 0;
    return { Messages: all.slice(start, start + b.PageSize).map(meta), Stale: 0, Total: 10 };
  });
  try {
    const seen: string[] = [];
    for await (const page of iterateMetadataNewestFirst(srv.client(), {}, 5)) {
      seen.push(...page.map((m) => m.ID));
    }
    assert.deepEqual(seen, all);
    let pages = 0;
    for await (const _ of iterateMetadataNewestFirst(srv.client(), { LabelID: "empty" })) pages++;
    assert.equal(pages, 0);
  } finally {
    await srv.close();
  }
});

Deno.test("message IDs, grouped counts and full message", async () => {
  const ids = Array.from({ length: 2500 }, (_, i) => `id${String(i).padStart(4, "0")}`);
  const srv = startFake((r) => {
    if (r.path === "/mail/v4/messages/ids") {
      const after = r.query.get("AfterID");
      const limit = Number(r.query.get("Limit"));
      const start = after ? ids.indexOf(after) + 1 : 0;
      return { IDs: ids.slice(start, start + limit) };
    }
    if (r.path === "/mail/v4/messages/count") {
      return { Counts: [{ LabelID: "5", Total: 3, Unread: 1 }] };
    }
    if (r.path === "/mail/v4/messages/a==") {
      return {
        Message: {
          ...meta("a=="),
          Body: "armored",
          Header: "",
          ParsedHeaders: {},
          MIMEType: "text/plain",
          Attachments: [],
        },
      };
    }
    return new Response(null, { status: 404 });
  });
  try {
    const c = srv.client();
    assert.deepEqual(await getMessageIDs(c, "", 3), ["id0000", "id0001", "id0002"]);
    assert.equal(srv.requests[0].query.has("AfterID"), false);
    assert.deepEqual(await getMessageIDs(c, "id0001", 2), ["id0002", "id0003"]);
    await assert.rejects(() => getMessageIDs(c, "", 1001), RangeError);
    assert.deepEqual(await getAllMessageIDs(c), ids);
    assert.deepEqual(await getGroupedMessageCount(c), [{ LabelID: "5", Total: 3, Unread: 1 }]);
    const m = await getMessage(c, "a==");
    assert.equal(m.ID, "a==");
    assert.equal(m.Body, "armored");
    // Base64 padding goes as it is; a slash in an ID stays inside its segment.
    await assert.rejects(() => getMessage(c, "a/b=="));
    assert.equal(srv.requests.at(-1)!.path, "/mail/v4/messages/a%2Fb==");
  } finally {
    await srv.close();
  }
});
