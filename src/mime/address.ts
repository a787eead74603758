/**
 * RFC 5322 address lists: parsing into the four-field form IMAP's ENVELOPE needs
 * (name, source route, mailbox, host, with group markers), a decoded convenience form, and
 * Go-compatible formatting (`net/mail.Address.String`) for the builder.
 *
 * Parsing follows Dovecot's conventions so that ENVELOPE matches what clients know from it:
 * display names keep encoded words undecoded, quoted strings are unquoted, a missing domain becomes
 * `MISSING_DOMAIN`, a missing mailbox `MISSING_MAILBOX`, a comment after an address without a
 * display name becomes the name, and on a syntax error the address parsed so far is returned with
 * host `SYNTAX_ERROR` and parsing stops. It never throws.
 *
 * @module
 */
import { binaryToText } from "./_bytes.ts";
import { decodeEncodedWords, encodeWordB, encodeWordQ } from "./encoded_word.ts";

/**
 * One ENVELOPE address (RFC 3501 §7.4.2). Values are raw header bytes as binary strings.
 * A group start is `{name: null, adl: null, mailbox: <group name>, host: null}` and a group end has
 * all four null.
 */
export interface EnvelopeAddress {
  /** Display name (phrase), encoded words kept, or null. */
  readonly name: string | null;
  /** Source route (`@a,@b`), or null. */
  readonly adl: string | null;
  /** Local part, group name, or null (group end). */
  readonly mailbox: string | null;
  /** Domain, or null for group markers. */
  readonly host: string | null;
}

/** Placeholder host for an address without a domain (Dovecot's spelling). */
export const MISSING_DOMAIN = "MISSING_DOMAIN";
/** Placeholder mailbox for an address without a local part. */
export const MISSING_MAILBOX = "MISSING_MAILBOX";
/** Host given to the address at which parsing hit a syntax error. */
export const SYNTAX_ERROR = "SYNTAX_ERROR";

type TokKind = "atom" | "qstr" | "comment" | "dlit" | "special";
interface Tok {
  kind: TokKind;
  text: string;
}

const SPECIALS = '()<>[]:;@\\,."';

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      i++;
    } else if (c === '"') {
      let text = "";
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        if (s[i] !== "\r" && s[i] !== "\n") text += s[i];
        i++;
      }
      i++;
      out.push({ kind: "qstr", text });
    } else if (c === "(") {
      let depth = 0;
      let text = "";
      while (i < s.length) {
        const d = s[i++];
        if (d === "\\" && i < s.length) {
          text += s[i++];
          continue;
        }
        if (d === "(") {
          if (depth++ > 0) text += d;
        } else if (d === ")") {
          if (--depth === 0) break;
          text += d;
        } else text += d;
      }
      out.push({ kind: "comment", text });
    } else if (c === "[") {
      const end = s.indexOf("]", i);
      const stop = end < 0 ? s.length : end + 1;
      out.push({ kind: "dlit", text: s.slice(i, stop) });
      i = stop;
    } else if (SPECIALS.includes(c)) {
      out.push({ kind: "special", text: c });
      i++;
    } else {
      const start = i;
      while (i < s.length && !SPECIALS.includes(s[i]) && !" \t\r\n".includes(s[i])) i++;
      out.push({ kind: "atom", text: s.slice(start, i) });
    }
  }
  return out;
}

class AddressParser {
  #toks: Tok[];
  #i = 0;
  #lastComment: string | null = null;
  out: EnvelopeAddress[] = [];
  failed = false;

  constructor(s: string) {
    this.#toks = tokenize(s);
  }

