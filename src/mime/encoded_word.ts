/**
 * RFC 2047 encoded words (decode and encode) and RFC 2231 parameter values (continuations and
 * `charset'language'value` decoding).
 *
 * Decoding is tolerant: an encoded word with an unknown charset or a broken payload is left as it
 * is; adjacent encoded words (separated only by whitespace) are joined, and when they share a
 * charset their bytes are joined before decoding, so a multi-byte character split across two
 * words still decodes. Encoding follows Go's `mime.QEncoding` / `mime.BEncoding` byte for byte
 * (the official bridge uses them), which keeps built literals identical to the bridge's.
 *
 * @module
 */
import { binaryToBytes, bytesToBinary, concatBytes, isValidUtf8, utf8Encode } from "./_bytes.ts";

const decoders = new Map<string, TextDecoder | null>();

/** Normalises a MIME charset name for TextDecoder; aliases mail uses that WHATWG lacks. */
function charsetLabel(charset: string): string {
  const c = charset.trim().toLowerCase();
  if (c === "utf8") return "utf-8";
  if (c === "cp1252") return "windows-1252";
  if (c === "latin-1") return "iso-8859-1";
  if (c === "ascii" || c === "us-ascii" || c === "ansi_x3.4-1968") return "us-ascii";
  if (c === "sjis" || c === "shift-jis" || c === "x-sjis") return "shift_jis";
  if (/^cp125[0-8]$/.test(c)) return "windows-" + c.slice(2);
  return c;
}

/**
 * Decodes bytes in a MIME charset, or returns null when the charset is unknown. Invalid sequences
 * become U+FFFD.
 */
export function decodeCharset(bytes: Uint8Array, charset: string): string | null {
  const label = charsetLabel(charset);
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = null;
    }
    decoders.set(label, d);
  }
  return d ? d.decode(bytes) : null;
}

const BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_INDEX = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) BASE64_INDEX[BASE64_CHARS.charCodeAt(i)] = i;

/** Tolerant base64 decode: skips characters outside the alphabet, stops at `=`. */
export function base64DecodeLoose(text: string | Uint8Array): Uint8Array {
  const src = typeof text === "string" ? binaryToBytes(text) : text;
  const out = new Uint8Array(Math.floor((src.length * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x3d) break;
    const v = BASE64_INDEX[c];
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** Standard base64 encode (no line breaks). */
export function base64Encode(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64_CHARS[n >> 18] + BASE64_CHARS[(n >> 12) & 63] + BASE64_CHARS[(n >> 6) & 63] +
      BASE64_CHARS[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += BASE64_CHARS[n >> 18] + BASE64_CHARS[(n >> 12) & 63] + "==";
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += BASE64_CHARS[n >> 18] + BASE64_CHARS[(n >> 12) & 63] + BASE64_CHARS[(n >> 6) & 63] +
      "=";
  }
  return out;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Decodes the payload of a Q encoded word (`_` is a space, `=XX` a byte). */
function qDecode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out.push(0x20);
    else if (c === 0x3d && i + 2 < text.length) {
      const h = hexVal(text.charCodeAt(i + 1));
      const l = hexVal(text.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        out.push((h << 4) | l);
        i += 2;
      } else out.push(c);
    } else out.push(c & 0xff);
  }
  return new Uint8Array(out);
}

const ENCODED_WORD_REGEXP = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

interface Word {
  start: number;
  end: number;
  charset: string;
  bytes: Uint8Array;
}

/**
 * Decodes every RFC 2047 encoded word in `text` (a Unicode string). Whitespace between two
 * adjacent encoded words is dropped (RFC 2047 §6.2); words with an unknown charset are kept as
 * written. Encoded words glued to other text (`=?utf-8?q?a?=.txt`, common in file names) are
 * decoded too, as most mail clients do.
 */
export function decodeEncodedWords(text: string): string {
  if (!text.includes("=?")) return text;
  const words: Word[] = [];
  for (const m of text.matchAll(ENCODED_WORD_REGEXP)) {
    const charset = m[1].split("*")[0]; // RFC 2231 §5 language suffix
    const payload = m[3];
    const bytes = m[2] === "B" || m[2] === "b" ? base64DecodeLoose(payload) : qDecode(payload);
    words.push({ start: m.index!, end: m.index! + m[0].length, charset, bytes });
  }
  if (words.length === 0) return text;
  let out = "";
  let pos = 0;
  let i = 0;
  while (i < words.length) {
    // A run of words separated only by whitespace.
    let j = i;
    while (
      j + 1 < words.length && /^[ \t\r\n]*$/.test(text.slice(words[j].end, words[j + 1].start))
    ) {
      j++;
    }
    out += text.slice(pos, words[i].start);
    let k = i;
    while (k <= j) {
      let m = k;
      const parts = [words[k].bytes];
      while (m + 1 <= j && words[m + 1].charset.toLowerCase() === words[k].charset.toLowerCase()) {
        m++;
        parts.push(words[m].bytes);
      }
      const total = parts.reduce((n, p) => n + p.length, 0);
      const joined = new Uint8Array(total);
      let o = 0;
      for (const p of parts) {
        joined.set(p, o);
        o += p.length;
      }
      const decoded = decodeCharset(joined, words[k].charset);
      if (decoded === null) {
        // Unknown charset: keep the original words (and the whitespace between them).
        out += text.slice(words[k].start, words[m].end);
        if (m < j) out += text.slice(words[m].end, words[m + 1].start);
      } else out += decoded;
      k = m + 1;
    }
    pos = words[j].end;
    i = j + 1;
  }
  return out + text.slice(pos);
}

// ---------------------------------------------------------------------------------------------
// Encoding (Go mime.WordEncoder semantics)
// ---------------------------------------------------------------------------------------------

const MAX_CONTENT_LEN = 75 - "=?UTF-8?q?".length - "?=".length; // 63
const MAX_BASE64_LEN = Math.floor(MAX_CONTENT_LEN / 4) * 3; // 45
const UPPER_HEX = "0123456789ABCDEF";

/** Whether Go's word encoder would encode `s` (anything outside printable ASCII except tab). */
export function needsEncoding(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 || c > 0x7e) && c !== 0x09) return true;
  }
  return false;
}

