import assert from "node:assert/strict";
import { join } from "node:path";
import { openKeyStore, Vault, vaultPath } from "../vault/mod.ts";
import { runBridge, withTempDir } from "./_cli_test_utils.ts";

/** Runs `bridge <args>` with XDG config/data under `home`. */
function bridge(home: string, ...args: string[]) {
  return runBridge(home, {}, ...args);
}

/** {@link bridge} with extra environment variables. */
function bridgeEnv(home: string, env: Record<string, string>, ...args: string[]) {
  return runBridge(home, env, ...args);
}

function withDir(fn: (dir: string) => Promise<void>) {
  return withTempDir(fn, "bridge_vault_cli_");
}

/** Saves a vault with `n` accounts in `dataDir`, its key in the key file. */
async function makeVault(dataDir: string, n: number) {
  const vault = await Vault.open(dataDir, await openKeyStore(dataDir, { choice: "file" }));
  for (let i = 0; i < n; i++) {
    vault.putAccount({
      email: `user${i}@example.test`,
      userId: `u${i}`,
      authUid: `uid${i}`,
      refreshToken: `secret-refresh-${i}`,
      keyPassword: "k".repeat(31),
    });
  }
  await vault.save();
}

Deno.test("bridge vault status --json: no vault yet → absent, exit 0, nothing written", async () => {
  await withDir(async (home) => {
    const data = join(home, "d");
    const r = await bridge(
      home,
      "vault",
      "status",
      "--data-dir",
      data,
      "--json",
      "--key-store",
      "file",
    );
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.state, "absent");
    assert.equal(s.vault, join(data, "vault.enc"));
    assert.equal(s.accounts, 0);
    assert.equal(s.key_store.kind, "file");
    assert.equal(s.key_store.location, join(data, "vault.key"));
    assert.match(s.key_store.warning, /weaker/);
    await assert.rejects(Deno.stat(data), Deno.errors.NotFound);
  });
});

Deno.test("bridge vault status: a readable vault shows its accounts and key store, exit 0", async () => {
  await withDir(async (home) => {
    const data = join(home, "d");
    await makeVault(data, 2);
    const r = await bridge(home, "vault", "status", "--data-dir", data, "--json");
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.state, s.accounts, s.key_store.kind], ["ok", 2, "file"]);
    assert.ok(!r.stdout.includes("secret-refresh"));

    const text = await bridge(home, "vault", "status", "--data-dir", data);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Vault: +.*vault\.enc \(readable, 2 accounts\)/);
    assert.match(text.stdout, /Key store: key file: .*vault\.key/);
    assert.match(text.stdout, /Warning: +.*weaker/);
  });
});

Deno.test("bridge vault status without --data-dir: BRIDGE_DATA_DIR, else the default", async () => {
  await withDir(async (home) => {
    const r = await bridge(home, "vault", "status", "--json");
    assert.equal(r.code, 0, r.stderr);
    if (Deno.build.os === "linux") {
      assert.equal(JSON.parse(r.stdout).data_dir, join(home, "data", "bridge"));
    }
    const data = join(home, "elsewhere");
    await makeVault(data, 3);
    const e = await bridgeEnv(home, { BRIDGE_DATA_DIR: data }, "vault", "status", "--json");
    assert.equal(e.code, 0, e.stderr);
    assert.deepEqual([JSON.parse(e.stdout).data_dir, JSON.parse(e.stdout).accounts], [data, 3]);
  });
});

Deno.test("bridge vault status: a damaged vault is refused, exit 1, bytes unchanged", async () => {
  await withDir(async (home) => {
    const data = join(home, "d");
    await makeVault(data, 1);
    const bytes = await Deno.readFile(vaultPath(data));
    bytes[bytes.length - 3] ^= 0x10;
    await Deno.writeFile(vaultPath(data), bytes);
    const r = await bridge(home, "vault", "status", "--data-dir", data, "--json");
    assert.equal(r.code, 1);
    const s = JSON.parse(r.stdout);
    assert.equal(s.state, "refused");
    assert.equal(s.reason, "corrupt");
    assert.match(s.message, /cannot be decrypted.*left untouched/s);
    assert.ok(s.message.includes(vaultPath(data)));
    assert.deepEqual(await Deno.readFile(vaultPath(data)), bytes);

    const text = await bridge(home, "vault", "status", "--data-dir", data);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /\(REFUSED\)/);
    assert.match(text.stdout, /cannot be decrypted/);
  });
});

Deno.test("bridge vault status: a foreign file and a missing key are refused, exit 1", async () => {
  await withDir(async (home) => {
    const data = join(home, "d");
    await Deno.mkdir(data);
    await Deno.writeTextFile(vaultPath(data), "PK\u0003\u0004 a zip file\n");
    let r = await bridge(home, "vault", "status", "--data-dir", data, "--json");
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).reason, "foreign");
    assert.equal(await Deno.readTextFile(vaultPath(data)), "PK\u0003\u0004 a zip file\n");

    const other = join(home, "e");
    await makeVault(other, 1);
    await Deno.remove(join(other, "vault.key"));
    r = await bridge(home, "vault", "status", "--data-dir", other, "--json");
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).reason, "key-missing");
  });
});

Deno.test("bridge vault: usage errors exit 2", async () => {
  await withDir(async (home) => {
    for (
      const args of [
        ["vault"],
        ["vault", "open"],
        ["vault", "status", "extra"],
        ["vault", "status", "--key-store", "cloud"],
        ["vault", "status", "--bogus"],
      ]
    ) {
      const r = await bridge(home, ...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^bridge vault: /);
    }
    const help = await bridge(home, "vault", "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: bridge vault status/);
  });
});
