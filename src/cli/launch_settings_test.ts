import assert from "node:assert/strict";
import { BRIDGE_ENV, BRIDGE_V8_FLAGS, mallocMmapThreshold } from "./launch_settings.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("deno.json's demo and compile tasks run bridge with the launchers' flags and environment", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks as Record<
    string,
    string
  >;
  const env = Object.entries(BRIDGE_ENV).map(([k, v]) => `${k}=${v}`).join(" ");
  assert.ok(tasks.demo.startsWith(`${env} deno run `), tasks.demo);
  assert.ok(tasks.demo.includes(` --v8-flags=${BRIDGE_V8_FLAGS} `), tasks.demo);
  // A compiled binary keeps its V8 flags; its environment is whoever starts it (README).
  assert.ok(tasks.compile.includes(` --v8-flags=${BRIDGE_V8_FLAGS} `), tasks.compile);
});

Deno.test("the bundle launcher prints and sets the same flags and environment", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-run",
      "--allow-sys",
      new URL("scripts/launch_bundle.ts", ROOT).pathname,
      "--print",
      "--",
      "status",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.ok(
    line.startsWith(`env MALLOC_MMAP_THRESHOLD_=${BRIDGE_ENV.MALLOC_MMAP_THRESHOLD_} deno run `),
    line,
  );
  assert.ok(line.includes(` --v8-flags=${BRIDGE_V8_FLAGS} `), line);
});

Deno.test("mallocMmapThreshold reads the variable, and only a number", () => {
  assert.equal(mallocMmapThreshold(() => "131072"), 131072);
  assert.equal(mallocMmapThreshold(() => " 65536 "), 65536);
  assert.equal(mallocMmapThreshold(() => undefined), null);
  assert.equal(mallocMmapThreshold(() => "big"), null);
  assert.equal(mallocMmapThreshold(() => ""), null);
  assert.equal(BRIDGE_ENV.MALLOC_MMAP_THRESHOLD_, "4194304");
});
