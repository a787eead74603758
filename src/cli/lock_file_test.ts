import assert from "node:assert/strict";
import { join } from "node:path";
import {
  acquireLock,
  linuxProcessStart,
  LOCK_FILE_NAME,
  LockHeldError,
  type LockOwner,
  probeProcess,
  readLock,
} from "./lock_file.ts";
import { withTempDir } from "./_cli_test_utils.ts";

const alive = () => Promise.resolve("alive" as const);
const dead = () => Promise.resolve("dead" as const);

Deno.test("lock: taken, refused to a second owner naming the PID, released", async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, "data");
    const lock = await acquireLock(data, { pid: 111, probe: alive });
    assert.equal(lock.tookOverFrom, undefined);
    assert.equal((await readLock(data))?.pid, 111);
    const err = await acquireLock(data, { pid: 222, probe: alive }).catch((e) => e);
    assert.ok(err instanceof LockHeldError);
    assert.match(err.message, /PID 111/);
    assert.match(err.message, /--data-dir/);
    assert.equal(err.owner?.pid, 111);
    await lock.release();
    await lock.release();
    assert.equal(await readLock(data), undefined);
    const sync = await acquireLock(data, { pid: 333, probe: alive });
    sync.releaseSync();
    sync.releaseSync();
    assert.equal(await readLock(data), undefined);
    const again = await acquireLock(data, { pid: 222, probe: alive });
    await again.release();
  });
});

Deno.test("lock: a stale lock of a dead process is taken over", async () => {
  await withTempDir(async (dir) => {
    const old = await acquireLock(dir, { pid: 111, probe: alive });
    const seen: LockOwner[] = [];
    const lock = await acquireLock(dir, {
      pid: 222,
      probe: (o) => {
        seen.push(o);
        return dead();
      },
    });
    assert.equal(lock.tookOverFrom, 111);
    assert.equal(seen[0].pid, 111);
    assert.equal((await readLock(dir))?.pid, 222);
    // The old owner's release must not remove the new owner's lock.
    await old.release();
    assert.equal((await readLock(dir))?.pid, 222);
    await lock.release();
    const left = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(left, []);
  });
});

Deno.test("lock: a file that is not a lock is refused with a clear message", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, LOCK_FILE_NAME), "garbage");
    const err = await acquireLock(dir, { pid: 5, probe: dead }).catch((e) => e);
    assert.ok(err instanceof LockHeldError);
    assert.match(err.message, /not a bridge lock.*remove it/);
    assert.equal(await Deno.readTextFile(join(dir, LOCK_FILE_NAME)), "garbage");
  });
});

Deno.test("lock: an empty lock file (left by a power cut) is taken over; no temp file stays", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, LOCK_FILE_NAME), "");
    const lock = await acquireLock(dir, { pid: 6, probe: alive });
    assert.equal((await readLock(dir))?.pid, 6);
    await lock.release();
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, []);
  });
});

Deno.test("lock: two takeovers of one stale lock at once leave exactly one owner", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, LOCK_FILE_NAME),
      JSON.stringify({ pid: 999, startedAt: "2020-01-01T00:00:00Z" }),
    );
    const probe = (o: LockOwner): Promise<"alive" | "dead"> =>
      Promise.resolve(o.pid === 999 ? "dead" : "alive");
    const results = await Promise.allSettled([
      acquireLock(dir, { pid: 301, probe }),
      acquireLock(dir, { pid: 302, probe }),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.ok(lost.reason instanceof LockHeldError);
    const holder = (await readLock(dir))!.pid;
    assert.equal(holder, (won[0] as PromiseFulfilledResult<{ owner: LockOwner }>).value.owner.pid);
  });
});

Deno.test("probeProcess: this process is alive, a PID that does not exist is dead", async () => {
  assert.equal(await probeProcess({ pid: Deno.pid, startedAt: "" }), "alive");
  assert.equal(await probeProcess({ pid: 2 ** 22 + 12345, startedAt: "" }), "dead");
  assert.equal(await probeProcess({ pid: -1, startedAt: "" }), "dead");
  if (await linuxProcessStart(Deno.pid) !== undefined) {
    // A reused PID: alive, but started at another time than the lock says.
    assert.equal(await probeProcess({ pid: Deno.pid, startedAt: "", procStart: "1" }), "dead");
  }
});

Deno.test("probeProcess: a zombie (killed, not yet reaped) is dead", async () => {
  if (await linuxProcessStart(Deno.pid) === undefined) return; // Linux with /proc readable only
  // The shell starts a short sleep, prints its PID and becomes a long sleep, which never reaps it.
  const parent = new Deno.Command("sh", {
    args: ["-c", "sleep 0.1 & echo $!; exec sleep 5"],
    stdout: "piped",
  }).spawn();
  try {
    const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const pid = Number((await reader.read()).value?.trim());
    reader.releaseLock();
    const procStart = await linuxProcessStart(pid);
    assert.ok(procStart, "the child is running");
    assert.equal(await probeProcess({ pid, startedAt: "", procStart }), "alive");
    let state = "";
    for (let i = 0; i < 50 && state !== "Z"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
      state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    }
    assert.equal(state, "Z", "the child is a zombie now");
    assert.equal(await probeProcess({ pid, startedAt: "", procStart }), "dead");
  } finally {
    parent.kill("SIGKILL");
    await parent.status;
    await parent.stdout.cancel().catch(() => {});
  }
});

Deno.test("lock: records this process's start time on Linux, which probes alive", async () => {
  await withTempDir(async (dir) => {
    const lock = await acquireLock(dir);
    try {
      // Recorded where /proc is readable (Linux, and Deno's --allow-all).
      if (await linuxProcessStart(Deno.pid) !== undefined) {
        assert.match(lock.owner.procStart ?? "", /^\d+$/);
      }
      assert.equal(await probeProcess(lock.owner), "alive");
    } finally {
      await lock.release();
    }
  });
});
