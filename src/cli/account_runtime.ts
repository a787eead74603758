/**
 * Everything one signed-in account runs while `bridge serve` is up, brought up in order:
 *
 * 1. **Session**: an API client restored from the vault's UID and refresh token (a refresh; the
 *    new refresh token goes back to the vault after every refresh).
 * 2. **Keys**: unlocked with the vault's salted key password (no password is asked).
 * 3. **Index**: the account's SQLite index and encrypted literal cache under
 *    `<data>/accounts/<user ID>/` (see `account_paths.ts`), the cache keyed by the vault's cache
 *    secret.
 * 4. **Event loop**: created and started before the first sync, so the event cursor is taken
 *    before the sync lists anything; it stays paused until the sync ends, then replays from it.
 * 5. **First sync** (`syncUntilComplete`), at most `sync.workers` accounts at once, progress to a
 *    reporter; a completed earlier sync only refreshes the labels.
 * 6. **Connector**: the account as IMAP sessions see it ({@link MailAccount}); then the account
 *    is `ready`.
 *
 * **Address mode** (`address_mode.ts`): in combined mode every address of the account logs in to
 * the one connector; in split mode each enabled address logs in to its own view of it
 * (`MailAccount.forAddress`: the same index, only that address's messages), made on its first
 * login and kept. {@link AccountRuntime.setAddressMode} switches at run time (SIGHUP): later
 * logins get the new mode's view; sessions already logged in keep theirs until they log in again.
 *
 * A failure on the way is retried after a delay (state `error`, with the reason and when the next
 * try is), resuming from the step that failed: what is already up stays up. A revoked session
 * (refresh refused) makes the account `signed-out`: it stops trying, keeps its index, and tells
 * the user to sign in again; serve goes on serving the other accounts. {@link AccountRuntime.stop}
 * stops the sync and the loop, then closes the index.
 *
 * @module
 */
import { SerialQueue } from "../connector/serial_queue.ts";
import { ReadBacks } from "../connector/read_backs.ts";
import {
  type Address,
  AddressStatus,
  ApiClient,
  type ApiClientOptions,
  ApiError,
  CookieJar,
  getMailSettings,
  getUser,
  type MailSettings,
  NetworkError,
  type RequestEvent,
  resumeSession,
  SignedOutError,
  type UnlockedAccount,
  unlockWithKeyPassword,
} from "../api/mod.ts";
import type { Config } from "../config/mod.ts";
import { type MailAccount, MailboxOperationError } from "../connector/account.ts";
import type { SendRecorder } from "../connector/send_recorder.ts";
import type { UpdateBus } from "../connector/update_bus.ts";
import { CryptoError } from "../crypto/errors.ts";
import { KeyRing } from "../crypto/mod.ts";
import { IndexTooNewError, LiteralCache, type RemoteMessageId, Store } from "../store/mod.ts";
import {
  apiEventSource,
  BuildPool,
  currentProgress,
  DownloadThrottle,
  EventLoop,
  type EventLoopNotice,
  eventMessageFetcher,
  type HeapGovernor,
  isTransientError,
  type Reporter,
  syncApiFor,
  SyncError,
  type SyncProgress,
  syncUntilComplete,
} from "../sync/mod.ts";
import type { MessageFetcher } from "../sync/event_apply.ts";
import { backfillLiteralDigests } from "../sync/digest_backfill.ts";
import type { AddressMode, VaultAccount } from "../vault/mod.ts";
import { atomicWriteText } from "../tls/atomic_write.ts";
import { join } from "node:path";
import { effectiveAddressMode } from "./address_mode.ts";
import { accountPaths } from "./account_paths.ts";
import type { AccountParts, ServeParts } from "./serve_parts.ts";
import { type SendingAccount, sendingAccount } from "../smtp/sending_account.ts";
import type { ServeOutput } from "./serve_output.ts";
import type { AccountState, AccountStatus } from "./status_report.ts";
import type { SyncSlots } from "./sync_slots.ts";
import { AccountRemovedError, type VaultWriter } from "./vault_writer.ts";
import { errorText, sessionServerMismatch } from "./_account_common.ts";

/** Options of {@link AccountRuntime}. */
export interface AccountRuntimeOptions {
  /** The account as read from the vault at start. */
  account: VaultAccount;
  config: Config;
  dataDir: string;
  bus: UpdateBus;
  output: ServeOutput;
  /** Receives first-sync progress. */
  reporter: Reporter;
  vault: VaultWriter;
  slots: SyncSlots;
  /** The process's soft limit on resident memory during first syncs (shared by the accounts). */
  heap?: HeapGovernor;
  parts: ServeParts;
  recorder: SendRecorder;
  /** Delay before a failed bring-up is tried again, ms (default 60,000). */
  retryDelayMs?: number;
  /** Build workers per account (default: the build pool's, one per core). */
  buildWorkers?: number;
  /** Extra API client options (tests). */
  clientOptions?: Partial<ApiClientOptions>;
  /** Called after every change of state (or of the reason). */
  onState?: (runtime: AccountRuntime) => void;
}

/** The account cannot take logins now (signed out, failed, still syncing). */
export class AccountUnavailableError extends MailboxOperationError {
  override name = "AccountUnavailableError";
  constructor(message: string) {
    super("UNAVAILABLE", message);
  }
}

const MiB = 1024 * 1024;
/** The account's address list kept for starts without the API (`#keepAddresses`). */
const ADDRESSES_FILE = "addresses.json";
/** How long mail settings are used without asking the API again (events keep them current). */
const MAIL_SETTINGS_MAX_AGE_MS = 10 * 60_000;

