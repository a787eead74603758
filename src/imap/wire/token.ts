/**
 * Token types produced by the command {@link Reader} (RFC 3501 §4 data formats, §9 formal syntax).
 *
 * The reader is deliberately lenient about *which* characters a bare word holds and strict about
 * framing (spaces, parentheses, brackets, literals): grammar checks that depend on the argument's
 * role (atom vs astring vs list-mailbox vs sequence-set vs flag) belong to the {@link Decoder}.
 * Every token keeps enough of the original text to be reinterpreted: a `number` or `nil` token is
 * also a valid astring (`SELECT 2024`, `SELECT NIL` name mailboxes called "2024" and "NIL").
 *
 * Sections: only for `FETCH` and `UID FETCH` does the reader treat `[` `]` `<` `>` as structure,
 * turning `BODY.PEEK[HEADER.FIELDS (From To)]<0.100>` into one {@link SectionToken}. Everywhere
 * else brackets are ordinary astring characters (`SELECT [Gmail]/Sent` is one atom), as in
 * Stalwart's `tokenize_brackets`.
 *
 * @module
 */

/**
 * A bare word: any run of non-special bytes (RFC 3501 ATOM-CHAR plus `%`, `*`, `\`, `]` and, outside
 * FETCH, `[`), decoded as UTF-8. Sequence sets (`1:*`), flags (`\Seen`), keywords (`$Label1`),
 * list-mailbox patterns (`INBOX.%`) and command keywords all arrive as atoms.
 */
export interface AtomToken {
  /** Discriminator. */
  kind: "atom";
  /** The word as sent (case preserved). */
  value: string;
}

/** A bare word made only of ASCII digits (RFC 3501 `number`, also a valid atom/astring). */
export interface NumberToken {
  /** Discriminator. */
  kind: "number";
  /** The digits as sent (may have leading zeros, may exceed 2^53 — check {@link text}). */
  text: string;
  /** `Number(text)`: exact only while `text` is at most 15 digits. */
  value: number;
}

/** The atom `NIL` in any case. Also a valid astring (a mailbox may be called "NIL"). */
export interface NilToken {
  /** Discriminator. */
  kind: "nil";
  /** The word as sent (`NIL`, `nil`, …). */
  text: string;
}

/** A quoted string with `\"` and `\\` escapes already removed; raw bytes (UTF-8 if 8-bit). */
export interface QuotedToken {
  /** Discriminator. */
  kind: "quoted";
  /** The unescaped content bytes. */
  bytes: Uint8Array;
}

/** A literal `{n}`, `{n+}` (RFC 7888) or literal8 `~{n}` (RFC 3516). */
export interface LiteralToken {
  /** Discriminator. */
  kind: "literal";
  /** The data; empty (length 0) when {@link streamed} is true. */
  bytes: Uint8Array;
  /** The size announced in the header. */
  size: number;
  /** True for `{n}` (the server sent `+`), false for `{n+}`. */
  sync: boolean;
  /** True for literal8 `~{n}` (may contain NUL). */
  binary: boolean;
  /** True when the data was handed out as `literal-chunk` events instead of being buffered. */
  streamed: boolean;
}

/** A parenthesised list. */
export interface ListToken {
  /** Discriminator. */
  kind: "list";
  /** The list members in order. */
  items: Token[];
}

/**
 * A FETCH attribute with a bracketed section, e.g. `BODY.PEEK[1.2.HEADER.FIELDS (A B)]<0.100>`:
 * `name` is `BODY.PEEK`, `spec` holds the tokens inside the brackets (`atom 1.2.HEADER.FIELDS`,
 * `list [A, B]`; a bare part number such as `1` is a `number` token), `partial` the `<o.l>` suffix.
 * `BODY[]` has an empty `spec`.
 */
export interface SectionToken {
  /** Discriminator. */
  kind: "section";
  /** The word before `[` as sent (case preserved): `BODY`, `BODY.PEEK`, `BINARY`, … */
  name: string;
  /** The tokens between `[` and `]`. */
  spec: Token[];
  /** `<offset>` or `<offset.length>` when present. */
  partial?: { offset: number; length?: number };
}

/** Any token the reader produces. */
export type Token =
  | AtomToken
  | NumberToken
  | NilToken
  | QuotedToken
  | LiteralToken
  | ListToken
  | SectionToken;

/** The kinds of {@link Token}. */
export type TokenKind = Token["kind"];

const TEXT_DECODER = new TextDecoder();

/**
 * The text of a token usable as an astring (atom, number, nil, quoted, literal), decoded as UTF-8
 * with replacement characters; `undefined` for lists and sections. For diagnostics and tests —
 * the decoder checks UTF-8 strictly.
 */
export function tokenText(token: Token): string | undefined {
  switch (token.kind) {
    case "atom":
      return token.value;
    case "number":
      return token.text;
    case "nil":
      return token.text;
    case "quoted":
    case "literal":
      return TEXT_DECODER.decode(token.bytes);
    default:
      return undefined;
  }
}

function quoteForDebug(s: string): string {
  return '"' + s.replace(/["\\]/g, "\\$&") + '"';
}

/**
 * A compact, deterministic rendering of tokens for tests and debug logs (never log it for LOGIN or
 * AUTHENTICATE: it contains the arguments). Literals render as `{n}"…"`, streamed ones as `{n}…`.
 */
export function formatTokens(tokens: readonly Token[]): string {
  return tokens.map(formatToken).join(" ");
}

function formatToken(token: Token): string {
  switch (token.kind) {
    case "atom":
      return token.value;
    case "number":
      return token.text;
    case "nil":
      return "NIL";
    case "quoted":
      return quoteForDebug(TEXT_DECODER.decode(token.bytes));
    case "literal": {
      const head = `${token.binary ? "~" : ""}{${token.size}${token.sync ? "" : "+"}}`;
      return token.streamed ? `${head}…` : head + quoteForDebug(TEXT_DECODER.decode(token.bytes));
    }
    case "list":
      return "(" + formatTokens(token.items) + ")";
    case "section": {
      let s = `${token.name}[${formatTokens(token.spec)}]`;
      if (token.partial) {
        s += `<${token.partial.offset}${
          token.partial.length === undefined ? "" : "." + token.partial.length
        }>`;
      }
      return s;
    }
  }
}
