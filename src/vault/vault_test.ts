import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { type KeyStore, KeyStoreError, openKeyStore } from "./key_store.ts";
import {
  type AccountInput,
  bridgePasswordMatches,
  generateBridgePassword,
  Vault,
  VAULT_MAGIC,
  VaultError,
  vaultPath,
  type VaultRefusal,
  VaultRefusedError,
} from "./vault.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "bridge_vault_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ALICE: AccountInput = {
  email: "Alice@Example.test",
  userId: "user-alice",
  authUid: "uid-1",
  refreshToken: "refresh-secret-token-1",
  keyPassword: "abcdefghijklmnopqrstuvwxyz01234",
  username: "alice",
};

const BOB: AccountInput = {
  email: "bob@example.test",
  userId: "user-bob",
  authUid: "uid-2",
  refreshToken: "refresh-2",
  keyPassword: "0123456789012345678901234567890",
  addressMode: "split",
};

async function fileStore(dir: string): Promise<KeyStore> {
  return await openKeyStore(dir, { choice: "file" });
}

/** A vault with Alice saved in `dir`; returns its file bytes. */
async function savedVault(dir: string): Promise<Uint8Array> {
  const vault = await Vault.open(dir, await fileStore(dir));
  vault.putAccount(ALICE);
  await vault.save();
  return await Deno.readFile(vaultPath(dir));
}

/** Asserts that opening `dir` is refused for `reason` and leaves the vault bytes unchanged. */
async function assertRefused(
  dir: string,
  reason: VaultRefusal,
  pattern: RegExp,
  store?: KeyStore,
): Promise<VaultRefusedError> {
  const path = vaultPath(dir);
  const before = await Deno.readFile(path).catch(() => undefined);
  let caught: VaultRefusedError | undefined;
  try {
    await Vault.open(dir, store ?? await fileStore(dir));
  } catch (err) {
    if (!(err instanceof VaultRefusedError)) throw err;
    caught = err;
  }
  assert.ok(caught, "the vault was not refused");
  assert.equal(caught.reason, reason, caught.message);
  assert.equal(caught.file, path);
  assert.ok(caught.message.includes(path), caught.message);
  assert.match(caught.message, pattern);
  if (before !== undefined) assert.deepEqual(await Deno.readFile(path), before);
  return caught;
}

/** Encrypts `plain` as a vault file with the key in `dir`'s key file. */
async function sealWithDirKey(dir: string, plain: Uint8Array): Promise<Uint8Array> {
  const raw = (await (await fileStore(dir)).load())!;
  const key = await crypto.subtle.importKey("raw", new Uint8Array(raw), "AES-GCM", false, [
    "encrypt",
  ]);
  const magic = new TextEncoder().encode(VAULT_MAGIC);
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const header = new Uint8Array([...magic, ...nonce]);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: header },
      key,
      new Uint8Array(plain),
    ),
  );
  return new Uint8Array([...header, ...sealed]);
}

/** The plaintext of a vault file sealed with the key in `dir` (header: magic, then the nonce). */
async function openWithDirKey(dir: string, file: Uint8Array): Promise<Uint8Array> {
  const raw = (await (await fileStore(dir)).load())!;
  const key = await crypto.subtle.importKey("raw", new Uint8Array(raw), "AES-GCM", false, [
    "decrypt",
  ]);
  const headerLength = new TextEncoder().encode(VAULT_MAGIC).length + 12;
  const header = file.slice(0, headerLength);
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: header.slice(headerLength - 12), additionalData: header },
      key,
      file.slice(headerLength),
    ),
  );
}

