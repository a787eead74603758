/**
 * `Content-Type` and `Content-Disposition` values: tolerant parsing into type, subtype and an
 * ordered parameter list, and Go-compatible serialisation (`mime.FormatMediaType`), which the
 * builder uses so that built literals match the official bridge's.
 *
 * Parsing works on binary strings (raw header bytes) and never throws: comments are skipped,
 * quoted strings unescaped, an unquoted value runs to the next `;` (so `filename=my file.pdf`
 * survives), and garbage between parameters is skipped.
 *
 * @module
 */
import type { RawParam } from "./encoded_word.ts";

export type { RawParam } from "./encoded_word.ts";

/** A parsed `Content-Type`. */
export interface ContentType {
  /** Type, lower-cased (`text`). */
  readonly type: string;
  /** Subtype, lower-cased (`plain`). */
  readonly subtype: string;
  /** Type as written (Dovecot reports it so in BODYSTRUCTURE). */
  readonly rawType: string;
  /** Subtype as written. */
  readonly rawSubtype: string;
  /** Parameters in order, names as written. */
  readonly params: readonly RawParam[];
}

/** A parsed `Content-Disposition`. */
export interface ContentDisposition {
  /** Disposition type as written (`attachment`, `inline`, …). */
  readonly value: string;
  /** {@link value} lower-cased. */
  readonly type: string;
  /** Parameters in order, names as written. */
  readonly params: readonly RawParam[];
}

// RFC 2045 tspecials plus whitespace and controls end a token.
const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f && !TSPECIALS.includes(c);
}

/** Whether `s` is a non-empty RFC 2045 token. */
export function isToken(s: string): boolean {
  if (!s) return false;
  for (const c of s) if (!isTokenChar(c)) return false;
  return true;
}

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): string {
    return this.s[this.pos] ?? "";
  }

  /** Skips whitespace and (nested) comments. */
  skipCfws(): void {
    while (this.pos < this.s.length) {
      const c = this.s[this.pos];
      if (c === " " || c === "\t" || c === "\r" || c === "\n") this.pos++;
      else if (c === "(") {
        let depth = 0;
        while (this.pos < this.s.length) {
          const d = this.s[this.pos++];
          if (d === "\\") this.pos++;
          else if (d === "(") depth++;
          else if (d === ")" && --depth === 0) break;
        }
      } else break;
    }
  }

  token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && isTokenChar(this.s[this.pos])) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** Reads a quoted string starting at `"`; unterminated runs to the end. */
  quoted(): string {
    this.pos++; // opening quote
    let out = "";
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++];
      if (c === "\\" && this.pos < this.s.length) out += this.s[this.pos++];
      else if (c === '"') return out;
      else if (c === "\r" || c === "\n") continue;
      else out += c;
    }
    return out;
  }
}

/**
 * Parses `; name=value` parameters from `s` starting at `pos`. Tolerant: a value may be a token,
 * a quoted string or (broken but common) unquoted text up to the next `;`.
 */
