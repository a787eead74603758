/**
 * The session's input buffer: octets received but not yet used, cut into command lines with a
 * length limit. An overlong line is skipped up to its LF (however many reads that takes, without
 * keeping it in memory) and reported once, so the session can answer `500 5.5.2` and go on.
 *
 * Command lines end with CRLF; a bare LF is tolerated as a line end (RFC 5321 §2.3.8 allows a
 * server to be lenient with commands, and typing into `nc` sends LF). Message content is never cut
 * here: `DATA` reads the raw octets with {@link LineBuffer.peek} and {@link LineBuffer.consume}.
 *
 * @module
 */

/** What {@link LineBuffer.nextLine} found. */
export type LineResult =
  /** A complete line without its CRLF (or LF). */
  | { kind: "line"; bytes: Uint8Array }
  /** A line longer than the limit was skipped (up to and including its LF). */
  | { kind: "too-long" }
  /** No complete line yet: push more input. */
  | { kind: "more" };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Buffer of unread input.
 *
 * @example
 * ```ts
 * const b = new LineBuffer();
 * b.push(new TextEncoder().encode("NOOP\r\nQU"));
 * const r = b.nextLine(512);
 * console.log(r.kind === "line" && new TextDecoder().decode(r.bytes)); // NOOP
 * console.log(b.nextLine(512).kind); // more
 * ```
 */
export class LineBuffer {
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** Where the search for LF resumes (relative to #start). */
  #scanned = 0;
  /** Skipping the rest of an overlong line. */
  #discarding = false;
  /** An overlong line ended: report it before anything else. */
  #pendingTooLong = false;

  /** Octets waiting. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends received octets. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#discarding) {
      // Keep only what follows the overlong line's LF (if it is in this chunk).
      const lf = chunk.indexOf(LF);
      if (lf < 0) return;
      this.#discarding = false;
      this.#pendingTooLong = true;
      chunk = chunk.subarray(lf + 1);
    }
    const len = this.length;
    if (this.#start > 0 && (this.#end + chunk.length > this.#buf.length)) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = len;
    }
    if (this.#end + chunk.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#end + chunk.length, this.#buf.length * 2, 4096));
      grown.set(this.#buf.subarray(0, this.#end));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /**
   * The next line if it is complete and at most `maxLength` octets including its CRLF; an
   * overlong line is reported as `too-long` once its end has arrived.
   */
  nextLine(maxLength: number): LineResult {
    if (this.#pendingTooLong) {
      this.#pendingTooLong = false;
      return { kind: "too-long" };
    }
    if (this.#discarding) return { kind: "more" };
    const view = this.#buf.subarray(this.#start, this.#end);
    const lf = view.indexOf(LF, this.#scanned);
    if (lf < 0) {
      this.#scanned = view.length;
      if (view.length > maxLength) {
        // Start skipping: nothing of this line is kept.
        this.clear();
        this.#discarding = true;
      }
      return { kind: "more" };
    }
    this.#scanned = 0;
    this.#start += lf + 1;
    if (lf + 1 > maxLength) return { kind: "too-long" };
    const end = lf > 0 && view[lf - 1] === CR ? lf - 1 : lf;
    return { kind: "line", bytes: view.slice(0, end) };
  }

  /** The waiting octets (a view, valid until the next call). */
  peek(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Drops the first `n` waiting octets. */
  consume(n: number): void {
    this.#start = Math.min(this.#end, this.#start + n);
    this.#scanned = 0;
  }

  /** Drops everything waiting (e.g. plaintext pipelined after `STARTTLS`). */
  clear(): void {
    this.#start = 0;
    this.#end = 0;
    this.#scanned = 0;
    this.#pendingTooLong = false;
    this.#discarding = false;
  }
}
