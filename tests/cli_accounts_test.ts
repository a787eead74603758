/**
 * The account commands end to end: `bridge login`, `logout`, `accounts`, `info`, `mode` and
 * `reset-password` run as subprocesses (`deno run -A main.ts …`) against the reference API server
 * started in this process, over real HTTP. Every run uses a temporary data directory, the key file
 * (`--key-store file`, so no OS keychain is touched) and temporary XDG directories, so no user
 * configuration is read.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { type ApiServer, startApiServer } from "../src/api_server/mod.ts";
import { ApiClient, resumeSession, SignedOutError, unlockWithKeyPassword } from "../src/api/mod.ts";
import { openKeyStore, Vault, type VaultAccount } from "../src/vault/mod.ts";
import { totpCode } from "../src/crypto/totp.ts";
import { accountPaths } from "../src/cli/account_paths.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PASSWORD = "correct horse battery staple";
const MAILBOX_PASSWORD = "mailbox-only-secret-42";
const ALICE = "alice@example.test";
const BOB = "bob@example.test";

interface Fixture {
  server: ApiServer;
  /** Temporary home: XDG dirs, password files, the modulus key file. */
  home: string;
  /** The data directory the commands use. */
  data: string;
  /** A file holding the server's modulus key. */
  keyFile: string;
  /** A file holding {@link PASSWORD}. */
  passwordFile: string;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `fn` with a fresh reference server and temporary directories, then removes them. */
async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "bridge_cli_accounts_" });
  const server = await startApiServer({ port: 0, quiet: true });
  try {
    const keyFile = join(home, "modulus.asc");
    await Deno.writeTextFile(keyFile, server.modulusPublicKey);
    const passwordFile = await secretFile(home, "password", PASSWORD);
    await fn({ server, home, data: join(home, "data"), keyFile, passwordFile });
  } finally {
    await server.close();
    await Deno.remove(home, { recursive: true });
  }
}

/** Writes `secret` plus a newline to `<home>/<name>`. */
async function secretFile(home: string, name: string, secret: string): Promise<string> {
  const file = join(home, name);
  await Deno.writeTextFile(file, `${secret}\n`);
  return file;
}

/**
 * Runs `bridge <args>` with no inherited `BRIDGE_*` variables; `stdin` is piped in and closed
 * (absent: standard input is empty).
 */
async function bridge(
  f: Fixture,
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("BRIDGE_")),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    clearEnv: true,
    env: {
      ...base,
      XDG_CONFIG_HOME: join(f.home, "xdg-config"),
      XDG_DATA_HOME: join(f.home, "xdg-data"),
      NO_COLOR: "1",
      ...opts.env,
    },
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(opts.stdin));
    await writer.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The flags every run against the fixture needs. */
function common(f: Fixture): string[] {
  return ["--data-dir", f.data, "--key-store", "file"];
}

/** `bridge login EMAIL` against the fixture's server, password from the file. */
function loginArgs(f: Fixture, email: string, ...extra: string[]): string[] {
  return [
    "login",
    email,
    "--api-url",
    f.server.url,
    "--password-file",
    f.passwordFile,
    "--trust-modulus-key",
    f.keyFile,
    ...common(f),
    ...extra,
  ];
}

/** Opens the fixture's vault the way the commands do. */
async function openVault(f: Fixture): Promise<Vault> {
  return await Vault.open(f.data, await openKeyStore(f.data, { choice: "file" }));
}

async function vaultAccount(f: Fixture, email: string): Promise<VaultAccount | undefined> {
  return (await openVault(f)).getAccount(email);
}

/** Decrypts `vault.enc` with `vault.key` (format: magic ‖ nonce ‖ AES-GCM, AAD = header). */
async function decryptedVault(f: Fixture): Promise<string> {
  const file = await Deno.readFile(join(f.data, "vault.enc"));
  const rawKey = Buffer.from((await Deno.readTextFile(join(f.data, "vault.key"))).trim(), "base64");
  const key = await crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["decrypt"]);
  const header = file.slice(0, 24);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: file.slice(12, 24), additionalData: header },
    key,
    file.slice(24),
  );
  return new TextDecoder().decode(plain);
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}

