/**
 * One SMTP submission session (RFC 5321, RFC 6409): the state machine from the greeting to
 * `QUIT`, over an {@link SocketConnection}.
 *
 * States: greeted → `EHLO`/`HELO` → (`STARTTLS` → greeted again) → `AUTH` → `MAIL` → `RCPT`… →
 * `DATA` → back to authenticated. A client session looks like:
 *
 * ```
 * S: 220 127.0.0.1 ESMTP bridge
 * C: EHLO [127.0.0.1]          S: 250-127.0.0.1 … 250 AUTH PLAIN LOGIN
 * C: AUTH PLAIN AGFsaWNlAHB3   S: 235 2.7.0 Authentication successful
 * C: MAIL FROM:<a@b> SIZE=900  S: 250 2.1.0 Sender OK
 * C: RCPT TO:<c@d>             S: 250 2.1.5 Recipient OK
 * C: DATA                      S: 354 Start mail input; end with <CRLF>.<CRLF>
 * C: …message… .               S: 250 2.0.0 OK <id>
 * ```
 *
 * Decisions (each a reply with an RFC 3463 enhanced code and a reason; the session continues
 * unless stated):
 * - Unknown command `500 5.5.1`; out of sequence `503 5.5.1`; bad arguments `501 5.5.4` (bad
 *   addresses `501 5.1.7`/`5.1.3`); known but unimplemented (`EXPN`, `BDAT`, `TURN`…) `502 5.5.1`;
 *   overlong command line `500 5.5.2`. After `maxBadCommands` of these: `421 4.7.0` and close.
 * - `MAIL`/`RCPT`/`DATA` before `AUTH`: `530 5.7.0`. `AUTH` before TLS when plaintext auth is not
 *   allowed: `538 5.7.11` (RFC 4954 §6).
 * - `SIZE=` above the limit: `552 5.3.4` at `MAIL` time (RFC 1870); a message that grows past it
 *   is read to its end, then `552 5.3.4`.
 * - Message content checks at the end of `DATA`, all `554` (RFC 5321 §4.3.2 "transaction
 *   failed"), first match wins: bare LF or bare CR `5.6.0` (RFC 5321 §2.3.8; the official bridge
 *   passes them through, but accepting them is what makes SMTP smuggling possible, and a client
 *   that sends them is broken); a line over 998 characters `5.6.0` (RFC 5322 §2.1.1, RFC 5321
 *   §4.5.3.1.6); octets above 0x7F without `BODY=8BITMIME` or `SMTPUTF8` `5.6.0` (RFC 6152 lets
 *   only a client that declared 8BITMIME send them). Normalising instead would change what the
 *   user signed or meant to send.
 * - Wrong credentials `535 5.7.8`, answered after a per-address growing delay; after
 *   `maxAuthFailuresPerConnection`, or from a locked address, `421 4.7.0` and close. An
 *   authenticator that throws: `454 4.7.0`.
 * - No AUTH within `preAuthTimeoutMs` of connecting: `421 4.4.2` and close.
 * - Silence for `idleTimeoutMs`: `421 4.4.2` and close (a client that stops reading replies for
 *   as long is dropped). Server shutdown while idle: `421 4.3.2`.
 * - `HELO` is treated like `EHLO` for what may follow (AUTH, MAIL parameters): refusing them
 *   after `HELO` would protect nothing.
 * - The submission handler's {@link SubmissionError} is passed through; anything else it throws
 *   is `451 4.3.0` (logged by name, never with contents).
 *
 * PIPELINING (RFC 2920): commands are executed in order as they arrive and their replies are
 * queued; the queue is written whenever the session would wait for input, before `STARTTLS` and
 * at `QUIT`, so the replies to one group of commands travel together and in order.
 *
 * @module
 */
