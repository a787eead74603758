/**
 * MIME structure of a message as a tree of offsets over the original bytes (nothing is copied).
 *
 * The parser is built to never throw and to agree with Dovecot on hard cases (checked against it,
 * see `testdata/dovecot_expected.json`):
 *
 * - CRLF and bare LF line endings, 8-bit bytes anywhere;
 * - a boundary line is any line that starts with `--` + boundary (trailing text ignored); the
 *   boundaries of every open multipart are checked, innermost first, so a boundary of an outer
 *   multipart ends any inner part (a missing close delimiter is therefore harmless);
 *   `--boundary--` closes the multipart and what follows, up to an outer boundary, is epilogue;
 * - the line break before a boundary line belongs to the boundary, not to the part;
 * - a multipart with no usable boundary (missing parameter, or a boundary never found) has no
 *   children, and a part whose header is cut by a boundary line has an empty body;
 * - `message/rfc822` bodies are parsed as messages whatever their transfer encoding;
 * - children of `multipart/digest` default to `message/rfc822`, everything else to `text/plain`;
 * - nesting deeper than {@link MAX_DEPTH} is treated as an opaque leaf.
 *
 * Part numbers follow RFC 3501 §6.4.5: the children of a multipart are numbered from 1; a
 * `message/rfc822` part's encapsulated message is a separate entity ({@link MimePart.message})
 * whose own parts continue the numbering of the `message/rfc822` part.
 *
 * @module
 */
import { CR, LF } from "./_bytes.ts";
import { decodeParams } from "./encoded_word.ts";
import { type Header, parseHeader } from "./header.ts";
import {
  type ContentDisposition,
  type ContentType,
  getParam,
  parseContentDisposition,
  parseContentType,
  type RawParam,
} from "./params.ts";

/** Entities nested deeper than this (multiparts and encapsulated messages) are not parsed. */
export const MAX_DEPTH = 50;

const DEFAULT_TEXT: ContentType = {
  type: "text",
  subtype: "plain",
  rawType: "text",
  rawSubtype: "plain",
  params: [],
};
const DEFAULT_MESSAGE: ContentType = {
  type: "message",
  subtype: "rfc822",
  rawType: "message",
  rawSubtype: "rfc822",
  params: [],
};

/** One entity: the whole message, a body part, or an encapsulated message. */
export class MimePart {
  /** The bytes every offset refers to. */
  readonly source: Uint8Array;
  /**
   * Part number as a list (`[1, 2]` is part `1.2`). The top-level message is `[]`; an
   * encapsulated message has the number of the `message/rfc822` part that holds it.
   */
  readonly path: readonly number[];
  /** The parsed header. */
  readonly header: Header;
  /** `[start, end)` of the header block, including the empty line that ends it when present. */
  readonly headerBytes: readonly [number, number];
  /** `[start, end)` of the body. */
  readonly body: readonly [number, number];
  /** Effective content type (the RFC 2045 default when missing or invalid). */
  readonly contentType: ContentType;
  /** Whether the header had a usable `Content-Type`. */
  readonly hasContentType: boolean;
  /** Children of a multipart (empty for leaves and for a multipart without usable boundary). */
  readonly children: MimePart[] = [];
  /** The encapsulated message of a parsed `message/rfc822` part, else null. */
  message: MimePart | null = null;
  /** Whether this is a multipart (even one without children). */
  readonly isMultipart: boolean;
  #lines = -1;

  /** Builds a part; used by {@link parseMessage}. */
  constructor(
    source: Uint8Array,
    path: readonly number[],
    header: Header,
    headerBytes: readonly [number, number],
    body: readonly [number, number],
    contentType: ContentType,
    hasContentType: boolean,
  ) {
    this.source = source;
    this.path = path;
    this.header = header;
    this.headerBytes = headerBytes;
    this.body = body;
    this.contentType = contentType;
    this.hasContentType = hasContentType;
    this.isMultipart = contentType.type === "multipart";
  }

  /** Lower-cased type (`text`). */
  get type(): string {
    return this.contentType.type;
  }

  /** Lower-cased subtype (`plain`). */
  get subtype(): string {
    return this.contentType.subtype;
  }

  /** `type/subtype`, lower-cased. */
  get mimeType(): string {
    return this.contentType.type + "/" + this.contentType.subtype;
  }

