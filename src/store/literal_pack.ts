/**
 * Packed storage for the literal cache: records appended to a few large segment files instead of
 * one file per message (creating a small file costs about a millisecond of kernel time on an ext4
 * disk; appending to an open segment costs microseconds). This file knows records and segments;
 * what a record's payload is (compressed, encrypted) is `literal_cache.ts`'s business.
 *
 * ## On disk
 * `seg-00000001.pack`, `seg-00000002.pack`, …: each a sequence of records, each a 32-byte header
 * followed by its payload:
 *
 * | bytes  | field                                                               |
 * | ------ | ------------------------------------------------------------------- |
 * | 0–3    | `"BLP1"`                                                            |
 * | 4–7    | kind, u32 LE: 1 = entry, 2 = deletion (no payload)                  |
 * | 8–15   | message ID, u64 LE                                                  |
 * | 16–19  | payload length, u32 LE                                              |
 * | 20–31  | 12 bytes the caller chooses (the cache stores the AES-GCM nonce)    |
 *
 * Bytes 0–19 are what {@link recordHeader} returns as the AAD the caller binds into its payload.
 * A record does not depend on where it sits, so compaction copies records byte for byte.
 *
 * The log is ordered by segment number, then offset: for each ID the last record wins, an entry
 * or a deletion. New records go to the **active** (highest) segment; once it holds
 * `segmentBytes` (64 MiB by default) it is **sealed**: a hint file `seg-N.hint` lists its records
 * (kind, ID, offset, size), so opening the cache reads a few kilobytes per sealed segment instead
 * of walking 64 MiB of records. The active segment (and any segment whose hint is missing or does
 * not match the segment exactly) is walked record by record when the cache is opened; a torn
 * record at its end (a crash in the middle of an append) is cut off, and a damaged record header
 * in the middle is stepped over to the next record header (only that record is lost).
 *
 * ## Crashes
 * A record is appended with synchronous writes before `append` returns, so a killed process loses
 * nothing `append` reported done. Nothing is fsynced (neither was the one-file cache): a power cut
 * may lose recent records or leave garbage in them, which readers see as a corrupt entry — the
 * cache's callers treat that as a miss and rebuild the literal from the API.
 *
 * ## Space
 * A replaced or deleted entry leaves dead bytes in its segment. When more than half of a sealed
 * segment is dead, the next write compacts it: its live records are copied to the active
 * segment, deletions that still hide an older record elsewhere are copied too, then the segment
 * and its hint are removed. Compaction runs synchronously inside that write (a 64 MiB segment
 * takes some tens of milliseconds).
 *
 * ## Sharing
 * One process writes a cache directory at a time (`bridge serve` holds a lock on its data
 * directory). Within a process every {@link LiteralPack.open} of the same directory shares one
 * state, so several `LiteralCache` objects on one folder do not overwrite each other; a reopen
 * notices segments another process changed since and reloads them.
 *
 * ## Open files
 * Opening and closing a segment for every read cost about as much as the read itself, so the
 * state keeps the active segment open for appending and the last few segments it read open for
 * reading ({@link MAX_READERS}). A kept file is checked before use — the writer before every
 * append, a reader at most once a second ({@link _internals}): one whose name was removed (link
 * count 0) is closed and the name opened again, so a segment deleted or replaced behind the
 * cache's back reads as it did when nothing stayed open (a reader at the latest a second after
 * its previous check; until then it reads the removed file's records, which authenticate as
 * before). Compaction closes the segment it removes; {@link LiteralPack.reset} (and a reload)
 * closes them all.
 *
 * @module
 */

