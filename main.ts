/**
 * Process entry for `bridge`: hands the command line to {@link main} in `src/cli` and exits with
 * the code it returns.
 *
 * @module
 */
import { main } from "./src/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