  /** Content-Type parameters in order, names as written, values raw (binary strings). */
  get params(): readonly RawParam[] {
    return this.contentType.params;
  }

  /** Part number as IMAP writes it (`1.2`), "" for the top-level message. */
  get section(): string {
    return this.path.join(".");
  }

  /** `Content-Transfer-Encoding` as written (trimmed), or null when absent. */
  get encoding(): string | null {
    const v = this.header.get("content-transfer-encoding");
    if (v === undefined) return null;
    return v.trim().split(/[\s(;]/)[0] || null;
  }

  /** Parsed `Content-Disposition`, or null. */
  get disposition(): ContentDisposition | null {
    const v = this.header.get("content-disposition");
    return v === undefined ? null : parseContentDisposition(v);
  }

  /** `Content-Language` tags, or null. */
  get language(): string[] | null {
    const v = this.header.get("content-language");
    if (v === undefined) return null;
    const tags = v.replace(/\([^)]*\)/g, "").split(",").map((s) => s.trim()).filter((s) => s);
    return tags.length ? tags : null;
  }

  /** `Content-Location` (unfolded, whitespace removed), or null. */
  get location(): string | null {
    const v = this.header.get("content-location");
    return v === undefined ? null : v.replace(/[ \t]+/g, "");
  }

  /** `Content-ID`, trimmed, or null. */
  get id(): string | null {
    return trimmedOrNull(this.header.get("content-id"));
  }

  /** `Content-Description`, trimmed, or null. */
  get description(): string | null {
    return trimmedOrNull(this.header.get("content-description"));
  }

  /** `Content-MD5`, trimmed, or null. */
  get md5(): string | null {
    return trimmedOrNull(this.header.get("content-md5"));
  }

  /** Body size in octets (as stored, not decoded). */
  get size(): number {
    return this.body[1] - this.body[0];
  }

  /** Number of line feeds in the body (RFC 3501 body-fld-lines). */
  get lines(): number {
    if (this.#lines < 0) {
      let n = 0;
      const [s, e] = this.body;
      let i = this.source.indexOf(LF, s);
      while (i >= 0 && i < e) {
        n++;
        i = this.source.indexOf(LF, i + 1);
      }
      this.#lines = n;
    }
    return this.#lines;
  }

  /** The header bytes (a view, not a copy). */
  headerData(): Uint8Array {
    return this.source.subarray(this.headerBytes[0], this.headerBytes[1]);
  }

  /** The body bytes, still transfer-encoded (a view, not a copy). */
  bodyData(): Uint8Array {
    return this.source.subarray(this.body[0], this.body[1]);
  }

  /** The filename from Content-Disposition or Content-Type `name` (decoded), if any. */
  get filename(): string | undefined {
    return filenameOf(this);
  }

  /** Every entity in the tree, depth first (this one first, encapsulated messages included). */
  *walk(): Generator<MimePart> {
    yield this;
    for (const c of this.children) yield* c.walk();
    if (this.message) yield* this.message.walk();
  }
}

function trimmedOrNull(v: string | undefined): string | null {
  if (v === undefined) return null;
  return v.trim();
}

function filenameOf(part: MimePart): string | undefined {
  const d = part.disposition;
  if (d) {
    const f = decodeParams(d.params).get("filename");
    if (f) return f;
  }
  return decodeParams(part.params).get("name") || undefined;
}

/** Options for {@link parseMessage}. */
export interface ParseOptions {
  /** Nesting limit (default {@link MAX_DEPTH}). */
  maxDepth?: number;
}

interface Found {
  lineStart: number;
  lineEnd: number;
  level: number;
  close: boolean;
}

class Parser {
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly maxDepth: number;
  readonly stack: Uint8Array[] = [];

  constructor(bytes: Uint8Array, maxDepth: number) {
    this.bytes = bytes;
    this.end = bytes.length;
    this.maxDepth = maxDepth;
  }

  /** Which boundary (index in the stack, innermost first) the line at `ls` starts with, or -1. */
  matchLine(ls: number): number {
    const b = this.bytes;
    if (b[ls] !== 0x2d || b[ls + 1] !== 0x2d) return -1;
    for (let level = this.stack.length - 1; level >= 0; level--) {
      const bd = this.stack[level];
      if (ls + 2 + bd.length > this.end) continue;
      let ok = true;
      for (let k = 0; k < bd.length; k++) {
        if (b[ls + 2 + k] !== bd[k]) {
          ok = false;
          break;
        }
      }
      if (ok) return level;
    }
    return -1;
  }

