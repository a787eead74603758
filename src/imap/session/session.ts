/**
 * One IMAP connection from greeting to logout (RFC 3501 §3): reads commands with the wire
 * {@link Reader}, checks each against the state machine (not authenticated → authenticated →
 * selected → logout), runs its handler from the command table, writes queued mailbox updates where
 * RFC 3501 §7.4.1 allows, and answers with the tagged response.
 *
 * One writer: every byte this session sends goes through {@link Session.write} in order, and
 * commands run one at a time, so untagged updates (IDLE included) never interleave with another
 * response. Bus updates for the account are taken into the selected {@link MailboxView} as they
 * arrive and written only at flush points.
 *
 * Limits: a BAD command count ends the session with `* BYE` after `maxBadCommands` in a row;
 * autologout after `autologoutMs` without a command (outside IDLE), `preAuthAutologoutMs` before
 * login; before login the APPEND literal limit is tiny. A TLS ClientHello on the plaintext port is logged and the connection closed.
 *
 * @module
 */
import { type MailAccount, MailboxOperationError } from "../../connector/account.ts";
import type { AuthThrottle } from "../../connector/auth_throttle.ts";
import type { Subscription } from "../../connector/update_bus.ts";
import type { SocketConnection } from "../../tls/socket_connection.ts";
import type { MailboxView } from "../state/mailbox_view.ts";
import {
  CollectingSink,
  Decoder,
  encodeMailboxName,
  Encoder,
  Reader,
  type ReaderEvent,
  type Token,
} from "../wire/mod.ts";
import { capabilities } from "./capabilities.ts";
import type {
  CommandContext,
  CommandResult,
  CommandSpec,
  SessionApi,
  SessionState,
} from "./context.ts";
import type { ImapLimits } from "./limits.ts";

/** Checks IMAP credentials (an address of an account and its bridge password). */
export interface ImapAuthenticator {
  /**
   * The account `username`/`password` belong to, or `null` when they are wrong. Throwing means
   * the check could not be made now (`NO [UNAVAILABLE]`).
   */
  authenticate(username: string, password: string): Promise<MailAccount | null>;
}

/** What every session of a server shares. */
export interface SessionOptions {
  authenticator: ImapAuthenticator;
  /** Command name (upper case, `UID FETCH` form) → spec. */
  commands: ReadonlyMap<string, CommandSpec>;
  limits: Readonly<ImapLimits>;
  /** Allow LOGIN / AUTHENTICATE without TLS. */
  allowPlainAuth: boolean;
  throttle: AuthThrottle;
  /** Text after `* OK [CAPABILITY …]` in the greeting. */
  greeting: string;
  /** Session IDs (`imap-<n>`). */
  nextId: () => string;
  log: (message: string) => void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One IMAP session over one connection. */
export class Session implements SessionApi {
  readonly id: string;
  readonly #conn: SocketConnection;
  readonly #opts: SessionOptions;
  #reader: Reader;
  #state: SessionState = "not-authenticated";
  #account: MailAccount | undefined;
  #username = "";
  #view: MailboxView | undefined;
  #enabled = new Set<string>();
  #subscription: Subscription | undefined;
  #pendingRead: Promise<Uint8Array | null> | undefined;
  #inputEnded = false;
  #updateWaiters: (() => void)[] = [];
  #badInARow = 0;
  #closing = false;
  /** A command is being handled (see {@link Session.end}). */
  #inCommand = false;
  /** The BYE text to end with after the command in progress ({@link Session.end}). */
  #endAfter: string | undefined;
  #writeChain: Promise<void> = Promise.resolve();

  constructor(conn: SocketConnection, options: SessionOptions) {
    this.#conn = conn;
    this.#opts = options;
    this.id = options.nextId();
    this.#reader = this.#newReader(conn.secure);
  }

