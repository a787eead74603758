/**
 * The FETCH item list (RFC 3501 §6.4.5, RFC 7162 §3.1.4): parsing `ALL`, `FAST`, `FULL`, a single
 * item or a parenthesised list, and the `(CHANGEDSINCE n)` modifier, into a {@link FetchRequest}
 * that says what each message's response holds and what has to be loaded for it (index row,
 * stored header block, literal).
 *
 * Body sections arrive from the reader as `section` tokens (`BODY.PEEK[1.HEADER.FIELDS (From)]<0.9>`
 * is one token). Each becomes a {@link BodySectionItem} with the label written in the response
 * (`BODY[1.HEADER.FIELDS (From)]<0>`: no `.PEEK`, only the origin of a partial range, field names
 * as the client sent them). `RFC822`, `RFC822.HEADER` and `RFC822.TEXT` are the sections `[]`,
 * `[HEADER]` (peek) and `[TEXT]` under their own labels.
 *
 * @module
 */
import type { Section } from "../../mime/mod.ts";
import type { Decoder, SectionToken, Token } from "../wire/mod.ts";

/** A FETCH data item without a section. */
export type FetchAttribute =
  | "UID"
  | "FLAGS"
  | "MODSEQ"
  | "INTERNALDATE"
  | "RFC822.SIZE"
  | "ENVELOPE"
  | "BODYSTRUCTURE"
  | "BODY";

/** `BODY[section]<partial>`, `BODY.PEEK[…]`, `RFC822`, `RFC822.HEADER` or `RFC822.TEXT`. */
export interface BodySectionItem {
  readonly kind: "section";
  /** What the response names it (ASCII, no CR/LF): `BODY[TEXT]<0>`, `RFC822.HEADER`, … */
  readonly label: string;
  /** The section to cut (see `sectionBytes` in src/mime). */
  readonly section: Section;
  /** `<offset.length>` (length absent: to the end). */
  readonly partial?: { readonly offset: number; readonly length?: number };
  /** False when fetching it sets `\Seen` (BODY[…], RFC822, RFC822.TEXT). */
  readonly peek: boolean;
  /**
   * True when the top-level header block is enough (HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT of
   * the message itself): served from the index without loading the literal.
   */
  readonly headerOnly: boolean;
}

/** One requested item. */
export type FetchItem = FetchAttribute | BodySectionItem;

/** A parsed FETCH request (without the message set). */
export interface FetchRequest {
  /** Items in the order requested, duplicates removed. */
  readonly items: readonly FetchItem[];
  /** `(CHANGEDSINCE n)` (RFC 7162 §3.1.4.1). */
  readonly changedSince?: bigint;
  /** The `VANISHED` modifier (RFC 7162 §3.2.6); the command checks where it is allowed. */
  readonly vanished?: boolean;
}

