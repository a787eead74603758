import assert from "node:assert/strict";
import { type InternalMessageId, type RemoteMessageId, Store } from "../store/mod.ts";
import { backfillLiteralDigests } from "./digest_backfill.ts";
import { literalSha256 } from "./message_build.ts";

Deno.test("backfillLiteralDigests: cached literals of messages without a digest get one", async () => {
  const store = Store.open(":memory:");
  try {
    const enc = new TextEncoder();
    // Three messages indexed before digests were kept (none recorded), one with a digest.
    const add = (n: number, size: number, digest?: Uint8Array) =>
      store.messages.insert({
        remoteId: `r${n}` as RemoteMessageId,
        addressId: null,
        internalDate: 0,
        size,
        flags: 0,
        envelope: "",
        bodyStructure: "",
        body: "",
        header: new Uint8Array(),
        literalSha256: digest,
      });
    const ids = [add(1, 3), add(2, 3), add(3, 5), add(4, 4, new Uint8Array(32).fill(7)), add(5, 9)];
    const cache = new Map<InternalMessageId, Uint8Array>([
      [ids[0], enc.encode("one")],
      [ids[2], enc.encode("three")],
      [ids[3], enc.encode("four")],
      [ids[4], enc.encode("stale")], // not the indexed size: not pinned
    ]);
    const recorded = await backfillLiteralDigests(
      store,
      { get: (id) => Promise.resolve(cache.get(id)) },
      { batch: 2 },
    );
    assert.equal(recorded, 2);
    assert.deepEqual(store.messages.get(ids[0])!.literalSha256, literalSha256(enc.encode("one")));
    assert.equal(store.messages.get(ids[1])!.literalSha256, null, "not cached: left for later");
    assert.deepEqual(store.messages.get(ids[2])!.literalSha256, literalSha256(enc.encode("three")));
    assert.deepEqual(store.messages.get(ids[3])!.literalSha256, new Uint8Array(32).fill(7));
    assert.equal(store.messages.get(ids[4])!.literalSha256, null);
    // Stopping ends it between messages.
    assert.equal(
      await backfillLiteralDigests(store, { get: () => Promise.resolve(undefined) }, {
        stopped: () => true,
      }),
      0,
    );
  } finally {
    store.close();
  }
});