  #peek(): Tok | undefined {
    while (this.#i < this.#toks.length && this.#toks[this.#i].kind === "comment") {
      this.#lastComment = this.#toks[this.#i].text;
      this.#i++;
    }
    return this.#toks[this.#i];
  }

  #next(): Tok | undefined {
    const t = this.#peek();
    if (t) this.#i++;
    return t;
  }

  #isSpecial(t: Tok | undefined, c: string): boolean {
    return !!t && t.kind === "special" && t.text === c;
  }

  /** Classifies the address starting at the cursor: 'group', 'nameaddr' or 'addrspec'. */
  #classify(): "group" | "nameaddr" | "addrspec" {
    for (let j = this.#i; j < this.#toks.length; j++) {
      const t = this.#toks[j];
      if (t.kind !== "special") continue;
      if (t.text === "<") return "nameaddr";
      if (t.text === ":") return "group";
      if (t.text === "," || t.text === ";" || t.text === "@" || t.text === ">") return "addrspec";
    }
    return "addrspec";
  }

  /** Phrase words up to (not including) the next special other than '.'. */
  #phrase(): string | null {
    const words: string[] = [];
    for (;;) {
      const t = this.#peek();
      if (!t) break;
      if (t.kind === "atom" || t.kind === "qstr") {
        words.push(t.text);
        this.#i++;
      } else if (this.#isSpecial(t, ".")) {
        // obs-phrase allows '.'; glue it to the previous word.
        if (words.length) words[words.length - 1] += ".";
        else words.push(".");
        this.#i++;
      } else break;
    }
    return words.length ? words.join(" ") : null;
  }

  parseList(): EnvelopeAddress[] {
    while (!this.failed) {
      const t = this.#peek();
      if (!t) break;
      if (this.#isSpecial(t, ",") || this.#isSpecial(t, ";")) {
        this.#i++;
        continue;
      }
      const kind = this.#classify();
      if (kind === "group") this.#group();
      else this.#mailbox();
    }
    return this.out;
  }

  #group(): void {
    const name = this.#phrase() ?? "";
    this.#next(); // ':'
    this.out.push({ name: null, adl: null, mailbox: name, host: null });
    for (;;) {
      const t = this.#peek();
      if (!t) break;
      if (this.#isSpecial(t, ";")) {
        this.#i++;
        break;
      }
      if (this.#isSpecial(t, ",")) {
        this.#i++;
        continue;
      }
      this.#mailbox();
      if (this.failed) return;
    }
    this.out.push({ name: null, adl: null, mailbox: null, host: null });
  }

  #mailbox(): void {
    this.#lastComment = null;
    const start = this.#i;
    if (this.#classify() === "nameaddr") {
      const name = this.#phrase();
      if (!this.#isSpecial(this.#peek(), "<")) return this.#error(name, null, null, start);
      this.#i++;
      let adl: string | null = null;
      if (this.#isSpecial(this.#peek(), "@")) {
        // obs-route: "@a,@b:" before the addr-spec.
        let route = "";
        for (;;) {
          const t = this.#next();
          if (!t) break;
          if (this.#isSpecial(t, ":")) break;
          route += t.text;
        }
        adl = route;
      }
      if (this.#isSpecial(this.#peek(), ">")) {
        this.#i++;
        return this.#error(name, adl, null, start);
      }
      const spec = this.#addrSpec();
      if (!spec) return this.#error(name, adl, null, start);
      if (this.#isSpecial(this.#peek(), ">")) this.#i++;
      else if (this.#peek() && !this.#isSpecial(this.#peek(), ",")) {
        return this.#error(name, adl, spec.mailbox, start);
      }
      this.#trailingComments();
      this.out.push({ name: emptyToNull(name), adl, mailbox: spec.mailbox, host: spec.host });
      return;
    }
    const spec = this.#addrSpec();
    if (!spec) return this.#error(null, null, null, start);
    const t = this.#peek();
    if (t && !this.#isSpecial(t, ",") && !this.#isSpecial(t, ";")) {
      return this.#error(null, null, spec.mailbox, start);
    }
    this.#trailingComments();
    const comment = this.#lastComment as string | null;
    this.out.push({
      name: comment !== null ? emptyToNull(comment.trim()) : null,
      adl: null,
      mailbox: spec.mailbox,
      host: spec.host,
    });
  }

  #trailingComments(): void {
    this.#peek(); // consumes comments, recording the last one
  }

  #addrSpec(): { mailbox: string; host: string } | null {
    let local = "";
    for (;;) {
      const t = this.#peek();
      if (!t) break;
      if (t.kind === "atom" || t.kind === "qstr") {
        local += t.text;
        this.#i++;
      } else if (this.#isSpecial(t, ".")) {
        local += ".";
        this.#i++;
      } else break;
    }
    if (!this.#isSpecial(this.#peek(), "@")) {
      if (!local) return null;
      return { mailbox: local, host: MISSING_DOMAIN };
    }
    this.#i++;
    let domain = "";
    for (;;) {
      const t = this.#peek();
      if (!t) break;
      if (t.kind === "atom" || t.kind === "dlit") {
        domain += t.text;
        this.#i++;
      } else if (this.#isSpecial(t, ".")) {
        domain += ".";
        this.#i++;
      } else break;
    }
    return { mailbox: local || MISSING_MAILBOX, host: domain || MISSING_DOMAIN };
  }

  #error(name: string | null, adl: string | null, mailbox: string | null, _start: number): void {
    this.out.push({
      name: emptyToNull(name),
      adl,
      mailbox: mailbox || MISSING_MAILBOX,
      host: SYNTAX_ERROR,
    });
    this.failed = true;
  }
}

