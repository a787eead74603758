/**
 * Response encoder (RFC 3501 §4, §7, §9): a fluent writer that produces bytes into a
 * {@link ByteSink}, choosing atom, quoted string or literal correctly (go-imap `imapwire.Encoder`
 * style). Spacing is explicit (`sp()`), except inside {@link Encoder.list}.
 *
 * Small pieces are gathered in an internal buffer; a literal body larger than
 * `inlineLiteralLimit` (default 16 KiB) is handed to the sink as the caller's own `Uint8Array`,
 * never copied or concatenated, and {@link Encoder.literalStart} / {@link Encoder.literalData} /
 * {@link Encoder.literalEnd} stream a FETCH body chunk by chunk. The sink sees parts in order;
 * nothing reaches it before {@link Encoder.flush} or a large literal part.
 *
 * Misuse (an invalid atom, a negative number, a literal whose data does not match its announced
 * size) throws {@link EncodeError}: those are server bugs, never caused by client input.
 *
 * @example
 * ```ts ignore
 * import { Encoder } from "./encoder.ts";
 * const e = new Encoder();
 * e.raw("* ").number(3).sp().atom("FETCH").sp().raw("(UID ").number(7).sp().raw("FLAGS ")
 *   .flags(["\\Seen"]).raw(")").crlf();
 * new TextDecoder().decode(e.toBytes()); // "* 3 FETCH (UID 7 FLAGS (\Seen))\r\n"
 * ```
 *
 * @module
 */
import { formatDateTime } from "./date_time.ts";
import { encodeMailboxName } from "./utf7.ts";

/** Where encoded bytes go. `write` must not keep `bytes` beyond the call unless it owns them: the encoder never reuses a buffer it has handed out. */
export interface ByteSink {
  /** Receives the next part of the output. */
  write(bytes: Uint8Array): void;
}

/** Raised for programming errors (never for client input). */
export class EncodeError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "EncodeError";
  }
}

/** Options for an {@link Encoder}. */
export interface EncoderOptions {
  /**
   * UTF8=ACCEPT is enabled (RFC 6855): quoted strings may carry UTF-8 and mailbox names are
   * written as UTF-8 instead of modified UTF-7. Default false.
   */
  utf8?: boolean;
  /** Longest string (in bytes) sent quoted; longer ones become literals. Default 1024. */
  maxQuotedLength?: number;
  /** Literal bodies up to this size are copied into the output buffer; larger ones are passed to the sink as they are. Default 16 KiB. */
  inlineLiteralLimit?: number;
}

/** A sink that keeps the parts it receives. */
export class CollectingSink implements ByteSink {
  /** The parts in order. */
  readonly parts: Uint8Array[] = [];

  /** Stores `bytes`. */
  write(bytes: Uint8Array): void {
    this.parts.push(bytes);
  }

  /** Total size of all parts. */
  get size(): number {
    let n = 0;
    for (const p of this.parts) n += p.length;
    return n;
  }

  /** All parts concatenated (for tests and small responses). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

const TEXT_ENCODER = new TextEncoder();
const UTF8 = new TextDecoder("utf-8", { fatal: true });

function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 &&
    c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x5d;
}

/** True when `s` may be written as an atom (non-empty, ASCII ATOM-CHARs). */
function isAtomText(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isAtomChar(s.charCodeAt(i))) return false;
  return true;
}

/** True when `s` may be written as an astring atom (ATOM-CHARs plus `]`) and is not `NIL`. */
function isAStringAtom(s: string): boolean {
  if (s.length === 0 || (s.length === 3 && s.toUpperCase() === "NIL")) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAtomChar(c) && c !== 0x5d) return false;
  }
  return true;
}

/** True when `f` is a valid flag: `\*`, `\Atom` or a keyword atom. */
function isFlag(f: string): boolean {
  if (f === "\\*") return true;
  return isAtomText(f.startsWith("\\") ? f.slice(1) : f);
}

/** The fluent response writer. */
export class Encoder {
  readonly #sink: ByteSink;
  readonly #utf8: boolean;
  readonly #maxQuoted: number;
  readonly #inlineLimit: number;
  #buf: Uint8Array;
  #len = 0;
  /** Bytes still expected by an open streaming literal, or -1. */
  #literalRemaining = -1;

  /** Creates an encoder writing into `sink` (default: a new {@link CollectingSink}). */
  constructor(sink: ByteSink = new CollectingSink(), options: EncoderOptions = {}) {
    this.#sink = sink;
    this.#utf8 = options.utf8 ?? false;
    this.#maxQuoted = options.maxQuotedLength ?? 1024;
    this.#inlineLimit = options.inlineLiteralLimit ?? 16 * 1024;
    this.#buf = new Uint8Array(1024);
  }

