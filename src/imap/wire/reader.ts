/**
 * Incremental IMAP command reader (RFC 3501 §2.2, §4, §7.5; RFC 7888 LITERAL+/LITERAL-; RFC 3516
 * literal8; RFC 7889 APPENDLIMIT). Pure: no I/O, works on `Uint8Array` chunks.
 *
 * Usage: {@link Reader.feed} the bytes read from the connection, then call {@link Reader.next}
 * until it returns `need-more`:
 *
 * | event            | what the connection does                                                        |
 * |------------------|---------------------------------------------------------------------------------|
 * | `need-more`      | read more bytes and feed them                                                   |
 * | `continue`       | a synchronizing literal `{n}` passed the limits: write `+ Ready for literal data` and call `next()` again — or call {@link Reader.cancelLiteral} and answer the tag with an error instead |
 * | `literal-start`, `literal-chunk`, `literal-end` | only with `streamAppendLiterals`: the APPEND message arriving in pieces |
 * | `command`        | a complete command: `tag`, upper-case `name` (`"UID FETCH"` for UID commands), `args` tokens |
 * | `error`          | answer `tag` (or `*` when absent) with `status` `[code] message`; the reader has already skipped the rest of that command (including non-synchronizing literal data) |
 * | `tls-on-plaintext` | the first bytes were a TLS ClientHello: log it and close; the reader ignores all further input |
 *
 * **Design.** Two layers. Framing is a resumable byte-level state machine: it splits input into
 * line segments (ending in CRLF, or in a bare LF, which is accepted) and literal data of a known
 * length, so any split of the input across reads gives the same events. Tokenising runs on one
 * complete segment at a time with the parenthesis/bracket stack kept across segments, so a literal
 * may appear anywhere a string may (inside lists and FETCH sections too). A segment ending in
 * `{n}`, `{n+}`, `~{n}` or `~{n+}` announces a literal; a `{` anywhere else is a syntax error.
 *
 * **Grammar strictness.** Framing is strict (exactly one space between arguments, no trailing space,
 * balanced parentheses, quoted strings with only `\"` and `\\` escapes, no NUL or CR inside them).
 * Bare words are lenient: any bytes except space, `(`, `)`, `"`, `{`, controls (and `[`/`]` in
 * FETCH) form one atom, decoded as UTF-8; whether it is a valid atom, astring, flag, sequence set or
 * list-mailbox is decided by the {@link Decoder} from the argument's role. Empty lines are ignored.
 *
 * **FETCH sections.** For `FETCH` and `UID FETCH` only, `name[...]` becomes one `section` token
 * with the bracket contents tokenised (lists and literals allowed inside) and an optional
 * `<offset.length>`; elsewhere `[` and `]` are ordinary astring characters (`[Gmail]/Sent`).
 *
 * **Limits** ({@link ReaderLimits}, changeable at any time with {@link Reader.setLimits}, e.g. to
 * shrink `maxAppendSize` before authentication) are checked *before* any literal data is accepted:
 * a synchronizing literal over a limit gives an `error` instead of `continue` (the client never
 * sends the data); a non-synchronizing literal over a limit has its data read and dropped, then the
 * rest of the command is skipped and the `error` comes. The message literal of `APPEND` (any
 * top-level literal after the mailbox argument) is measured against `maxAppendSize` and gets
 * status `NO` (RFC 7889); every other literal against `maxLiteralSize` with status `BAD`. Lists and
 * sections nest at most `maxDepth` (default 64: far more than any client sends, small enough to
 * keep recursive consumers safe; go-imap allows 1000).
 *
 * **APPEND data.** By default the message literal is buffered into one buffer of exactly the
 * announced size (no concatenation) and arrives as a normal `literal` token in `command.args`.
 * With `streamAppendLiterals: true` the reader instead emits `literal-start` (with the arguments
 * read so far), then `literal-chunk` events (fresh copies, safe to keep) and `literal-end`; the
 * final `command` carries a `literal` token with `streamed: true` and empty `bytes`.
 *
 * **Lines.** After a command such as `AUTHENTICATE` (SASL responses) or `IDLE` (`DONE`), call
 * {@link Reader.readLine} instead of `next()` to get the next raw line.
 *
 * @example
 * ```ts ignore
 * import { Reader } from "./reader.ts";
 * const reader = new Reader();
 * reader.feed(new TextEncoder().encode("a1 LOGIN {4}\r\n"));
 * reader.next(); // { kind: "continue", literalSize: 4, ... } → write "+ Ready for literal data"
 * reader.feed(new TextEncoder().encode("user pass\r\n"));
 * reader.next(); // { kind: "command", tag: "a1", name: "LOGIN", args: [literal "user", atom "pass"] }
 * ```
 *
 * @module
 */
import type { ListToken, LiteralToken, SectionToken, Token } from "./token.ts";