Deno.test("a missing vault opens empty and writes nothing until saved", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    assert.equal(vault.exists, false);
    assert.deepEqual(vault.accounts(), []);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("round trip: accounts, settings and TLS survive save and reopen", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    const alice = vault.putAccount(ALICE);
    const bob = vault.putAccount({ ...BOB, apiUrl: "https://mail-api.example.test" });
    vault.setCookies(BOB.email, '[{"name":"Session-Id","value":"x"}]');
    vault.setSyncFlags(ALICE.email, { firstSyncDone: true });
    vault.setSetting("imapPort", 1143);
    vault.setSetting("nested", { a: [1, "two", null, true] });
    vault.setTls({ kind: "files", certFile: "/d/cert.pem", keyFile: "/d/key.pem" });
    await vault.save();
    assert.equal(vault.exists, true);

    const again = await Vault.open(dir, await fileStore(dir));
    assert.equal(again.exists, true);
    assert.deepEqual(again.accounts(), vault.accounts());
    const a = again.getAccount("alice@example.test")!;
    assert.equal(a.email, "Alice@Example.test");
    assert.equal(a.userId, "user-alice");
    assert.equal(a.username, "alice");
    assert.equal(a.authUid, "uid-1");
    assert.equal(a.refreshToken, "refresh-secret-token-1");
    assert.equal(a.keyPassword, ALICE.keyPassword);
    assert.equal(a.addressMode, "combined");
    assert.equal(a.bridgePassword, alice.bridgePassword);
    assert.deepEqual(a.cacheSecret, alice.cacheSecret);
    assert.equal(a.cacheSecret.length, 32);
    assert.deepEqual(a.sync, { firstSyncDone: true, shouldResync: false });
    const b = again.accountByUserId("user-bob")!;
    assert.equal(b.addressMode, "split");
    assert.equal(b.cookies, '[{"name":"Session-Id","value":"x"}]');
    assert.equal(b.apiUrl, "https://mail-api.example.test");
    assert.equal(a.apiUrl, "", "not given: not recorded");
    assert.equal(b.bridgePassword, bob.bridgePassword);
    assert.notDeepEqual(a.cacheSecret, b.cacheSecret);
    assert.equal(again.getSetting("imapPort"), 1143);
    assert.deepEqual(again.getSetting("nested"), { a: [1, "two", null, true] });
    assert.deepEqual(again.tls, { kind: "files", certFile: "/d/cert.pem", keyFile: "/d/key.pem" });
  });
});

Deno.test("the file is encrypted, 0600, with a fresh nonce per write and no temp files", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    vault.putAccount(ALICE);
    await vault.save();
    const first = await Deno.readFile(vaultPath(dir));
    await vault.save();
    const second = await Deno.readFile(vaultPath(dir));
    const magic = new TextEncoder().encode(VAULT_MAGIC);
    assert.deepEqual(first.subarray(0, 12), magic);
    assert.notDeepEqual(first.subarray(12, 24), second.subarray(12, 24));
    const text = new TextDecoder("latin1").decode(first);
    for (const secret of [ALICE.refreshToken, ALICE.keyPassword, ALICE.email, "user-alice"]) {
      assert.ok(!text.includes(secret), `${secret} visible in the file`);
    }
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(vaultPath(dir))).mode! & 0o777, 0o600);
    }
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["vault.enc", "vault.key"]);
  });
});

Deno.test("concurrent saves are serialised", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    vault.putAccount(ALICE);
    await Promise.all([vault.save(), vault.save(), vault.save()]);
    assert.equal((await Vault.open(dir, await fileStore(dir))).accounts().length, 1);
  });
});

Deno.test("bridge passwords: 16 random bytes as 22 base64url chars, compared by bytes", async () => {
  await withDir(async (dir) => {
    const p = generateBridgePassword();
    assert.match(p, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(p, "base64url").length, 16);
    assert.notEqual(generateBridgePassword(), p);

    const vault = await Vault.open(dir, await fileStore(dir));
    const a = vault.putAccount(ALICE);
    assert.match(a.bridgePassword, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(bridgePasswordMatches(a, a.bridgePassword));
    assert.ok(!bridgePasswordMatches(a, generateBridgePassword()));
    assert.ok(!bridgePasswordMatches(a, a.bridgePassword.slice(0, 21)));
    assert.ok(!bridgePasswordMatches(a, `${a.bridgePassword}=`));
    assert.ok(!bridgePasswordMatches(a, ""));

    const fresh = vault.resetBridgePassword("ALICE@example.test");
    assert.notEqual(fresh, a.bridgePassword);
    assert.equal(vault.getAccount(ALICE.email)!.bridgePassword, fresh);
    assert.ok(!bridgePasswordMatches(vault.getAccount(ALICE.email)!, a.bridgePassword));
  });
});

Deno.test("a removed account's bridge password comes back when it is added again", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    const first = vault.putAccount(ALICE);
    assert.equal(vault.removeAccount("alice@EXAMPLE.test"), true);
    assert.equal(vault.getAccount(ALICE.email), undefined);
    assert.equal(vault.removeAccount(ALICE.email), false);
    await vault.save();
    const reopened = await Vault.open(dir, await fileStore(dir));
    const again = reopened.putAccount({ ...ALICE, authUid: "uid-9" });
    assert.equal(again.bridgePassword, first.bridgePassword);
    assert.notDeepEqual(again.cacheSecret, first.cacheSecret);

    reopened.removeAccount(ALICE.email, { archivePassword: false });
    assert.notEqual(reopened.putAccount(ALICE).bridgePassword, first.bridgePassword);
  });
});

