import assert from "node:assert/strict";
import { ApiClient } from "./transport.ts";
import { attachmentForm, uploadAttachment } from "./attachments.ts";
import { createDraft, createDraftBody, createDraftOnce, sendDraft, updateDraft } from "./drafts.ts";
import {
  chunkImports,
  type ImportItem,
  importMessages,
  ImportSizeError,
  MAX_IMPORT_SIZE,
} from "./import.ts";
import { ApiError } from "./errors.ts";
import type { DraftTemplate } from "./types.ts";

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  raw: Uint8Array;
  form?: FormData;
}

/** A fake API that keeps raw request bodies (multipart included). */
function rawFake(handler: (req: Seen, n: number) => Response | unknown) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const raw = new Uint8Array(await req.arrayBuffer());
    const url = new URL(req.url);
    const s: Seen = { method: req.method, path: url.pathname, headers: req.headers, raw };
    if ((req.headers.get("content-type") ?? "").startsWith("multipart/form-data")) {
      s.form = await new Response(raw, { headers: req.headers }).formData();
    }
    seen.push(s);
    const out = await handler(s, seen.length);
    return out instanceof Response ? out : Response.json(out ?? { Code: 1000 });
  });
  const client = new ApiClient({
    baseURL: `http://127.0.0.1:${server.addr.port}`,
    appVersion: "linux-bridge@3.21.1",
    sleep: () => Promise.resolve(),
    random: () => 0,
  });
  client.setAuth({ uid: "uid", accessToken: "acc", refreshToken: "ref" });
  return { seen, client, close: () => server.shutdown() };
}

const json = (s: Seen) => JSON.parse(new TextDecoder().decode(s.raw));

const template: DraftTemplate = {
  Subject: "Hi",
  Sender: { Name: "Alice", Address: "alice@pm.test" },
  ToList: [{ Name: "", Address: "bob@pm.test" }],
  CCList: [],
  BCCList: [],
  Body: "-----BEGIN PGP MESSAGE-----…",
  MIMEType: "text/plain",
  Unread: 0,
};

Deno.test("uploadAttachment: multipart fields and three blob files", async () => {
  const fake = rawFake(() => ({ Code: 1000, Attachment: { ID: "att-1", Name: "ä.bin" } }));
  try {
    const att = await uploadAttachment(fake.client, {
      MessageID: "draft-1",
      Filename: "Bericht – ä.bin",
      MIMEType: "application/pdf",
      Disposition: "inline",
      ContentID: "cid-1",
      KeyPackets: new Uint8Array([1, 2]),
      DataPacket: new Uint8Array([0, 255, 13, 10]),
      Signature: new Uint8Array([9]),
    });
    assert.equal(att.ID, "att-1");
    const [req] = fake.seen;
    assert.equal(`${req.method} ${req.path}`, "POST /mail/v4/attachments");
    const f = req.form!;
    assert.deepEqual(
      ["MessageID", "Filename", "MIMEType", "Disposition", "ContentID"].map((k) => f.get(k)),
      ["draft-1", "Bericht – ä.bin", "application/pdf", "inline", "cid-1"],
    );
    for (
      const [name, bytes] of [["KeyPackets", [1, 2]], ["DataPacket", [0, 255, 13, 10]], [
        "Signature",
        [9],
      ]] as const
    ) {
      const file = f.get(name) as File;
      assert.equal(file.name, "blob");
      assert.equal(file.type, "application/octet-stream");
      assert.deepEqual([...new Uint8Array(await file.arrayBuffer())], bytes);
    }
    // ContentID absent → empty field, still sent (as go-proton-api does).
    const noCid = attachmentForm({
      MessageID: "m",
      Filename: "f",
      MIMEType: "text/plain",
      Disposition: "attachment",
      KeyPackets: new Uint8Array([1]),
      DataPacket: new Uint8Array([1]),
      Signature: new Uint8Array([1]),
    });
    const parsed = await new Response(noCid.body, {
      headers: { "content-type": noCid.contentType },
    }).formData();
    assert.equal(parsed.get("ContentID"), "");
  } finally {
    await fake.close();
  }
});

