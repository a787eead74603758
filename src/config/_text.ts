/**
 * Text helpers shared by the generated default config file and the generated reference in
 * docs/CONFIG.md.
 *
 * @module
 */
import type { Value } from "./schema.ts";

/**
 * Splits `text` into lines of at most `width` characters, breaking at spaces but never inside a
 * Markdown code span (so `deno fmt` leaves generated Markdown as it is).
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  const words = text.match(/(?:`[^`]*`|[^\s`])+/g) ?? [];
  for (const word of words) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** A value written as TOML: `"text"`, `1143`, `true`, `["a", "b"]`. */
export function tomlValue(value: Value): string {
  if (typeof value === "string") {
    // JSON string escapes are valid TOML basic-string escapes; TOML also wants DEL escaped.
    return JSON.stringify(value).replace(/\u007f/g, "\\u007f");
  }
  if (Array.isArray(value)) return `[${value.map((v) => tomlValue(v)).join(", ")}]`;
  return String(value);
}
