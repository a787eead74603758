/**
 * Asking the person at the terminal: a line (email, two-factor code), a secret without echo
 * (passwords), or "press Enter to continue".
 *
 * On a terminal a secret is read in raw mode, so nothing typed is shown; Backspace/Delete erase
 * the last character, Ctrl-U the whole entry, Ctrl-C cancels ({@link PromptCancelledError}),
 * Ctrl-D on an empty entry is end of input, escape sequences (arrow keys) are ignored, and the
 * terminal mode is always restored. When standard input is not a terminal (a pipe, a file) every
 * answer is simply the next line, with no question printed, so scripts can feed answers in order.
 *
 * Questions go to standard error, so standard output stays clean for `--json`.
 *
 * @module
 */

/** Where answers are read from: `Deno.stdin` or a test double. */
export interface PromptInput {
  /** Reads into `p`; resolves to the byte count, or `null` at end of input. */
  read(p: Uint8Array): Promise<number | null>;
  /** Whether the input is a terminal. */
  isTerminal(): boolean;
  /** Switches raw mode (terminals only). */
  setRaw(mode: boolean): void;
}

/** Where questions are written: `Deno.stderr` or a test double. */
export interface PromptOutput {
  /** Writes `p`, resolving to the bytes written. */
  writeSync(p: Uint8Array): number;
}

/** The person pressed Ctrl-C at a prompt. */
export class PromptCancelledError extends Error {
  override name = "PromptCancelledError";
  constructor() {
    super("cancelled");
  }
}

/** What {@link SecretEditor.feed} found in a chunk of keystrokes. */
export type EditorResult =
  | { status: "more" }
  | { status: "done"; value: string; rest: Uint8Array }
  | { status: "cancel" }
  | { status: "eof" };

const CR = 0x0d;
const LF = 0x0a;
const BACKSPACE = 0x08;
const DELETE = 0x7f;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_U = 0x15;
const ESC = 0x1b;

/**
 * The line editing of a secret typed in raw mode, separated from the terminal so it can be tested:
 * feed it the bytes the terminal delivers until it reports `done`, `cancel` or `eof`.
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * const editor = new SecretEditor();
 * const r = editor.feed(new TextEncoder().encode("pax\x7fss\r"));
 * assert.deepEqual(r.status === "done" && r.value, "pass");
 * ```
 */
export class SecretEditor {
  #bytes: number[] = [];
  /** 0: normal; 1: after ESC; 2: inside a CSI/SS3 sequence. */
  #escape = 0;

  /** Processes one chunk of keystrokes. */
  feed(chunk: Uint8Array): EditorResult {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.#escape === 1) {
        this.#escape = b === 0x5b || b === 0x4f ? 2 : 0; // ESC [ or ESC O start a sequence
        continue;
      }
      if (this.#escape === 2) {
        if (b >= 0x40 && b <= 0x7e) this.#escape = 0; // the final byte ends it
        continue;
      }
      if (b === CR || b === LF) {
        let next = i + 1;
        if (b === CR && chunk[next] === LF) next++;
        const value = new TextDecoder().decode(new Uint8Array(this.#bytes));
        this.#bytes = [];
        return { status: "done", value, rest: chunk.slice(next) };
      }
      if (b === CTRL_C) return { status: "cancel" };
      if (b === CTRL_D) {
        if (this.#bytes.length === 0) return { status: "eof" };
        continue;
      }
      if (b === BACKSPACE || b === DELETE) {
        this.#eraseOne();
        continue;
      }
      if (b === CTRL_U) {
        this.#bytes = [];
        continue;
      }
      if (b === ESC) {
        this.#escape = 1;
        continue;
      }
      if (b < 0x20) continue; // other control characters mean nothing in a password
      this.#bytes.push(b);
    }
    return { status: "more" };
  }

  /** Removes the last character: its UTF-8 continuation bytes, then its lead byte. */
  #eraseOne(): void {
    while (this.#bytes.length > 0 && (this.#bytes[this.#bytes.length - 1] & 0xc0) === 0x80) {
      this.#bytes.pop();
    }
    this.#bytes.pop();
  }
}