const MAGIC = [0x42, 0x4c, 0x50, 0x31]; // "BLP1"
const HINT_MAGIC = [0x42, 0x4c, 0x48, 0x31]; // "BLH1"
/** Bytes of a record header. */
export const RECORD_HEADER_BYTES = 32;
/** Bytes of the header that identify a record (magic, kind, ID, length): the AAD. */
export const RECORD_AAD_BYTES = 20;
const HINT_HEADER_BYTES = 16;
const HINT_ENTRY_BYTES = 24;
/** Largest payload a record can hold. */
export const MAX_PAYLOAD_BYTES = 0xFFFF_FFFF - RECORD_HEADER_BYTES;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_RE = /^seg-(\d{8})\.pack$/;
/** Segments kept open for reading (most recently read). */
const MAX_READERS = 4;

/** Kinds of records. */
export const RecordKind = {
  /** A message's payload. */
  Entry: 1,
  /** The message's entry was deleted. */
  Deletion: 2,
} as const;

/** Options of {@link LiteralPack.open}. */
export interface LiteralPackOptions {
  /** Size at which the active segment is sealed (default 64 MiB; tests use less). */
  segmentBytes?: number;
}

/** One record of a read entry. */
export interface PackedRecord {
  /** The 32-byte header (its first {@link RECORD_AAD_BYTES} are the AAD). */
  header: Uint8Array;
  /** The caller's 12 bytes (header bytes 20–31). */
  extra: Uint8Array;
  /** The payload. */
  payload: Uint8Array;
}

/** Figures about the packed storage (tests, benchmarks). */
export interface LiteralPackStats {
  /** Segment files. */
  segments: number;
  /** Live entries. */
  entries: number;
  /** Bytes of all segments. */
  bytes: number;
  /** Of those, bytes of replaced or deleted entries and of deletion records. */
  deadBytes: number;
  /** Segments compacted since the state was loaded. */
  compactions: number;
}

interface Location {
  segment: number;
  offset: number;
  /** Header + payload. */
  size: number;
}

interface Segment {
  size: number;
  dead: number;
  /** Records of the active segment, for its hint once it is sealed. */
  records?: HintEntry[];
}

interface HintEntry {
  kind: number;
  id: number;
  offset: number;
  size: number;
}

/**
 * The 32-byte header of a record. `extra` (12 bytes) is stored as is; the first
 * {@link RECORD_AAD_BYTES} bytes identify the record and are meant to be authenticated with it.
 */
export function recordHeader(
  kind: number,
  id: number,
  payloadLength: number,
  extra: Uint8Array = new Uint8Array(12),
): Uint8Array<ArrayBuffer> {
  if (payloadLength > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`A cache record holds at most ${MAX_PAYLOAD_BYTES} bytes`);
  }
  const header = new Uint8Array(RECORD_HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  view.setUint32(4, kind, true);
  view.setUint32(8, id % 0x1_0000_0000, true);
  view.setUint32(12, Math.floor(id / 0x1_0000_0000), true);
  view.setUint32(16, payloadLength, true);
  header.set(extra.subarray(0, 12), 20);
  return header;
}

/** Parses a record header; `undefined` when it is not one. */
function parseHeader(bytes: Uint8Array): { kind: number; id: number; length: number } | undefined {
  if (bytes.length < RECORD_HEADER_BYTES) return undefined;
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, RECORD_HEADER_BYTES);
  const kind = view.getUint32(4, true);
  const id = view.getUint32(8, true) + view.getUint32(12, true) * 0x1_0000_0000;
  const length = view.getUint32(16, true);
  if (kind !== RecordKind.Entry && kind !== RecordKind.Deletion) return undefined;
  if (kind === RecordKind.Deletion && length !== 0) return undefined;
  if (!Number.isSafeInteger(id) || id < 1) return undefined;
  return { kind, id, length };
}

const shared = new Map<string, LiteralPack>();

/** Test seams. */
/**
 * How often (ms) a segment kept open for reading is checked for a removed name: a segment
 * removed or replaced behind the cache's back reads as a miss (or as the new file) at the latest
 * this long after its previous check. Writes check the active segment every time.
 */
let linkCheckMs = 1000;

