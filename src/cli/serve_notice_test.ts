import assert from "node:assert/strict";
import { startControlServer, writeControlInfo } from "./control_server.ts";
import { tellRunningServe } from "./serve_notice.ts";
import type { StatusReport } from "./status_report.ts";
import { withTempDir } from "./_cli_test_utils.ts";

const report = () => ({ running: true }) as unknown as StatusReport;

Deno.test("tellRunningServe: no serve, a dead one, one that reloads, one that hangs", async () => {
  await withTempDir(async (dir) => {
    assert.deepEqual(await tellRunningServe(dir), { outcome: "none" });
    // A control file left by a process that is gone.
    await writeControlInfo(dir, {
      pid: 2 ** 22 + 4321,
      url: "http://127.0.0.1:9",
      token: "t",
      startedAt: "x",
      version: "0",
    });
    assert.deepEqual(await tellRunningServe(dir), { outcome: "none" });

    let answer: () => Promise<unknown> = () =>
      Promise.resolve({ accountsRemoved: ["a@x.test"], notes: [] });
    const server = await startControlServer({ status: report, reload: () => answer() });
    try {
      const info = { pid: Deno.pid, url: server.url, token: server.token, startedAt: "x" };
      await writeControlInfo(dir, { ...info, version: "0" });
      const taken = await tellRunningServe(dir);
      assert.equal(taken.outcome, "taken");
      assert.deepEqual(taken.removed, ["a@x.test"]);
      assert.match(taken.text!, new RegExp(`process ${Deno.pid}\\) has taken the change`));
      // Busy past the wait: not "no serve" (logout must keep the files then).
      answer = () => new Promise((r) => setTimeout(() => r({}), 500));
      const busy = await tellRunningServe(dir, 50);
      assert.equal(busy.outcome, "unknown");
      assert.match(busy.text!, /send it SIGHUP or restart it/);
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      await server.close();
    }
  });
});
