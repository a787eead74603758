/**
 * Resident memory of `bridge serve` over its life, with glibc's own mmap threshold and with the
 * launchers' environment (`MALLOC_MMAP_THRESHOLD_=4194304`, `src/cli/launch_settings.ts`), in one
 * run, alternating:
 *
 * 1. the reference server runs in this process with one account seeded with N messages;
 * 2. per pass, on a fresh data directory: `bridge login`, then `bridge serve --json` with the
 *    launchers' V8 flags; its RSS (VmRSS of `/proc/<pid>/status`) is sampled every 100 ms;
 * 3. **after sync**: 10 s after the `ready` line (the first sync done; serve's periodic memory
 *    check runs every 5 s);
 * 4. **receive**: a message with a `--attachment-mb` attachment is delivered through the reference
 *    server's controls; python3 imaplib waits for it and downloads it (`BODY.PEEK[]`); the peak
 *    while this happens, and the RSS 10 s after the download;
 * 5. **send**: python3 smtplib submits a message with an attachment of the same size to an
 *    external recipient; the peak, and the RSS 10 s after the reply.
 *
 * ```sh
 * deno run -A scripts/bench_memory.ts [--messages 5000] [--attachment-mb 20] [--repeat 2] [--json]
 *   [--thresholds 131072,4194304]
 * ```
 *
 * `--thresholds` compares other values of `MALLOC_MMAP_THRESHOLD_` (bytes, comma-separated; each
 * is a variant next to glibc's default) instead of the launchers' one.
 *
 * Linux only (it reads `/proc`). The table shows each pass; figures in `docs/BENCHMARKS.md`
 * ("Memory").
 *
 * @module
 */
import { join } from "node:path";
import { startApiServer } from "../src/api_server/mod.ts";
import { BRIDGE_ENV, BRIDGE_V8_FLAGS } from "../src/cli/launch_settings.ts";
import { plainServeArgs } from "../tests/_serve_process.ts";
import { intArg, scriptArgs, usageError } from "./_script_args.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const EMAIL = "memory@bench.test";
const PASSWORD = "bench memory secret";

const fail: (message: string) => never = usageError("bench_memory");
const values = scriptArgs("bench_memory", {
  messages: { type: "string" },
  "attachment-mb": { type: "string" },
  repeat: { type: "string" },
  json: { type: "boolean" },
  thresholds: { type: "string" },
});
const N = intArg("bench_memory", values.messages, "messages", 5000);
const ATTACHMENT_MB = intArg("bench_memory", values["attachment-mb"], "attachment-mb", 20);
const REPEAT = intArg("bench_memory", values.repeat, "repeat", 2);
const log = (s: string) => {
  if (!values.json) console.error(s);
};
if (Deno.build.os !== "linux") fail("needs Linux (/proc)");

/**
 * The environment of bridge subprocesses: this one without BRIDGE_* and the launchers' variables,
 * XDG dirs under `home`, a poll every second, and `extra`.
 */
function env(home: string, extra: Readonly<Record<string, string>>): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) =>
      !k.startsWith("BRIDGE_") && !(k in BRIDGE_ENV)
    ),
  );
  return {
    ...base,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    NO_COLOR: "1",
    BRIDGE_EVENTS_POLL_INTERVAL_SECONDS: "1",
    BRIDGE_EVENTS_JITTER_SECONDS: "0",
    ...extra,
  };
}

