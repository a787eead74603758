/**
 * SMTP submission benchmark. Starts `bridge serve --demo --json` as a subprocess (the reference
 * API server runs inside it, with the seeded demo account), then submits messages over SMTP
 * (STARTTLS, checked against the demo's own certificate, AUTH PLAIN with the ready line's
 * password) from this process, on 1 or more connections at once:
 *
 * - the mix, the same for every run: 60 % short plain text (0.5–3 KB), 30 % HTML
 *   (multipart/alternative, 5–40 KB), 10 % plain text with a 1 MB binary attachment (1.35 MB on
 *   the wire); every other message goes to the demo user itself (an internal recipient: the
 *   reference server delivers it encrypted to the Inbox), the others to an external address
 *   without a key (a clear, signed delivery recorded in the reference server's outbox);
 * - each connection does EHLO, STARTTLS, EHLO and AUTH once, then takes the next message from a
 *   shared queue: `MAIL`, `RCPT`, `DATA`, content, one command at a time (no pipelining, as
 *   smtplib does);
 * - timed per message: the **transaction** (`MAIL` sent → `250` after the content), **DATA→250**
 *   (`DATA` sent → `250`: content upload plus the server's work) and **end→250** (the final
 *   `.` sent → `250`: the server's work alone: parse, resolve sender and recipients, keys,
 *   encrypt, upload attachments, create the draft, send);
 * - per run: messages/s (messages ÷ wall time from the first `MAIL` to the last `250`), MB/s
 *   submitted, p50/p95/max of each latency, the CPU seconds the serve process used (bridge and
 *   the in-process reference server, from `/proc`), and the 1-minute load average before and
 *   after (the machine may be shared).
 *
 * A few warm-up messages (not counted) go first on one connection. At the end the reference
 * server's outbox is checked: one delivery per message sent to the external address.
 *
 * ```sh
 * deno run -A scripts/bench_smtp.ts [--messages 200] [--concurrency 1,4] [--warmup 5] [--json]
 *   [--profile]
 * ```
 *
 * `--concurrency` takes a comma-separated list: one run per value, one after the other against
 * the same serve process, `--messages` each. `--profile` starts serve with `--inspect` and, for
 * each run, takes a CPU profile of its main thread (self time by area and by function; the
 * inspector's own work of reporting fetches is left out) and counts the API requests serve made
 * (from the inspector's Network events); `--profile-out PREFIX` also writes each run's profile
 * to `PREFIX.<n>.cpuprofile` (Chrome DevTools format). Profiling slows serve down: its figures are for finding
 * where the time goes, not for the table.
 *
 * @module
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { scriptArgs, usageError } from "./_script_args.ts";

const EXTERNAL = "bench-external@example.org";
const enc = new TextEncoder();
const dec = new TextDecoder();

const fail: (message: string) => never = usageError("bench_smtp");
const values = scriptArgs("bench_smtp", {
  messages: { type: "string" },
  concurrency: { type: "string" },
  warmup: { type: "string" },
  profile: { type: "boolean" },
  "profile-out": { type: "string" },
  json: { type: "boolean" },
});

const N = Number(values.messages ?? "200");
if (!Number.isInteger(N) || N < 1) fail("--messages must be a positive integer");
const CONCURRENCY = (values.concurrency ?? "1").split(",").map((x) => Number(x.trim()));
if (CONCURRENCY.some((c) => !Number.isInteger(c) || c < 1 || c > 50)) {
  fail("--concurrency must be a comma-separated list of integers from 1 to 50");
}
const WARMUP = Number(values.warmup ?? "5");
if (!Number.isInteger(WARMUP) || WARMUP < 0) fail("--warmup must be a non-negative integer");
const log = (s: string) => {
  if (!values.json) console.error(s);
};

// ---------------------------------------------------------------------------------------------
// bridge serve --demo
// ---------------------------------------------------------------------------------------------

interface Serve {
  child: Deno.ChildProcess;
  smtpPort: number;
  user: string;
  password: string;
  apiUrl: string;
  certPem: string;
  home: string;
  /** The inspector's WebSocket URL (with `--profile`). */
  inspector?: string;
}