/** One account's session, keys, index, event loop, first sync and connector. */
export class AccountRuntime {
  /** The primary address (the login name). */
  readonly email: string;
  /** The Proton user ID (the account's key on the update bus). */
  readonly userId: string;
  /**
   * The API session it runs on (the vault's `authUid` when it started; refreshing the session
   * keeps it). A different one in the vault means the account was signed in again.
   */
  get sessionUid(): string {
    return this.#client?.uid || this.#o.account.authUid;
  }
  readonly #o: AccountRuntimeOptions;
  #config: Config;
  #state: AccountState = "starting";
  #reason: string | null = null;
  #stopping = false;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  readonly #settled = Promise.withResolvers<void>();
  #wake: (() => void) | undefined;

  #client: ApiClient | undefined;
  #sessionUp = false;
  #unlocked: UnlockedAccount | undefined;
  /**
   * The keys the connector holds: made empty when the account is served offline (before any
   * unlock), filled in place by the first unlock, so the connector made offline sees them.
   */
  #connectorKeys: (UnlockedAccount & { locked?: boolean }) | undefined;
  #store: Store | undefined;
  #cache: LiteralCache | undefined;
  #pool: BuildPool | undefined;
  #fetcher: MessageFetcher | undefined;
  /** Failed builds the index held when it was opened: the first event loop retries them once. */
  #failedAtOpen: RemoteMessageId[] = [];
  #loop: EventLoop | undefined;
  #loopResumed = false;
  /** The digest backfill of this start, while it runs ({@link backfillLiteralDigests}). */
  #backfill: Promise<void> | undefined;
  #synced = false;
  #mail: MailAccount | undefined;
  /** Mail clients' changes and the event loop's commits, one at a time (`serial_queue.ts`). */
  readonly #changes = new SerialQueue();
  /** When mail clients' changes were read back (`read_backs.ts`), for the event loop. */
  readonly #readBacks = new ReadBacks();
  /** Split mode: address ID → that address's view of {@link #mail}. */
  readonly #split = new Map<string, MailAccount>();
  /** Mail settings as the API or the last `MailSettings` event gave them, and when. */
  #mailSettings: { value: MailSettings; at: number } | undefined;
  #addressMode: AddressMode;
  /** The vault's address mode as last read. */
  #vaultAddressMode: AddressMode;
  #parts: AccountParts | undefined;
  readonly #throttle: DownloadThrottle;

  #progress: SyncProgress | undefined;
  /** When {@link #progress} was reported (ms). */
  #progressAt = 0;
  #syncStartedAt: number | undefined;
  #syncFinishedAt: number | undefined;
  #firstSyncDone: boolean;
  #lastEventAt: number | undefined;
  #eventsApplied = 0;
  #sent = 0;
  #sendFailed = 0;
  #duplicates = 0;
  #bridgePassword: string;

