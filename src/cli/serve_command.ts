/**
 * `bridge serve`: runs the bridge until SIGINT or SIGTERM (flags in `serve_options.ts`).
 *
 * Start-up, in order: configuration (flags > `BRIDGE_*` > file > defaults) → the data directory's
 * lock (a second serve on the same directory is refused, naming the PID of the first; a lock left
 * by a dead process is taken over) → in demo mode the reference API server and the demo account
 * (`demo.ts`) → the vault's accounts → the TLS certificate (made on first start, renewed before
 * expiry; `src/tls`) → every account starting in the background (session, keys, index, first
 * sync, event loop: `account_runtime.ts`) and the IMAP and SMTP listeners → the control endpoint
 * for `bridge status` (`<data>/serve.json`, `control_server.ts`). Once every account is synced
 * (or has failed) and the listeners are up, serve says it is ready: with `--json` the line
 *
 * ```json
 * {"event":"ready","imap":{"host":"127.0.0.1","port":1143,"security":"starttls"},"smtp":{…},"accounts":[{"email":"…","password":"…"}]}
 * ```
 *
 * else a block with the settings for a mail client.
 *
 * Signals: SIGINT/SIGTERM stop gracefully (listeners stop accepting and let sessions finish,
 * syncs and event loops stop after what they are applying, indexes close, the lock and control
 * file go) and exit 0; a second SIGINT/SIGTERM exits at once (130). SIGHUP reloads the config
 * file and the vault: the log level and the event poll timing take effect, accounts added with
 * `bridge login` start, removed ones stop, reset bridge passwords apply, an address mode changed
 * with `bridge mode` or in the file applies to the next logins; other changed settings are listed
 * as needing a restart.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { type Config, ConfigError } from "../config/mod.ts";
import { CertificateError, type CertificateInfo, loadOrCreate } from "../tls/mod.ts";
import { KeyStoreError, VaultError, vaultPath } from "../vault/mod.ts";
import { acquireLock, type Lock, LockHeldError } from "./lock_file.ts";
import {
  type ControlInfo,
  removeControlInfo,
  removeControlInfoSync,
  startControlServer,
  writeControlInfo,
} from "./control_server.ts";
import { type Demo, type DemoDir, prepareDemoDir, removeDemoDir, startDemo } from "./demo.ts";
import { BridgeService, type ListenerAddress, type ReloadResult } from "./bridge_service.ts";
import { isWildcardHost } from "./account_settings.ts";
import { isLoopback } from "../smtp/mod.ts";
import {
  loadServeConfig,
  parseServeFlags,
  SERVE_HELP,
  type ServeConfig,
  type ServeFlags,
  type ServeOverrides,
} from "./serve_options.ts";
import { ServeOutput } from "./serve_output.ts";
import { SERVE_PARTS } from "./serve_parts.ts";
import { VaultWriter } from "./vault_writer.ts";
import { VERSION } from "./version.ts";
import { formatMailClientSettings, type MailClientSettings } from "./account_settings.ts";
import {
  type ListenerStatus,
  memoryStatus,
  STATUS_FORMAT,
  type StatusReport,
} from "./status_report.ts";

/** How long a graceful stop may take before the process exits anyway, ms. */
const STOP_TIMEOUT_MS = 30_000;

/** A start-up failure: the message is for the user; exit code 1. */
class StartError extends Error {
  override name = "StartError";
}

/**
 * A repeated stop signal within this many ms of the first is the same request delivered twice
 * (a terminal signals the whole process group, and `deno task` forwards it to its child again).
 */
const SAME_SIGNAL_MS = 2_000;

/** Signals: stop requests and reload requests. */
class Signals {
  readonly stop = Promise.withResolvers<string>();
  #firstStopAt: number | undefined;
  #onReload: (() => void) | undefined;
  #onForce: (() => void) | undefined;
  readonly #installed: [Deno.Signal, () => void][] = [];

