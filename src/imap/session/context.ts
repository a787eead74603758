/**
 * What a command handler sees: the command (tag, name, a {@link Decoder} over its arguments) and
 * the session it runs in ({@link SessionApi}). Handlers live in `src/imap/commands/`, one file
 * each, and export a {@link CommandSpec}; `command_table.ts` lists them.
 *
 * A handler writes untagged responses through `session.respond` (one complete response per call,
 * built with an {@link Encoder}), and returns the tagged {@link CommandResult}. It never writes the
 * tagged line itself and never flushes mailbox updates at a point RFC 3501 §7.4.1 forbids: the
 * session flushes queued updates before the tagged response of commands whose spec says so
 * (`flush: "all"` or `"no-expunge"`).
 *
 * @module
 */
import type { MailAccount } from "../../connector/account.ts";
import type { Decoder, Encoder } from "../wire/mod.ts";
import type { MailboxView } from "../state/mailbox_view.ts";

/** RFC 3501 §3 connection states. */
export type SessionState = "not-authenticated" | "authenticated" | "selected" | "logout";

/** The tagged response of a command. */
export interface CommandResult {
  status: "OK" | "NO" | "BAD";
  /** A response code without brackets, e.g. `READ-WRITE`, `COPYUID 5 1:2 7:8`, `TRYCREATE`. */
  code?: string;
  /** Human text (no CR/LF). */
  text: string;
  /** The handler already wrote the tagged line itself (STARTTLS); the session writes nothing. */
  sent?: boolean;
}

/** Builds an OK result. */
export function ok(text: string, code?: string): CommandResult {
  return { status: "OK", text, code };
}

/** Builds a NO result. */
export function no(text: string, code?: string): CommandResult {
  return { status: "NO", text, code };
}

/** Builds a BAD result. */
export function bad(text: string, code?: string): CommandResult {
  return { status: "BAD", text, code };
}

/** The session as command handlers use it. */
export interface SessionApi {
  /** A unique ID of this session (the `origin` of the mutations it makes). */
  readonly id: string;
  readonly state: SessionState;
  /** Whether the connection is encrypted (implicit TLS or after STARTTLS). */
  readonly secure: boolean;
  /** The logged-in account (authenticated and selected states). */
  readonly account: MailAccount | undefined;
  /** The selected mailbox (selected state). */
  readonly view: MailboxView | undefined;
  /** Extensions the client turned on with ENABLE (upper case, e.g. `CONDSTORE`). */
  readonly enabled: ReadonlySet<string>;
  /** The largest APPEND literal accepted (APPENDLIMIT). */
  readonly appendLimit: number;

  /** The capability list for the current state (sorted as it is advertised). */
  capabilities(): string[];

  /**
   * Writes one complete response. `build` fills the encoder (starting with `* ` or `+ `, ending
   * with `crlf()`); the bytes go out in order with everything else this session writes.
   */
  respond(build: (e: Encoder) => void): Promise<void>;

  /** Writes pre-encoded response bytes (e.g. a streamed FETCH response) in order. */
  write(bytes: Uint8Array | readonly Uint8Array[]): Promise<void>;

  /**
   * Reads the next raw line from the client (AUTHENTICATE responses, IDLE's `DONE`), without
   * CRLF; `undefined` when the connection ended.
   */
  readLine(): Promise<string | undefined>;

  /**
   * Resolves when {@link readLine} would return without waiting, or when this session's view got
   * new updates, whichever comes first (IDLE waits on this). `signal` ends the wait.
   */
  waitForInputOrUpdates(signal: AbortSignal): Promise<"input" | "updates">;

  /** Whether LOGIN / AUTHENTICATE may be used now (TLS, or plaintext login allowed). */
  readonly plainAuthAllowed: boolean;

  /** Keepalive interval and longest IDLE, ms. */
  readonly idleLimits: { keepaliveMs: number; maxIdleMs: number };

  /**
   * Set when the session is to end after the command in progress (`Session.end`): IDLE returns
   * at once, other commands finish and get their tagged response, then `* BYE`.
   */
  readonly ending: boolean;

  /**
   * Checks credentials with the server's authenticator and failed-login throttle; on success the
   * session is authenticated. `failed` answers `NO [AUTHENTICATIONFAILED]` (after the throttle's
   * delay), `unavailable` `NO [UNAVAILABLE]`; `locked` means: answer, then end the session.
   */
  login(username: string, password: string): Promise<"ok" | "failed" | "locked" | "unavailable">;

  /**
   * After `login` answered `unavailable`: why, when the account said (its credentials were right,
   * e.g. "first sync 10548/100000"), for the client's user.
   */
  readonly loginProblem?: string;

  /** Logs in: state becomes authenticated. */
  authenticated(account: MailAccount, username: string): void;

  /** Selects a mailbox (state selected), replacing any previous selection. */
  select(view: MailboxView): void;

  /** Ends the selection (state authenticated), e.g. CLOSE, UNSELECT, a failed SELECT. */
  unselect(): void;

  /** Marks the session for logout after the tagged response. */
  logout(): void;

  /** Turns on extensions (ENABLE, or implicitly by a CONDSTORE-using command). */
  enable(extension: string): void;

  /** Performs STARTTLS after writing the tagged OK `tag OK text`. */
  startTls(tag: string, text: string): Promise<void>;

  /**
   * Writes the queued mailbox updates of the selected view (EXISTS, FETCH FLAGS, and EXPUNGE when
   * `expunge` is true). Commands mostly leave this to the session (see {@link CommandSpec.flush}).
   */
  flushUpdates(expunge: boolean): Promise<void>;

  /** Diagnostics (never passwords or message contents). */
  log(message: string): void;
}

/** The context of one command. */
export interface CommandContext {
  readonly tag: string;
  /** Upper-case name as sent, `UID FETCH` for UID commands. */
  readonly name: string;
  /** Whether this is a `UID` command. */
  readonly uid: boolean;
  /** The arguments after the command name. Call `args.end()` when done parsing. */
  readonly args: Decoder;
  readonly session: SessionApi;
}

/** One command: where it may run and how it is handled. */
export interface CommandSpec {
  /** Names this spec answers to, upper case (`FETCH` and `UID FETCH` may share one spec). */
  readonly names: readonly string[];
  /** States the command is allowed in. */
  readonly states: readonly SessionState[];
  /**
   * Which queued mailbox updates the session writes before the tagged response: `"all"`
   * (NOOP, CHECK, IDLE end, EXPUNGE, MOVE, APPEND, …), `"no-expunge"` (FETCH, STORE, SEARCH
   * without UID: RFC 3501 §7.4.1), or `"none"`. Default `"no-expunge"`.
   */
  readonly flush?: "all" | "no-expunge" | "none";
  /** Handles the command; throw only for bugs (answered `NO [SERVERBUG]`, session survives). */
  handle(ctx: CommandContext): Promise<CommandResult>;
}
