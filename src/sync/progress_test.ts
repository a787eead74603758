import assert from "node:assert/strict";
import {
  currentProgress,
  formatDuration,
  JsonLinesRenderer,
  ProgressMeter,
  STALE_PROGRESS_MS,
  type SyncProgress,
  TtyProgressRenderer,
} from "./progress.ts";

Deno.test("ProgressMeter: rate over the window, ETA, throttled reports", () => {
  let now = 0;
  const meter = new ProgressMeter({ now: () => now, intervalMs: 250, windowMs: 5000 });
  const first = meter.sample("a", "messages", 0, 1000)!;
  assert.deepEqual([first.rate, first.eta], [0, null]);
  now = 100;
  assert.equal(meter.sample("a", "messages", 50, 1000), undefined, "too soon");
  now = 1000;
  const p = meter.sample("a", "messages", 200, 1000)!;
  assert.equal(p.rate, 200);
  assert.equal(p.eta, 4);
  now = 1001;
  assert.ok(meter.sample("a", "done", 1000, 1000), "phase change always reports");
  assert.ok(meter.sample("a", "done", 1000, 1000, true), "forced");
});

Deno.test("ProgressMeter: the rate is the current phase's (a long listing does not count)", () => {
  let now = 0;
  const meter = new ProgressMeter({ now: () => now, intervalMs: 0, windowMs: 5000 });
  assert.equal(meter.sample("a", "listing", 0, 100_000, false, 0)!.listed, 0);
  now = 3000;
  assert.equal(meter.sample("a", "listing", 0, 100_000, false, 45_000)!.listed, 45_000);
  now = 4000;
  const start = meter.sample("a", "messages", 0, 100_000)!;
  assert.deepEqual([start.rate, start.eta, start.listed], [0, null, undefined]);
  now = 5000;
  const next = meter.sample("a", "messages", 600, 100_000)!;
  assert.equal(next.rate, 600);
  assert.equal(next.eta, 165.7);
  // The end keeps the rate the messages ran at.
  now = 6000;
  assert.equal(meter.sample("a", "done", 1200, 1200)!.rate, 600);
});

Deno.test("ProgressMeter: after a stall the rate is the one since, never 0 with an ETA", () => {
  let now = 0;
  const meter = new ProgressMeter({ now: () => now, intervalMs: 0, windowMs: 5000 });
  meter.sample("a", "messages", 0, 1500);
  now = 4000;
  assert.equal(meter.sample("a", "messages", 740, 1500)!.rate, 185);
  // Nothing for 60 s, then one message.
  now = 64_000;
  const after = meter.sample("a", "messages", 741, 1500)!;
  assert.deepEqual([after.rate, after.eta], [0, null]);
  now = 65_000;
  const resumed = meter.sample("a", "messages", 805, 1500)!;
  assert.equal(resumed.rate, 64);
  assert.equal(resumed.eta, 10.9);
});

Deno.test("ProgressMeter: no ETA before the messages are counted, 0 only when all are done", () => {
  let now = 0;
  const meter = new ProgressMeter({ now: () => now, intervalMs: 0, windowMs: 5000 });
  assert.equal(meter.sample("a", "labels", 0, 0)!.eta, null);
  now = 1000;
  assert.equal(meter.sample("a", "counting", 0, 0)!.eta, null, "a stuck count is not '0 left'");
  now = 2000;
  assert.equal(meter.sample("a", "messages", 0, 0)!.eta, null);
  assert.equal(meter.sample("a", "messages", 10, 10, true)!.eta, 0);
  assert.equal(meter.sample("a", "done", 10, 10)!.eta, 0);
});

Deno.test("JsonLinesRenderer writes one sync-progress object per line", () => {
  const out: string[] = [];
  const r = new JsonLinesRenderer({ write: (s) => out.push(s) });
  const p: SyncProgress = {
    account: "alice@example.test",
    phase: "messages",
    done: 12,
    total: 100,
    rate: 3.5,
    eta: 25.1,
  };
  r.progress(p);
  assert.equal(out.length, 1);
  assert.ok(out[0].endsWith("\n"));
  assert.deepEqual(JSON.parse(out[0]), { event: "sync-progress", ...p });
});

Deno.test("TtyProgressRenderer draws a bar in place and ends the line when done", () => {
  const out: string[] = [];
  const r = new TtyProgressRenderer({ write: (s) => out.push(s), width: 10 });
  const base = { account: "a", total: 200, rate: 40, eta: 75 };
  assert.equal(
    r.line({ ...base, phase: "messages", done: 50 }),
    "a: [###.......]  25% 50/200 40 msg/s ETA 1:15",
  );
  assert.equal(r.line({ ...base, phase: "labels", done: 0 }), "a: labels…");
  assert.equal(
    r.line({ ...base, phase: "listing", done: 0, listed: 150 }),
    "a: listing messages… 150/200 listed",
  );
  r.progress({ ...base, phase: "messages", done: 50 });
  assert.ok(out[0].startsWith("\r\x1b[2K"));
  r.progress({ ...base, phase: "done", done: 200, eta: 0 });
  assert.equal(out.at(-1), "\n");
  r.finish();
  assert.equal(out.filter((s) => s === "\n").length, 1);
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(9), "0:09");
});

Deno.test("currentProgress: a sync that reports nothing for a while, or does not run, is at 0", () => {
  const p = {
    account: "a@b.c",
    phase: "messages" as const,
    done: 384,
    total: 3000,
    rate: 291.6,
    eta: 9,
  };
  assert.deepEqual(currentProgress(p, 1_000, 1_000 + STALE_PROGRESS_MS, true), p);
  assert.deepEqual(currentProgress(p, 1_000, 2_000 + STALE_PROGRESS_MS, true), {
    ...p,
    rate: 0,
    eta: null,
  });
  assert.deepEqual(currentProgress(p, 1_000, 1_001, false), { ...p, rate: 0, eta: null });
  const done = { ...p, phase: "done" as const, done: 3000, eta: 0 };
  assert.deepEqual(currentProgress(done, 0, 1e9, false), done);
});