Deno.test("createDraft/updateDraft/sendDraft: wire shapes", async () => {
  const fake = rawFake((req) => {
    if (req.method === "POST" && req.path === "/mail/v4/messages/d1") {
      return { Code: 1000, Sent: { ID: "d1", LabelIDs: ["7", "5", "2"] } };
    }
    return { Code: 1000, Message: { ID: "d1" } };
  });
  try {
    assert.equal((await createDraft(fake.client, { Message: template })).ID, "d1");
    await createDraft(fake.client, {
      Message: { ...template, ExternalID: "x@y" },
      ParentID: "p1",
      Action: 2,
      AttachmentKeyPackets: ["a2V5"],
    });
    await updateDraft(fake.client, "d1", { Message: { ...template, Body: "" } });
    const sent = await sendDraft(fake.client, "d1", { Packages: [] });
    assert.deepEqual(sent.LabelIDs, ["7", "5", "2"]);
    const [c1, c2, u, s] = fake.seen;
    assert.equal(c1.headers.get("x-http-method-override"), null);
    assert.deepEqual(json(c1), {
      Message: { ...template },
      AttachmentKeyPackets: null,
      Action: 0,
    });
    assert.equal("ParentID" in json(c1), false);
    assert.equal("ExternalID" in json(c1).Message, false);
    assert.deepEqual(json(c2), {
      Message: { ...template, ExternalID: "x@y" },
      AttachmentKeyPackets: ["a2V5"],
      ParentID: "p1",
      Action: 2,
    });
    assert.equal(`${u.method} ${u.path}`, "PUT /mail/v4/messages/d1");
    assert.deepEqual(json(u), { Message: { ...template, Body: "" }, AttachmentKeyPackets: null });
    assert.equal(`${s.method} ${s.path}`, "POST /mail/v4/messages/d1");
    assert.deepEqual(json(s), { Packages: [] });
    assert.deepEqual(createDraftBody({ Message: template, Action: 1 }).Action, 1);
  } finally {
    await fake.close();
  }
});

Deno.test("sendDraft: a 5xx is not retried (sending is not idempotent)", async () => {
  const fake = rawFake(() => Response.json({ Code: 2001, Error: "boom" }, { status: 500 }));
  try {
    await assert.rejects(() => sendDraft(fake.client, "d1", { Packages: [] }), ApiError);
    assert.equal(fake.seen.length, 1);
  } finally {
    await fake.close();
  }
});

function items(n: number, size = 10): ImportItem[] {
  return Array.from({ length: n }, (_, i) => ({
    literal: new TextEncoder().encode(`m${i}`.padEnd(size, ".")),
    metadata: { AddressID: "addr", LabelIDs: ["0"], Unread: (i % 2) as 0 | 1, Flags: 1 },
  }));
}

Deno.test("importMessages: 12 messages → 10 + 2, parts, metadata and per-item results", async () => {
  const fake = rawFake((req, n) => {
    const meta = JSON.parse(req.form!.get("Metadata") as string);
    return {
      Code: 1001,
      Responses: Object.keys(meta).reverse().map((name) =>
        name === "1" && n === 1
          ? { Name: name, Response: { Code: 2001, Error: "invalid label" } }
          : { Name: name, Response: { Code: 1000, MessageID: `id-${n}-${name}` } }
      ),
    };
  });
  try {
    const results = await importMessages(fake.client, items(12));
    assert.equal(fake.seen.length, 2);
    const [first, second] = fake.seen;
    assert.equal(`${first.method} ${first.path}`, "POST /mail/v4/messages/import");
    const names = [...first.form!.keys()];
    assert.deepEqual(names, [...Array.from({ length: 10 }, (_, i) => String(i)), "Metadata"]);
    const part = first.form!.get("3") as File;
    assert.equal(part.name, "3.eml");
    assert.equal(part.type, "message/rfc822");
    assert.equal(await part.text(), "m3........\r\n");
    const meta = JSON.parse(first.form!.get("Metadata") as string);
    assert.deepEqual(meta["3"], { AddressID: "addr", LabelIDs: ["0"], Unread: 1, Flags: 1 });
    assert.match(
      new TextDecoder().decode(first.raw),
      /name="Metadata"\r\nContent-Type: application\/json\r\n/,
    );
    assert.equal([...second.form!.keys()].length, 3);
    assert.equal(results.length, 12);
    assert.deepEqual(results[1], { ok: false, code: 2001, messageID: "", error: "invalid label" });
    assert.equal(results[0].ok, true);
    assert.equal(results[0].messageID, "id-1-0");
    assert.equal(results[11].messageID, "id-2-1");
  } finally {
    await fake.close();
  }
});

