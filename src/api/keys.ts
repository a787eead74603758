/**
 * Key salts and recipient public keys (go-proton-api `salt.go`, `keys.go`; proton-api.md §1.3).
 *
 * @module
 */
import { list } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";
import type { KeySalt, PublicKeyEntry, PublicKeys } from "./types.ts";

/** `GET /core/v4/keys/salts` → one salt per user key. */
export async function getKeySalts(client: ApiClient): Promise<KeySalt[]> {
  return list<KeySalt>(await client.get("/core/v4/keys/salts"), "KeySalts");
}

/**
 * `GET /core/v4/keys?Email=<address>` → the recipient's public keys and whether it is a Proton
 * address (`RecipientType` 1) or an external one (2).
 */
export async function getPublicKeys(client: ApiClient, email: string): Promise<PublicKeys> {
  const reply = await client.get("/core/v4/keys", { query: { Email: email } });
  return {
    Keys: list<PublicKeyEntry>(reply, "Keys"),
    RecipientType: typeof reply.RecipientType === "number" ? reply.RecipientType : 2,
  };
}
