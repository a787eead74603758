/**
 * Runs `scripts/sync_kill_resume.ts`: the first sync in a subprocess, killed with SIGKILL at 20+
 * random points and restarted until it completes, must end with exactly the index of an
 * uninterrupted sync (messages, UIDs per mailbox, flags, FETCH data, literal bytes), UIDVALIDITY
 * unchanged across restarts and every partial index consistent with the final UIDs.
 */
import assert from "node:assert/strict";

Deno.test({
  name: "first sync survives 20+ SIGKILLs at random points: identical index, same UIDs",
  async fn() {
    const script = new URL("../scripts/sync_kill_resume.ts", import.meta.url).pathname;
    const config = new URL("../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        config,
        script,
        "--messages",
        "60",
        "--kills",
        "20",
        "--json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    const summary = JSON.parse(stdout.split("\n").at(-1) ?? "{}");
    assert.equal(out.code, 0, `${stdout}\n${stderr}`);
    assert.equal(summary.identical, true, JSON.stringify(summary.problems));
    assert.ok(summary.kills >= 20, `kills: ${summary.kills}`);
    // The kills were spread over the sync, not all before the first message.
    const trail: number[] = summary.trail;
    assert.ok(new Set(trail).size >= 5, `progress between kills: ${trail.join(" ")}`);
  },
});
