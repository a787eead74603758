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
 *   [--profile]    # CPU profile of this process's main thread during the sync (top functions)
 *   [--profile-out FILE]   # also write it as FILE (Chrome DevTools .cpuprofile)
 *   [--no-raw]     # skip the raw decrypt+build measurement
 *   [--memory-trace]   # RSS and the main thread's heap every 2 s of the sync
 *   [--memory]     # what the peak is made of: peaks of the main thread's heap and external memory
 *   [--soft-limit-mb 240]   # the sync's soft memory limit (0: off), as `sync.memory_soft_limit_mb`
 * ```
 *
 * Run it with the product's V8 flags, `--v8-flags=--max-semi-space-size=4,--expose-gc` (what `deno
 * task demo`, `deno task compile` and the bundle launcher use): without `--expose-gc` the soft
 * memory limit (`src/sync/heap_governor.ts`) cannot act, and the output says so.
 *
 * `--memory` samples `Deno.memoryUsage()` every 10 ms during the sync (the peak RSS keeps its
 * 50 ms sampler) and prints the peaks of `heapUsed`, `heapTotal` (V8's committed heap of the main
 * thread) and `external` (ArrayBuffer memory, allocated with malloc), the mean RSS, and the garbage
 * V8 promoted per message: the sum of the rises of `heapUsed` and of `external` between two
 * mark-compacts (a fall of more than 10 MB), divided by the messages synced. Objects that live
 * through two young collections (in-flight downloads, builds, results waiting for their batch)
 * are promoted and freed only by the next mark-compact, so that figure and the frequency of
 * mark-compacts set the peaks.
 *
 * Besides the rates it prints the CPU time (user + system, from `/proc`) of this process and of
 * the server process during the sync, per message: on a 2-core machine the sum is what bounds
 * the rate once both cores are busy.
 *
 * Targets (issue 3, on a 2-core machine): ≥ 400 messages/s, ≥ 0.7 of raw, peak RSS ≤ 300 MB.
 *
 * @module
 */
import { Session } from "node:inspector";
import { loadavg } from "node:os";
import { getAttachment, getMessage, type Message } from "../src/api/mod.ts";
import { BuildPool, HeapGovernor, runInitialSync, syncApiFor } from "../src/sync/mod.ts";
import { SCHEMA } from "../src/config/schema.ts";
import { loginTo, tempIndex } from "../src/sync/_sync_test_utils.ts";
import { getAllMessageIDs } from "../src/api/mod.ts";
import { scriptArgs, usageError } from "./_script_args.ts";

const EMAIL = "bench@example.test";
const PASSWORD = "bench-password";

const fail: (message: string) => never = usageError("bench_sync");
const values = scriptArgs("bench_sync", {
  messages: { type: "string" },
  workers: { type: "string" },
  inline: { type: "string" },
  "per-worker": { type: "string" },
  "budget-mb": { type: "string" },
  data: { type: "string" },
  json: { type: "boolean" },
  profile: { type: "boolean" },
  "profile-out": { type: "string" },
  "no-raw": { type: "boolean" },
  "memory-trace": { type: "boolean" },
  memory: { type: "boolean" },
  "soft-limit-mb": { type: "string" },
});

const N = Number(values.messages ?? "10000");
if (!Number.isInteger(N) || N < 1) fail("--messages must be a positive integer");
const workers = values.workers === undefined ? undefined : Number(values.workers);
const budgetMb = Number(values["budget-mb"] ?? "64");
const softLimitMiB = Number(
  values["soft-limit-mb"] ?? SCHEMA.sync.keys.memory_soft_limit_mb.default,
);
if (!Number.isFinite(softLimitMiB) || softLimitMiB < 0) fail("--soft-limit-mb must be ≥ 0");
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
  pool = await BuildPool.create({
    keys: account.addressKeys,
    workers,
    inline: values.inline === undefined ? undefined : Number(values.inline),
    perWorker: values["per-worker"] === undefined ? undefined : Number(values["per-worker"]),
  });
  log(`build pool: ${pool.size} workers`);
  // Warm the freshly started server up (its JIT), as a long-running API server would be.
  const warm = (await getAllMessageIDs(client)).slice(0, 50);
  for (const id of warm) await getMessage(client, id);
  const loadBefore = loadavg()[0];

  // 1. The first sync.
  const profiler = values.profile || values["profile-out"] ? await startProfiler() : undefined;
  const cpuBefore = { self: cpuSeconds("self"), server: cpuSeconds(String(server.process.pid)) };
  const threadsBefore = threadCpu();
  let peakRss = Deno.memoryUsage().rss;
  const rssBefore = peakRss;
  const trace: string[] = [];
  let lastTrace = 0;
  const sampler = setInterval(() => {
    const m = Deno.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    if (values["memory-trace"] && performance.now() - lastTrace > 2000) {
      lastTrace = performance.now();
      trace.push(
        `  rss ${mb(m.rss)} MB, main heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MB, ` +
          `external ${mb(m.external)} MB`,
      );
    }
  }, 50);
  const memory = values.memory ? watchMemory() : undefined;
  let lastLog = 0;
  const heap = new HeapGovernor({ softLimitBytes: softLimitMiB * 1024 * 1024 });
  const sync = await runInitialSync({
    api: syncApiFor(client),
    store: index.store,
    cache: index.cache,
    builder: pool,
    throttle,
    account: EMAIL,
    memoryBudget: budgetMb * 1024 * 1024,
    heap,
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
  const memoryFigures = memory?.stop(sync.built);
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  const cpuAfter = { self: cpuSeconds("self"), server: cpuSeconds(String(server.process.pid)) };
  const threads = threadCpuDelta(threadsBefore, threadCpu(), sync.built);
  const profile = profiler ? await profiler.stop() : undefined;
  const syncRate = sync.built / sync.seconds;
  log(`sync: ${sync.built} messages in ${sync.seconds.toFixed(2)} s`);
  for (const line of trace) log(line);
  const perMessageMs = (a: Cpu, b: Cpu) => ({
    user: round((b.user - a.user) * 1000 / Math.max(1, sync.built)),
    system: round((b.system - a.system) * 1000 / Math.max(1, sync.built)),
  });
  const cpu = {
    syncProcess: perMessageMs(cpuBefore.self, cpuAfter.self),
    server: perMessageMs(cpuBefore.server, cpuAfter.server),
  };

  // 2. Raw decrypt + build on the same pool.
  const ids = values["no-raw"] ? [] : await getAllMessageIDs(client);
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
  const rawRate = rawCount > 0 ? rawCount / rawSeconds : NaN;

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
    softLimit: { MiB: softLimitMiB, active: heap.active, forcedCollections: heap.forced },
    memoryMB: memoryFigures,
    cpuMsPerMessage: cpu,
    threadCpuMsPerMessage: threads,
    profile,
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
    console.log(
      heap.active
        ? `soft memory limit   ${softLimitMiB} MiB: ${heap.forced} forced collections`
        : `soft memory limit   off (${
          softLimitMiB === 0 ? "--soft-limit-mb 0" : "run with --v8-flags=…,--expose-gc"
        })`,
    );
    if (memoryFigures) {
      const m = memoryFigures;
      console.log(
        `memory peaks        heap used ${m.peakHeapUsed} MB, heap committed ${m.peakHeapTotal} MB, ` +
          `external ${m.peakExternal} MB; mean RSS ${m.meanRss} MB`,
      );
      console.log(
        `  promoted/message  heap ${m.promotedHeapKBPerMessage} KB, external ` +
          `${m.promotedExternalKBPerMessage} KB (${m.markCompacts} mark-compacts)`,
      );
    }
    console.log(
      `CPU ms/message      sync process ${cpu.syncProcess.user} user + ${cpu.syncProcess.system} sys, ` +
        `server ${cpu.server.user} user + ${cpu.server.system} sys`,
    );
    console.log(
      `  by thread         ${
        Object.entries(threads).map(([name, ms]) => `${name} ${ms}`).join(", ")
      }`,
    );
    if (profile) {
      console.log(
        `main thread busy    ${profile.busyMs} ms of ${Math.round(sync.seconds * 1000)} ms`,
      );
      for (const f of profile.functions) {
        console.log(`  ${String(f.ms).padStart(6)} ms ${String(f.share).padStart(5)} %  ${f.name}`);
      }
    }
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

/**
 * Samples `Deno.memoryUsage()` every 10 ms until `stop`: peaks, mean RSS, and the garbage promoted
 * per message (see the module notes).
 */
function watchMemory() {
  const peak = { heapUsed: 0, heapTotal: 0, external: 0 };
  let rssSum = 0;
  let samples = 0;
  const heap = rises();
  const external = rises();
  const sample = () => {
    const m = Deno.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
    peak.external = Math.max(peak.external, m.external);
    rssSum += m.rss;
    samples++;
    heap.add(m.heapUsed);
    external.add(m.external);
  };
  const timer = setInterval(sample, 10);
  sample();
  return {
    stop(messages: number) {
      sample();
      clearInterval(timer);
      const perMessage = (bytes: number) => round(bytes / 1000 / Math.max(1, messages));
      return {
        peakHeapUsed: mb(peak.heapUsed),
        peakHeapTotal: mb(peak.heapTotal),
        peakExternal: mb(peak.external),
        meanRss: mb(rssSum / samples),
        promotedHeapKBPerMessage: perMessage(heap.total()),
        promotedExternalKBPerMessage: perMessage(external.total()),
        markCompacts: heap.falls(),
      };
    },
  };
}

/** Sums the rises of a sawtooth: from each low to the next high, a cycle ending in a big fall. */
function rises() {
  let low = Infinity;
  let high = -Infinity;
  let sum = 0;
  let falls = 0;
  return {
    add(value: number): void {
      if (value < high - 10e6) {
        sum += high - low;
        falls++;
        low = high = value;
      }
      low = Math.min(low, value);
      high = Math.max(high, value);
    },
    total: () => sum + Math.max(0, high - low),
    falls: () => falls,
  };
}

interface Cpu {
  user: number;
  system: number;
}

/** User and system CPU seconds of a process (`self` or a PID) from `/proc`; zeros elsewhere. */
function cpuSeconds(pid: string): Cpu {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5) (utime, stime), counted from the state field (3).
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** CPU seconds (user + system) of each thread of this process, by thread ID, with its name. */
function threadCpu(): Map<string, { name: string; seconds: number }> {
  const out = new Map<string, { name: string; seconds: number }>();
  try {
    for (const task of Deno.readDirSync("/proc/self/task")) {
      try {
        const stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out.set(task.name, { name, seconds: (Number(fields[11]) + Number(fields[12])) / 100 });
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    // Not Linux.
  }
  return out;
}

/**
 * CPU ms per message spent by each kind of thread between two samples: `main` (the sync's
 * JavaScript thread), the build workers, and the rest grouped by thread name (tokio: HTTP and
 * async file/crypto ops; V8: GC and compiler helpers).
 */
function threadCpuDelta(
  before: Map<string, { name: string; seconds: number }>,
  after: Map<string, { name: string; seconds: number }>,
  messages: number,
): Record<string, number> {
  const groups = new Map<string, number>();
  const self = String(Deno.pid);
  for (const [tid, t] of after) {
    const spent = t.seconds - (before.get(tid)?.seconds ?? 0);
    if (spent <= 0) continue;
    const group = tid === self ? "main" : t.name.replace(/[-_ #]?\d+$/, "");
    groups.set(group, (groups.get(group) ?? 0) + spent);
  }
  return Object.fromEntries(
    [...groups].sort((a, b) => b[1] - a[1]).map((
      [name, seconds],
    ) => [name, round(seconds * 1000 / Math.max(1, messages))]),
  );
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A sampling CPU profile of this process's main thread (node:inspector). */
async function startProfiler() {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(
        method,
        params ?? {},
        (err: unknown, res: unknown) => err ? reject(err) : resolve(res),
      )
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
  return {
    async stop() {
      const { profile } = await post("Profiler.stop") as {
        profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
      };
      session.disconnect();
      if (values["profile-out"]) {
        await Deno.writeTextFile(values["profile-out"], JSON.stringify(profile));
      }
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const functions = new Map<string, number>();
      let busy = 0;
      for (let i = 0; i < profile.samples.length; i++) {
        const node = byId.get(profile.samples[i]);
        const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
        if (!node || node.callFrame.functionName === "(idle)") continue;
        busy += ms;
        const url = node.callFrame.url;
        const at = url.indexOf("/src/");
        const where = at >= 0 ? url.slice(at + 1) : url.split("/").slice(-2).join("/");
        const name = `${node.callFrame.functionName || "(anonymous)"} ${where}:${
          node.callFrame.lineNumber + 1
        }`;
        functions.set(name, (functions.get(name) ?? 0) + ms);
      }
      return {
        busyMs: Math.round(busy),
        functions: [...functions].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([name, ms]) => ({
          name,
          ms: Math.round(ms),
          share: Math.round((ms / busy) * 1000) / 10,
        })),
      };
    },
  };
}

function mb(bytes: number): number {
  return Math.round(bytes / 1e6);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