Deno.test("putAccount updates an existing account in place, keeping its secrets", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    const first = vault.putAccount({ ...ALICE, addressMode: "split" });
    const second = vault.putAccount({ ...ALICE, authUid: "uid-new", refreshToken: "r-new" });
    assert.equal(vault.accounts().length, 1);
    assert.equal(second.bridgePassword, first.bridgePassword);
    assert.deepEqual(second.cacheSecret, first.cacheSecret);
    assert.equal(second.addressMode, "split");
    assert.equal(second.authUid, "uid-new");
    // Same user ID under a new primary email is the same account.
    const renamed = vault.putAccount({ ...ALICE, email: "alice2@example.test" });
    assert.equal(vault.accounts().length, 1);
    assert.equal(renamed.email, "alice2@example.test");
    assert.equal(renamed.bridgePassword, first.bridgePassword);
  });
});

Deno.test("setters change one account; returned accounts are copies", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    vault.putAccount(ALICE);
    vault.putAccount(BOB);
    vault.setAuth(ALICE.email, "uid-x", "refresh-x");
    vault.setAddressMode(ALICE.email, "split");
    vault.setSyncFlags(BOB.email, { shouldResync: true });
    const a = vault.getAccount(ALICE.email)!;
    assert.deepEqual([a.authUid, a.refreshToken, a.addressMode], ["uid-x", "refresh-x", "split"]);
    assert.deepEqual(vault.getAccount(BOB.email)!.sync, {
      firstSyncDone: false,
      shouldResync: true,
    });
    a.refreshToken = "mutated";
    a.cacheSecret[0] ^= 0xff;
    assert.equal(vault.getAccount(ALICE.email)!.refreshToken, "refresh-x");
    assert.notEqual(vault.getAccount(ALICE.email)!.cacheSecret[0], a.cacheSecret[0]);
  });
});

Deno.test("bad input and unknown accounts are VaultErrors", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    assert.throws(() => vault.putAccount({ ...ALICE, refreshToken: "" }), /without refreshToken/);
    assert.throws(
      () => vault.putAccount({ ...ALICE, addressMode: "both" as "split" }),
      /Unknown address mode 'both'/,
    );
    for (
      const call of [
        () => vault.setAuth("nobody@x.test", "u", "r"),
        () => vault.setAddressMode("nobody@x.test", "split"),
        () => vault.resetBridgePassword("nobody@x.test"),
        () => vault.setCookies("nobody@x.test", ""),
        () => vault.setSyncFlags("nobody@x.test", {}),
      ]
    ) {
      assert.throws(
        call,
        (err: Error) => err instanceof VaultError && /nobody@x\.test/.test(err.message),
      );
    }
    vault.putAccount(ALICE);
    assert.throws(() => vault.setAuth(ALICE.email, "", "r"), VaultError);
    assert.throws(
      () => vault.setSyncFlags(ALICE.email, { firstSyncDone: "yes" as unknown as boolean }),
      VaultError,
    );
    assert.throws(() => vault.setTls({ kind: "pem", certPem: "", keyPem: "" }), VaultError);
  });
});

Deno.test("a foreign file is refused, untouched, and no key is created", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(vaultPath(dir), '{"not": "a vault"}\n');
    await assertRefused(dir, "foreign", /is not a bridge vault.*left untouched/s);
    await assert.rejects(Deno.stat(join(dir, "vault.key")), Deno.errors.NotFound);
  });
});

Deno.test("a truncated vault is refused and left byte-for-byte unchanged", async () => {
  await withDir(async (dir) => {
    const bytes = await savedVault(dir);
    for (const length of [0, 5, 12, 30, bytes.length - 1]) {
      await Deno.writeFile(vaultPath(dir), bytes.subarray(0, length));
      await assertRefused(dir, "corrupt", /damaged|cannot be decrypted/);
    }
  });
});