/**
 * RFC 2047 Q-encodes a Unicode string as UTF-8 (`=?utf-8?q?...?=`), splitting into several words
 * so that none exceeds 75 characters and no character is split; returns the string unchanged when
 * it is printable ASCII. Same output as Go's `mime.QEncoding.Encode("utf-8", s)`.
 */
export function encodeWordQ(s: string): string {
  if (!needsEncoding(s)) return s;
  let out = "=?utf-8?q?";
  let cur = 0;
  for (const ch of s) {
    const bytes = utf8Encode(ch);
    const c = bytes[0];
    const literal = bytes.length === 1 && c >= 0x20 && c <= 0x7e && c !== 0x3d && c !== 0x3f &&
      c !== 0x5f;
    const encLen = literal ? 1 : 3 * bytes.length;
    if (cur + encLen > MAX_CONTENT_LEN) {
      out += "?= =?utf-8?q?";
      cur = 0;
    }
    if (literal) out += c === 0x20 ? "_" : ch;
    else for (const b of bytes) out += "=" + UPPER_HEX[b >> 4] + UPPER_HEX[b & 15];
    cur += encLen;
  }
  return out + "?=";
}

/**
 * RFC 2047 B-encodes a Unicode string as UTF-8 (`=?utf-8?b?...?=`), split like Go's
 * `mime.BEncoding.Encode("utf-8", s)`; unchanged when printable ASCII.
 */
export function encodeWordB(s: string): string {
  if (!needsEncoding(s)) return s;
  const all = utf8Encode(s);
  if (Math.ceil(all.length / 3) * 4 <= MAX_CONTENT_LEN) {
    return "=?utf-8?b?" + base64Encode(all) + "?=";
  }
  const chunks: string[] = [];
  let cur: number[] = [];
  for (const ch of s) {
    const bytes = utf8Encode(ch);
    if (cur.length + bytes.length > MAX_BASE64_LEN) {
      chunks.push(base64Encode(new Uint8Array(cur)));
      cur = [];
    }
    cur.push(...bytes);
  }
  chunks.push(base64Encode(new Uint8Array(cur)));
  return chunks.map((c) => "=?utf-8?b?" + c + "?=").join(" ");
}

