/**
 * Parsing of the arguments of `MAIL FROM:` and `RCPT TO:` (RFC 5321 §4.1.2, §3.3): a path in
 * angle brackets, then ESMTP parameters `KEYWORD[=value]`.
 *
 * Leniencies that real clients need and that cost nothing: spaces after the colon
 * (`MAIL FROM: <a@b>`), a path without angle brackets when it has no spaces, several spaces
 * between parameters. A source route (`<@relay:user@host>`) is accepted and dropped as RFC 5321
 * §4.1.2 asks. Non-ASCII addresses are only valid with `SMTPUTF8` (RFC 6531); the caller checks
 * that, because the flag comes from the same `MAIL` command.
 *
 * @module
 */
import { reply, type SmtpReply } from "./reply.ts";

/** A refusal of a command's arguments, with the reply to send. */
export class ArgumentError extends Error {
  override name = "ArgumentError";
  /** The reply for the client. */
  readonly reply: SmtpReply;
  constructor(code: number, enhanced: string, text: string) {
    super(text);
    this.reply = reply(code, enhanced, text);
  }
}

/** A parsed `MAIL FROM:` or `RCPT TO:` argument. */
export interface EnvelopeArgs {
  /** The address without angle brackets or source route; empty for the null path `<>`. */
  address: string;
  /** Whether the address has non-ASCII characters (needs SMTPUTF8). */
  nonAscii: boolean;
  /** Parameters, keywords upper-cased; `null` for a keyword without a value. */
  params: Map<string, string | null>;
}

/** Longest path, brackets included (RFC 5321 §4.5.3.1.3). */
export const MAX_PATH_LENGTH = 256;

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\u0080-\u{10FFFF}]+$/u;
const DOMAIN = /^[A-Za-z0-9\-.\u0080-\u{10FFFF}]+$/u;
const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
// esmtp-value: any printable character except "=" and space (RFC 5321 §4.1.2), UTF-8 allowed.
const VALUE = /^[!-<>-~\u0080-\u{10FFFF}]+$/u;

/**
 * Parses the argument of `MAIL` (`prefix` "FROM") or `RCPT` (`prefix` "TO").
 *
 * @example
 * ```ts
 * const a = parseEnvelopeArgs("FROM:<alice@example.com> SIZE=1200 BODY=8BITMIME", "FROM");
 * console.log(a.address, a.params.get("SIZE")); // alice@example.com 1200
 * ```
 */
export function parseEnvelopeArgs(arg: string, prefix: "FROM" | "TO"): EnvelopeArgs {
  const isMail = prefix === "FROM";
  const syntaxCode = isMail ? "5.1.7" : "5.1.3";
  const usage = isMail ? "MAIL FROM:<address>" : "RCPT TO:<address>";
  const head = prefix + ":";
  if (arg.slice(0, head.length).toUpperCase() !== head) {
    throw new ArgumentError(501, "5.5.4", `Syntax: ${usage}`);
  }
  let rest = arg.slice(head.length).replace(/^ +/, "");
  let path: string;
  if (rest.startsWith("<")) {
    const end = closingBracket(rest);
    if (end < 0) throw new ArgumentError(501, syntaxCode, `Unterminated address; use ${usage}`);
    path = rest.slice(1, end);
    rest = rest.slice(end + 1);
    if (rest !== "" && !rest.startsWith(" ")) {
      throw new ArgumentError(501, syntaxCode, `Unexpected text after the address; use ${usage}`);
    }
  } else {
    const sp = rest.indexOf(" ");
    path = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? "" : rest.slice(sp);
    if (path === "") throw new ArgumentError(501, syntaxCode, `Missing address; use ${usage}`);
  }
  if (new TextEncoder().encode(path).length + 2 > MAX_PATH_LENGTH) {
    throw new ArgumentError(501, syntaxCode, "Address too long");
  }
  const address = checkAddress(stripSourceRoute(path), isMail, syntaxCode);
  return {
    address,
    nonAscii: hasNonAscii(address),
    params: parseParams(rest),
  };
}

/** Index of the `>` closing a path that starts at 0, skipping quoted local parts; -1 if none. */
function closingBracket(s: string): number {
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ">") return i;
  }
  return -1;
}

function stripSourceRoute(path: string): string {
  if (!path.startsWith("@")) return path;
  const colon = path.indexOf(":");
  return colon < 0 ? path : path.slice(colon + 1);
}

function checkAddress(addr: string, isMail: boolean, code: string): string {
  if (addr === "") {
    if (isMail) return "";
    throw new ArgumentError(501, code, "Empty recipient address");
  }
  if (!isMail && addr.toLowerCase() === "postmaster") return addr;
  if (hasControl(addr)) {
    throw new ArgumentError(501, code, "Control characters in the address");
  }
  const at = lastUnquotedAt(addr);
  if (at <= 0 || at === addr.length - 1) {
    throw new ArgumentError(501, code, `Address must be local-part@domain: ${addr}`);
  }
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  const quotedOk = local.startsWith('"') && local.endsWith('"') && local.length >= 2 &&
    /^"(?:[^"\\]|\\.)*"$/s.test(local);
  if (!quotedOk && !ATEXT.test(local)) {
    throw new ArgumentError(501, code, `Bad local part in address: ${addr}`);
  }
  const literal = domain.startsWith("[") && domain.endsWith("]") && !/[\[\]\\ ]/.test(
    domain.slice(1, -1),
  );
  if (!literal && (!DOMAIN.test(domain) || domain.startsWith(".") || domain.includes(".."))) {
    throw new ArgumentError(501, code, `Bad domain in address: ${addr}`);
  }
  return addr;
}

function lastUnquotedAt(addr: string): number {
  let quoted = false;
  let at = -1;
  for (let i = 0; i < addr.length; i++) {
    const c = addr[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "@") at = i;
  }
  return at;
}

function parseParams(rest: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  for (const word of rest.split(" ")) {
    if (word === "") continue;
    const eq = word.indexOf("=");
    const key = (eq < 0 ? word : word.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? null : word.slice(eq + 1);
    if (!KEYWORD.test(key)) throw new ArgumentError(501, "5.5.4", `Bad parameter: ${word}`);
    if (value !== null && !VALUE.test(value)) {
      throw new ArgumentError(501, "5.5.4", `Bad value of parameter ${key}`);
    }
    if (params.has(key)) throw new ArgumentError(501, "5.5.4", `Parameter ${key} given twice`);
    params.set(key, value);
  }
  return params;
}

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
