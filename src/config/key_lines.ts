/**
 * Finds the line each table and key of a TOML document is written on, so config errors can name
 * it (smol-toml's `parse` returns values without positions).
 *
 * This is a small line scanner, not a parser: it runs only on text `parse` has already accepted,
 * follows `[table]` and `[[array]]` headers and `key =` / `a."b".c =` lines, and skips the insides
 * of strings (multi-line ones included) and comments. A key set inside an inline table
 * (`imap = { port = 1 }`) is reported at the line of the nearest enclosing key it knows.
 *
 * @module
 */

/** Line numbers (1-based) of the tables and keys of one document. */
export class KeyLines {
  #lines = new Map<string, number>();

  /** Records `path` at `line` unless it was seen earlier. */
  add(path: readonly string[], line: number): void {
    const id = pathId(path);
    if (!this.#lines.has(id)) this.#lines.set(id, line);
  }

  /** The line of `path`, else of its longest recorded prefix, else undefined. */
  lineOf(path: readonly string[]): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const line = this.#lines.get(pathId(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}

function pathId(path: readonly string[]): string {
  return JSON.stringify(path);
}

/** Scans `text` (valid TOML) and returns where each table and key is written. */
export function scanKeyLines(text: string): KeyLines {
  const out = new KeyLines();
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  let openString: '"""' | "'''" | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let pos = 0;
    if (openString !== undefined) {
      const end = findClosing(line, 0, openString);
      if (end < 0) continue;
      openString = undefined;
      pos = end;
    } else {
      pos = skipSpace(line, 0);
      if (line[pos] === "[") {
        const isArray = line[pos + 1] === "[";
        const parsed = parseKeyPath(line, pos + (isArray ? 2 : 1));
        if (parsed) {
          table = parsed.path;
          out.add(table, i + 1);
          pos = line.indexOf("]", parsed.end) + (isArray ? 2 : 1);
        }
      } else {
        const parsed = parseKeyPath(line, pos);
        if (parsed && line[parsed.end] === "=") {
          const full = [...table, ...parsed.path];
          for (let n = table.length + 1; n <= full.length; n++) out.add(full.slice(0, n), i + 1);
          pos = parsed.end + 1;
        }
      }
    }
    openString = scanRest(line, pos);
  }
  return out;
}

/**
 * Skips strings and stops at a comment in the rest of a line; returns the multi-line string
 * delimiter left open at the end of the line, if any.
 */
function scanRest(line: string, from: number): '"""' | "'''" | undefined {
  let pos = from;
  while (pos < line.length) {
    const ch = line[pos];
    if (ch === "#") return undefined;
    if (ch === '"' || ch === "'") {
      const triple = ch.repeat(3);
      if (line.startsWith(triple, pos)) {
        const end = findClosing(line, pos + 3, triple as '"""' | "'''");
        if (end < 0) return triple as '"""' | "'''";
        pos = end;
        continue;
      }
      pos = skipString(line, pos);
      continue;
    }
    pos++;
  }
  return undefined;
}

/** Index just past the closing `delim` at or after `from`, or -1 when the line does not close it. */
function findClosing(line: string, from: number, delim: '"""' | "'''"): number {
  let pos = from;
  while (pos < line.length) {
    if (delim === '"""' && line[pos] === "\\") {
      pos += 2;
      continue;
    }
    if (line.startsWith(delim, pos)) {
      // A closing delimiter may be followed by up to two more quotes that belong to the string.
      let end = pos + 3;
      while (end < line.length && line[end] === delim[0] && end < pos + 5) end++;
      return end;
    }
    pos++;
  }
  return -1;
}

/** Index just past a one-line string starting at `pos` (a quote). */
function skipString(line: string, pos: number): number {
  const quote = line[pos];
  let i = pos + 1;
  while (i < line.length && line[i] !== quote) i += quote === '"' && line[i] === "\\" ? 2 : 1;
  return i + 1;
}

function skipSpace(line: string, pos: number): number {
  while (pos < line.length && (line[pos] === " " || line[pos] === "\t")) pos++;
  return pos;
}

const BARE_KEY_REGEXP = /^[A-Za-z0-9_-]+/;

/**
 * Parses a dotted key (`a`, `a.b`, `"a.b".c`, `'x'`) at `pos`; returns its parts and the index of
 * the first non-space character after it, or undefined when there is no key there.
 */
function parseKeyPath(line: string, pos: number): { path: string[]; end: number } | undefined {
  const path: string[] = [];
  let i = skipSpace(line, pos);
  while (true) {
    const ch = line[i];
    if (ch === '"') {
      const end = skipString(line, i);
      try {
        path.push(JSON.parse(line.slice(i, end)));
      } catch {
        path.push(line.slice(i + 1, end - 1));
      }
      i = end;
    } else if (ch === "'") {
      const end = skipString(line, i);
      path.push(line.slice(i + 1, end - 1));
      i = end;
    } else {
      const bare = BARE_KEY_REGEXP.exec(line.slice(i));
      if (!bare) return undefined;
      path.push(bare[0]);
      i += bare[0].length;
    }
    i = skipSpace(line, i);
    if (line[i] !== ".") return { path, end: i };
    i = skipSpace(line, i + 1);
  }
}
