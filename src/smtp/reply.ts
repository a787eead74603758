/**
 * SMTP replies: a code, an RFC 3463 enhanced status code (RFC 2034 `ENHANCEDSTATUSCODES`) and
 * human text, formatted as one or more `code[-| ]enhanced text` lines.
 *
 * RFC 2034 §3: every 2xx/4xx/5xx reply carries the enhanced code on each of its lines, except the
 * greeting and the replies to `HELO`/`EHLO`; `334` (SASL) and `354` (start mail input) carry none.
 *
 * @module
 */

/** One reply. */
export interface SmtpReply {
  /** Three-digit reply code (RFC 5321 §4.2). */
  code: number;
  /** Enhanced status code such as `"5.5.1"`, or none (greeting, EHLO, 334, 354). */
  enhanced?: string;
  /** Text lines; at least one (may be empty for `334 `). */
  lines: string[];
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;
const MAX_TEXT = 480;

/** Makes a one-line reply. */
export function reply(code: number, enhanced: string | undefined, text: string): SmtpReply {
  return { code, enhanced, lines: [text] };
}

/**
 * Makes reply text safe for the wire: control characters (CR, LF, NUL …) and non-ASCII become
 * spaces or `?`, runs of spaces collapse, and the text is cut to a sane length. Error messages
 * from other layers pass through here, so they can never inject a reply line.
 */
export function sanitizeText(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f) out += " ";
    else if (c > 0x7e) out += "?";
    else out += ch;
  }
  out = out.replace(/ {2,}/g, " ").trim();
  return out.length > MAX_TEXT ? out.slice(0, MAX_TEXT - 3) + "..." : out;
}

/**
 * The wire form of a reply, every line ended by CRLF.
 *
 * @example
 * ```ts
 * const text = formatReply({ code: 250, enhanced: "2.0.0", lines: ["OK"] });
 * console.log(JSON.stringify(text)); // "250 2.0.0 OK\r\n"
 * ```
 */
export function formatReply(r: SmtpReply): string {
  if (!Number.isInteger(r.code) || r.code < 200 || r.code > 599) {
    throw new RangeError(`bad SMTP reply code ${r.code}`);
  }
  if (r.enhanced !== undefined && !ENHANCED.test(r.enhanced)) {
    throw new RangeError(`bad enhanced status code ${r.enhanced}`);
  }
  const lines = r.lines.length ? r.lines : [""];
  let out = "";
  lines.forEach((line, i) => {
    const sep = i === lines.length - 1 ? " " : "-";
    const text = sanitizeText(line);
    const body = r.enhanced ? (text ? `${r.enhanced} ${text}` : r.enhanced) : text;
    out += `${r.code}${sep}${body}\r\n`;
  });
  return out;
}

/** Whether `enhanced` is a well-formed enhanced status code whose class matches `code`. */
export function enhancedMatches(code: number, enhanced: string): boolean {
  return ENHANCED.test(enhanced) && enhanced[0] === String(code)[0];
}
