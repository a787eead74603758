import assert from "node:assert/strict";
import { configAccountKey, effectiveAddressMode } from "./address_mode.ts";

Deno.test("effectiveAddressMode(): the file's table wins, else the vault's mode", () => {
  const vault = { email: "Alice@Example.test", addressMode: "split" as const };
  assert.equal(effectiveAddressMode({ accounts: {} }, vault), "split");
  const file = { accounts: { "alice@example.test": { address_mode: "combined" as const } } };
  assert.equal(effectiveAddressMode(file, vault), "combined");
  assert.equal(configAccountKey(file, "ALICE@example.test"), "alice@example.test");
  assert.equal(configAccountKey(file, "bob@example.test"), undefined);
  assert.equal(
    effectiveAddressMode({ accounts: { "bob@example.test": { address_mode: "combined" } } }, vault),
    "split",
  );
});