  constructor(options: AccountRuntimeOptions) {
    this.#o = options;
    this.#config = options.config;
    this.email = options.account.email;
    this.userId = options.account.userId;
    this.#firstSyncDone = options.account.sync.firstSyncDone;
    this.#bridgePassword = options.account.bridgePassword;
    this.#vaultAddressMode = options.account.addressMode;
    this.#addressMode = effectiveAddressMode(options.config, options.account);
    const parallel = options.config.sync.download_parallelism;
    this.#throttle = new DownloadThrottle({
      max: parallel,
      min: Math.min(2, parallel),
      initial: Math.min(8, parallel),
    });
  }

  /** What the account is doing. */
  get state(): AccountState {
    return this.#state;
  }

  /** Why it is in `error` or `signed-out`, else `null`. */
  get reason(): string | null {
    return this.#reason;
  }

  /**
   * The IMAP view of the account, once ready (or `offline`: served from the local index) and when
   * this build has a connector.
   */
  get mailAccount(): MailAccount | undefined {
    return this.#state === "ready" || this.#state === "offline" ? this.#mail : undefined;
  }

  /** The address mode in force (see `address_mode.ts`). */
  get addressMode(): AddressMode {
    return this.#addressMode;
  }

  /**
   * The IMAP view a login as `username` (one of {@link addresses}) gets, once ready and when this
   * build has a connector: the whole account in combined mode; in split mode the view of that
   * address alone.
   *
   * @throws {AccountUnavailableError} in split mode when `username` is not an enabled address
   *   of the account, or the connector has no split mode.
   */
  mailAccountFor(username: string): MailAccount | undefined {
    const mail = this.mailAccount;
    if (!mail || this.#addressMode === "combined") return mail;
    // Offline, the addresses are the ones kept from the last run (none: wait for the API).
    const known = this.#knownAddresses();
    if (known.length === 0) throw this.unavailable();
    const name = username.trim().toLowerCase();
    const address = known.find((a) => a.Email.toLowerCase() === name);
    if (!address || address.Status !== AddressStatus.Enabled) {
      throw new AccountUnavailableError(
        `${username} is not an enabled address of ${this.email} (split address mode)`,
      );
    }
    let view = this.#split.get(address.ID);
    if (!view) {
      if (!mail.forAddress) {
        throw new AccountUnavailableError(
          "split address mode is not available: this build's connector has no per-address view",
        );
      }
      view = mail.forAddress(address.ID);
      this.#split.set(address.ID, view);
    }
    return view;
  }

  /**
   * The IMAP logins of the account: every enabled address (primary first). In combined mode they
   * all open the same view; in split mode each its own. Only the primary before the keys are
   * unlocked.
   */
  imapLogins(): string[] {
    const out = [this.email];
    for (const a of this.#knownAddresses()) {
      if (a.Status !== AddressStatus.Enabled) continue;
      if (!out.some((e) => e.toLowerCase() === a.Email.toLowerCase())) out.push(a.Email);
    }
    return out;
  }

  /**
   * Applies the address mode of `config` and the vault (`vaultMode`: the vault's value now, or
   * the last one read); returns the new mode when it changed, else `undefined`. Logins from now
   * on get the new mode's view; SMTP picks the sender per the new mode.
   */
  setAddressMode(
    config: Config,
    vaultMode: AddressMode = this.#vaultAddressMode,
  ): AddressMode | undefined {
    this.#vaultAddressMode = vaultMode;
    const mode = effectiveAddressMode(config, { email: this.email, addressMode: vaultMode });
    if (mode === this.#addressMode) return undefined;
    this.#addressMode = mode;
    this.#split.clear();
    if (this.#parts) this.#parts.addressMode = mode;
    this.#o.output.info(
      `${this.email}: now in ${mode} address mode` +
        (mode === "split"
          ? " (each address logs in with its own mail)"
          : " (every address logs in to all the mail)") +
        "; IMAP sessions already logged in keep their view until they log in again",
      { account: this.email },
    );
    return mode;
  }

  /** The bridge password mail clients log in with (for the ready line and the authenticator). */
  get bridgePassword(): string {
    return this.#bridgePassword;
  }

  /** Replaces the bridge password (after `bridge reset-password` while serving). */
  set bridgePassword(password: string) {
    this.#bridgePassword = password;
  }

  /**
   * The addresses that log in to the account (lower case): the primary, and every enabled one
   * (a disabled alias logs in nowhere; docs/CONFIG.md).
   */
  addresses(): string[] {
    return this.imapLogins().map((a) => a.toLowerCase());
  }

  /** The addresses as unlocked, or offline the ones kept from the last run. */
  #knownAddresses(): readonly Address[] {
    return (this.#unlocked ?? this.#connectorKeys)?.addresses ?? [];
  }

  /** The account for an SMTP submission, or an error saying why it cannot send now. */
  smtpAccount(username: string): SendingAccount {
    const parts = this.#parts;
    if (this.#state !== "ready" || !parts) throw this.unavailable();
    const unlocked = parts.unlocked;
    return sendingAccount(parts.client, unlocked, {
      username,
      id: this.userId,
      addressMode: this.#addressMode,
      // Kept current by address events (#refreshAddresses); the API refuses a send from an
      // address disabled in the moments before its event arrives.
      addresses: () => Promise.resolve([...unlocked.addresses]),
      mailSettings: () => this.#currentMailSettings(parts.client),
      knownAsOfNow: () => {
        const known = this.#store?.messages.knownAsOfNow();
        return (id) => known?.(id as RemoteMessageId) ?? false;
      },
    });
  }

  /**
   * The mail settings for a send: kept from the API's last answer and updated by `MailSettings`
   * events, so a send does not wait for `GET /mail/v4/settings`; asked again when older than
   * {@link MAIL_SETTINGS_MAX_AGE_MS} (a safety net should events stall).
   */
  async #currentMailSettings(client: ApiClient): Promise<MailSettings> {
    const kept = this.#mailSettings;
    if (kept && Date.now() - kept.at < MAIL_SETTINGS_MAX_AGE_MS) return kept.value;
    const value = await getMailSettings(client);
    this.#mailSettings = { value, at: Date.now() };
    return value;
  }

  /** The error a login to this account gets while it is not ready. */
  unavailable(): AccountUnavailableError {
    switch (this.#state) {
      case "signed-out":
        return new AccountUnavailableError(
          `${this.email} is signed out: run \`bridge login ${this.email}\` again`,
        );
      case "error":
        return new AccountUnavailableError(`${this.email} is not available: ${this.#reason}`);
      case "offline":
        return new AccountUnavailableError(`${this.email} is offline: ${this.#reason}`);
      default:
        return new AccountUnavailableError(
          `${this.email} is still starting (first sync ${this.#progressText()}); try again shortly`,
        );
    }
  }

  #progressText(): string {
    const p = this.#progress;
    if (!p) return "not started yet";
    return p.total > 0 ? `${p.done}/${p.total}` : p.phase;
  }

  /** Counts a submission's outcome for status. */
  countSend(outcome: "sent" | "failed" | "duplicate"): void {
    if (outcome === "sent") this.#sent++;
    else if (outcome === "failed") this.#sendFailed++;
    else this.#duplicates++;
  }

  /** Starts bringing the account up in the background. Calling it again does nothing. */
  start(): void {
    this.#running ??= this.#run();
  }

  /**
   * Resolves once the account was ready, signed out, or failed its first bring-up (it may keep
   * retrying afterwards): the moment serve can say it has done what it could.
   */
  settled(): Promise<void> {
    return this.#settled.promise;
  }

  /** Applies a reloaded configuration: the poll interval (restarting the loop from its cursor). */
  async reload(config: Config): Promise<string[]> {
    const before = this.#config.events;
    this.#config = config;
    const changed = before.poll_interval_seconds !== config.events.poll_interval_seconds ||
      before.jitter_seconds !== config.events.jitter_seconds;
    if (!changed || !this.#loop || this.#stopping) return [];
    const status = this.#loop.status();
    if (status.state === "resyncing") {
      return [`${this.email}: the new poll interval applies after the running resync`];
    }
    if (status.state === "signed-out" || status.state === "stopped") return [];
    await this.#loop.stop();
    if (this.#stopping) return [];
    this.#failedAtOpen = this.#loop.pendingRetries(); // carried over to the new loop
    this.#loop = this.#newLoop();
    await this.#loop.start();
    if (this.#loopResumed) this.#loop.resume();
    return [];
  }

  /** Stops the sync and the event loop, then closes the index. Safe to call more than once. */
  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#abort.abort(new Error("bridge is stopping"));
      this.#wake?.();
    }
    await this.#loop?.stop();
    await this.#running?.catch(() => {});
    await this.#backfill;
    this.#pool?.close();
    this.#pool = undefined;
    this.#store?.close();
    this.#store = undefined;
    this.#cache?.close();
    this.#settled.resolve();
  }

  /** A snapshot for `bridge status`. */
  status(now = Date.now()): AccountStatus {
    const loop = this.#loop?.status();
    const p = this.#progress &&
      currentProgress(this.#progress, this.#progressAt, now, this.#state === "syncing");
    const iso = (ms: number | undefined) => ms === undefined ? null : new Date(ms).toISOString();
    let messages: number | null = null;
    let mailboxes: number | null = null;
    let failed = 0;
    if (this.#store) {
      try {
        messages = this.#store.messages.count();
        mailboxes = this.#store.mailboxes.list().length;
        failed = this.#store.sync.failures().length;
      } catch {
        // The index is being closed: counts unknown.
      }
    }
    return {
      email: this.email,
      state: this.#state,
      reason: this.#reason,
      addressMode: this.#addressMode,
      imapLogins: this.imapLogins(),
      sync: {
        phase: p?.phase ?? null,
        done: p?.done ?? 0,
        total: p?.total ?? 0,
        rate: p?.rate ?? 0,
        eta: p?.eta ?? null,
        listed: p?.phase === "listing" ? p.listed ?? 0 : null,
        firstSyncDone: this.#firstSyncDone,
        startedAt: iso(this.#syncStartedAt),
        finishedAt: iso(this.#syncFinishedAt),
        failedMessages: failed,
      },
      events: {
        state: loop?.state ?? null,
        lastPollAt: iso(loop?.lastPollAt),
        lastEventAt: iso(this.#lastEventAt),
        cursorAgeSeconds: loop?.lastPollAt === undefined
          ? null
          : Math.max(0, Math.round((now - loop.lastPollAt) / 100) / 10),
        eventsApplied: this.#eventsApplied,
        consecutiveFailures: loop?.consecutiveFailures ?? 0,
        lastError: loop?.lastError
          ? {
            message: loop.lastError.message,
            at: new Date(loop.lastError.at).toISOString(),
            transient: loop.lastError.transient,
          }
          : null,
        skippedEvents: loop?.skippedEvents ?? 0,
        pollIntervalSeconds: this.#config.events.poll_interval_seconds,
      },
      counts: { messages, mailboxes },
      imapSessions: this.#mail ? this.#o.bus.subscriberCount(this.userId) : null,
      storage: this.#unlocked
        ? { usedBytes: this.#unlocked.user.UsedSpace, limitBytes: this.#unlocked.user.MaxSpace }
        : null,
      smtp: {
        sent: this.#sent,
        failed: this.#sendFailed,
        duplicatesSuppressed: this.#o.recorder.enabled ? this.#duplicates : null,
      },
    };
  }

  // -- bring-up ---------------------------------------------------------------------------------

  async #run(): Promise<void> {
    const retryMs = this.#o.retryDelayMs ?? 60_000;
    while (!this.#stopping) {
      try {
        await this.#bringUp();
        return;
      } catch (err) {
        if (this.#stopping) return;
        if (this.#state === "signed-out" || isSignedOut(err)) {
          this.#signedOut(err);
          return;
        }
        if (err instanceof AccountRemovedError) {
          this.#setState("signed-out", `${err.message}; it is no longer served`);
          this.#o.output.warn(`${this.email}: ${err.message}`, { account: this.email });
          this.#settled.resolve();
          return;
        }
        // None heals by waiting: a key password that no longer unlocks, an index written by a
        // newer bridge or damaged, a session issued by another server.
        const isPermanent = (e: unknown) =>
          (e instanceof CryptoError && e.kind === "wrong-passphrase") ||
          e instanceof IndexTooNewError || e instanceof PermanentAccountError;
        let failure = err;
        let permanent = isPermanent(failure);
        let offline = false;
        if (!permanent && isUnreachable(failure)) {
          try {
            offline = await this.#serveOffline();
          } catch (offlineError) {
            // Serving the local mail found a permanent condition (a damaged index): that is the
            // account's state, not the unreachable server.
            failure = offlineError;
            permanent = true;
          }
        }
        // Served offline, the API is tried again as often as events would be polled.
        const delay = offline
          ? Math.min(retryMs, this.#config.events.poll_interval_seconds * 1000)
          : retryMs;
        const reason = describe(failure, this.email) +
          (permanent ? "" : `; trying again in ${Math.round(delay / 1000)} s`);
        if (offline) {
          const first = this.#state !== "offline";
          this.#setState("offline", `the mail server cannot be reached (${reason})`);
          if (first) {
            this.#o.output.warn(
              `${this.email}: the mail server cannot be reached (${
                describe(failure, this.email)
              }); ` +
                "serving the mail already here: changes, new mail and sending wait until it can",
              { account: this.email },
            );
          }
        } else {
          this.#setState("error", reason);
          this.#o.output.failure(`${this.email}: ${reason}`, { account: this.email });
        }
        this.#settled.resolve();
        if (permanent) return;
        await this.#sleep(delay);
      }
    }
  }

  async #bringUp(): Promise<void> {
    const o = this.#o;
    const account = o.account;
    const log = o.output;
    // Served offline meanwhile: stay so (logins keep working) until the account is ready.
    if (this.#state !== "offline") this.#setState("starting", null);

    if (!this.#client) this.#client = this.#newClient();
    const client = this.#client;
    if (!this.#sessionUp) {
      // Served offline, the client holds the session already (and may have refreshed it since,
      // rotating the refresh token): refresh what it holds rather than the token read at start.
      if (client.uid && client.refreshToken) await client.refresh();
      else await resumeSession(client, account.authUid, account.refreshToken);
      this.#sessionUp = true;
      log.debug(`${this.email}: session restored`, { account: this.email });
    }
    this.#checkStop();

    if (!this.#unlocked) {
      const fresh = await unlockWithKeyPassword(client, account.keyPassword);
      this.#unlocked = this.#connectorKeys ? fillKeys(this.#connectorKeys, fresh) : fresh;
      await this.#keepAddresses(fresh.addresses);
      for (const address of this.#unlocked.addresses) {
        const err = this.#unlocked.addressKeyErrors.get(address.ID);
        if (err) {
          log.warn(
            `${this.email}: the keys of ${address.Email} could not be unlocked; its mail ` +
              "cannot be read",
            { account: this.email },
          );
        }
      }
    }
    this.#checkStop();

    await this.#openIndex();
    if (!this.#pool) {
      this.#pool = await BuildPool.create({
        keys: this.#unlocked.addressKeys,
        workers: o.buildWorkers,
      });
      this.#fetcher = eventMessageFetcher(syncApiFor(client), this.#pool);
    }
    this.#checkStop();

    if (!this.#loop) {
      this.#loop = this.#newLoop(await syncApiFor(client).labels());
      // Takes the event cursor before the first sync lists anything (replayed afterwards).
      await this.#loop.start();
      // The storage figures read at unlock may predate that cursor; read them again, so no
      // change falls between the two (IMAP GETQUOTA). A failure keeps the unlock's figures.
      await this.#refreshStorage(client);
    }
    this.#checkStop();

    if (!this.#synced) {
      // An account served offline has all its mail here: its labels are refreshed quietly.
      await this.#firstSync(this.#state === "offline");
      this.#synced = true;
    }
    this.#checkStop();
    if (!this.#loopResumed) {
      this.#loop.resume();
      this.#loopResumed = true;
    }

    await this.#makeConnector(this.#unlocked);
    this.#setState("ready", null);
    log.info(`${this.email}: ready`, { account: this.email });
    this.#settled.resolve();
    this.#backfillDigests();
  }

  /** Fills in the literal digests of an index from before they were kept (once per start). */
  #backfillDigests(): void {
    const store = this.#store;
    const cache = this.#cache;
    if (this.#backfill || !store || !cache) return;
    this.#backfill = backfillLiteralDigests(store, cache, { stopped: () => this.#stopping })
      .then((n) => {
        if (n > 0) {
          this.#o.output.debug(`${this.email}: recorded the digest of ${n} cached literal(s)`, {
            account: this.email,
          });
        }
      });
  }

  /** Where the account's files are. */
  #paths(): ReturnType<typeof accountPaths> {
    return accountPaths(this.#o.dataDir, this.userId, this.#config.paths.cache_dir);
  }

  /** Opens the account's index and literal cache (once). */
  async #openIndex(): Promise<void> {
    if (this.#store) return;
    const paths = this.#paths();
    await Deno.mkdir(paths.root, { recursive: true, mode: 0o700 });
    // A new index numbers its messages from 1 again, and the literal cache is keyed by those
    // numbers: the entries of an earlier index (one moved aside as damaged, or deleted) would be
    // served as other messages' bodies. They are moved aside with it (local messages of the old
    // Recovered Messages mailbox have their only copy there).
    const freshIndex = !(await exists(paths.index));
    if (freshIndex && !(await isEmptyDir(paths.cache))) {
      const aside = `${paths.cache}.before-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      await Deno.rename(paths.cache, aside);
      this.#o.output.warn(
        `${this.email}: the index is new; the literal cache of the earlier one was moved to ${aside}`,
        { account: this.email },
      );
    }
    await Deno.mkdir(paths.cache, { recursive: true, mode: 0o700 });
    let store: Store | undefined;
    try {
      store = Store.open(paths.index);
      this.#failedAtOpen = store.messages.failedBuilds().flatMap((f) =>
        f.remoteId === null ? [] : [f.remoteId]
      );
    } catch (err) {
      store?.close();
      // A damaged file does not heal by waiting: say which and what to do, once.
      if (isDamagedIndex(err)) {
        throw new PermanentAccountError(
          `the account's index ${paths.index} is damaged (${errorText(err)}) and is left as it ` +
            "is. The mail is on the server: stop `bridge serve`, move the file aside " +
            `(\`mv ${paths.index} ${paths.index}.damaged\`, with its -wal and -shm files) and ` +
            "start it again to rebuild the index (mail clients then see a new UIDVALIDITY and " +
            "download the mailboxes again); messages kept only in its local Recovered Messages " +
            "mailbox stay in the moved file, their bodies in the literal cache, which is moved " +
            "aside then too",
        );
      }
      throw err;
    }
    this.#store = store;
    this.#cache = await LiteralCache.open(paths.cache, this.#o.account.cacheSecret);
  }

  /** Makes the connector (once) over `keys`, with a fetcher that works once the keys do. */
  async #makeConnector(keys: UnlockedAccount): Promise<void> {
    const o = this.#o;
    if (!this.#parts) {
      this.#parts = {
        id: this.userId,
        primaryEmail: this.email,
        store: this.#store!,
        bus: o.bus,
        client: this.#client!,
        unlocked: keys,
        cache: this.#cache!,
        fetcher: {
          fetch: (id) =>
            this.#fetcher ? this.#fetcher.fetch(id) : Promise.reject(
              new NetworkError("the mail server cannot be reached, and this message is not here"),
            ),
        },
        showAllMail: this.#config.mailboxes.show_all_mail,
        addressMode: this.#addressMode,
        sentLookup: o.recorder.lookupFor(this.userId, 10_000),
        log: (m) => o.output.info(`${this.email}: ${m}`, { account: this.email }),
        queue: this.#changes,
        readBacks: this.#readBacks,
      };
    }
    if (!this.#mail && o.parts.connector) {
      this.#mail = await o.parts.connector(this.#parts);
    }
  }

  /**
   * Serves the account from its local index while the API cannot be reached (at start, before
   * the session could be restored): possible once a first sync completed here. Logins and
   * everything read from the index and the literal cache work; what needs the API (flag changes,
   * moves, appends, messages not cached yet, sending) answers "unavailable" until the account is
   * ready. Whether it serves now.
   */
  async #serveOffline(): Promise<boolean> {
    if (this.#mail) return this.#state === "offline" || this.#state === "ready";
    if (!this.#synced && !this.#o.account.sync.firstSyncDone) return false;
    const paths = this.#paths();
    try {
      await Deno.stat(paths.index);
    } catch {
      return false;
    }
    try {
      await this.#openIndex();
      this.#client ??= this.#newClient();
      // The session as stored: the first request after the network is back refreshes it.
      if (!this.#sessionUp) {
        this.#client.setAuth({
          uid: this.#o.account.authUid,
          accessToken: "",
          refreshToken: this.#o.account.refreshToken,
        });
      }
      this.#connectorKeys ??= {
        user: { UsedSpace: Number.NaN, MaxSpace: Number.NaN } as UnlockedAccount["user"],
        addresses: await this.#keptAddresses(),
        keyPassword: "",
        userKeys: new KeyRing([]),
        addressKeys: new Map(),
        addressKeyErrors: new Map(),
        locked: true,
      };
      await this.#makeConnector(this.#unlocked ?? this.#connectorKeys);
      return this.#mail !== undefined;
    } catch (err) {
      // A damaged index, a session of another server: said once by the caller, not retried.
      if (err instanceof PermanentAccountError) throw err;
      this.#o.output.warn(
        `${this.email}: cannot serve the local mail either: ${errorText(err)}`,
        { account: this.email },
      );
      return false;
    }
  }

  /**
   * Keeps the account's address list (IDs, emails, status, order; no keys) in its folder, so a
   * start while the API cannot be reached still knows every login (aliases, split mode).
   * Best effort: a failure only costs that.
   */
  async #keepAddresses(addresses: readonly Address[]): Promise<void> {
    const paths = this.#paths();
    const kept = addresses.map(({ Keys: _keys, ...rest }) => rest);
    try {
      await Deno.mkdir(paths.root, { recursive: true, mode: 0o700 });
      await atomicWriteText(join(paths.root, ADDRESSES_FILE), JSON.stringify(kept) + "\n", 0o600);
    } catch (err) {
      this.#o.output.debug(`${this.email}: could not keep the address list: ${errorText(err)}`, {
        account: this.email,
      });
    }
  }

  /** The address list {@link #keepAddresses} kept (without keys), or none. */
  async #keptAddresses(): Promise<Address[]> {
    const paths = this.#paths();
    try {
      const list = JSON.parse(await Deno.readTextFile(join(paths.root, ADDRESSES_FILE)));
      if (!Array.isArray(list)) return [];
      return list
        .filter((a) => a && typeof a.ID === "string" && typeof a.Email === "string")
        .map((a) => ({ ...a, Keys: [] }) as Address)
        .sort((a, b) => a.Order - b.Order);
    } catch {
      return [];
    }
  }

  #newClient(): ApiClient {
    const account = this.#o.account;
    const config = this.#config;
    // The session's tokens go only to the server that issued them.
    const elsewhere = sessionServerMismatch(account, config.api.url);
    if (elsewhere !== undefined) throw new PermanentAccountError(elsewhere);
    return new ApiClient({
      baseURL: config.api.url,
      appVersion: config.api.app_version,
      timeoutMs: config.api.timeout_seconds * 1000,
      cookieJar: account.cookies ? CookieJar.deserialize(account.cookies) : undefined,
      onRequest: (e) => {
        this.#throttle.observe(e);
        this.#noteServerTrouble(e);
      },
      onAuth: async (uid, refreshToken) => {
        const cookies = this.#client?.cookieJar.serialize() ?? "";
        try {
          await this.#o.vault.updateAccount(this.userId, (vault, email) => {
            vault.setAuth(email, uid, refreshToken);
            vault.setCookies(email, cookies);
            // An account signed in before the issuing server was recorded: the server that
            // just renewed its session is that server.
            if (vault.getAccount(email)?.apiUrl === "") vault.setApiUrl(email, config.api.url);
          });
        } catch (err) {
          this.#o.output.failure(
            `${this.email}: the new session could not be saved in the vault (${
              errorText(err)
            }); after a restart the account may need \`bridge login\` again`,
            { account: this.email },
          );
        }
      },
      onSignedOut: (err) => this.#signedOut(err),
      ...this.#o.clientOptions,
    });
  }

  #newLoop(labels?: Awaited<ReturnType<ReturnType<typeof syncApiFor>["labels"]>>): EventLoop {
    const config = this.#config;
    return new EventLoop({
      account: this.userId,
      store: this.#store!,
      source: apiEventSource(this.#client!),
      fetcher: this.#fetcher!,
      bus: this.#o.bus,
      literals: this.#cache,
      labels,
      retryFailedBuilds: this.#failedAtOpen.splice(0),
      intervalMs: config.events.poll_interval_seconds * 1000,
      jitterMs: config.events.jitter_seconds * 1000,
      resync: () => this.#resync(),
      exclusive: (commit) => this.#changes.run(commit),
      readBacks: this.#readBacks,
      onAddresses: () => this.#refreshAddresses(),
      onMailSettings: (settings) => {
        // Merged into what the API gave (an event carries the whole object; a partial one must
        // not drop fields); before any send asked, the first send asks the API.
        const kept = this.#mailSettings;
        if (kept) this.#mailSettings = { value: { ...kept.value, ...settings }, at: Date.now() };
      },
      onStorage: (storage) => this.#setStorage(storage),
      onNotice: (n) => this.#notice(n),
      log: (m) => this.#o.output.warn(`${this.email}: ${m}`, { account: this.email }),
    });
  }

  /**
   * An address was created, changed (enabled, disabled, new keys) or deleted: fetch the
   * addresses and unlock their keys again, and update the unlocked account **in place**, so the
   * connector, SMTP sending, split-mode logins and the build pool all see them without a restart.
   * A failure is logged and leaves the previous addresses in force (the next address event
   * retries).
   */
  /**
   * Takes the storage figures given (from an event or a fresh read of the user) into the unlocked
   * user, in place: the connector reads the same object (IMAP GETQUOTA).
   */
  #setStorage(figures: { UsedSpace?: number; MaxSpace?: number }): void {
    const user = this.#unlocked?.user;
    if (!user) return;
    if (figures.UsedSpace !== undefined) user.UsedSpace = figures.UsedSpace;
    if (figures.MaxSpace !== undefined) user.MaxSpace = figures.MaxSpace;
  }

  /** Reads the user's storage figures again (after the event loop took its cursor). */
  async #refreshStorage(client: ApiClient): Promise<void> {
    if (!this.#unlocked) return;
    try {
      this.#setStorage(await getUser(client));
    } catch (err) {
      if (err instanceof SignedOutError) throw err;
      // Not worth failing the start over: the next event with figures corrects them.
    }
  }

  async #refreshAddresses(): Promise<void> {
    const unlocked = this.#unlocked;
    const client = this.#client;
    if (!unlocked || !client) return;
    let fresh: UnlockedAccount;
    try {
      fresh = await unlockWithKeyPassword(client, this.#o.account.keyPassword);
    } catch (err) {
      this.#o.output.warn(
        `${this.email}: the account's addresses changed but could not be reloaded (${
          errorText(err)
        }); the previous ones stay in force`,
        { account: this.email },
      );
      return;
    }
    const before = new Set(unlocked.addresses.map((a) => `${a.ID} ${a.Status}`));
    unlocked.addresses.splice(0, unlocked.addresses.length, ...fresh.addresses);
    this.#setStorage(fresh.user); // the user was read again too: its figures are the newest
    // An address whose keys unlocked before but not now (a transient failure) keeps its old
    // keys: mail built without them would stay a placeholder until a resync.
    const kept = new Map(unlocked.addressKeys);
    unlocked.addressKeys.clear();
    for (const [id, ring] of fresh.addressKeys) unlocked.addressKeys.set(id, ring);
    unlocked.addressKeyErrors.clear();
    for (const [id, err] of fresh.addressKeyErrors) {
      const old = kept.get(id);
      if (old) unlocked.addressKeys.set(id, old);
      else unlocked.addressKeyErrors.set(id, err);
    }
    this.#split.clear();
    await this.#pool?.refreshKeys();
    await this.#keepAddresses(fresh.addresses);
    const changed = fresh.addresses.filter((a) => !before.has(`${a.ID} ${a.Status}`));
    this.#o.output.info(
      `${this.email}: addresses reloaded (${fresh.addresses.length}; ` +
        `${changed.length} new or changed)`,
      { account: this.email },
    );
  }

  /** The first sync (or, when one completed before, a refresh of the labels); `quiet` keeps the state. */
  async #firstSync(quiet = false): Promise<void> {
    const o = this.#o;
    if (!quiet) this.#setState("syncing", null);
    const release = await o.slots.acquire(this.#abort.signal);
    try {
      this.#syncStartedAt = Date.now();
      const result = await syncUntilComplete({
        api: syncApiFor(this.#client!),
        store: this.#store!,
        cache: this.#cache!,
        builder: this.#pool!,
        throttle: this.#throttle,
        account: this.email,
        reporter: this.#reporter(),
        memoryBudget: this.#config.sync.memory_budget_mb * MiB,
        heap: o.heap,
        signal: this.#abort.signal,
        onTransientError: (what, error, retry, delayMs) => {
          const text = `${what} failed (${error}); retry ${retry} in ${
            Math.round(delayMs / 1000)
          } s`;
          o.output.warn(`${this.email}: first sync waiting: ${text}`, { account: this.email });
          if (this.#state === "syncing") {
            this.#setState("syncing", `waiting for the server: ${text}`);
          }
        },
      }, {
        onRetry: (e, attempt) =>
          o.output.warn(`${this.email}: first sync interrupted (${e.message}); retry ${attempt}`, {
            account: this.email,
          }),
      });
      this.#syncFinishedAt = Date.now();
      if (result.failed > 0) {
        o.output.warn(
          `${this.email}: ${result.failed} messages could not be decrypted or built; they are ` +
            "shown as placeholders",
          { account: this.email },
        );
      }
    } finally {
      release();
    }
    if (!this.#firstSyncDone) {
      this.#firstSyncDone = true;
      await o.vault.updateAccount(
        this.userId,
        (vault, email) => vault.setSyncFlags(email, { firstSyncDone: true, shouldResync: false }),
      );
    }
  }

  /** A full resync after the event feed said `Refresh`: the loop waits for it. */
  async #resync(): Promise<void> {
    const was = this.#state;
    this.#o.output.warn(`${this.email}: the server asked for a full resync`, {
      account: this.email,
    });
    try {
      await this.#firstSync();
    } finally {
      if (this.#state === "syncing") this.#setState(was === "syncing" ? "ready" : was, null);
    }
  }

  #reporter(): Reporter {
    return {
      progress: (p) => {
        this.#progress = p;
        this.#progressAt = Date.now();
        // Progress again: the wait a transient error announced is over.
        if (this.#state === "syncing" && this.#reason !== null) this.#setState("syncing", null);
        this.#o.reporter.progress(p);
      },
    };
  }

  /**
   * While the first sync runs, a request the server refused for now (429, 5xx) or never answered
   * says why progress stopped at once, as the account's reason: the API client retries it itself,
   * after a `Retry-After` of up to a minute, before the sync hears of it. The next progress clears
   * the reason.
   */
  #noteServerTrouble(e: RequestEvent): void {
    if (this.#state !== "syncing") return;
    const trouble = e.error !== undefined
      ? e.error
      : e.status === 429 || (e.status ?? 0) >= 500
      ? `HTTP ${e.status}`
      : undefined;
    if (trouble === undefined) return;
    this.#setState("syncing", `waiting for the server: a request failed (${trouble}); retrying`);
  }

  #notice(n: EventLoopNotice): void {
    const out = this.#o.output;
    const fields = { account: this.email };
    switch (n.kind) {
      case "applied":
        this.#lastEventAt = Date.now();
        this.#eventsApplied++;
        out.debug(`${this.email}: event applied (${n.updates} updates)`, fields);
        break;
      case "transient-error":
      case "bad-reply":
        out.warn(
          `${this.email}: polling events failed (${n.error}); retry in ${
            Math.round(n.retryInMs / 1000)
          } s`,
          fields,
        );
        break;
      case "bad-event":
        out.warn(`${this.email}: event ${n.eventId} could not be applied (${n.error})`, fields);
        break;
      case "bad-event-partially-applied":
        out.warn(`${this.email}: event ${n.eventId} applied without its bad items`, fields);
        break;
      case "bad-event-skipped":
        out.failure(`${this.email}: event ${n.eventId} skipped after ${n.attempts} tries`, fields);
        break;
      case "refresh":
        out.info(`${this.email}: the server asked for a refresh`, fields);
        break;
      case "resync-failed":
        out.failure(`${this.email}: resync failed: ${n.error}`, fields);
        break;
      case "signed-out":
        this.#signedOut(new SignedOutError(n.error));
        break;
    }
  }

  #signedOut(err: unknown): void {
    if (this.#state === "signed-out") return;
    const reason = `the API session was revoked (${
      errorText(err)
    }): run \`bridge login ${this.email}\` to sign in again (the mail here stays)`;
    this.#setState("signed-out", reason);
    if (!this.#stopping) {
      this.#o.output.failure(`${this.email}: ${reason}`, { account: this.email });
    }
    this.#settled.resolve();
    // The vault forgets the dead session (not a newer one a login may have stored meanwhile), so
    // `bridge accounts` says signed out and `bridge login` signs the account in again in place.
    const dead = this.sessionUid;
    this.#o.vault.updateAccount(this.userId, (vault, email) => {
      if (vault.getAccount(email)?.authUid === dead) vault.clearAuth(email);
    }).catch(() => {});
  }

  #setState(state: AccountState, reason: string | null): void {
    if (this.#state === "signed-out" && state !== "signed-out") return;
    if (this.#state === state && this.#reason === reason) return;
    this.#state = state;
    this.#reason = reason;
    this.#o.onState?.(this);
  }

  #checkStop(): void {
    if (this.#stopping) throw new Error("bridge is stopping");
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Whether `dir` is missing or holds nothing. */
async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return false;
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return true;
    throw err;
  }
}