  constructor() {
    const stopSignals: Deno.Signal[] = Deno.build.os === "windows"
      ? ["SIGINT", "SIGBREAK"]
      : ["SIGINT", "SIGTERM"];
    for (const s of stopSignals) {
      this.#install(s, () => {
        const now = Date.now();
        if (this.#firstStopAt === undefined) {
          this.#firstStopAt = now;
          this.stop.resolve(s);
          return;
        }
        if (now - this.#firstStopAt < SAME_SIGNAL_MS) return;
        console.error(`bridge serve: ${s} again: exiting without waiting`);
        try {
          this.#onForce?.();
        } finally {
          Deno.exit(130);
        }
      });
    }
    if (Deno.build.os !== "windows") this.#install("SIGHUP", () => this.#onReload?.());
  }

  /** Sets what must still happen, synchronously, when a second signal forces the exit. */
  onForce(fn: () => void): void {
    this.#onForce = fn;
  }

  #install(signal: Deno.Signal, fn: () => void): void {
    try {
      Deno.addSignalListener(signal, fn);
      this.#installed.push([signal, fn]);
    } catch {
      // A signal this platform does not have.
    }
  }

  /** Sets what SIGHUP does. */
  onReload(fn: () => void): void {
    this.#onReload = fn;
  }

  /** Whether a stop was asked for. */
  get stopping(): boolean {
    return this.#firstStopAt !== undefined;
  }

  dispose(): void {
    for (const [s, fn] of this.#installed) Deno.removeSignalListener(s, fn);
  }
}

/**
 * Runs `bridge serve` with `args`; resolves to the exit code once stopped.
 *
 * @example
 * ```ts ignore
 * const code = await runServe(["--demo", "--json"]);
 * ```
 */
