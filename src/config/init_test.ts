import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { defaultConfigText, EXAMPLE_ACCOUNT } from "./init.ts";
import { configFromText } from "./load.ts";
import { defaultAccountSettings, defaultConfig, envVarName, sections } from "./schema.ts";

const CONTEXTS = [
  { os: "linux" as const, env: { HOME: "/home/ann" }, version: "1.2.3" },
  { os: "darwin" as const, env: { HOME: "/Users/ann" }, version: "1.2.3" },
  {
    os: "windows" as const,
    env: { USERPROFILE: "C:\\Users\\ann", LOCALAPPDATA: "C:\\Users\\ann\\AppData\\Local" },
    version: "1.2.3",
  },
];

/** The text with every commented-out key and table header made live. */
function uncommented(text: string): string {
  const lines = text.split("\n");
  return lines.map((line, i) => {
    // A key line closes its comment block: the next line is blank (or the end).
    const isKey = /^# [a-z0-9_]+ = /.test(line) && (lines[i + 1] ?? "") === "";
    const isHeader = line === `# [accounts.${JSON.stringify(EXAMPLE_ACCOUNT)}]`;
    return isKey || isHeader ? line.slice(2) : line;
  }).join("\n");
}

Deno.test("defaultConfigText() loads back to exactly the defaults", () => {
  for (const ctx of CONTEXTS) {
    const text = defaultConfigText(ctx);
    const loaded = configFromText(text, { file: "config.toml", ...ctx });
    assert.deepEqual(loaded.config, defaultConfig(ctx));
  }
});

Deno.test("defaultConfigText() with every key uncommented still loads to the defaults", () => {
  for (const ctx of CONTEXTS) {
    const live = uncommented(defaultConfigText(ctx));
    const { config, sources } = configFromText(live, { file: "/cfg/config.toml", ...ctx });
    const { accounts, ...rest } = config;
    const { accounts: _, ...defaults } = defaultConfig(ctx);
    assert.deepEqual(rest, defaults);
    assert.deepEqual(accounts, { [EXAMPLE_ACCOUNT]: defaultAccountSettings() });
    // Every key really came from the file: the uncommented text covers the whole schema.
    for (const [name, spec] of sections()) {
      if (spec.keyed) continue;
      for (const key of Object.keys(spec.keys)) {
        assert.equal(sources[`${name}.${key}`].kind, "file", `${name}.${key}`);
      }
    }
  }
});

Deno.test("defaultConfigText() documents every key with its meaning and environment variable", () => {
  const text = defaultConfigText(CONTEXTS[0]);
  const flat = text.replace(/\n# /g, " ");
  for (const [name, spec] of sections()) {
    assert.ok(flat.includes(spec.meaning), `meaning of [${name}]`);
    for (const [key, keySpec] of Object.entries(spec.keys)) {
      assert.match(text, new RegExp(`^# ${key} = `, "m"));
      assert.ok(flat.includes(keySpec.meaning), `meaning of ${name}.${key}`);
      if (!spec.keyed) assert.ok(text.includes(envVarName(name, key)));
    }
  }
  assert.ok(text.split("\n").every((line) => line.length <= 100), "lines fit in 100 columns");
  assert.doesNotThrow(() => parse(text));
});