Deno.test("a flipped bit anywhere (header, ciphertext, tag) is refused, untouched", async () => {
  await withDir(async (dir) => {
    const bytes = await savedVault(dir);
    for (const at of [14, 30, bytes.length - 1]) {
      const damaged = new Uint8Array(bytes);
      damaged[at] ^= 0x01;
      await Deno.writeFile(vaultPath(dir), damaged);
      const err = await assertRefused(dir, "corrupt", /cannot be decrypted/);
      assert.match(err.message, /left untouched/);
      assert.match(err.message, /bridge login/);
    }
  });
});

Deno.test("a refused vault cannot be saved over: opening throws, no Vault exists", async () => {
  await withDir(async (dir) => {
    const bytes = await savedVault(dir);
    const damaged = new Uint8Array(bytes);
    damaged[40] ^= 0xff;
    await Deno.writeFile(vaultPath(dir), damaged);
    await assertRefused(dir, "corrupt", /cannot be decrypted/);
    await assertRefused(dir, "corrupt", /cannot be decrypted/); // and again: still untouched
    assert.deepEqual(await Deno.readFile(vaultPath(dir)), damaged);
  });
});

Deno.test("the wrong key is refused", async () => {
  await withDir(async (dir) => {
    await savedVault(dir);
    await Deno.remove(join(dir, "vault.key"));
    await (await fileStore(dir)).save(crypto.getRandomValues(new Uint8Array(32)));
    await assertRefused(dir, "corrupt", /vault key is not the one it was written with/);
  });
});

Deno.test("a vault whose key is missing is refused and no new key is made", async () => {
  await withDir(async (dir) => {
    await savedVault(dir);
    await Deno.remove(join(dir, "vault.key"));
    await assertRefused(dir, "key-missing", /its key is not in .*vault\.key/);
    await assert.rejects(Deno.stat(join(dir, "vault.key")), Deno.errors.NotFound);
  });
});

Deno.test("a vault whose keychain does not answer now says so, not only that the file is empty", async () => {
  await withDir(async (dir) => {
    await savedVault(dir);
    await Deno.remove(join(dir, "vault.key"));
    // `auto` with a secret-tool that fails (no D-Bus session): the key file is the fallback.
    const store = await openKeyStore(dir, {
      os: "linux",
      runner: () =>
        Promise.resolve({ code: 1, stdout: "", stderr: "Cannot autolaunch D-Bus without X11\n" }),
    });
    await assertRefused(
      dir,
      "key-missing",
      /vault\.key \(it was probably kept in the OS keychain, which cannot be used now: no usable keychain \(secret-tool failed: Cannot autolaunch D-Bus/,
      store,
    );
  });
});

Deno.test("a key store that fails is reported as key-unavailable", async () => {
  await withDir(async (dir) => {
    await savedVault(dir);
    const broken: KeyStore = {
      describe: () => ({ kind: "keychain", backend: "secret-tool", location: "somewhere" }),
      load: () => Promise.reject(new KeyStoreError("the keyring is locked")),
      save: () => Promise.reject(new KeyStoreError("the keyring is locked")),
    };
    await assertRefused(dir, "key-unavailable", /the keyring is locked/, broken);
  });
});

Deno.test("a newer container or content format is refused", async () => {
  await withDir(async (dir) => {
    const bytes = await savedVault(dir);
    const v2 = new Uint8Array(bytes);
    v2[11] = "2".charCodeAt(0);
    await Deno.writeFile(vaultPath(dir), v2);
    await assertRefused(dir, "newer-format", /container version '2'.*newer bridge/s);

    const json = JSON.stringify({ format: 99, accounts: [] });
    await Deno.writeFile(vaultPath(dir), await sealWithDirKey(dir, new TextEncoder().encode(json)));
    await assertRefused(dir, "newer-format", /format 99/);
  });
});

Deno.test("decrypting to bad content is refused as damaged", async () => {
  await withDir(async (dir) => {
    const good = await savedVault(dir);
    const cases: [string, RegExp][] = [
      ["not json", /not JSON/],
      ["[1,2]", /not a JSON object/],
      ['{"accounts":[]}', /no format number/],
      ['{"format":1}', /no account list/],
      ['{"format":1,"accounts":[{"email":"a@b"}]}', /account 1: bad/],
      ['{"format":1,"accounts":[],"tls":{"kind":"pem"}}', /bad TLS reference/],
    ];
    for (const [plain, pattern] of cases) {
      await Deno.writeFile(
        vaultPath(dir),
        await sealWithDirKey(dir, new TextEncoder().encode(plain)),
      );
      await assertRefused(dir, "corrupt", pattern);
    }
    // An account written before the API URL was recorded opens with none.
    const plain = JSON.parse(
      new TextDecoder().decode(await openWithDirKey(dir, good)),
    ) as { accounts: Record<string, unknown>[] };
    delete plain.accounts[0].apiUrl;
    await Deno.writeFile(
      vaultPath(dir),
      await sealWithDirKey(dir, new TextEncoder().encode(JSON.stringify(plain))),
    );
    assert.equal((await Vault.open(dir, await fileStore(dir))).accounts()[0].apiUrl, "");
    // And the good file still opens.
    await Deno.writeFile(vaultPath(dir), good);
    assert.equal((await Vault.open(dir, await fileStore(dir))).accounts().length, 1);
  });
});

Deno.test("an unreadable vault path is refused", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(vaultPath(dir));
    await assertRefused(dir, "unreadable", /Cannot read the vault/);
  });
});

