import assert from "node:assert/strict";

async function bridge(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../../main.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("bridge --version prints the version", async () => {
  const r = await bridge("--version");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^bridge \d+\.\d+\.\d+\n$/);
});

Deno.test("bridge --help lists commands", async () => {
  const r = await bridge("--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: bridge <command>/);
});

Deno.test("bridge with an unknown command exits 2", async () => {
  const r = await bridge("frobnicate");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});
