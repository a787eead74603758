/**
 * Section bytes for `FETCH BODY[section]<partial>` (RFC 3501 §6.4.5), cut from the parsed tree
 * over the original bytes.
 *
 * Part numbers: the children of a multipart are numbered from 1; a message that is not multipart
 * has a single part 1 (its body); the numbers after a `message/rfc822` part continue into the
 * encapsulated message. `MIME` is the header of the addressed part (for part 1 of a
 * non-multipart message, the message header, as Dovecot does); `HEADER`, `TEXT` and
 * `HEADER.FIELDS` after a part number address the encapsulated message of a `message/rfc822`
 * part. Like Dovecot, part 1 of a leaf inside a multipart is that leaf again (`1.1` = `1`). A
 * section that does not exist gives empty bytes (Dovecot answers `""` too).
 *
 * @module
 */
import type { MimePart } from "./entity.ts";
import { selectHeaderFields } from "./header.ts";

/** A parsed section specifier. */
export interface Section {
  /** Part number (`[]` for the whole message). */
  readonly path: readonly number[];
  /** What to take from the addressed part; undefined for the part's body (or whole message). */
  readonly specifier?: "HEADER" | "TEXT" | "MIME" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT";
  /** Field names for `HEADER.FIELDS` / `HEADER.FIELDS.NOT`. */
  readonly fields?: readonly string[];
}

/**
 * Parses the text between the brackets of `BODY[...]` (`""`, `1.2`, `HEADER`,
 * `2.HEADER.FIELDS (From "Subject")`, …). Returns null when it is not a valid section.
 */
export function parseSection(text: string): Section | null {
  const s = text.trim();
  if (s === "") return { path: [] };
  const m = /^((?:[1-9]\d*)(?:\.[1-9]\d*)*)?(?:^|\.|$)(.*)$/s.exec(s);
  if (!m) return null;
  const path = m[1] ? m[1].split(".").map(Number) : [];
  if (path.some((n) => !Number.isSafeInteger(n))) return null;
  const rest = m[2];
  if (rest === "") return path.length ? { path } : null;
  const up = rest.toUpperCase();
  if (up === "HEADER" || up === "TEXT") return { path, specifier: up };
  if (up === "MIME") return path.length ? { path, specifier: "MIME" } : null;
  const f = /^(HEADER\.FIELDS(?:\.NOT)?)\s*\((.*)\)$/is.exec(rest);
  if (!f) return null;
  const fields: string[] = [];
  for (const t of f[2].matchAll(/"((?:[^"\\]|\\.)*)"|([^\s"()]+)/g)) {
    fields.push(t[1] !== undefined ? t[1].replace(/\\(.)/g, "$1") : t[2]);
  }
  if (fields.length === 0) return null;
  return {
    path,
    specifier: f[1].toUpperCase() as "HEADER.FIELDS" | "HEADER.FIELDS.NOT",
    fields,
  };
}

/**
 * Finds the body part a part number addresses (RFC 3501 §6.4.5), or null. The top-level
 * message's part 1, when it is not multipart, is the message itself.
 */
export function findPart(root: MimePart, path: readonly number[]): MimePart | null {
  let x: MimePart | null = null;
  let xIsMessage = false;
  let selfStep = false;
  for (const n of path) {
    let msg: MimePart | null;
    if (x === null) msg = root;
    else if (x.isMultipart) {
      x = x.children[n - 1] ?? null;
      xIsMessage = false;
      selfStep = false;
      if (!x) return null;
      continue;
    } else if (!x.message && !xIsMessage) {
      // Dovecot quirk kept for compatibility: part 1 of a leaf body part is the part itself
      // (once: `1.1` is `1`, `1.1.1` does not exist).
      if (n !== 1 || selfStep) return null;
      selfStep = true;
      continue;
    } else msg = x.message;
    if (!msg) return null;
    selfStep = false;
    if (msg.isMultipart) {
      x = msg.children[n - 1] ?? null;
      xIsMessage = false;
    } else {
      x = n === 1 ? msg : null;
      xIsMessage = true;
    }
    if (!x) return null;
  }
  return x;
}

const EMPTY = new Uint8Array(0);

/**
 * The bytes of a section of a parsed message, optionally cut to `<offset.length>` (a view into
 * the original bytes, or a new array for `HEADER.FIELDS`).
 */
export function sectionBytes(
  root: MimePart,
  section: Section | string,
  partial?: { readonly offset: number; readonly length?: number },
): Uint8Array {
  const sec = typeof section === "string" ? parseSection(section) : section;
  const data = sec ? resolve(root, sec) : EMPTY;
  return partial ? slicePartial(data, partial.offset, partial.length) : data;
}

function resolve(root: MimePart, sec: Section): Uint8Array {
  let target: MimePart;
  if (sec.path.length === 0) {
    if (!sec.specifier) return root.source;
    target = root;
  } else {
    const x = findPart(root, sec.path);
    if (!x) return EMPTY;
    if (!sec.specifier) return x.bodyData();
    if (sec.specifier === "MIME") return x.headerData();
    if (!x.message) return EMPTY;
    target = x.message;
  }
  switch (sec.specifier) {
    case "HEADER":
      return target.headerData();
    case "TEXT":
      return target.bodyData();
    case "HEADER.FIELDS":
      return selectHeaderFields(target.header, sec.fields ?? [], false);
    case "HEADER.FIELDS.NOT":
      return selectHeaderFields(target.header, sec.fields ?? [], true);
    default:
      return EMPTY;
  }
}

/** `<offset.length>` partial fetch: bytes from `offset`, at most `length` of them. */
export function slicePartial(data: Uint8Array, offset: number, length?: number): Uint8Array {
  if (offset >= data.length) return EMPTY;
  const end = length === undefined ? data.length : Math.min(data.length, offset + length);
  return data.subarray(offset, end);
}
