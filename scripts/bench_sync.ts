/**
 * First-sync benchmark. Starts the reference server in its own process (`main.ts api-server
 * --json --seed … --seed-messages N`, the seed's realistic size mix), then in this process:
 *
 * 1. a complete first sync into a fresh index (store + encrypted literal cache) on a
 *    `BuildPool` with one worker per core: messages/s, MB/s (literal bytes written, and bytes
 *    downloaded), peak RSS of this process (`Deno.memoryUsage().rss`, sampled every 50 ms, worker
 *    threads included);
 * 2. the raw decrypt + build throughput of this machine for the same messages on the same pool:
 *    every message and attachment downloaded into memory first (in chunks of 1,000 to keep the
 *    memory of the measurement itself bounded), then only `pool.build` timed;
 * 3. the ratio sync / raw.
 *
 * ```sh
 * deno run -A scripts/bench_sync.ts [--messages 10000] [--workers N] [--budget-mb 64] [--json]
 *   [--data DIR]   # keep the server's data in DIR: later runs skip seeding
 * ```
 *
 * Targets (issue 3, on a 2-core machine): ≥ 400 messages/s, ≥ 0.7 of raw, peak RSS ≤ 300 MB.
 *
 * @module
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { getAttachment, getMessage, type Message } from "../src/api/mod.ts";
import { BuildPool, runInitialSync, syncApiFor } from "../src/sync/mod.ts";
import { loginTo, tempIndex } from "../src/sync/_sync_test_utils.ts";
import { getAllMessageIDs } from "../src/api/mod.ts";

const EMAIL = "bench@example.test";
const PASSWORD = "bench-password";

function fail(message: string): never {
  console.error(`bench_sync: ${message}`);
  Deno.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        messages: { type: "string" },
        workers: { type: "string" },
        "budget-mb": { type: "string" },
        data: { type: "string" },
        json: { type: "boolean" },
      },
      strict: true,
    });
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
})();

const N = Number(values.messages ?? "10000");
if (!Number.isInteger(N) || N < 1) fail("--messages must be a positive integer");
const workers = values.workers === undefined ? undefined : Number(values.workers);
const budgetMb = Number(values["budget-mb"] ?? "64");
const log = (s: string) => {
  if (!values.json) console.error(s);
};

/** Starts `main.ts api-server` and returns its URL and modulus key. */
async function startServer(): Promise<
  { url: string; modulusKey: string; process: Deno.ChildProcess; seedSeconds: number }
> {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const args = [
    "run",
    "-A",
    "--config",
    config,
    main,
    "api-server",
    "--json",
    "--seed",
    `${EMAIL}:${PASSWORD}`,
    "--seed-messages",
    String(N),
  ];
  if (values.data) args.push("--data", values.data);
  const started = performance.now();
  const process = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" })
    .spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) fail("the api-server exited before printing its address");
    text += value;
  }
  reader.releaseLock();
  const info = JSON.parse(text.slice(0, text.indexOf("\n")));
  return {
    url: info.url,
    modulusKey: info.modulusKey,
    process,
    seedSeconds: (performance.now() - started) / 1000,
  };
}

