import assert from "node:assert/strict";
import type { VaultAccount } from "../vault/mod.ts";
import { sessionServerMismatch } from "./_account_common.ts";

const account = (apiUrl: string) => ({ email: "a@b.test", apiUrl }) as VaultAccount;

Deno.test("sessionServerMismatch: a session goes only to the server that issued it", () => {
  const proton = account("https://mail-api.proton.me");
  assert.equal(sessionServerMismatch(proton, "https://mail-api.proton.me"), undefined);
  assert.equal(sessionServerMismatch(proton, "https://mail-api.proton.me/"), undefined);
  assert.match(
    sessionServerMismatch(proton, "https://elsewhere.example")!,
    /^a@b\.test was signed in at https:\/\/mail-api\.proton\.me; its session is not sent to https:\/\/elsewhere\.example\. Use the API URL it was signed in at .*`bridge logout a@b\.test` and `bridge login a@b\.test` there/,
  );
  // The reference server on loopback: any port (it changes between runs), but not off loopback.
  const local = account("http://127.0.0.1:41234");
  assert.equal(sessionServerMismatch(local, "http://127.0.0.1:5555"), undefined);
  assert.equal(sessionServerMismatch(local, "http://localhost:5555"), undefined);
  assert.ok(sessionServerMismatch(local, "https://mail-api.proton.me"));
  assert.ok(sessionServerMismatch(proton, "http://127.0.0.1:8787"));
  // Signed in before the URL was recorded: anywhere, as before.
  assert.equal(sessionServerMismatch(account(""), "https://anything.example"), undefined);
});