import type { AccountRef, Authenticator } from "./authenticator.ts";
import type { AuthThrottle } from "../connector/auth_throttle.ts";
import type { SocketConnection } from "../tls/socket_connection.ts";
import { type DataOutcome, DataReader } from "./data_reader.ts";
import { ArgumentError, parseEnvelopeArgs } from "./envelope_args.ts";
import type { SmtpLimits } from "./limits.ts";
import { LineBuffer } from "./line_buffer.ts";
import { formatReply, type SmtpReply } from "./reply.ts";
import {
  decodeSaslResponse,
  decodeUtf8Credential,
  encodeChallenge,
  parsePlain,
  SaslSyntaxError,
} from "./sasl.ts";
import { SubmissionError, type SubmissionHandler } from "./submission.ts";

/** What a session needs from its server. */
export interface SessionOptions<A extends AccountRef = AccountRef> {
  /** Name in the greeting and the `EHLO` reply, e.g. `127.0.0.1`. */
  hostname: string;
  authenticator: Authenticator<A>;
  submission: SubmissionHandler<A>;
  limits: SmtpLimits;
  /** Offer and accept `AUTH` before TLS (the official bridge does on loopback). */
  allowPlainAuth: boolean;
  /** Shared per-address failed-login bookkeeping. */
  throttle: AuthThrottle;
  /** Accept 8-bit content without `BODY=8BITMIME` (default false: `554 5.6.0`). */
  acceptUndeclared8bit?: boolean;
  /** Diagnostics (never passwords or message contents). */
  log: (message: string) => void;
}

interface Transaction {
  mailFrom: string;
  body: "7BIT" | "8BITMIME";
  smtputf8: boolean;
  rcptTo: string[];
  /** Lower-cased copies for duplicate detection. */
  seen: Set<string>;
}

/** Result of waiting for input. */
type Fill = "ok" | "closed";
/** Result of reading a line. */
type LineRead = { kind: "line"; bytes: Uint8Array } | { kind: "too-long" } | { kind: "closed" };

