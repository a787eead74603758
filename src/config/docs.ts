/**
 * The key reference of docs/CONFIG.md, generated from the schema. The page keeps it between
 * {@link REFERENCE_BEGIN} and {@link REFERENCE_END}; a test fails when the two drift apart, and
 * `deno run --allow-read --allow-write scripts/config_docs.ts` rewrites it.
 *
 * @module
 */
import { tomlValue, wrap } from "./_text.ts";
import { describeType, envVarName, type KeySpec, sections } from "./schema.ts";

/** The line that opens the generated reference in docs/CONFIG.md. */
export const REFERENCE_BEGIN =
  "<!-- BEGIN KEY REFERENCE: generated from src/config/schema.ts by scripts/config_docs.ts -->";
/** The line that closes it. */
export const REFERENCE_END = "<!-- END KEY REFERENCE -->";

const WIDTH = 100;

/** The Markdown reference of every section and key: meaning, type, default, environment. */
export function configReference(): string {
  const out: string[] = [];
  for (const [name, spec] of sections()) {
    const header = spec.keyed ? `[${name}."<email>"]` : `[${name}]`;
    out.push(`### \`${header}\``, "", ...wrap(spec.meaning, WIDTH), "");
    for (const [key, keySpec] of Object.entries(spec.keys)) {
      const dotted = spec.keyed ? `${name}."<email>".${key}` : `${name}.${key}`;
      out.push(`#### \`${dotted}\``, "", ...wrap(keySpec.meaning, WIDTH), "");
      const facts = [
        `- Type: ${describeType(keySpec)}`,
        `- Default: ${defaultText(keySpec)}`,
        spec.keyed
          ? "- Environment: none (set it in the file)"
          : `- Environment: \`${envVarName(name, key)}\``,
      ];
      for (const fact of facts) {
        const [first, ...rest] = wrap(fact, WIDTH - 2);
        out.push(first, ...rest.map((line) => `  ${line}`));
      }
      out.push("");
    }
  }
  return [REFERENCE_BEGIN, "", ...out, REFERENCE_END].join("\n");
}

function defaultText(spec: KeySpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  return typeof d === "function" ? "depends on the platform" : `\`${tomlValue(d)}\``;
}

/** Replaces the generated reference inside `page` (the text of docs/CONFIG.md). */
export function withReference(page: string): string {
  const begin = page.indexOf(REFERENCE_BEGIN);
  const end = page.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) {
    throw new SyntaxError(`Cannot find the "${REFERENCE_BEGIN}" and "${REFERENCE_END}" markers`);
  }
  return page.slice(0, begin) + configReference() + page.slice(end + REFERENCE_END.length);
}