Deno.test("the first save stores a new key; a failing key store writes nothing", async () => {
  await withDir(async (dir) => {
    const failing: KeyStore = {
      describe: () => ({ kind: "keychain", backend: "secret-tool", location: "somewhere" }),
      load: () => Promise.resolve(undefined),
      save: () => Promise.reject(new KeyStoreError("cannot store")),
    };
    const vault = await Vault.open(dir, failing);
    vault.putAccount(ALICE);
    await assert.rejects(vault.save(), /cannot store/);
    await assert.rejects(Deno.stat(vaultPath(dir)), Deno.errors.NotFound);
  });
});

Deno.test("save never writes over a file that became foreign or appeared meanwhile", async () => {
  await withDir(async (dir) => {
    const store = await fileStore(dir);
    const vault = await Vault.open(dir, store);
    vault.putAccount(ALICE);
    await vault.save();
    await Deno.writeTextFile(vaultPath(dir), "someone else's file");
    await assert.rejects(vault.save(), (err: Error) => {
      assert.ok(err instanceof VaultRefusedError);
      assert.equal(err.reason, "foreign");
      return true;
    });
    assert.equal(await Deno.readTextFile(vaultPath(dir)), "someone else's file");

    // Opened while absent; another process then saves its own vault: ours refuses to clobber it.
    await Deno.remove(vaultPath(dir));
    const late = await Vault.open(dir, store);
    const early = await Vault.open(dir, store);
    early.putAccount(BOB);
    await early.save();
    const theirs = await Deno.readFile(vaultPath(dir));
    late.putAccount(ALICE);
    await assert.rejects(late.save(), /created by another process/);
    assert.deepEqual(await Deno.readFile(vaultPath(dir)), theirs);
  });
});

Deno.test("bridgePasswordMatches: a non-canonical last character is a wrong password", () => {
  const password = "AAAAAAAAAAAAAAAAAAAAAA"; // 16 zero bytes
  const account = { bridgePassword: password } as Parameters<typeof bridgePasswordMatches>[0];
  assert.ok(bridgePasswordMatches(account, password));
  // "B" differs from "A" only in bits that 16 bytes do not use.
  assert.ok(!bridgePasswordMatches(account, "AAAAAAAAAAAAAAAAAAAAAB"));
});

Deno.test("clearAuth: a revoked session is forgotten, the account and its secrets stay", async () => {
  await withDir(async (dir) => {
    const vault = await Vault.open(dir, await fileStore(dir));
    const stored = vault.putAccount(ALICE);
    vault.clearAuth(ALICE.email);
    await vault.save();
    const again = await Vault.open(dir, await fileStore(dir));
    const alice = again.getAccount(ALICE.email)!;
    assert.deepEqual([alice.authUid, alice.refreshToken], ["", ""]);
    assert.equal(alice.bridgePassword, stored.bridgePassword);
    assert.deepEqual(alice.cacheSecret, stored.cacheSecret);
    // Signing in again fills the session in, keeping the rest.
    const back = again.putAccount({ ...ALICE, authUid: "uid-9", refreshToken: "refresh-9" });
    assert.equal(back.bridgePassword, stored.bridgePassword);
    assert.equal(back.authUid, "uid-9");
  });
});
