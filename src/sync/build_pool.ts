/**
 * Decrypt + build on Worker threads and on the calling thread. openpgp.js decryption and the MIME
 * builder are CPU-bound, so this is what lets the first sync use every core while the main thread
 * downloads and writes the index.
 *
 * Defaults (docs/BENCHMARKS.md): **two cores are left to the calling thread** and everything a
 * sync runs beside it (the V8 GC and compiler threads, Deno's I/O and WebCrypto threads, the
 * SQLite writes), and every core beyond them gets a worker: `navigator.hardwareConcurrency - 2`
 * workers, so none on a 2-core machine, where the pool builds on the calling thread. Each worker
 * takes up to 4 messages at a time (one waiting for WebCrypto while another computes), and once
 * every worker is full the calling thread builds one message at a time itself. On a shared
 * 2-core VM (docs/BENCHMARKS.md, 10,000 messages), building on the main thread took 25–30 % less
 * CPU per message than two workers and half the peak memory (300 against 560 MB), for about 10 %
 * less throughput when the second core was free; one worker plus the main thread was slower than
 * both. Another V8 isolate costs its own heap and JIT warm-up, and openpgp.js already hands its
 * X25519 and AES key unwrapping to Deno's threads.
 *
 * Keys reach the workers re-locked: {@link BuildPool.create} draws a random passphrase for this
 * pool only, locks each unlocked address key with it and posts the armored locked keys and the
 * passphrase; nothing is logged or written anywhere. With `workers: 0` the pool builds on the
 * calling thread (tests, tiny syncs, or a platform without workers).
 *
 * {@link BuildPool.build} never rejects: a worker that dies (e.g. out of memory) is replaced and
 * its messages are retried once on the new worker, then built as failed placeholders.
 *
 * @module
 */
import type { Message } from "../api/mod.ts";
import * as openpgp from "openpgp";
import { type KeyRing, toBase64 } from "../crypto/mod.ts";
import type { LockedAddressKeys, WorkerReply, WorkerRequest } from "./build_worker.ts";
import {
  type AttachmentData,
  buildFromApi,
  type BuildOptions,
  type BuildOutput,
  failedBuild,
  withCompressed,
} from "./message_build.ts";

/** Options of {@link BuildPool.create}. */
export interface BuildPoolOptions {
  /** Unlocked keys per address ID (`UnlockedAccount.addressKeys`). */
  keys: ReadonlyMap<string, KeyRing>;
  /** Worker threads; default one per core beyond two; 0 builds on the calling thread. */
  workers?: number;
  /** Messages a worker works on at once (default 4). */
  perWorker?: number;
  /**
   * Messages the calling thread builds at once when every worker is full (default 1; ignored
   * with `workers: 0`, where the calling thread builds everything).
   */
  inline?: number;
}

interface Job {
  seq: number;
  message: Message;
  attachments: [string, Uint8Array][];
  compress: boolean;
  resolve: (output: BuildOutput) => void;
  attempts: number;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  jobs: Map<number, Job>;
}

/** A pool of build workers. Create with {@link BuildPool.create}; {@link BuildPool.close} ends it. */
export class BuildPool {
  readonly #keys: ReadonlyMap<string, KeyRing>;
  readonly #perWorker: number;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #seq = 0;
  #closed = false;
  #init?: WorkerRequest & { type: "init" };
  readonly #inline: number;
  #inlineRunning = 0;
  #builtInline = 0;

  private constructor(keys: ReadonlyMap<string, KeyRing>, perWorker: number, inline: number) {
    this.#keys = keys;
    this.#perWorker = perWorker;
    this.#inline = inline;
  }

