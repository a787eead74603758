/**
 * `bridge login` against the in-process reference API server, as end-to-end tests sign in before
 * they start `bridge serve`.
 *
 * @module
 */
import { join } from "node:path";
import type { ApiServer } from "../src/api_server/mod.ts";
import { type BridgeRun, runBridge } from "../src/cli/_cli_test_utils.ts";

/**
 * Runs `bridge login <email>` against `server` (its modulus key trusted from a file, the password
 * read from a file, both written under `home`), with `dataArgs` (e.g. `--data-dir D --key-store
 * file`) added; returns the run for the caller to check.
 */
export async function loginToReferenceServer(
  home: string,
  server: ApiServer,
  email: string,
  password: string,
  dataArgs: readonly string[],
): Promise<BridgeRun> {
  const keyFile = join(home, "modulus.asc");
  await Deno.writeTextFile(keyFile, server.modulusPublicKey);
  const passwordFile = join(home, "password");
  await Deno.writeTextFile(passwordFile, password + "\n");
  return await runBridge(
    home,
    {},
    "login",
    email,
    "--api-url",
    server.url,
    "--password-file",
    passwordFile,
    "--trust-modulus-key",
    keyFile,
    ...dataArgs,
  );
}