const UNIMPLEMENTED = new Set(["EXPN", "TURN", "ETRN", "ATRN", "BDAT", "SEND", "SOML", "SAML"]);
const HTTP_VERBS = new Set(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT"]);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The SMTP state machine for one connection; {@link run} serves it to the end. */
export class SmtpSession<A extends AccountRef = AccountRef> {
  readonly #conn: SocketConnection;
  readonly #opts: SessionOptions<A>;
  readonly #limits: SmtpLimits;
  readonly #input = new LineBuffer();
  #pending: string[] = [];
  #closed = false;
  #closeStarted = false;
  #wakeSleep: (() => void) | null = null;
  #sawInput = false;
  #greeted: "none" | "helo" | "ehlo" = "none";
  #account: A | null = null;
  readonly #openedAt = Date.now();
  #tx: Transaction | null = null;
  #inData = false;
  #badCommands = 0;
  #authFailures = 0;
  #shutdown = false;
  #onShutdown: (() => void) | null = null;

  constructor(conn: SocketConnection, options: SessionOptions<A>) {
    this.#conn = conn;
    this.#opts = options;
    this.#limits = options.limits;
  }

  /** Whether a message is in progress (between `MAIL` and the reply to its data). */
  get busy(): boolean {
    return this.#tx !== null || this.#inData;
  }

  /** The authenticated account, if any. */
  get account(): A | null {
    return this.#account;
  }

  /**
   * Asks the session to end: at once with `421 4.3.2` if it is waiting for a command outside a
   * transaction, otherwise as soon as the current message is done.
   */
  requestShutdown(): void {
    this.#shutdown = true;
    if (!this.busy) this.#onShutdown?.();
  }

  /** Greets the client and serves commands until `QUIT`, EOF, timeout or a fatal error. */
  async run(): Promise<void> {
    try {
      this.#send({ code: 220, lines: [`${this.#opts.hostname} ESMTP bridge`] });
      while (!this.#closed) {
        const max = Math.max(this.#limits.maxCommandLineLength, this.#limits.maxAuthLineLength);
        const line = await this.#readLine(max, true);
        if (line.kind === "closed") break;
        if (line.kind === "too-long") {
          this.#bad(500, "5.5.2", "Line too long");
          continue;
        }
        try {
          await this.#command(line.bytes);
        } catch (e) {
          // A bug must not cost the client its connection: answer, forget the transaction.
          this.#log(`internal error: ${describe(e)}`);
          this.#tx = null;
          this.#send(reply(451, "4.3.0", "Internal error, command not executed; try again"));
        }
      }
    } catch (e) {
      this.#log(`session error: ${describe(e)}`);
      if (!this.#closed) this.#send(reply(421, "4.3.0", "Internal error, closing connection"));
    } finally {
      await this.#close();
    }
  }

  // ---------------------------------------------------------------- input

  /** Writes queued replies, then waits for more input (with the idle timeout). */
  async #fill(allowShutdown: boolean): Promise<Fill> {
    await this.#flush();
    if (this.#closed) return "closed";
    if (allowShutdown && this.#shutdown && !this.busy) return this.#shutDownNow();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Before AUTH, what is left of the pre-authentication time counts too.
    const waitMs = this.#account !== null ? this.#limits.idleTimeoutMs : Math.max(
      0,
      Math.min(
        this.#limits.idleTimeoutMs,
        this.#openedAt + this.#limits.preAuthTimeoutMs - Date.now(),
      ),
    );
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), waitMs);
    });
    const shutdown = allowShutdown
      ? new Promise<"shutdown">((resolve) => (this.#onShutdown = () => resolve("shutdown")))
      : new Promise<never>(() => {});
    const chunk = await Promise.race([this.#conn.read(), timeout, shutdown]);
    clearTimeout(timer);
    this.#onShutdown = null;
    if (chunk === "timeout") {
      const unauthenticated = this.#account === null &&
        Date.now() - this.#openedAt >= this.#limits.preAuthTimeoutMs;
      this.#log(unauthenticated ? "no authentication in time" : "idle timeout");
      this.#send(
        reply(
          421,
          "4.4.2",
          unauthenticated
            ? `${this.#opts.hostname} No authentication in time, closing connection`
            : `${this.#opts.hostname} Idle timeout, closing connection`,
        ),
      );
      await this.#close();
      return "closed";
    }
    if (chunk === "shutdown") return this.#shutDownNow();
    if (chunk === null) {
      this.#closed = true;
      return "closed";
    }
    if (!this.#sawInput && !this.#conn.secure && chunk[0] === 0x16) {
      // A TLS ClientHello on the plaintext port: the client is set to SSL/TLS instead of
      // STARTTLS. A reply would only be garbage to it.
      this.#log("client is using implicit TLS on a plaintext/STARTTLS port; closing");
      this.#pending = [];
      await this.#close();
      return "closed";
    }
    this.#sawInput = true;
    this.#input.push(chunk);
    return "ok";
  }

  async #shutDownNow(): Promise<Fill> {
    this.#send(reply(421, "4.3.2", `${this.#opts.hostname} Service shutting down`));
    await this.#close();
    return "closed";
  }

  async #readLine(max: number, allowShutdown: boolean): Promise<LineRead> {
    for (;;) {
      const r = this.#input.nextLine(max);
      if (r.kind !== "more") return r;
      if ((await this.#fill(allowShutdown)) === "closed") return { kind: "closed" };
    }
  }

  // ---------------------------------------------------------------- output

  #send(r: SmtpReply): void {
    if (!this.#closed) this.#pending.push(formatReply(r));
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("");
    this.#pending = [];
    await this.#write(text);
  }

  /** Writes, giving up on a client that stops reading for longer than the idle timeout. */
  async #write(text: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<"stuck">((resolve) => {
      timer = setTimeout(() => resolve("stuck"), this.#limits.idleTimeoutMs);
    });
    const r = await Promise.race([this.#conn.write(text), stuck]);
    clearTimeout(timer);
    if (r === "stuck") {
      this.#log("client stopped reading replies; closing");
      this.abort();
    }
  }

  /** Sends what is queued, then ends the connection; later replies are dropped. */
  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#closeStarted) return;
    this.#closeStarted = true;
    const text = this.#pending.join("");
    this.#pending = [];
    if (text) await this.#write(text);
    this.#conn.close();
  }

  /** Ends the session at once (server shutdown after its grace time). */
  abort(): void {
    this.#closed = true;
    this.#closeStarted = true;
    this.#pending = [];
    this.#wakeSleep?.();
    this.#conn.destroy();
  }

  /** Waits `ms`, or less if the session is aborted. */
  async #sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#wakeSleep = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.#wakeSleep = null;
  }

  /** Replies to a bad command and counts it; too many close the connection. */
  #bad(code: number, enhanced: string, text: string): void {
    this.#badCommands++;
    if (this.#badCommands >= this.#limits.maxBadCommands) {
      this.#log("too many bad commands");
      this.#send(reply(421, "4.7.0", "Too many errors, closing connection"));
      this.#closeSoon();
      return;
    }
    this.#send(reply(code, enhanced, text));
  }

  #closeSoon(): void {
    // #close marks the session closed at once, so no further queued command runs.
    void this.#close();
  }

  #log(message: string): void {
    this.#opts.log(`smtp ${this.#conn.remoteAddress}: ${message}`);
  }

  // ---------------------------------------------------------------- commands

  async #command(bytes: Uint8Array): Promise<void> {
    let line: string;
    try {
      line = utf8.decode(bytes);
    } catch {
      this.#bad(500, "5.5.2", "Command line is not valid UTF-8");
      return;
    }
    if (/[\0\r\n]/.test(line)) {
      this.#bad(500, "5.5.2", "Control characters in command line");
      return;
    }
    const sp = line.indexOf(" ");
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? "" : line.slice(sp + 1).trim();
    if (verb !== "AUTH" && bytes.length + 2 > this.#limits.maxCommandLineLength) {
      this.#bad(500, "5.5.2", "Line too long");
      return;
    }
    switch (verb) {
      case "EHLO":
      case "HELO":
        return this.#helo(verb, arg);
      case "STARTTLS":
        return await this.#startTls(arg);
      case "AUTH":
        return await this.#auth(arg);
      case "MAIL":
        return this.#mail(arg);
      case "RCPT":
        return this.#rcpt(arg);
      case "DATA":
        return await this.#data(arg);
      case "RSET":
        this.#tx = null;
        this.#send(reply(250, "2.0.0", "OK"));
        return;
      case "NOOP":
        this.#send(reply(250, "2.0.0", "OK"));
        return;
      case "QUIT":
        this.#send(reply(221, "2.0.0", `${this.#opts.hostname} closing connection`));
        await this.#close();
        return;
      case "VRFY":
        if (!arg) return this.#bad(501, "5.5.4", "Syntax: VRFY <address>");
        this.#send(
          reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
        );
        return;
      case "HELP":
        this.#send({
          code: 214,
          enhanced: "2.0.0",
          lines: [
            "Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY HELP",
            "Log in with AUTH as your account address and bridge password",
          ],
        });
        return;
    }
    if (HTTP_VERBS.has(verb) && /\sHTTP\/\d/.test(line)) {
      this.#log("HTTP request on the SMTP port; closing");
      this.#send(reply(421, "4.7.0", "This is an SMTP server, not HTTP; closing connection"));
      await this.#close();
      return;
    }
    if (UNIMPLEMENTED.has(verb)) return this.#bad(502, "5.5.1", `${verb} is not implemented`);
    this.#bad(500, "5.5.1", "Unknown command");
  }

  #helo(verb: "EHLO" | "HELO", arg: string): void {
    if (!arg) return this.#bad(501, "5.5.4", `Syntax: ${verb} <your domain or address>`);
    this.#tx = null;
    this.#greeted = verb === "EHLO" ? "ehlo" : "helo";
    const host = this.#opts.hostname;
    if (verb === "HELO") {
      this.#send({ code: 250, lines: [host] });
      return;
    }
    const lines = [
      host,
      "PIPELINING",
      `SIZE ${this.#limits.maxMessageSize}`,
      "8BITMIME",
      "ENHANCEDSTATUSCODES",
      "SMTPUTF8",
    ];
    if (this.#conn.canStartTls) lines.push("STARTTLS");
    if (this.#authAllowed) lines.push("AUTH PLAIN LOGIN");
    lines.push("HELP");
    this.#send({ code: 250, lines });
  }

  get #authAllowed(): boolean {
    return this.#conn.secure || this.#opts.allowPlainAuth;
  }

  async #startTls(arg: string): Promise<void> {
    if (arg) return this.#bad(501, "5.5.4", "STARTTLS takes no parameters");
    if (this.#conn.secure) return this.#bad(503, "5.5.1", "TLS is already active");
    if (!this.#conn.canStartTls) return this.#bad(502, "5.5.1", "STARTTLS is not available");
    // RFC 3207 §6: nothing the client sent after STARTTLS in clear may be acted upon.
    const injected = this.#input.length;
    if (injected > 0) {
      this.#log(`dropped ${injected} octets sent in clear after STARTTLS`);
      this.#input.clear();
    }
    await this.#flush();
    try {
      await this.#conn.startTls(formatReply(reply(220, "2.0.0", "Ready to start TLS")));
    } catch (e) {
      this.#log(describe(e));
      this.#closed = true;
      this.#conn.destroy();
      return;
    }
    // RFC 3207 §4.2: forget everything learnt before TLS.
    this.#greeted = "none";
    this.#account = null;
    this.#tx = null;
  }

  // ---------------------------------------------------------------- AUTH

  async #auth(arg: string): Promise<void> {
    if (this.#greeted === "none") return this.#bad(503, "5.5.1", "Send EHLO first");
    if (this.#account) return this.#bad(503, "5.5.1", "Already authenticated");
    if (this.#tx) return this.#bad(503, "5.5.1", "AUTH is not allowed during a mail transaction");
    if (!this.#authAllowed) {
      return this.#bad(538, "5.7.11", "Encryption required: use STARTTLS before AUTH");
    }
    const parts = arg.split(" ").filter((p) => p !== "");
    if (parts.length < 1 || parts.length > 2) {
      return this.#bad(501, "5.5.4", "Syntax: AUTH <mechanism> [initial-response]");
    }
    const mechanism = parts[0].toUpperCase();
    const initial = parts[1];
    let username: string;
    let password: string;
    try {
      if (mechanism === "PLAIN") {
        const response = initial ?? await this.#challenge("");
        if (response === null) return;
        const creds = parsePlain(decodeSaslResponse(response));
        if (creds.authzid && creds.authzid !== creds.username) {
          return await this.#authFailed(creds.username, "authorization identity differs");
        }
        username = creds.username;
        password = creds.password;
      } else if (mechanism === "LOGIN") {
        const user = initial ?? await this.#challenge("Username:");
        if (user === null) return;
        username = decodeUtf8Credential(decodeSaslResponse(user));
        const pass = await this.#challenge("Password:");
        if (pass === null) return;
        password = decodeUtf8Credential(decodeSaslResponse(pass));
      } else {
        return this.#bad(504, "5.5.4", `Unrecognized authentication mechanism ${mechanism}`);
      }
    } catch (e) {
      if (e instanceof SaslSyntaxError) {
        return this.#bad(501, "5.5.2", `Cannot decode: ${e.message}`);
      }
      throw e;
    }
    let account: A | null;
    try {
      account = await this.#opts.authenticator.authenticate(username, password);
    } catch (e) {
      this.#log(`authentication of ${username} could not be checked: ${describe(e)}`);
      this.#send(reply(454, "4.7.0", "Temporary authentication failure, try again later"));
      return;
    }
    if (!account) return await this.#authFailed(username, "invalid credentials");
    this.#account = account;
    this.#log(`authenticated as ${username}`);
    this.#send(reply(235, "2.7.0", "Authentication successful"));
  }

  /**
   * Sends a `334` challenge and reads the response line. Null when the exchange is over (the
   * client cancelled with `*`, sent an overlong line, or went away), the reply already queued.
   */
  async #challenge(text: string): Promise<string | null> {
    this.#send({ code: 334, lines: [text ? encodeChallenge(text) : ""] });
    const line = await this.#readLine(this.#limits.maxAuthLineLength, false);
    if (line.kind === "closed") return null;
    if (line.kind === "too-long") {
      this.#bad(500, "5.5.6", "Authentication exchange line is too long");
      return null;
    }
    const s = new TextDecoder().decode(line.bytes).trim();
    if (s === "*") {
      this.#send(reply(501, "5.7.0", "Authentication cancelled"));
      return null;
    }
    return s;
  }

  async #authFailed(username: string, why: string): Promise<void> {
    const address = this.#conn.remoteAddress;
    const verdict = this.#opts.throttle.recordFailure(address);
    this.#authFailures++;
    this.#log(`authentication failed for ${username}: ${why}`);
    await this.#flush();
    if (verdict.delayMs > 0) await this.#sleep(verdict.delayMs);
    if (this.#closed) return;
    if (verdict.locked || this.#authFailures >= this.#limits.maxAuthFailuresPerConnection) {
      this.#send(
        reply(421, "4.7.0", "Too many failed authentication attempts, closing connection"),
      );
      await this.#close();
      return;
    }
    this.#send(reply(535, "5.7.8", "Authentication credentials invalid"));
  }

  // ---------------------------------------------------------------- transaction

  /** Common checks of MAIL, RCPT and DATA; false when a reply was already queued. */
  #mayTransact(): boolean {
    if (this.#greeted === "none") {
      this.#bad(503, "5.5.1", "Send EHLO first");
      return false;
    }
    if (!this.#account) {
      this.#bad(530, "5.7.0", "Authentication required");
      return false;
    }
    return true;
  }

  #mail(arg: string): void {
    if (!this.#mayTransact()) return;
    if (this.#tx) return this.#bad(503, "5.5.1", "Nested MAIL command");
    let args;
    try {
      args = parseEnvelopeArgs(arg, "FROM");
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
      return this.#badReply(e.reply);
    }
    let body: "7BIT" | "8BITMIME" = "7BIT";
    let smtputf8 = false;
    for (const [key, value] of args.params) {
      switch (key) {
        case "SIZE": {
          if (value === null || !/^\d{1,15}$/.test(value)) {
            return this.#bad(501, "5.5.4", "Bad SIZE value");
          }
          if (Number(value) > this.#limits.maxMessageSize) {
            this.#send(
              reply(
                552,
                "5.3.4",
                `Message size exceeds fixed maximum message size (${this.#limits.maxMessageSize} octets)`,
              ),
            );
            return;
          }
          break;
        }
        case "BODY": {
          const v = value?.toUpperCase();
          if (v === "7BIT" || v === "8BITMIME") body = v;
          else if (v === "BINARYMIME") {
            return this.#bad(555, "5.5.4", "BODY=BINARYMIME is not supported");
          } else return this.#bad(501, "5.5.4", "BODY must be 7BIT or 8BITMIME");
          break;
        }
        case "SMTPUTF8":
          if (value !== null) return this.#bad(501, "5.5.4", "SMTPUTF8 takes no value");
          smtputf8 = true;
          break;
        case "AUTH":
          // RFC 4954 §5: accepted; the submitter is the authenticated account anyway.
          break;
        default:
          return this.#bad(555, "5.5.4", `MAIL FROM parameter ${key} is not supported`);
      }
    }
    if (args.nonAscii && !smtputf8) {
      return this.#bad(553, "5.6.7", "A non-ASCII address needs the SMTPUTF8 parameter");
    }
    this.#tx = { mailFrom: args.address, body, smtputf8, rcptTo: [], seen: new Set() };
    this.#send(reply(250, "2.1.0", "Sender OK"));
  }

  #rcpt(arg: string): void {
    if (!this.#mayTransact()) return;
    const tx = this.#tx;
    if (!tx) return this.#bad(503, "5.5.1", "Need MAIL before RCPT");
    let args;
    try {
      args = parseEnvelopeArgs(arg, "TO");
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
      return this.#badReply(e.reply);
    }
    const [param] = args.params.keys();
    if (param !== undefined) {
      return this.#bad(555, "5.5.4", `RCPT TO parameter ${param} is not supported`);
    }
    if (args.nonAscii && !tx.smtputf8) {
      return this.#bad(553, "5.6.7", "A non-ASCII address needs SMTPUTF8 in MAIL FROM");
    }
    const key = args.address.toLowerCase();
    if (!tx.seen.has(key)) {
      if (tx.rcptTo.length >= this.#limits.maxRecipients) {
        this.#send(
          reply(452, "4.5.3", `Too many recipients (at most ${this.#limits.maxRecipients})`),
        );
        return;
      }
      tx.seen.add(key);
      tx.rcptTo.push(args.address);
    }
    this.#send(reply(250, "2.1.5", "Recipient OK"));
  }

  #badReply(r: SmtpReply): void {
    this.#bad(r.code, r.enhanced ?? "5.5.4", r.lines[0]);
  }

  async #data(arg: string): Promise<void> {
    if (arg) return this.#bad(501, "5.5.4", "DATA takes no parameters");
    if (!this.#mayTransact()) return;
    const tx = this.#tx;
    if (!tx) return this.#bad(503, "5.5.1", "Need MAIL before DATA");
    if (tx.rcptTo.length === 0) return this.#bad(503, "5.5.1", "Need RCPT before DATA");
    this.#inData = true;
    try {
      this.#send({ code: 354, lines: ["Start mail input; end with <CRLF>.<CRLF>"] });
      const reader = new DataReader({
        maxMessageSize: this.#limits.maxMessageSize,
        maxLineLength: this.#limits.maxLineLength,
      });
      for (;;) {
        if (this.#input.length > 0) {
          this.#input.consume(reader.push(this.#input.peek()));
          if (reader.done) break;
        }
        if ((await this.#fill(false)) === "closed") return;
      }
      const out = reader.outcome();
      const bad = this.#checkContent(out, tx);
      if (bad) {
        this.#log(`message refused: ${bad.lines[0]}`);
        this.#send(bad);
        return;
      }
      await this.#submit(tx, out.data!);
    } finally {
      this.#inData = false;
      this.#tx = null;
    }
  }

  #checkContent(out: DataOutcome, tx: Transaction): SmtpReply | undefined {
    if (out.tooBig) {
      return reply(
        552,
        "5.3.4",
        `Message size exceeds fixed maximum message size (${this.#limits.maxMessageSize} octets)`,
      );
    }
    // A bare LF or CR was written as CRLF, and a line over 998 characters is taken as it is (RFC
    // 5321 §4.5.3.1 asks servers not to refuse what they can handle; the API takes the content
    // as data, not as lines of another SMTP hop): scripts send both, and a permanent refusal
    // lost their mail. The message size stays the limit.
    if (out.bareLineEnd !== undefined) {
      this.#log(
        `message has bare LF or CR line ends (first on line ${out.bareLineEnd}): taken as CRLF`,
      );
    }
    if (out.longLine !== undefined) {
      this.#log(
        `message has lines over ${this.#limits.maxLineLength - 2} characters ` +
          `(first: line ${out.longLine})`,
      );
    }
    if (
      out.eightBit && tx.body === "7BIT" && !tx.smtputf8 && !this.#opts.acceptUndeclared8bit
    ) {
      return reply(
        554,
        "5.6.0",
        "Message has 8-bit data but MAIL FROM did not declare BODY=8BITMIME (RFC 6152)",
      );
    }
    return undefined;
  }

  async #submit(tx: Transaction, data: Uint8Array): Promise<void> {
    try {
      const result = await this.#opts.submission.submit({
        account: this.#account!,
        mailFrom: tx.mailFrom,
        rcptTo: [...tx.rcptTo],
        data,
        body: tx.body,
        smtputf8: tx.smtputf8,
        remoteAddress: this.#conn.remoteAddress,
      });
      const id = result?.queuedAs ? ` ${result.queuedAs}` : "";
      this.#send(reply(250, "2.0.0", `OK${id}`));
    } catch (e) {
      if (e instanceof SubmissionError) {
        this.#log(`submission refused (${e.code} ${e.enhanced}): ${e.message}`);
        this.#send(reply(e.code, e.enhanced, e.message || "Transaction failed"));
        return;
      }
      this.#log(`submission failed: ${describe(e)}`);
      this.#send(
        reply(451, "4.3.0", "Local error while sending; the message was not sent, try again"),
      );
    }
  }
}

function reply(code: number, enhanced: string | undefined, text: string): SmtpReply {
  return { code, enhanced, lines: [text] };
}

/** An error's class and message for logs (no stack). */
function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
