import assert from "node:assert/strict";
import { join } from "node:path";
import { accountPaths, removeAccountFiles } from "./account_paths.ts";

Deno.test("accountPaths: index and cache under <data>/accounts/<userID>/", () => {
  const p = accountPaths("/data/bridge/", "AbC-12_x==");
  assert.equal(p.root, "/data/bridge/accounts/AbC-12_x==");
  assert.equal(p.index, "/data/bridge/accounts/AbC-12_x==/index.sqlite");
  assert.equal(p.cache, "/data/bridge/accounts/AbC-12_x==/cache");
});

Deno.test("accountPaths: a user ID that is not one folder name is refused", () => {
  for (const bad of ["", ".", "..", "a/b", "..\\x", "a\0b"]) {
    assert.throws(() => accountPaths("/data", bad), RangeError, bad);
  }
});

Deno.test("removeAccountFiles: deletes the account's folder only, tolerates a missing one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bridge_account_paths_" });
  try {
    const a = accountPaths(dir, "u1");
    const b = accountPaths(dir, "u2");
    for (const p of [a, b]) {
      await Deno.mkdir(p.cache, { recursive: true });
      await Deno.writeTextFile(p.index, "x");
      await Deno.writeTextFile(join(p.cache, "m"), "x");
    }
    assert.equal(await removeAccountFiles(dir, "u1"), true);
    await assert.rejects(Deno.stat(a.root), Deno.errors.NotFound);
    assert.ok((await Deno.stat(b.index)).isFile);
    assert.equal(await removeAccountFiles(dir, "u1"), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("accountPaths: a configured cache directory holds one folder per account", () => {
  const p = accountPaths("/data", "u1", "/var/cache/bridge");
  assert.equal(p.index, "/data/accounts/u1/index.sqlite");
  assert.equal(p.cache, "/var/cache/bridge/u1");
});

Deno.test("removeAccountFiles: removes the account folder and a separate cache folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = accountPaths(`${dir}/data`, "u1", `${dir}/cache`);
    await Deno.mkdir(p.root, { recursive: true });
    await Deno.mkdir(p.cache, { recursive: true });
    // A cache a new index moved aside, and another account's beside it.
    await Deno.mkdir(`${p.cache}.before-2026-11-30T00-00-00-000Z`);
    await Deno.mkdir(`${dir}/cache/u10.before-2026-11-30T00-00-00-000Z`);
    assert.equal(await removeAccountFiles(`${dir}/data`, "u1", `${dir}/cache`), true);
    await assert.rejects(Deno.stat(p.root), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(p.cache), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${p.cache}.before-2026-11-30T00-00-00-000Z`));
    assert.ok((await Deno.stat(`${dir}/cache/u10.before-2026-11-30T00-00-00-000Z`)).isDirectory);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