  /** The sink this encoder writes to. */
  get sink(): ByteSink {
    return this.#sink;
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #checkNoLiteral(): void {
    if (this.#literalRemaining >= 0) {
      throw new EncodeError(`${this.#literalRemaining} literal bytes are still expected`);
    }
  }

  /** Appends ASCII (or, in UTF-8 mode, any) text as UTF-8. */
  #text(s: string): void {
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.#ensure(s.length);
      for (let i = 0; i < s.length; i++) this.#buf[this.#len++] = s.charCodeAt(i);
    } else {
      this.#bytes(TEXT_ENCODER.encode(s));
    }
  }

  #bytes(b: Uint8Array): void {
    if (b.length > this.#inlineLimit) {
      this.flush();
      this.#sink.write(b);
      return;
    }
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** Hands the buffered bytes to the sink. Called by {@link toBytes}/{@link parts}; call it at the end of each response. */
  flush(): this {
    if (this.#len > 0) {
      const out = this.#buf.slice(0, this.#len);
      this.#len = 0;
      if (this.#buf.length > 256 * 1024) this.#buf = new Uint8Array(1024);
      this.#sink.write(out);
    }
    return this;
  }

  /** Writes text as it is (`* `, `OK`, response-code brackets, human text). Must not contain CR or LF. */
  raw(text: string): this {
    this.#checkNoLiteral();
    if (/[\r\n]/.test(text)) throw new EncodeError("Raw text must not contain CR or LF");
    this.#text(text);
    return this;
  }

  /**
   * Writes wire bytes kept as a binary string (one character per byte, as `bytesToBinary` makes
   * them) exactly as they are, in one pass: a response item serialized ahead of time (ENVELOPE,
   * BODYSTRUCTURE, BODY from the index) whose literals carry their own CRLFs.
   *
   * @throws {EncodeError} for a character above U+00FF (not a binary string) or while a
   *   streaming literal is open.
   */
  binary(bytes: string): this {
    this.#checkNoLiteral();
    this.#ensure(bytes.length);
    const buf = this.#buf;
    let len = this.#len;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes.charCodeAt(i);
      if (c > 0xff) throw new EncodeError("Binary strings hold one byte per character");
      buf[len++] = c;
    }
    this.#len = len;
    return this;
  }

  /** Writes a space. */
  sp(): this {
    return this.raw(" ");
  }

  /** Writes CRLF. */
  crlf(): this {
    this.#checkNoLiteral();
    this.#ensure(2);
    this.#buf[this.#len++] = 0x0d;
    this.#buf[this.#len++] = 0x0a;
    return this;
  }

  /** Writes an atom; throws {@link EncodeError} unless `s` is a valid atom. */
  atom(s: string): this {
    if (!isAtomText(s)) throw new EncodeError(`Not an atom: ${JSON.stringify(s)}`);
    return this.raw(s);
  }

  /** Writes a non-negative integer (number, nz-number, mod-sequence). */
  number(n: number | bigint): this {
    if (typeof n === "number" ? !Number.isSafeInteger(n) || n < 0 : n < 0n) {
      throw new EncodeError(`Not a non-negative integer: ${n}`);
    }
    return this.raw(String(n));
  }

  /** Writes `NIL`. */
  nil(): this {
    return this.raw("NIL");
  }

  /**
   * Writes a `string`: quoted when safe (short, no CR/LF/NUL, 7-bit — or valid UTF-8 in UTF-8 mode
   * — with `"` and `\` escaped), else a literal `{n}\r\n` + bytes. `null`/`undefined` write `NIL`
   * (i.e. this is also `nstring`). Strings are encoded as UTF-8; bytes are written as they are.
   */
  string(value: string | Uint8Array | null | undefined): this {
    this.#checkNoLiteral();
    if (value === null || value === undefined) return this.nil();
    const bytes = typeof value === "string" ? TEXT_ENCODER.encode(value) : value;
    if (this.#quotable(bytes)) this.#quoted(bytes);
    else this.literal(bytes);
    return this;
  }

  /** Alias of {@link string}, for readability where the grammar says `nstring`. */
  nstring(value: string | Uint8Array | null | undefined): this {
    return this.string(value);
  }

  /** Writes an `astring`: an atom when possible (and not `NIL`), else {@link string}. */
  astring(value: string): this {
    if (isAStringAtom(value)) return this.raw(value);
    return this.string(value);
  }

  /** Writes a quoted string; throws {@link EncodeError} when the value cannot be quoted. */
  quoted(value: string | Uint8Array): this {
    this.#checkNoLiteral();
    const bytes = typeof value === "string" ? TEXT_ENCODER.encode(value) : value;
    if (!this.#quotable(bytes, Infinity)) throw new EncodeError("Value cannot be a quoted string");
    this.#quoted(bytes);
    return this;
  }

  #quotable(bytes: Uint8Array, max = this.#maxQuoted): boolean {
    if (bytes.length > max) return false;
    let high = false;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0 || b === 0x0d || b === 0x0a) return false;
      if (b > 0x7f) high = true;
    }
    if (!high) return true;
    if (!this.#utf8) return false;
    try {
      UTF8.decode(bytes);
      return true;
    } catch {
      return false;
    }
  }

  #quoted(bytes: Uint8Array): void {
    let escapes = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x22 || bytes[i] === 0x5c) escapes++;
    this.#ensure(bytes.length + escapes + 2);
    const buf = this.#buf;
    buf[this.#len++] = 0x22;
    if (escapes === 0) {
      buf.set(bytes, this.#len);
      this.#len += bytes.length;
    } else {
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i];
        if (b === 0x22 || b === 0x5c) buf[this.#len++] = 0x5c;
        buf[this.#len++] = b;
      }
    }
    buf[this.#len++] = 0x22;
  }

  /** Writes a literal `{n}\r\n` (or literal8 `~{n}\r\n`) followed by `bytes`. Large bodies are not copied. */
  literal(bytes: Uint8Array, binary = false): this {
    return this.literalStart(bytes.length, binary).literalData(bytes).literalEnd();
  }

  /**
   * Starts a streamed literal of exactly `size` bytes: write them with {@link literalData}, then
   * call {@link literalEnd}. No other method may be used in between.
   */
  literalStart(size: number, binary = false): this {
    this.#checkNoLiteral();
    if (!Number.isSafeInteger(size) || size < 0) throw new EncodeError(`Bad literal size ${size}`);
    this.#text(`${binary ? "~" : ""}{${size}}\r\n`);
    this.#literalRemaining = size;
    return this;
  }

  /** Writes the next chunk of a streamed literal (chunks above the inline limit are passed as they are). */
  literalData(chunk: Uint8Array): this {
    if (this.#literalRemaining < 0) throw new EncodeError("No literal was started");
    if (chunk.length > this.#literalRemaining) {
      throw new EncodeError(
        `Literal data overflows the announced size by ${
          chunk.length - this.#literalRemaining
        } bytes`,
      );
    }
    this.#literalRemaining -= chunk.length;
    if (chunk.length > 0) this.#bytes(chunk);
    return this;
  }

  /** Ends a streamed literal; throws {@link EncodeError} when bytes are missing. */
  literalEnd(): this {
    if (this.#literalRemaining !== 0) {
      throw new EncodeError(
        this.#literalRemaining < 0
          ? "No literal was started"
          : `Literal ended ${this.#literalRemaining} bytes short`,
      );
    }
    this.#literalRemaining = -1;
    return this;
  }

  /** Writes `(` items separated by spaces `)`, calling `each` for every item. */
  list<T>(items: Iterable<T>, each: (enc: this, item: T) => void): this {
    this.raw("(");
    let first = true;
    for (const item of items) {
      if (!first) this.sp();
      first = false;
      each(this, item);
    }
    return this.raw(")");
  }

  /** Writes a mailbox name: `INBOX` as is, others modified UTF-7 encoded (UTF-8 in UTF-8 mode), always as a string (quoted or literal), never as an atom. */
  mailbox(name: string): this {
    if (name.length === 5 && name.toUpperCase() === "INBOX") return this.quoted("INBOX");
    return this.string(this.#utf8 ? name.toWellFormed() : encodeMailboxName(name));
  }

  /** Writes a flag list `(\Seen $Forwarded)`; throws {@link EncodeError} for an invalid flag. */
  flags(flags: Iterable<string>): this {
    return this.list(flags, (e, f) => {
      if (!isFlag(f)) throw new EncodeError(`Not a flag: ${JSON.stringify(f)}`);
      e.raw(f);
    });
  }

  /** Writes a quoted `date-time` (`"05-Mar-2024 10:00:00 +0000"`) in the zone `offsetMinutes` east of UTC. */
  dateTime(date: Date | number, offsetMinutes = 0): this {
    return this.raw('"' + formatDateTime(date, offsetMinutes) + '"');
  }

  /**
   * Flushes and returns the parts collected so far. Only for the default {@link CollectingSink};
   * throws {@link EncodeError} with another sink.
   */
  parts(): Uint8Array[] {
    this.flush();
    if (!(this.#sink instanceof CollectingSink)) {
      throw new EncodeError("parts() needs the default CollectingSink");
    }
    return this.#sink.parts;
  }

  /** Flushes and returns everything collected so far as one array (default sink only; for tests and small responses). */
  toBytes(): Uint8Array {
    this.parts();
    return (this.#sink as CollectingSink).toBytes();
  }
}
