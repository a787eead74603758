/**
 * LIST and LSUB name matching (RFC 3501 §6.3.8, RFC 5258 §3): the reference and pattern combined
 * into one canonical pattern, and the match of that pattern against decoded mailbox names.
 *
 * - `*` matches any run of characters, the hierarchy delimiter included; `%` any run without it.
 * - `INBOX` is case-insensitive (RFC 3501 §5.1): the first five characters of a name in the INBOX
 *   hierarchy (`INBOX`, `INBOX/…`) compare without case, so `inbox`, `Inbox/%` and `INB*` find it.
 * - Matching is a dynamic programme over pattern × name (O(p·n)), so no pattern a client sends can
 *   make it take exponential time, unlike a regular expression with many stars.
 *
 * @example
 * ```ts ignore
 * const p = new MailboxPattern(canonicalPattern("", "Folders/%"));
 * p.matches("Folders/Work"); // true
 * p.matches("Folders/Work/2024"); // false
 * ```
 *
 * @module
 */

/**
 * The pattern LIST applies for `reference` and `pattern`: their concatenation (RFC 3501 §6.3.8;
 * our namespace has no prefixes, so nothing is inserted or cut). An empty pattern stays empty: it
 * asks for the delimiter, not for names.
 */
export function canonicalPattern(reference: string, pattern: string): string {
  if (pattern === "") return "";
  return reference + pattern;
}

/** Whether `name` is in the INBOX hierarchy, whose first five characters compare without case. */
function inboxRooted(name: string, delimiter: string): boolean {
  return name === "INBOX" || name.startsWith("INBOX" + delimiter);
}

/** One LIST/LSUB pattern, compiled for repeated matching. */
export class MailboxPattern {
  /** The pattern as given (decoded, wildcards kept). */
  readonly pattern: string;
  readonly #delimiter: string;
  readonly #chars: string[];

  /** Compiles `pattern` (consecutive `*` collapse; they mean the same). */
  constructor(pattern: string, delimiter = "/") {
    this.pattern = pattern;
    this.#delimiter = delimiter;
    const chars: string[] = [];
    for (const c of pattern) {
      if (c === "*" && chars[chars.length - 1] === "*") continue;
      chars.push(c);
    }
    this.#chars = chars;
  }

  /** Whether the pattern has a wildcard at all. */
  get hasWildcards(): boolean {
    return this.#chars.some((c) => c === "*" || c === "%");
  }

  /** Whether `name` (decoded) matches the pattern. */
  matches(name: string): boolean {
    const s = [...name];
    const n = s.length;
    const caseless = inboxRooted(name, this.#delimiter) ? 5 : 0;
    // cur[j]: the pattern characters seen so far match the first j characters of the name.
    let cur = new Uint8Array(n + 1);
    cur[0] = 1;
    for (const c of this.#chars) {
      const next = new Uint8Array(n + 1);
      if (c === "*") {
        let any = 0;
        for (let j = 0; j <= n; j++) {
          any |= cur[j];
          next[j] = any;
        }
      } else if (c === "%") {
        let any = 0;
        for (let j = 0; j <= n; j++) {
          if (j > 0 && s[j - 1] === this.#delimiter) any = 0;
          any |= cur[j];
          next[j] = any;
        }
      } else {
        for (let j = 0; j < n; j++) {
          if (!cur[j]) continue;
          const same = s[j] === c ||
            (j < caseless && s[j].toUpperCase() === c.toUpperCase());
          if (same) next[j + 1] = 1;
        }
      }
      cur = next;
    }
    return cur[n] === 1;
  }
}