/** Whether a bring-up failed because the API cannot be reached or is failing (not a refusal). */
function isUnreachable(err: unknown): boolean {
  if (err instanceof SyncError) return isUnreachable(err.cause);
  return isTransientError(err) || (err instanceof ApiError && err.status === 408);
}

/**
 * Puts what an unlock gave into `target` in place (the connector made while offline holds it and
 * its address list and key map): returns `target`.
 */
function fillKeys(
  target: UnlockedAccount & { locked?: boolean },
  fresh: UnlockedAccount,
): UnlockedAccount {
  target.locked = false;
  target.user = fresh.user;
  target.keyPassword = fresh.keyPassword;
  target.userKeys = fresh.userKeys;
  target.addresses.splice(0, target.addresses.length, ...fresh.addresses);
  target.addressKeys.clear();
  for (const [id, ring] of fresh.addressKeys) target.addressKeys.set(id, ring);
  target.addressKeyErrors.clear();
  for (const [id, e] of fresh.addressKeyErrors) target.addressKeyErrors.set(id, e);
  return target;
}

function isSignedOut(err: unknown): boolean {
  if (err instanceof SignedOutError) return true;
  if (err instanceof SyncError && err.cause instanceof SignedOutError) return true;
  return false;
}

/** A condition of the account that retrying does not change; its message says what to do. */
class PermanentAccountError extends Error {
  override name = "PermanentAccountError";
}

