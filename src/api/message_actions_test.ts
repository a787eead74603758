import assert from "node:assert/strict";
import { startFake } from "./_fake_test_server.ts";
import { PartialFailureError } from "./errors.ts";
import {
  deleteMessages,
  labelMessages,
  markForwarded,
  markRead,
  markUnforwarded,
  markUnread,
  unlabelMessages,
} from "./message_actions.ts";

const ids = (n: number, p = "m") => Array.from({ length: n }, (_, i) => `${p}${i}`);

Deno.test("read/unread/delete: PUT {IDs} in chunks of 150, every ID once", async () => {
  const srv = startFake(() => ({ Code: 1000 }));
  try {
    const c = srv.client();
    await markRead(c, ids(320));
    await markUnread(c, ids(2));
    await deleteMessages(c, ids(151));
    // Chunks of one call run in parallel: compare each call's chunks as a set.
    const calls = (path: string) =>
      srv.requests.filter((r) => r.path === path).map((r) => (r.body as { IDs: string[] }).IDs)
        .sort((a, b) => Number(a[0].slice(1)) - Number(b[0].slice(1)));
    assert.ok(srv.requests.every((r) => r.method === "PUT"));
    assert.deepEqual(calls("/mail/v4/messages/read"), [
      ids(320).slice(0, 150),
      ids(320).slice(150, 300),
      ids(320).slice(300),
    ]);
    assert.deepEqual(calls("/mail/v4/messages/unread"), [ids(2)]);
    assert.deepEqual(calls("/mail/v4/messages/delete"), [ids(151).slice(0, 150), ["m150"]]);
  } finally {
    await srv.close();
  }
});

Deno.test("read: at most four chunks in flight; after a failing chunk no new one starts", async () => {
  let running = 0;
  let most = 0;
  let fail = false;
  const srv = startFake(async (r) => {
    running++;
    most = Math.max(most, running);
    await new Promise((res) => setTimeout(res, 20));
    running--;
    const first = (r.body as { IDs: string[] }).IDs[0];
    if (fail && first === "m300") {
      return Response.json({ Code: 2001, Error: "bad" }, { status: 422 });
    }
    return { Code: 1000 };
  });
  try {
    const c = srv.client();
    await markRead(c, ids(1500));
    assert.equal(srv.requests.length, 10);
    assert.equal(most, 4);
    srv.requests.length = 0;
    fail = true;
    await assert.rejects(() => markUnread(c, ids(1500)));
    // Chunks 0-3 start at once; chunk 2 (m300) fails, so only the chunk that took a finished
    // slot before the failure was known may start: fewer than all ten are sent.
    assert.ok(srv.requests.length < 10, `${srv.requests.length} requests`);
  } finally {
    await srv.close();
  }
});

/** A label endpoint that fails the IDs listed in `bad`, with undo tokens per chunk. */
function labelServer(bad: Set<string>) {
  let n = 0;
  return startFake((r) => {
    if (r.path === "/mail/v4/undoactions") return { Code: 1000 };
    const b = r.body as { LabelID: string; IDs: string[] };
    n++;
    return {
      Code: 1001,
      Responses: b.IDs.map((id) => ({
        ID: id,
        Response: bad.has(id) ? { Code: 2501, Error: "Message does not exist" } : { Code: 1000 },
      })),
      UndoToken: { Token: `undo-${n}`, ValidUntil: 4_000_000_000 },
    };
  });
}

Deno.test("label: multi-status success sends {LabelID, IDs} chunks and no undo", async () => {
  const srv = labelServer(new Set());
  try {
    await labelMessages(srv.client(), ids(200), "10");
    assert.deepEqual(srv.requests.map((r) => r.path), [
      "/mail/v4/messages/label",
      "/mail/v4/messages/label",
    ]);
    assert.deepEqual(Object.keys(srv.requests[0].body as object), ["LabelID", "IDs"]);
    assert.equal((srv.requests[0].body as { LabelID: string }).LabelID, "10");
  } finally {
    await srv.close();
  }
});

