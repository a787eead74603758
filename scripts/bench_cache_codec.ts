/**
 * What opening the literal cache costs per byte on this machine, codec by codec: the floor under
 * `UID FETCH 1:* BODY.PEEK[]` for a cache that is compressed and encrypted at rest.
 *
 * Reads every file of a directory of RFC 822 literals (the Maildir `scripts/bench_imap.ts --keep`
 * leaves under `dovecot/maildir/cur` holds exactly the literals bridge serves), then times, single
 * threaded and in memory (no disk, no sockets), over all of them:
 *
 * - compression and decompression with the cache's codec (`compressLiteral` and
 *   `decompressLiteral`: zstd level 1) and with the one it used before 2026-11-29 (deflate-raw
 *   level 2, `deflateRawSync` and `inflateRawSync`);
 * - AES-256-GCM decryption (the cache's cipher) with `node:crypto`, of the compressed entries and
 *   of the plain literals, and with WebCrypto one call at a time and all calls at once;
 * - AES-256-CTR and ChaCha20-Poly1305 with `node:crypto`, for comparison;
 * - copying the bytes once (`slice`), the cost of touching them at all.
 *
 * Each figure is the best of `--repeat` rounds (default 3); MB is the plaintext for compression and
 * decompression and the ciphertext for decryption. Compare the sum of the cache format's
 * two steps with the time Dovecot takes to send the same literals (`bench_imap.ts`).
 *
 * ```sh
 * deno run -A scripts/bench_cache_codec.ts --dir /tmp/bench_imap_…/dovecot/maildir/cur [--repeat 3]
 * ```
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import * as zlib from "node:zlib";
import { scriptArgs, usageError } from "./_script_args.ts";
import { compressLiteral, decompressLiteral } from "../src/store/mod.ts";

const fail: (message: string) => never = usageError("bench_cache_codec");
const values = scriptArgs("bench_cache_codec", {
  dir: { type: "string" },
  repeat: { type: "string" },
});
if (!values.dir) fail("--dir DIR (a directory of RFC 822 literal files) is required");
const repeat = Number(values.repeat ?? "3");
if (!Number.isInteger(repeat) || repeat < 1) fail("--repeat must be a positive integer");

const files: Uint8Array[] = [];
for (const entry of Deno.readDirSync(values.dir)) {
  if (entry.isFile) files.push(Deno.readFileSync(`${values.dir}/${entry.name}`));
}
if (files.length === 0) fail(`no files in ${values.dir}`);
const sum = (parts: readonly Uint8Array[]) => parts.reduce((n, p) => n + p.length, 0);
const plainBytes = sum(files);

const deflated = files.map((f) => new Uint8Array(zlib.deflateRawSync(f, { level: 2 })));
const compressed = files.map(compressLiteral);

const key = new Uint8Array(randomBytes(32));
interface Sealed {
  iv: Uint8Array;
  data: Uint8Array;
  tag: Uint8Array | null;
}
function seal(algorithm: string, bytes: Uint8Array, ivLength: number): Sealed {
  const iv = randomBytes(ivLength);
  const c = createCipheriv(algorithm, key, iv, { authTagLength: 16 } as never);
  const data = new Uint8Array(Buffer.concat([c.update(bytes), c.final()]));
  const tag = algorithm.endsWith("ctr") ? null : (c as unknown as { getAuthTag(): Buffer })
    .getAuthTag();
  return { iv, data, tag };
}
function open(algorithm: string, s: Sealed): number {
  const d = createDecipheriv(algorithm, key, s.iv, { authTagLength: 16 } as never);
  if (s.tag) (d as unknown as { setAuthTag(t: Uint8Array): void }).setAuthTag(s.tag);
  const out = d.update(s.data);
  d.final();
  return out.length;
}
const gcmCompressed = compressed.map((d) => seal("aes-256-gcm", d, 12));
const gcmPlain = files.map((f) => seal("aes-256-gcm", f, 12));
const ctrPlain = files.map((f) => seal("aes-256-ctr", f, 16));
const chachaPlain = files.map((f) => seal("chacha20-poly1305", f, 12));
const webKey = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
const webCompressed = await Promise.all(compressed.map(async (d) => {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = d as Uint8Array<ArrayBuffer>;
  return { iv, data: await crypto.subtle.encrypt({ name: "AES-GCM", iv }, webKey, plain) };
}));

interface Case {
  name: string;
  bytes: number;
  run: () => Promise<void> | void;
}
const cases: Case[] = [
  {
    name: "compressLiteral (zstd level 1, the cache)",
    bytes: plainBytes,
    run: () => void files.forEach(compressLiteral),
  },
  {
    name: "deflateRawSync (level 2, before 11-29)",
    bytes: plainBytes,
    run: () => void files.forEach((f) => zlib.deflateRawSync(f, { level: 2 })),
  },
  {
    name: "decompressLiteral (zstd level 1, the cache)",
    bytes: plainBytes,
    run: () => void compressed.forEach(decompressLiteral),
  },
  {
    name: "inflateRawSync (level 2, before 11-29)",
    bytes: plainBytes,
    run: () => void deflated.forEach((d) => zlib.inflateRawSync(d)),
  },
  {
    name: "AES-256-GCM node:crypto, compressed",
    bytes: sum(compressed),
    run: () => void gcmCompressed.forEach((s) => open("aes-256-gcm", s)),
  },
  {
    name: "AES-256-GCM WebCrypto, compressed, 1 at a time",
    bytes: sum(compressed),
    run: async () => {
      for (const s of webCompressed) {
        await crypto.subtle.decrypt({ name: "AES-GCM", iv: s.iv }, webKey, s.data);
      }
    },
  },
  {
    name: "AES-256-GCM WebCrypto, compressed, all at once",
    bytes: sum(compressed),
    run: async () =>
      void await Promise.all(
        webCompressed.map((s) =>
          crypto.subtle.decrypt({ name: "AES-GCM", iv: s.iv }, webKey, s.data)
        ),
      ),
  },
  {
    name: "AES-256-GCM node:crypto, plain",
    bytes: plainBytes,
    run: () => void gcmPlain.forEach((s) => open("aes-256-gcm", s)),
  },
  {
    name: "AES-256-CTR node:crypto, plain",
    bytes: plainBytes,
    run: () => void ctrPlain.forEach((s) => open("aes-256-ctr", s)),
  },
  {
    name: "ChaCha20-Poly1305 node:crypto, plain",
    bytes: plainBytes,
    run: () => void chachaPlain.forEach((s) => open("chacha20-poly1305", s)),
  },
  { name: "copy once (slice)", bytes: plainBytes, run: () => void files.forEach((f) => f.slice()) },
];

const mb = (n: number) => (n / 1e6).toFixed(1);
console.log(
  `${files.length} literals, ${mb(plainBytes)} MB; zstd level 1 ${mb(sum(compressed))} MB, ` +
    `deflate level 2 ${mb(sum(deflated))} MB; best of ${repeat}; load ${loadavg()[0].toFixed(2)}`,
);
console.log(
  `${"step".padEnd(48)} ${"ms".padStart(8)} ${"MB".padStart(7)} ${"MB/s".padStart(7)}`,
);
for (const c of cases) {
  let best = Infinity;
  for (let r = 0; r < repeat; r++) {
    const t = performance.now();
    await c.run();
    best = Math.min(best, performance.now() - t);
  }
  console.log(
    `${c.name.padEnd(48)} ${best.toFixed(1).padStart(8)} ${mb(c.bytes).padStart(7)} ${
      (c.bytes / 1e3 / best).toFixed(0).padStart(7)
    }`,
  );
}
console.log(`load ${loadavg()[0].toFixed(2)} at the end`);
