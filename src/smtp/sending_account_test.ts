import assert from "node:assert/strict";
import type { UnlockedAccount } from "../api/unlock.ts";
import { ApiClient } from "../api/transport.ts";
import type { Address, MailSettings } from "../api/types.ts";
import { KeyRing } from "../crypto/key_ring.ts";
import { sendingAccount } from "./sending_account.ts";

Deno.test("sendingAccount: defaults, injected getters, known address keys, copy per login", async () => {
  const ring = new KeyRing([]);
  const unlocked = {
    user: { ID: "user-1" },
    addresses: [],
    keyPassword: "kp",
    userKeys: new KeyRing([]),
    addressKeys: new Map([["addr-1", ring]]),
    addressKeyErrors: new Map(),
  } as unknown as UnlockedAccount;
  const client = new ApiClient({
    baseURL: "http://127.0.0.1:9",
    appVersion: "linux-bridge@3.21.1",
  });
  const addresses = [{ ID: "addr-1", Email: "a@x.test" }] as Address[];
  const settings = { Sign: 1 } as MailSettings;
  const account = sendingAccount(client, unlocked, {
    username: "a@x.test",
    addresses: () => Promise.resolve(addresses),
    mailSettings: () => Promise.resolve(settings),
  });
  assert.equal(account.id, "user-1");
  assert.equal(account.username, "a@x.test");
  assert.equal(account.addressMode, "combined");
  assert.equal(account.client, client);
  assert.equal(await account.addresses(), addresses);
  assert.equal(await account.mailSettings(), settings);
  assert.equal(await account.addressKeys(addresses[0]), ring);
  // An address without keys cannot be unlocked: a clear error, and the next call tries again.
  const unknown = { ID: "addr-2", Email: "b@x.test", Keys: [] } as unknown as Address;
  await assert.rejects(() => account.addressKeys(unknown));
  await assert.rejects(() => account.addressKeys(unknown));
  const copy = { ...account, username: "b@x.test" };
  assert.equal(copy.username, "b@x.test");
  assert.equal(await copy.addressKeys(addresses[0]), ring);
  const split = sendingAccount(client, unlocked, {
    username: "a@x.test",
    id: "x",
    addressMode: "split",
  });
  assert.equal(split.id, "x");
  assert.equal(split.addressMode, "split");
});
