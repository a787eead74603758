import assert from "node:assert/strict";
import { deflateRawSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { openFilesUnder } from "./_open_files.ts";
import type { InternalMessageId } from "./ids.ts";
import { compressLiteral, decompressLiteral, LiteralCache } from "./literal_cache.ts";
import {
  _internals,
  LiteralPack,
  RECORD_AAD_BYTES,
  RECORD_HEADER_BYTES,
  recordHeader,
  RecordKind,
} from "./literal_pack.ts";

const SECRET = new Uint8Array(32).fill(7);
const id = (n: number) => n as InternalMessageId;
const SEGMENT = "seg-00000001.pack";

async function withCache(fn: (cache: LiteralCache, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "literal_cache_test_" });
  try {
    await fn(await LiteralCache.open(`${dir}/cache`, SECRET), `${dir}/cache`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens `dir` again as a fresh process would (no shared in-memory state). */
function reopen(dir: string, secret = SECRET): Promise<LiteralCache> {
  _internals.forgetOpenPacks();
  return LiteralCache.open(dir, secret);
}

/** The cache's AES-256-GCM key of SECRET as WebCrypto derives it (HKDF-SHA256, deriveKey). */
async function webCryptoKey(usage: "encrypt" | "decrypt"): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", SECRET, "HKDF", false, ["deriveKey"]);
  return await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new TextEncoder().encode("bridge literal cache"),
      info: new TextEncoder().encode("AES-256-GCM key v1"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

Deno.test("compressLiteral makes one zstd frame owning a buffer of its own length", () => {
  const cases = [
    new Uint8Array(),
    new TextEncoder().encode("Subject: hi\r\n\r\nbody\r\n"),
    new TextEncoder().encode("Subject: hi\r\n\r\n" + "line\r\n".repeat(50_000)),
    randomBytes(100_000),
  ];
  for (const literal of cases) {
    const compressed = compressLiteral(literal);
    assert.equal(compressed.byteOffset, 0);
    assert.equal(compressed.buffer.byteLength, compressed.byteLength, `${literal.length} bytes`);
    assert.deepEqual([...compressed.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.deepEqual(new Uint8Array(zstdDecompressSync(compressed)), literal);
    const back = decompressLiteral(compressed);
    assert.deepEqual(back, literal);
    assert.equal(back.buffer.byteLength, back.byteLength);
  }
});

Deno.test("decompressLiteral reads deflate-raw of earlier versions and refuses anything else", () => {
  const literal = new TextEncoder().encode("Subject: old\r\n\r\n" + "line\r\n".repeat(5_000));
  for (const level of [1, 2, 6, 9]) {
    assert.deepEqual(decompressLiteral(deflateRawSync(literal, { level })), literal);
  }
  // A truncated zstd frame (Deno's zstdDecompressSync alone answers it with fewer bytes), a
  // frame that does not name its size, a zstd magic followed by noise, and noise: errors.
  const frame = compressLiteral(literal);
  for (const cut of [1, 5, 20]) {
    assert.throws(() => decompressLiteral(frame.subarray(0, frame.length - cut)), RangeError);
  }
  assert.throws(() => decompressLiteral(zstdCompressSync(literal)), RangeError);
  assert.throws(() => decompressLiteral(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3])));
  assert.throws(() => decompressLiteral(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])));
});

Deno.test("segment entries holding deflate-raw, as earlier versions wrote them, read back", async () => {
  await withCache(async (cache, dir) => {
    // Small (sealed and opened with node:crypto) and 200 kB of base64 noise (WebCrypto).
    const small = new TextEncoder().encode("Subject: hi\r\n\r\nwritten before zstd\r\n");
    const large = new TextEncoder().encode(btoa(String.fromCharCode(...randomBytes(60_000))));
    await cache.putCompressed(id(1), deflateRawSync(small, { level: 2 }));
    await cache.putCompressed(id(2), deflateRawSync(large, { level: 2 }));
    await cache.put(id(3), small);
    const again = await reopen(dir);
    assert.deepEqual(await again.get(id(1)), small);
    assert.deepEqual(await again.get(id(2)), large);
    assert.deepEqual(await again.get(id(3)), small);
    // What is neither codec is a miss, not an error.
    await again.putCompressed(id(4), randomBytes(64));
    assert.equal(await again.get(id(4)), undefined);
  });
});

Deno.test("LiteralCache round-trips literals byte for byte, 10 MB of binary included", async () => {
  await withCache(async (cache, dir) => {
    const big = randomBytes(10 * 1024 * 1024);
    const text = new TextEncoder().encode("Subject: hi\r\n\r\n" + "line\r\n".repeat(50_000));
    const cases: [number, Uint8Array][] = [[1, big], [2, text], [3, new Uint8Array()], [256, text]];
    for (const [n, bytes] of cases) await cache.put(id(n), bytes);
    for (const [n, bytes] of cases) assert.deepEqual(await cache.get(id(n)), bytes, `entry ${n}`);
    // And from disk, as after a restart.
    const again = await reopen(dir);
    for (const [n, bytes] of cases) assert.deepEqual(await again.get(id(n)), bytes, `entry ${n}`);
    // Text compresses: its records are much smaller than the literals.
    const stats = cache.stats();
    assert.equal(stats.entries, 4);
    assert.ok(stats.bytes < big.length + text.length / 5);
  });
});

Deno.test("entries share one private segment file and leave nothing else behind", async () => {
  await withCache(async (cache, dir) => {
    await cache.put(id(1), new Uint8Array([1]));
    await cache.put(id(257), new Uint8Array([2]));
    await cache.put(id(255), new Uint8Array([3]));
    await cache.put(id(1), new Uint8Array([4])); // replace
    const listing: string[] = [];
    for await (const entry of Deno.readDir(dir)) listing.push(entry.name);
    assert.deepEqual(listing, [SEGMENT]);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(`${dir}/${SEGMENT}`)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    }
    assert.deepEqual(await cache.get(id(1)), new Uint8Array([4]));
    assert.deepEqual(await (await reopen(dir)).get(id(1)), new Uint8Array([4]));
    assert.equal(cache.stats().entries, 3);
  });
});

Deno.test("putCompressed stores what compressLiteral made; the same literal twice gets a fresh nonce", async () => {
  await withCache(async (cache, dir) => {
    const literal = new TextEncoder().encode("Subject: same\r\n\r\nbody\r\n");
    await cache.putCompressed(id(5), compressLiteral(literal));
    const first = await Deno.readFile(`${dir}/${SEGMENT}`);
    await cache.put(id(5), literal);
    const both = await Deno.readFile(`${dir}/${SEGMENT}`);
    const second = both.subarray(first.length);
    assert.equal(second.length, first.length);
    assert.deepEqual(second.subarray(0, 20), first.subarray(0, 20)); // same ID and length
    assert.notDeepEqual(second.subarray(20, 32), first.subarray(20, 32)); // nonce
    assert.notDeepEqual(second.subarray(32), first.subarray(32));
    assert.deepEqual(await cache.get(id(5)), literal);
    // Something that is not deflate data reads as a miss.
    await cache.putCompressed(id(6), new Uint8Array([0xff, 0xff, 0xff]));
    assert.equal(await cache.get(id(6)), undefined);
  });
});

Deno.test("a tampered, truncated, foreign or missing entry reads as undefined", async () => {
  await withCache(async (cache, dir) => {
    const literal = new TextEncoder().encode("Subject: secret\r\n\r\n" + "x".repeat(5000));
    await cache.put(id(9), literal);
    const path = `${dir}/${SEGMENT}`;
    const good = await Deno.readFile(path);

    const variants: [string, Uint8Array][] = [
      ["flipped ciphertext bit", flip(good, good.length - 20)],
      ["flipped tag bit", flip(good, good.length - 1)],
      ["flipped nonce bit", flip(good, 25)],
      ["flipped length bit", flip(good, 16)],
      ["flipped ID bit", flip(good, 8)],
      ["flipped kind bit", flip(good, 4)],
      ["wrong magic", flip(good, 0)],
      ["truncated", good.subarray(0, good.length - 1)],
      ["header only", good.subarray(0, RECORD_HEADER_BYTES)],
      ["empty", new Uint8Array()],
      ["garbage", randomBytes(good.length)],
    ];
    for (const [what, bytes] of variants) {
      await Deno.writeFile(path, bytes);
      assert.equal(await cache.get(id(9)), undefined, what);
    }
    await Deno.writeFile(path, good);
    assert.deepEqual(await cache.get(id(9)), literal);

    // The record of another message does not pass for this one: not in its place (the header
    // names the other ID), and not with its header rewritten (the header is the AAD).
    await cache.put(id(10), literal);
    const both = await Deno.readFile(path);
    const other = both.slice(good.length);
    await Deno.writeFile(path, concat(other, both.subarray(good.length)));
    assert.equal(await cache.get(id(9)), undefined);
    const relabelled = other.slice();
    relabelled[8] = 9;
    await Deno.writeFile(path, concat(relabelled, both.subarray(good.length)));
    assert.equal(await cache.get(id(9)), undefined);
    assert.deepEqual(await cache.get(id(10)), literal);

    // A file removed behind the cache's back (the kept file checked on every read).
    await Deno.remove(path);
    const interval = _internals.setLinkCheckMs(0);
    try {
      assert.equal(await cache.get(id(10)), undefined);
    } finally {
      _internals.setLinkCheckMs(interval);
    }

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
    // Two objects on one folder share its state: what one writes the other reads.
    await same.put(id(4), literal);
    assert.deepEqual(await cache.get(id(4)), literal);
  });
});

Deno.test("has(), delete() and clear()", async () => {
  await withCache(async (cache, dir) => {
    await cache.put(id(1), new Uint8Array([1]));
    await cache.put(id(2), new Uint8Array([2]));
    assert.equal(await cache.has(id(1)), true);
    await cache.delete(id(1));
    await cache.delete(id(1));
    await cache.delete(id(77));
    assert.equal(await cache.has(id(1)), false);
    assert.equal(await cache.get(id(1)), undefined);
    // The deletion is on disk too.
    assert.equal(await (await reopen(dir)).has(id(1)), false);
    await cache.clear();
    assert.equal(await cache.has(id(2)), false);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    await cache.put(id(2), new Uint8Array([9]));
    assert.deepEqual(await cache.get(id(2)), new Uint8Array([9]));
  });
});

Deno.test("entries of the one-file-per-message format stay readable, deletable and replaceable", async () => {
  await withCache(async (_cache, dir) => {
    const old = new TextEncoder().encode("Subject: written by an earlier version\r\n\r\nhi\r\n");
    await writeLegacyEntry(dir, 300, old);
    await writeLegacyEntry(dir, 301, old);
    await writeLegacyEntry(dir, 302, old);
    const cache2 = await reopen(dir);
    assert.deepEqual(await cache2.get(id(300)), old);
    assert.equal(await cache2.has(id(300)), true);
    assert.equal(await cache2.has(id(303)), false);
    // A tampered old file is a miss, as before.
    const path = `${dir}/2d/301`;
    await Deno.writeFile(path, flip(await Deno.readFile(path), 30));
    assert.equal(await cache2.get(id(301)), undefined);
    // A new put supersedes the old file; delete removes both.
    const fresh = new TextEncoder().encode("Subject: rebuilt\r\n\r\n");
    await cache2.put(id(300), fresh);
    assert.deepEqual(await cache2.get(id(300)), fresh);
    await cache2.delete(id(300));
    assert.equal(await cache2.has(id(300)), false);
    assert.equal(await cache2.get(id(300)), undefined);
    await assert.rejects(() => Deno.stat(`${dir}/2c/300`), Deno.errors.NotFound);
    assert.deepEqual(await cache2.get(id(302)), old);
    await cache2.clear();
    assert.equal(await cache2.get(id(302)), undefined);
    assert.equal(cache2.stats().entries, 0);
  });
});

Deno.test("LiteralCache refuses short secrets and bad IDs", async () => {
  await assert.rejects(() => LiteralCache.open("/nonexistent", new Uint8Array(8)), RangeError);
  await withCache(async (cache) => {
    await assert.rejects(() => cache.put(id(0), new Uint8Array()), RangeError);
    await assert.rejects(() => cache.put(id(1.5), new Uint8Array()), RangeError);
    await assert.rejects(() => cache.putCompressed(id(-2), new Uint8Array()), RangeError);
    await assert.rejects(() => cache.delete(id(0)), RangeError);
    assert.equal(await cache.has(id(0)), false);
  });
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] ^= 1;
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Writes an entry as the cache did before segments: `<dir>/<xx>/<id>`, `"BLC1"` ‖ nonce ‖ GCM. */
async function writeLegacyEntry(dir: string, n: number, literal: Uint8Array): Promise<void> {
  const enc = new TextEncoder();
  const material = await crypto.subtle.importKey("raw", SECRET, "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: enc.encode("bridge literal cache"),
      info: enc.encode("AES-256-GCM key v1"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt"],
  );
  const compressed = await new Response(
    ReadableStream.from([literal as Uint8Array<ArrayBuffer>])
      .pipeThrough(new CompressionStream("deflate-raw")),
  ).arrayBuffer();
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: enc.encode(`BLC1${n}`) },
    key,
    compressed,
  );
  const shard = (n % 256).toString(16).padStart(2, "0");
  await Deno.mkdir(`${dir}/${shard}`, { recursive: true });
  await Deno.writeFile(
    `${dir}/${shard}/${n}`,
    concat(concat(enc.encode("BLC1"), nonce), new Uint8Array(sealed)),
  );
}

Deno.test("entries sealed under the key as deriveKey makes it read back, small and large alike", async () => {
  await withCache(async (_cache, dir) => {
    // How earlier versions sealed an entry: deriveKey(HKDF-SHA256 → AES-GCM 256) and WebCrypto.
    const key = await webCryptoKey("encrypt");
    const pack = LiteralPack.open(dir);
    // A short text (decrypted synchronously) and 200 kB of noise (decrypted with WebCrypto).
    const literals = [
      new TextEncoder().encode("Subject: hi\r\n\r\nshort\r\n"),
      randomBytes(200_000),
    ];
    for (const [i, literal] of literals.entries()) {
      const compressed = compressLiteral(literal);
      const nonce = crypto.getRandomValues(new Uint8Array(12));
      const header = recordHeader(RecordKind.Entry, i + 1, compressed.length + 16, nonce);
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv: nonce, additionalData: header.subarray(0, RECORD_AAD_BYTES) },
          key,
          compressed as Uint8Array<ArrayBuffer>,
        ),
      );
      pack.append(i + 1, header, sealed);
    }
    const cache = await reopen(dir);
    assert.deepEqual(await cache.get(id(1)), literals[0]);
    assert.deepEqual(await cache.get(id(2)), literals[1]);
    // A flipped bit in either fails authentication: a miss.
    const path = `${dir}/${SEGMENT}`;
    const good = await Deno.readFile(path);
    for (const at of [RECORD_HEADER_BYTES + 3, good.length - 1]) {
      await Deno.writeFile(path, flip(good, at));
      const again = await reopen(dir);
      assert.equal(await again.get(id(at === good.length - 1 ? 2 : 1)), undefined);
    }
  });
});