/** Starts `main.ts serve --demo --json` in a temporary home and waits for its ready line. */
async function startServe(): Promise<Serve> {
  const home = await Deno.makeTempDir({ prefix: "bench_smtp_" });
  const demoDir = join(home, "demo");
  const main = new URL("../main.ts", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("BRIDGE_")),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(values.profile ? ["--inspect=127.0.0.1:0"] : []),
      "--config",
      config,
      main,
      "serve",
      "--demo",
      "--demo-data",
      demoDir,
      "--json",
      "--imap-port",
      "0",
      "--smtp-port",
      "0",
    ],
    clearEnv: true,
    env: {
      ...env,
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_DATA_HOME: join(home, "data"),
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
    }
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  // deno-lint-ignore no-explicit-any
  let ready: any;
  while (!ready) {
    const { value, done } = await reader.read();
    if (done) fail(`bridge serve exited before it was ready:\n${stderr}`);
    text += value;
    let i;
    while ((i = text.indexOf("\n")) >= 0) {
      const line = text.slice(0, i);
      text = text.slice(i + 1);
      try {
        const event = JSON.parse(line);
        if (event.event === "ready") ready = event;
        if (event.event === "error") fail(`bridge serve: ${line}`);
      } catch {
        // not JSON: ignore
      }
    }
  }
  // Keep draining standard output so serve never blocks on it.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  // The demo logs its reference server's URL (info level) before the listeners start.
  const apiUrl = /demo: reference API server at (http:\/\/\S+)/.exec(stderr)?.[1] ?? "";
  const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
  if (values.profile && !inspector) fail("--profile: serve printed no inspector address");
  return {
    child,
    inspector,
    smtpPort: ready.smtp.port,
    user: ready.accounts[0].email,
    password: ready.accounts[0].password,
    apiUrl,
    certPem: await Deno.readTextFile(join(demoDir, "cert.pem")),
    home,
  };
}

/** User + system CPU seconds of a process so far (Linux `/proc`; 0 elsewhere). */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal SMTP client
// ---------------------------------------------------------------------------------------------

interface Reply {
  code: number;
  text: string;
}