async function bridge(home: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    clearEnv: true,
    env: env(home, {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) fail(`bridge ${args[0]}: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

function rssMB(pid: number): number {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs a python3 script with one JSON argument; returns its parsed standard output. */
async function python(script: string, arg: unknown): Promise<unknown> {
  const out = await new Deno.Command("python3", {
    args: ["-c", script, JSON.stringify(arg)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) fail(`python3: ${text.decode(out.stderr)}`);
  return JSON.parse(text.decode(out.stdout));
}

const DOWNLOAD = String.raw`
import imaplib, json, sys, time
A = json.loads(sys.argv[1])
m = imaplib.IMAP4("127.0.0.1", A["port"])
m.login(A["user"], A["password"])
m.select("INBOX", readonly=True)
uid = None
for _ in range(300):
    typ, data = m.uid("SEARCH", "SUBJECT", '"' + A["subject"] + '"')
    if data[0].split():
        uid = data[0].split()[0]
        break
    time.sleep(0.2)
    m.noop()
typ, data = m.uid("FETCH", uid, "(BODY.PEEK[])")
print(json.dumps({"bytes": len(data[0][1])}))
m.logout()
`;

const SEND = String.raw`
import json, smtplib, sys
from email.message import EmailMessage
A = json.loads(sys.argv[1])
msg = EmailMessage()
msg["From"] = A["from"]
msg["To"] = "reader@outside.test"
msg["Subject"] = A["subject"]
msg.set_content("The attachment, as promised.\n")
msg.add_attachment(open(A["file"], "rb").read(), maintype="application",
                   subtype="octet-stream", filename="data.bin")
s = smtplib.SMTP("127.0.0.1", A["port"])
s.login(A["user"], A["password"])
s.send_message(msg)
s.quit()
print(json.dumps({"sent": True}))
`;

/** Bytes that do not compress (like the photos and archives people attach). */
function attachmentBytes(mb: number): Uint8Array {
  const out = new Uint8Array(mb * 1024 * 1024);
  for (let i = 0; i < out.length; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(out.length, i + 65536)));
  }
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

interface Pass {
  variant: string;
  afterSyncMB: number;
  receivePeakMB: number;
  afterReceiveMB: number;
  sendPeakMB: number;
  afterSendMB: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pass(
  serverUrl: string,
  modulus: string,
  variant: string,
  extraEnv: Readonly<Record<string, string>>,
  attachment: Uint8Array,
  attachmentFile: string,
  n: number,
): Promise<Pass> {
  const home = await Deno.makeTempDir({ prefix: "bench-memory-" });
  try {
    await Deno.writeTextFile(join(home, "modulus.asc"), modulus);
    await Deno.writeTextFile(join(home, "password"), PASSWORD + "\n");
    const dataArgs = ["--data-dir", join(home, "bridge-data"), "--key-store", "file"];
    await bridge(
      home,
      "login",
      EMAIL,
      "--api-url",
      serverUrl,
      "--password-file",
      join(home, "password"),
      "--trust-modulus-key",
      join(home, "modulus.asc"),
      ...dataArgs,
    );
    const imap = JSON.parse(await bridge(home, "info", EMAIL, "--json", ...dataArgs)).imap as {
      username: string;
      password: string;
    };
    const serve = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--v8-flags=${BRIDGE_V8_FLAGS}`,
        MAIN,
        "serve",
        ...plainServeArgs(serverUrl, ...dataArgs),
      ],
      clearEnv: true,
      env: env(home, extraEnv),
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    let peak = 0;
    const sampler = setInterval(() => peak = Math.max(peak, rssMB(serve.pid)), 100);
    try {
      const ports = await (async () => {
        let buf = "";
        for await (const chunk of serve.stdout.pipeThrough(new TextDecoderStream())) {
          buf += chunk;
          for (const line of buf.split("\n")) {
            try {
              const e = JSON.parse(line);
              if (e.event === "ready") return { imap: e.imap.port, smtp: e.smtp.port };
            } catch {
              // not a whole line yet
            }
          }
        }
        fail("serve ended before it was ready");
      })();
      log(`  ${variant}: ready after the first sync of ${n} messages`);
      await sleep(10_000);
      const afterSyncMB = rssMB(serve.pid);

      const subject = `memory bench ${variant} ${crypto.randomUUID()}`;
      peak = 0;
      const delivered = await fetch(`${serverUrl}/ref/v1/deliver`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          To: EMAIL,
          From: { Name: "Sender", Address: "sender@outside.test" },
          Subject: subject,
          Text: "See the attachment.\n",
          Attachments: [{
            Name: "data.bin",
            MIMEType: "application/octet-stream",
            DataBase64: toBase64(attachment),
          }],
        }),
      });
      if (!delivered.ok) fail(`deliver: ${delivered.status} ${await delivered.text()}`);
      await delivered.body?.cancel();
      const args = { port: ports.imap, user: imap.username, password: imap.password, subject };
      const got = await python(DOWNLOAD, args) as { bytes: number };
      if (got.bytes < attachment.length) fail(`downloaded ${got.bytes} bytes only`);
      const receivePeakMB = peak;
      await sleep(10_000);
      const afterReceiveMB = rssMB(serve.pid);

      peak = 0;
      await python(SEND, {
        port: ports.smtp,
        user: imap.username,
        password: imap.password,
        from: EMAIL,
        subject: `${subject} (sent)`,
        file: attachmentFile,
      });
      const sendPeakMB = peak;
      await sleep(10_000);
      const afterSendMB = rssMB(serve.pid);
      return { variant, afterSyncMB, receivePeakMB, afterReceiveMB, sendPeakMB, afterSendMB };
    } finally {
      clearInterval(sampler);
      try {
        serve.kill("SIGTERM");
      } catch {
        // gone
      }
      await serve.status;
    }
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

const server = await startApiServer({ port: 0, quiet: true });
const work = await Deno.makeTempDir({ prefix: "bench-memory-data-" });
try {
  log(`seeding ${N} messages`);
  await server.createUser({ email: EMAIL, password: PASSWORD, messages: N });
  const attachment = attachmentBytes(ATTACHMENT_MB);
  const attachmentFile = join(work, "attachment.bin");
  await Deno.writeFile(attachmentFile, attachment);
  const variants: [string, Readonly<Record<string, string>>][] = [["glibc default", {}]];
  if (values.thresholds === undefined) variants.push(["launchers' env", BRIDGE_ENV]);
  else {
    for (const t of values.thresholds.split(",")) {
      if (!/^\d+$/.test(t.trim())) fail("--thresholds takes byte counts, e.g. 131072,4194304");
      variants.push([`threshold ${t.trim()}`, { MALLOC_MMAP_THRESHOLD_: t.trim() }]);
    }
  }
  const passes: Pass[] = [];
  for (let r = 0; r < REPEAT; r++) {
    for (const [name, extra] of r % 2 === 0 ? variants : [...variants].reverse()) {
      passes.push(
        await pass(
          server.url,
          server.modulusPublicKey,
          name,
          extra,
          attachment,
          attachmentFile,
          N,
        ),
      );
    }
  }
  if (values.json) {
    console.log(JSON.stringify({ messages: N, attachmentMB: ATTACHMENT_MB, passes }));
  } else {
    const f = (x: number) => x.toFixed(0).padStart(8);
    console.log(
      `serve RSS in MB (${N} messages, ${ATTACHMENT_MB} MB attachment; peaks sampled every 100 ms)`,
    );
    console.log(
      "variant             after sync  receive peak  after receive  send peak  after send",
    );
    for (const p of passes) {
      console.log(
        `${p.variant.padEnd(18)} ${f(p.afterSyncMB)}    ${f(p.receivePeakMB)}      ${
          f(p.afterReceiveMB)
        }   ${f(p.sendPeakMB)}   ${f(p.afterSendMB)}`,
      );
    }
  }
} finally {
  await server.close();
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
