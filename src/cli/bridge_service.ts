/**
 * A running bridge: one {@link AccountRuntime} per vault account, the IMAP and SMTP listeners with
 * the shared login check ({@link AccountDirectory}), the update bus between the event loops and
 * the IMAP sessions, and the send recorder between SMTP and IMAP (duplicate suppression, APPEND
 * to Sent). `bridge serve` creates one with {@link BridgeService.start}, reports through
 * {@link BridgeService.status}, reloads with {@link BridgeService.reload} on SIGHUP and ends it
 * with {@link BridgeService.stop}.
 *
 * Parts this build does not have (see `serve_parts.ts`) are reported, not faked: their listener
 * is `unavailable` with the reason, and `warnings` says what is missing.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { SendRecorder } from "../connector/send_recorder.ts";
import { UpdateBus } from "../connector/update_bus.ts";
import type { SubmissionHandler } from "../smtp/mod.ts";
import { type SmtpServer, startSmtpServer } from "../smtp/mod.ts";
import type { SendingAccount } from "../smtp/sending_account.ts";
import type { CertificatePair } from "../tls/mod.ts";
import type { VaultAccount } from "../vault/mod.ts";
import { AccountDirectory, type PasswordSource } from "./account_directory.ts";
import { AccountRuntime } from "./account_runtime.ts";
import { connectHost } from "./account_settings.ts";
import type { ImapListener, ServeParts } from "./serve_parts.ts";
import { missingParts } from "./serve_parts.ts";
import type { ServeOutput } from "./serve_output.ts";
import {
  type ListenerStatus,
  memoryStatus,
  STATUS_FORMAT,
  type StatusReport,
} from "./status_report.ts";
import { SyncSlots } from "./sync_slots.ts";
import { HeapGovernor } from "../sync/mod.ts";
import type { VaultWriter } from "./vault_writer.ts";
import { VERSION } from "./version.ts";

/** Options of {@link BridgeService.start}. */
export interface BridgeServiceOptions {
  config: Config;
  dataDir: string;
  /** Ports to listen on (0: any free port). */
  imapPort: number;
  smtpPort: number;
  vault: VaultWriter;
  /** The vault's accounts at start. */
  accounts: VaultAccount[];
  /** The certificate, when a listener uses TLS. */
  tls?: CertificatePair;
  output: ServeOutput;
  parts: ServeParts;
  /** Running in demo mode. */
  demo: boolean;
  /** Re-reads bridge passwords after failed logins (the vault). */
  passwords?: PasswordSource;
  /** Options passed to every account runtime (tests). */
  runtime?: { retryDelayMs?: number; buildWorkers?: number };
}

/** Where a listener listens, as a client connects to it. */
export interface ListenerAddress {
  /** The address a client on this machine connects to (loopback for a wildcard listener). */
  host: string;
  /** The address listened on, as bound: `0.0.0.0` or `::` for every interface. */
  listen: string;
  port: number;
  security: "starttls" | "ssl" | "none";
}

/** What changed in a reload. */
export interface ReloadResult {
  /** Settings now in force. */
  applied: string[];
  /** Settings that changed in the file but need a restart of `bridge serve`. */
  needsRestart: string[];
  /** Accounts added to the vault since, now starting. */
  accountsAdded: string[];
  /** Accounts no longer in the vault, now stopped. */
  accountsRemoved: string[];
  /** Accounts signed in again since (a new session in the vault), restarted on it. */
  accountsRestarted: string[];
  /** Other remarks. */
  notes: string[];
}

function listenerAddress(
  l: { hostname: string; port: number; security: ListenerAddress["security"] },
): ListenerAddress {
  return { host: connectHost(l.hostname), listen: l.hostname, port: l.port, security: l.security };
}

/**
 * The `[accounts]` tables without `address_mode`, which a reload applies at once; the rest (no
 * other key yet) would need a restart.
 */
function accountsNeedingRestart(c: Config): unknown {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [email, settings] of Object.entries(c.accounts)) {
    const { address_mode: _applied, ...rest } = settings;
    if (Object.keys(rest).length > 0) out[email.toLowerCase()] = rest;
  }
  return out;
}

/**
 * Settings whose change needs a restart (all but `log.level`, the event poll timing and the
 * accounts' `address_mode`).
 */