/** One SMTP connection: replies are read line by line from a buffer. */
class SmtpClient {
  #conn: Deno.Conn;
  #buf = new Uint8Array(0);

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects, STARTTLS, AUTH PLAIN. */
  static async open(serve: Serve): Promise<SmtpClient> {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: serve.smtpPort });
    const c = new SmtpClient(tcp);
    c.#expect(await c.reply(), 220);
    c.#expect(await c.command("EHLO bench.test"), 250);
    c.#expect(await c.command("STARTTLS"), 220);
    c.#conn = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [serve.certPem] });
    c.#buf = new Uint8Array(0);
    c.#expect(await c.command("EHLO bench.test"), 250);
    const plain = btoa(`\0${serve.user}\0${serve.password}`);
    c.#expect(await c.command(`AUTH PLAIN ${plain}`), 235);
    return c;
  }

  #expect(r: Reply, code: number): void {
    if (r.code !== code) throw new Error(`expected ${code}, got ${r.code} ${r.text}`);
  }

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(0x0a);
      if (i >= 0) {
        const line = dec.decode(this.#buf.subarray(0, i)).replace(/\r$/, "");
        this.#buf = this.#buf.slice(i + 1);
        return line;
      }
      const chunk = new Uint8Array(16384);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("connection closed by the server");
      const next = new Uint8Array(this.#buf.length + n);
      next.set(this.#buf);
      next.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = next;
    }
  }

  /** Reads one (possibly multi-line) reply. */
  async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.#line();
      lines.push(line);
      if (line[3] !== "-") break;
    }
    const last = lines.at(-1)!;
    return { code: Number(last.slice(0, 3)), text: lines.join("\n") };
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  async command(line: string): Promise<Reply> {
    await this.write(enc.encode(line + "\r\n"));
    return await this.reply();
  }

  async quit(): Promise<void> {
    try {
      await this.command("QUIT");
    } catch {
      // closing anyway
    }
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The messages
// ---------------------------------------------------------------------------------------------

/** A prepared message: envelope and dot-stuffed content ending in `CRLF . CRLF`. */
interface Prepared {
  kind: "text" | "html" | "attachment";
  rcpt: string;
  data: Uint8Array;
  /** Size of the message itself (before dot-stuffing). */
  size: number;
}

/** A deterministic pseudo-random generator (xorshift32), so every run has the same mix. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " +
  "incididunt ut labore et dolore magna aliqua meeting report budget quarterly review " +
  "schedule project update thanks regards tomorrow agenda").split(" ");

function prose(rand: () => number, bytes: number): string {
  const lines: string[] = [];
  let line = "";
  let total = 0;
  while (total < bytes) {
    const w = WORDS[Math.floor(rand() * WORDS.length)];
    if (line.length + w.length + 1 > 72) {
      lines.push(line);
      total += line.length + 2;
      line = "";
    }
    line += (line ? " " : "") + w;
  }
  if (line) lines.push(line);
  return lines.join("\r\n");
}

function base64Lines(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin).replace(/.{76}/g, "$&\r\n");
}

let attachmentBytes: Uint8Array | undefined;
/** 1 MB (10^6 octets) of random data, made once. */
function attachment(): Uint8Array {
  if (!attachmentBytes) {
    attachmentBytes = new Uint8Array(1_000_000);
    for (let i = 0; i < attachmentBytes.length; i += 65536) {
      crypto.getRandomValues(attachmentBytes.subarray(i, Math.min(i + 65536, 1_000_000)));
    }
  }
  return attachmentBytes;
}

/** Message `i` of run `run` (unique Subject and Message-ID: never a duplicate of another). */
function prepare(run: string, i: number, from: string): Prepared {
  const rand = rng(i * 7919 + 17);
  const pick = i % 10;
  const kind = pick === 9 ? "attachment" : pick >= 6 ? "html" : "text";
  const rcpt = i % 2 === 0 ? from : EXTERNAL;
  const boundary = `=_bench_${run}_${i}`;
  const head = [
    `From: Demo User <${from}>`,
    `To: ${rcpt === from ? `Demo User <${from}>` : `External Friend <${EXTERNAL}>`}`,
    `Subject: Bench ${run} #${i} (${kind})`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <bench-${run}-${i}@bridge.test>`,
    "MIME-Version: 1.0",
  ];
  let body: string;
  if (kind === "text") {
    body = [
      ...head,
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 7bit",
      "",
      prose(rand, 500 + Math.floor(rand() * 2500)),
      "",
    ].join("\r\n");
  } else if (kind === "html") {
    const text = prose(rand, 2000 + Math.floor(rand() * 8000));
    const paragraphs = prose(rand, 3000 + Math.floor(rand() * 25000)).split("\r\n");
    const html = [
      "<html><body>",
      ...paragraphs.map((p) => `<p style="font-family:sans-serif">${p}</p>`),
      "</body></html>",
    ].join("\r\n");
    body = [
      ...head,
      `Content-Type: multipart/alternative; boundary="${boundary}"`,
      "",
      `--${boundary}`,
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 7bit",
      "",
      text,
      `--${boundary}`,
      "Content-Type: text/html; charset=utf-8",
      "Content-Transfer-Encoding: 7bit",
      "",
      html,
      `--${boundary}--`,
      "",
    ].join("\r\n");
  } else {
    body = [
      ...head,
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      "",
      `--${boundary}`,
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 7bit",
      "",
      prose(rand, 1000),
      `--${boundary}`,
      `Content-Type: application/octet-stream; name="data-${i}.bin"`,
      `Content-Disposition: attachment; filename="data-${i}.bin"`,
      "Content-Transfer-Encoding: base64",
      "",
      base64Lines(attachment()),
      `--${boundary}--`,
      "",
    ].join("\r\n");
  }
  const stuffed = body.replace(/\r\n\./g, "\r\n..");
  return { kind, rcpt, data: enc.encode(stuffed + ".\r\n"), size: enc.encode(body).length };
}

// ---------------------------------------------------------------------------------------------
// --profile: a CPU profile of serve's main isolate through the inspector
// ---------------------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Whether a frame is the inspector's own work (instrumenting fetch while it is attached). */
function inspectorFrame(node: ProfileNode): boolean {
  return node.callFrame.functionName === "op_inspector_emit_protocol_event" ||
    /inspector_network_bridge/.test(node.callFrame.url);
}

/** A connection to serve's inspector that takes CPU profiles of its main thread. */
class Profiler {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, (result: unknown) => void>();
  /** API requests serve made (`METHOD /path`, IDs replaced by `{id}`) since `start`. */
  #requests = new Map<string, number>();
  #saved = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.method === "Network.requestWillBeSent") {
        const req = msg.params?.request as { method: string; url: string } | undefined;
        if (req) {
          const path = new URL(req.url).pathname.replace(/\/[A-Za-z0-9_=-]{20,}/g, "/{id}");
          const key = `${req.method} ${path}`;
          this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
        }
        return;
      }
      if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg.result ?? msg.error);
      this.#pending.delete(msg.id);
    };
  }

  static async connect(url: string): Promise<Profiler> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot connect to the inspector at ${url}`));
    });
    const p = new Profiler(ws);
    await p.call("Profiler.enable");
    await p.call("Profiler.setSamplingInterval", { interval: 500 });
    // Fetches are reported as Network events while an inspector is attached: count them.
    await p.call("Network.enable").catch(() => {});
    return p;
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    const done = new Promise<unknown>((r) => this.#pending.set(id, r));
    this.#ws.send(JSON.stringify({ id, method, params }));
    return done;
  }

  async start(): Promise<void> {
    this.#requests.clear();
    await this.call("Profiler.start");
  }

  /** Stops the profile; self time in ms by area and by function (idle left out). */
  async stop() {
    const { profile } = await this.call("Profiler.stop") as {
      profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    };
    if (values["profile-out"]) {
      const file = `${values["profile-out"]}.${this.#saved++}.cpuprofile`;
      await Deno.writeTextFile(file, JSON.stringify(profile));
      log(`profile written to ${file}`);
    }
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    /** Who a sample works for: the nearest frame of ours up the (synchronous) stack. */
    const ownerOf = (id: number): string => {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const url = byId.get(cur)!.callFrame.url;
        if (url.includes("/src/api_server/")) return "reference API server (in-process)";
        if (url.includes("/src/")) return "bridge";
      }
      return "unattributed (runtime, GC, callbacks)";
    };
    const areas = new Map<string, number>();
    const owners = new Map<string, number>();
    const functions = new Map<string, number>();
    let total = 0;
    let inspector = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      const node = byId.get(profile.samples[i]);
      const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
      if (!node || node.callFrame.functionName === "(idle)") continue;
      let overhead = false;
      for (let cur: number | undefined = node.id; cur !== undefined; cur = parent.get(cur)) {
        if (inspectorFrame(byId.get(cur)!)) overhead = true;
      }
      if (overhead) {
        inspector += ms;
        continue;
      }
      total += ms;
      const owner = ownerOf(node.id);
      owners.set(owner, (owners.get(owner) ?? 0) + ms);
      const area = areaOf(node.callFrame.url, node.callFrame.functionName);
      areas.set(area, (areas.get(area) ?? 0) + ms);
      const name = `${node.callFrame.functionName || "(anonymous)"} ${
        shortUrl(node.callFrame.url)
      }:${node.callFrame.lineNumber + 1}`;
      functions.set(name, (functions.get(name) ?? 0) + ms);
    }
    const top = (m: Map<string, number>, n: number) =>
      [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => ({
        name: k,
        ms: Math.round(v),
        share: Math.round((v / total) * 1000) / 10,
      }));
    return {
      busyMs: Math.round(total),
      inspectorOverheadMs: Math.round(inspector),
      owners: top(owners, 5),
      areas: top(areas, 20),
      functions: top(functions, 20),
      apiRequests: Object.fromEntries([...this.#requests].sort((a, b) => b[1] - a[1])),
    };
  }

  close(): void {
    this.#ws.close();
  }
}

