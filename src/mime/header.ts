/**
 * RFC 5322 header blocks: parsing from bytes (tolerant), lookup, selection of raw fields for
 * `BODY[HEADER.FIELDS (...)]`, and serialisation of new fields with folding.
 *
 * Parsing never throws. It accepts CRLF and bare LF line endings, keeps 8-bit bytes, folds
 * continuation lines into the field before them, and keeps lines without a colon as fields whose
 * {@link HeaderField.hasColon} is false (Dovecot does the same: they show up in
 * `HEADER.FIELDS.NOT` but never match a name).
 *
 * Values are "binary strings" (one char per byte, see `_bytes.ts`), so the exact bytes survive.
 * Use {@link Header.getText} for a decoded, human-readable value.
 *
 * @module
 */
import { binaryToText, bytesToBinary, ByteWriter, CR, LF } from "./_bytes.ts";
import { decodeEncodedWords } from "./encoded_word.ts";

/** One header field as it appears in the source bytes. */
export interface HeaderField {
  /** Field name as written, without whitespace before the colon (binary string). */
  readonly name: string;
  /** {@link name} lower-cased, for lookups. */
  readonly key: string;
  /** Everything after the colon up to the field's final line break, folding kept (binary string). */
  readonly rawValue: string;
  /** Offset of the field's first byte in {@link Header.source}. */
  readonly start: number;
  /** Offset just past the field's final line break (or the end of the header data). */
  readonly end: number;
  /** False for a line that had no colon (kept as a field whose name is the whole line). */
  readonly hasColon: boolean;
}

/**
 * Removes the line breaks of folding (RFC 5322 §2.2.3) and the whitespace that starts the first
 * line, keeping the whitespace that starts each continuation line (as Dovecot does).
 */
export function unfold(rawValue: string): string {
  let i = 0;
  while (i < rawValue.length) {
    const c = rawValue.charCodeAt(i);
    if (c === 0x20 || c === 0x09) i++;
    else break;
  }
  return rawValue.slice(i).replace(/\r?\n/g, "").replace(/\r$/, "");
}

/** A parsed header block over some source bytes. */
export class Header {
  /** Fields in order. */
  readonly fields: readonly HeaderField[];
  /** The bytes the field offsets refer to. */
  readonly source: Uint8Array;

  /** Wraps fields (normally produced by {@link parseHeader}). */
  constructor(fields: readonly HeaderField[], source: Uint8Array) {
    this.fields = fields;
    this.source = source;
  }

  /** Whether a field with this name (case-insensitive) exists. */
  has(name: string): boolean {
    const key = name.toLowerCase();
    return this.fields.some((f) => f.hasColon && f.key === key);
  }

  /** Unfolded value of the first field with this name, or undefined (binary string). */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const f of this.fields) if (f.hasColon && f.key === key) return unfold(f.rawValue);
    return undefined;
  }

  /**
   * Value of the first field with this name with its folding line breaks kept (only the
   * whitespace that starts it is removed), or undefined (binary string).
   */
  getFolded(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const f of this.fields) {
      if (f.hasColon && f.key === key) return f.rawValue.replace(/^[ \t]+/, "");
    }
    return undefined;
  }

  /** Unfolded values of every field with this name, in order (binary strings). */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (const f of this.fields) if (f.hasColon && f.key === key) out.push(unfold(f.rawValue));
    return out;
  }

  /**
   * The first value decoded for display: 8-bit bytes as UTF-8 (else windows-1252), RFC 2047
   * encoded words decoded, surrounding whitespace trimmed.
   */
  getText(name: string): string | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : decodeEncodedWords(binaryToText(v)).trim();
  }

  /** The raw bytes of one field (including its line break). */
  fieldBytes(field: HeaderField): Uint8Array {
    return this.source.subarray(field.start, field.end);
  }
}

/** Result of {@link parseHeader}. */
export interface HeaderBlock {
  /** The fields. */
  readonly header: Header;
  /** Offset of the header's first byte. */
  readonly start: number;
  /** Offset just past the header block, including the empty line that ends it (if any). */
  readonly end: number;
}

/**
 * Parses the header block that starts at `start`. It ends after the first empty line, at the end
 * of the data, or (when `stopAt` is given) before the first line for which `stopAt` returns true
 * — a multipart boundary in a part that has no empty line after its header.
 */
