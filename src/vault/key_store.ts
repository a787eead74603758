/**
 * Where the vault key lives: the 32 random bytes that encrypt `vault.enc`.
 *
 * The key goes to the operating system's keychain where one works, found by running its command
 * line tool:
 *
 * | OS | tool | entry |
 * |---|---|---|
 * | Linux, BSD | `secret-tool` (libsecret, Secret Service over D-Bus: GNOME Keyring, KeePassXC…) | attributes `application=bridge`, `vault=<data dir>` |
 * | macOS | `security` | generic password, service `bridge-vault-key`, account `<data dir>` |
 * | Windows | `powershell.exe` calling `CredReadW`/`CredWriteW` (Credential Manager) | generic credential `bridge-vault-key:<data dir>` |
 *
 * Otherwise the key is kept in `<data dir>/vault.key` (mode 0600), which is weaker: anyone who can
 * read the data directory can decrypt the vault. {@link KeyStore.describe} says which store is in
 * use, with a warning for the file.
 *
 * The choice is `auto` (an existing `vault.key` first, then a working keychain, else the file),
 * `keychain` (an error when none works) or `file`. The key never appears on a command line: it is
 * written to the tools on standard input. After storing, the key is read back and compared.
 *
 * The entry is named after the absolute data directory, so a moved data directory no longer finds
 * its key in a keychain (the vault then refuses to open rather than start over).
 *
 * The macOS and Windows adapters are written from the tools' documentation and tested here with a
 * fake command runner only; they are best effort.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join, resolve } from "node:path";
import { atomicWrite } from "./atomic_write.ts";

/** Length of the vault key in bytes. */
export const VAULT_KEY_BYTES = 32;

/** File name of the fallback key file inside the data directory. */
export const KEY_FILE_NAME = "vault.key";

/** How to pick the key store: see the module documentation. */
export type KeyStoreChoice = "auto" | "keychain" | "file";

/** The choices of {@link KeyStoreChoice}, for flag and config validation. */
export const KEY_STORE_CHOICES: readonly KeyStoreChoice[] = ["auto", "keychain", "file"];

/** Which keychain tool an adapter drives. */
export type KeychainBackend = "secret-tool" | "macos-security" | "windows-credential-manager";

/** What `bridge vault status` shows about the key store. */
export interface KeyStoreDescription {
  /** `keychain` for an OS keychain, `file` for `vault.key`. */
  kind: "keychain" | "file";
  /** The tool, or `file`. */
  backend: KeychainBackend | "file";
  /** Where the key is (or will be) kept, for people. */
  location: string;
  /** Set when the store is weaker than a keychain, or when a keychain was wanted but not usable. */
  warning?: string;
  /** Why `auto` chose the file: the keychain it tried did not work (for error messages). */
  fallbackReason?: string;
}

/** A place that holds one vault key. */
export interface KeyStore {
  /** Which store this is and where; no secrets. */
  describe(): KeyStoreDescription;
  /**
   * The stored key, or `undefined` when none is stored yet.
   *
   * @throws {KeyStoreError} when the store cannot be read or holds something that is not a key.
   */
  load(): Promise<Uint8Array | undefined>;
  /**
   * Stores a new key. Refuses to replace a different key already stored.
   *
   * @throws {KeyStoreError} when the key cannot be stored, or reads back differently.
   */
  save(key: Uint8Array): Promise<void>;
}

/** A key store failed: unreadable, locked, damaged, or not available. Never contains the key. */
export class KeyStoreError extends Error {
  override name = "KeyStoreError";
}

/** Output of one run of an external tool. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `program` with `args`, writing `stdin` (when given) to its standard input, and resolves to
 * its exit code and output, or to `undefined` when the program is not installed. Injected in tests.
 */
export type CommandRunner = (
  program: string,
  args: string[],
  stdin?: string,
) => Promise<RunResult | undefined>;

/** The real {@link CommandRunner}, using `Deno.Command`. */
export const denoRunner: CommandRunner = async (program, args, stdin) => {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied) {
      return undefined;
    }
    throw err;
  }
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(stdin));
      await writer.close();
    } catch {
      // The tool exited without reading; its exit code tells what happened.
    }
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
};