  #newReader(secure: boolean): Reader {
    const limits = this.#opts.limits;
    return new Reader({
      detectTls: !secure,
      limits: {
        maxLineLength: limits.maxLineLength,
        maxLiteralSize: limits.maxLiteralSize,
        maxAppendSize: this.#state === "not-authenticated"
          ? limits.preAuthLiteralSize
          : limits.maxAppendSize,
        maxCommandSize: limits.maxCommandSize,
        maxNonSyncLiteralSize: limits.maxNonSyncLiteralSize,
        maxTagLength: limits.maxTagLength,
        maxCommandNameLength: limits.maxCommandNameLength,
        maxQuotedLength: limits.maxQuotedLength,
        maxDepth: limits.maxDepth,
      },
    });
  }

  // ---- SessionApi -------------------------------------------------------------------------

  get state(): SessionState {
    return this.#state;
  }

  get secure(): boolean {
    return this.#conn.secure;
  }

  get account(): MailAccount | undefined {
    return this.#account;
  }

  get view(): MailboxView | undefined {
    return this.#view;
  }

  get enabled(): ReadonlySet<string> {
    return this.#enabled;
  }

  get appendLimit(): number {
    return this.#opts.limits.maxAppendSize;
  }

  /** The username the client logged in with (empty before login). */
  get username(): string {
    return this.#username;
  }

  capabilities(): string[] {
    return capabilities({
      authenticated: this.#state === "authenticated" || this.#state === "selected",
      secure: this.#conn.secure,
      canStartTls: this.#conn.canStartTls,
      allowPlainAuth: this.#opts.allowPlainAuth,
      appendLimit: this.#opts.limits.maxAppendSize,
    });
  }

  /** Whether LOGIN and AUTHENTICATE may be used now (TLS, or plaintext auth allowed). */
  get plainAuthAllowed(): boolean {
    return this.#conn.secure || this.#opts.allowPlainAuth;
  }

  /** See {@link SessionApi.loginProblem}. */
  loginProblem: string | undefined;
  readonly #openedAt = Date.now();

  async login(
    username: string,
    password: string,
  ): Promise<"ok" | "failed" | "locked" | "unavailable"> {
    let account: MailAccount | null;
    this.loginProblem = undefined;
    try {
      account = await this.#opts.authenticator.authenticate(username, password);
    } catch (err) {
      this.log(`login check failed: ${describe(err)}`);
      // An account that says why it cannot be used now (still syncing, offline, signed out)
      // says so to its user; anything else stays in the log.
      if (err instanceof MailboxOperationError && err.code === "UNAVAILABLE") {
        this.loginProblem = err.message;
      }
      return "unavailable";
    }
    if (account) {
      this.authenticated(account, username);
      return "ok";
    }
    const verdict = this.#opts.throttle.recordFailure(this.#conn.remoteAddress);
    this.log(`failed login from ${this.#conn.remoteAddress}`);
    if (verdict.delayMs > 0) await new Promise((r) => setTimeout(r, verdict.delayMs));
    if (verdict.locked) {
      this.#closing = true;
      return "locked";
    }
    return "failed";
  }

  /** IDLE limits (keepalive interval, longest IDLE). */
  get idleLimits(): { keepaliveMs: number; maxIdleMs: number } {
    return {
      keepaliveMs: this.#opts.limits.idleKeepaliveMs,
      maxIdleMs: this.#opts.limits.maxIdleMs,
    };
  }

  respond(build: (e: Encoder) => void): Promise<void> {
    const sink = new CollectingSink();
    const e = new Encoder(sink, { utf8: this.#enabled.has("UTF8=ACCEPT") });
    build(e);
    e.flush();
    return this.write(sink.parts);
  }

  write(bytes: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const list = bytes instanceof Uint8Array ? [bytes] : bytes;
    const next = this.#writeChain.then(async () => {
      for (const b of list) if (b.length > 0) await this.#conn.write(b);
    });
    this.#writeChain = next.catch(() => {});
    return next;
  }

