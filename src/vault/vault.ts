/**
 * The vault: everything `bridge` must remember about its accounts, encrypted at rest in
 * `<data dir>/vault.enc`.
 *
 * Per account it keeps what the official Bridge keeps (proton-api.md §4.2): the email, user ID,
 * the API session (auth UID and refresh token), the salted key password that unlocks the account's
 * keys, the address mode, the bridge password that mail clients log in with, a random secret for
 * the encrypted message cache, the API cookies and sync flags. The account password is never
 * stored. Globally it keeps a reference to the TLS certificate, free-form settings, and a password
 * archive so that an account logged out and in again keeps its bridge password.
 *
 * File format (all integers big-endian, none needed so far):
 *
 * ```
 * "BRIDGEVAULT1" (12 bytes) ‖ nonce (12 random bytes, new on every write) ‖ AES-256-GCM ciphertext ‖ tag (16)
 * ```
 *
 * The AES key is the 32-byte vault key from a {@link KeyStore}; the additional authenticated data
 * is the 24-byte header (magic and nonce); the plaintext is UTF-8 JSON with a `format` number.
 * Writes go to a temporary file that is flushed and renamed over the vault (mode 0600).
 *
 * A file that is not ours (wrong magic), damaged (truncated, failed tag, bad content), from a newer
 * format, or whose key is missing is refused with a {@link VaultRefusedError} naming the file and
 * what to do, and is never written: only a {@link Vault} that opened successfully can save.
 *
 * @example
 * ```ts ignore
 * const vault = await Vault.open(dataDir, await openKeyStore(dataDir));
 * const account = vault.putAccount({ email, userId, authUid, refreshToken, keyPassword });
 * await vault.save();
 * console.log(account.bridgePassword);
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { join, resolve } from "node:path";
import { atomicWrite } from "./atomic_write.ts";
import { type KeyStore, KeyStoreError, VAULT_KEY_BYTES } from "./key_store.ts";

/** File name of the vault inside the data directory. */
export const VAULT_FILE_NAME = "vault.enc";

/** The magic at the start of every vault file; the trailing digit is the container version. */
export const VAULT_MAGIC = "BRIDGEVAULT1";

/** Version of the JSON content; a file with a higher number is refused. */
export const VAULT_FORMAT = 1;

const MAGIC_BYTES = new TextEncoder().encode(VAULT_MAGIC);
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC_BYTES.length + NONCE_BYTES;
/** Bytes of a bridge password before base64url: 16, as in the official Bridge. */
const BRIDGE_PASSWORD_BYTES = 16;
/** Bytes of a per-account cache secret. */
const CACHE_SECRET_BYTES = 32;

/** How an account's addresses appear to mail clients: one mailbox tree, or one per address. */
export type AddressMode = "combined" | "split";

/** Sync flags kept per account (the sync checkpoint itself lives in the store). */
export interface SyncFlags {
  /** The first full sync has completed. */
  firstSyncDone: boolean;
  /** A full resync was requested (e.g. after a bad event); the next start redoes it. */
  shouldResync: boolean;
}

/** One account as the vault keeps it. Values returned by {@link Vault} are copies. */
export interface VaultAccount {
  /** The primary email address; accounts are looked up by it, case-insensitively. */
  email: string;
  /** Proton user ID. */
  userId: string;
  /** Proton user name (may be empty). */
  username: string;
  /** API session UID (`x-pm-uid`). */
  authUid: string;
  /** API refresh token for that session. */
  refreshToken: string;
  /** The salted key password (derived from the mailbox password and the key salt). */
  keyPassword: string;
  /** Combined (one mailbox tree) or split (one per address). */
  addressMode: AddressMode;
  /** The password mail clients log in with: 16 random bytes, unpadded base64url (22 chars). */
  bridgePassword: string;
  /** 32 random bytes keying the account's encrypted message cache. */
  cacheSecret: Uint8Array;
  /** The API cookie jar, serialised by its owner; empty when none. */
  cookies: string;
  /**
   * The API base URL the session was issued by (`api.url` at login); empty for accounts signed in
   * before it was recorded. Its tokens are sent nowhere else (see `sessionServerMismatch`).
   */
  apiUrl: string;
  /** Sync flags. */
  sync: SyncFlags;
  /** When the account was first added (ISO 8601). */
  addedAt: string;
}