/** Asserts that none of `secrets` appears in the decrypted vault or in any file of the data dir. */
async function assertNotStored(f: Fixture, secrets: string[]): Promise<void> {
  const plain = await decryptedVault(f);
  assert.ok(plain.includes('"keyPassword"'), "the decrypted vault is the vault's JSON");
  for (const secret of secrets) {
    assert.ok(!plain.includes(secret), "a password is in the decrypted vault");
    for (const file of await filesUnder(f.data)) {
      const bytes = new TextDecoder().decode(await Deno.readFile(file));
      assert.ok(!bytes.includes(secret), `a password is in ${file}`);
    }
  }
}

/** The IDs of the server-side sessions of `userID`. */
function sessions(f: Fixture, userID: string): string[] {
  return f.server.accounts.sessions(userID).map((s) => s.UID);
}

function client(f: Fixture): ApiClient {
  return new ApiClient({ baseURL: f.server.url, appVersion: "linux-bridge@0.1.0", maxRetries: 0 });
}

async function control(f: Fixture, method: string, path: string, body?: unknown) {
  const res = await fetch(`${f.server.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, JSON.stringify(json));
  return json;
}

/** Asserts `value` is `{imap:{host,port,security,username,password}, smtp:{…}}`, keys in order. */
function assertInfoShape(value: Record<string, Record<string, unknown>>, email: string): void {
  assert.deepEqual(Object.keys(value), ["imap", "smtp"]);
  for (const server of ["imap", "smtp"]) {
    assert.deepEqual(Object.keys(value[server]), [
      "host",
      "port",
      "security",
      "username",
      "password",
    ]);
    assert.equal(value[server].host, "127.0.0.1");
    assert.equal(value[server].security, "starttls");
    assert.equal(value[server].username, email);
    assert.match(String(value[server].password), /^[A-Za-z0-9_-]{22}$/);
  }
  assert.equal(value.imap.port, 1143);
  assert.equal(value.smtp.port, 1025);
  assert.equal(value.imap.password, value.smtp.password);
}

Deno.test("login without a working keychain warns once that the vault key is in a file", async () => {
  await withFixture(async (f) => {
    await f.server.createUser({ email: ALICE, password: PASSWORD });
    await f.server.createUser({ email: BOB, password: PASSWORD });
    // A secret-tool that cannot reach the Secret Service (no D-Bus session), first on the PATH.
    const bin = join(f.home, "bin");
    await Deno.mkdir(bin, { recursive: true });
    await Deno.writeTextFile(
      join(bin, "secret-tool"),
      "#!/bin/sh\necho 'Cannot autolaunch D-Bus without X11 $DISPLAY' >&2\nexit 1\n",
      { mode: 0o755 },
    );
    const env = { PATH: `${bin}:${Deno.env.get("PATH") ?? ""}` };
    const auto = (email: string) => [
      ...loginArgs(f, email).filter((a) => a !== "--key-store" && a !== "file"),
      "--key-store",
      "auto",
    ];
    const first = await bridge(f, auto(ALICE), { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stderr,
      /bridge login: warning: no usable keychain \(secret-tool failed: Cannot autolaunch D-Bus.*\); the vault key is kept in a file next to the vault.*vault\.key\)/,
    );
    assert.ok((await Deno.stat(join(f.data, "vault.key"))).isFile);
    // The vault exists now: a second login says nothing more about it.
    const second = await bridge(f, auto(BOB), { env });
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /warning/);
  });
});

Deno.test("login, one-password mode: stores session and key password only, prints the settings", async () => {
  await withFixture(async (f) => {
    const user = await f.server.createUser({ email: ALICE, password: PASSWORD });
    const r = await bridge(f, loginArgs(f, ALICE, "--json"));
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assertInfoShape(info, ALICE);

    const account = await vaultAccount(f, ALICE);
    assert.ok(account);
    assert.equal(account.userId, user.UserID);
    assert.equal(account.username, "alice");
    assert.equal(account.addressMode, "combined");
    assert.equal(account.bridgePassword, info.imap.password);
    assert.equal(account.keyPassword.length, 31);
    assert.equal(account.cacheSecret.length, 32);
    assert.deepEqual(sessions(f, user.UserID).length, 1);
    await assertNotStored(f, [PASSWORD]);

    // What was stored is enough to come back: resume the session, unlock with the key password.
    const c = client(f);
    await resumeSession(c, account.authUid, account.refreshToken);
    const unlocked = await unlockWithKeyPassword(c, account.keyPassword);
    assert.equal(unlocked.addresses[0].Email, ALICE);
    assert.equal(unlocked.addressKeys.size, 1);

    // `info --json` prints the same shape and values.
    const i = await bridge(f, ["info", ALICE, "--json", ...common(f)]);
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout.trim(), r.stdout.trim());
  });
});

Deno.test("login, two-password mode: mailbox password from a file or standard input", async () => {
  await withFixture(async (f) => {
    const user = await f.server.createUser({
      email: ALICE,
      password: PASSWORD,
      mailboxPassword: MAILBOX_PASSWORD,
    });
    // No mailbox password and nobody to ask: a clear refusal, no session left behind.
    const none = await bridge(f, loginArgs(f, ALICE));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /mailbox password.*--mailbox-password-file/);
    assert.deepEqual(sessions(f, user.UserID), []);

    const wrongFile = await secretFile(f.home, "wrong-mailbox", "not-it");
    const wrong = await bridge(f, loginArgs(f, ALICE, "--mailbox-password-file", wrongFile));
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong mailbox password/);
    assert.deepEqual(sessions(f, user.UserID), []);
    await assert.rejects(Deno.stat(join(f.data, "vault.enc")), Deno.errors.NotFound);

    // Both passwords piped in, one line each, in the order they are asked.
    const piped = await bridge(
      f,
      ["login", ALICE, "--api-url", f.server.url, "--trust-modulus-key", f.keyFile, ...common(f)],
      { stdin: `${PASSWORD}\n${MAILBOX_PASSWORD}\n` },
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /Signed in as alice@example\.test/);
    assert.match(piped.stdout, /IMAP\n {2}Host: +127\.0\.0\.1\n {2}Port: +1143/);
    assert.doesNotMatch(piped.stdout + piped.stderr, new RegExp(MAILBOX_PASSWORD));
    const account = await vaultAccount(f, ALICE);
    assert.ok(account);
    assert.match(piped.stdout, new RegExp(`Password: +${account.bridgePassword}`));
    await assertNotStored(f, [PASSWORD, MAILBOX_PASSWORD]);

    // The key password derives from the mailbox password: it unlocks the keys.
    const c = client(f);
    await resumeSession(c, account.authUid, account.refreshToken);
    assert.equal((await unlockWithKeyPassword(c, account.keyPassword)).addressKeys.size, 1);

    // And with --mailbox-password-file, for a second account.
    await f.server.createUser({ email: BOB, password: PASSWORD, mailboxPassword: "bob-mailbox" });
    const bobFile = await secretFile(f.home, "bob-mailbox", "bob-mailbox");
    const bob = await bridge(f, loginArgs(f, BOB, "--mailbox-password-file", bobFile));
    assert.equal(bob.code, 0, bob.stderr);
    assert.ok(await vaultAccount(f, BOB));
  });
});

Deno.test("login with TOTP: --totp, a wrong code, and no code", async () => {
  await withFixture(async (f) => {
    const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const user = await f.server.createUser({
      email: ALICE,
      password: PASSWORD,
      totpSecret: secret,
    });

    const none = await bridge(f, loginArgs(f, ALICE));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /two-factor code.*--totp/);
    assert.deepEqual(sessions(f, user.UserID), []);

    const now = Date.now() / 1000;
    const valid = new Set([-60, -30, 0, 30, 60].map((d) => totpCode(secret, now + d)));
    const wrongCode = ["000000", "111111", "222222", "333333", "444444", "555555"]
      .find((c) => !valid.has(c))!;
    const wrong = await bridge(f, loginArgs(f, ALICE, "--totp", wrongCode));
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong two-factor code/);
    assert.deepEqual(sessions(f, user.UserID), []);

    const ok = await bridge(f, loginArgs(f, ALICE, "--totp", totpCode(secret)));
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(await vaultAccount(f, ALICE));

    // The code can also come from standard input.
    await f.server.createUser({ email: BOB, password: PASSWORD, totpSecret: secret });
    const piped = await bridge(f, loginArgs(f, BOB), { stdin: `${totpCode(secret)}\n` });
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(await vaultAccount(f, BOB));
  });
});

Deno.test("login with human verification: URL and exit 1 without input, retry after Enter", async () => {
  await withFixture(async (f) => {
    const user = await f.server.createUser({ email: ALICE, password: PASSWORD });
    await control(f, "POST", "/ref/v1/human-verification", { Path: "/auth/v4" });

    const stuck = await bridge(f, loginArgs(f, ALICE));
    assert.equal(stuck.code, 1);
    assert.match(stuck.stderr, /https:\/\/verify\.proton\.me\/\?methods=[a-z,]+&token=\S+/);
    assert.match(stuck.stderr, /bridge login: human verification required: open https:\/\//);
    assert.match(stuck.stderr, /terminal/);
    assert.equal(await vaultAccount(f, ALICE), undefined);

    const done = await bridge(f, loginArgs(f, ALICE, "--json"), { stdin: "\n" });
    assert.equal(done.code, 0, done.stderr);
    assert.match(
      done.stderr,
      /human verification.*\n\n {2}https:\/\/verify\.proton\.me\/\?methods=/s,
    );
    assert.match(done.stderr, /press Enter/);
    assertInfoShape(JSON.parse(done.stdout), ALICE);
    assert.ok(await vaultAccount(f, ALICE));
    assert.equal(sessions(f, user.UserID).length, 1);
  });
});

Deno.test("login: wrong password and unknown user are refused clearly, nothing written", async () => {
  await withFixture(async (f) => {
    await f.server.createUser({ email: ALICE, password: PASSWORD });
    const wrongFile = await secretFile(f.home, "wrong", "not the password");
    const args = loginArgs(f, ALICE);
    args[args.indexOf("--password-file") + 1] = wrongFile;
    const wrong = await bridge(f, args);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr.trim(), "bridge login: wrong email or password");
    assert.equal(wrong.stdout, "");

    const unknown = await bridge(f, loginArgs(f, "nobody@example.test"));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /wrong email or password/);

    const noPassword = await bridge(f, [
      "login",
      ALICE,
      "--api-url",
      f.server.url,
      "--trust-modulus-key",
      f.keyFile,
      ...common(f),
    ]);
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.stderr, /no password given.*--password-file/);
    await assert.rejects(Deno.stat(join(f.data, "vault.enc")), Deno.errors.NotFound);
  });
});

Deno.test("login: an untrusted modulus is refused; trust from a flag, the config or env", async () => {
  await withFixture(async (f) => {
    const user = await f.server.createUser({ email: ALICE, password: PASSWORD });
    const args = loginArgs(f, ALICE).filter((a) => a !== "--trust-modulus-key" && a !== f.keyFile);
    const refused = await bridge(f, args);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not signed by a trusted key/);
    assert.match(refused.stderr, /--trust-modulus-key/);
    assert.deepEqual(sessions(f, user.UserID), []);
    await assert.rejects(Deno.stat(join(f.data, "vault.enc")), Deno.errors.NotFound);

    const notAKey = await secretFile(f.home, "not-a-key.asc", "hello");
    const bad = await bridge(f, [...args, "--trust-modulus-key", notAKey]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not an armored OpenPGP public key/);

    // The key named (relative to the file) in the config file; API URL and data dir from the
    // environment.
    await Deno.mkdir(join(f.home, "conf"));
    await Deno.copyFile(f.keyFile, join(f.home, "conf", "ref.asc"));
    const config = join(f.home, "conf", "bridge.toml");
    await Deno.writeTextFile(config, '[api]\ntrusted_modulus_keys = ["ref.asc"]\n');
    const viaEnv = await bridge(
      f,
      ["login", ALICE, "--password-file", f.passwordFile, "--key-store", "file", "--json"],
      { env: { BRIDGE_CONFIG: config, BRIDGE_DATA_DIR: f.data, BRIDGE_API_URL: f.server.url } },
    );
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assertInfoShape(JSON.parse(viaEnv.stdout), ALICE);
    assert.ok(await vaultAccount(f, ALICE));
  });
});

Deno.test("login twice is refused; a second session found after sign-in is deleted", async () => {
  await withFixture(async (f) => {
    const user = await f.server.createUser({ email: ALICE, password: PASSWORD });
    assert.equal((await bridge(f, loginArgs(f, ALICE))).code, 0);
    const before = await vaultAccount(f, ALICE);

    const again = await bridge(f, loginArgs(f, ALICE));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /alice@example\.test is already signed in.*bridge logout/);

    // By user name: only after signing in is it the same account; that session is deleted.
    const byName = await bridge(f, loginArgs(f, "alice"));
    assert.equal(byName.code, 1);
    assert.match(byName.stderr, /alice@example\.test is already signed in/);
    assert.equal(sessions(f, user.UserID).length, 1);
    assert.deepEqual(await vaultAccount(f, ALICE), before);
  });
});

Deno.test("accounts and info: JSON shapes, human output, unknown accounts", async () => {
  await withFixture(async (f) => {
    const empty = await bridge(f, ["accounts", "--json", ...common(f)]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), { accounts: [] });
    const emptyText = await bridge(f, ["accounts", ...common(f)]);
    assert.match(emptyText.stdout, /No accounts/);

    const alice = await f.server.createUser({ email: ALICE, password: PASSWORD });
    const bob = await f.server.createUser({ email: BOB, password: PASSWORD });
    assert.equal((await bridge(f, loginArgs(f, ALICE))).code, 0);
    assert.equal((await bridge(f, loginArgs(f, BOB))).code, 0);

    const list = await bridge(f, ["accounts", "--json", ...common(f)]);
    assert.equal(list.code, 0, list.stderr);
    const { accounts } = JSON.parse(list.stdout);
    assert.equal(accounts.length, 2);
    for (const a of accounts) {
      assert.deepEqual(Object.keys(a), [
        "email",
        "user_id",
        "username",
        "address_mode",
        "state",
        "added_at",
      ]);
    }
    assert.deepEqual(
      accounts.map((a: Record<string, string>) => [a.email, a.user_id, a.address_mode, a.state]),
      [
        [ALICE, alice.UserID, "combined", "signed-in"],
        [BOB, bob.UserID, "combined", "signed-in"],
      ],
    );
    assert.ok(!list.stdout.includes((await vaultAccount(f, ALICE))!.refreshToken));

    const text = await bridge(f, ["accounts", ...common(f)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^EMAIL +USER ID +MODE +STATE\n/);
    assert.match(text.stdout, new RegExp(`${ALICE} +${alice.UserID} +combined +signed in`));

    const info = await bridge(f, ["info", BOB, "--json", ...common(f)]);
    assert.equal(info.code, 0, info.stderr);
    assertInfoShape(JSON.parse(info.stdout), BOB);
    const human = await bridge(f, ["info", "BOB@example.test", ...common(f)]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Account bob@example\.test \(combined address mode\)/);
    assert.match(
      human.stdout,
      /SMTP\n {2}Host: +127\.0\.0\.1\n {2}Port: +1025\n {2}Security: +STARTTLS/,
    );

    const unknown = await bridge(f, ["info", "carol@example.test", ...common(f)]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no account carol@example\.test/);
  });
});

Deno.test("mode and reset-password change the vault", async () => {
  await withFixture(async (f) => {
    await f.server.createUser({ email: ALICE, password: PASSWORD });
    const login = await bridge(f, loginArgs(f, ALICE, "--json"));
    assert.equal(login.code, 0, login.stderr);
    const oldPassword = JSON.parse(login.stdout).imap.password;

    const split = await bridge(f, ["mode", ALICE, "split", ...common(f)]);
    assert.equal(split.code, 0, split.stderr);
    assert.match(split.stdout, /now in split address mode/);
    assert.equal((await vaultAccount(f, ALICE))!.addressMode, "split");
    const list = JSON.parse((await bridge(f, ["accounts", "--json", ...common(f)])).stdout);
    assert.equal(list.accounts[0].address_mode, "split");
    const same = await bridge(f, ["mode", ALICE, "split", ...common(f)]);
    assert.match(same.stdout, /already in split/);
    assert.equal((await bridge(f, ["mode", ALICE, "combined", ...common(f)])).code, 0);
    assert.equal((await vaultAccount(f, ALICE))!.addressMode, "combined");
    // The configuration file sets the mode: it wins, and the command says so (exit 1).
    const config = join(f.home, "bridge.toml");
    await Deno.writeTextFile(config, `[accounts."${ALICE}"]\naddress_mode = "combined"\n`);
    const overruled = await bridge(f, ["mode", ALICE, "split", "--config", config, ...common(f)]);
    assert.equal(overruled.code, 1);
    assert.equal(overruled.stdout, "");
    assert.match(overruled.stderr, /stays in combined mode; change it there\. Nothing was changed/);
    assert.equal((await vaultAccount(f, ALICE))!.addressMode, "combined", "the vault untouched");

    const badMode = await bridge(f, ["mode", ALICE, "both", ...common(f)]);
    assert.equal(badMode.code, 2);
    assert.match(badMode.stderr, /combined or split/);
    const unknown = await bridge(f, ["mode", "carol@example.test", "split", ...common(f)]);
    assert.equal(unknown.code, 1);

    const reset = await bridge(f, ["reset-password", ALICE, ...common(f)]);
    assert.equal(reset.code, 0, reset.stderr);
    const newPassword = (await vaultAccount(f, ALICE))!.bridgePassword;
    assert.notEqual(newPassword, oldPassword);
    assert.match(newPassword, /^[A-Za-z0-9_-]{22}$/);
    assert.match(reset.stdout, new RegExp(`New bridge password for ${ALICE}: ${newPassword}\n`));
    const info = JSON.parse((await bridge(f, ["info", ALICE, "--json", ...common(f)])).stdout);
    assert.equal(info.imap.password, newPassword);

    const json = await bridge(f, ["reset-password", ALICE, "--json", ...common(f)]);
    const out = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(out), ["email", "password"]);
    assert.equal(out.password, (await vaultAccount(f, ALICE))!.bridgePassword);
    assert.notEqual(out.password, newPassword);
  });
});

Deno.test("logout revokes the session, removes the account and its files", async () => {
  await withFixture(async (f) => {
    const user = await f.server.createUser({ email: ALICE, password: PASSWORD });
    await f.server.createUser({ email: BOB, password: PASSWORD });
    assert.equal((await bridge(f, loginArgs(f, ALICE))).code, 0);
    assert.equal((await bridge(f, loginArgs(f, BOB))).code, 0);
    const account = (await vaultAccount(f, ALICE))!;
    const bob = (await vaultAccount(f, BOB))!;
    for (const a of [account, bob]) {
      const paths = accountPaths(f.data, a.userId);
      await Deno.mkdir(paths.cache, { recursive: true });
      await Deno.writeTextFile(paths.index, "index");
      await Deno.writeTextFile(join(paths.cache, "msg"), "cached");
    }

    const out = await bridge(f, ["logout", ALICE, "--api-url", f.server.url, ...common(f)]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Logged out alice@example\.test \(signed out on the server/);
    assert.equal(out.stderr, "");
    assert.equal(await vaultAccount(f, ALICE), undefined);
    assert.ok(await vaultAccount(f, BOB));
    await assert.rejects(
      Deno.stat(accountPaths(f.data, account.userId).root),
      Deno.errors.NotFound,
    );
    assert.ok((await Deno.stat(accountPaths(f.data, bob.userId).index)).isFile);
    assert.deepEqual(sessions(f, user.UserID), []);
    await assert.rejects(
      resumeSession(client(f), account.authUid, account.refreshToken),
      SignedOutError,
    );

    const again = await bridge(f, ["logout", ALICE, "--api-url", f.server.url, ...common(f)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no account alice@example\.test/);

    // Signing in again gives mail clients the same bridge password (it was archived).
    assert.equal((await bridge(f, loginArgs(f, ALICE))).code, 0);
    assert.equal((await vaultAccount(f, ALICE))!.bridgePassword, account.bridgePassword);
  });
});

Deno.test("logout with the server unreachable or the session gone still removes the account", async () => {
  await withFixture(async (f) => {
    const user = await f.server.createUser({ email: ALICE, password: PASSWORD });
    await f.server.createUser({ email: BOB, password: PASSWORD });
    assert.equal((await bridge(f, loginArgs(f, ALICE))).code, 0);
    assert.equal((await bridge(f, loginArgs(f, BOB))).code, 0);

    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    listener.close();
    const offline = await bridge(f, ["logout", ALICE, "--api-url", deadUrl, ...common(f)]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stderr, /warning: could not sign alice@example\.test out on the server/);
    assert.equal(await vaultAccount(f, ALICE), undefined);
    assert.equal(sessions(f, user.UserID).length, 1);

    await control(f, "POST", `/ref/v1/users/${BOB}/revoke-sessions`, {});
    const gone = await bridge(f, ["logout", BOB, "--api-url", f.server.url, ...common(f)]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(gone.stderr, "");
    assert.match(gone.stdout, /session had already ended/);
    assert.equal(await vaultAccount(f, BOB), undefined);
  });
});

Deno.test("a session is sent only to the server it was signed in at", async () => {
  await withFixture(async (f) => {
    const user = await f.server.createUser({ email: ALICE, password: PASSWORD });
    assert.equal((await bridge(f, loginArgs(f, ALICE))).code, 0);
    assert.equal((await vaultAccount(f, ALICE))!.apiUrl, f.server.url);
    // Logging out against another server: no request carries the session there (the host
    // does not resolve, so trying would fail differently), the account goes here anyway.
    const out = await bridge(f, [
      "logout",
      ALICE,
      "--api-url",
      "https://mail-api.example.invalid",
      ...common(f),
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stderr,
      /could not sign alice@example\.test out on the server \(alice@example\.test was signed in at http:\/\/127\.0\.0\.1:\d+; its session is not sent to https:\/\/mail-api\.example\.invalid\./,
    );
    assert.equal(await vaultAccount(f, ALICE), undefined);
    assert.equal(sessions(f, user.UserID).length, 1, "the session was not revoked");
  });
});

Deno.test("account commands: usage errors exit 2", async () => {
  await withFixture(async (f) => {
    for (
      const args of [
        ["login", "a@b.c", "extra"],
        ["login", "--totp"],
        ["logout"],
        ["info"],
        ["accounts", "extra"],
        ["mode", ALICE],
        ["reset-password"],
        ["accounts", "--key-store", "cloud"],
        ["info", ALICE, "--bogus"],
      ]
    ) {
      const r = await bridge(f, args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^bridge ${args[0]}: `));
    }
  });
});
