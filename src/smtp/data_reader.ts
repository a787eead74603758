/**
 * The reader of `DATA` content (RFC 5321 §4.1.1.4, §4.5.2): finds the end `CRLF . CRLF`,
 * removes dot-stuffing, and checks the message while it streams in, so a bad or oversize message
 * is still read to its end and the session can answer and continue.
 *
 * Only `CRLF . CRLF` ends the data. A bare LF or bare CR never starts a line for this purpose,
 * so `LF . CRLF` or `CR . CRLF` cannot end a message early (the "SMTP smuggling" confusion of
 * 2023; RFC 5321 §2.3.8 allows no other line ending). In the message, a bare LF or bare CR is
 * written as CRLF (what Postfix and the official bridge accept: Python's `smtplib.sendmail` sends
 * `as_bytes()` with LF line ends), and a dot-stuffed dot after it is removed too; it still never
 * ends the data. What the session learns:
 * - `tooBig`: more than `maxMessageSize` octets after unstuffing; storing stops at the limit
 *   (memory stays bounded) but reading continues to the end.
 * - `bareLineEnd`: the first line (1-based) with a LF not preceded by CR, or a CR not followed
 *   by LF (written as CRLF).
 * - `longLine`: the first line longer than `maxLineLength` octets including CRLF.
 * - `eightBit`: an octet above 0x7F was seen (needs `BODY=8BITMIME` or `SMTPUTF8`).
 *
 * @module
 */

/** Options of {@link DataReader}. */
export interface DataReaderOptions {
  /** Most octets stored, after dot-unstuffing. */
  maxMessageSize: number;
  /** Longest line, CRLF included. */
  maxLineLength: number;
}

/** What was read once the end marker arrived. */
export interface DataOutcome {
  /** The message (unstuffed, CRLF kept), or null when it was too big. */
  data: Uint8Array | null;
  /** Octets of message received (unstuffed), also past the limit. */
  size: number;
  /** The message exceeded `maxMessageSize`. */
  tooBig: boolean;
  /** First line (1-based) with a bare LF or bare CR, if any. */
  bareLineEnd?: number;
  /** First line (1-based) longer than the limit, if any. */
  longLine?: number;
  /** The message has octets above 0x7F. */
  eightBit: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

const LINE_START = 0;
const IN_LINE = 1;
const AFTER_CR = 2;
const AFTER_DOT = 3;
const AFTER_DOT_CR = 4;
const DONE = 5;
/** After a bare LF or CR (written as CRLF): a line start for unstuffing, never for the end. */
const BARE_LINE_START = 6;
const BARE_AFTER_DOT = 7;

/**
 * Incremental `DATA` reader: feed it what arrives until {@link done}.
 *
 * @example
 * ```ts
 * const r = new DataReader({ maxMessageSize: 1 << 20, maxLineLength: 1000 });
 * const input = new TextEncoder().encode("Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
 * const used = r.push(input);
 * console.log(r.done, new TextDecoder().decode(r.outcome().data!)); // true, "...\r\n.dot\r\n"
 * console.log(new TextDecoder().decode(input.subarray(used))); // "QUIT\r\n"
 * ```
 */
export class DataReader {
  readonly #max: number;
  readonly #maxContent: number;
  #state = LINE_START;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #tooBig = false;
  #line = 1;
  #lineLen = 0;
  #bareLineEnd?: number;
  #longLine?: number;
  #eightBit = false;

  constructor(options: DataReaderOptions) {
    this.#max = options.maxMessageSize;
    this.#maxContent = options.maxLineLength - 2;
  }

  /** Whether the end marker has been read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Octets of message received so far (unstuffed). */
  get size(): number {
    return this.#size;
  }

  /**
   * Consumes `bytes` up to and including the end marker; returns how many were used (the rest
   * belongs to the next command, which a pipelining client may already have sent).
   */
  push(bytes: Uint8Array): number {
    if (this.#state === DONE) return 0;
    // ×2: a bare LF or CR is written as CRLF; +2: a CR and a dot held back may be emitted with
    // this chunk.
    const out = new Uint8Array(bytes.length * 2 + 2);
    let n = 0;
    let state = this.#state;
    let lineLen = this.#lineLen;
    let i = 0;
    for (; i < bytes.length && state !== DONE; i++) {
      const b = bytes[i];
      switch (state) {
        case LINE_START:
          if (b === DOT) {
            state = AFTER_DOT;
            continue;
          }
          state = IN_LINE;
          i--;
          continue;
        case AFTER_DOT:
          if (b === CR) {
            state = AFTER_DOT_CR;
            continue;
          }
          // A stuffed dot: drop it, the octet is ordinary content.
          state = IN_LINE;
          i--;
          continue;
        case AFTER_DOT_CR:
          if (b === LF) {
            state = DONE;
            continue;
          }
          // ".\r" then something else: a stuffed dot before a bare CR.
          out[n++] = CR;
          lineLen++;
          state = AFTER_CR;
          i--;
          continue;
        case AFTER_CR:
          if (b === LF) {
            out[n++] = LF;
            this.#line++;
            lineLen = 0;
            state = LINE_START;
            continue;
          }
          // A bare CR: written as CRLF.
          this.#bareLineEnd ??= this.#line;
          out[n++] = LF;
          this.#line++;
          lineLen = 0;
          state = BARE_LINE_START;
          i--;
          continue;
        case BARE_LINE_START:
          if (b === DOT) {
            state = BARE_AFTER_DOT;
            continue;
          }
          state = IN_LINE;
          i--;
          continue;
        case BARE_AFTER_DOT:
          // The dot is content (this is no line start for the end marker); a second dot was
          // stuffed after it.
          out[n++] = DOT;
          lineLen++;
          state = IN_LINE;
          if (b !== DOT) i--;
          continue;
        default: // IN_LINE
          if (b === CR) {
            out[n++] = CR;
            state = AFTER_CR;
            continue;
          }
          if (b === LF) {
            // A bare LF: written as CRLF; it ends nothing (the next octet is no line start for
            // the end marker).
            out[n++] = CR;
            out[n++] = LF;
            this.#bareLineEnd ??= this.#line;
            this.#line++;
            lineLen = 0;
            state = BARE_LINE_START;
            continue;
          }
          out[n++] = b;
          if (b > 0x7f) this.#eightBit = true;
          if (++lineLen > this.#maxContent) this.#longLine ??= this.#line;
      }
    }
    this.#state = state;
    this.#lineLen = lineLen;
    this.#store(out.subarray(0, n));
    return i;
  }

  /** The result; only meaningful once {@link done}. */
  outcome(): DataOutcome {
    return {
      data: this.#tooBig ? null : concat(this.#chunks, this.#size),
      size: this.#size,
      tooBig: this.#tooBig,
      bareLineEnd: this.#bareLineEnd,
      longLine: this.#longLine,
      eightBit: this.#eightBit,
    };
  }

  #store(part: Uint8Array): void {
    this.#size += part.length;
    if (this.#tooBig) return;
    if (this.#size > this.#max) {
      this.#tooBig = true;
      this.#chunks = [];
      return;
    }
    if (part.length) this.#chunks.push(part);
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].length === size) return chunks[0];
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
