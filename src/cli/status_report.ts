/**
 * The shape of `bridge status --json`: what a running `bridge serve` reports about itself, its
 * listeners and each account. Every field is documented in `docs/STATUS.md`; change both together.
 *
 * Times are ISO 8601 strings (UTC) or `null` when the thing has not happened yet; durations are
 * seconds. Nothing here is secret: no passwords, tokens, keys or message contents.
 *
 * @module
 */
import { type EventLoopState, exposedGc } from "../sync/mod.ts";
import { mallocMmapThreshold } from "./launch_settings.ts";

/** Version of this shape; bumped when a field changes meaning or goes away (additions do not). */
export const STATUS_FORMAT = 1;

/** Exit code of `bridge status` when no `bridge serve` runs on the data directory. */
export const NOT_RUNNING_EXIT_CODE = 3;

/**
 * What one account is doing. `offline`: the API cannot be reached, and the account is served from
 * its local index (reading works; changes, uncached messages and sending wait for the API).
 */
export type AccountState = "starting" | "syncing" | "ready" | "offline" | "signed-out" | "error";

/** One listener (IMAP or SMTP). */
export interface ListenerStatus {
  /**
   * `starting` (serve is still starting up), `listening`, `unavailable` (not in this build: see
   * `reason`), `stopped` (serve is stopping).
   */
  state: "starting" | "listening" | "unavailable" | "stopped";
  /** Address it listens on (or would). */
  host: string;
  /** Port it listens on (or would). */
  port: number;
  security: "starttls" | "ssl" | "none";
  /** Connections open now (`null` when not listening). */
  connections: number | null;
  /** Why it is not listening, else `null`. */
  reason: string | null;
}

/** The first sync of an account. */
export interface SyncStatus {
  /** `labels`, `counting`, `listing`, `messages` or `done`; `null` before it started. */
  phase: string | null;
  /** Messages synced so far. */
  done: number;
  /** Messages to sync (0 while unknown). */
  total: number;
  /** Messages per second, recent average. */
  rate: number;
  /** Seconds left at that rate, `null` while unknown. */
  eta: number | null;
  /** In the `listing` phase, messages listed so far; else `null`. */
  listed: number | null;
  /** Whether a first sync has completed for this account (in this run or an earlier one). */
  firstSyncDone: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  /** Messages that could not be decrypted or built (stored as placeholders). */
  failedMessages: number;
}

/** The event loop of an account. */
export interface EventsStatus {
  /** The loop's state (`created`, `paused`, `running`, `resyncing`, `stopped`, `signed-out`). */
  state: EventLoopState | null;
  /** Last poll of the event feed that reached the server. */
  lastPollAt: string | null;
  /** Last time an event was applied to the index. */
  lastEventAt: string | null;
  /** Seconds since `lastPollAt`: how old the index's view of the server may be. */
  cursorAgeSeconds: number | null;
  /** Events applied since `serve` started. */
  eventsApplied: number;
  /** Failed polls in a row. */
  consecutiveFailures: number;
  /** The last failed poll, when the last poll failed. */
  lastError: { message: string; at: string; transient: boolean } | null;
  /** Events skipped as malformed since start. */
  skippedEvents: number;
  /** Poll interval in seconds now in force. */
  pollIntervalSeconds: number;
}

/** One account. */
export interface AccountStatus {
  /** The primary address (the IMAP/SMTP login name). */
  email: string;
  state: AccountState;
  /** Why the account is in `error` or `signed-out` (or what it waits for), else `null`. */
  reason: string | null;
  addressMode: "combined" | "split";
  /**
   * The IMAP user names: every enabled address, primary first (only the primary until the keys
   * are unlocked). Combined mode: all log in to the same mail; split: each to its own.
   */
  imapLogins: string[];
  sync: SyncStatus;
  events: EventsStatus;
  /** From the local index; `null` while it is not open. */
  counts: { messages: number | null; mailboxes: number | null };
  /** IMAP sessions logged in to this account now (`null` while IMAP is not available). */
  imapSessions: number | null;
  /**
   * The account's mail storage as the API last reported it (at login, then from events), bytes;
   * `null` before the account is unlocked. What IMAP GETQUOTA reports.
   */
  storage: { usedBytes: number; limitBytes: number } | null;
  /** SMTP submissions: sent, and duplicates not sent again (`null` when not tracked). */
  smtp: { sent: number; failed: number; duplicatesSuppressed: number | null };
}

/** The process's memory (see `sync.memory_soft_limit_mb`). */
export interface MemoryStatus {
  /** Resident size of the serve process now, MB (10⁶ bytes, one decimal). */
  rssMB: number;
  /** `sync.memory_soft_limit_mb` (0: off). */
  softLimitMiB: number;
  /** Whether the limit is enforced: it is set and V8 runs with `--expose-gc`. */
  softLimitActive: boolean;
  /** Full collections the limit has forced since serve started. */
  forcedCollections: number;
  /**
   * `MALLOC_MMAP_THRESHOLD_` of serve's environment in bytes (the launchers set 4194304, so glibc
   * returns freed message buffers to the system); `null` when not set.
   */
  mallocMmapThreshold: number | null;
}

/**
 * The {@link MemoryStatus} of this process: `governor` is the running sync's soft limit (serve's
 * `HeapGovernor`); without one (serve still starting) the limit is reported as it will be.
 */
export function memoryStatus(
  softLimitMiB: number,
  governor?: { readonly active: boolean; readonly forced: number },
): MemoryStatus {
  return {
    rssMB: Math.round(Deno.memoryUsage().rss / 1e5) / 10,
    softLimitMiB,
    softLimitActive: governor ? governor.active : softLimitMiB > 0 && exposedGc() !== undefined,
    forcedCollections: governor?.forced ?? 0,
    mallocMmapThreshold: mallocMmapThreshold(),
  };
}

/** The whole report. */
export interface StatusReport {
  running: true;
  /** {@link STATUS_FORMAT}. */
  format: number;
  version: string;
  pid: number;
  startedAt: string;
  uptimeSeconds: number;
  /** All accounts synced and every available listener up. */
  ready: boolean;
  /** Running in demo mode (`--demo`). */
  demo: boolean;
  dataDir: string;
  apiUrl: string;
  logLevel: string;
  listeners: { imap: ListenerStatus; smtp: ListenerStatus };
  /** The process's memory and the first sync's soft limit on it. */
  memory: MemoryStatus;
  accounts: AccountStatus[];
  /** Things the user should know (parts not available, settings that need a restart). */
  warnings: string[];
}

/** What `bridge status --json` prints when nothing is running (the reason goes to stderr). */
export interface NotRunningReport {
  running: false;
}