/** What {@link Vault.putAccount} needs; the rest is generated or defaulted. */
export interface AccountInput {
  email: string;
  userId: string;
  authUid: string;
  refreshToken: string;
  keyPassword: string;
  username?: string;
  addressMode?: AddressMode;
  cookies?: string;
  /** The API base URL that issued the session. */
  apiUrl?: string;
}

/** Where the IMAP/SMTP TLS certificate is: PEM text in the vault, or files on disk. */
export type TlsReference =
  | { kind: "pem"; certPem: string; keyPem: string }
  | { kind: "files"; certFile: string; keyFile: string };

/** A JSON value, for {@link Vault.setSetting}. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Why a vault file was refused. */
export type VaultRefusal =
  | "foreign"
  | "corrupt"
  | "newer-format"
  | "key-missing"
  | "key-unavailable"
  | "unreadable";

/** Misuse of the vault API (unknown account, bad input). */
export class VaultError extends Error {
  override name = "VaultError";
}

/** The vault file cannot be opened; it was left untouched. The message says what to do. */
export class VaultRefusedError extends VaultError {
  override name = "VaultRefusedError";
  /** The refused file. */
  readonly file: string;
  /** Why. */
  readonly reason: VaultRefusal;

  constructor(file: string, reason: VaultRefusal, message: string) {
    super(message);
    this.file = file;
    this.reason = reason;
  }
}

/** The vault path inside a data directory. */
export function vaultPath(dataDir: string): string {
  return join(resolve(dataDir), VAULT_FILE_NAME);
}

/** A new bridge password: 16 random bytes in unpadded base64url. */
export function generateBridgePassword(): string {
  return Buffer.from(randomBytes(BRIDGE_PASSWORD_BYTES)).toString("base64url");
}

/**
 * Whether `supplied` is the account's bridge password. Compares the decoded bytes in constant time
 * (as the official Bridge does); anything that does not decode to 16 bytes is wrong.
 */
export function bridgePasswordMatches(account: VaultAccount, supplied: string): boolean {
  const want = decodeBridgePassword(account.bridgePassword);
  const got = decodeBridgePassword(supplied);
  if (want === undefined || got === undefined) return false;
  return timingSafeEqual(want, got);
}

function decodeBridgePassword(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]{22}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  // 22 characters carry 132 bits for 128: only the canonical spelling counts, so a password that
  // differs in the unused low bits of its last character is a different (wrong) password.
  if (bytes.length !== BRIDGE_PASSWORD_BYTES || bytes.toString("base64url") !== text) {
    return undefined;
  }
  return bytes;
}

/** The decrypted content of the vault. */
interface VaultData {
  accounts: VaultAccount[];
  /** Bridge passwords of removed accounts, by lower-cased email. */
  passwordArchive: Record<string, string>;
  tls?: TlsReference;
  settings: Record<string, JsonValue>;
}