function shortUrl(url: string): string {
  const src = url.indexOf("/src/");
  if (src >= 0) return url.slice(src + 1);
  const npm = /node_modules\/(?:\.deno\/)?([^/]+)/.exec(url) ?? /npm\/[^/]+\/([^/]+)/.exec(url);
  if (npm) return `npm:${npm[1]}/${url.split("/").at(-1)}`;
  return url.split("/").slice(-2).join("/");
}

function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  if (/openpgp/.test(url)) return "openpgp.js";
  if (/noble|bcrypt|smol-toml|x509|asn1/.test(url)) return "other npm";
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) return "Deno runtime";
  return shortUrl(url);
}

// ---------------------------------------------------------------------------------------------
// A run
// ---------------------------------------------------------------------------------------------

/** Deliveries to the external address recorded by the reference server for run `runId`. */
async function outboxCount(serve: Serve, runId: string): Promise<number> {
  if (!serve.apiUrl) return -1;
  const res = await fetch(`${serve.apiUrl}/ref/v1/outbox`);
  const { Outbox } = await res.json() as { Outbox: { ExternalID: string; Recipient: string }[] };
  return Outbox.filter((e) =>
    e.ExternalID.startsWith(`bench-${runId}-`) && e.Recipient === EXTERNAL
  ).length;
}