  /** Starts the workers and hands them the keys; resolves once every worker is ready. */
  static async create(options: BuildPoolOptions): Promise<BuildPool> {
    const cores = typeof navigator !== "undefined" && navigator.hardwareConcurrency > 0
      ? navigator.hardwareConcurrency
      : 2;
    const count = Math.max(0, Math.floor(options.workers ?? cores - 2));
    const pool = new BuildPool(
      options.keys,
      Math.max(1, Math.floor(options.perWorker ?? 4)),
      Math.max(0, Math.floor(options.inline ?? 1)),
    );
    if (count === 0) return pool;
    pool.#init = await initRequest(options.keys);
    for (let i = 0; i < count; i++) pool.#slots.push(pool.#spawn());
    try {
      await Promise.all(pool.#slots.map((s) => s.ready));
    } catch (e) {
      pool.close();
      throw e;
    }
    return pool;
  }

  /** Worker threads (0: building on the calling thread). */
  get size(): number {
    return this.#slots.length;
  }

  /** Messages built on the calling thread beside the workers so far (see `inline`). */
  get builtInline(): number {
    return this.#builtInline;
  }

  /** Messages handed to workers or waiting for one. */
  get pending(): number {
    return this.#queue.length + this.#inlineRunning +
      this.#slots.reduce((n, s) => n + s.jobs.size, 0);
  }

  /**
   * Decrypts and builds one message (see `message_build.ts`); with `compress`, the worker also
   * compresses the literal for the cache. Never rejects; after {@link close} it answers with a
   * failed placeholder.
   */
  build(
    message: Message,
    attachments: AttachmentData,
    options?: BuildOptions,
  ): Promise<BuildOutput> {
    if (this.#closed) return Promise.resolve(failedBuild(message, "build pool closed"));
    if (this.#slots.length === 0) {
      return buildFromApi(message, attachments, this.#keys.get(String(message?.AddressID ?? "")))
        .then((output) => withCompressed(output, options));
    }
    return new Promise((resolve) => {
      this.#queue.push({
        seq: ++this.#seq,
        message,
        attachments: [...attachments],
        compress: options?.compress === true,
        resolve,
        attempts: 0,
      });
      this.#dispatch();
    });
  }

  /**
   * Hands the workers the keys of the map given to {@link create} again, after the caller changed
   * it in place (an address was added or its keys changed). Builds on the calling thread see the
   * map at once; builds posted to a worker after this call wait until it has the new keys.
   */
  async refreshKeys(): Promise<void> {
    if (this.#closed || this.#slots.length === 0) return;
    this.#init = await initRequest(this.#keys);
    if (this.#closed) return;
    for (const slot of this.#slots) slot.worker.postMessage(this.#init);
  }

  /** Stops the workers; queued and running builds answer with failed placeholders. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) {
      slot.worker.terminate();
      for (const job of slot.jobs.values()) {
        job.resolve(failedBuild(job.message, "build pool closed"));
      }
      slot.jobs.clear();
    }
    for (const job of this.#queue) job.resolve(failedBuild(job.message, "build pool closed"));
    this.#queue = [];
    this.#slots = [];
  }

  #spawn(): Slot {
    // In the single-file build (`deno task bundle`) this module is dist/bridge.js and the worker
    // is bundled beside it as dist/build_worker.js.
    const script = import.meta.url.endsWith(".js") ? "./build_worker.js" : "./build_worker.ts";
    const worker = new Worker(new URL(script, import.meta.url), { type: "module" });
    let ready!: () => void;
    let failed!: (e: Error) => void;
    const slot: Slot = {
      worker,
      jobs: new Map(),
      ready: new Promise<void>((res, rej) => {
        ready = res;
        failed = rej;
      }),
    };
    slot.ready.catch(() => {});
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.type === "ready") {
        ready();
        this.#dispatch();
        return;
      }
      const job = slot.jobs.get(reply.seq);
      if (!job) return;
      slot.jobs.delete(reply.seq);
      job.resolve(reply.output);
      this.#dispatch();
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      failed(new Error(`build worker failed: ${event.message}`));
      this.#replace(slot);
    };
    worker.postMessage(this.#init!);
    return slot;
  }

  /** A worker died: start another one and retry its jobs once. */
  #replace(slot: Slot): void {
    slot.worker.terminate();
    const index = this.#slots.indexOf(slot);
    if (index < 0 || this.#closed) return;
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    this.#slots[index] = this.#spawn();
    for (const job of jobs) {
      if (++job.attempts > 1) {
        job.resolve(failedBuild(job.message, "the build worker stopped while building it"));
      } else {
        this.#queue.unshift(job);
      }
    }
    this.#dispatch();
  }

  /** Builds one queued job on the calling thread (when the workers are all busy). */
  #runInline(job: Job): void {
    this.#inlineRunning++;
    const ring = this.#keys.get(String(job.message?.AddressID ?? ""));
    buildFromApi(job.message, new Map(job.attachments), ring)
      .then((output) => withCompressed(output, { compress: job.compress }))
      .catch((e) => failedBuild(job.message, e instanceof Error ? e.message : String(e)))
      .then((output) => {
        this.#inlineRunning--;
        this.#builtInline++;
        job.resolve(output);
        if (!this.#closed) this.#dispatch();
      });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let best: Slot | undefined;
      for (const slot of this.#slots) {
        if (slot.jobs.size >= this.#perWorker) continue;
        if (!best || slot.jobs.size < best.jobs.size) best = slot;
      }
      if (!best) {
        if (this.#inlineRunning < this.#inline) this.#runInline(this.#queue.shift()!);
        else return;
        continue;
      }
      const job = this.#queue.shift()!;
      best.jobs.set(job.seq, job);
      const request: WorkerRequest = {
        type: "build",
        seq: job.seq,
        message: job.message,
        attachments: job.attachments,
        compress: job.compress,
      };
      best.worker.postMessage(request);
    }
  }
}

/** The `init` message for workers: every address's keys, locked with a fresh passphrase. */
async function initRequest(
  keys: ReadonlyMap<string, KeyRing>,
): Promise<WorkerRequest & { type: "init" }> {
  const passphrase = toBase64(crypto.getRandomValues(new Uint8Array(32)));
  const addresses: LockedAddressKeys[] = [];
  for (const [addressId, ring] of keys) {
    const armored: string[] = [];
    for (const key of ring.keys) armored.push(await lockForWorker(key, passphrase));
    addresses.push({ addressId, armored });
  }
  return { type: "init", passphrase, addresses };
}

/**
 * Locks a key for the trip to a worker. The passphrase is 256 random bits that exist only for
 * this pool, so S2K stretching adds nothing; the cheapest iteration count keeps each worker from
 * hashing (and holding) megabytes per key.
 */
async function lockForWorker(key: openpgp.PrivateKey, passphrase: string): Promise<string> {
  const locked = await openpgp.encryptKey({
    privateKey: key,
    passphrase,
    config: { s2kIterationCountByte: 0 },
  });
  return locked.armor();
}
