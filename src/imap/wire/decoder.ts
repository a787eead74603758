/**
 * Grammar helpers over the argument tokens of one command, with a sticky first error (go-imap
 * `imapwire.Decoder` style). Command parsers read like the ABNF and check once at the end:
 *
 * ```ts ignore
 * import { Decoder } from "./decoder.ts";
 * import { Reader } from "./reader.ts";
 * const reader = new Reader();
 * reader.feed(new TextEncoder().encode('a1 COPY 1:3 "Archive"\r\n'));
 * const cmd = reader.next();
 * if (cmd.kind === "command") {
 *   const d = new Decoder(cmd.args);
 *   const set = d.expectSequenceSet();
 *   const mailbox = d.expectMailbox();
 *   if (!d.end()) {
 *     // answer `${cmd.tag} BAD [CLIENTBUG] ${d.error!.message}`
 *   } else {
 *     console.log(set.toString(), mailbox); // "1:3 Archive"
 *   }
 * }
 * ```
 *
 * `expect*` methods consume one argument and return its value; on a mismatch they record a
 * {@link DecodeError} (only the first one is kept) and return a harmless placeholder (`""`, `0`,
 * an empty list…), so a parser can run to the end without checking after each step. `optional*`
 * methods consume only when the next token fits and never record an error. Sub-decoders from
 * {@link Decoder.expectList} share the error of their parent.
 *
 * Error messages never echo argument values that could be secrets (LOGIN passwords).
 *
 * @module
 */
import { DateTimeError, type ImapDate, parseDate, parseDateTime } from "./date_time.ts";
import { SequenceSet, SequenceSetError } from "./sequence_set.ts";
import type { LiteralToken, SectionToken, Token } from "./token.ts";
import { decodeMailboxName, Utf7Error } from "./utf7.ts";

/** A syntax error in a command's arguments; answer `BAD [CLIENTBUG] <message>`. */
export class DecodeError extends SyntaxError {
  /** The RFC 5530 response code to answer with. */
  readonly code = "CLIENTBUG";
  /** Creates the error; `message` says what is wrong (sentence case, no final period). */
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** Options for a {@link Decoder}. */
export interface DecoderOptions {
  /**
   * UTF8=ACCEPT is enabled (RFC 6855): mailbox names are UTF-8 as sent, not modified UTF-7.
   * Default false.
   */
  utf8Accept?: boolean;
}

interface SharedState {
  error?: DecodeError;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const TEXT_ENCODER = new TextEncoder();

/** The largest value of RFC 3501 `number`. */
const MAX_NUMBER = 0xffffffff;
/** The largest RFC 7162 mod-sequence value (2^63 - 1). */
const MAX_MODSEQ = (1n << 63n) - 1n;

const SYSTEM_FLAGS = new Map(
  ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent"].map((f) => [
    f.toLowerCase(),
    f,
  ]),
);

function describe(token: Token | undefined): string {
  if (token === undefined) return "end of arguments";
  switch (token.kind) {
    case "atom":
      return "an atom";
    case "number":
      return "a number";
    case "nil":
      return "NIL";
    case "quoted":
      return "a quoted string";
    case "literal":
      return "a literal";
    case "list":
      return "a list";
    case "section":
      return "a section";
  }
}

/** True for RFC 3501 ATOM-CHAR, restricted to ASCII. */
function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 &&
    c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x5d;
}

/** Characters the reader may put in an atom that an astring atom may not hold. */
function isBadAStringChar(c: number): boolean {
  return c === 0x25 || c === 0x2a || c === 0x5c; // % * \
}

/** Returns true when `s` is a non-empty RFC 3501 atom (ASCII ATOM-CHARs only). */
export function isAtom(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isAtomChar(s.charCodeAt(i))) return false;
  return true;
}

/** The expect/optional decoder. See the module documentation. */
export class Decoder {
  readonly #tokens: readonly Token[];
  readonly #options: DecoderOptions;
  #s: SharedState = {};
  #pos = 0;

  /** Creates a decoder over `tokens` (usually `command.args`). */
  constructor(tokens: readonly Token[], options: DecoderOptions = {}) {
    this.#tokens = tokens;
    this.#options = options;
  }

  /** A decoder over `tokens` that shares `parent`'s error. */
  static #sub(tokens: readonly Token[], parent: Decoder): Decoder {
    const d = new Decoder(tokens, parent.#options);
    d.#s = parent.#s;
    return d;
  }