/** The credentials store. Changes are in memory until {@link Vault.save}. */
export class Vault {
  /** The data directory (absolute). */
  readonly dir: string;
  /** The vault file (absolute). */
  readonly path: string;
  /** Where the vault key lives. */
  readonly keyStore: KeyStore;
  #data: VaultData;
  #key?: CryptoKey;
  #exists: boolean;
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    dir: string,
    keyStore: KeyStore,
    data: VaultData,
    key: CryptoKey | undefined,
    exists: boolean,
  ) {
    this.dir = dir;
    this.path = join(dir, VAULT_FILE_NAME);
    this.keyStore = keyStore;
    this.#data = data;
    this.#key = key;
    this.#exists = exists;
  }

  /**
   * Opens the vault in `dataDir`. A missing file is an empty vault (nothing is written until
   * {@link save}); an existing one must decrypt with the key from `keyStore`.
   *
   * @throws {VaultRefusedError} when the file is foreign, damaged, newer, or its key is missing.
   */
  static async open(dataDir: string, keyStore: KeyStore): Promise<Vault> {
    const dir = resolve(dataDir);
    const file = join(dir, VAULT_FILE_NAME);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await Deno.readFile(file);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        throw new VaultRefusedError(
          file,
          "unreadable",
          `Cannot read the vault ${file}: ${messageOf(err)}. Check its permissions.`,
        );
      }
    }
    if (bytes !== undefined) checkContainer(file, bytes);
    let rawKey: Uint8Array | undefined;
    try {
      rawKey = await keyStore.load();
    } catch (err) {
      if (!(err instanceof KeyStoreError)) throw err;
      throw new VaultRefusedError(
        file,
        "key-unavailable",
        `Cannot get the key of the vault ${file}: ${err.message}`,
      );
    }
    const key = rawKey === undefined ? undefined : await importKey(rawKey);
    if (bytes === undefined) return new Vault(dir, keyStore, emptyData(), key, false);
    if (key === undefined) {
      const where = keyStore.describe();
      // A vault made with the keychain, opened where the keychain does not answer now (no D-Bus
      // session, a locked keyring): say so, rather than only that the key file has no key.
      const keychainDown = where.fallbackReason
        ? ` (it was probably kept in the OS keychain, which cannot be used now: ${where.fallbackReason}; ` +
          "make it reachable, e.g. run from a desktop session, and try again)"
        : "";
      throw new VaultRefusedError(
        file,
        "key-missing",
        `The vault ${file} exists but its key is not in ${where.location}${keychainDown}, so it ` +
          "cannot be decrypted. It was left untouched. Restore the key (or use the key store it " +
          "was created with), or move the vault aside and log in again with `bridge login`.",
      );
    }
    const data = await decrypt(file, bytes, key);
    return new Vault(dir, keyStore, data, key, true);
  }

  /** Whether the vault file exists (it is created by the first {@link save}). */
  get exists(): boolean {
    return this.#exists;
  }

  /** All accounts, in the order they were added. */
  accounts(): VaultAccount[] {
    return this.#data.accounts.map(cloneAccount);
  }

  /** The account with this primary email (case-insensitive), if any. */
  getAccount(email: string): VaultAccount | undefined {
    const found = this.#find(email);
    return found === undefined ? undefined : cloneAccount(found);
  }

  /** The account with this Proton user ID, if any. */
  accountByUserId(userId: string): VaultAccount | undefined {
    const found = this.#data.accounts.find((a) => a.userId === userId);
    return found === undefined ? undefined : cloneAccount(found);
  }

  /**
   * Adds an account, or updates the one with the same email or user ID. A new account gets a new
   * cache secret and a bridge password (the archived one when this email was removed before, else
   * a new one); an existing one keeps both, and its address mode unless `input` sets it.
   *
   * @throws {VaultError} when a field is empty or the address mode is unknown.
   */
  putAccount(input: AccountInput): VaultAccount {
    for (const field of ["email", "userId", "authUid", "refreshToken", "keyPassword"] as const) {
      if (typeof input[field] !== "string" || input[field] === "") {
        throw new VaultError(`Cannot store an account without ${field}`);
      }
    }
    if (input.addressMode !== undefined && !isAddressMode(input.addressMode)) {
      throw new VaultError(`Unknown address mode '${input.addressMode}': use combined or split`);
    }
    const existing = this.#find(input.email) ??
      this.#data.accounts.find((a) => a.userId === input.userId);
    if (existing) {
      existing.email = input.email;
      existing.userId = input.userId;
      existing.authUid = input.authUid;
      existing.refreshToken = input.refreshToken;
      existing.keyPassword = input.keyPassword;
      if (input.username !== undefined) existing.username = input.username;
      if (input.addressMode !== undefined) existing.addressMode = input.addressMode;
      if (input.cookies !== undefined) existing.cookies = input.cookies;
      if (input.apiUrl !== undefined) existing.apiUrl = input.apiUrl;
      return cloneAccount(existing);
    }
    const archived = this.#data.passwordArchive[input.email.toLowerCase()];
    delete this.#data.passwordArchive[input.email.toLowerCase()];
    const account: VaultAccount = {
      email: input.email,
      userId: input.userId,
      username: input.username ?? "",
      authUid: input.authUid,
      refreshToken: input.refreshToken,
      keyPassword: input.keyPassword,
      addressMode: input.addressMode ?? "combined",
      bridgePassword: archived ?? generateBridgePassword(),
      cacheSecret: randomBytes(CACHE_SECRET_BYTES),
      cookies: input.cookies ?? "",
      apiUrl: input.apiUrl ?? "",
      sync: { firstSyncDone: false, shouldResync: false },
      addedAt: new Date().toISOString(),
    };
    this.#data.accounts.push(account);
    return cloneAccount(account);
  }

  /**
   * Removes an account; its bridge password is archived so that logging in again restores it
   * (pass `archivePassword: false` to forget it too). Returns whether the account existed.
   */
  removeAccount(email: string, options: { archivePassword?: boolean } = {}): boolean {
    const found = this.#find(email);
    if (!found) return false;
    this.#data.accounts = this.#data.accounts.filter((a) => a !== found);
    if (options.archivePassword ?? true) {
      this.#data.passwordArchive[found.email.toLowerCase()] = found.bridgePassword;
    }
    return true;
  }

  /** Replaces an account's API session (after login or a token refresh). */
  setAuth(email: string, uid: string, refreshToken: string): void {
    if (uid === "" || refreshToken === "") {
      throw new VaultError("Cannot store an empty auth UID or refresh token");
    }
    const account = this.#mustFind(email);
    account.authUid = uid;
    account.refreshToken = refreshToken;
  }

  /**
   * Records the API server that issued the account's session (`""`: not known), the only one
   * its tokens are sent to.
   */
  setApiUrl(email: string, apiUrl: string): void {
    this.#mustFind(email).apiUrl = apiUrl;
  }

  /**
   * Forgets an account's API session (the server revoked it): the account, its bridge password,
   * cache secret and sync state stay, and `bridge login` may sign it in again.
   */
  clearAuth(email: string): void {
    const account = this.#mustFind(email);
    account.authUid = "";
    account.refreshToken = "";
  }

  /** Sets an account's address mode. */
  setAddressMode(email: string, mode: AddressMode): void {
    if (!isAddressMode(mode)) {
      throw new VaultError(`Unknown address mode '${mode}': use combined or split`);
    }
    this.#mustFind(email).addressMode = mode;
  }

  /** Gives an account a new random bridge password and returns it. */
  resetBridgePassword(email: string): string {
    const account = this.#mustFind(email);
    account.bridgePassword = generateBridgePassword();
    return account.bridgePassword;
  }

  /** Replaces an account's serialised cookie jar. */
  setCookies(email: string, cookies: string): void {
    this.#mustFind(email).cookies = cookies;
  }

  /** Updates an account's sync flags. */
  setSyncFlags(email: string, flags: Partial<SyncFlags>): void {
    const account = this.#mustFind(email);
    account.sync = { ...account.sync, ...pickSyncFlags(flags) };
  }

  /** Where the TLS certificate is, if recorded. */
  get tls(): TlsReference | undefined {
    return this.#data.tls === undefined ? undefined : { ...this.#data.tls };
  }

  /** Records (or with `undefined` forgets) where the TLS certificate is. */
  setTls(reference: TlsReference | undefined): void {
    if (reference !== undefined && !isTlsReference(reference)) {
      throw new VaultError("A TLS reference needs a certificate and a key (PEM text or files)");
    }
    this.#data.tls = reference === undefined ? undefined : { ...reference };
  }

  /** A global setting, or `undefined`. */
  getSetting(name: string): JsonValue | undefined {
    const value = this.#data.settings[name];
    return value === undefined ? undefined : structuredClone(value);
  }

  /** Sets (or with `undefined` removes) a global setting. */
  setSetting(name: string, value: JsonValue | undefined): void {
    if (value === undefined) delete this.#data.settings[name];
    else this.#data.settings[name] = structuredClone(value);
  }

  /**
   * Encrypts and writes the vault (atomically, mode 0600), creating the data directory and, on the
   * first save, a new vault key in the key store.
   *
   * @throws {KeyStoreError} when a new key cannot be stored (nothing is written then).
   */
  save(): Promise<void> {
    const run = this.#saving.then(() => this.#write());
    this.#saving = run.catch(() => {});
    return run;
  }

  async #write(): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.#checkStillOurs();
    if (this.#key === undefined) {
      const raw = randomBytes(VAULT_KEY_BYTES);
      await this.keyStore.save(raw);
      this.#key = await importKey(raw);
    }
    const nonce = randomBytes(NONCE_BYTES);
    const header = new Uint8Array(HEADER_BYTES);
    header.set(MAGIC_BYTES, 0);
    header.set(nonce, MAGIC_BYTES.length);
    const plain = new TextEncoder().encode(JSON.stringify(serialise(this.#data)));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce, additionalData: header },
        this.#key,
        plain,
      ),
    );
    const file = new Uint8Array(HEADER_BYTES + sealed.length);
    file.set(header, 0);
    file.set(sealed, HEADER_BYTES);
    await atomicWrite(this.path, file, 0o600);
    this.#exists = true;
  }

  /**
   * Refuses to write over a file that appeared since {@link open} (another process made a vault),
   * or that is no longer a vault: the never-overwrite rule holds for the whole life of a Vault.
   */
  async #checkStillOurs(): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw new VaultRefusedError(
        this.path,
        "unreadable",
        `Cannot read the vault ${this.path} before writing it: ${messageOf(err)}`,
      );
    }
    if (!this.#exists) {
      throw new VaultRefusedError(
        this.path,
        "foreign",
        `The vault ${this.path} was created by another process after this one started; it was ` +
          "left untouched. Run the command again.",
      );
    }
    checkContainer(this.path, bytes);
  }

  #find(email: string): VaultAccount | undefined {
    const lower = email.toLowerCase();
    return this.#data.accounts.find((a) => a.email.toLowerCase() === lower);
  }

  #mustFind(email: string): VaultAccount {
    const found = this.#find(email);
    if (!found) throw new VaultError(`No account ${email} in the vault`);
    return found;
  }
}

