import assert from "node:assert/strict";
import { ServeOutput, type ServeOutputOptions } from "./serve_output.ts";

function capture(options: Partial<ServeOutputOptions> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let t = Date.UTC(2024, 0, 1);
  const output = new ServeOutput({
    json: false,
    level: "info",
    format: "text",
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    stderrIsTerminal: false,
    now: () => t,
    ...options,
  });
  return { output, out, err, tick: (ms: number) => (t += ms) };
}

const progress = (done: number, phase: "messages" | "done" = "messages") => ({
  account: "a@b.c",
  phase,
  done,
  total: 10,
  rate: 1,
  eta: 10 - done,
});

Deno.test("serve output: levels, text lines on stderr, fields the message lacks", () => {
  const { output, out, err } = capture();
  output.debug("hidden");
  output.info("a@b.c: ready", { account: "a@b.c", n: 2 });
  output.warn("careful");
  assert.deepEqual(out, []);
  assert.equal(err.length, 2);
  assert.equal(err[0], "2024-01-01T00:00:00.000Z info  a@b.c: ready (n=2)\n");
  assert.match(err[1], /warn {2}careful\n$/);
  output.setLevel("debug");
  output.debug("shown");
  assert.match(err[2], /debug shown/);
  output.setLevel("error");
  output.warn("hidden");
  assert.equal(err.length, 3);
});

Deno.test("serve output: a text line cannot be split or carry terminal escapes", () => {
  const { output, err } = capture();
  output.warn(
    "smtp: authentication failed for evil\n2024-01-01 info  forged\x1b[31m\u2028x\ty\u202egpj.exe",
  );
  assert.equal(err.length, 1);
  assert.equal(
    err[0],
    "2024-01-01T00:00:00.000Z warn  smtp: authentication failed for " +
      "evil\\n2024-01-01 info  forged\\x1b[31m\\u2028x\\ty\\u202egpj.exe\n",
  );
});

Deno.test("serve output: json log format and --json events", () => {
  const { output, out, err } = capture({ json: true, format: "json" });
  output.info("hello", { account: "x@y.z" });
  assert.deepEqual(JSON.parse(err[0]), {
    time: "2024-01-01T00:00:00.000Z",
    level: "info",
    msg: "hello",
    account: "x@y.z",
  });
  output.event("ready", { accounts: [] });
  output.failure("broken", { account: "x@y.z" });
  assert.deepEqual(out.map((l) => JSON.parse(l)), [
    { event: "ready", accounts: [] },
    { event: "error", message: "broken", account: "x@y.z" },
  ]);
  assert.equal(JSON.parse(err[1]).level, "error");
  output.progressReporter().progress(progress(3));
  assert.deepEqual(JSON.parse(out[2]), {
    event: "sync-progress",
    account: "a@b.c",
    phase: "messages",
    done: 3,
    total: 10,
    rate: 1,
    eta: 7,
  });
});

Deno.test("serve output: no events without --json", () => {
  const { output, out } = capture();
  output.event("ready", {});
  output.failure("x");
  assert.deepEqual(out, []);
});

Deno.test("serve output: progress off a terminal is an info line every few seconds", () => {
  const { output, err, tick } = capture({ progressLogIntervalMs: 5000 });
  const r = output.progressReporter();
  r.progress(progress(1));
  r.progress(progress(2));
  tick(6000);
  r.progress(progress(5));
  r.progress(progress(10, "done"));
  assert.equal(err.length, 3);
  assert.match(err[0], /first sync of a@b\.c: 1\/10 messages/);
  assert.match(err[1], /5\/10/);
  assert.match(err[2], /10\/10 messages \(done\)/);
});

Deno.test("serve output: terminal progress bars are redrawn in place, logs go above them", () => {
  const { output, err } = capture({ stderrIsTerminal: true });
  const r = output.progressReporter();
  r.progress(progress(1));
  assert.equal(err.length, 1);
  assert.match(err[0], new RegExp(String.raw`^\r\x1b\[2Ka@b\.c: \[#{3}\.{27}\] {2}10% 1/10`));
  r.progress(progress(2));
  assert.ok(err[1].startsWith("\x1b[1A\r\x1b[2K"), JSON.stringify(err[1]));
  output.info("between");
  // Clear the bar, write the line, draw the bar again.
  assert.equal(err[2], "\x1b[1A\r\x1b[J");
  assert.match(err[3], /info {2}between\n$/);
  assert.match(err[4], new RegExp(String.raw`^\r\x1b\[2Ka@b\.c: .* 2/10`));
  r.progress(progress(10, "done"));
  assert.match(err.at(-1)!, /a@b\.c: \[#{30}\] 100% 10\/10 .* done\n$/);
  output.info("after");
  assert.match(err.at(-1)!, /info {2}after\n$/);
});