export function parseHeader(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  stopAt?: (lineStart: number, lineEnd: number) => boolean,
): HeaderBlock {
  const fields: HeaderField[] = [];
  let pos = start;
  let cur: { nameEnd: number; valueStart: number; start: number; hasColon: boolean } | null = null;
  let curEnd = start;
  const flush = () => {
    if (!cur) return;
    const line = bytesToBinary(bytes, cur.start, cur.hasColon ? cur.nameEnd : curEnd);
    let name = line;
    if (!cur.hasColon) name = name.replace(/\r?\n$/, "").replace(/\r$/, "");
    else name = name.replace(/[ \t]+$/, "");
    let rawValue = "";
    if (cur.hasColon) {
      let ve = curEnd;
      if (ve > cur.valueStart && bytes[ve - 1] === LF) {
        ve--;
        if (ve > cur.valueStart && bytes[ve - 1] === CR) ve--;
      }
      rawValue = bytesToBinary(bytes, cur.valueStart, ve);
    }
    fields.push({
      name,
      key: name.toLowerCase(),
      rawValue,
      start: cur.start,
      end: curEnd,
      hasColon: cur.hasColon,
    });
    cur = null;
  };
  while (pos < end) {
    let nl = bytes.indexOf(LF, pos);
    if (nl < 0 || nl >= end) nl = end - 1;
    const lineEnd = nl + 1; // exclusive, includes LF
    // Empty line (LF or CRLF) ends the header.
    const first = bytes[pos];
    if (first === LF || (first === CR && pos + 1 < end && bytes[pos + 1] === LF)) {
      flush();
      return { header: new Header(fields, bytes), start, end: lineEnd };
    }
    if (stopAt && stopAt(pos, lineEnd)) {
      flush();
      return { header: new Header(fields, bytes), start, end: pos };
    }
    if ((first === 0x20 || first === 0x09) && cur) {
      curEnd = lineEnd; // continuation
    } else {
      flush();
      let colon = -1;
      for (let i = pos; i < lineEnd; i++) {
        const b = bytes[i];
        if (b === 0x3a) {
          colon = i;
          break;
        }
        if (b === LF) break;
      }
      cur = colon > pos
        ? { nameEnd: colon, valueStart: colon + 1, start: pos, hasColon: true }
        : { nameEnd: lineEnd, valueStart: lineEnd, start: pos, hasColon: false };
      curEnd = lineEnd;
    }
    pos = lineEnd;
  }
  flush();
  return { header: new Header(fields, bytes), start, end };
}

/**
 * The raw bytes of the fields selected for `BODY[HEADER.FIELDS (names)]` (or `.NOT` when `not` is
 * true), each with its original folding, followed by the empty line that ends a header (RFC 3501
 * §6.4.5). A last field without a line break gets CRLF added.
 */
export function selectHeaderFields(
  header: Header,
  names: readonly string[],
  not = false,
): Uint8Array {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const w = new ByteWriter();
  for (const f of header.fields) {
    const match = f.hasColon && wanted.has(f.key);
    if (match === not) continue;
    const raw = header.fieldBytes(f);
    w.bytes(raw);
    if (raw.length === 0 || raw[raw.length - 1] !== LF) w.binary("\r\n");
  }
  w.binary("\r\n");
  return w.finish();
}

/**
 * `bytes` with the given fields of its header cut out (each with its line break); everything
 * else byte for byte. `fields` are fields of a header parsed from `bytes`, in order.
 */
export function withoutHeaderFields(
  bytes: Uint8Array,
  fields: readonly HeaderField[],
): Uint8Array {
  if (fields.length === 0) return bytes;
  const out = new Uint8Array(bytes.length);
  let o = 0;
  let pos = 0;
  for (const f of fields) {
    out.set(bytes.subarray(pos, f.start), o);
    o += f.start - pos;
    pos = f.end;
  }
  out.set(bytes.subarray(pos), o);
  o += bytes.length - pos;
  return out.subarray(0, o);
}

/** Default soft line limit for {@link formatField} (RFC 5322 §2.1.1 says 78). */
export const FOLD_WIDTH = 78;

/**
 * Formats `Name: value\r\n`, folding long lines at whitespace so that lines stay within `width`
 * where possible. Folding never happens inside a run of non-whitespace or a quoted string, so
 * encoded words, addresses and display names stay whole (a single token longer than the limit stays on one overlong line). CR and
 * LF in the value are replaced by spaces, since they cannot appear unfolded in a field.
 */
export function formatField(name: string, value: string, width = FOLD_WIDTH): string {
  const v = value.replace(/\r\n|\r|\n/g, " ");
  let out = name + ": ";
  let line = out.length;
  // Tokens: whitespace followed by a run of non-whitespace, where a quoted string counts as
  // non-whitespace (folding inside one is legal but shows up in clients that do not unfold).
  const tokens = v.match(/[ \t]*(?:"(?:[^"\\]|\\.)*"?|[^ \t"])+|[ \t]+$/g) ?? [];
  let firstOnLine = true;
  for (const tok of tokens) {
    if (!firstOnLine && line + tok.length > width && /^[ \t]/.test(tok)) {
      out += "\r\n";
      line = 0;
    }
    out += tok;
    line += tok.length;
    firstOnLine = false;
  }
  return out + "\r\n";
}
