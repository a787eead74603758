import assert from "node:assert/strict";
import { ApiError, type Message } from "../api/mod.ts";
import type { RemoteMessageId } from "../store/mod.ts";
import { eventMessageFetcher } from "./event_fetcher.ts";
import type { MessageBuilder } from "./initial_sync.ts";
import { contentOf } from "./message_build.ts";
import type { SyncApi } from "./sync_api.ts";
import { metadata } from "./_event_test_utils.ts";

function api(messages: Record<string, Message>, attachments: Record<string, Uint8Array>) {
  const calls: string[] = [];
  const syncApi: SyncApi = {
    labels: () => Promise.resolve([]),
    messageCount: () => Promise.resolve(0),
    metadataNewestFirst: () => ({ async *[Symbol.asyncIterator]() {} }),
    message(id) {
      calls.push(`message ${id}`);
      const m = messages[id];
      return m ? Promise.resolve(m) : Promise.reject(new ApiError(422, 2501, "gone"));
    },
    attachment(id) {
      calls.push(`attachment ${id}`);
      const a = attachments[id];
      return a ? Promise.resolve(a) : Promise.reject(new ApiError(500, 0, "boom"));
    },
  };
  return { syncApi, calls };
}

function full(id: string, attachmentIds: string[] = []): Message {
  return {
    ...metadata(id),
    Header: "",
    ParsedHeaders: {},
    Body: "",
    MIMEType: "text/plain",
    Attachments: attachmentIds.map((a) => ({
      ID: a,
      Name: a,
      Size: 1,
      MIMEType: "application/octet-stream",
      Disposition: "attachment",
      Headers: {},
      KeyPackets: "",
      Signature: "",
    })),
  };
}

const builder: MessageBuilder & { seen: [string, string[]][] } = {
  seen: [],
  build(message, attachments) {
    this.seen.push([message.ID, [...attachments.keys()]]);
    return Promise.resolve(
      contentOf(new TextEncoder().encode(`Subject: ${message.ID}\r\n\r\nx\r\n`), "ok"),
    );
  },
};

Deno.test("downloads the message and its attachments, builds, returns metadata and literal", async () => {
  const { syncApi, calls } = api({ m1: full("m1", ["a1", "a2"]) }, {
    a1: new Uint8Array([1]),
    a2: new Uint8Array([2]),
  });
  const got = await eventMessageFetcher(syncApi, builder).fetch("m1" as RemoteMessageId);
  assert.ok(got);
  assert.deepEqual(calls, ["message m1", "attachment a1", "attachment a2"]);
  assert.deepEqual(builder.seen.at(-1), ["m1", ["a1", "a2"]]);
  assert.equal(new TextDecoder().decode(got.literal), "Subject: m1\r\n\r\nx\r\n");
  assert.equal(got.built.literalSize, got.literal.length);
  assert.equal(got.metadata.ID, "m1");
  assert.equal("Body" in got.metadata, false);
  assert.equal("literal" in got.built, false);
});

Deno.test("a gone message is undefined; other errors propagate", async () => {
  const { syncApi } = api({ m2: full("m2", ["missing"]) }, {});
  const fetcher = eventMessageFetcher(syncApi, builder);
  assert.equal(await fetcher.fetch("nope" as RemoteMessageId), undefined);
  await assert.rejects(fetcher.fetch("m2" as RemoteMessageId), /boom/);
});
