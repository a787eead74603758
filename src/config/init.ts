/**
 * The commented default config file `bridge config init` writes: every section and key with its
 * meaning, type, environment variable and default, generated from the schema. Keys are written
 * commented out, so the file changes nothing until a line is uncommented, and a later version's
 * new defaults still apply to keys the user never touched.
 *
 * @module
 */
import { tomlValue, wrap } from "./_text.ts";
import {
  type DefaultContext,
  defaultValue,
  describeType,
  envVarName,
  PROGRAM_VERSION,
  sections,
} from "./schema.ts";

/** The example account the `[accounts."<email>"]` section is shown with. */
export const EXAMPLE_ACCOUNT = "alice@example.com";

const WIDTH = 98;

/**
 * Returns the text of a default config file. Defaults that depend on the platform (paths, app
 * version) are shown with their value for `ctx`, which defaults to this machine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = defaultConfigText({ os: "linux", env: { HOME: "/home/ann" }, version: "1.0.0" });
 * assert.match(text, /^# port = 1143$/m);
 * ```
 */
export function defaultConfigText(ctx?: DefaultContext): string {
  const c = ctx ?? { os: Deno.build.os, env: Deno.env.toObject(), version: PROGRAM_VERSION };
  const out: string[] = [
    "# bridge configuration file.",
    "#",
    ...comment(
      "Every key is listed below, commented out, with its default value. To change a key, " +
        'remove the "# " in front of it and edit the value. Settings apply in this order, ' +
        "later ones winning: defaults, this file, environment variables " +
        "(BRIDGE_<SECTION>_<KEY>), command-line flags. `bridge config check` validates the " +
        "file and shows where each effective value comes from; docs/CONFIG.md describes every " +
        "key.",
    ),
  ];
  for (const [name, spec] of sections()) {
    out.push("", ...comment(spec.meaning));
    const header = spec.keyed ? `[${name}.${JSON.stringify(EXAMPLE_ACCOUNT)}]` : `[${name}]`;
    out.push(spec.keyed ? `# ${header}` : header);
    for (const [key, keySpec] of Object.entries(spec.keys)) {
      out.push("", ...comment(keySpec.meaning));
      const facts = [`Type: ${describeType(keySpec)}.`];
      if (keySpec.defaultText) facts.push(`Default: ${keySpec.defaultText.replaceAll("`", "")}.`);
      if (!spec.keyed) facts.push(`Environment: ${envVarName(name, key)}.`);
      out.push(...comment(facts.join(" ")));
      out.push(`# ${key} = ${tomlValue(defaultValue(keySpec, c))}`);
    }
  }
  return out.join("\n") + "\n";
}

function comment(text: string): string[] {
  return wrap(text, WIDTH).map((line) => `# ${line}`);
}