/** Refuses a file that is not a complete vault container. */
function checkContainer(file: string, bytes: Uint8Array): void {
  const family = MAGIC_BYTES.subarray(0, MAGIC_BYTES.length - 1);
  const startsWith = (prefix: Uint8Array) =>
    bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
  if (startsWith(MAGIC_BYTES)) {
    if (bytes.length < HEADER_BYTES + TAG_BYTES) {
      throw new VaultRefusedError(
        file,
        "corrupt",
        `The vault ${file} is damaged (truncated to ${bytes.length} bytes). It was left ` +
          "untouched. Restore it from a backup, or move it aside and log in again with " +
          "`bridge login`.",
      );
    }
    return;
  }
  if (startsWith(family) && bytes.length >= MAGIC_BYTES.length) {
    const version = new TextDecoder().decode(bytes.subarray(family.length, MAGIC_BYTES.length));
    throw new VaultRefusedError(
      file,
      "newer-format",
      `The vault ${file} has container version '${version}', which this version of bridge ` +
        "does not know (written by a newer bridge?). It was left untouched; use a newer bridge.",
    );
  }
  if (bytes.length < MAGIC_BYTES.length && bytes.every((b, i) => MAGIC_BYTES[i] === b)) {
    // A prefix of our magic (including an empty file): a write cut short by a crash or disk full.
    throw new VaultRefusedError(
      file,
      "corrupt",
      `The vault ${file} is damaged (truncated to ${bytes.length} bytes). It was left ` +
        "untouched. Restore it from a backup, or move it aside and log in again with " +
        "`bridge login`.",
    );
  }
  throw new VaultRefusedError(
    file,
    "foreign",
    `${file} is not a bridge vault (it does not start with "${VAULT_MAGIC}"). It was left ` +
      "untouched. Move it away, or choose another data directory with --data-dir.",
  );
}