/** Limits enforced by the {@link Reader}. All sizes are in bytes. */
export interface ReaderLimits {
  /** Non-literal bytes of one command, all its lines together (CRLFs and literal headers included); also the longest {@link Reader.readLine} line. Default 64 KiB. */
  maxLineLength: number;
  /** Any literal other than the APPEND message. Default 64 KiB. */
  maxLiteralSize: number;
  /** The APPEND message literal (advertise it as `APPENDLIMIT=`). Default 50 MiB. */
  maxAppendSize: number;
  /** Lines plus buffered literals of one command, not counting the APPEND message. Default 1 MiB. */
  maxCommandSize: number;
  /** Non-synchronizing literals: `Infinity` for LITERAL+ (the default), 4096 for LITERAL-. */
  maxNonSyncLiteralSize: number;
  /** Tag length. Default 64. */
  maxTagLength: number;
  /** Command name length (each word of `UID <name>`). Default 32. */
  maxCommandNameLength: number;
  /** Content of one quoted string. Default 8 KiB. */
  maxQuotedLength: number;
  /** Nesting of lists and FETCH sections. Default 64. */
  maxDepth: number;
}

/** The default {@link ReaderLimits}. */
export const DEFAULT_READER_LIMITS: Readonly<ReaderLimits> = Object.freeze({
  maxLineLength: 64 * 1024,
  maxLiteralSize: 64 * 1024,
  maxAppendSize: 50 * 1024 * 1024,
  maxCommandSize: 1024 * 1024,
  maxNonSyncLiteralSize: Infinity,
  maxTagLength: 64,
  maxCommandNameLength: 32,
  maxQuotedLength: 8 * 1024,
  maxDepth: 64,
});

/** Options for a {@link Reader}. */
export interface ReaderOptions {
  /** Overrides of {@link DEFAULT_READER_LIMITS}. */
  limits?: Partial<ReaderLimits>;
  /** Hand the APPEND message out as `literal-chunk` events instead of buffering it. Default false. */
  streamAppendLiterals?: boolean;
  /** Recognise a TLS ClientHello as the first bytes (plaintext ports). Default true; pass false for a reader created after STARTTLS or on an implicit-TLS port. */
  detectTls?: boolean;
}

/** Response codes the reader uses in `error` events (RFC 5530; TOOBIG from RFC 4469/7888/7889). */
export type ReaderErrorCode = "TOOBIG" | "CLIENTBUG" | "LIMIT";

/** A rejected command. The reader has skipped (or will not expect) the rest of it. */
export interface ReaderErrorEvent {
  /** Discriminator. */
  kind: "error";
  /** The command's tag when it could be read; answer untagged (`*`) otherwise. */
  tag?: string;
  /** The command name when it could be read. */
  name?: string;
  /** Suggested status: `NO` for an APPEND message over `maxAppendSize` (RFC 7889), else `BAD`. */
  status: "BAD" | "NO";
  /** Response code for the answer, e.g. `BAD [TOOBIG] …`. */
  code: ReaderErrorCode;
  /** Human text (sentence case, no final period; never echoes argument values). */
  message: string;
  /** When true the byte stream cannot be resynchronised: answer with `BYE` and close. */
  fatal: boolean;
}

/** A complete command. */
export interface CommandEvent {
  /** Discriminator. */
  kind: "command";
  /** The tag as sent. */
  tag: string;
  /** Upper-case command name; `UID FETCH`, `UID STORE`, … for UID commands. */
  name: string;
  /** The arguments after the name. */
  args: Token[];
  /** Bytes this command occupied on the wire (lines, CRLFs, literal headers and data). */
  size: number;
  /** Number of line segments (1 + number of literals). */
  lines: number;
}

/** A synchronizing literal was accepted: write `+ Ready for literal data` (or cancel it). */
export interface ContinueEvent {
  /** Discriminator. */
  kind: "continue";
  /** Tag of the command being read. */
  tag: string;
  /** Name of the command being read. */
  name: string;
  /** Top-level arguments read so far (an open list appears partially filled). */
  args: Token[];
  /** The announced size. */
  literalSize: number;
  /** True for literal8 `~{n}`. */
  binary: boolean;
  /** True when this literal is the APPEND message. */
  append: boolean;
}

/** Streaming mode only: the APPEND message literal begins (after `continue` when synchronizing). */
export interface LiteralStartEvent {
  /** Discriminator. */
  kind: "literal-start";
  /** Tag of the command being read. */
  tag: string;
  /** Name of the command being read (`APPEND`). */
  name: string;
  /** Top-level arguments before the literal (mailbox, flags, date-time). */
  args: Token[];
  /** The announced size. */
  size: number;
  /** True for `{n}`, false for `{n+}`. */
  sync: boolean;
  /** True for literal8. */
  binary: boolean;
}