const RESTART_KEYS: [string, (c: Config) => unknown][] = [
  ["imap", (c) => c.imap],
  ["smtp", (c) => c.smtp],
  ["api", (c) => c.api],
  ["paths", (c) => c.paths],
  ["sync", (c) => c.sync],
  ["mailboxes", (c) => c.mailboxes],
  ["smtp_send", (c) => c.smtp_send],
  ["server", (c) => c.server],
  ["accounts", accountsNeedingRestart],
  ["log.format", (c) => c.log.format],
];

/** The running bridge. */
export class BridgeService {
  readonly #o: BridgeServiceOptions;
  #config: Config;
  readonly #bus: UpdateBus;
  readonly #recorder: SendRecorder;
  readonly #slots: SyncSlots;
  readonly #heap: HeapGovernor;
  /** Stops the governor's periodic check (large sends and deliveries between first syncs). */
  #stopHeapWatch: () => void = () => {};
  readonly #directory: AccountDirectory;
  #imap: ImapListener | undefined;
  #smtp: SmtpServer | undefined;
  #imapReason: string | null = null;
  #smtpReason: string | null = null;
  readonly #startedAt = Date.now();
  #stopped = false;
  readonly #warnings: string[] = [];

  private constructor(o: BridgeServiceOptions) {
    this.#o = o;
    this.#config = o.config;
    const out = o.output;
    this.#bus = new UpdateBus({ log: (m) => out.warn(m) });
    this.#recorder = new SendRecorder({
      enabled: o.config.smtp_send.duplicate_suppression,
      windowMs: o.config.smtp_send.duplicate_window_seconds * 1000,
      onDuplicate: (send) => {
        const rt = this.#directory.byUserId(send.accountID);
        rt?.countSend("duplicate");
        out.info(
          `${rt?.email ?? "an account"}: an identical message was sent ${
            Math.round((Date.now() - send.sentAt) / 1000)
          } s ago; not sent again`,
          { account: rt?.email },
        );
      },
    });
    this.#slots = new SyncSlots(o.config.sync.workers);
    this.#heap = new HeapGovernor({
      softLimitBytes: o.config.sync.memory_soft_limit_mb * 1024 * 1024,
    });
    this.#directory = new AccountDirectory({ source: o.passwords });
    this.#directory.onPasswordChanged = (userId) => {
      this.#imap?.endSessions(userId, "The bridge password was changed; log in again");
      this.#smtp?.endSessions(userId);
    };
    for (const missing of missingParts(o.parts)) {
      this.#warnings.push(`${missing} is not in this build yet`);
    }
  }

  /**
   * Starts every account in the background and the listeners; resolves once the listeners are up.
   *
   * @throws {Error} when a listener cannot start (port in use, unusable certificate); everything
   * started is stopped again first.
   */
  static async start(options: BridgeServiceOptions): Promise<BridgeService> {
    const service = new BridgeService(options);
    for (const account of options.accounts) service.#addAccount(account);
    try {
      await service.#startListeners();
    } catch (err) {
      await service.stop();
      throw err;
    }
    service.#stopHeapWatch = service.#heap.watch();
    return service;
  }

  /** The configuration in force (the last one a reload applied). */
  get config(): Config {
    return this.#config;
  }

  /** The account runtimes. */
  get accounts(): AccountRuntime[] {
    return this.#directory.all();
  }

  /** Warnings about missing parts and the like. */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** Resolves once every account is ready, signed out or has failed its first bring-up. */
  async settled(): Promise<void> {
    await Promise.all(this.accounts.map((rt) => rt.settled()));
  }

  /** Where the IMAP server listens, or undefined when it does not. */
  get imapAddress(): ListenerAddress | undefined {
    const l = this.#imap;
    return l && listenerAddress(l);
  }

  /** Where the SMTP server listens, or undefined when it does not. */
  get smtpAddress(): ListenerAddress | undefined {
    const l = this.#smtp;
    return l && listenerAddress(l);
  }

  #addAccount(account: VaultAccount): AccountRuntime {
    const o = this.#o;
    const rt = new AccountRuntime({
      account,
      config: this.#config,
      dataDir: o.dataDir,
      bus: this.#bus,
      output: o.output,
      reporter: o.output.progressReporter(),
      vault: o.vault,
      slots: this.#slots,
      heap: this.#heap,
      parts: o.parts,
      recorder: this.#recorder,
      retryDelayMs: o.runtime?.retryDelayMs,
      buildWorkers: o.runtime?.buildWorkers,
      onState: (r) =>
        o.output.event("account", { email: r.email, state: r.state, reason: r.reason }),
    });
    this.#directory.add(rt);
    rt.start();
    return rt;
  }

  async #startListeners(): Promise<void> {
    const o = this.#o;
    const config = this.#config;
    const log = (m: string) => o.output.info(m);
    if (o.parts.imap && o.parts.connector) {
      this.#imap = await o.parts.imap({
        authenticator: this.#directory.imapAuthenticator(),
        hostname: config.imap.host,
        port: o.imapPort,
        security: config.imap.security,
        tls: config.imap.security === "none" ? undefined : o.tls,
        ...(config.server.require_tls_login ? { allowPlainAuth: false } : {}),
        log,
      });
    } else {
      this.#imapReason = o.parts.imap
        ? "this build has no account connector (src/connector/account_connector.ts)"
        : "this build has no IMAP server (src/imap/server.ts)";
      o.output.failure(`IMAP is NOT available: ${this.#imapReason}`);
    }
    if (o.parts.submission) {
      const handler = o.parts.submission({
        recorder: this.#recorder,
        log, // its lines name the pipeline ("smtp: sent …")
      });
      this.#smtp = await startSmtpServer<SendingAccount>({
        authenticator: this.#directory.smtpAuthenticator(),
        submission: this.#counted(handler),
        hostname: config.smtp.host,
        port: o.smtpPort,
        security: config.smtp.security,
        tls: config.smtp.security === "none" ? undefined : o.tls,
        acceptUndeclared8bit: config.smtp.accept_undeclared_8bit,
        ...(config.server.require_tls_login ? { allowPlainAuth: false } : {}),
        log,
      });
    } else {
      this.#smtpReason = "this build has no SMTP send pipeline (src/smtp/send_pipeline.ts)";
      o.output.failure(`SMTP is NOT available: ${this.#smtpReason}`);
    }
  }

  /** Counts each submission's outcome on its account. */
  #counted(handler: SubmissionHandler<SendingAccount>): SubmissionHandler<SendingAccount> {
    return {
      submit: async (submission) => {
        const rt = this.#directory.byUserId(submission.account.id);
        try {
          const result = await handler.submit(submission);
          rt?.countSend("sent");
          return result;
        } catch (err) {
          rt?.countSend("failed");
          throw err;
        }
      },
    };
  }

  /** The accounts serving (ready, or offline from their local index), with their login. */
  readyAccounts(): { email: string; password: string }[] {
    return this.accounts.filter((rt) => rt.state === "ready" || rt.state === "offline").map((
      rt,
    ) => ({
      email: rt.email,
      password: rt.bridgePassword,
    }));
  }

  /** The status report (see `docs/STATUS.md`). */
  status(): StatusReport {
    const now = Date.now();
    const accounts = this.accounts.map((rt) => rt.status(now));
    const imap = this.#listenerStatus("imap");
    const smtp = this.#listenerStatus("smtp");
    const warnings = [...this.#warnings];
    return {
      running: true,
      format: STATUS_FORMAT,
      version: VERSION,
      pid: Deno.pid,
      startedAt: new Date(this.#startedAt).toISOString(),
      uptimeSeconds: Math.round((now - this.#startedAt) / 100) / 10,
      ready: accounts.every((a) => a.state === "ready") && imap.state === "listening" &&
        smtp.state === "listening",
      demo: this.#o.demo,
      dataDir: this.#o.dataDir,
      apiUrl: this.#config.api.url,
      logLevel: this.#o.output.level,
      listeners: { imap, smtp },
      memory: memoryStatus(this.#config.sync.memory_soft_limit_mb, this.#heap),
      accounts,
      warnings,
    };
  }

  #listenerStatus(which: "imap" | "smtp"): ListenerStatus {
    const l = which === "imap" ? this.#imap : this.#smtp;
    const cfg = this.#config[which];
    if (l) {
      return {
        state: this.#stopped ? "stopped" : "listening",
        host: l.hostname,
        port: l.port,
        security: l.security,
        connections: this.#stopped ? null : l.connections,
        reason: null,
      };
    }
    return {
      state: "unavailable",
      host: cfg.host,
      port: which === "imap" ? this.#o.imapPort : this.#o.smtpPort,
      security: cfg.security,
      connections: null,
      reason: which === "imap" ? this.#imapReason : this.#smtpReason,
    };
  }

  /**
   * Applies a reloaded configuration and the vault's current accounts: the log level and the event
   * poll timing take effect now; accounts added to the vault start, removed ones stop, ones signed
   * in again (another session in the vault) restart on the new session; bridge
   * passwords changed with `bridge reset-password` are used at once; an address mode changed in
   * the file or with `bridge mode` applies to the next logins (listed in `applied` as
   * `accounts."<email>".address_mode`). Everything else that changed is listed as needing a
   * restart. Without `vaultAccounts` the accounts stay as they are.
   */
  async reload(config: Config, vaultAccounts?: VaultAccount[]): Promise<ReloadResult> {
    const result: ReloadResult = {
      applied: [],
      needsRestart: [],
      accountsAdded: [],
      accountsRemoved: [],
      accountsRestarted: [],
      notes: [],
    };
    if (this.#stopped) {
      result.notes.push("serve is stopping: nothing reloaded");
      return result;
    }
    const before = this.#config;
    if (before.log.level !== config.log.level) {
      this.#o.output.setLevel(config.log.level);
      result.applied.push("log.level");
    }
    if (
      before.events.poll_interval_seconds !== config.events.poll_interval_seconds ||
      before.events.jitter_seconds !== config.events.jitter_seconds
    ) {
      result.applied.push("events");
    }
    for (const [key, get] of RESTART_KEYS) {
      if (JSON.stringify(get(before)) !== JSON.stringify(get(config))) {
        result.needsRestart.push(key);
      }
    }
    // The running parts keep the settings that need a restart.
    const next: Config = structuredClone(before);
    next.log.level = config.log.level;
    next.events = { ...config.events };
    next.accounts = structuredClone(config.accounts);
    this.#config = next;
    for (const rt of this.accounts) result.notes.push(...await rt.reload(next));

    const fresh = new Map((vaultAccounts ?? []).map((a) => [a.userId, a.addressMode]));
    for (const rt of this.accounts) {
      const mode = rt.setAddressMode(next, fresh.get(rt.userId));
      if (mode) result.applied.push(`accounts."${rt.email}".address_mode`);
    }

    if (vaultAccounts === undefined) return result;
    const inVault = new Map(vaultAccounts.map((a) => [a.userId, a]));
    for (const rt of this.accounts) {
      const stored = inVault.get(rt.userId);
      if (!stored) {
        // Out of the directory first (no new login reaches it), then its sessions end (they
        // read the index stop() closes), then it stops.
        this.#directory.remove(rt.userId);
        this.#smtp?.endSessions(rt.userId);
        await this.#imap?.endSessions(rt.userId, "The account was signed out of the bridge");
        await rt.stop();
        result.accountsRemoved.push(rt.email);
      } else if (stored.authUid !== "" && stored.authUid !== rt.sessionUid) {
        // Signed in again (`bridge logout` then `bridge login`, e.g. after the session was
        // revoked): the old runtime's session is gone; start over on the new one. Its IMAP
        // sessions end (they hold the old index); clients log in again to the new runtime.
        this.#directory.remove(rt.userId);
        this.#smtp?.endSessions(rt.userId);
        await this.#imap?.endSessions(rt.userId, "The account was signed in again; log in again");
        await rt.stop();
        this.#addAccount(stored);
        result.accountsRestarted.push(stored.email);
      }
    }
    for (const account of vaultAccounts) {
      if (!this.#directory.byUserId(account.userId)) {
        this.#addAccount(account);
        result.accountsAdded.push(account.email);
      }
    }
    this.#directory.refreshPasswords(
      new Map(vaultAccounts.map((a) => [a.userId, a.bridgePassword])),
    );
    return result;
  }

  /**
   * Stops accepting connections and lets sessions finish (the servers' graceful close), then stops
   * every account (sync, event loop) and closes the indexes. Safe to call more than once.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopHeapWatch();
    await Promise.allSettled([this.#imap?.close(), this.#smtp?.close()]);
    await Promise.allSettled(this.accounts.map((rt) => rt.stop()));
    this.#bus.close();
  }
}
