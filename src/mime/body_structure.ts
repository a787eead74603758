/**
 * BODYSTRUCTURE and BODY (RFC 3501 §7.4.2) from a parsed MIME tree, in the exact wire form
 * Dovecot sends (checked against Dovecot 2.3 on the torture corpus):
 *
 * - type, subtype, parameter names and the transfer encoding as written in the message; when
 *   there is no usable Content-Type, `"text" "plain" ("charset" "us-ascii")`; a `text/*` part
 *   without a charset parameter gets `"charset" "us-ascii"` appended;
 * - RFC 2231 continuations joined (`filename*0*`, `filename*1` → `filename*`), values not decoded;
 * - encoding `"7bit"` when absent; size in octets of the body as stored; lines for `text/*` and
 *   `message/rfc822`; `message/rfc822` carries the encapsulated message's ENVELOPE, structure and
 *   line count;
 * - extension data (BODYSTRUCTURE only): MD5, disposition, language, location for single parts;
 *   parameters, disposition, language, location for multiparts;
 * - a multipart without parts is given one empty `text/plain` part, since the grammar needs one.
 *
 * @module
 */
import { ByteWriter } from "./_bytes.ts";
import type { MimePart } from "./entity.ts";
import { envelopeOf, writeEnvelope } from "./envelope.ts";
import { parseHeader } from "./header.ts";
import { imapNStringBinary, imapStringBinary } from "./imap_string.ts";
import { joinContinuations, type RawParam } from "./params.ts";

const EMPTY_PART_EXT = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';
const EMPTY_PART = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';

function str(w: ByteWriter, s: string): void {
  w.binary(imapStringBinary(s));
}

function nstr(w: ByteWriter, s: string | null): void {
  w.binary(imapNStringBinary(s));
}

function writeParams(w: ByteWriter, params: readonly RawParam[]): void {
  if (params.length === 0) {
    w.binary("NIL");
    return;
  }
  w.binary("(");
  params.forEach((p, i) => {
    if (i) w.binary(" ");
    str(w, p.name);
    w.binary(" ");
    str(w, p.value);
  });
  w.binary(")");
}

function writeDisposition(w: ByteWriter, part: MimePart): void {
  const d = part.disposition;
  if (!d) {
    w.binary("NIL");
    return;
  }
  w.binary("(");
  str(w, d.value);
  w.binary(" ");
  writeParams(w, joinContinuations(d.params));
  w.binary(")");
}

function writeLanguage(w: ByteWriter, part: MimePart): void {
  const l = part.language;
  if (!l) {
    w.binary("NIL");
    return;
  }
  w.binary("(");
  l.forEach((t, i) => {
    if (i) w.binary(" ");
    str(w, t);
  });
  w.binary(")");
}

/** Parameters as BODYSTRUCTURE reports them for a single part. */
function singleParams(part: MimePart): RawParam[] {
  const params = joinContinuations(part.params);
  if (part.type === "text" && !params.some((p) => p.name.toLowerCase() === "charset")) {
    params.push({ name: "charset", value: "us-ascii" });
  }
  return params;
}

function writePart(w: ByteWriter, part: MimePart, ext: boolean): void {
  if (part.isMultipart) {
    w.binary("(");
    if (part.children.length === 0) w.binary(ext ? EMPTY_PART_EXT : EMPTY_PART);
    for (const c of part.children) writePart(w, c, ext);
    w.binary(" ");
    str(w, part.contentType.rawSubtype);
    if (ext) {
      w.binary(" ");
      writeParams(w, joinContinuations(part.params));
      w.binary(" ");
      writeDisposition(w, part);
      w.binary(" ");
      writeLanguage(w, part);
      w.binary(" ");
      nstr(w, part.location);
    }
    w.binary(")");
    return;
  }
  const ct = part.contentType;
  w.binary("(");
  str(w, ct.rawType);
  w.binary(" ");
  str(w, ct.rawSubtype);
  w.binary(" ");
  writeParams(w, singleParams(part));
  w.binary(" ");
  nstr(w, part.id);
  w.binary(" ");
  nstr(w, part.description);
  w.binary(" ");
  str(w, part.encoding ?? "7bit");
  w.binary(` ${part.size}`);
  if (ct.type === "message" && ct.subtype === "rfc822") {
    const inner = part.message ?? unparsedMessage(part);
    w.binary(" ");
    writeEnvelope(w, envelopeOf(inner.header));
    w.binary(" ");
    writePart(w, inner, ext);
    w.binary(` ${part.lines}`);
  } else if (ct.type === "text") {
    w.binary(` ${part.lines}`);
  }
  if (ext) {
    w.binary(" ");
    nstr(w, part.md5);
    w.binary(" ");
    writeDisposition(w, part);
    w.binary(" ");
    writeLanguage(w, part);
    w.binary(" ");
    nstr(w, part.location);
  }
  w.binary(")");
}

/**
 * Stand-in for an encapsulated message that was not parsed (nesting limit): its header is read,
 * its body is one opaque part, so the wire form stays grammatical.
 */
function unparsedMessage(part: MimePart): MimePart {
  const hb = parseHeader(part.source, part.body[0], part.body[1]);
  // deno-lint-ignore no-explicit-any
  const Ctor = part.constructor as any;
  return new Ctor(
    part.source,
    part.path,
    hb.header,
    [hb.start, hb.end],
    [hb.end, part.body[1]],
    { type: "text", subtype: "plain", rawType: "text", rawSubtype: "plain", params: [] },
    false,
  ) as MimePart;
}

/** Writes BODYSTRUCTURE (`extensible` true) or BODY (false) of a part into `w`. */
export function writeBodyStructure(w: ByteWriter, part: MimePart, extensible: boolean): void {
  writePart(w, part, extensible);
}

/** BODYSTRUCTURE of a parsed message, as wire bytes. */
export function bodyStructure(root: MimePart): Uint8Array {
  const w = new ByteWriter();
  writePart(w, root, true);
  return w.finish();
}

/** BODY (non-extensible BODYSTRUCTURE) of a parsed message, as wire bytes. */
export function body(root: MimePart): Uint8Array {
  const w = new ByteWriter();
  writePart(w, root, false);
  return w.finish();
}