// ---------------------------------------------------------------------------------------------
// RFC 2231
// ---------------------------------------------------------------------------------------------

/** Percent-decodes an RFC 2231 extended value's bytes (invalid escapes kept). */
function percentDecode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length) {
      const h = hexVal(s.charCodeAt(i + 1));
      const l = hexVal(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        out.push((h << 4) | l);
        i += 2;
        continue;
      }
    }
    if (c > 0xff) { for (const b of utf8Encode(s[i])) out.push(b); }
    else out.push(c);
  }
  return new Uint8Array(out);
}

/** A raw parameter as parsed (name as written, value unquoted binary string). */
export interface RawParam {
  /** Parameter name as written. */
  readonly name: string;
  /** Value with quotes removed and quoted-pairs unescaped (binary string). */
  readonly value: string;
}

/**
 * Decodes an RFC 2231 parameter list: continuations (`name*0`, `name*1*`, …) are joined in
 * numeric order, extended values (`name*=charset'lang'%XX…`) are percent-decoded and converted
 * from their charset, plain values have 8-bit bytes read as UTF-8 (else windows-1252) and RFC 2047
 * encoded words decoded (non-standard but common in `name=` and `filename=`). Keys are lower-cased;
 * the first occurrence of a name wins.
 */
export function decodeParams(params: readonly RawParam[]): Map<string, string> {
  interface Acc {
    segments: Map<number, { value: string; extended: boolean }>;
    simple?: { value: string; extended: boolean };
  }
  const acc = new Map<string, Acc>();
  const order: string[] = [];
  for (const p of params) {
    const m = /^(.*?)(?:\*(\d+))?(\*)?$/.exec(p.name.toLowerCase())!;
    const base = m[1];
    if (!base) continue;
    let a = acc.get(base);
    if (!a) {
      a = { segments: new Map() };
      acc.set(base, a);
      order.push(base);
    }
    const extended = m[3] === "*";
    if (m[2] !== undefined) {
      const n = Number(m[2]);
      if (!a.segments.has(n)) a.segments.set(n, { value: p.value, extended });
    } else if (!a.simple) a.simple = { value: p.value, extended };
  }
  const out = new Map<string, string>();
  for (const base of order) {
    const a = acc.get(base)!;
    let value: string | undefined;
    if (a.segments.size > 0) {
      const nums = [...a.segments.keys()].sort((x, y) => x - y);
      let charset = "";
      const chunks: Uint8Array[] = [];
      nums.forEach((n, idx) => {
        const seg = a.segments.get(n)!;
        let v = seg.value;
        if (seg.extended) {
          if (idx === 0) {
            const q1 = v.indexOf("'");
            const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
            if (q2 >= 0) {
              charset = v.slice(0, q1);
              v = v.slice(q2 + 1);
            }
          }
          chunks.push(percentDecode(v));
        } else chunks.push(binaryToBytes(v));
      });
      value = decodeBytes(concatBytes(chunks), charset);
    }
    if (value === undefined && a.simple) {
      if (a.simple.extended) value = decodeExtendedValue(a.simple.value);
      else value = decodePlainValue(a.simple.value);
    }
    if (value !== undefined) out.set(base, value);
  }
  return out;
}

/** Decodes one RFC 2231 extended value `charset'lang'%XX...`. */
export function decodeExtendedValue(v: string): string {
  const q1 = v.indexOf("'");
  const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
  if (q2 < 0) return decodeBytes(percentDecode(v), "");
  return decodeBytes(percentDecode(v.slice(q2 + 1)), v.slice(0, q1));
}

function decodePlainValue(v: string): string {
  return decodeEncodedWords(decodeBytes(binaryToBytes(v), ""));
}

function decodeBytes(bytes: Uint8Array, charset: string): string {
  if (charset) {
    const d = decodeCharset(bytes, charset);
    if (d !== null) return d;
  }
  if (isValidUtf8(bytes)) return decodeCharset(bytes, "utf-8")!;
  return decodeCharset(bytes, "windows-1252") ?? bytesToBinary(bytes);
}