Deno.test("entries this cache seals, small and large, open with WebCrypto under the same key", async () => {
  await withCache(async (cache, dir) => {
    const key = await webCryptoKey("decrypt");
    // A short text (sealed synchronously) and 200 kB of noise (sealed with WebCrypto).
    const literals = [
      new TextEncoder().encode("Subject: hi\r\n\r\nshort\r\n"),
      randomBytes(200_000),
    ];
    for (const [i, literal] of literals.entries()) await cache.put(id(i + 1), literal);
    const pack = LiteralPack.open(dir);
    for (const [i, literal] of literals.entries()) {
      const record = pack.read(i + 1)!;
      const compressed = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: record.extra as Uint8Array<ArrayBuffer>,
          additionalData: record.header.subarray(0, RECORD_AAD_BYTES) as Uint8Array<ArrayBuffer>,
        },
        key,
        record.payload as Uint8Array<ArrayBuffer>,
      );
      assert.deepEqual(new Uint8Array(compressed), new Uint8Array(compressLiteral(literal)));
    }
  });
});

Deno.test({
  name: "close() releases the segment files; the cache still reads and writes afterwards",
  ignore: Deno.build.os !== "linux",
}, async () => {
  await withCache(async (cache, dir) => {
    const open = () => openFilesUnder(dir).length;
    const literal = new TextEncoder().encode("Subject: kept\r\n\r\nbody\r\n");
    await cache.put(id(1), literal);
    assert.deepEqual(await cache.get(id(1)), literal);
    assert.ok(open() > 0);
    cache.close();
    assert.equal(open(), 0);
    assert.deepEqual(await cache.get(id(1)), literal);
    await cache.put(id(2), literal);
    assert.deepEqual(await cache.get(id(2)), literal);
  });
});