/** Events returned by {@link Reader.next} and {@link Reader.readLine}. */
export type ReaderEvent =
  | { kind: "need-more" }
  | ContinueEvent
  | LiteralStartEvent
  | { kind: "literal-chunk"; data: Uint8Array }
  | { kind: "literal-end" }
  | CommandEvent
  | { kind: "line"; line: Uint8Array }
  | ReaderErrorEvent
  | { kind: "tls-on-plaintext" };

const NEED_MORE: ReaderEvent = Object.freeze({ kind: "need-more" }) as ReaderEvent;

const SP = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LANGLE = 0x3c;
const RANGLE = 0x3e;
const TILDE = 0x7e;
const PLUS = 0x2b;
const DOT = 0x2e;

/** A `{digits}` with more digits than this is not a literal header (just a syntax error). */
const MAX_HEADER_DIGITS = 20;
/** Bytes of a segment kept while discarding: enough to see a literal header at its end. */
const DISCARD_TAIL = MAX_HEADER_DIGITS + 8;

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A syntax problem found while tokenising; becomes an `error` event. */
class ParseProblem {
  constructor(readonly code: ReaderErrorCode, readonly message: string) {}
}

interface Frame {
  type: "root" | "list" | "section";
  items: Token[];
  section?: SectionToken;
}

interface LiteralHeader {
  /** Index in the segment where the header starts (`{` or `~`). */
  start: number;
  /** Size, or NaN when not representable. */
  size: number;
  sync: boolean;
  binary: boolean;
}

interface LiteralState {
  size: number;
  remaining: number;
  sync: boolean;
  binary: boolean;
  mode: "buffer" | "stream" | "skip";
  append: boolean;
  target?: Uint8Array;
  filled: number;
  startPending: boolean;
}

function isCtl(b: number): boolean {
  return b < 0x20 || b === 0x7f;
}

function isTagChar(b: number): boolean {
  // ASTRING-CHAR except "+": printable ASCII minus atom-specials other than "]".
  return b > 0x20 && b < 0x7f && b !== LPAREN && b !== RPAREN && b !== LBRACE &&
    b !== 0x25 && b !== 0x2a && b !== DQUOTE && b !== BACKSLASH && b !== PLUS;
}

function isNameChar(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ||
    b === 0x2d || b === 0x5f || b === DOT;
}

