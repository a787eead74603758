/**
 * Byte helpers shared by the MIME modules (private to `src/mime`).
 *
 * Header syntax is ASCII, but real headers carry 8-bit bytes. The parsers therefore work on
 * "binary strings": one UTF-16 code unit per byte (latin-1 mapping), which keeps every byte
 * exactly and lets ordinary string code split on ASCII punctuation. {@link binaryToBytes} turns such
 * a string back into the original bytes; {@link binaryToText} interprets it for humans.
 *
 * @module
 */

const UTF8_STRICT = new TextDecoder("utf-8", { fatal: true });
const UTF8_LOOSE = new TextDecoder("utf-8");
const WIN1252 = new TextDecoder("windows-1252");
const UTF8_ENCODER = new TextEncoder();

/** Carriage return. */
export const CR = 0x0d;
/** Line feed. */
export const LF = 0x0a;

/** Bytes → binary string (one char per byte). */
export function bytesToBinary(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = "";
  const CHUNK = 8192;
  for (let i = start; i < end; i += CHUNK) {
    out += String.fromCharCode.apply(
      null,
      bytes.subarray(i, Math.min(end, i + CHUNK)) as unknown as number[],
    );
  }
  return out;
}

/**
 * Binary string → bytes. Characters above U+00FF cannot come from {@link bytesToBinary}; they are
 * written as UTF-8 so that a Unicode string passed by mistake still round-trips as text.
 */
export function binaryToBytes(s: string): Uint8Array {
  let wide = false;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      wide = true;
      break;
    }
  }
  if (wide) {
    const parts: Uint8Array[] = [];
    let run = "";
    for (const ch of s) {
      const c = ch.codePointAt(0)!;
      if (c > 0xff) {
        if (run) parts.push(binaryToBytes(run));
        run = "";
        parts.push(UTF8_ENCODER.encode(ch));
      } else run += ch;
    }
    if (run) parts.push(binaryToBytes(run));
    return concatBytes(parts);
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** UTF-8 encode a Unicode string. */
export function utf8Encode(s: string): Uint8Array {
  return UTF8_ENCODER.encode(s);
}

/** UTF-8 decode, replacing invalid sequences with U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  return UTF8_LOOSE.decode(bytes);
}

/** Whether the bytes are valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    UTF8_STRICT.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Whether every char of a binary string is 7-bit. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * A binary string (raw header bytes) as human text: ASCII stays, 8-bit bytes are read as UTF-8
 * when they form valid UTF-8, else as windows-1252 (the usual superset of latin-1 in mail).
 */
export function binaryToText(s: string): string {
  if (isAscii(s)) return s;
  const bytes = binaryToBytes(s);
  try {
    return UTF8_STRICT.decode(bytes);
  } catch {
    return WIN1252.decode(bytes);
  }
}

/** Concatenate byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Whether two byte arrays are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Accumulates bytes and strings. Strings are written as UTF-8 by {@link ByteWriter.text} and as
 * one byte per char by {@link ByteWriter.binary}.
 */
export class ByteWriter {
  #parts: Uint8Array[] = [];
  #length = 0;
  // Binary text not yet converted; kept as a string so that many small writes cost one copy.
  #pending = "";

  /** Total bytes written so far. */
  get length(): number {
    return this.#length + this.#pending.length;
  }

  #flush(): void {
    if (this.#pending) {
      const b = binaryToBytes(this.#pending);
      this.#pending = "";
      this.#parts.push(b);
      this.#length += b.length;
    }
  }

  /** Append raw bytes. */
  bytes(b: Uint8Array): this {
    if (b.length) {
      this.#flush();
      this.#parts.push(b);
      this.#length += b.length;
    }
    return this;
  }

  /** Append a string as UTF-8 (ASCII fast path). */
  text(s: string): this {
    if (isAscii(s)) return this.binary(s);
    return this.bytes(UTF8_ENCODER.encode(s));
  }

  /** Append a binary string, one byte per char (chars above U+00FF are written as UTF-8). */
  binary(s: string): this {
    this.#pending += s;
    if (this.#pending.length > 65536) this.#flush();
    return this;
  }

  /** The bytes written, as one array. */
  finish(): Uint8Array {
    this.#flush();
    if (this.#parts.length === 1) return this.#parts[0];
    const out = concatBytes(this.#parts);
    this.#parts = [out];
    return out;
  }
}

/**
 * Converts bare LF (and lone CR) line endings to CRLF. Returns the input unchanged (same object)
 * when it already uses CRLF throughout.
 */
export function toCrlf(bytes: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === LF && (i === 0 || bytes[i - 1] !== CR)) extra++;
    else if (b === CR && bytes[i + 1] !== LF) extra++;
  }
  if (extra === 0) return bytes;
  const out = new Uint8Array(bytes.length + extra);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === LF && (i === 0 || bytes[i - 1] !== CR)) {
      out[o++] = CR;
      out[o++] = LF;
    } else if (b === CR && bytes[i + 1] !== LF) {
      out[o++] = CR;
      out[o++] = LF;
    } else out[o++] = b;
  }
  return out;
}