export const _internals = {
  /** Forgets the shared states, so the next open loads from disk as a new process would. */
  forgetOpenPacks(): void {
    for (const pack of shared.values()) pack.closeFiles();
    shared.clear();
  },
  /** Sets the reader link-check interval (tests use 0: every read checks); returns the old one. */
  setLinkCheckMs(ms: number): number {
    const old = linkCheckMs;
    linkCheckMs = ms;
    return old;
  },
};

/** The segments of one cache directory. */
export class LiteralPack {
  readonly dir: string;
  #segmentBytes: number;
  #entries = new Map<number, Location>();
  #segments = new Map<number, Segment>();
  /** ID → segments that still hold replaced or deleted records of it (one item per record). */
  #deadAt = new Map<number, number[]>();
  #active = 1;
  #compactions = 0;
  #compacting = false;
  /** Segments open for reading, least recently used first, with when their link was checked. */
  #readers = new Map<number, { file: Deno.FsFile; checkedAt: number }>();
  /** The active segment, open for writing. */
  #writer: { segment: number; file: Deno.FsFile } | undefined;

  private constructor(dir: string, segmentBytes: number) {
    this.dir = dir;
    this.#segmentBytes = segmentBytes;
  }

  /**
   * The packed storage of `dir` (which must exist), shared by every caller in this process that
   * opens the same directory. Reads the hints and walks unsealed segments.
   */
  static open(dir: string, options: LiteralPackOptions = {}): LiteralPack {
    const segmentBytes = Math.max(1024, Math.floor(options.segmentBytes ?? DEFAULT_SEGMENT_BYTES));
    const key = Deno.realPathSync(dir);
    const known = shared.get(key);
    if (known) {
      known.#segmentBytes = segmentBytes;
      if (!known.#matchesDisk()) {
        known.reset();
        known.#load();
      }
      return known;
    }
    const pack = new LiteralPack(dir, segmentBytes);
    pack.#load();
    shared.set(key, pack);
    return pack;
  }

  /** Whether `id` has an entry. */
  has(id: number): boolean {
    return this.#entries.has(id);
  }

  /** Number of live entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** Figures about the segments. */
  stats(): LiteralPackStats {
    let bytes = 0;
    let dead = 0;
    for (const s of this.#segments.values()) {
      bytes += s.size;
      dead += s.dead;
    }
    return {
      segments: this.#segments.size,
      entries: this.#entries.size,
      bytes,
      deadBytes: dead,
      compactions: this.#compactions,
    };
  }

  /**
   * Appends an entry for `id` (replacing any earlier one). `header` must come from
   * {@link recordHeader} with this ID and `payload.length`.
   *
   * @throws I/O errors (disk full) as they come; the entry is then not stored.
   */
  append(id: number, header: Uint8Array, payload: Uint8Array): void {
    const parsed = parseHeader(header);
    if (!parsed || parsed.id !== id || parsed.length !== payload.length) {
      throw new TypeError("The record header does not match the entry");
    }
    const record = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
    record.set(header.subarray(0, RECORD_HEADER_BYTES), 0);
    record.set(payload, RECORD_HEADER_BYTES);
    this.#write(parsed.kind, id, record);
    this.#compactIfNeeded();
  }