const encoder = new TextEncoder();

/**
 * Asks questions on a terminal or reads answers from a pipe. One instance should serve a whole
 * command, because it keeps bytes read past the end of one answer for the next.
 *
 * @example
 * ```ts ignore
 * const prompt = new Prompter();
 * const password = await prompt.secret("Password: ");
 * if (password === undefined) throw new Error("no password given");
 * ```
 */
export class Prompter {
  readonly #input: PromptInput;
  readonly #output: PromptOutput;
  #pending: Uint8Array = new Uint8Array(0);
  #eof = false;

  /** Reads from `input` (default standard input) and writes questions to `output` (stderr). */
  constructor(input: PromptInput = Deno.stdin, output: PromptOutput = Deno.stderr) {
    this.#input = input;
    this.#output = output;
  }

  /** Whether a person can answer: the input is a terminal. */
  get interactive(): boolean {
    return this.#input.isTerminal();
  }

  /** Writes `text` to the question stream. */
  say(text: string): void {
    writeAll(this.#output, encoder.encode(text));
  }

  /**
   * Asks for one line shown as typed. Resolves to the line without its line ending (surrounding
   * whitespace trimmed), or `undefined` at end of input.
   */
  async line(question: string): Promise<string | undefined> {
    if (this.interactive) this.say(question);
    const line = await this.#readLine();
    return line?.trim();
  }

  /**
   * Asks for a secret: on a terminal without echo, otherwise the next line as it is (only the line
   * ending is removed). Resolves to `undefined` at end of input.
   *
   * @throws {PromptCancelledError} when Ctrl-C is pressed.
   */
  async secret(question: string): Promise<string | undefined> {
    if (!this.interactive) return await this.#readLine();
    this.say(question);
    const editor = new SecretEditor();
    this.#input.setRaw(true);
    try {
      let chunk = this.#takePending();
      while (true) {
        if (chunk.length === 0) {
          const read = await this.#readChunk();
          if (read === null) return undefined;
          chunk = read;
        }
        const r = editor.feed(chunk);
        if (r.status === "done") {
          this.#pending = r.rest;
          return r.value;
        }
        if (r.status === "cancel") throw new PromptCancelledError();
        if (r.status === "eof") return undefined;
        chunk = new Uint8Array(0);
      }
    } finally {
      this.#input.setRaw(false);
      this.say("\n");
    }
  }

  /**
   * Prints `message` and waits for Enter. Resolves to `false` when the input ends instead (nobody
   * can answer), `true` otherwise.
   */
  async enter(message: string): Promise<boolean> {
    this.say(message);
    return (await this.#readLine()) !== undefined;
  }

  #takePending(): Uint8Array {
    const p = this.#pending;
    this.#pending = new Uint8Array(0);
    return p;
  }

  async #readChunk(): Promise<Uint8Array | null> {
    if (this.#eof) return null;
    const buf = new Uint8Array(4096);
    const n = await this.#input.read(buf);
    if (n === null) {
      this.#eof = true;
      return null;
    }
    return buf.slice(0, n);
  }

  /** The next line without `\n` or `\r\n`; the rest of the input at its end; undefined if none. */
  async #readLine(): Promise<string | undefined> {
    while (true) {
      const nl = this.#pending.indexOf(LF);
      if (nl >= 0) {
        const end = nl > 0 && this.#pending[nl - 1] === CR ? nl - 1 : nl;
        const line = new TextDecoder().decode(this.#pending.subarray(0, end));
        this.#pending = this.#pending.slice(nl + 1);
        return line;
      }
      const chunk = await this.#readChunk();
      if (chunk === null) {
        if (this.#pending.length === 0) return undefined;
        const last = this.#takePending();
        const end = last[last.length - 1] === CR ? last.length - 1 : last.length;
        return new TextDecoder().decode(last.subarray(0, end));
      }
      const joined = new Uint8Array(this.#pending.length + chunk.length);
      joined.set(this.#pending, 0);
      joined.set(chunk, this.#pending.length);
      this.#pending = joined;
    }
  }
}

function writeAll(output: PromptOutput, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += output.writeSync(bytes.subarray(off));
}