export async function runServe(args: string[]): Promise<number> {
  const flags = parseServeFlags(args);
  if (flags.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const output = new ServeOutput({
    json: flags.json,
    level: flags.logLevel ?? "info",
    format: "text",
  });
  const signals = new Signals();
  const cleanup: (() => Promise<void>)[] = [];
  try {
    return await serve(flags, output, signals, cleanup);
  } catch (err) {
    if (err instanceof StartError) {
      if (output.json) output.failure(err.message);
      else console.error(`bridge serve: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
    output.finish();
    signals.dispose();
  }
}

async function loadConfigOrFail(
  flags: ServeFlags,
  overrides: ServeOverrides,
): Promise<ServeConfig> {
  try {
    return await loadServeConfig(flags, overrides);
  } catch (err) {
    if (err instanceof ConfigError) {
      const hint = /allow_non_loopback/.test(err.message)
        ? "\n(on the command line: --allow-non-loopback)"
        : "";
      throw new StartError(`invalid configuration:\n${err.message}${hint}`);
    }
    throw err;
  }
}

async function serve(
  flags: ServeFlags,
  output: ServeOutput,
  signals: Signals,
  cleanup: (() => Promise<void>)[],
): Promise<number> {
  let demoDir: DemoDir | undefined;
  if (flags.demo) {
    demoDir = await prepareDemoDir(flags.demoData);
    const dir = demoDir;
    cleanup.push(() => removeDemoDir(dir));
  }
  const overrides: ServeOverrides = demoDir ? { dataDir: demoDir.root } : {};
  let sc = await loadConfigOrFail(flags, overrides);
  output.setLevel(sc.loaded.config.log.level);
  output.setFormat(sc.loaded.config.log.format);
  const dataDir = sc.dataDir;
  const keyStore = flags.demo ? "file" : flags.keyStore;

  // One serve per data directory.
  let lock: Lock;
  try {
    lock = await acquireLock(dataDir);
  } catch (err) {
    if (err instanceof LockHeldError) throw new StartError(err.message);
    throw new StartError(`cannot take the lock in ${dataDir}: ${errorText(err)}`);
  }
  cleanup.push(() => lock.release());
  const forced: (() => void)[] = [() => lock.releaseSync()];
  if (demoDir?.temporary) {
    const root = demoDir.root;
    forced.push(() => Deno.removeSync(root, { recursive: true }));
  }
  signals.onForce(() => {
    for (const fn of forced.reverse()) {
      try {
        fn();
      } catch {
        // best effort: the process is exiting
      }
    }
  });
  if (lock.tookOverFrom !== undefined) {
    output.info(`took over the lock left by process ${lock.tookOverFrom}, which is gone`);
  }
  output.event("starting", { version: VERSION, pid: Deno.pid, dataDir, demo: flags.demo });
  output.info(`bridge ${VERSION} starting (data directory ${dataDir})`);

  // The control endpoint answers from now on: "starting" until the service is up.
  const startedAt = new Date();
  const current: { service?: BridgeService } = {};
  let startingConfig = sc.loaded.config;
  // Reloads (SIGHUP, or `POST /v1/reload` from the account commands) run one at a time.
  let reloading: Promise<unknown> = Promise.resolve();
  const reloadNow = (): Promise<ReloadResult | undefined> => {
    // Undefined while starting (no service yet).
    const service = current.service;
    if (!service) return Promise.resolve(undefined);
    const next = reloading.then(() => reload(flags, overrides, vault, service, output));
    reloading = next.catch(() => {});
    return next;
  };
  const control = await startControlServer({
    status: () =>
      current.service?.status() ??
        startingReport(startingConfig, dataDir, flags.demo, startedAt, output.level),
    reload: async () => await reloadNow() ?? undefined,
  });
  const info: ControlInfo = {
    pid: Deno.pid,
    url: control.url,
    token: control.token,
    startedAt: startedAt.toISOString(),
    version: VERSION,
  };
  cleanup.push(async () => {
    await removeControlInfo(dataDir, info);
    await control.close();
  });
  forced.push(() => removeControlInfoSync(dataDir, info));
  await writeControlInfo(dataDir, info);

  let demo: Demo | undefined;
  if (demoDir) {
    output.info("demo mode: starting the reference API server with the demo account");
    try {
      demo = await startDemo({
        dir: demoDir,
        appVersion: sc.loaded.config.api.app_version,
        log: (m) => output.info(`demo: ${m}`),
      });
    } catch (err) {
      throw new StartError(`cannot start the demo: ${errorText(err)}`);
    }
    const d = demo;
    cleanup.push(() => d.close());
    overrides.apiUrl = demo.apiUrl;
    sc = await loadConfigOrFail(flags, overrides);
    startingConfig = sc.loaded.config;
    output.info(`demo: reference API server at ${demo.apiUrl}`);
  }
  if (signals.stopping) return 0;

  const config = sc.loaded.config;
  const vault = new VaultWriter(dataDir, keyStore);
  const accounts = await readAccounts(vault);
  if (accounts.length === 0) {
    output.warn(
      `no accounts in the vault ${vaultPath(dataDir)}: run \`bridge login\` to add one (this ` +
        "serve takes it at once); serving nothing until then",
    );
  }

  let tls: CertificateInfo | undefined;
  if (config.imap.security !== "none" || config.smtp.security !== "none") {
    try {
      tls = await loadOrCreate(dataDir);
    } catch (err) {
      if (err instanceof CertificateError) throw new StartError(err.message);
      throw new StartError(`cannot load or create the TLS certificate: ${errorText(err)}`);
    }
    if (tls.action !== "loaded") {
      output.info(`TLS certificate ${tls.action} (SHA-256 ${tls.fingerprint})`);
    }
    if (tls.note) output.warn(`TLS certificate: ${tls.note}`);
  }

  let running: BridgeService;
  try {
    running = await BridgeService.start({
      config,
      dataDir,
      imapPort: sc.imapPort,
      smtpPort: sc.smtpPort,
      vault,
      accounts,
      tls: tls && { certPem: tls.certPem, keyPem: tls.keyPem },
      output,
      parts: SERVE_PARTS,
      demo: flags.demo,
      passwords: {
        version: async () => {
          const st = await Deno.stat(vaultPath(dataDir));
          return `${st.mtime?.getTime()}:${st.size}`;
        },
        passwords: async () =>
          new Map((await vault.accounts()).map((a) => [a.userId, a.bridgePassword])),
      },
    });
  } catch (err) {
    const hint = /already in use/.test(errorText(err))
      ? " (another bridge running? choose other ports with --imap-port/--smtp-port, or 0 for " +
        "any free port)"
      : "";
    throw new StartError(errorText(err) + hint);
  }
  current.service = running;
  cleanup.push(() => running.stop());
  const imap = running.imapAddress;
  const smtp = running.smtpAddress;
  output.event("listening", { imap: imap ?? null, smtp: smtp ?? null });
  for (const [name, l] of [["IMAP", imap], ["SMTP", smtp]] as const) {
    if (!l) continue;
    output.info(`${name} listening on ${hostPort(l.listen, l.port)} (${l.security})`);
    if (!isLoopback(l.listen)) {
      output.warn(
        `${name} is reachable from other machines (listening on ${
          isWildcardHost(l.listen) ? "every interface" : l.listen
        }); mail clients on this machine use ${hostPort(l.host, l.port)}`,
      );
    }
  }
  for (const w of running.warnings) output.warn(w);

  signals.onReload(() => void reloadNow());

  await Promise.race([running.settled(), signals.stop.promise]);
  if (!signals.stopping) {
    announceReady(running, output, flags.demo, config, tls);
  }

  const signal = await signals.stop.promise;
  output.info(`${signal}: stopping`);
  output.event("stopping", { signal });
  const timer = setTimeout(() => {
    output.failure(`could not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting anyway`);
    Deno.exit(1);
  }, STOP_TIMEOUT_MS);
  try {
    await reloading;
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
  } finally {
    clearTimeout(timer);
  }
  output.info("stopped");
  output.event("stopped", {});
  return 0;
}

async function readAccounts(vault: VaultWriter) {
  try {
    return await vault.accounts();
  } catch (err) {
    if (err instanceof KeyStoreError || err instanceof VaultError) {
      throw new StartError(err.message);
    }
    throw new StartError(`cannot read the vault: ${errorText(err)}`);
  }
}

/** `host:port`, an IPv6 address in brackets. */
function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Re-reads the configuration and the vault (SIGHUP); what changed. */
async function reload(
  flags: ServeFlags,
  overrides: ServeOverrides,
  vault: VaultWriter,
  service: BridgeService,
  output: ServeOutput,
): Promise<ReloadResult> {
  output.info("reloading the configuration and the vault");
  let config: Config;
  let configError: string | undefined;
  try {
    config = (await loadServeConfig(flags, overrides)).loaded.config;
  } catch (err) {
    // The vault is read all the same: an account logged out must stop being served.
    configError = errorText(err);
    output.failure(`reload refused, the running configuration stays: ${configError}`);
    config = service.config;
  }
  let accounts;
  try {
    accounts = await vault.accounts();
  } catch (err) {
    output.failure(`reload could not read the vault, accounts unchanged: ${errorText(err)}`);
    accounts = undefined;
  }
  const result = await service.reload(config, accounts);
  if (configError) result.notes.push(`the configuration was not reloaded: ${configError}`);
  if (!accounts) result.notes.push("the vault could not be read: accounts unchanged");
  if (result.applied.length) output.info(`reloaded: ${result.applied.join(", ")}`);
  if (result.needsRestart.length) {
    output.warn(`changed settings that need a restart: ${result.needsRestart.join(", ")}`);
  }
  for (const e of result.accountsAdded) output.info(`account added: ${e}`);
  for (const e of result.accountsRemoved) output.info(`account removed: ${e}`);
  for (const e of result.accountsRestarted) output.info(`account signed in again: ${e}`);
  for (const n of result.notes) output.info(n);
  output.event("reload", { ...result });
  return result;
}

function announceReady(
  service: BridgeService,
  output: ServeOutput,
  demo: boolean,
  config: Config,
  tls: CertificateInfo | undefined,
): void {
  const imap = service.imapAddress;
  const smtp = service.smtpAddress;
  const accounts = service.readyAccounts();
  output.event("ready", { imap: imap ?? null, smtp: smtp ?? null, accounts });
  output.info(`ready: ${accounts.length} of ${service.accounts.length} accounts serving`);
  if (output.json) return;
  const lines: string[] = ["", "bridge is ready."];
  if (!imap || !smtp) {
    lines.push(
      `WARNING: ${[!imap && "IMAP", !smtp && "SMTP"].filter(Boolean).join(" and ")} ` +
        "NOT available in this build (see `bridge status`).",
    );
  }
  for (const rt of service.accounts) {
    if (rt.state !== "ready") {
      lines.push(`\n${rt.email}: ${rt.state}${rt.reason ? ` (${rt.reason})` : ""}`);
      continue;
    }
    if (demo) {
      const settings: MailClientSettings = {
        imap: serverSettings(imap, config.imap, rt.email, rt.bridgePassword),
        smtp: serverSettings(smtp, config.smtp, rt.email, rt.bridgePassword),
      };
      // Only the servers that listen (both, once this build has them all).
      const [imapBlock, smtpBlock] = formatMailClientSettings(settings).split("\n\n");
      const blocks = [imap && imapBlock, smtp && smtpBlock].filter(Boolean).join("\n\n");
      lines.push(`\nDemo account ${rt.email}: configure your mail client with\n\n${blocks}`);
    } else {
      lines.push(`\n${rt.email}: serving (\`bridge info ${rt.email}\` shows the password)`);
    }
  }
  if (imap || smtp) {
    lines.push(
      `\nIMAP ${imap ? `${imap.host}:${imap.port} (${imap.security})` : "not available"}; ` +
        `SMTP ${smtp ? `${smtp.host}:${smtp.port} (${smtp.security})` : "not available"}.`,
    );
  }
  if (tls) {
    lines.push(
      "The TLS certificate is self-signed: accept it in your mail client when asked " +
        `(SHA-256 ${tls.fingerprint}), or import it (\`bridge cert export\`).`,
    );
  }
  lines.push("`bridge status` shows progress; Ctrl-C stops.\n");
  output.print(lines.join("\n") + "\n");
}

/** The report while serve is still starting (before the listeners and accounts exist). */
function startingReport(
  config: Config,
  dataDir: string,
  demo: boolean,
  startedAt: Date,
  logLevel: string,
): StatusReport {
  const listener = (c: Config["imap"]): ListenerStatus => ({
    state: "starting",
    host: c.host,
    port: c.port,
    security: c.security,
    connections: null,
    reason: null,
  });
  return {
    running: true,
    format: STATUS_FORMAT,
    version: VERSION,
    pid: Deno.pid,
    startedAt: startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    ready: false,
    demo,
    dataDir,
    apiUrl: config.api.url,
    logLevel,
    listeners: { imap: listener(config.imap), smtp: listener(config.smtp) },
    memory: memoryStatus(config.sync.memory_soft_limit_mb),
    accounts: [],
    warnings: [],
  };
}

function serverSettings(
  address: ListenerAddress | undefined,
  cfg: Config["imap"],
  username: string,
  password: string,
) {
  return {
    host: address?.host ?? cfg.host,
    port: address?.port ?? cfg.port,
    security: address?.security ?? cfg.security,
    username,
    password,
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `serve` entry of the command table. */
export const serveCommand: Command = {
  name: "serve",
  summary: "run the IMAP and SMTP servers for the vault's accounts (--demo: try it without one)",
  run: runServe,
};