async function decrypt(file: string, bytes: Uint8Array, key: CryptoKey): Promise<VaultData> {
  const header = bytes.slice(0, HEADER_BYTES);
  const nonce = bytes.slice(MAGIC_BYTES.length, HEADER_BYTES);
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce, additionalData: header },
        key,
        bytes.slice(HEADER_BYTES),
      ),
    );
  } catch {
    throw new VaultRefusedError(
      file,
      "corrupt",
      `The vault ${file} cannot be decrypted: it is damaged, or the vault key is not the one it ` +
        "was written with. It was left untouched. Restore the file or the key from a backup, or " +
        "move the file aside and log in again with `bridge login`.",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain));
  } catch {
    throw contentError(file, "its content is not JSON");
  }
  return deserialise(file, json);
}

function contentError(file: string, detail: string): VaultRefusedError {
  return new VaultRefusedError(
    file,
    "corrupt",
    `The vault ${file} decrypts but is damaged (${detail}). It was left untouched. Restore it ` +
      "from a backup, or move it aside and log in again with `bridge login`.",
  );
}

/** The on-disk JSON shape (byte arrays as base64). */
function serialise(data: VaultData): Record<string, unknown> {
  return {
    format: VAULT_FORMAT,
    accounts: data.accounts.map((a) => ({
      ...a,
      cacheSecret: Buffer.from(a.cacheSecret).toString("base64"),
    })),
    passwordArchive: data.passwordArchive,
    tls: data.tls ?? null,
    settings: data.settings,
  };
}

