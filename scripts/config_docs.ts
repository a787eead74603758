/**
 * Rewrites the generated key reference in docs/CONFIG.md from src/config/schema.ts.
 *
 * Run: `deno run --allow-read --allow-write scripts/config_docs.ts`
 *
 * @module
 */
import { withReference } from "../src/config/docs.ts";

const page = new URL("../docs/CONFIG.md", import.meta.url);
const before = await Deno.readTextFile(page);
const after = withReference(before);
if (after === before) {
  console.log("docs/CONFIG.md is up to date");
} else {
  await Deno.writeTextFile(page, after);
  console.log("docs/CONFIG.md: key reference rewritten");
}