  /** The entry of `id`, or `undefined` when there is none or it cannot be read back. */
  read(id: number): PackedRecord | undefined {
    const at = this.#entries.get(id);
    if (!at) return undefined;
    try {
      const bytes = readAt(this.#reader(at.segment), at.offset, at.size);
      if (bytes.length !== at.size) return undefined;
      const parsed = parseHeader(bytes);
      if (
        !parsed || parsed.kind !== RecordKind.Entry || parsed.id !== id ||
        parsed.length !== at.size - RECORD_HEADER_BYTES
      ) {
        return undefined;
      }
      return {
        header: bytes.subarray(0, RECORD_HEADER_BYTES),
        extra: bytes.subarray(RECORD_AAD_BYTES, RECORD_HEADER_BYTES),
        payload: bytes.subarray(RECORD_HEADER_BYTES),
      };
    } catch {
      return undefined;
    }
  }

  /** Deletes the entry of `id` (a deletion record); returns whether there was one. */
  delete(id: number): boolean {
    if (!this.#entries.has(id)) return false;
    this.#write(RecordKind.Deletion, id, recordHeader(RecordKind.Deletion, id, 0));
    this.#compactIfNeeded();
    return true;
  }

  /** Closes the segment files kept open; the next read or write opens what it needs again. */
  closeFiles(): void {
    this.#closeWriter();
    for (const segment of [...this.#readers.keys()]) this.#closeReader(segment);
  }

  /** Forgets every entry and closes the open segments; the caller removes the files. */
  reset(): void {
    this.closeFiles();
    this.#entries.clear();
    this.#segments.clear();
    this.#deadAt.clear();
    this.#active = 1;
  }

  #path(segment: number): string {
    return `${this.dir}/seg-${String(segment).padStart(8, "0")}.pack`;
  }

  /**
   * The segment open for reading (opened, or opened again when its name was removed). Whether a
   * kept file's name is still there is checked at most every {@link linkCheckMs} (an `fstat` per
   * read was 8 % of reading 10,000 cached literals in a row).
   */
  #reader(segment: number): Deno.FsFile {
    let open = this.#readers.get(segment);
    if (open) {
      this.#readers.delete(segment);
      const now = performance.now();
      if (now - open.checkedAt >= linkCheckMs) {
        open.checkedAt = now;
        if (isUnlinked(open.file)) {
          open.file.close();
          open = undefined;
        }
      }
    }
    open ??= {
      file: Deno.openSync(this.#path(segment), { read: true }),
      checkedAt: performance.now(),
    };
    this.#readers.set(segment, open);
    if (this.#readers.size > MAX_READERS) {
      this.#closeReader(this.#readers.keys().next().value!);
    }
    return open.file;
  }

  #closeReader(segment: number): void {
    const open = this.#readers.get(segment);
    if (!open) return;
    this.#readers.delete(segment);
    closeQuietly(open.file);
  }

  /** The active segment open for writing (created when missing). */
  #writerFor(segment: number): Deno.FsFile {
    const open = this.#writer;
    if (open && open.segment === segment && !isUnlinked(open.file)) return open.file;
    this.#closeWriter();
    const file = Deno.openSync(this.#path(segment), { write: true, create: true, mode: 0o600 });
    this.#writer = { segment, file };
    return file;
  }

  #closeWriter(): void {
    if (this.#writer) closeQuietly(this.#writer.file);
    this.#writer = undefined;
  }

  #hintPath(segment: number): string {
    return `${this.dir}/seg-${String(segment).padStart(8, "0")}.hint`;
  }

  /** Appends a record to the active segment (sealing it first when full) and applies it. */
  #write(kind: number, id: number, record: Uint8Array): void {
    let active = this.#segments.get(this.#active);
    if (active && active.size > 0 && active.size + record.length > this.#segmentBytes) {
      this.#seal(this.#active);
      this.#active++;
      active = undefined;
    }
    if (!active) {
      active = { size: 0, dead: 0, records: [] };
      this.#segments.set(this.#active, active);
    }
    const offset = active.size;
    try {
      writeAt(this.#writerFor(this.#active), offset, record);
    } catch (err) {
      // Disk full or the like: the next append opens the file afresh.
      this.#closeWriter();
      throw err;
    }
    active.size += record.length;
    active.records?.push({ kind, id, offset, size: record.length });
    this.#apply(kind, id, { segment: this.#active, offset, size: record.length });
  }

  /** Applies one record, in log order, to the in-memory state. */
  #apply(kind: number, id: number, at: Location): void {
    const before = this.#entries.get(id);
    if (before) this.#markDead(id, before);
    if (kind === RecordKind.Entry) {
      this.#entries.set(id, at);
    } else {
      this.#entries.delete(id);
      this.#segments.get(at.segment)!.dead += at.size;
    }
  }

