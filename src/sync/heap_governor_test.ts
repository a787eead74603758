import assert from "node:assert/strict";
import { exposedGc, HeapGovernor } from "./heap_governor.ts";

Deno.test("HeapGovernor collects above the soft limit, at most once per gap", () => {
  let rss = 100;
  let now = 0;
  let collections = 0;
  const g = new HeapGovernor({
    softLimitBytes: 200,
    minGapMs: 1000,
    gc: () => {
      collections++;
      rss = 150;
    },
    rss: () => rss,
    now: () => now,
  });
  assert.equal(g.active, true);
  assert.equal(g.check(), false, "under the limit");
  rss = 250;
  assert.equal(g.check(), true);
  assert.equal(collections, 1);
  rss = 260;
  now = 999;
  assert.equal(g.check(), false, "within the gap");
  now = 1000;
  assert.equal(g.check(), true, "gap over, still above");
  now = 5000;
  assert.equal(g.check(), false, "the collection brought it under");
  assert.equal(g.forced, 2);
  assert.equal(collections, 2);
});

Deno.test("HeapGovernor does nothing without a limit or without gc()", () => {
  let called = 0;
  const off = new HeapGovernor({ softLimitBytes: 0, gc: () => called++, rss: () => 1e12 });
  assert.equal(off.active, false);
  assert.equal(off.check(), false);
  const noGc = new HeapGovernor({ softLimitBytes: 1, gc: undefined, rss: () => 1e12 });
  assert.equal(noGc.active, false);
  assert.equal(noGc.check(), false);
  assert.equal(called, 0);
  // This test process runs without --expose-gc.
  assert.equal(exposedGc(), undefined);
  assert.equal(new HeapGovernor({ softLimitBytes: 1 }).active, false);
});

Deno.test("HeapGovernor with the runtime's gc() (a child with --expose-gc) frees what is garbage", async () => {
  const code = `
    import { HeapGovernor } from ${
    JSON.stringify(new URL("./heap_governor.ts", import.meta.url).href)
  };
    const g = new HeapGovernor({ softLimitBytes: 1 });
    let junk = Array.from({ length: 200 }, () => new Uint8Array(1 << 20).fill(1));
    junk = [];
    const before = Deno.memoryUsage().external;
    const did = g.check();
    console.log(JSON.stringify({ active: g.active, did, before, after: Deno.memoryUsage().external }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(r.active, true);
  assert.equal(r.did, true);
  assert.ok(r.before > 150 * (1 << 20), `external before ${r.before}`);
  assert.ok(r.after < r.before / 2, `external ${r.before} -> ${r.after}`);
});

Deno.test("HeapGovernor.periodic backs off while collections leave the size above the limit", () => {
  let rss = 300;
  let now = 0;
  let collections = 0;
  let freed = 0; // what the next collection gives back
  const g = new HeapGovernor({
    softLimitBytes: 200,
    gc: () => {
      collections++;
      rss -= freed;
    },
    rss: () => rss,
    now: () => now,
    backoffMs: 10_000,
    maxBackoffMs: 40_000,
  });
  // Memory the collection cannot give back: 10 s, 20 s, 40 s, 40 s between collections.
  const at: number[] = [];
  for (now = 0; now <= 200_000; now += 5_000) if (g.periodic()) at.push(now);
  assert.deepEqual(at, [0, 10_000, 30_000, 70_000, 110_000, 150_000, 190_000]);
  // Under the limit again: the back-off is forgotten; a later rise collects at once, and a
  // collection that brings the size under the limit sets no wait.
  rss = 150;
  assert.equal(g.periodic(), false);
  now += 5_000;
  rss = 300;
  freed = 200;
  assert.equal(g.periodic(), true);
  rss = 300;
  now += 5_000;
  assert.equal(g.periodic(), true, "no back-off after a collection that worked");
  assert.equal(collections, at.length + 2);
});

Deno.test("HeapGovernor.watch checks on an unref'd timer and stops", async () => {
  let checks = 0;
  const g = new HeapGovernor({
    softLimitBytes: 1,
    gc: () => {},
    rss: () => {
      checks++;
      return 0;
    },
  });
  const stop = g.watch(5);
  await new Promise((r) => setTimeout(r, 60));
  stop();
  const seen = checks;
  assert.ok(seen >= 3, `checks: ${seen}`);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(checks, seen, "stopped");
  const inactive = new HeapGovernor({ softLimitBytes: 0, gc: () => {}, rss: () => checks++ });
  inactive.watch(1)();
});