/** Options of {@link openKeyStore}. */
export interface KeyStoreOptions {
  /** Which store to use; default `auto`. */
  choice?: KeyStoreChoice;
  /** Operating system, to pick the keychain tool; default this one. */
  os?: typeof Deno.build.os;
  /** Runs the keychain tools; default {@link denoRunner}. */
  runner?: CommandRunner;
}

/**
 * Picks the key store for the vault in `dataDir` (see the module documentation for the rules).
 *
 * @throws {KeyStoreError} when `choice` is `keychain` and no keychain works.
 * @example
 * ```ts ignore
 * const store = await openKeyStore("/home/me/.local/share/bridge", { choice: "auto" });
 * console.log(store.describe());
 * ```
 */
export async function openKeyStore(
  dataDir: string,
  options: KeyStoreOptions = {},
): Promise<KeyStore> {
  const choice = options.choice ?? "auto";
  if (!KEY_STORE_CHOICES.includes(choice)) {
    throw new KeyStoreError(`Unknown key store '${choice}': use auto, keychain or file`);
  }
  const dir = resolve(dataDir);
  if (choice === "file") return new FileKeyStore(dir);
  const runner = options.runner ?? denoRunner;
  const keychain = keychainFor(options.os ?? Deno.build.os, dir, runner);
  if (choice === "keychain") {
    const problem = await keychain.probe();
    if (problem !== undefined) {
      throw new KeyStoreError(
        `No usable keychain: ${problem}. Use the key file instead (key store "file").`,
      );
    }
    return keychain;
  }
  const file = new FileKeyStore(dir);
  if (await file.exists()) return file;
  const problem = await keychain.probe();
  if (problem === undefined) return keychain;
  return new FileKeyStore(dir, `no usable keychain (${problem})`);
}

/** The keychain adapter for `os`. */
function keychainFor(os: string, dir: string, runner: CommandRunner): KeychainStore {
  if (os === "darwin") return new MacKeychain(dir, runner);
  if (os === "windows") return new WindowsCredentials(dir, runner);
  return new SecretToolKeychain(dir, runner);
}

/** A keychain adapter: a {@link KeyStore} that can also tell whether it works here. */
interface KeychainStore extends KeyStore {
  /** `undefined` when the keychain works, else why not. */
  probe(): Promise<string | undefined>;
}

/** The key in `<data dir>/vault.key`, base64 on one line, mode 0600. */
class FileKeyStore implements KeyStore {
  readonly #path: string;
  readonly #fallbackReason?: string;
  #permissionWarning?: string;

  constructor(dir: string, fallbackReason?: string) {
    this.#path = join(dir, KEY_FILE_NAME);
    this.#fallbackReason = fallbackReason;
  }

