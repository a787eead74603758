import assert from "node:assert/strict";
import { openKeyStore, Vault } from "../vault/mod.ts";
import { AccountRemovedError, VaultWriter } from "./vault_writer.ts";
import { withTempDir } from "./_cli_test_utils.ts";

async function seedVault(dir: string): Promise<void> {
  const vault = await Vault.open(dir, await openKeyStore(dir, { choice: "file" }));
  vault.putAccount({
    email: "ann@example.test",
    userId: "u1",
    authUid: "uid-1",
    refreshToken: "rt-1",
    keyPassword: "kp",
  });
  await vault.save();
}

Deno.test("vault writer: each write reads the vault afresh, so other writers' changes stay", async () => {
  await withTempDir(async (dir) => {
    await seedVault(dir);
    const writer = new VaultWriter(dir, "file");
    // Another command adds an account while serve runs.
    const other = await Vault.open(dir, await openKeyStore(dir, { choice: "file" }));
    other.putAccount({
      email: "bob@example.test",
      userId: "u2",
      authUid: "uid-2",
      refreshToken: "rt-2",
      keyPassword: "kp",
    });
    await other.save();
    // Writes queue behind each other.
    await Promise.all([
      writer.updateAccount("u1", (v, email) => v.setAuth(email, "uid-1", "rt-1b")),
      writer.updateAccount("u1", (v, email) => v.setSyncFlags(email, { firstSyncDone: true })),
    ]);
    const accounts = await writer.accounts();
    assert.deepEqual(accounts.map((a) => a.email).sort(), ["ann@example.test", "bob@example.test"]);
    const ann = accounts.find((a) => a.userId === "u1")!;
    assert.equal(ann.refreshToken, "rt-1b");
    assert.equal(ann.sync.firstSyncDone, true);
  });
});

Deno.test("vault writer: a write about a removed account is refused and changes nothing", async () => {
  await withTempDir(async (dir) => {
    await seedVault(dir);
    const writer = new VaultWriter(dir, "file");
    await assert.rejects(
      writer.updateAccount("gone", (v, email) => v.setAuth(email, "x", "y")),
      AccountRemovedError,
    );
    // The queue goes on after a failure.
    await writer.updateAccount("u1", (v, email) => v.setCookies(email, "c"));
    assert.equal((await writer.accounts())[0].cookies, "c");
  });
});
