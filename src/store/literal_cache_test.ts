import assert from "node:assert/strict";
import type { InternalMessageId } from "./ids.ts";
import { LiteralCache } from "./literal_cache.ts";

const SECRET = new Uint8Array(32).fill(7);
const id = (n: number) => n as InternalMessageId;

async function withCache(fn: (cache: LiteralCache, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "literal_cache_test_" });
  try {
    await fn(await LiteralCache.open(`${dir}/cache`, SECRET), `${dir}/cache`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

Deno.test("LiteralCache round-trips literals byte for byte, 10 MB of binary included", async () => {
  await withCache(async (cache) => {
    const big = randomBytes(10 * 1024 * 1024);
    const text = new TextEncoder().encode("Subject: hi\r\n\r\n" + "line\r\n".repeat(50_000));
    const cases: [number, Uint8Array][] = [[1, big], [2, text], [3, new Uint8Array()], [256, text]];
    for (const [n, bytes] of cases) await cache.put(id(n), bytes);
    for (const [n, bytes] of cases) assert.deepEqual(await cache.get(id(n)), bytes, `entry ${n}`);
    // Text compresses: the file is much smaller than the literal.
    assert.ok((await Deno.stat(`${cache.dir}/02/2`)).size < text.length / 10);
  });
});

Deno.test("entries are sharded by the ID's low byte, private, and written without leftovers", async () => {
  await withCache(async (cache, dir) => {
    await cache.put(id(1), new Uint8Array([1]));
    await cache.put(id(257), new Uint8Array([2]));
    await cache.put(id(255), new Uint8Array([3]));
    await cache.put(id(1), new Uint8Array([4])); // replace
    const listing: string[] = [];
    for await (const shard of Deno.readDir(dir)) {
      for await (const f of Deno.readDir(`${dir}/${shard.name}`)) {
        listing.push(`${shard.name}/${f.name}`);
      }
    }
    assert.deepEqual(listing.sort(), ["01/1", "01/257", "ff/255"]);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(`${dir}/01/1`)).mode! & 0o777, 0o600);
    }
    assert.deepEqual(await cache.get(id(1)), new Uint8Array([4]));
  });
});

Deno.test("the same literal twice gives different files (a fresh nonce per object)", async () => {
  await withCache(async (cache) => {
    const literal = new TextEncoder().encode("Subject: same\r\n\r\nbody\r\n");
    await cache.put(id(5), literal);
    const first = await Deno.readFile(`${cache.dir}/05/5`);
    await cache.put(id(5), literal);
    const second = await Deno.readFile(`${cache.dir}/05/5`);
    assert.notDeepEqual(first.subarray(4, 16), second.subarray(4, 16));
    assert.notDeepEqual(first.subarray(16), second.subarray(16));
    assert.deepEqual(await cache.get(id(5)), literal);
  });
});

Deno.test("a tampered, truncated, foreign or missing entry reads as undefined", async () => {
  await withCache(async (cache) => {
    const literal = new TextEncoder().encode("Subject: secret\r\n\r\n" + "x".repeat(5000));
    await cache.put(id(9), literal);
    const path = `${cache.dir}/09/9`;
    const good = await Deno.readFile(path);

    const variants: [string, Uint8Array][] = [
      ["flipped ciphertext bit", flip(good, good.length - 20)],
      ["flipped tag bit", flip(good, good.length - 1)],
      ["flipped nonce bit", flip(good, 6)],
      ["wrong magic", flip(good, 0)],
      ["truncated", good.subarray(0, good.length - 1)],
      ["header only", good.subarray(0, 16)],
      ["empty", new Uint8Array()],
      ["garbage", randomBytes(200)],
    ];
    for (const [what, bytes] of variants) {
      await Deno.writeFile(path, bytes);
      assert.equal(await cache.get(id(9)), undefined, what);
    }

    // A valid entry of another message moved onto this ID does not decrypt (AAD = ID).
    await cache.put(id(10), literal);
    await Deno.copyFile(`${cache.dir}/0a/10`, path);
    assert.equal(await cache.get(id(9)), undefined);

    assert.equal(await cache.get(id(12345)), undefined);
    assert.equal(await cache.get(id(0)), undefined);
    assert.equal(await cache.get(id(-1)), undefined);
  });
});

Deno.test("a cache opened with another secret cannot read the entries", async () => {
  await withCache(async (cache) => {
    const literal = new TextEncoder().encode("Subject: x\r\n\r\n");
    await cache.put(id(3), literal);
    const other = await LiteralCache.open(cache.dir, new Uint8Array(32).fill(8));
    assert.equal(await other.get(id(3)), undefined);
    const same = await LiteralCache.open(cache.dir, new Uint8Array(32).fill(7));
    assert.deepEqual(await same.get(id(3)), literal);
  });
});

Deno.test("has(), delete() and clear()", async () => {
  await withCache(async (cache) => {
    await cache.put(id(1), new Uint8Array([1]));
    await cache.put(id(2), new Uint8Array([2]));
    assert.equal(await cache.has(id(1)), true);
    await cache.delete(id(1));
    await cache.delete(id(1));
    assert.equal(await cache.has(id(1)), false);
    assert.equal(await cache.get(id(1)), undefined);
    await cache.clear();
    assert.equal(await cache.has(id(2)), false);
    await cache.put(id(2), new Uint8Array([9]));
    assert.deepEqual(await cache.get(id(2)), new Uint8Array([9]));
  });
});

Deno.test("LiteralCache refuses short secrets and bad IDs", async () => {
  await assert.rejects(() => LiteralCache.open("/nonexistent", new Uint8Array(8)), RangeError);
  await withCache(async (cache) => {
    await assert.rejects(() => cache.put(id(0), new Uint8Array()), RangeError);
    await assert.rejects(() => cache.put(id(1.5), new Uint8Array()), RangeError);
  });
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] ^= 1;
  return out;
}
