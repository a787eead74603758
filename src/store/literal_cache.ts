/**
 * The encrypted literal cache: the RFC 822 bytes of each message, built once by the sync, kept next
 * to (not inside) the SQLite index, so FETCH BODY[] needs no network.
 *
 * An entry is the literal compressed with zstd ({@link compressLiteral}), then sealed with
 * AES-256-GCM under a key derived from the account's cache secret with HKDF-SHA256, with a fresh
 * random 12-byte nonce per entry. Entries are records appended to segment files
 * (`literal_pack.ts`: 64 MiB segments, a hint file per full segment, compaction of segments that
 * are more than half dead); the AAD is the record's identifying header (format tag, kind, the
 * internal message ID, the length), so an entry copied onto another ID or cut short does not
 * decrypt.
 *
 * Caches written by earlier versions hold one file per message, `<dir>/<xx>/<id>` (`xx` the ID's
 * low byte in hex): `"BLC1"` ‖ nonce ‖ AES-256-GCM(key, nonce, AAD = `"BLC1"` ‖ the ID in decimal)
 * of the literal compressed with `deflate-raw`. They stay readable: {@link LiteralCache.get} falls back to them for IDs
 * the segments do not hold, {@link LiteralCache.delete} and {@link LiteralCache.clear} remove them,
 * and a new `put` of the ID supersedes them. Nothing writes that format any more.
 *
 * The cache is a cache: {@link LiteralCache.get} answers `undefined` for a missing, truncated,
 * tampered or foreign entry and never throws; the caller rebuilds the literal from the API and
 * puts it again.
 *
 * Cost per entry (the reason for segments): appending a record is a few synchronous system calls
 * on an existing file, where creating one file per message cost about 1 ms of kernel time on an
 * ext4 disk. Compression is synchronous `node:zlib` zstd; the first sync does it on the build
 * workers when there are any ({@link LiteralCache.putCompressed}).
 *
 * ## Codec
 * Entries written since 2026-11-29 hold a zstd frame (level 1); earlier ones, in segments or in
 * the one-file format, hold `deflate-raw` (level 2, what a `CompressionStream("deflate-raw")`
 * makes), and both read back: {@link decompressLiteral} tells them apart by the zstd frame magic
 * `28 B5 2F FD` (RFC 8878 §3.1.1), which no valid deflate stream starts with: `0x28` opens a
 * stored block (RFC 1951 §3.2.4) whose LEN would be `0x2FB5` and NLEN, its complement, `0xD04A`,
 * but NLEN's low byte would be `0xFD`; zlib also writes the padding bits as zero. The choice,
 * measured over 10,000 seeded literals (106 MB, `docs/BENCHMARKS.md`): zstd level 1 compresses 4×
 * faster than deflate level 2 (371 against 1,516 ms) into 4 % fewer bytes (65.6 against 68.3 MB)
 * and decompresses 19 % faster (299 against 368 ms); compression was the largest item of the
 * first sync's main thread besides the build, decompression the largest of `FETCH BODY[]`.
 * Deno's `CompressionStream` offers no zstd. The bytes are authenticated by AES-GCM before they
 * are decompressed, so the codec only ever sees what this cache wrote.
 *
 * @module
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import {
  constants,
  inflateRawSync,
  zstdCompressSync,
  zstdDecompressSync,
  type ZstdOptions,
} from "node:zlib";
import type { InternalMessageId } from "./ids.ts";
import {
  LiteralPack,
  type LiteralPackStats,
  RECORD_AAD_BYTES,
  recordHeader,
  RecordKind,
} from "./literal_pack.ts";

const LEGACY_MAGIC = new TextEncoder().encode("BLC1");
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_SALT = new TextEncoder().encode("bridge literal cache");
const HKDF_INFO = new TextEncoder().encode("AES-256-GCM key v1");
/**
 * Entries smaller than this are sealed and opened with `node:crypto` (synchronous, a few
 * microseconds of overhead); larger ones with WebCrypto, whose throughput is higher but whose every call costs
 * tens of microseconds (most literals are a few kilobytes). Both are the same AES-256-GCM.
 */
const SYNC_CRYPTO_BYTES = 16 * 1024;

/** Options of {@link LiteralCache.open}. */
export interface LiteralCacheOptions {
  /** Size at which a segment file is closed for new entries (default 64 MiB; tests use less). */
  segmentBytes?: number;
}

/** zstd's frame magic number, the first bytes of every entry compressed by {@link compressLiteral}. */
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/**
 * A literal compressed the way the cache stores it (one zstd frame, level 1, that names its
 * content size; see "Codec" above). Pure; build workers call it so that
 * {@link LiteralCache.putCompressed} only encrypts and writes.
 *
 * The result owns a buffer of exactly its length: the first sync holds every result from its
 * build to its cache write, long enough for V8 to move it to the old generation, so a view of a
 * larger output chunk would keep the whole chunk alive (docs/BENCHMARKS.md).
 */
