/**
 * `bridge api-server` as a process: `--json` prints one line once listening, the server answers,
 * SIGTERM stops it with exit code 0, and bad flags exit 2.
 */
import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function spawn(...args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "api-server", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads stdout up to the first newline. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<{
  line: string;
  rest: ReadableStreamDefaultReader<Uint8Array>;
}> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
  }
  return { line: buf.split("\n")[0], rest: reader };
}

Deno.test("bridge api-server --json prints {url, modulusKey}, serves, stops on SIGTERM", async () => {
  const child = spawn(
    "--json",
    "--port",
    "0",
    "--seed",
    "alice@example.test:secret",
    "--seed-messages",
    "3",
  );
  let stderr = "";
  const errDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  try {
    const { line, rest } = await firstLine(child.stdout);
    const info = JSON.parse(line);
    assert.deepEqual(Object.keys(info).sort(), ["modulusKey", "url"]);
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(info.modulusKey, /BEGIN PGP PUBLIC KEY BLOCK/);

    const headers = { "x-pm-appversion": "linux-bridge@3.21.1" };
    const ping = await fetch(`${info.url}/tests/ping`, { headers });
    assert.equal(ping.status, 200);
    await ping.body?.cancel();
    const users = await fetch(`${info.url}/core/v4/users`, { headers });
    assert.equal(users.status, 401);
    await users.body?.cancel();
    const list = await (await fetch(`${info.url}/ref/v1/users`)).json();
    assert.deepEqual(list.Users.map((u: { Name: string }) => u.Name), ["alice"]);

    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, stderr);
    // Nothing more than the one JSON line.
    const tail = await rest.read();
    assert.ok(tail.done || new TextDecoder().decode(tail.value).trim() === "");
    rest.releaseLock();
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await errDone;
  }
});

Deno.test("bridge api-server with a bad flag exits 2 with a clear error", async () => {
  const badSeed = ["--seed", "not-an-email:hunter2"];
  for (const args of [["--port", "abc"], ["--bogus"], ["--seed", "nocolon"], badSeed]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "api-server", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2, args.join(" "));
    const stderr = new TextDecoder().decode(out.stderr);
    assert.match(stderr, /^bridge api-server: /);
    assert.doesNotMatch(stderr, /hunter2/, "a seed password is never echoed");
  }
});