function deserialise(file: string, json: unknown): VaultData {
  if (!isRecord(json)) throw contentError(file, "not a JSON object");
  if (typeof json.format !== "number" || !Number.isInteger(json.format) || json.format < 1) {
    throw contentError(file, "no format number");
  }
  if (json.format > VAULT_FORMAT) {
    throw new VaultRefusedError(
      file,
      "newer-format",
      `The vault ${file} has format ${json.format}, newer than this bridge understands ` +
        `(${VAULT_FORMAT}). It was left untouched; use a newer bridge.`,
    );
  }
  if (!Array.isArray(json.accounts)) throw contentError(file, "no account list");
  const accounts = json.accounts.map((raw, i) => parseAccount(file, raw, i));
  const archive = json.passwordArchive ?? {};
  if (!isRecord(archive) || !Object.values(archive).every((v) => typeof v === "string")) {
    throw contentError(file, "bad password archive");
  }
  const tls = json.tls ?? undefined;
  if (tls !== undefined && !isTlsReference(tls)) throw contentError(file, "bad TLS reference");
  const settings = json.settings ?? {};
  if (!isRecord(settings)) throw contentError(file, "bad settings");
  return {
    accounts,
    passwordArchive: archive as Record<string, string>,
    tls: tls as TlsReference | undefined,
    settings: settings as Record<string, JsonValue>,
  };
}

function parseAccount(file: string, raw: unknown, index: number): VaultAccount {
  const bad = (what: string) => contentError(file, `account ${index + 1}: ${what}`);
  if (!isRecord(raw)) throw bad("not an object");
  const text = (name: string, allowEmpty = false): string => {
    const v = raw[name];
    if (typeof v !== "string" || (!allowEmpty && v === "")) throw bad(`bad ${name}`);
    return v;
  };
  const mode = raw.addressMode;
  if (!isAddressMode(mode)) throw bad("bad addressMode");
  const secretText = text("cacheSecret");
  const secret = new Uint8Array(Buffer.from(secretText, "base64"));
  if (secret.length !== CACHE_SECRET_BYTES) throw bad("bad cacheSecret");
  const sync = raw.sync;
  if (
    !isRecord(sync) || typeof sync.firstSyncDone !== "boolean" ||
    typeof sync.shouldResync !== "boolean"
  ) {
    throw bad("bad sync flags");
  }
  const bridgePassword = text("bridgePassword");
  if (decodeBridgePassword(bridgePassword) === undefined) throw bad("bad bridgePassword");
  // Both empty: the server revoked the session (`clearAuth`); one alone is damage.
  const authUid = text("authUid", true);
  const refreshToken = text("refreshToken", true);
  if ((authUid === "") !== (refreshToken === "")) throw bad("bad session");
  return {
    email: text("email"),
    userId: text("userId"),
    username: text("username", true),
    authUid,
    refreshToken,
    keyPassword: text("keyPassword"),
    addressMode: mode,
    bridgePassword,
    cacheSecret: secret,
    cookies: text("cookies", true),
    // Absent in vaults written before it was recorded.
    apiUrl: raw.apiUrl === undefined ? "" : text("apiUrl", true),
    sync: { firstSyncDone: sync.firstSyncDone, shouldResync: sync.shouldResync },
    addedAt: text("addedAt"),
  };
}

function emptyData(): VaultData {
  return { accounts: [], passwordArchive: {}, settings: {} };
}

function cloneAccount(a: VaultAccount): VaultAccount {
  return { ...a, cacheSecret: new Uint8Array(a.cacheSecret), sync: { ...a.sync } };
}

function pickSyncFlags(flags: Partial<SyncFlags>): Partial<SyncFlags> {
  const out: Partial<SyncFlags> = {};
  for (const name of ["firstSyncDone", "shouldResync"] as const) {
    const v = flags[name];
    if (v === undefined) continue;
    if (typeof v !== "boolean") throw new VaultError(`Sync flag ${name} must be true or false`);
    out[name] = v;
  }
  return out;
}

function isAddressMode(value: unknown): value is AddressMode {
  return value === "combined" || value === "split";
}

function isTlsReference(value: unknown): value is TlsReference {
  if (!isRecord(value)) return false;
  if (value.kind === "pem") {
    return typeof value.certPem === "string" && value.certPem !== "" &&
      typeof value.keyPem === "string" && value.keyPem !== "";
  }
  if (value.kind === "files") {
    return typeof value.certFile === "string" && value.certFile !== "" &&
      typeof value.keyFile === "string" && value.keyFile !== "";
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function importKey(raw: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    new Uint8Array(raw),
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