  #markDead(id: number, at: Location): void {
    const segment = this.#segments.get(at.segment);
    if (segment) segment.dead += at.size;
    const list = this.#deadAt.get(id);
    if (list) list.push(at.segment);
    else this.#deadAt.set(id, [at.segment]);
  }

  /** Writes the hint of a full segment and stops tracking its records in memory. */
  #seal(segment: number): void {
    const state = this.#segments.get(segment);
    if (!state) return;
    const records = state.records ?? scanSegment(this.#path(segment)).records;
    writeHint(this.#hintPath(segment), records, state.size);
    state.records = undefined;
    if (this.#writer?.segment === segment) this.#closeWriter();
  }

  /** Whether the files on disk are the ones this state describes (another process may write). */
  #matchesDisk(): boolean {
    try {
      const names = new Set<number>();
      for (const entry of Deno.readDirSync(this.dir)) {
        const m = SEGMENT_RE.exec(entry.name);
        if (m) names.add(Number(m[1]));
      }
      if (names.size !== this.#segments.size) return false;
      for (const [n, s] of this.#segments) {
        if (!names.has(n) || Deno.statSync(this.#path(n)).size !== s.size) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  #load(): void {
    const numbers: number[] = [];
    const hints = new Set<number>();
    for (const entry of Deno.readDirSync(this.dir)) {
      const m = SEGMENT_RE.exec(entry.name);
      if (m) numbers.push(Number(m[1]));
      const h = /^seg-(\d{8})\.hint$/.exec(entry.name);
      if (h) hints.add(Number(h[1]));
    }
    numbers.sort((a, b) => a - b);
    for (const n of hints) {
      // A hint whose segment is gone (a compaction stopped halfway) is left over.
      if (!numbers.includes(n)) removeQuietly(this.#hintPath(n));
    }
    const last = numbers.at(-1);
    for (const n of numbers) {
      const path = this.#path(n);
      let records = hints.has(n) ? readHint(this.#hintPath(n), fileSize(path)) : undefined;
      let size: number;
      if (records) {
        size = fileSize(path);
      } else {
        const scan = scanSegment(path);
        records = scan.records;
        size = scan.end;
        if (scan.end !== fileSize(path)) Deno.truncateSync(path, scan.end);
        if (n !== last) writeHint(this.#hintPath(n), records, size);
      }
      const segment: Segment = { size, dead: 0 };
      this.#segments.set(n, segment);
      for (const r of records) {
        this.#apply(r.kind, r.id, { segment: n, offset: r.offset, size: r.size });
      }
      if (n === last) {
        if (hints.has(n)) removeQuietly(this.#hintPath(n));
        segment.records = records;
      }
    }
    this.#active = last ?? 1;
    const active = this.#segments.get(this.#active);
    if (active && active.size >= this.#segmentBytes) {
      this.#seal(this.#active);
      this.#active++;
    }
  }

  #compactIfNeeded(): void {
    if (this.#compacting) return;
    for (const [n, s] of this.#segments) {
      if (n === this.#active || s.records !== undefined) continue;
      if (s.dead * 2 > s.size) {
        this.#compacting = true;
        try {
          this.#compact(n);
        } finally {
          this.#compacting = false;
        }
        return;
      }
    }
  }

  /** Moves the live records of a sealed segment to the active one and removes the segment. */
  #compact(n: number): void {
    const path = this.#path(n);
    const state = this.#segments.get(n)!;
    const records = readHint(this.#hintPath(n), state.size) ?? scanSegment(path).records;
    const bytes = Deno.readFileSync(path);
    const deletions = new Set<number>();
    for (const r of records) {
      if (r.kind === RecordKind.Deletion) {
        deletions.add(r.id);
        continue;
      }
      const at = this.#entries.get(r.id);
      if (at && at.segment === n && at.offset === r.offset) {
        // Live: the copy becomes the entry; nothing is dead.
        const copy = bytes.subarray(r.offset, r.offset + r.size);
        this.#entries.delete(r.id);
        this.#write(RecordKind.Entry, r.id, copy);
      } else {
        this.#forgetDead(r.id, n);
      }
    }
    for (const id of deletions) {
      // Still needed while an older record of the ID survives in another segment.
      if (!this.#entries.has(id) && (this.#deadAt.get(id)?.length ?? 0) > 0) {
        this.#write(RecordKind.Deletion, id, recordHeader(RecordKind.Deletion, id, 0));
      }
    }
    removeQuietly(this.#hintPath(n));
    this.#closeReader(n);
    Deno.removeSync(path);
    this.#segments.delete(n);
    this.#compactions++;
  }

  #forgetDead(id: number, segment: number): void {
    const list = this.#deadAt.get(id);
    if (!list) return;
    const i = list.indexOf(segment);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#deadAt.delete(id);
  }
}

/** Walks a segment's records; `end` is where the last whole record ends. */
function scanSegment(path: string): { records: HintEntry[]; end: number } {
  const records: HintEntry[] = [];
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return { records, end: 0 };
  }
  try {
    const size = file.statSync().size;
    const header = new Uint8Array(RECORD_HEADER_BYTES);
    let offset = 0;
    let end = 0; // the end of the last whole record
    while (offset + RECORD_HEADER_BYTES <= size) {
      file.seekSync(offset, Deno.SeekMode.Start);
      if (readFull(file, header) !== RECORD_HEADER_BYTES) break;
      const parsed = parseHeader(header);
      const recordEnd = parsed ? offset + RECORD_HEADER_BYTES + parsed.length : size + 1;
      if (parsed && recordEnd <= size) {
        const record = { kind: parsed.kind, id: parsed.id, offset, size: recordEnd - offset };
        // Whole when it ends at the end of the file or where a header begins.
        if (recordEnd === size || headerAt(file, recordEnd, size, false)) {
          records.push(record);
          offset = end = recordEnd;
          continue;
        }
        // No header after it: its length is damaged (a header lies inside what it claims: the
        // record is lost) or the next header is (this record is whole; walk on from the next).
        const next = nextHeaderAt(file, offset + RECORD_HEADER_BYTES, size);
        if (next === undefined || next >= recordEnd) {
          records.push(record);
          end = recordEnd;
        }
        if (next === undefined) break; // garbage after the last record is cut off
        offset = next;
        continue;
      }
      // A damaged header (a disk error, not a torn append) or a record that runs past the end:
      // the records after it are intact, so walk on from the next record header rather than
      // drop the rest of the segment. With none after it, the rest is a torn append: cut off.
      const next = nextHeaderAt(file, offset + 1, size);
      if (next === undefined) break;
      offset = next;
    }
    return { records, end };
  } finally {
    file.close();
  }
}

/** Whether a record header starts at `at` (with `fits`: one whose record fits in the file). */
function headerAt(file: Deno.FsFile, at: number, size: number, fits = true): boolean {
  if (at + RECORD_HEADER_BYTES > size) return false;
  const header = new Uint8Array(RECORD_HEADER_BYTES);
  file.seekSync(at, Deno.SeekMode.Start);
  if (readFull(file, header) !== RECORD_HEADER_BYTES) return false;
  const parsed = parseHeader(header);
  return parsed !== undefined && (!fits || at + RECORD_HEADER_BYTES + parsed.length <= size);
}

/**
 * The offset of the first record header at or after `from` whose record fits in the file, if any.
 * (Inside a record's payload the magic can occur by chance; such a record fails its AES-GCM check
 * when read, which the cache treats as a miss.)
 */
function nextHeaderAt(file: Deno.FsFile, from: number, size: number): number | undefined {
  const chunk = new Uint8Array(1 << 16);
  for (let base = from; base + RECORD_HEADER_BYTES <= size; base += chunk.length - 3) {
    file.seekSync(base, Deno.SeekMode.Start);
    const n = readFull(file, chunk);
    for (let i = 0; i + 3 < n; i++) {
      if (chunk[i] !== MAGIC[0] || chunk[i + 1] !== MAGIC[1]) continue;
      if (chunk[i + 2] !== MAGIC[2] || chunk[i + 3] !== MAGIC[3]) continue;
      const at = base + i;
      if (at + RECORD_HEADER_BYTES > size) return undefined;
      if (headerAt(file, at, size)) return at;
    }
    if (n < chunk.length) return undefined;
  }
  return undefined;
}

/** The records a hint lists, if it describes a segment of exactly `size` bytes. */
function readHint(path: string, size: number): HintEntry[] | undefined {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch {
    return undefined;
  }
  if (bytes.length < HINT_HEADER_BYTES) return undefined;
  for (let i = 0; i < 4; i++) if (bytes[i] !== HINT_MAGIC[i]) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  const covered = view.getFloat64(8, true);
  if (covered !== size || bytes.length !== HINT_HEADER_BYTES + count * HINT_ENTRY_BYTES) {
    return undefined;
  }
  const records: HintEntry[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const at = HINT_HEADER_BYTES + i * HINT_ENTRY_BYTES;
    const kind = view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    const id = view.getFloat64(at + 8, true);
    const recordOffset = view.getFloat64(at + 16, true);
    const recordSize = RECORD_HEADER_BYTES + length;
    // The records must tile the segment exactly.
    if (recordOffset !== offset || !Number.isSafeInteger(id) || id < 1) return undefined;
    if (kind !== RecordKind.Entry && (kind !== RecordKind.Deletion || length !== 0)) {
      return undefined;
    }
    records.push({ kind, id, offset, size: recordSize });
    offset += recordSize;
  }
  return offset === size ? records : undefined;
}

function writeHint(path: string, records: readonly HintEntry[], size: number): void {
  const bytes = new Uint8Array(HINT_HEADER_BYTES + records.length * HINT_ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(HINT_MAGIC, 0);
  view.setUint32(4, records.length, true);
  view.setFloat64(8, size, true);
  records.forEach((r, i) => {
    const at = HINT_HEADER_BYTES + i * HINT_ENTRY_BYTES;
    view.setUint32(at, r.kind, true);
    view.setUint32(at + 4, r.size - RECORD_HEADER_BYTES, true);
    view.setFloat64(at + 8, r.id, true);
    view.setFloat64(at + 16, r.offset, true);
  });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.writeFileSync(tmp, bytes, { mode: 0o600 });
    Deno.renameSync(tmp, path);
  } catch {
    // A missing hint only makes the next open walk the segment.
    removeQuietly(tmp);
  }
}

function readAt(file: Deno.FsFile, offset: number, length: number): Uint8Array {
  file.seekSync(offset, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  const n = readFull(file, out);
  return n === length ? out : out.subarray(0, n);
}

function readFull(file: Deno.FsFile, into: Uint8Array): number {
  let n = 0;
  while (n < into.length) {
    const got = file.readSync(into.subarray(n));
    if (got === null || got === 0) break;
    n += got;
  }
  return n;
}

function writeAt(file: Deno.FsFile, offset: number, bytes: Uint8Array): void {
  file.seekSync(offset, Deno.SeekMode.Start);
  let n = 0;
  while (n < bytes.length) n += file.writeSync(bytes.subarray(n));
}

/** Whether an open file's name was removed (it then lives on only through open handles). */
function isUnlinked(file: Deno.FsFile): boolean {
  try {
    return file.statSync().nlink === 0;
  } catch {
    return true;
  }
}

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // Already closed.
  }
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone.
  }
}