  describe(): KeyStoreDescription {
    const weaker = "the vault key is kept in a file next to the vault, which is weaker than an " +
      "OS keychain: anyone who can read the data directory can decrypt the vault";
    const parts = [
      this.#fallbackReason ? `${this.#fallbackReason}; ${weaker}` : weaker,
      this.#permissionWarning,
    ].filter((p) => p !== undefined);
    return {
      kind: "file",
      backend: "file",
      location: this.#path,
      warning: parts.join("; "),
      ...(this.#fallbackReason ? { fallbackReason: this.#fallbackReason } : {}),
    };
  }

  async exists(): Promise<boolean> {
    try {
      await Deno.lstat(this.#path);
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw new KeyStoreError(`Cannot read ${this.#path}: ${messageOf(err)}`);
    }
  }

  async load(): Promise<Uint8Array | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw new KeyStoreError(`Cannot read the vault key file ${this.#path}: ${messageOf(err)}`);
    }
    if (Deno.build.os !== "windows") {
      const mode = (await Deno.stat(this.#path)).mode;
      if (mode !== null && (mode & 0o077) !== 0) {
        this.#permissionWarning = `${this.#path} can be read by other users (mode ` +
          `${(mode & 0o777).toString(8)}); restrict it with chmod 600`;
      }
    }
    const key = decodeKey(text);
    if (key === undefined) {
      throw new KeyStoreError(
        `${this.#path} does not hold a vault key (expected ${VAULT_KEY_BYTES} bytes in base64). ` +
          "It was left untouched; restore it from a backup.",
      );
    }
    return key;
  }

  async save(key: Uint8Array): Promise<void> {
    checkKey(key);
    if (await this.exists()) {
      throw new KeyStoreError(`${this.#path} already exists; it is never replaced`);
    }
    const dir = join(this.#path, "..");
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      await atomicWrite(this.#path, new TextEncoder().encode(encodeKey(key) + "\n"), 0o600);
    } catch (err) {
      throw new KeyStoreError(`Cannot write the vault key file ${this.#path}: ${messageOf(err)}`);
    }
  }
}

/** Shared logic of the three keychain adapters: store, then read back and compare. */
abstract class CommandKeychain implements KeychainStore {
  protected readonly dir: string;
  protected readonly runner: CommandRunner;

  constructor(dir: string, runner: CommandRunner) {
    this.dir = dir;
    this.runner = runner;
  }

  abstract describe(): KeyStoreDescription;
  abstract probe(): Promise<string | undefined>;
  /** The stored text, or `undefined` when there is no entry; throws on tool failure. */
  protected abstract lookup(): Promise<string | undefined>;
  /** Stores `text` (the base64 key) in the entry; throws on tool failure. */
  protected abstract store(text: string): Promise<void>;

  async load(): Promise<Uint8Array | undefined> {
    const text = await this.lookup();
    if (text === undefined) return undefined;
    const key = decodeKey(text);
    if (key === undefined) {
      throw new KeyStoreError(
        `The keychain entry (${this.describe().location}) does not hold a vault key`,
      );
    }
    return key;
  }

  async save(key: Uint8Array): Promise<void> {
    checkKey(key);
    const existing = await this.lookup();
    if (existing !== undefined) {
      if (sameKey(decodeKey(existing), key)) return;
      throw new KeyStoreError(
        `The keychain already holds a different vault key (${this.describe().location}); ` +
          "it is never replaced",
      );
    }
    await this.store(encodeKey(key));
    const back = await this.lookup();
    if (!sameKey(back === undefined ? undefined : decodeKey(back), key)) {
      throw new KeyStoreError(
        `The vault key stored in the keychain (${this.describe().location}) reads back ` +
          'differently; use the key file instead (key store "file")',
      );
    }
  }

  /** Runs the tool; `undefined` when it is not installed. */
  protected async run(program: string, args: string[], stdin?: string) {
    try {
      return await this.runner(program, args, stdin);
    } catch (err) {
      throw new KeyStoreError(`Cannot run ${program}: ${messageOf(err)}`);
    }
  }

  /** Runs the tool, turning "not installed" into an error. */
  protected async mustRun(program: string, args: string[], stdin?: string): Promise<RunResult> {
    const result = await this.run(program, args, stdin);
    if (result === undefined) throw new KeyStoreError(`${program} is not installed`);
    return result;
  }
}

/** Linux: libsecret's `secret-tool` (Secret Service over D-Bus). */
class SecretToolKeychain extends CommandKeychain {
  #attributes(): string[] {
    return ["application", "bridge", "vault", this.dir];
  }

  describe(): KeyStoreDescription {
    return {
      kind: "keychain",
      backend: "secret-tool",
      location: `Secret Service item with attributes application=bridge vault=${this.dir}`,
    };
  }

  async probe(): Promise<string | undefined> {
    const r = await this.run("secret-tool", ["lookup", ...this.#attributes()]);
    if (r === undefined) return "secret-tool is not installed";
    if (r.code === 0 || (r.code === 1 && r.stderr.trim() === "")) return undefined;
    return `secret-tool failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`;
  }

  protected async lookup(): Promise<string | undefined> {
    const r = await this.mustRun("secret-tool", ["lookup", ...this.#attributes()]);
    if (r.code === 0) return r.stdout;
    // secret-tool exits 1 without a message when no item matches.
    if (r.code === 1 && r.stderr.trim() === "") return undefined;
    throw new KeyStoreError(
      `Cannot read the vault key from the Secret Service: ${firstLine(r.stderr) || r.code}`,
    );
  }

  protected async store(text: string): Promise<void> {
    const label = `bridge vault key (${this.dir})`;
    const r = await this.mustRun(
      "secret-tool",
      ["store", `--label=${label}`, ...this.#attributes()],
      text,
    );
    if (r.code !== 0) {
      throw new KeyStoreError(
        `Cannot store the vault key in the Secret Service: ${firstLine(r.stderr) || r.code}`,
      );
    }
  }
}

/** Service name of the macOS keychain entry. */
const MAC_SERVICE = "bridge-vault-key";
/** `security find-generic-password` exit code for "item not found" (errSecItemNotFound). */
const MAC_NOT_FOUND = 44;

/** macOS: the `security` tool and the login keychain. */
class MacKeychain extends CommandKeychain {
  describe(): KeyStoreDescription {
    return {
      kind: "keychain",
      backend: "macos-security",
      location: `macOS keychain, generic password service "${MAC_SERVICE}" account "${this.dir}"`,
    };
  }

  async probe(): Promise<string | undefined> {
    const r = await this.run("security", this.#findArgs());
    if (r === undefined) return "the security tool is not installed";
    if (r.code === 0 || r.code === MAC_NOT_FOUND) return undefined;
    return `security failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`;
  }

  #findArgs(): string[] {
    return ["find-generic-password", "-s", MAC_SERVICE, "-a", this.dir, "-w"];
  }

  protected async lookup(): Promise<string | undefined> {
    const r = await this.mustRun("security", this.#findArgs());
    if (r.code === 0) return r.stdout;
    if (r.code === MAC_NOT_FOUND) return undefined;
    throw new KeyStoreError(
      `Cannot read the vault key from the macOS keychain: ${firstLine(r.stderr) || r.code}`,
    );
  }

  protected async store(text: string): Promise<void> {
    // `security -i` reads commands from standard input, which keeps the key off the command line.
    const line = [
      "add-generic-password",
      "-U",
      "-s",
      quoteForSecurity(MAC_SERVICE),
      "-a",
      quoteForSecurity(this.dir),
      "-l",
      quoteForSecurity("bridge vault key"),
      "-w",
      quoteForSecurity(text),
    ].join(" ");
    const r = await this.mustRun("security", ["-i"], `${line}\nquit\n`);
    if (r.code !== 0 || /error|usage/i.test(r.stderr)) {
      throw new KeyStoreError(
        `Cannot store the vault key in the macOS keychain: ${firstLine(r.stderr) || r.code}`,
      );
    }
  }
}

/** A double-quoted argument for `security -i` (backslash escapes `"` and `\`). */
export function quoteForSecurity(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Prefix of the Windows Credential Manager target name. */
const WINDOWS_TARGET = "bridge-vault-key";
/** Exit code of the PowerShell scripts when no credential exists. */
const WINDOWS_NOT_FOUND = 2;

/** C# glue for CredReadW/CredWriteW (generic credentials), compiled by PowerShell's Add-Type. */
const WINDOWS_CRED_TYPE = `
using System;
using System.Runtime.InteropServices;
public static class BridgeVaultCred {
  [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
  private struct Credential {
    public int Flags; public int Type; public string TargetName; public string Comment;
    public long LastWritten; public int CredentialBlobSize; public IntPtr CredentialBlob;
    public int Persist; public int AttributeCount; public IntPtr Attributes;
    public string TargetAlias; public string UserName;
  }
  [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
  private static extern bool CredReadW(string target, int type, int flags, out IntPtr cred);
  [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
  private static extern bool CredWriteW(ref Credential cred, int flags);
  [DllImport("advapi32.dll")]
  private static extern void CredFree(IntPtr cred);
  public static string Read(string target) {
    IntPtr p;
    if (!CredReadW(target, 1, 0, out p)) {
      int e = Marshal.GetLastWin32Error();
      if (e == 1168) return null;
      throw new System.ComponentModel.Win32Exception(e);
    }
    try {
      Credential c = (Credential)Marshal.PtrToStructure(p, typeof(Credential));
      byte[] b = new byte[c.CredentialBlobSize];
      Marshal.Copy(c.CredentialBlob, b, 0, b.Length);
      return System.Text.Encoding.UTF8.GetString(b);
    } finally { CredFree(p); }
  }
  public static void Write(string target, string secret) {
    byte[] b = System.Text.Encoding.UTF8.GetBytes(secret);
    Credential c = new Credential();
    c.Type = 1; c.TargetName = target; c.Persist = 2; c.UserName = "bridge";
    c.CredentialBlobSize = b.Length;
    c.CredentialBlob = Marshal.AllocHGlobal(b.Length);
    try {
      Marshal.Copy(b, 0, c.CredentialBlob, b.Length);
      if (!CredWriteW(ref c, 0)) throw new System.ComponentModel.Win32Exception(Marshal.GetLastWin32Error());
    } finally { Marshal.FreeHGlobal(c.CredentialBlob); }
  }
}`;

/**
 * Windows: Credential Manager through `powershell.exe`. The script travels as `-EncodedCommand`
 * (it holds no secret); the key is written to the script's standard input.
 */
class WindowsCredentials extends CommandKeychain {
  #target(): string {
    return `${WINDOWS_TARGET}:${this.dir}`;
  }

  describe(): KeyStoreDescription {
    return {
      kind: "keychain",
      backend: "windows-credential-manager",
      location: `Windows Credential Manager, generic credential "${this.#target()}"`,
    };
  }

  #script(body: string): string[] {
    const target = `'${this.#target().replace(/'/g, "''")}'`;
    const script = `$ErrorActionPreference = 'Stop'\n` +
      `Add-Type -TypeDefinition @'\n${WINDOWS_CRED_TYPE}\n'@\n` +
      `$target = ${target}\n${body}\n`;
    const encoded = Buffer.from(script, "utf16le").toString("base64");
    return ["-NoProfile", "-NonInteractive", "-EncodedCommand", encoded];
  }

  #readArgs(): string[] {
    return this.#script(
      "$v = [BridgeVaultCred]::Read($target)\n" +
        `if ($null -eq $v) { exit ${WINDOWS_NOT_FOUND} }\n[Console]::Out.Write($v)\nexit 0`,
    );
  }

  async probe(): Promise<string | undefined> {
    const r = await this.run("powershell.exe", this.#readArgs());
    if (r === undefined) return "powershell.exe is not available";
    if (r.code === 0 || r.code === WINDOWS_NOT_FOUND) return undefined;
    return `Credential Manager failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`;
  }

  protected async lookup(): Promise<string | undefined> {
    const r = await this.mustRun("powershell.exe", this.#readArgs());
    if (r.code === 0) return r.stdout;
    if (r.code === WINDOWS_NOT_FOUND) return undefined;
    throw new KeyStoreError(
      `Cannot read the vault key from Credential Manager: ${firstLine(r.stderr) || r.code}`,
    );
  }

  protected async store(text: string): Promise<void> {
    const args = this.#script(
      "$secret = [Console]::In.ReadToEnd().Trim()\n" +
        "[BridgeVaultCred]::Write($target, $secret)\nexit 0",
    );
    const r = await this.mustRun("powershell.exe", args, text);
    if (r.code !== 0) {
      throw new KeyStoreError(
        `Cannot store the vault key in Credential Manager: ${firstLine(r.stderr) || r.code}`,
      );
    }
  }
}

/** Base64 of a key. */
function encodeKey(key: Uint8Array): string {
  return Buffer.from(key).toString("base64");
}

/** The key in base64 text, or `undefined` when the text is not exactly a 32-byte key. */
function decodeKey(text: string): Uint8Array | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  const bytes = new Uint8Array(Buffer.from(trimmed, "base64"));
  return bytes.length === VAULT_KEY_BYTES ? bytes : undefined;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== VAULT_KEY_BYTES) {
    throw new KeyStoreError(`A vault key has ${VAULT_KEY_BYTES} bytes, not ${key.length}`);
  }
}

function sameKey(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.trim() ?? "";
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
