/**
 * The encrypted literal cache: the RFC 822 bytes of each message, built once by the sync, kept in
 * one file per message next to (not inside) the SQLite index, so FETCH BODY[] needs no network.
 *
 * A file is `"BLC1"` ‖ a 12-byte random nonce ‖ AES-256-GCM(key, nonce, AAD = `"BLC1"` ‖ the
 * internal message ID in decimal) of the literal compressed with `deflate-raw`. The key is derived
 * from the account's cache secret with HKDF-SHA256. The AAD binds a file to its message: a file
 * copied or renamed onto another ID does not decrypt.
 *
 * Files live in `<dir>/<xx>/<id>`, `xx` being the ID's low byte in hex (256 shards), and are
 * written to a temporary name and renamed into place, so a reader sees the old file, the new one,
 * or none. The cache is a cache: {@link LiteralCache.get} answers `undefined` for a missing,
 * truncated, tampered or foreign entry and never throws; the caller rebuilds the literal from the
 * API and puts it again.
 *
 * @module
 */
import type { InternalMessageId } from "./ids.ts";

const MAGIC = new TextEncoder().encode("BLC1");
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_SALT = new TextEncoder().encode("bridge literal cache");
const HKDF_INFO = new TextEncoder().encode("AES-256-GCM key v1");

/** Encrypted, compressed literals on disk, one file per message. */
export class LiteralCache {
  readonly dir: string;
  #key: CryptoKey;
  #shards = new Set<string>();

  private constructor(dir: string, key: CryptoKey) {
    this.dir = dir;
    this.#key = key;
  }

  /**
   * Opens the cache in `dir` (created if missing) with a key derived from `secret`, the account's
   * cache secret (at least 16 random bytes, kept in the vault).
   *
   * @throws {RangeError} when the secret is shorter than 16 bytes.
   */
  static async open(dir: string, secret: Uint8Array): Promise<LiteralCache> {
    if (secret.length < 16) {
      throw new RangeError(`Cache secret has ${secret.length} bytes, at least 16 are needed`);
    }
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const material = await crypto.subtle.importKey("raw", copy(secret), "HKDF", false, [
      "deriveKey",
    ]);
    const key = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: HKDF_INFO },
      material,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
    return new LiteralCache(dir, key);
  }

  /**
   * Stores a message's literal, replacing any earlier entry atomically.
   *
   * @throws {RangeError} for an ID that is not a positive integer; I/O errors (disk full) as-is.
   */
  async put(id: InternalMessageId, literal: Uint8Array): Promise<void> {
    checkId(id);
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const compressed = await pipe(literal, new CompressionStream("deflate-raw"));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce, additionalData: aad(id) },
        this.#key,
        compressed,
      ),
    );
    const file = new Uint8Array(MAGIC.length + NONCE_BYTES + sealed.length);
    file.set(MAGIC, 0);
    file.set(nonce, MAGIC.length);
    file.set(sealed, MAGIC.length + NONCE_BYTES);

    const shard = shardOf(id);
    if (!this.#shards.has(shard)) {
      await Deno.mkdir(`${this.dir}/${shard}`, { recursive: true, mode: 0o700 });
      this.#shards.add(shard);
    }
    const tmp = `${this.dir}/${shard}/.${id}.${crypto.randomUUID()}.tmp`;
    try {
      await Deno.writeFile(tmp, file, { mode: 0o600 });
      await Deno.rename(tmp, this.#path(id));
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
  }

  /** The literal of a message, or `undefined` when the entry is missing or unreadable. */
  async get(id: InternalMessageId): Promise<Uint8Array | undefined> {
    try {
      checkId(id);
      const file = await Deno.readFile(this.#path(id));
      const header = MAGIC.length + NONCE_BYTES;
      if (file.length < header + TAG_BYTES) return undefined;
      if (!MAGIC.every((b, i) => file[i] === b)) return undefined;
      const compressed = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: file.subarray(MAGIC.length, header), additionalData: aad(id) },
        this.#key,
        file.subarray(header),
      );
      return await pipe(new Uint8Array(compressed), new DecompressionStream("deflate-raw"));
    } catch {
      return undefined;
    }
  }

  /** Whether an entry exists (it may still turn out unreadable). */
  async has(id: InternalMessageId): Promise<boolean> {
    try {
      checkId(id);
      return (await Deno.stat(this.#path(id))).isFile;
    } catch {
      return false;
    }
  }

  /** Drops a message's entry; no error when there is none. */
  async delete(id: InternalMessageId): Promise<void> {
    checkId(id);
    try {
      await Deno.remove(this.#path(id));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }

  /** Drops every entry (and stray temporary files), keeping the directory. */
  async clear(): Promise<void> {
    for await (const entry of Deno.readDir(this.dir)) {
      await Deno.remove(`${this.dir}/${entry.name}`, { recursive: true });
    }
    this.#shards.clear();
  }

  #path(id: InternalMessageId): string {
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

function aad(id: number): Uint8Array<ArrayBuffer> {
  const digits = new TextEncoder().encode(String(id));
  const out = new Uint8Array(MAGIC.length + digits.length);
  out.set(MAGIC, 0);
  out.set(digits, MAGIC.length);
  return out;
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

async function pipe(
  data: Uint8Array,
  transform: CompressionStream | DecompressionStream,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = ReadableStream.from([data as Uint8Array<ArrayBuffer>]).pipeThrough(transform);
  return new Uint8Array(await new Response(out).arrayBuffer());
}