export function parseParams(s: string, pos = 0): RawParam[] {
  const sc = new Scanner(s);
  sc.pos = pos;
  const out: RawParam[] = [];
  while (!sc.done) {
    sc.skipCfws();
    if (sc.peek() === ";") {
      sc.pos++;
      continue;
    }
    if (sc.done) break;
    const name = sc.token();
    if (!name) {
      // Garbage: skip to the next separator.
      const next = s.indexOf(";", sc.pos + 1);
      sc.pos = next < 0 ? s.length : next;
      continue;
    }
    sc.skipCfws();
    if (sc.peek() !== "=") {
      const next = s.indexOf(";", sc.pos);
      sc.pos = next < 0 ? s.length : next;
      continue;
    }
    sc.pos++;
    sc.skipCfws();
    let value: string;
    if (sc.peek() === '"') {
      value = sc.quoted();
      // Anything after the closing quote up to ';' is ignored.
      const next = s.indexOf(";", sc.pos);
      sc.pos = next < 0 ? s.length : next;
    } else {
      const next = s.indexOf(";", sc.pos);
      const end = next < 0 ? s.length : next;
      value = s.slice(sc.pos, end).replace(/[ \t\r\n]+$/, "");
      // A trailing comment after a token value is not part of it.
      const tok = /^[^ \t\r\n(]*/.exec(value)![0];
      if (tok.length < value.length && /^[ \t\r\n]*\(/.test(value.slice(tok.length))) value = tok;
      sc.pos = end;
    }
    out.push({ name, value });
  }
  return out;
}

/**
 * Parses a `Content-Type` value (binary string). Returns null when there is no valid
 * `type/subtype` (the caller then applies the RFC 2045 default, `text/plain; charset=us-ascii`).
 */
export function parseContentType(value: string): ContentType | null {
  const sc = new Scanner(value);
  sc.skipCfws();
  const rawType = sc.token();
  sc.skipCfws();
  if (!rawType || sc.peek() !== "/") return null;
  sc.pos++;
  sc.skipCfws();
  const rawSubtype = sc.token();
  if (!rawSubtype) return null;
  return {
    type: rawType.toLowerCase(),
    subtype: rawSubtype.toLowerCase(),
    rawType,
    rawSubtype,
    params: parseParams(value, sc.pos),
  };
}

/** Parses a `Content-Disposition` value; null when it has no disposition type. */
export function parseContentDisposition(value: string): ContentDisposition | null {
  const sc = new Scanner(value);
  sc.skipCfws();
  const v = sc.token();
  if (!v) return null;
  return { value: v, type: v.toLowerCase(), params: parseParams(value, sc.pos) };
}

/** The raw value of the first parameter with this name (case-insensitive), if any. */
export function getParam(params: readonly RawParam[], name: string): string | undefined {
  const key = name.toLowerCase();
  for (const p of params) if (p.name.toLowerCase() === key) return p.value;
  return undefined;
}

/**
 * Joins RFC 2231 continuations (`name*0*`, `name*1`, …) into one parameter the way Dovecot
 * reports them in BODYSTRUCTURE: the name is the base name plus `*` when the first segment is
 * extended, the value is the raw segments concatenated, and the joined parameter takes the place
 * of its first segment. Other parameters pass through unchanged.
 */
export function joinContinuations(params: readonly RawParam[]): RawParam[] {
  const CONT = /^(.+?)\*(\d+)(\*?)$/;
  if (!params.some((p) => CONT.test(p.name))) return [...params];
  const groups = new Map<
    string,
    { base: string; segs: { n: number; ext: boolean; v: string }[] }
  >();
  const slots: (RawParam | string)[] = [];
  for (const p of params) {
    const m = CONT.exec(p.name);
    if (!m) {
      slots.push(p);
      continue;
    }
    const key = m[1].toLowerCase();
    let g = groups.get(key);
    if (!g) {
      g = { base: m[1], segs: [] };
      groups.set(key, g);
      slots.push(key);
    }
    g.segs.push({ n: Number(m[2]), ext: m[3] === "*", v: p.value });
  }
  const out: RawParam[] = [];
  for (const s of slots) {
    if (typeof s !== "string") {
      out.push(s);
      continue;
    }
    const g = groups.get(s)!;
    g.segs.sort((a, b) => a.n - b.n);
    out.push({
      name: g.base + (g.segs[0].ext ? "*" : ""),
      value: g.segs.map((x) => x.v).join(""),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Serialisation (Go mime.FormatMediaType)
// ---------------------------------------------------------------------------------------------

const UPPER_HEX = "0123456789ABCDEF";

/**
 * Formats a media type with parameters like Go's `mime.FormatMediaType`: type and parameter names
 * lower-cased, parameters sorted by name, values as tokens when possible, else quoted with `\`
 * escapes, and RFC 2231 `name*=utf-8''…` for values with characters outside printable ASCII.
 * Returns "" when the type or a parameter name is not a token (as Go does).
 */
export function formatMediaType(
  mediaType: string,
  params: Readonly<Record<string, string>> = {},
): string {
  const slash = mediaType.indexOf("/");
  let out: string;
  if (slash < 0) {
    if (!isToken(mediaType)) return "";
    out = mediaType.toLowerCase();
  } else {
    const major = mediaType.slice(0, slash);
    const sub = mediaType.slice(slash + 1);
    if (!isToken(major) || !isToken(sub)) return "";
    out = major.toLowerCase() + "/" + sub.toLowerCase();
  }
  const names = Object.keys(params).sort();
  for (const name of names) {
    const value = params[name];
    if (!isToken(name)) return "";
    out += "; " + name.toLowerCase();
    const bytes = new TextEncoder().encode(value);
    let needEnc = false;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if ((c < 0x20 || c > 0x7e) && c !== 0x09) {
        needEnc = true;
        break;
      }
    }
    if (needEnc) {
      out += "*=utf-8''";
      for (const b of bytes) {
        const ch = String.fromCharCode(b);
        if (
          b <= 0x20 || b >= 0x7f || ch === "*" || ch === "'" || ch === "%" || TSPECIALS.includes(ch)
        ) {
          out += "%" + UPPER_HEX[b >> 4] + UPPER_HEX[b & 15];
        } else out += ch;
      }
      continue;
    }
    out += "=";
    if (isToken(value)) {
      out += value;
      continue;
    }
    out += '"' + value.replace(/["\\]/g, (c) => "\\" + c) + '"';
  }
  return out;
}

/**
 * Formats one parameter value for a header: as a token when possible, else as a quoted string.
 */
export function quoteParamValue(value: string): string {
  return isToken(value) ? value : '"' + value.replace(/["\\]/g, (c) => "\\" + c) + '"';
}