const MACROS: Record<string, readonly FetchAttribute[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

const ATTRIBUTES = new Set<string>([
  "UID",
  "FLAGS",
  "MODSEQ",
  "INTERNALDATE",
  "RFC822.SIZE",
  "ENVELOPE",
  "BODYSTRUCTURE",
  "BODY",
]);

const SPECIFIERS = new Set(["HEADER", "TEXT", "MIME", "HEADER.FIELDS", "HEADER.FIELDS.NOT"]);

/** RFC 5322 field names: printable ASCII except the colon. */
const FIELD_NAME_REGEXP = /^[\x21-\x39\x3b-\x7e]+$/;
/** Field names that can be echoed as an atom (no quoted-specials, parentheses, braces, `%*`). */
const ATOM_FIELD_REGEXP = /^[\x21\x23-\x24\x26-\x27\x2b-\x39\x3b-\x5a\x5e-\x7a\x7c\x7e]+$/;

/**
 * Parses the FETCH arguments after the sequence set. Errors are recorded on `args` (check
 * `args.end()` afterwards); the returned request is then meaningless.
 */
export function parseFetchRequest(args: Decoder): FetchRequest {
  const items: FetchItem[] = [];
  const seen = new Set<string>();
  const add = (item: FetchItem | undefined) => {
    if (item === undefined) return;
    const key = typeof item === "string" ? item : `${item.label}.${item.partial?.length ?? ""}`;
    if (seen.has(key)) return;
    seen.add(key);
    items.push(item);
  };
  const list = args.optionalList();
  if (list) {
    if (list.atEnd()) args.fail("Expected at least one FETCH item");
    while (!list.atEnd() && list.ok) {
      for (const item of parseItem(list, true)) add(item);
    }
  } else {
    for (const item of parseItem(args, true)) add(item);
  }
  let changedSince: bigint | undefined;
  let vanished = false;
  const modifiers = args.optionalList();
  if (modifiers) {
    if (modifiers.atEnd()) args.fail("Expected a FETCH modifier");
    while (!modifiers.atEnd() && modifiers.ok) {
      const name = modifiers.expectKeyword();
      if (name === "CHANGEDSINCE") changedSince = modifiers.expectModSeq();
      else if (name === "VANISHED") vanished = true;
      else if (name !== "") modifiers.fail(`Unknown FETCH modifier ${name}`);
    }
  }
  return {
    items,
    ...(changedSince === undefined ? {} : { changedSince }),
    ...(vanished ? { vanished } : {}),
  };
}

function parseItem(d: Decoder, allowMacro: boolean): FetchItem[] {
  const t = d.peek();
  if (t?.kind === "section") {
    d.take();
    const item = parseSectionToken(d, t);
    return item ? [item] : [];
  }
  const word = d.expectKeyword();
  if (word === "") return [];
  if (allowMacro && word in MACROS) return [...MACROS[word]];
  if (ATTRIBUTES.has(word)) return [word as FetchAttribute];
  switch (word) {
    case "RFC822":
      return [{
        kind: "section",
        label: "RFC822",
        section: { path: [] },
        peek: false,
        headerOnly: false,
      }];
    case "RFC822.HEADER":
      return [{
        kind: "section",
        label: "RFC822.HEADER",
        section: { path: [], specifier: "HEADER" },
        peek: true,
        headerOnly: true,
      }];
    case "RFC822.TEXT":
      return [{
        kind: "section",
        label: "RFC822.TEXT",
        section: { path: [], specifier: "TEXT" },
        peek: false,
        headerOnly: false,
      }];
  }
  d.fail(`Unknown FETCH item ${word.slice(0, 40)}`);
  return [];
}

function parseSectionToken(d: Decoder, t: SectionToken): BodySectionItem | undefined {
  const name = t.name.toUpperCase();
  if (name !== "BODY" && name !== "BODY.PEEK") {
    d.fail(`Unknown FETCH item ${name.slice(0, 40)}[…]`);
    return undefined;
  }
  const parsed = parseSectionSpec(t.spec);
  if (typeof parsed === "string") {
    d.fail(parsed);
    return undefined;
  }
  const { section, text } = parsed;
  let label = `BODY[${text}]`;
  let partial: BodySectionItem["partial"];
  if (t.partial) {
    label += `<${t.partial.offset}>`;
    partial = t.partial.length === undefined
      ? { offset: t.partial.offset }
      : { offset: t.partial.offset, length: t.partial.length };
  }
  const headerOnly = section.path.length === 0 &&
    (section.specifier === "HEADER" || section.specifier === "HEADER.FIELDS" ||
      section.specifier === "HEADER.FIELDS.NOT");
  const item: BodySectionItem = {
    kind: "section",
    label,
    section,
    peek: name === "BODY.PEEK",
    headerOnly,
  };
  return partial ? { ...item, partial } : item;
}

/** Parses the tokens between the brackets; returns an error message on failure. */
function parseSectionSpec(spec: readonly Token[]): { section: Section; text: string } | string {
  if (spec.length === 0) return { section: { path: [] }, text: "" };
  const first = spec[0];
  const word = first.kind === "atom"
    ? first.value
    : first.kind === "number"
    ? first.text
    : undefined;
  if (word === undefined) return "Invalid section specifier";
  const segments = word.split(".");
  const path: number[] = [];
  while (segments.length > 0 && /^[0-9]+$/.test(segments[0])) {
    const s = segments.shift()!;
    const n = Number(s);
    if (!/^[1-9][0-9]{0,8}$/.test(s)) return `Invalid section part number ${s.slice(0, 12)}`;
    path.push(n);
  }
  const rest = segments.join(".").toUpperCase();
  const pathText = path.join(".");
  if (rest === "") {
    if (spec.length > 1) return "Unexpected data in a section specifier";
    return { section: { path }, text: pathText };
  }
  if (!SPECIFIERS.has(rest)) return `Invalid section specifier ${rest.slice(0, 40)}`;
  const prefix = pathText === "" ? "" : pathText + ".";
  if (rest === "MIME" && path.length === 0) return "MIME needs a part number";
  if (rest !== "HEADER.FIELDS" && rest !== "HEADER.FIELDS.NOT") {
    if (spec.length > 1) return "Unexpected data in a section specifier";
    return {
      section: { path, specifier: rest as "HEADER" | "TEXT" | "MIME" },
      text: prefix + rest,
    };
  }
  const list = spec[1];
  if (spec.length !== 2 || list?.kind !== "list" || list.items.length === 0) {
    return `${rest} needs a list of header field names`;
  }
  const fields: string[] = [];
  for (const item of list.items) {
    const field = fieldName(item);
    if (field === undefined) return "Invalid header field name";
    fields.push(field);
  }
  const echoed = fields.map((f) => ATOM_FIELD_REGEXP.test(f) ? f : quote(f)).join(" ");
  return {
    section: { path, specifier: rest, fields },
    text: `${prefix}${rest} (${echoed})`,
  };
}

function fieldName(token: Token): string | undefined {
  let name: string | undefined;
  switch (token.kind) {
    case "atom":
      name = token.value;
      break;
    case "number":
      name = token.text;
      break;
    case "nil":
      name = token.text;
      break;
    case "quoted":
    case "literal":
      name = String.fromCharCode(...token.bytes.subarray(0, 1000));
      if (token.bytes.length > 1000) return undefined;
      break;
    default:
      return undefined;
  }
  return FIELD_NAME_REGEXP.test(name) ? name : undefined;
}

function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, "\\$&") + '"';
}

/**
 * Whether any item needs the full index row (INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE,
 * BODY); flags, UID, MODSEQ and body sections need only the flag columns and the message ID.
 */
export function needsFetchRow(request: FetchRequest): boolean {
  return request.items.some((i) =>
    typeof i === "string" && i !== "UID" && i !== "FLAGS" && i !== "MODSEQ"
  );
}

/** Whether fetching sets `\Seen` (a non-peek body section, RFC 3501 §6.4.5). */
export function setsSeen(request: FetchRequest): boolean {
  return request.items.some((i) => typeof i !== "string" && !i.peek);
}