  /** The first error recorded (by this decoder or any sub-decoder), if any. */
  get error(): DecodeError | undefined {
    return this.#s.error;
  }

  /** True while no error has been recorded. */
  get ok(): boolean {
    return this.#s.error === undefined;
  }

  /** Number of tokens not consumed yet. */
  get remaining(): number {
    return this.#tokens.length - this.#pos;
  }

  /** True when every token has been consumed. */
  atEnd(): boolean {
    return this.#pos >= this.#tokens.length;
  }

  /** The next token without consuming it. */
  peek(): Token | undefined {
    return this.#tokens[this.#pos];
  }

  /** Consumes and returns the next token whatever it is (undefined at the end, no error). */
  take(): Token | undefined {
    return this.#tokens[this.#pos++];
  }

  /** Records `message` as the error unless one is already recorded; returns false. */
  fail(message: string): false {
    this.#s.error ??= new DecodeError(message);
    return false;
  }

  /** Records an error when tokens remain; returns true when all went well (no error at all). */
  end(): boolean {
    if (!this.atEnd()) this.fail(`Unexpected extra argument (${describe(this.peek())})`);
    return this.ok;
  }

  #expected(what: string): void {
    this.fail(`Expected ${what}, got ${describe(this.peek())}`);
  }

  // --- atoms and keywords --------------------------------------------------------------------

  /** The text of an atom-like token (atom, number, nil), or undefined. */
  #word(token: Token | undefined): string | undefined {
    if (!token) return undefined;
    if (token.kind === "atom") return token.value;
    if (token.kind === "number") return token.text;
    if (token.kind === "nil") return token.text;
    return undefined;
  }

  /** Expects an RFC 3501 atom (ASCII ATOM-CHARs); returns it as sent. */
  expectAtom(): string {
    const w = this.#word(this.peek());
    if (w === undefined || !isAtom(w)) {
      this.#expected("an atom");
      return "";
    }
    this.#pos++;
    return w;
  }

  /**
   * Expects one of `words` (case-insensitive); returns it upper-cased. With no words, any atom-like
   * word (upper-cased), e.g. a command option name.
   */
  expectKeyword(...words: string[]): string {
    const k = this.optionalKeyword(...words);
    if (k === undefined) {
      this.#expected(words.length ? words.join(" or ") : "a keyword");
      return "";
    }
    return k;
  }

  /** Consumes the next token when it is one of `words` (any word when none); returns it upper-cased. */
  optionalKeyword(...words: string[]): string | undefined {
    const w = this.#word(this.peek());
    if (w === undefined) return undefined;
    const upper = w.toUpperCase();
    if (words.length && !words.some((x) => x.toUpperCase() === upper)) return undefined;
    if (!words.length && !isAtom(w)) return undefined;
    this.#pos++;
    return upper;
  }

  /** Consumes `NIL` when it is next. */
  optionalNil(): boolean {
    if (this.peek()?.kind !== "nil") return false;
    this.#pos++;
    return true;
  }

  // --- numbers --------------------------------------------------------------------------------

  /** Expects an RFC 3501 `number` (0 … 2^32-1). */
  expectNumber(): number {
    const n = this.optionalNumber();
    if (n === undefined) {
      this.#expected("a number");
      return 0;
    }
    return n;
  }

  /** Expects an `nz-number` (1 … 2^32-1). */
  expectNzNumber(): number {
    const n = this.optionalNumber();
    if (n === undefined || n === 0) {
      if (n === 0) this.#pos--;
      this.#expected("a non-zero number");
      return 0;
    }
    return n;
  }

  /** Consumes a `number` (0 … 2^32-1) when it is next. */
  optionalNumber(): number | undefined {
    const t = this.peek();
    if (t?.kind !== "number" || t.text.length > 10 || t.value > MAX_NUMBER) return undefined;
    this.#pos++;
    return t.value;
  }

  /** Expects an RFC 7162 mod-sequence value (0 … 2^63-1, as bigint); `allowZero` false for `mod-sequence-value`. */
  expectModSeq(allowZero = true): bigint {
    const t = this.peek();
    if (t?.kind === "number" && t.text.length <= 20) {
      const v = BigInt(t.text);
      if (v <= MAX_MODSEQ && (allowZero || v > 0n)) {
        this.#pos++;
        return v;
      }
    }
    this.#expected("a mod-sequence value");
    return 0n;
  }

  // --- strings --------------------------------------------------------------------------------

  /** Expects an astring (atom, number, NIL, quoted or literal) and returns its raw bytes. */
  expectAStringBytes(): Uint8Array {
    const t = this.peek();
    if (t?.kind === "quoted" || t?.kind === "literal") {
      if (t.kind === "literal" && t.streamed) {
        this.#expected("an astring");
        return new Uint8Array(0);
      }
      this.#pos++;
      return t.bytes;
    }
    const w = this.#word(t);
    if (w !== undefined && this.#astringAtomOk(w)) {
      this.#pos++;
      return TEXT_ENCODER.encode(w);
    }
    this.#expected("a string");
    return new Uint8Array(0);
  }

  #astringAtomOk(w: string): boolean {
    for (let i = 0; i < w.length; i++) if (isBadAStringChar(w.charCodeAt(i))) return false;
    return w.length > 0;
  }

  #utf8(bytes: Uint8Array): string | undefined {
    try {
      return UTF8.decode(bytes);
    } catch {
      this.fail("Invalid UTF-8 in a string");
      return undefined;
    }
  }

  /** Expects an astring and decodes it as UTF-8 (invalid UTF-8 is an error). */
  expectAString(): string {
    const t = this.peek();
    const w = this.#word(t);
    if (w !== undefined) {
      if (!this.#astringAtomOk(w)) {
        this.#expected("a string");
        return "";
      }
      this.#pos++;
      return w;
    }
    if (!this.ok) return "";
    const bytes = this.expectAStringBytes();
    if (!this.ok) return "";
    return this.#utf8(bytes) ?? "";
  }

  /** Expects a `string` (quoted or literal only) decoded as UTF-8. */
  expectString(): string {
    const t = this.peek();
    if (t?.kind !== "quoted" && t?.kind !== "literal") {
      this.#expected("a quoted string or literal");
      return "";
    }
    return this.expectAString();
  }

  /** Expects an `nstring`: `NIL` → null, else a quoted string or literal (UTF-8). */
  expectNString(): string | null {
    if (this.optionalNil()) return null;
    return this.expectString();
  }

  /** Expects a literal (e.g. the APPEND message) and returns the token (bytes, size, flags). */
  expectLiteral(): LiteralToken {
    const t = this.peek();
    if (t?.kind !== "literal") {
      this.#expected("a literal");
      return {
        kind: "literal",
        bytes: new Uint8Array(0),
        size: 0,
        sync: true,
        binary: false,
        streamed: false,
      };
    }
    this.#pos++;
    return t;
  }

  // --- mailboxes ------------------------------------------------------------------------------

  #mailboxName(raw: string): string {
    let name = raw;
    if (!this.#options.utf8Accept) {
      try {
        name = decodeMailboxName(raw);
      } catch (e) {
        if (e instanceof Utf7Error) this.fail(`Invalid mailbox name: ${e.message}`);
        else throw e;
        return "";
      }
    }
    // RFC 3501 §5.1: INBOX is case-insensitive.
    return name.length === 5 && name.toUpperCase() === "INBOX" ? "INBOX" : name;
  }

  /**
   * Expects a `mailbox`: an astring, decoded from modified UTF-7 (unless UTF8=ACCEPT), with any
   * case of `INBOX` returned as `INBOX`.
   */
  expectMailbox(): string {
    const raw = this.expectAString();
    if (!this.ok) return "";
    return this.#mailboxName(raw);
  }

  /**
   * Expects a LIST/LSUB pattern (`list-mailbox`: astring characters plus `%` and `*`, or a
   * string), decoded like {@link expectMailbox} (the wildcards are kept).
   */
  expectListMailbox(): string {
    const t = this.peek();
    const w = this.#word(t);
    let raw: string;
    if (w !== undefined) {
      if (w.includes("\\")) {
        this.#expected("a mailbox pattern");
        return "";
      }
      this.#pos++;
      raw = w;
    } else {
      raw = this.expectString();
      if (!this.ok) return "";
    }
    return this.#mailboxName(raw);
  }

  // --- lists ----------------------------------------------------------------------------------

  /** Expects a parenthesised list; returns a decoder over its members (sharing the error). */
  expectList(): Decoder {
    const d = this.optionalList();
    if (d === undefined) {
      this.#expected("a list");
      return Decoder.#sub([], this);
    }
    return d;
  }

  /** Consumes a list when it is next; returns a decoder over its members (sharing the error). */
  optionalList(): Decoder | undefined {
    const t = this.peek();
    if (t?.kind !== "list") return undefined;
    this.#pos++;
    return Decoder.#sub(t.items, this);
  }

  /** True when the next token is a list. */
  isList(): boolean {
    return this.peek()?.kind === "list";
  }

  /** Expects a FETCH section token (`BODY[…]<…>`); the reader makes these for FETCH only. */
  expectSection(): SectionToken {
    const t = this.peek();
    if (t?.kind !== "section") {
      this.#expected("a section");
      return { kind: "section", name: "", spec: [] };
    }
    this.#pos++;
    return t;
  }

  // --- sets, dates, flags ---------------------------------------------------------------------

  /** Expects a sequence set (`1:*`, `3,5:7`); `$` only with `allowSearchResult` (RFC 5182). */
  expectSequenceSet(allowSearchResult = false): SequenceSet {
    const w = this.#word(this.peek());
    if (w === undefined) {
      this.#expected("a sequence set");
      return new SequenceSet([]);
    }
    try {
      const set = SequenceSet.parse(w, allowSearchResult);
      this.#pos++;
      return set;
    } catch (e) {
      if (!(e instanceof SequenceSetError)) throw e;
      this.fail(e.message);
      return new SequenceSet([]);
    }
  }

  /** Expects a `date-time` (a quoted string, e.g. APPEND's internal date). */
  expectDateTime(): Date {
    const t = this.peek();
    if (t?.kind !== "quoted") {
      this.#expected("a quoted date-time");
      return new Date(0);
    }
    const text = this.#utf8(t.bytes);
    if (text === undefined) return new Date(0);
    try {
      const d = parseDateTime(text);
      this.#pos++;
      return d;
    } catch (e) {
      if (!(e instanceof DateTimeError)) throw e;
      this.fail(e.message);
      return new Date(0);
    }
  }

  /** Consumes a `date-time` when the next token is a quoted string (APPEND's optional date). */
  optionalDateTime(): Date | undefined {
    if (this.peek()?.kind !== "quoted") return undefined;
    return this.expectDateTime();
  }

  /** Expects a `date` (`1-Feb-1994`, bare or quoted) as used by SEARCH. */
  expectDate(): ImapDate {
    const t = this.peek();
    let text: string | undefined;
    if (t?.kind === "quoted") text = this.#utf8(t.bytes);
    else if (t?.kind === "atom") text = t.value;
    if (text === undefined) {
      this.#expected("a date");
      return { year: 1970, month: 1, day: 1 };
    }
    try {
      const d = parseDate(text);
      this.#pos++;
      return d;
    } catch (e) {
      if (!(e instanceof DateTimeError)) throw e;
      this.fail(e.message);
      return { year: 1970, month: 1, day: 1 };
    }
  }

  /**
   * Expects a `flag`: a system flag (`\Seen` …, returned in canonical case), another `\Atom`, or
   * a keyword atom (returned as sent).
   */
  expectFlag(): string {
    const t = this.peek();
    const w = t?.kind === "atom" ? t.value : this.#word(t);
    if (w !== undefined) {
      const body = w.startsWith("\\") ? w.slice(1) : w;
      if (isAtom(body)) {
        this.#pos++;
        if (w.startsWith("\\")) return SYSTEM_FLAGS.get(w.toLowerCase()) ?? w;
        return w;
      }
    }
    this.#expected("a flag");
    return "";
  }

  /**
   * Expects a `flag-list` `(\Seen $Label1)`. With `allowBare` (STORE, RFC 3501 `store-att-flags`)
   * the flags may instead follow without parentheses, up to the end of the arguments.
   */
  expectFlagList(allowBare = false): string[] {
    const list = this.optionalList();
    const flags: string[] = [];
    if (list) {
      while (!list.atEnd() && list.ok) flags.push(list.expectFlag());
      return this.ok ? flags : [];
    }
    if (!allowBare || this.atEnd()) {
      this.#expected("a flag list");
      return [];
    }
    while (!this.atEnd() && this.ok) flags.push(this.expectFlag());
    return this.ok ? flags : [];
  }
}
