import assert from "node:assert/strict";
import { openFilesUnder } from "./_open_files.ts";
import {
  _internals,
  LiteralPack,
  RECORD_HEADER_BYTES,
  recordHeader,
  RecordKind,
} from "./literal_pack.ts";

const SEGMENT_BYTES = 4096;

async function withDir(fn: (dir: string) => void | Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "literal_pack_test_" });
  try {
    await fn(dir);
  } finally {
    _internals.forgetOpenPacks();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens `dir` as a new process would. */
function fresh(dir: string, segmentBytes = SEGMENT_BYTES): LiteralPack {
  _internals.forgetOpenPacks();
  return LiteralPack.open(dir, { segmentBytes });
}

function payload(id: number, length = 900): Uint8Array {
  return new Uint8Array(length).fill(id % 251);
}

function put(pack: LiteralPack, id: number, length = 900): void {
  const p = payload(id, length);
  pack.append(id, recordHeader(RecordKind.Entry, id, p.length), p);
}

function assertHolds(pack: LiteralPack, ids: number[], length = 900) {
  for (const id of ids) {
    const record = pack.read(id);
    assert.ok(record, `entry ${id}`);
    assert.deepEqual(record.payload, payload(id, length), `entry ${id}`);
  }
}

function files(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("LiteralPack seals full segments with a hint and reloads them", async () => {
  await withDir((dir) => {
    const pack = fresh(dir);
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    for (const id of ids) put(pack, id);
    // 4 records of 932 bytes fit in 4096.
    assert.equal(pack.stats().segments, 5);
    assert.deepEqual(files(dir), [
      "seg-00000001.hint",
      "seg-00000001.pack",
      "seg-00000002.hint",
      "seg-00000002.pack",
      "seg-00000003.hint",
      "seg-00000003.pack",
      "seg-00000004.hint",
      "seg-00000004.pack",
      "seg-00000005.pack",
    ]);
    assertHolds(pack, ids);
    const again = fresh(dir);
    assert.deepEqual(again.stats(), { ...pack.stats(), compactions: 0 });
    assertHolds(again, ids);
    // The loaded state goes on where the old one stopped.
    put(again, 21);
    assertHolds(fresh(dir), [...ids, 21]);
  });
});

Deno.test("LiteralPack walks a segment whose hint is missing, corrupt or stale", async () => {
  await withDir((dir) => {
    const pack = fresh(dir);
    const ids = Array.from({ length: 12 }, (_, i) => i + 1);
    for (const id of ids) put(pack, id);
    Deno.removeSync(`${dir}/seg-00000001.hint`);
    const hint = Deno.readFileSync(`${dir}/seg-00000002.hint`);
    hint[20] ^= 0x40; // an offset
    Deno.writeFileSync(`${dir}/seg-00000002.hint`, hint);
    Deno.writeFileSync(`${dir}/seg-00000003.hint`, new Uint8Array([1, 2, 3]));
    const again = fresh(dir);
    assertHolds(again, ids);
    assert.equal(again.stats().entries, 12);
    // The walked sealed segments got their hints back.
    assert.ok(Deno.statSync(`${dir}/seg-00000001.hint`).size > 16);
    assertHolds(fresh(dir), ids);
  });
});

Deno.test("LiteralPack cuts a torn record off the end of the active segment", async () => {
  await withDir((dir) => {
    const pack = fresh(dir, 1 << 20);
    for (const id of [1, 2, 3]) put(pack, id);
    const path = `${dir}/seg-00000001.pack`;
    const good = Deno.statSync(path).size;
    // A crash in the middle of appending entry 4: its header and part of the payload.
    const p = payload(4);
    const torn = new Uint8Array(RECORD_HEADER_BYTES + 100);
    torn.set(recordHeader(RecordKind.Entry, 4, p.length), 0);
    const file = Deno.openSync(path, { append: true });
    file.writeSync(torn);
    file.close();
    const again = fresh(dir, 1 << 20);
    assert.equal(Deno.statSync(path).size, good);
    assert.equal(again.has(4), false);
    assertHolds(again, [1, 2, 3]);
    put(again, 4);
    assertHolds(fresh(dir, 1 << 20), [1, 2, 3, 4]);
    // Garbage in place of a header ends the walk as well.
    const f = Deno.openSync(path, { append: true });
    f.writeSync(new Uint8Array(RECORD_HEADER_BYTES + 5).fill(0x5a));
    f.close();
    assertHolds(fresh(dir, 1 << 20), [1, 2, 3, 4]);
  });
});

Deno.test("LiteralPack steps over a damaged record header and keeps the records after it", async () => {
  await withDir((dir) => {
    const pack = fresh(dir, 1 << 20);
    for (const id of [1, 2, 3, 4]) put(pack, id);
    const path = `${dir}/seg-00000001.pack`;
    const size = Deno.statSync(path).size;
    // A disk error flips the magic of entry 2's header (the second record).
    const second = RECORD_HEADER_BYTES + 900;
    const file = Deno.openSync(path, { read: true, write: true });
    file.seekSync(second, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array([0x00]));
    file.close();
    const again = fresh(dir, 1 << 20);
    assert.equal(again.has(2), false, "the damaged record is lost");
    assertHolds(again, [1, 3, 4]);
    assert.equal(Deno.statSync(path).size, size, "nothing cut off");
    put(again, 2);
    assertHolds(fresh(dir, 1 << 20), [1, 2, 3, 4]);
  });
  // A damaged length field: too large (it would run past the end), or larger by a little (it
  // would end inside another record). Only that record is lost. (Smaller, it stays listed with
  // a cut payload, which the cache's AES-GCM check refuses: a miss.)
  for (const [byte, value] of [[19, 0x80], [17, 0x09]] as const) {
    await withDir((dir) => {
      const pack = fresh(dir, 1 << 20);
      for (const id of [1, 2, 3, 4, 5, 6]) put(pack, id);
      const path = `${dir}/seg-00000001.pack`;
      const size = Deno.statSync(path).size;
      const second = RECORD_HEADER_BYTES + 900;
      const file = Deno.openSync(path, { read: true, write: true });
      file.seekSync(second + byte, Deno.SeekMode.Start);
      file.writeSync(new Uint8Array([value]));
      file.close();
      const again = fresh(dir, 1 << 20);
      assert.equal(again.has(2), false, `byte ${byte} = ${value}`);
      assertHolds(again, [1, 3, 4, 5, 6]);
      assert.equal(Deno.statSync(path).size, size, "nothing cut off");
    });
  }
});

Deno.test("LiteralPack compacts a sealed segment once more than half of it is dead", async () => {
  await withDir((dir) => {
    const pack = fresh(dir);
    const ids = Array.from({ length: 12 }, (_, i) => i + 1); // segments 1–3 full, 4 empty
    for (const id of ids) put(pack, id);
    pack.delete(1);
    pack.delete(2);
    assert.equal(pack.stats().compactions, 0); // exactly half (plus the deletions' own bytes)
    pack.delete(3);
    // Segment 1 (entries 1–4) was more than half dead: entry 4 moved, the segment went.
    const stats = pack.stats();
    assert.equal(stats.compactions, 1);
    assert.ok(!files(dir).includes("seg-00000001.pack"));
    assert.ok(!files(dir).includes("seg-00000001.hint"));
    assertHolds(pack, ids.slice(3));
    for (const id of [1, 2, 3]) assert.equal(pack.read(id), undefined);
    const again = fresh(dir);
    assertHolds(again, ids.slice(3));
    for (const id of [1, 2, 3]) assert.equal(again.has(id), false);
    assert.equal(again.stats().entries, 9);
  });
});

Deno.test("LiteralPack keeps a deletion while an older record of the entry survives elsewhere", async () => {
  await withDir((dir) => {
    const pack = fresh(dir);
    // Segment 1: 1, 2, 3, 4 (stays mostly live).
    for (const id of [1, 2, 3, 4]) put(pack, id);
    // Segment 2: 5, 6, 7, 8; entry 1's deletion lands in segment 3 with 9 and 10.
    for (const id of [5, 6, 7, 8]) put(pack, id);
    pack.delete(1);
    put(pack, 9);
    put(pack, 10);
    put(pack, 11);
    put(pack, 12); // segment 3: deletion of 1, 9, 10, 11, 12
    put(pack, 13); // seals it
    // Kill most of segment 3 so it is compacted: the deletion of 1 must move along, as segment 1
    // still holds entry 1's old record.
    pack.delete(9);
    pack.delete(10);
    pack.delete(11);
    assert.ok(pack.stats().compactions >= 1);
    assert.ok(!files(dir).includes("seg-00000003.pack"));
    const again = fresh(dir);
    assert.equal(again.has(1), false);
    for (const id of [9, 10, 11]) assert.equal(again.has(id), false);
    assertHolds(again, [2, 3, 4, 5, 6, 7, 8, 12, 13]);
    // Segment 1 compacted away as well: entry 1 stays deleted.
    for (const id of [2, 3, 4]) again.delete(id);
    assert.ok(!files(dir).includes("seg-00000001.pack"));
    assertHolds(fresh(dir), [5, 6, 7, 8, 12, 13]);
    assert.equal(fresh(dir).has(1), false);
  });
});

Deno.test("LiteralPack replacing an entry leaves one live record; reads check the header", async () => {
  await withDir((dir) => {
    const pack = fresh(dir, 1 << 20);
    put(pack, 7, 10);
    put(pack, 7, 20);
    assertHolds(pack, [7], 20);
    assert.equal(pack.stats().entries, 1);
    assert.equal(pack.stats().deadBytes, RECORD_HEADER_BYTES + 10);
    assertHolds(fresh(dir, 1 << 20), [7], 20);
    assert.throws(
      () => pack.append(8, recordHeader(RecordKind.Entry, 9, 3), new Uint8Array(3)),
      TypeError,
    );
    assert.throws(
      () => pack.append(8, recordHeader(RecordKind.Entry, 8, 4), new Uint8Array(3)),
      TypeError,
    );
    assert.equal(pack.delete(99), false);
    assert.equal(pack.read(99), undefined);
  });
});

Deno.test("LiteralPack.open shares one state per folder and reloads what another process wrote", async () => {
  await withDir((dir) => {
    const a = fresh(dir);
    const b = LiteralPack.open(dir, { segmentBytes: SEGMENT_BYTES });
    assert.equal(a, b);
    put(a, 1);
    assertHolds(b, [1]);
    // Another process appends a record to the segment.
    const p = payload(2);
    const file = Deno.openSync(`${dir}/seg-00000001.pack`, { append: true });
    file.writeSync(recordHeader(RecordKind.Entry, 2, p.length));
    file.writeSync(p);
    file.close();
    assert.equal(a.has(2), false);
    // This process opens the folder again: the files changed, so the state is read again.
    const c = LiteralPack.open(dir, { segmentBytes: SEGMENT_BYTES });
    assert.equal(c, a);
    assertHolds(c, [1, 2]);
  });
});

/** Segment files of `dir` this process holds open (from /proc/self/fd). */
function openSegments(dir: string): string[] {
  return openFilesUnder(dir);
}

Deno.test("LiteralPack keeps a few segments open and reopens one replaced behind its back", async () => {
  await withDir((dir) => {
    const pack = fresh(dir);
    const ids = Array.from({ length: 22 }, (_, i) => i + 1); // 5 full segments, 2 in the 6th
    for (const id of ids) put(pack, id);
    assertHolds(pack, ids);
    // The active segment for appending, at most 4 for reading.
    const open = openSegments(dir);
    assert.ok(open.length <= 5, open.join(" "));
    assert.ok(open.includes("seg-00000006.pack"));

    // Segment 6 (entries 21, 22) replaced by a copy whose entry 21 differs. Until the kept file
    // is checked again it still reads the old records; once checked, the new file is read.
    const path = `${dir}/seg-00000006.pack`;
    const copy = Deno.readFileSync(path);
    copy[RECORD_HEADER_BYTES] ^= 0xff;
    const interval = _internals.setLinkCheckMs(60_000);
    try {
      assert.equal(pack.read(21)!.payload[0], payload(21)[0]); // checked now, for a minute
      Deno.removeSync(path);
      Deno.writeFileSync(path, copy);
      assert.equal(pack.read(21)!.payload[0], payload(21)[0]);
      _internals.setLinkCheckMs(0);
      assert.equal(pack.read(21)!.payload[0], payload(21)[0] ^ 0xff);
      // Removed: a miss, not the bytes of the old file; the next append creates it again.
      Deno.removeSync(path);
      assert.equal(pack.read(22), undefined);
    } finally {
      _internals.setLinkCheckMs(interval);
    }
    put(pack, 23);
    assert.ok(Deno.statSync(path).size > 0);
    assertHolds(pack, [23]);

    // Compaction closes the segment it removes; closeFiles closes the rest.
    for (const id of [1, 2, 3]) pack.delete(id);
    assert.ok(!openSegments(dir).includes("seg-00000001.pack"));
    pack.closeFiles();
    assert.deepEqual(openSegments(dir), []);
    assertHolds(pack, ids.slice(3, 20));
  });
});
