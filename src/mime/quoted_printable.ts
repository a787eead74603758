/**
 * Quoted-printable (RFC 2045 §6.7).
 *
 * {@link encodeQuotedPrintable} produces the same bytes as Go's `mime/quotedprintable.Writer` in
 * text mode, which the official bridge uses for every text part: line breaks (CRLF, LF or lone
 * CR) become CRLF, `=` and bytes outside printable ASCII are escaped, whitespace before a line
 * break or at the end is escaped, lines are cut with soft breaks at 76 characters. Decoding is
 * tolerant of broken input.
 *
 * @module
 */

const HEX = "0123456789ABCDEF";
const LINE_MAX = 76;

class Growable {
  buf: Uint8Array;
  len = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(Math.max(16, size));
  }
  push(b: number): void {
    if (this.len === this.buf.length) {
      const n = new Uint8Array(this.buf.length * 2);
      n.set(this.buf);
      this.buf = n;
    }
    this.buf[this.len++] = b;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Quoted-printable encodes `src` (text mode: line breaks normalised to CRLF). */
export function encodeQuotedPrintable(src: Uint8Array): Uint8Array {
  const out = new Growable(src.length + (src.length >> 3) + 16);
  let lineStart = 0;
  let cr = false;
  const lineLen = () => out.len - lineStart;
  const crlf = () => {
    out.push(13);
    out.push(10);
    lineStart = out.len;
  };
  const softBreak = () => {
    out.push(0x3d);
    crlf();
  };
  const encode = (b: number) => {
    if (LINE_MAX - 1 - lineLen() < 3) softBreak();
    out.push(0x3d);
    out.push(HEX.charCodeAt(b >> 4));
    out.push(HEX.charCodeAt(b & 15));
  };
  const checkLastByte = () => {
    if (lineLen() === 0) return;
    const b = out.buf[out.len - 1];
    if (b === 0x20 || b === 0x09) {
      out.len--;
      encode(b);
    }
  };
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 0x0a || b === 0x0d) {
      if (cr && b === 0x0a) {
        cr = false;
        continue;
      }
      checkLastByte();
      crlf();
      cr = b === 0x0d;
      continue;
    }
    if ((b >= 0x21 && b <= 0x7e && b !== 0x3d) || b === 0x20 || b === 0x09) {
      if (lineLen() === LINE_MAX - 1) softBreak();
      out.push(b);
    } else encode(b);
    // Go keeps a pending CR across an escaped byte; a lone CR followed by data must not swallow a
    // later LF, so it is cleared here.
    cr = false;
  }
  checkLastByte();
  return out.result();
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes quoted-printable. Soft line breaks (`=` before CRLF or LF, optionally after trailing
 * whitespace) are removed, `=XX` (either case) becomes the byte, whitespace at the end of a line is
 * dropped, and anything malformed (a lone `=`, bad hex) is kept as it is. Line breaks are kept as
 * written.
 */
export function decodeQuotedPrintable(src: Uint8Array): Uint8Array {
  const out = new Growable(src.length);
  let i = 0;
  const n = src.length;
  while (i < n) {
    const b = src[i];
    if (b === 0x3d) {
      // Soft line break: '=' [WSP] (CRLF | LF | end)
      let j = i + 1;
      while (j < n && (src[j] === 0x20 || src[j] === 0x09)) j++;
      if (j >= n) {
        i = j;
        continue;
      }
      if (src[j] === 0x0a) {
        i = j + 1;
        continue;
      }
      if (src[j] === 0x0d && src[j + 1] === 0x0a) {
        i = j + 2;
        continue;
      }
      if (i + 2 < n) {
        const h = hexVal(src[i + 1]);
        const l = hexVal(src[i + 2]);
        if (h >= 0 && l >= 0) {
          out.push((h << 4) | l);
          i += 3;
          continue;
        }
      }
      out.push(b);
      i++;
      continue;
    }
    if (b === 0x20 || b === 0x09) {
      // Drop whitespace that ends a line.
      let j = i;
      while (j < n && (src[j] === 0x20 || src[j] === 0x09)) j++;
      if (j >= n || src[j] === 0x0a || (src[j] === 0x0d && src[j + 1] === 0x0a)) {
        i = j;
        continue;
      }
      for (; i < j; i++) out.push(src[i]);
      continue;
    }
    out.push(b);
    i++;
  }
  return out.result();
}