interface Timing {
  kind: Prepared["kind"];
  transactionMs: number;
  dataMs: number;
  endMs: number;
}

async function sendOne(c: SmtpClient, from: string, m: Prepared): Promise<Timing> {
  const t0 = performance.now();
  const mail = await c.command(`MAIL FROM:<${from}> SIZE=${m.size}`);
  if (mail.code !== 250) throw new Error(`MAIL: ${mail.text}`);
  const rcpt = await c.command(`RCPT TO:<${m.rcpt}>`);
  if (rcpt.code !== 250) throw new Error(`RCPT: ${rcpt.text}`);
  const tData = performance.now();
  const go = await c.command("DATA");
  if (go.code !== 354) throw new Error(`DATA: ${go.text}`);
  // The content without its final ".\r\n", then the end marker on its own.
  await c.write(m.data.subarray(0, m.data.length - 3));
  const tEnd = performance.now();
  await c.write(m.data.subarray(m.data.length - 3));
  const done = await c.reply();
  const t1 = performance.now();
  if (done.code !== 250) throw new Error(`end of DATA: ${done.text}`);
  return { kind: m.kind, transactionMs: t1 - t0, dataMs: t1 - tData, endMs: t1 - tEnd };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), max: round(s.at(-1)!) };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

async function run(
  serve: Serve,
  runId: string,
  concurrency: number,
  count: number,
  profiler?: Profiler,
) {
  const messages = Array.from({ length: count }, (_, i) => prepare(runId, i, serve.user));
  const bytes = messages.reduce((n, m) => n + m.size, 0);
  const clients = await Promise.all(
    Array.from({ length: concurrency }, () => SmtpClient.open(serve)),
  );
  const load = loadavg()[0];
  const cpu0 = await cpuSeconds(serve.child.pid);
  const timings: Timing[] = [];
  let next = 0;
  const errors: string[] = [];
  await profiler?.start();
  const t0 = performance.now();
  await Promise.all(clients.map(async (c) => {
    while (next < messages.length) {
      const m = messages[next++];
      try {
        timings.push(await sendOne(c, serve.user, m));
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await cpuSeconds(serve.child.pid)) - cpu0;
  const profile = await profiler?.stop();
  await Promise.all(clients.map((c) => c.quit()));
  const external = messages.filter((m) => m.rcpt === EXTERNAL).length;
  const delivered = await outboxCount(serve, runId);
  if (delivered !== -1 && delivered !== external) {
    errors.push(`the outbox has ${delivered} external deliveries, expected ${external}`);
  }
  const byKind = (kind: Prepared["kind"]) => timings.filter((t) => t.kind === kind);
  return {
    concurrency,
    messages: count,
    sent: timings.length,
    failed: errors.length,
    errors: errors.slice(0, 5),
    megabytes: round(bytes / 1e6),
    seconds: Math.round(seconds * 100) / 100,
    messagesPerSecond: Math.round((timings.length / seconds) * 100) / 100,
    megabytesPerSecond: Math.round((bytes / 1e6 / seconds) * 100) / 100,
    latencyMs: {
      transaction: stats(timings.map((t) => t.transactionMs)),
      dataTo250: stats(timings.map((t) => t.dataMs)),
      endTo250: stats(timings.map((t) => t.endMs)),
    },
    endTo250ByKindMs: {
      text: stats(byKind("text").map((t) => t.endMs)),
      html: stats(byKind("html").map((t) => t.endMs)),
      attachment: stats(byKind("attachment").map((t) => t.endMs)),
    },
    serveCpuSeconds: Math.round(cpu * 100) / 100,
    serveCpuMsPerMessage: Math.round((cpu * 1000) / Math.max(1, timings.length)),
    loadAverage1m: { before: Math.round(load * 100) / 100, after: round2(loadavg()[0]) },
    profile,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function machine(): string {
  let cpu = "";
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? "";
  } catch {
    // not Linux
  }
  return `${navigator.hardwareConcurrency} cores${
    cpu ? ` (${cpu})` : ""
  }, Deno ${Deno.version.deno}`;
}

const started = performance.now();
const serve = await startServe();
log(`bridge serve --demo ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const results = [];
if (values["profile-out"] && !values.profile) fail("--profile-out goes with --profile");
const profiler = serve.inspector ? await Profiler.connect(serve.inspector) : undefined;
try {
  if (WARMUP > 0) {
    const c = await SmtpClient.open(serve);
    for (let i = 0; i < WARMUP; i++) await sendOne(c, serve.user, prepare("warmup", i, serve.user));
    await c.quit();
    log(`warm-up: ${WARMUP} messages`);
  }
  for (const [k, concurrency] of CONCURRENCY.entries()) {
    log(`run ${k + 1}: ${N} messages on ${concurrency} connection(s)…`);
    const r = await run(serve, `c${concurrency}r${k}`, concurrency, N, profiler);
    results.push(r);
    if (!values.json) {
      const l = r.latencyMs;
      console.log(
        [
          `concurrency ${r.concurrency}: ${r.sent}/${r.messages} sent (${r.failed} failed), ` +
          `${r.megabytes} MB in ${r.seconds} s`,
          `  ${r.messagesPerSecond} msg/s, ${r.megabytesPerSecond} MB/s`,
          `  transaction  p50 ${l.transaction.p50} ms  p95 ${l.transaction.p95} ms  max ${l.transaction.max} ms`,
          `  DATA→250     p50 ${l.dataTo250.p50} ms  p95 ${l.dataTo250.p95} ms  max ${l.dataTo250.max} ms`,
          `  end→250      p50 ${l.endTo250.p50} ms  p95 ${l.endTo250.p95} ms  max ${l.endTo250.max} ms`,
          `  end→250 p50 by kind: text ${r.endTo250ByKindMs.text.p50} ms, html ${r.endTo250ByKindMs.html.p50} ms, ` +
          `1 MB attachment ${r.endTo250ByKindMs.attachment.p50} ms`,
          `  serve CPU ${r.serveCpuSeconds} s (${r.serveCpuMsPerMessage} ms/message); ` +
          `load average (1 m) ${r.loadAverage1m.before} before, ${r.loadAverage1m.after} after`,
          ...r.errors.map((e) => `  error: ${e}`),
        ].join("\n"),
      );
      if (r.profile) {
        console.log(
          `  serve main thread busy ${r.profile.busyMs} ms (+ ${r.profile.inspectorOverheadMs} ms ` +
            "of inspector overhead, left out); by owner:",
        );
        for (const a of r.profile.owners) console.log(`    ${a.share}%  ${a.ms} ms  ${a.name}`);
        console.log("  self time by area:");
        for (const a of r.profile.areas) console.log(`    ${a.share}%  ${a.ms} ms  ${a.name}`);
        console.log("  API requests serve made (method path: count):");
        for (const [k, v] of Object.entries(r.profile.apiRequests)) console.log(`    ${v}  ${k}`);
        console.log("  top functions (self time):");
        for (const f of r.profile.functions) {
          console.log(`    ${f.share}%  ${f.ms} ms  ${f.name}`);
        }
      }
    }
  }
  if (values.json) {
    console.log(JSON.stringify({
      date: new Date().toISOString(),
      machine: machine(),
      runs: results,
    }));
  } else {
    console.log(`machine: ${machine()}`);
  }
} finally {
  profiler?.close();
  try {
    serve.child.kill("SIGTERM");
  } catch {
    // already gone
  }
  await serve.child.status;
  await Deno.remove(serve.home, { recursive: true }).catch(() => {});
}