Deno.test("importMessages: missing per-item result is a failure, not a crash", async () => {
  const fake = rawFake(() => ({ Code: 1001, Responses: [] }));
  try {
    const [r] = await importMessages(fake.client, items(1));
    assert.deepEqual(r, {
      ok: false,
      code: 0,
      messageID: "",
      error: "no result for this message in the reply",
    });
  } finally {
    await fake.close();
  }
});

Deno.test("importMessages: oversize message → ImportSizeError before anything is sent", async () => {
  const fake = rawFake(() => ({ Code: 1001, Responses: [] }));
  try {
    const big: ImportItem = {
      literal: new Uint8Array(MAX_IMPORT_SIZE + 1),
      metadata: { AddressID: "a", LabelIDs: [], Unread: 0, Flags: 0 },
    };
    await assert.rejects(
      () => importMessages(fake.client, [...items(2), big]),
      (e) =>
        e instanceof ImportSizeError && e.index === 2 && e.size === MAX_IMPORT_SIZE + 1 &&
        /maximum import size of 30MB/.test(e.message),
    );
    assert.equal(fake.seen.length, 0);
  } finally {
    await fake.close();
  }
});

Deno.test("importMessages: the server's size refusal becomes ImportSizeError", async () => {
  const fake = rawFake(() =>
    Response.json({
      Code: 2001,
      Error: "message exceeds maximum import size of 30MB",
      Details: { Name: "1" },
    }, { status: 422 })
  );
  try {
    await assert.rejects(
      () => importMessages(fake.client, items(3)),
      (e) => e instanceof ImportSizeError && e.index === 1 && e.cause instanceof ApiError,
    );
  } finally {
    await fake.close();
  }
});

Deno.test("chunkImports: by count and by total size", () => {
  const sizes = [5, 5, 5, 9, 1, 1];
  assert.deepEqual(chunkImports(sizes, (s) => s, 3, 10), [[5, 5], [5], [9, 1], [1]]);
  assert.deepEqual(chunkImports([20], (s) => s, 3, 10), [[20]]);
  assert.deepEqual(chunkImports([], (s: number) => s), []);
});

Deno.test("createDraftOnce: a lost reply is found by ExternalID, never an earlier known version", async () => {
  const now = Math.floor(Date.now() / 1000);
  let listed: { ID: string; Subject: string; Time: number }[] = [];
  const fake = rawFake((req) => {
    if (req.method === "POST" && req.path === "/mail/v4/messages") {
      if (req.headers.get("x-http-method-override") === "GET") {
        return { Code: 1000, Messages: listed, Total: listed.length };
      }
      // The draft was created, the reply is lost.
      return Response.json({ Code: 0, Error: "lost" }, { status: 502 });
    }
    const id = req.path.split("/").at(-1);
    return { Code: 1000, Message: { ID: id, Subject: "Hi" } };
  });
  try {
    const input = { Message: { ...template, ExternalID: "m1@client.test" } };
    // An earlier saved version (the index holds it) and the new one the server made.
    listed = [{ ID: "v1", Subject: "Hi", Time: now }, { ID: "v2", Subject: "Hi", Time: now }];
    const found = await createDraftOnce(fake.client, input, (id) => id === "v1");
    assert.equal(found.ID, "v2");
    // Only the known earlier version: not taken; the failure stands.
    listed = [{ ID: "v1", Subject: "Hi", Time: now }];
    await assert.rejects(
      createDraftOnce(fake.client, input, (id) => id === "v1"),
      (e) => e instanceof ApiError && e.status === 502,
    );
    const creates = fake.seen.filter((s) =>
      s.path === "/mail/v4/messages" && s.method === "POST" &&
      s.headers.get("x-http-method-override") !== "GET"
    );
    assert.equal(creates.length, 2, "never repeated");
  } finally {
    await fake.close();
  }
});