/** The tag at the start of `bytes`, if they look like `tag SP` (for errors before parsing). */
function peekTag(bytes: Uint8Array, maxTagLength: number): string | undefined {
  const max = Math.min(bytes.length, maxTagLength + 1);
  for (let i = 0; i < max; i++) {
    const b = bytes[i];
    if (b === SP) return i > 0 ? ascii(bytes, 0, i) : undefined;
    if (!isTagChar(b)) return undefined;
  }
  return undefined;
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/**
 * Finds a literal header at the end of a segment: `{digits}`, `{digits+}`, optionally preceded by
 * `~`. Digits that do not fit a safe integer give `size: NaN`.
 */
function findLiteralHeader(seg: Uint8Array): LiteralHeader | undefined {
  let i = seg.length - 1;
  if (i < 2 || seg[i] !== RBRACE) return undefined;
  i--;
  let sync = true;
  if (seg[i] === PLUS) {
    sync = false;
    i--;
  }
  const digitsEnd = i + 1;
  while (i >= 0 && seg[i] >= 0x30 && seg[i] <= 0x39 && digitsEnd - i <= MAX_HEADER_DIGITS) i--;
  const digitsStart = i + 1;
  if (digitsStart === digitsEnd || i < 0 || seg[i] !== LBRACE) return undefined;
  let start = i;
  let binary = false;
  if (i > 0 && seg[i - 1] === TILDE) {
    binary = true;
    start = i - 1;
  }
  let size = NaN;
  if (digitsEnd - digitsStart <= 15) size = Number(ascii(seg, digitsStart, digitsEnd));
  return { start, size, sync, binary };
}

/** The incremental command reader. See the module documentation for the event protocol. */
export class Reader {
  #limits: ReaderLimits;
  #stream: boolean;
  #detectTls: boolean;

  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  #scan = 0;

  #state: "start" | "line" | "literal" | "discard" | "closed" = "start";
  #connectionStart = true;

  // Current command.
  #tag: string | undefined;
  #name: string | undefined;
  #fetch = false;
  #frames: Frame[] = [];
  #needSep = false;
  #justOpened = false;
  #lineBytes = 0;
  #budgetBytes = 0;
  #size = 0;
  #lines = 0;
  #lit: LiteralState | undefined;
  #awaitingAck = false;
  #pending: ReaderErrorEvent | undefined;

  // readLine() state.
  #lineDiscarding = false;

  /** Creates a reader; see {@link ReaderOptions}. */
  constructor(options: ReaderOptions = {}) {
    this.#limits = { ...DEFAULT_READER_LIMITS, ...options.limits };
    this.#stream = options.streamAppendLiterals ?? false;
    this.#detectTls = options.detectTls ?? true;
  }

  /** The limits in force. */
  get limits(): Readonly<ReaderLimits> {
    return this.#limits;
  }

  /** Changes some limits; they apply from the next literal header or line on. */
  setLimits(limits: Partial<ReaderLimits>): void {
    this.#limits = { ...this.#limits, ...limits };
  }

  /**
   * Bytes fed but not consumed yet. After a `STARTTLS` command it must be 0 before the TLS
   * handshake (otherwise a client — or an attacker — pipelined plaintext after STARTTLS).
   */
  get pendingBytes(): number {
    return this.#end - this.#start;
  }

  /** True after a `tls-on-plaintext` or fatal `error` event: the connection should be closed. */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /**
   * Adds bytes read from the connection. The bytes are copied, so the caller may reuse its buffer.
   * Call {@link next} until `need-more` before feeding again to keep the buffer small.
   */
  feed(chunk: Uint8Array): void {
    if (this.#state === "closed" || chunk.length === 0) return;
    if (this.#start === this.#end) {
      this.#start = this.#end = this.#scan = 0;
    }
    if (this.#buf.length - this.#end < chunk.length) {
      const live = this.#end - this.#start;
      if (this.#buf.length < live + chunk.length || this.#start === 0) {
        let cap = this.#buf.length * 2;
        while (cap < live + chunk.length) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#scan -= this.#start;
      this.#end = live;
      this.#start = 0;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /**
   * Call right after a `continue` event, instead of writing `+`, to refuse the literal (e.g. APPEND
   * to a mailbox that does not exist): the command is abandoned — the client sends neither the
   * literal nor the rest of the line — and the caller answers the tag itself. Returns false (and
   * does nothing) when the last event was not `continue`.
   */
  cancelLiteral(): boolean {
    if (!this.#awaitingAck) return false;
    this.#awaitingAck = false;
    this.#reset();
    return true;
  }

  /** Returns the next event. Never throws on any input. */
  next(): ReaderEvent {
    this.#awaitingAck = false;
    for (;;) {
      switch (this.#state) {
        case "closed":
          this.#start = this.#end = this.#scan = 0;
          return NEED_MORE;
        case "literal": {
          const ev = this.#stepLiteral();
          if (ev === undefined) continue;
          return ev;
        }
        default: {
          if (this.#state === "start" && this.#connectionStart) {
            if (this.#end === this.#start) return NEED_MORE;
            if (this.#detectTls && this.#buf[this.#start] === 0x16) {
              if (this.#end - this.#start < 2) return NEED_MORE;
              if (this.#buf[this.#start + 1] === 0x03) {
                this.#state = "closed";
                return { kind: "tls-on-plaintext" };
              }
            }
            this.#connectionStart = false;
          }
          const lf = this.#buf.subarray(this.#scan, this.#end).indexOf(LF);
          if (lf < 0) {
            this.#scan = this.#end;
            this.#noLineYet();
            return NEED_MORE;
          }
          const lfAt = this.#scan + lf;
          const consumed = lfAt + 1 - this.#start;
          let segEnd = lfAt;
          if (segEnd > this.#start && this.#buf[segEnd - 1] === CR) segEnd--;
          const seg = this.#buf.subarray(this.#start, segEnd);
          this.#start = this.#scan = lfAt + 1;
          const ev = this.#state === "discard"
            ? this.#discardSegment(seg)
            : this.#segment(seg, consumed);
          if (ev !== undefined) return ev;
        }
      }
    }
  }

  /**
   * Reads one raw line (without CRLF) for AUTHENTICATE responses or IDLE's `DONE`. Returns
   * `line`, `need-more`, or an `error` (TOOBIG) once a line longer than `maxLineLength` has been
   * skipped up to its end. Only valid between commands; throws `Error` when called in the middle
   * of one (a programming error, not bad input).
   */
  readLine(): ReaderEvent {
    if (this.#state === "closed") return NEED_MORE;
    if (this.#state !== "start") throw new Error("readLine() called in the middle of a command");
    this.#connectionStart = false;
    const lf = this.#buf.subarray(this.#scan, this.#end).indexOf(LF);
    if (lf < 0) {
      this.#scan = this.#end;
      if (this.#lineDiscarding || this.#end - this.#start > this.#limits.maxLineLength) {
        this.#lineDiscarding = true;
        this.#start = this.#scan = this.#end;
      }
      return NEED_MORE;
    }
    const lfAt = this.#scan + lf;
    let end = lfAt;
    if (end > this.#start && this.#buf[end - 1] === CR) end--;
    const tooLong = this.#lineDiscarding || end - this.#start > this.#limits.maxLineLength;
    const line = this.#buf.slice(this.#start, end);
    this.#start = this.#scan = lfAt + 1;
    if (tooLong) {
      this.#lineDiscarding = false;
      return this.#error(undefined, undefined, "TOOBIG", "Line too long", "BAD");
    }
    return { kind: "line", line };
  }

  // ---------------------------------------------------------------------------------------------

  #reset(): void {
    this.#state = "start";
    this.#tag = undefined;
    this.#name = undefined;
    this.#fetch = false;
    this.#frames = [];
    this.#needSep = false;
    this.#justOpened = false;
    this.#lineBytes = 0;
    this.#budgetBytes = 0;
    this.#size = 0;
    this.#lines = 0;
    this.#lit = undefined;
    this.#pending = undefined;
  }

  #error(
    tag: string | undefined,
    name: string | undefined,
    code: ReaderErrorCode,
    message: string,
    status: "BAD" | "NO" = "BAD",
    fatal = false,
  ): ReaderErrorEvent {
    const ev: ReaderErrorEvent = { kind: "error", status, code, message, fatal };
    if (tag !== undefined) ev.tag = tag;
    if (name !== undefined) ev.name = name;
    return ev;
  }

  /** Emits `ev` and ends the current command. */
  #finishWithError(ev: ReaderErrorEvent): ReaderErrorEvent {
    this.#reset();
    if (ev.fatal) this.#state = "closed";
    return ev;
  }

  /** Records an error; the rest of the command is skipped before it is emitted. */
  #startDiscard(ev: ReaderErrorEvent): void {
    this.#pending = ev;
    this.#state = "discard";
    this.#lit = undefined;
    this.#frames = [];
  }

  /** No LF in the buffer: enforce the line budget, keep only a tail when discarding. */
  #noLineYet(): void {
    const pending = this.#end - this.#start;
    if (this.#state === "discard") {
      if (pending > DISCARD_TAIL) this.#start = this.#end - DISCARD_TAIL;
      return;
    }
    if (pending === 0) return;
    if (this.#lineBytes + pending > this.#limits.maxLineLength) {
      const tag = this.#tag ??
        peekTag(this.#buf.subarray(this.#start, this.#end), this.#limits.maxTagLength);
      this.#startDiscard(
        this.#error(tag, this.#name, "TOOBIG", "Command line too long"),
      );
      if (pending > DISCARD_TAIL) this.#start = this.#end - DISCARD_TAIL;
    }
  }

  /** A segment seen while skipping an erroneous command. */
  #discardSegment(seg: Uint8Array): ReaderEvent | undefined {
    const header = findLiteralHeader(seg);
    const pending = this.#pending!;
    if (header && !header.sync) {
      if (Number.isNaN(header.size)) {
        return this.#finishWithError({
          ...pending,
          code: "TOOBIG",
          message: "Literal size is too large to skip",
          fatal: true,
        });
      }
      this.#lit = {
        size: header.size,
        remaining: header.size,
        sync: false,
        binary: header.binary,
        mode: "skip",
        append: false,
        filled: 0,
        startPending: false,
      };
      this.#state = "literal";
      return undefined;
    }
    // No literal, or a synchronizing one the client will not send without our "+".
    return this.#finishWithError(pending);
  }

  /** Processes one complete segment of a command being read. */
  #segment(seg: Uint8Array, consumed: number): ReaderEvent | undefined {
    const first = this.#state === "start";
    if (first) {
      if (seg.length === 0) return undefined; // empty line: ignore
      this.#reset();
      this.#state = "line";
      this.#frames = [{ type: "root", items: [] }];
    }
    this.#lines++;
    this.#size += consumed;
    this.#lineBytes += consumed;
    this.#budgetBytes += consumed;
    const header = findLiteralHeader(seg);
    const bodyEnd = header ? header.start : seg.length;

    let problem: ParseProblem | undefined;
    let pos = 0;
    if (this.#lineBytes > this.#limits.maxLineLength) {
      // Checked before anything else so that the outcome does not depend on how the input was
      // split (see #noLineYet, which reports the same error before the LF arrives).
      if (first) this.#tag = peekTag(seg, this.#limits.maxTagLength);
      problem = new ParseProblem("TOOBIG", "Command line too long");
    } else if (first) {
      const r = this.#parseTagAndName(seg, bodyEnd);
      if (r instanceof ParseProblem) problem = r;
      else pos = r;
    }
    if (!problem) problem = this.#tokenize(seg, pos, bodyEnd);
    if (!problem && header && this.#needSep) {
      problem = new ParseProblem("CLIENTBUG", "A literal must follow a space or (");
    }
    if (!problem && !header) {
      const top = this.#frames[this.#frames.length - 1];
      if (top.type === "list") problem = new ParseProblem("CLIENTBUG", "Missing ) at end of line");
      else if (top.type === "section") {
        problem = new ParseProblem("CLIENTBUG", "Missing ] at end of line");
      } else if (!this.#needSep) {
        problem = new ParseProblem("CLIENTBUG", "Unexpected space at end of line");
      }
    }

    if (problem) {
      const ev = this.#error(this.#tag, this.#name, problem.code, problem.message);
      if (header && !header.sync) {
        this.#startDiscard(ev);
        return this.#discardSegment(seg.subarray(header.start));
      }
      return this.#finishWithError(ev);
    }

    if (!header) {
      const ev: CommandEvent = {
        kind: "command",
        tag: this.#tag!,
        name: this.#name!,
        args: this.#frames[0].items,
        size: this.#size,
        lines: this.#lines,
      };
      this.#reset();
      return ev;
    }
    return this.#literalHeader(header, seg);
  }

  /** Checks a literal header against the limits and starts reading its data. */
  #literalHeader(header: LiteralHeader, seg: Uint8Array): ReaderEvent | undefined {
    const limits = this.#limits;
    const top = this.#frames[this.#frames.length - 1];
    const append = this.#name === "APPEND" && top.type === "root" && top.items.length >= 1;
    let tooBig: string | undefined;
    const size = header.size;
    if (Number.isNaN(size) || size > (append ? limits.maxAppendSize : limits.maxLiteralSize)) {
      tooBig = append
        ? `Message too large (the limit is ${limits.maxAppendSize} bytes)`
        : `Literal too large (the limit is ${limits.maxLiteralSize} bytes)`;
    } else if (!append && this.#budgetBytes + size > limits.maxCommandSize) {
      tooBig = `Command too large (the limit is ${limits.maxCommandSize} bytes)`;
    } else if (!header.sync && size > limits.maxNonSyncLiteralSize) {
      tooBig =
        `Non-synchronizing literal too large (the limit is ${limits.maxNonSyncLiteralSize} bytes)`;
    }
    if (tooBig !== undefined) {
      // RFC 7889: an APPEND message over the limit is NO [TOOBIG]; other oversize literals BAD.
      const overAppendLimit = append && (Number.isNaN(size) || size > limits.maxAppendSize);
      const ev = this.#error(
        this.#tag,
        this.#name,
        "TOOBIG",
        tooBig,
        overAppendLimit ? "NO" : "BAD",
      );
      if (header.sync) return this.#finishWithError(ev);
      this.#startDiscard(ev);
      return this.#discardSegment(seg.subarray(header.start));
    }
    if (!append) this.#budgetBytes += size;
    this.#size += size;
    this.#lit = {
      size,
      remaining: size,
      sync: header.sync,
      binary: header.binary,
      mode: append && this.#stream ? "stream" : "buffer",
      append,
      filled: 0,
      startPending: append && this.#stream,
    };
    this.#state = "literal";
    if (header.sync) {
      this.#awaitingAck = true;
      return {
        kind: "continue",
        tag: this.#tag!,
        name: this.#name!,
        args: this.#frames[0].items.slice(),
        literalSize: size,
        binary: header.binary,
        append,
      };
    }
    return undefined;
  }

  /** Reads literal data; returns an event to emit, or undefined to keep looping. */
  #stepLiteral(): ReaderEvent | undefined {
    const lit = this.#lit!;
    if (lit.startPending) {
      lit.startPending = false;
      return {
        kind: "literal-start",
        tag: this.#tag!,
        name: this.#name!,
        args: this.#frames[0].items.slice(),
        size: lit.size,
        sync: lit.sync,
        binary: lit.binary,
      };
    }
    if (lit.remaining > 0) {
      const avail = this.#end - this.#start;
      if (avail === 0) return NEED_MORE;
      const n = Math.min(avail, lit.remaining);
      const from = this.#start;
      this.#start += n;
      this.#scan = this.#start;
      lit.remaining -= n;
      if (lit.mode === "buffer") {
        lit.target ??= new Uint8Array(lit.size);
        lit.target.set(this.#buf.subarray(from, from + n), lit.filled);
        lit.filled += n;
      } else if (lit.mode === "stream") {
        return { kind: "literal-chunk", data: this.#buf.slice(from, from + n) };
      }
      if (lit.remaining > 0) return NEED_MORE;
    }
    // Literal complete.
    this.#lit = undefined;
    if (lit.mode === "skip") {
      this.#state = "discard";
      return undefined;
    }
    const token: LiteralToken = {
      kind: "literal",
      bytes: lit.mode === "buffer" ? (lit.target ?? new Uint8Array(0)) : new Uint8Array(0),
      size: lit.size,
      sync: lit.sync,
      binary: lit.binary,
      streamed: lit.mode === "stream",
    };
    this.#push(token);
    this.#state = "line";
    if (lit.mode === "stream") return { kind: "literal-end" };
    return undefined;
  }

  #push(token: Token): void {
    this.#frames[this.#frames.length - 1].items.push(token);
    this.#needSep = true;
    this.#justOpened = false;
  }

  /** Parses `tag SP name [SP]` at the start of the first segment; returns the next position. */
  #parseTagAndName(seg: Uint8Array, bodyEnd: number): number | ParseProblem {
    const limits = this.#limits;
    let i = 0;
    while (i < bodyEnd && seg[i] !== SP) {
      if (!isTagChar(seg[i])) {
        return new ParseProblem("CLIENTBUG", "Invalid character in tag");
      }
      i++;
    }
    if (i === 0) return new ParseProblem("CLIENTBUG", "Missing tag");
    if (i > limits.maxTagLength) return new ParseProblem("CLIENTBUG", "Tag too long");
    this.#tag = ascii(seg, 0, i);
    if (i >= bodyEnd) return new ParseProblem("CLIENTBUG", "Missing command name");
    i++; // SP
    const name = this.#parseName(seg, i, bodyEnd);
    if (name instanceof ParseProblem) return name;
    let upper = name.toUpperCase();
    i += name.length;
    if (upper === "UID") {
      if (i >= bodyEnd || seg[i] !== SP) {
        this.#name = upper;
        return new ParseProblem("CLIENTBUG", "UID must be followed by a command name");
      }
      const sub = this.#parseName(seg, i + 1, bodyEnd);
      if (sub instanceof ParseProblem) {
        this.#name = upper;
        return sub;
      }
      upper += " " + sub.toUpperCase();
      i += 1 + sub.length;
    }
    this.#name = upper;
    this.#fetch = upper === "FETCH" || upper === "UID FETCH";
    if (i < bodyEnd) {
      if (seg[i] !== SP) return new ParseProblem("CLIENTBUG", "Invalid character in command name");
      i++;
      this.#needSep = false;
    } else {
      // Nothing after the name (a literal header right after it is caught by the caller).
      this.#needSep = true;
    }
    return i;
  }

  #parseName(seg: Uint8Array, from: number, bodyEnd: number): string | ParseProblem {
    let i = from;
    while (i < bodyEnd && seg[i] !== SP) {
      if (!isNameChar(seg[i])) {
        return new ParseProblem("CLIENTBUG", "Invalid character in command name");
      }
      i++;
    }
    if (i === from) return new ParseProblem("CLIENTBUG", "Missing command name");
    if (i - from > this.#limits.maxCommandNameLength) {
      return new ParseProblem("CLIENTBUG", "Command name too long");
    }
    return ascii(seg, from, i);
  }

  /** Tokenises `seg[pos, end)` onto the frame stack. */
  #tokenize(seg: Uint8Array, pos: number, end: number): ParseProblem | undefined {
    const limits = this.#limits;
    while (pos < end) {
      const c = seg[pos];
      if (this.#needSep) {
        if (c === SP) {
          this.#needSep = false;
          pos++;
          continue;
        }
        if (c === RPAREN || (c === RBRACKET && this.#fetch)) {
          const p = this.#close(c, seg, pos + 1, end);
          if (typeof p !== "number") return p;
          pos = p;
          continue;
        }
        return new ParseProblem("CLIENTBUG", "Expected a space between arguments");
      }
      // A token is expected.
      if (c === LPAREN) {
        const p = this.#open("list", undefined);
        if (p) return p;
        pos++;
        continue;
      }
      if (c === RPAREN || (c === RBRACKET && this.#fetch)) {
        if (!this.#justOpened) {
          return new ParseProblem("CLIENTBUG", c === RPAREN ? "Unexpected )" : "Unexpected ]");
        }
        const p = this.#close(c, seg, pos + 1, end);
        if (typeof p !== "number") return p;
        pos = p;
        continue;
      }
      if (c === DQUOTE) {
        const r = this.#quoted(seg, pos + 1, end, limits.maxQuotedLength);
        if (r instanceof ParseProblem) return r;
        this.#push({ kind: "quoted", bytes: r.bytes });
        pos = r.next;
        continue;
      }
      if (c === LBRACE || (c === TILDE && pos + 1 < end && seg[pos + 1] === LBRACE)) {
        return new ParseProblem("CLIENTBUG", "A literal header must end the line");
      }
      if (c === SP) return new ParseProblem("CLIENTBUG", "Unexpected extra space");
      if (isCtl(c)) return new ParseProblem("CLIENTBUG", "Unexpected control character");
      // Bare word.
      let j = pos;
      let digits = true;
      while (j < end) {
        const b = seg[j];
        if (
          b === SP || b === LPAREN || b === RPAREN || b === DQUOTE || b === LBRACE || isCtl(b) ||
          (this.#fetch && (b === LBRACKET || b === RBRACKET))
        ) break;
        if (b < 0x30 || b > 0x39) digits = false;
        j++;
      }
      if (j < end && isCtl(seg[j])) {
        return new ParseProblem("CLIENTBUG", "Unexpected control character");
      }
      if (j < end && seg[j] === LBRACE) {
        return new ParseProblem("CLIENTBUG", "A literal header must end the line");
      }
      if (j < end && seg[j] === DQUOTE) {
        return new ParseProblem("CLIENTBUG", "Expected a space between arguments");
      }
      let word: string;
      try {
        word = UTF8.decode(seg.subarray(pos, j));
      } catch {
        return new ParseProblem("CLIENTBUG", "Invalid UTF-8 in an atom");
      }
      if (j < end && seg[j] === LBRACKET && this.#fetch) {
        if (j === pos) return new ParseProblem("CLIENTBUG", "Unexpected [");
        const section: SectionToken = { kind: "section", name: word, spec: [] };
        const p = this.#open("section", section);
        if (p) return p;
        pos = j + 1;
        continue;
      }
      if (j < end && seg[j] === LPAREN) {
        return new ParseProblem("CLIENTBUG", "Expected a space between arguments");
      }
      if (digits) this.#push({ kind: "number", text: word, value: Number(word) });
      else if (word.length === 3 && word.toUpperCase() === "NIL") {
        this.#push({ kind: "nil", text: word });
      } else this.#push({ kind: "atom", value: word });
      pos = j;
    }
    return undefined;
  }

  #open(type: "list" | "section", section: SectionToken | undefined): ParseProblem | undefined {
    if (this.#frames.length > this.#limits.maxDepth) {
      return new ParseProblem("LIMIT", "Too many nested lists");
    }
    let items: Token[];
    let token: Token;
    if (type === "list") {
      const list: ListToken = { kind: "list", items: [] };
      items = list.items;
      token = list;
    } else {
      items = section!.spec;
      token = section!;
    }
    this.#frames[this.#frames.length - 1].items.push(token);
    this.#frames.push({ type, items, section });
    this.#needSep = false;
    this.#justOpened = true;
    return undefined;
  }

  /** Closes a list or section at `)`/`]`; `pos` is just after the bracket. */
  #close(c: number, seg: Uint8Array, pos: number, end: number): number | ParseProblem {
    const top = this.#frames[this.#frames.length - 1];
    if (c === RPAREN) {
      if (top.type !== "list") return new ParseProblem("CLIENTBUG", "Unexpected )");
      this.#frames.pop();
      this.#needSep = true;
      this.#justOpened = false;
      return pos;
    }
    if (top.type !== "section") return new ParseProblem("CLIENTBUG", "Unexpected ]");
    this.#frames.pop();
    this.#needSep = true;
    this.#justOpened = false;
    if (pos < end && seg[pos] === LANGLE) {
      const r = this.#partial(seg, pos + 1, end);
      if (r instanceof ParseProblem) return r;
      top.section!.partial = r.partial;
      return r.next;
    }
    return pos;
  }

  #partial(
    seg: Uint8Array,
    pos: number,
    end: number,
  ): { partial: { offset: number; length?: number }; next: number } | ParseProblem {
    const bad = new ParseProblem("CLIENTBUG", "Invalid partial range (expected <offset.length>)");
    const readNumber = (): number | undefined => {
      const from = pos;
      while (pos < end && seg[pos] >= 0x30 && seg[pos] <= 0x39) pos++;
      if (pos === from || pos - from > 10) return undefined;
      const n = Number(ascii(seg, from, pos));
      return n > 0xffffffff ? undefined : n;
    };
    const offset = readNumber();
    if (offset === undefined) return bad;
    let length: number | undefined;
    if (pos < end && seg[pos] === DOT) {
      pos++;
      length = readNumber();
      if (length === undefined) return bad;
    }
    if (pos >= end || seg[pos] !== RANGLE) return bad;
    const partial: { offset: number; length?: number } = { offset };
    if (length !== undefined) partial.length = length;
    return { partial, next: pos + 1 };
  }

  #quoted(
    seg: Uint8Array,
    pos: number,
    end: number,
    max: number,
  ): { bytes: Uint8Array; next: number } | ParseProblem {
    const from = pos;
    let escapes = 0;
    while (pos < end) {
      const b = seg[pos];
      if (b === DQUOTE) break;
      if (b === BACKSLASH) {
        const e = seg[pos + 1];
        if (pos + 1 >= end || (e !== DQUOTE && e !== BACKSLASH)) {
          return new ParseProblem("CLIENTBUG", "Invalid escape in quoted string");
        }
        escapes++;
        pos += 2;
        continue;
      }
      if (b === CR || b === 0) {
        return new ParseProblem("CLIENTBUG", "Invalid character in quoted string");
      }
      pos++;
    }
    if (pos >= end) return new ParseProblem("CLIENTBUG", "Unterminated quoted string");
    const rawLength = pos - from;
    if (rawLength - escapes > max) {
      return new ParseProblem("TOOBIG", "Quoted string too long");
    }
    let bytes: Uint8Array;
    if (escapes === 0) {
      bytes = seg.slice(from, pos);
    } else {
      bytes = new Uint8Array(rawLength - escapes);
      let k = 0;
      for (let i = from; i < pos; i++) {
        if (seg[i] === BACKSLASH) i++;
        bytes[k++] = seg[i];
      }
    }
    return { bytes, next: pos + 1 };
  }
}