  lineEndOf(ls: number): number {
    const nl = this.bytes.indexOf(LF, ls);
    return nl < 0 || nl >= this.end ? this.end : nl + 1;
  }

  /** First boundary line at or after `pos` (a line start), or null. */
  find(pos: number): Found | null {
    if (this.stack.length === 0) return null;
    const b = this.bytes;
    let ls = pos;
    while (ls < this.end) {
      const level = this.matchLine(ls);
      const le = this.lineEndOf(ls);
      if (level >= 0) {
        const after = ls + 2 + this.stack[level].length;
        const close = after + 1 < this.end && b[after] === 0x2d && b[after + 1] === 0x2d;
        return { lineStart: ls, lineEnd: le, level, close };
      }
      ls = le;
    }
    return null;
  }

  /** End of a body that is followed by the boundary line at `ls` (its line break excluded). */
  bodyEndBefore(ls: number, bodyStart: number): number {
    let e = ls;
    if (e > bodyStart && this.bytes[e - 1] === LF) {
      e--;
      if (e > bodyStart && this.bytes[e - 1] === CR) e--;
    }
    return e;
  }

  entity(
    start: number,
    path: readonly number[],
    defaultType: ContentType,
    depth: number,
  ): { part: MimePart; stop: Found | null } {
    const stopAt = this.stack.length ? (ls: number) => this.matchLine(ls) >= 0 : undefined;
    const hb = parseHeader(this.bytes, start, this.end, stopAt);
    const ctValue = hb.header.get("content-type");
    const parsedCt = ctValue === undefined ? null : parseContentType(ctValue);
    const ct = parsedCt ?? defaultType;
    const bodyStart = hb.end;
    const make = (bodyEnd: number) =>
      new MimePart(
        this.bytes,
        path,
        hb.header,
        [hb.start, hb.end],
        [bodyStart, Math.max(bodyStart, bodyEnd)],
        ct,
        parsedCt !== null,
      );

    const nested = depth < this.maxDepth;
    if (ct.type === "multipart") {
      const boundary = getParam(ct.params, "boundary");
      if (nested && boundary) {
        const bd = new Uint8Array(boundary.length);
        for (let i = 0; i < boundary.length; i++) bd[i] = boundary.charCodeAt(i) & 0xff;
        this.stack.push(bd);
        const top = this.stack.length - 1;
        const childDefault = ct.subtype === "digest" ? DEFAULT_MESSAGE : DEFAULT_TEXT;
        const children: MimePart[] = [];
        let found = this.find(bodyStart);
        let popped = false;
        // The close delimiter line keeps its line break even when an outer boundary follows at
        // once (Dovecot counts it in the multipart's body).
        let minEnd = bodyStart;
        while (found) {
          if (found.level !== top) break;
          if (found.close) {
            this.stack.pop();
            popped = true;
            minEnd = found.lineEnd;
            found = this.find(found.lineEnd);
            break;
          }
          const child = this.entity(
            found.lineEnd,
            [...path, children.length + 1],
            childDefault,
            depth + 1,
          );
          children.push(child.part);
          found = child.stop;
        }
        if (!popped) this.stack.pop();
        const part = make(
          found ? Math.max(minEnd, this.bodyEndBefore(found.lineStart, bodyStart)) : this.end,
        );
        for (const c of children) part.children.push(c);
        return { part, stop: found };
      }
    } else if (ct.type === "message" && ct.subtype === "rfc822" && nested) {
      const inner = this.entity(bodyStart, path, DEFAULT_TEXT, depth + 1);
      // The encapsulated message ends where its body ends (a header cut short by a boundary
      // keeps its last line break, as Dovecot counts it).
      const part = make(inner.part.body[1]);
      part.message = inner.part;
      return { part, stop: inner.stop };
    }
    const found = this.find(bodyStart);
    return {
      part: make(found ? this.bodyEndBefore(found.lineStart, bodyStart) : this.end),
      stop: found,
    };
  }
}

/**
 * Parses a message into its MIME tree. Never throws; any byte sequence gives a tree.
 */
export function parseMessage(bytes: Uint8Array, options: ParseOptions = {}): MimePart {
  const p = new Parser(bytes, options.maxDepth ?? MAX_DEPTH);
  return p.entity(0, [], DEFAULT_TEXT, 0).part;
}