/** Whether SQLite says the index file is damaged or not a database at all. */
function isDamagedIndex(err: unknown): boolean {
  return err instanceof Error &&
    /database disk image is malformed|file is not a database|SQLITE_(?:CORRUPT|NOTADB)/i.test(
      err.message,
    );
}

/** A failure as a sentence for status and logs (no secrets: API errors carry none). */
function describe(err: unknown, email: string): string {
  if (err instanceof PermanentAccountError) return err.message;
  if (err instanceof CryptoError && err.kind === "wrong-passphrase") {
    return "the stored key password no longer unlocks the account's keys (was the mailbox " +
      `password changed?): run \`bridge logout ${email}\` and \`bridge login ${email}\``;
  }
  if (err instanceof SyncError) return `first sync failed: ${err.message}`;
  if (err instanceof IndexTooNewError) {
    return `the account's index was written by a newer bridge (schema version ${err.version}; ` +
      `this one reads up to ${err.known}) and is left as it is: run the newer bridge, or ` +
      `\`bridge logout ${email}\` and \`bridge login ${email}\` to sync the account afresh`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return `cannot open the account's files: ${err.message}`;
  }
  const name = err instanceof Error && err.name !== "Error" ? `${err.name}: ` : "";
  return `${name}${errorText(err)}`;
}