export function compressLiteral(literal: Uint8Array): Uint8Array {
  // `pledgedSrcSize` (Node's option, honoured by Deno) puts the size in the frame header; the
  // type definitions do not know it yet.
  const options: ZstdOptions & { pledgedSrcSize: number } = {
    params: { [constants.ZSTD_c_compressionLevel]: 1 },
    pledgedSrcSize: literal.length,
  };
  return owned(zstdCompressSync(literal, options));
}

/**
 * The literal of a cache entry's plaintext: a zstd frame ({@link compressLiteral}), or the
 * `deflate-raw` stream of an entry written before zstd.
 *
 * A zstd frame must name its content size and decompress to exactly that many bytes: Deno's
 * `zstdDecompressSync` answers a truncated frame with fewer bytes (often none) instead of an error.
 *
 * @throws when the bytes are neither, or a frame is cut short (the caller reads that as a miss).
 */
export function decompressLiteral(compressed: Uint8Array): Uint8Array {
  if (!(compressed.length >= 4 && ZSTD_MAGIC.every((b, i) => compressed[i] === b))) {
    return owned(inflateRawSync(compressed));
  }
  const size = zstdContentSize(compressed);
  if (size === undefined) throw new RangeError("zstd frame without a content size");
  const out = owned(zstdDecompressSync(compressed));
  if (out.length !== size) {
    throw new RangeError(`zstd frame decompressed to ${out.length} bytes, it names ${size}`);
  }
  return out;
}

/**
 * Frame_Content_Size of a zstd frame header (RFC 8878 §3.1.1.1), or `undefined` when the header
 * is short or does not carry it.
 */
function zstdContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 5) return undefined;
  const descriptor = frame[4];
  const singleSegment = (descriptor >> 5) & 1;
  const fieldBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
  if (fieldBytes === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3];
  if (frame.length < at + fieldBytes) return undefined;
  let size = 0;
  for (let i = fieldBytes - 1; i >= 0; i--) size = size * 256 + frame[at + i];
  return fieldBytes === 2 ? size + 256 : size;
}

/** Encrypted, compressed literals on disk, appended to segment files. */
export class LiteralCache {
  readonly dir: string;
  #key: CryptoKey;
  /** The same key's bytes, for {@link SYNC_CRYPTO_BYTES}. */
  #keyBytes: Uint8Array;
  #pack: LiteralPack;
  /** Whether the folder holds entries in the one-file-per-message format. */
  #legacy: boolean;

  private constructor(
    dir: string,
    key: CryptoKey,
    keyBytes: Uint8Array,
    pack: LiteralPack,
    legacy: boolean,
  ) {
    this.dir = dir;
    this.#key = key;
    this.#keyBytes = keyBytes;
    this.#pack = pack;
    this.#legacy = legacy;
  }

