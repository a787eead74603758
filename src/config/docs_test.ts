import assert from "node:assert/strict";
import { configReference, REFERENCE_BEGIN, REFERENCE_END, withReference } from "./docs.ts";
import { envVarName, sections } from "./schema.ts";

const PAGE = new URL("../../docs/CONFIG.md", import.meta.url);

Deno.test("docs/CONFIG.md's key reference matches the schema", async () => {
  const page = await Deno.readTextFile(PAGE);
  assert.equal(
    withReference(page),
    page,
    "docs/CONFIG.md is out of date: run `deno run --allow-read --allow-write scripts/config_docs.ts`",
  );
});

Deno.test("docs/CONFIG.md names every key with its environment variable and default", async () => {
  const page = await Deno.readTextFile(PAGE);
  for (const [name, spec] of sections()) {
    for (const key of Object.keys(spec.keys)) {
      const dotted = spec.keyed ? `${name}."<email>".${key}` : `${name}.${key}`;
      assert.ok(page.includes(`#### \`${dotted}\``), `${dotted} is documented`);
      if (!spec.keyed) assert.ok(page.includes(`\`${envVarName(name, key)}\``));
    }
  }
  for (
    const topic of ["## Precedence", "## Environment variables", "## Examples", "BRIDGE_CONFIG"]
  ) {
    assert.ok(page.includes(topic), topic);
  }
});

Deno.test("configReference() is wrapped Markdown between its markers", () => {
  const ref = configReference();
  assert.ok(ref.startsWith(REFERENCE_BEGIN) && ref.endsWith(REFERENCE_END));
  assert.ok(ref.split("\n").every((line) => line.length <= 100));
  assert.throws(() => withReference("no markers"), SyntaxError);
});
