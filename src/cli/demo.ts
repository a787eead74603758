/**
 * `bridge serve --demo`: everything a mail client needs to try the bridge without a Proton
 * account. The reference API server (`src/api_server`) runs in-process on 127.0.0.1 (a free
 * port), with one user, {@link DEMO_EMAIL}, whose mailbox is seeded with a few hundred realistic
 * messages over folders and labels (`src/api_server/seed.ts`). The demo then signs in to it the way
 * `bridge login` does (SRP against the server's modulus, which is trusted explicitly since it is
 * the reference server's own; key unlock; the vault keeps the session, the salted key password
 * and a new bridge password, never the password) and serve takes over from there.
 *
 * Where it lives: `--demo-data DIR` (kept between runs: the server's state in
 * `DIR/reference-api/`, the bridge's data directory is `DIR` itself, so a second run resumes with
 * the same bridge password and an already synced index), else a new temporary directory removed
 * on exit. The vault key is kept in a key file there (no OS keychain is touched).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { ApiClient, login, logout, unlock } from "../api/mod.ts";
import type { ApiServer } from "../api_server/mod.ts";
import { openKeyStore, Vault } from "../vault/mod.ts";

/** The demo account's address (the IMAP/SMTP login name). */
export const DEMO_EMAIL = "demo@bridge.test";

/**
 * The demo account's password on the reference server. Not a secret: it only opens the local,
 * throwaway reference server; mail clients use the bridge password instead.
 */
export const DEMO_ACCOUNT_PASSWORD = "demo-password";

/** Messages seeded into a new demo mailbox. */
export const DEMO_MESSAGES = 300;

/** Folder of the reference server's state inside the demo directory. */
export const DEMO_SERVER_DIR = "reference-api";

/** Where a demo keeps its files. */
export interface DemoDir {
  /** The demo directory, which is also the bridge's data directory. */
  root: string;
  /** The reference server's state. */
  serverDir: string;
  /** Whether it is a temporary directory (removed by {@link Demo.close}). */
  temporary: boolean;
}

/** Makes (or reuses) the demo directory: `dir` when given (kept), else a temporary one. */
export async function prepareDemoDir(dir?: string): Promise<DemoDir> {
  const root = dir === undefined
    ? await Deno.makeTempDir({ prefix: "bridge-demo-" })
    : resolve(dir);
  await Deno.mkdir(root, { recursive: true, mode: 0o700 });
  const serverDir = join(root, DEMO_SERVER_DIR);
  await Deno.mkdir(serverDir, { recursive: true, mode: 0o700 });
  return { root, serverDir, temporary: dir === undefined };
}

/** A running demo back end. */
export interface Demo {
  /** The reference server's URL (the API URL serve uses). */
  apiUrl: string;
  email: string;
  /** Whether the account was created (and seeded) in this run. */
  created: boolean;
  /** Whether the demo signed in to the vault in this run. */
  signedIn: boolean;
  /** Messages in the demo mailbox when it was created (0 when it already existed). */
  seeded: number;
  /** Stops the reference server (the directory is the caller's: see {@link removeDemoDir}). */
  close(): Promise<void>;
}

/** Options of {@link startDemo}. */
export interface DemoOptions {
  dir: DemoDir;
  /** `x-pm-appversion` for the sign-in. */
  appVersion: string;
  /** Messages to seed into a new demo mailbox (default {@link DEMO_MESSAGES}). */
  messages?: number;
  /** Progress lines (no secrets). */
  log?: (message: string) => void;
}

/**
 * Starts the reference server, creates and seeds the demo account if it does not exist yet, and
 * signs it in to the vault of `dir.root` unless the vault already has it.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const log = options.log ?? (() => {});
  // Loaded on demand: other commands do not pay for the server at startup.
  const { startApiServer } = await import("../api_server/server.ts");
  const server: ApiServer = await startApiServer({
    hostname: "127.0.0.1",
    port: 0,
    dataDir: options.dir.serverDir,
    quiet: true,
  });
  try {
    let created = false;
    let seeded = 0;
    if (!server.accounts.findAddress(DEMO_EMAIL)) {
      seeded = options.messages ?? DEMO_MESSAGES;
      log(`creating the demo account ${DEMO_EMAIL} with ${seeded} messages`);
      await server.createUser({
        email: DEMO_EMAIL,
        password: DEMO_ACCOUNT_PASSWORD,
        messages: seeded,
      });
      created = true;
    }
    const keyStore = await openKeyStore(options.dir.root, { choice: "file" });
    const vault = await Vault.open(options.dir.root, keyStore);
    let signedIn = false;
    const known = vault.getAccount(DEMO_EMAIL);
    const stale = known !== undefined && !server.accounts.hasUser(known.userId);
    if (known === undefined || stale) {
      if (stale) vault.removeAccount(DEMO_EMAIL, { archivePassword: false });
      log(`signing in to ${DEMO_EMAIL}`);
      await signIn(server, vault, options.appVersion);
      signedIn = true;
    }
    return {
      apiUrl: server.url,
      email: DEMO_EMAIL,
      created,
      signedIn,
      seeded,
      close: () => server.close(),
    };
  } catch (err) {
    await server.close().catch(() => {});
    throw err;
  }
}

/** Signs in as `bridge login` does and stores the account in the vault. */
async function signIn(server: ApiServer, vault: Vault, appVersion: string): Promise<void> {
  const client = new ApiClient({ baseURL: server.url, appVersion });
  await login(client, {
    username: DEMO_EMAIL,
    password: DEMO_ACCOUNT_PASSWORD,
    // The reference server signs its SRP modulus with its own key: trust exactly that key.
    trustedModulusKeys: [server.modulusPublicKey],
  });
  let stored = false;
  try {
    const unlocked = await unlock(client, DEMO_ACCOUNT_PASSWORD);
    vault.putAccount({
      email: unlocked.addresses[0]?.Email || DEMO_EMAIL,
      userId: unlocked.user.ID,
      username: unlocked.user.Name ?? "",
      authUid: client.uid,
      refreshToken: client.refreshToken,
      keyPassword: unlocked.keyPassword,
      cookies: client.cookieJar.serialize(),
    });
    await vault.save();
    stored = true;
  } finally {
    if (!stored) await logout(client).catch(() => {});
  }
}

/** Removes a temporary demo directory (a kept one, from `--demo-data`, stays). */
export async function removeDemoDir(dir: DemoDir): Promise<void> {
  if (!dir.temporary) return;
  await Deno.remove(dir.root, { recursive: true }).catch(() => {});
}