  /**
   * Opens the cache in `dir` (created if missing) with a key derived from `secret`, the account's
   * cache secret (at least 16 random bytes, kept in the vault).
   *
   * @throws {RangeError} when the secret is shorter than 16 bytes; I/O errors as they come.
   */
  static async open(
    dir: string,
    secret: Uint8Array,
    options: LiteralCacheOptions = {},
  ): Promise<LiteralCache> {
    if (secret.length < 16) {
      throw new RangeError(`Cache secret has ${secret.length} bytes, at least 16 are needed`);
    }
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const material = await crypto.subtle.importKey("raw", copy(secret), "HKDF", false, [
      "deriveBits",
    ]);
    // The 256 bits deriveKey(HKDF → AES-GCM 256) would make, kept as bytes for node:crypto.
    const keyBytes = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: HKDF_INFO },
        material,
        256,
      ),
    );
    const key = await crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    const pack = LiteralPack.open(dir, { segmentBytes: options.segmentBytes });
    let legacy = false;
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && /^[0-9a-f]{2}$/.test(entry.name)) legacy = true;
    }
    return new LiteralCache(dir, key, keyBytes, pack, legacy);
  }

  /**
   * Stores a message's literal, replacing any earlier entry.
   *
   * @throws {RangeError} for an ID that is not a positive integer; I/O errors (disk full) as-is.
   */
  async put(id: InternalMessageId, literal: Uint8Array): Promise<void> {
    checkId(id);
    await this.putCompressed(id, compressLiteral(literal));
  }

  /**
   * Stores a literal already compressed with {@link compressLiteral} (the build workers do that
   * off the main thread), or, as earlier versions did, with `deflate-raw`. Anything else stored
   * here reads back as a miss.
   *
   * @throws {RangeError} for an ID that is not a positive integer; I/O errors (disk full) as-is.
   */
  async putCompressed(id: InternalMessageId, compressed: Uint8Array): Promise<void> {
    checkId(id);
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const header = recordHeader(RecordKind.Entry, id, compressed.length + TAG_BYTES, nonce);
    const aad = header.subarray(0, RECORD_AAD_BYTES);
    const sealed = compressed.length < SYNC_CRYPTO_BYTES
      ? this.#encryptSync(nonce, aad, compressed)
      : new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv: nonce, additionalData: aad },
          this.#key,
          compressed as Uint8Array<ArrayBuffer>,
        ),
      );
    this.#pack.append(id, header, sealed);
  }

  /** The literal of a message, or `undefined` when the entry is missing or unreadable. */
  async get(id: InternalMessageId): Promise<Uint8Array | undefined> {
    try {
      checkId(id);
      const record = this.#pack.read(id);
      if (!record) return this.#legacy ? await this.#getLegacy(id) : undefined;
      const aad = record.header.subarray(0, RECORD_AAD_BYTES);
      if (record.payload.length < SYNC_CRYPTO_BYTES) {
        return decompressLiteral(this.#decryptSync(record.extra, aad, record.payload));
      }
      const compressed = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: record.extra as Uint8Array<ArrayBuffer>,
          additionalData: aad as Uint8Array<ArrayBuffer>,
        },
        this.#key,
        record.payload as Uint8Array<ArrayBuffer>,
      );
      return decompressLiteral(new Uint8Array(compressed));
    } catch {
      return undefined;
    }
  }

  /** Whether an entry exists (it may still turn out unreadable). */
  async has(id: InternalMessageId): Promise<boolean> {
    try {
      checkId(id);
      if (this.#pack.has(id)) return true;
      if (!this.#legacy) return false;
      return (await Deno.stat(this.#legacyPath(id))).isFile;
    } catch {
      return false;
    }
  }

  /** Drops a message's entry; no error when there is none. */
  async delete(id: InternalMessageId): Promise<void> {
    checkId(id);
    this.#pack.delete(id);
    if (!this.#legacy) return;
    try {
      await Deno.remove(this.#legacyPath(id));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }

  /** Drops every entry (and stray temporary files), keeping the directory. */
  async clear(): Promise<void> {
    this.#pack.reset();
    for await (const entry of Deno.readDir(this.dir)) {
      await Deno.remove(`${this.dir}/${entry.name}`, { recursive: true });
    }
    this.#legacy = false;
  }

  /**
   * Closes the segment files the cache keeps open (when the account stops, so a logout's
   * deletion frees the disk space at once). The cache stays usable: the next read or write opens
   * what it needs again.
   */
  close(): void {
    this.#pack.closeFiles();
  }

  /** Figures about the segment files (entries, bytes, dead bytes, compactions). */
  stats(): LiteralPackStats {
    return this.#pack.stats();
  }

  /** AES-256-GCM seal of `plain` as WebCrypto writes it (ciphertext ‖ 16-byte tag). */
  #encryptSync(nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Uint8Array {
    const cipher = createCipheriv("aes-256-gcm", this.#keyBytes, nonce);
    cipher.setAAD(aad);
    const head = cipher.update(plain);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(head.length + tail.length + tag.length);
    out.set(head, 0);
    out.set(tail, head.length);
    out.set(tag, head.length + tail.length);
    return out;
  }

  /** AES-256-GCM open of `sealed` (ciphertext ‖ tag); throws when it does not authenticate. */
  #decryptSync(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    if (sealed.length < TAG_BYTES) throw new RangeError("Cache entry too short");
    const decipher = createDecipheriv("aes-256-gcm", this.#keyBytes, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const head = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    const tail = decipher.final();
    if (tail.length === 0) return head;
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  }

  async #getLegacy(id: InternalMessageId): Promise<Uint8Array | undefined> {
    const file = await Deno.readFile(this.#legacyPath(id));
    const header = LEGACY_MAGIC.length + NONCE_BYTES;
    if (file.length < header + TAG_BYTES) return undefined;
    if (!LEGACY_MAGIC.every((b, i) => file[i] === b)) return undefined;
    const compressed = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: file.subarray(LEGACY_MAGIC.length, header),
        additionalData: legacyAad(id),
      },
      this.#key,
      file.subarray(header),
    );
    return decompressLiteral(new Uint8Array(compressed));
  }

  #legacyPath(id: InternalMessageId): string {
    return `${this.dir}/${shardOf(id)}/${id}`;
  }
}

function checkId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new RangeError(`Invalid message ID for the literal cache: ${id}`);
  }
}

function shardOf(id: number): string {
  return (id % 256).toString(16).padStart(2, "0");
}

function legacyAad(id: number): Uint8Array<ArrayBuffer> {
  const digits = new TextEncoder().encode(String(id));
  const out = new Uint8Array(LEGACY_MAGIC.length + digits.length);
  out.set(LEGACY_MAGIC, 0);
  out.set(digits, LEGACY_MAGIC.length);
  return out;
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** A plain Uint8Array that owns its whole buffer (callers may transfer it), copying a view. */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? new Uint8Array(bytes.buffer, 0, bytes.byteLength)
    : new Uint8Array(bytes);
}
