/**
 * What the send needs to know about a recipient (proton-api.md §1.3, §3.6 step 6): the keys
 * endpoint (`GET /core/v4/keys?Email=`: Proton address or not, and its public keys) and the
 * contact's send settings. Only keys whose `Flags` allow encryption (bit 2) are kept; unreadable
 * keys are skipped.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { getPublicKeys } from "../api/keys.ts";
import type { ApiClient } from "../api/transport.ts";
import { KeyFlag, RecipientType } from "../api/types.ts";
import { readPublicKey } from "../crypto/keys.ts";
import { fetchContactSettings } from "./contact_settings.ts";
import type { RecipientInfo } from "./recipient_scheme.ts";

/**
 * Looks one recipient up.
 *
 * @param verificationKeys The user's public keys (contact cards are signed with them).
 * @throws {ApiError} / network errors of the keys endpoint (the contact lookup never throws).
 */
export async function lookupRecipient(
  client: ApiClient,
  email: string,
  verificationKeys: openpgp.PublicKey[],
): Promise<RecipientInfo> {
  const [keys, contact] = await Promise.all([
    getPublicKeys(client, email),
    fetchContactSettings(client, email, verificationKeys),
  ]);
  const apiKeys: openpgp.PublicKey[] = [];
  for (const entry of keys.Keys) {
    // Flags absent: treat the key as usable (older replies).
    if (typeof entry.Flags === "number" && (entry.Flags & KeyFlag.Active) === 0) continue;
    try {
      apiKeys.push(await readPublicKey(entry.PublicKey));
    } catch {
      // skip a key that cannot be read
    }
  }
  return {
    email,
    internal: keys.RecipientType === RecipientType.Internal,
    apiKeys,
    contact,
  };
}