function emptyToNull(s: string | null): string | null {
  return s === null || s === "" ? null : s;
}

/**
 * Parses an address-list header value (binary string, unfolded or not) into ENVELOPE addresses.
 */
export function parseAddressList(value: string): EnvelopeAddress[] {
  return new AddressParser(value).parseList();
}

/** A decoded address for application use. */
export interface Address {
  /** Display name, decoded (encoded words, 8-bit bytes), or "". */
  readonly name: string;
  /** `mailbox@host`. */
  readonly address: string;
}

/**
 * Parses an address-list header value into decoded `{name, address}` pairs: group markers are
 * dropped (their members kept), entries without a valid mailbox and host are skipped, display
 * names are decoded for humans.
 */
export function parseAddresses(value: string): Address[] {
  const out: Address[] = [];
  for (const a of parseAddressList(value)) {
    if (a.host === null || a.mailbox === null) continue;
    if (a.host === SYNTAX_ERROR || a.host === MISSING_DOMAIN || a.mailbox === MISSING_MAILBOX) {
      continue;
    }
    const name = a.name === null ? "" : decodeEncodedWords(binaryToText(a.name)).trim();
    out.push({ name, address: binaryToText(a.mailbox) + "@" + binaryToText(a.host) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Formatting (Go net/mail.Address.String)
// ---------------------------------------------------------------------------------------------

function isVchar(cp: number): boolean {
  return (cp >= 0x21 && cp <= 0x7e) || cp >= 0x80;
}

function isAtext(cp: number): boolean {
  if ('()<>[]:;@\\,".'.includes(String.fromCodePoint(cp)) && cp < 0x80) return false;
  return isVchar(cp);
}

function quoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const qtext = cp !== 0x5c && cp !== 0x22 && (cp >= 0x21 && cp <= 0x7e || cp >= 0x80);
    if (qtext || cp === 0x20 || cp === 0x09) out += ch;
    else if (isVchar(cp)) out += "\\" + ch;
  }
  return out + '"';
}

/**
 * Formats an address like Go's `net/mail.Address.String` (which the official bridge uses for
 * From, To, Cc, Bcc and Reply-To): `<local@domain>` with the local part quoted when needed, and a
 * display name as a quoted string when it is printable ASCII, else RFC 2047 encoded (B when it
 * contains characters not allowed in a Q-encoded phrase, else Q).
 */
export function formatAddress(addr: { readonly name?: string; readonly address: string }): string {
  const at = addr.address.lastIndexOf("@");
  let local = at < 0 ? addr.address : addr.address.slice(0, at);
  const domain = at < 0 ? "" : addr.address.slice(at + 1);
  let quoteLocal = false;
  const cps = [...local];
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i].codePointAt(0)!;
    if (isAtext(cp)) continue;
    if (cp === 0x2e && i > 0 && cps[i - 1] !== "." && i < cps.length - 1) continue;
    quoteLocal = true;
    break;
  }
  if (quoteLocal) local = quoteString(local);
  const s = "<" + local + "@" + domain + ">";
  const name = addr.name ?? "";
  if (!name) return s;
  let allPrintable = true;
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    if ((!isVchar(cp) && cp !== 0x20 && cp !== 0x09) || cp >= 0x80) {
      allPrintable = false;
      break;
    }
  }
  if (allPrintable) return quoteString(name) + " " + s;
  if (/["#$%&'(),.:;<>@[\]^`{|}~]/.test(name)) return encodeWordB(name) + " " + s;
  return encodeWordQ(name) + " " + s;
}

/** Formats a list of addresses joined by `", "` (the bridge's `toAddressList`). */
export function formatAddressList(
  addrs: readonly { readonly name?: string; readonly address: string }[],
): string {
  return addrs.map(formatAddress).join(", ");
}