  async readLine(): Promise<string | undefined> {
    for (;;) {
      const ev = this.#reader.readLine();
      if (ev.kind === "line") return dec.decode(ev.line);
      if (ev.kind === "error") return "";
      if (!(await this.#fill(this.#inputTimeout()))) return undefined;
    }
  }

  async waitForInputOrUpdates(signal: AbortSignal): Promise<"input" | "updates"> {
    if (this.#reader.pendingBytes > 0 || this.#inputEnded) return "input";
    if (this.#view?.hasPending) return "updates";
    this.#pendingRead ??= this.#conn.read();
    const read = this.#pendingRead;
    let wake!: () => void;
    const updates = new Promise<"updates">((resolve) => {
      wake = () => resolve("updates");
      this.#updateWaiters.push(wake);
    });
    const aborted = new Promise<"updates">((resolve) => {
      if (signal.aborted) resolve("updates");
      signal.addEventListener("abort", () => resolve("updates"), { once: true });
    });
    try {
      return await Promise.race([read.then(() => "input" as const), updates, aborted]);
    } finally {
      this.#updateWaiters = this.#updateWaiters.filter((w) => w !== wake);
    }
  }

  authenticated(account: MailAccount, username: string): void {
    this.#account = account;
    this.#username = username;
    this.#state = "authenticated";
    this.#reader.setLimits({ maxAppendSize: this.#opts.limits.maxAppendSize });
    // Synchronous delivery: this session's own mutations are in its view by the time the
    // connector call returns, so they are reported before the tagged response.
    this.#subscription = account.bus.subscribe(account.id, {
      name: this.id,
      onDeliver: (u) => this.#view?.enqueue(u),
    });
  }

  select(view: MailboxView): void {
    this.#view = view;
    view.onQueued = () => this.notifyUpdates();
    this.#state = "selected";
  }

  unselect(): void {
    this.#view = undefined;
    if (this.#state === "selected") this.#state = "authenticated";
  }

  logout(): void {
    this.#state = "logout";
  }

  enable(extension: string): void {
    this.#enabled.add(extension.toUpperCase());
  }

  async startTls(tag: string, text: string): Promise<void> {
    await this.#writeChain;
    this.#pendingRead = undefined;
    try {
      await this.#conn.startTls(`${tag} OK ${text}\r\n`);
    } catch (err) {
      this.#closing = true;
      throw err;
    }
    // Anything the client pipelined in clear was dropped with the old reader (RFC 3501 §6.2.1).
    this.#reader = this.#newReader(true);
  }

  async flushUpdates(expunge: boolean): Promise<void> {
    const view = this.#view;
    if (!view || !view.hasPending) return;
    if (view.fate !== "ok") return; // handled by the command loop
    await this.respond((e) =>
      view.flush(e, {
        expunge,
        modseq: this.#enabled.has("CONDSTORE"),
        vanished: this.#enabled.has("QRESYNC"),
      })
    );
  }

  log(message: string): void {
    this.#opts.log(`imap ${this.id}: ${message}`);
  }

  /** Wakes an IDLE waiting for updates (the view's `onQueued`). */
  notifyUpdates(): void {
    for (const w of this.#updateWaiters) w();
  }

  // ---- the loop ---------------------------------------------------------------------------

  /** Reads more input into the reader; false when the connection ended. */
  /**
   * How long to wait for input now: the autologout once logged in; before, what is left of
   * `preAuthAutologoutMs` since the connection opened (a deadline, not an idle time, so that a
   * client sending NOOPs, or stopping in an AUTHENTICATE exchange, does not keep its slot).
   */
  #inputTimeout(): number {
    const { autologoutMs, preAuthAutologoutMs } = this.#opts.limits;
    if (this.#state !== "not-authenticated") return autologoutMs;
    return Math.max(0, this.#openedAt + preAuthAutologoutMs - Date.now());
  }

  async #fill(timeoutMs?: number): Promise<boolean> {
    if (this.#inputEnded) return false;
    this.#pendingRead ??= this.#conn.read();
    const read = this.#pendingRead;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const chunk = timeoutMs === undefined ? await read : await Promise.race([
      read,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (chunk === "timeout") return false;
    this.#pendingRead = undefined;
    if (chunk === null) {
      this.#inputEnded = true;
      return false;
    }
    this.#reader.feed(chunk);
    return true;
  }

  /** Runs the session until logout, BYE or the end of the connection. */
  async run(): Promise<void> {
    try {
      await this.respond((e) =>
        e.raw(`* OK [CAPABILITY ${this.capabilities().join(" ")}] ${this.#opts.greeting}`).crlf()
      );
      await this.#loop();
    } catch (err) {
      this.#opts.log(`imap ${this.id}: session ended by an error: ${describe(err)}`);
    } finally {
      this.#subscription?.unsubscribe();
      this.#subscription = undefined;
      await this.#writeChain;
      this.#conn.close();
    }
  }

  /**
   * Ends the session from outside without cutting a command short: between commands at once
   * (`* BYE text`, close); during one (an APPEND whose import is under way, a FETCH writing a
   * literal) once its tagged response is out; an IDLE returns first. The client's last command
   * thus always gets its answer (a cut APPEND would be imported again on the client's retry).
   */
  end(text: string): void {
    if (this.#closing || this.#endAfter !== undefined) return;
    if (!this.#inCommand) {
      this.shutdown(text).catch(() => {});
      return;
    }
    this.#endAfter = text;
    this.notifyUpdates(); // wakes an IDLE
  }

  /** See {@link SessionApi.ending}. */
  get ending(): boolean {
    return this.#endAfter !== undefined;
  }

  /** Ends the session from outside (server shutdown): `* BYE` then close. */
  async shutdown(text = "Server shutting down"): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.write(enc.encode(`* BYE ${text}\r\n`)).catch(() => {});
    this.#conn.close();
  }

  async #loop(): Promise<void> {
    while (!this.#closing && this.#state !== "logout") {
      const ev: ReaderEvent = this.#reader.next();
      switch (ev.kind) {
        case "need-more": {
          if (!(await this.#fill(this.#inputTimeout()))) {
            if (!this.#inputEnded) {
              await this.write(enc.encode("* BYE Autologout; idle for too long\r\n"));
            }
            return;
          }
          break;
        }
        case "continue":
          await this.write(enc.encode("+ Ready for literal data\r\n"));
          break;
        case "error":
          await this.write(
            enc.encode(`${ev.tag ?? "*"} ${ev.status} [${ev.code}] ${ev.message}\r\n`),
          );
          if (ev.fatal) {
            await this.write(enc.encode("* BYE Cannot continue after that error\r\n"));
            return;
          }
          if (await this.#countBad()) return;
          break;
        case "tls-on-plaintext":
          this.log(`client ${this.#conn.remoteAddress} speaks TLS on the plaintext port; closing`);
          return;
        case "command":
          await this.#dispatch(ev.tag, ev.name, ev.args);
          break;
        default:
          // Streaming APPEND events are not enabled on this reader.
          break;
      }
    }
  }

  /** Counts a BAD; true when the limit is reached and the session must end. */
  async #countBad(): Promise<boolean> {
    this.#badInARow++;
    if (this.#badInARow >= this.#opts.limits.maxBadCommands) {
      await this.write(enc.encode("* BYE Too many invalid commands\r\n"));
      return true;
    }
    return false;
  }

  async #dispatch(tag: string, name: string, args: Token[]): Promise<void> {
    const gone = this.#account?.unavailable?.();
    if (gone !== undefined) {
      // The login's address was disabled or removed while the session was open (split mode).
      this.#opts.log(`imap ${this.id}: ending the session: ${gone}`);
      await this.write(enc.encode(`* BYE ${responseText(gone)}\r\n`));
      this.#closing = true;
      return;
    }
    const spec = this.#opts.commands.get(name);
    let result: CommandResult;
    if (!spec) {
      result = { status: "BAD", text: `Unknown command ${truncate(name)}` };
    } else if (!spec.states.includes(this.#state)) {
      result = {
        status: "BAD",
        text: this.#state === "not-authenticated"
          ? `${name} is not allowed before login`
          : this.#state === "authenticated" && spec.states.includes("selected")
          ? `${name} needs a selected mailbox`
          : `${name} is not allowed now`,
      };
    } else {
      const uid = name.startsWith("UID ");
      const ctx: CommandContext = {
        tag,
        name,
        uid,
        args: new Decoder(args),
        session: this,
      };
      this.#inCommand = true;
      try {
        result = await spec.handle(ctx);
      } catch (err) {
        this.#opts.log(`imap ${this.id}: ${name} failed: ${describe(err)}`);
        result = { status: "NO", code: "SERVERBUG", text: `${name} failed on the server` };
      } finally {
        this.#inCommand = false;
      }
      const view = this.#view;
      if (view && view.fate !== "ok") {
        await this.#endSelection(view);
      } else {
        const flush = spec.flush ?? "no-expunge";
        if (flush !== "none" && this.#state === "selected") {
          await this.flushUpdates(flush === "all" || uid);
        }
      }
    }
    if (result.status === "BAD") {
      if (await this.#writeTagged(tag, result) && await this.#countBad()) this.#closing = true;
      return;
    }
    this.#badInARow = 0;
    if (this.#state === "logout") {
      await this.write(enc.encode("* BYE Logging out\r\n"));
    }
    await this.#writeTagged(tag, result);
    if (this.#endAfter !== undefined && this.#state !== "logout") {
      await this.write(enc.encode(`* BYE ${responseText(this.#endAfter)}\r\n`));
      this.#closing = true;
    }
  }

  async #writeTagged(tag: string, result: CommandResult): Promise<boolean> {
    if (result.sent) return true; // the handler wrote the tagged line itself (STARTTLS)
    const code = result.code ? `[${result.code}] ` : "";
    await this.write(enc.encode(`${tag} ${result.status} ${code}${responseText(result.text)}\r\n`));
    return true;
  }

  /** The selected mailbox was deleted or rebuilt under the session: tell the client and end. */
  async #endSelection(view: MailboxView): Promise<void> {
    if (view.fate === "deleted") {
      await this.write(enc.encode("* BYE The selected mailbox was deleted\r\n"));
    } else {
      await this.write(
        enc.encode("* BYE The mailbox was rebuilt (new UIDVALIDITY); please reconnect\r\n"),
      );
    }
    this.#closing = true;
  }

  /** Whether the selected view was deleted or rebuilt (IDLE checks this). */
  get viewGone(): boolean {
    return this.#view !== undefined && this.#view.fate !== "ok";
  }
}

function truncate(s: string): string {
  return s.length > 32 ? s.slice(0, 32) + "…" : s;
}

/**
 * A response text as IMAP allows it: one line of 7-bit characters (RFC 3501 `text`). Our own
 * typography (`§`, dashes, quotes) becomes ASCII; texts name mailboxes by their decoded names
 * (`Folders/Café`), so any other run of characters is written in modified UTF-7, the form the
 * client knows the name in (`Folders/Caf&AOk-`).
 */
export function responseText(s: string): string {
  return s.replace(/[\r\n]+/g, " ")
    .replace(/[§…–—‘’“”]/g, (c) => TYPOGRAPHIC[c])
    .replace(/[^\x20-\x7e]+/g, (run) => encodeMailboxName(run));
}

/** Our own texts' typographic characters, in ASCII. */
const TYPOGRAPHIC: Record<string, string> = {
  "§": "section ",
  "…": "...",
  "–": "-",
  "—": "-",
  "‘": "'",
  "’": "'",
  "“": '"',
  "”": '"',
};

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