Deno.test("label: a failed item undoes the applied chunks and names the failed IDs", async () => {
  const srv = labelServer(new Set(["m170", "m171"]));
  try {
    const e = await labelMessages(srv.client(), ids(400), "6").catch((e) => e);
    assert.ok(e instanceof PartialFailureError, String(e));
    assert.deepEqual(e.failedIDs, ["m170", "m171"]);
    assert.equal(e.undone, true);
    assert.match(e.message, /m170, m171/);
    // The three chunks go out together; every applied chunk is undone with its token, the
    // failing chunk's successful items included.
    const paths = srv.requests.map((r) => r.path);
    assert.deepEqual(paths.slice(0, 3), Array(3).fill("/mail/v4/messages/label"));
    const undone = srv.requests.slice(3).map((r) => [r.path, (r.body as { Token: string }).Token]);
    assert.deepEqual(undone.sort(), [
      ["/mail/v4/undoactions", "undo-1"],
      ["/mail/v4/undoactions", "undo-2"],
      ["/mail/v4/undoactions", "undo-3"],
    ]);
  } finally {
    await srv.close();
  }
});

Deno.test("label: up to 4 chunks are in flight at once", async () => {
  let inFlight = 0;
  let most = 0;
  const srv = startFake(async () => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 20));
    inFlight--;
    return { Code: 1001, Responses: [] };
  });
  try {
    await labelMessages(srv.client(), ids(1000), "10");
    assert.equal(srv.requests.length, 7);
    assert.equal(most, 4);
    const sent = srv.requests.flatMap((r) => (r.body as { IDs: string[] }).IDs).sort();
    assert.deepEqual(sent, ids(1000).sort());
  } finally {
    await srv.close();
  }
});

Deno.test("unlabel: same partial-failure handling", async () => {
  const srv = labelServer(new Set(["m0"]));
  try {
    const e = await unlabelMessages(srv.client(), ids(3), "10").catch((e) => e);
    assert.ok(e instanceof PartialFailureError);
    assert.equal(srv.requests[0].path, "/mail/v4/messages/unlabel");
    assert.equal(srv.requests[1].path, "/mail/v4/undoactions");
  } finally {
    await srv.close();
  }
});

Deno.test("label: a chunk that fails as a whole undoes the earlier chunks and rethrows", async () => {
  let n = 0;
  const srv = startFake((r) => {
    if (r.path === "/mail/v4/undoactions") return { Code: 1000 };
    if (++n === 2) return Response.json({ Code: 2001, Error: "Invalid" }, { status: 422 });
    return { Code: 1001, Responses: [], UndoToken: { Token: "t1", ValidUntil: 0 } };
  });
  try {
    const e = await labelMessages(srv.client(), ids(200), "6").catch((e) => e);
    assert.equal(e.code, 2001);
    assert.deepEqual(srv.requests.map((r) => r.path), [
      "/mail/v4/messages/label",
      "/mail/v4/messages/label",
      "/mail/v4/undoactions",
    ]);
  } finally {
    await srv.close();
  }
});

Deno.test("forward/unforward: multi-status failures reported", async () => {
  const srv = startFake((r) => {
    const b = r.body as { IDs: string[] };
    return {
      Code: 1001,
      Responses: b.IDs.map((id) => ({
        ID: id,
        Response: { Code: id === "bad" ? 2501 : 1000 },
      })),
    };
  });
  try {
    const c = srv.client();
    await markForwarded(c, ["a", "b"]);
    const e = await markUnforwarded(c, ["a", "bad"]).catch((e) => e);
    assert.ok(e instanceof PartialFailureError);
    assert.deepEqual(e.failedIDs, ["bad"]);
    assert.equal(e.undone, false);
    assert.deepEqual(srv.requests.map((r) => r.path), [
      "/mail/v4/messages/forward",
      "/mail/v4/messages/unforward",
    ]);
  } finally {
    await srv.close();
  }
});