const server = await startServer();
log(`server ready in ${server.seedSeconds.toFixed(1)} s (seeding ${N} messages if new)`);
const index = await tempIndex();
let pool: BuildPool | undefined;
try {
  const { client, account, throttle } = await loginTo(
    server.url,
    server.modulusKey,
    EMAIL,
    PASSWORD,
  );
  pool = await BuildPool.create({ keys: account.addressKeys, workers });
  log(`build pool: ${pool.size} workers`);
  // Warm the freshly started server up (its JIT), as a long-running API server would be.
  const warm = (await getAllMessageIDs(client)).slice(0, 50);
  for (const id of warm) await getMessage(client, id);
  const loadBefore = loadavg()[0];

  // 1. The first sync.
  let peakRss = Deno.memoryUsage().rss;
  const rssBefore = peakRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  }, 50);
  let lastLog = 0;
  const sync = await runInitialSync({
    api: syncApiFor(client),
    store: index.store,
    cache: index.cache,
    builder: pool,
    throttle,
    account: EMAIL,
    memoryBudget: budgetMb * 1024 * 1024,
    reporter: {
      progress(p) {
        if (performance.now() - lastLog > 2000 || p.phase === "done") {
          lastLog = performance.now();
          log(`  ${p.phase} ${p.done}/${p.total} ${Math.round(p.rate)} msg/s`);
        }
      },
    },
  });
  clearInterval(sampler);
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  const syncRate = sync.built / sync.seconds;
  log(`sync: ${sync.built} messages in ${sync.seconds.toFixed(2)} s`);

  // 2. Raw decrypt + build on the same pool.
  const ids = await getAllMessageIDs(client);
  let rawSeconds = 0;
  let rawBytes = 0;
  let rawCount = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const downloaded: { message: Message; data: Map<string, Uint8Array> }[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < chunk.length) {
        const id = chunk[next++];
        const message = await getMessage(client, id);
        const data = new Map<string, Uint8Array>();
        for (const a of message.Attachments) data.set(a.ID, await getAttachment(client, a.ID));
        downloaded.push({ message, data });
      }
    }));
    const t0 = performance.now();
    const outputs = await Promise.all(downloaded.map((d) => pool!.build(d.message, d.data)));
    rawSeconds += (performance.now() - t0) / 1000;
    rawCount += outputs.length;
    for (const o of outputs) rawBytes += o.literal.length;
  }
  const rawRate = rawCount / rawSeconds;

  const figures = {
    date: new Date().toISOString(),
    messages: N,
    workers: pool.size,
    cores: navigator.hardwareConcurrency,
    memoryBudgetMB: budgetMb,
    sync: {
      seconds: round(sync.seconds),
      messagesPerSecond: round(syncRate),
      literalMBPerSecond: round(sync.literalBytes / 1e6 / sync.seconds),
      downloadedMBPerSecond: round(sync.downloadedBytes / 1e6 / sync.seconds),
      literalMB: round(sync.literalBytes / 1e6),
      downloadedMB: round(sync.downloadedBytes / 1e6),
      failed: sync.failed,
      peakBudgetMB: round(sync.peakBudgetBytes / 1e6),
      throttleBackoffs: throttle.backoffs,
    },
    raw: {
      seconds: round(rawSeconds),
      messagesPerSecond: round(rawRate),
      literalMBPerSecond: round(rawBytes / 1e6 / rawSeconds),
    },
    ratio: round(syncRate / rawRate),
    loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0]) },
    rssMB: { beforeSync: round(rssBefore / 1e6), peakDuringSync: round(peakRss / 1e6) },
  };
  if (values.json) console.log(JSON.stringify(figures));
  else {
    console.log(
      `messages            ${N} (${figures.workers} build workers, ${figures.cores} cores)`,
    );
    console.log(
      `first sync          ${figures.sync.seconds} s, ${figures.sync.messagesPerSecond} msg/s, ` +
        `${figures.sync.literalMBPerSecond} MB/s literals, ${figures.sync.downloadedMBPerSecond} MB/s downloaded`,
    );
    console.log(
      `raw decrypt+build   ${figures.raw.seconds} s, ${figures.raw.messagesPerSecond} msg/s, ` +
        `${figures.raw.literalMBPerSecond} MB/s`,
    );
    console.log(`sync / raw          ${figures.ratio}`);
    console.log(
      `load average (1 m)  ${figures.loadAverage1m.before} before, ${figures.loadAverage1m.after} after`,
    );
    console.log(
      `peak RSS            ${figures.rssMB.peakDuringSync} MB (before sync ${figures.rssMB.beforeSync} MB)`,
    );
  }
} finally {
  pool?.close();
  await index.cleanup();
  try {
    server.process.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await server.process.status;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
