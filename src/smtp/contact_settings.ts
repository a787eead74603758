/**
 * Per-recipient send settings stored in the user's contacts (proton-api.md §3.6 step 6;
 * go-proton-api `contact_types.go` `GetSettings`): in the contact's **signed** vCard (card type 2),
 * the property group of the recipient's `EMAIL` may carry
 *
 * | property | meaning |
 * |---|---|
 * | `X-PM-ENCRYPT` | `true`/`false`: encrypt to the pinned key |
 * | `X-PM-ENCRYPT-UNTRUSTED` | `true`/`false`: encrypt to keys the API found (WKD); default true |
 * | `X-PM-SIGN` | `true`/`false`: sign |
 * | `X-PM-SCHEME` | `pgp-mime` or `pgp-inline` |
 * | `X-PM-MIMETYPE` | `text/plain` or `text/html` |
 * | `KEY` | pinned public keys (`data:application/pgp-keys;base64,…` or base64), by `PREF` |
 *
 * A signed card is used only when its signature verifies with one of the user's keys; a card that
 * does not verify, or a lookup that fails, counts as "no settings" (the account defaults apply).
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { getAllContactEmails, getContact } from "../api/contacts.ts";
import type { ApiClient } from "../api/transport.ts";
import { CardType } from "../api/types.ts";
import { verifyDetached } from "../crypto/attachment.ts";
import { fromBase64 } from "../crypto/base64.ts";
import { readPublicKey } from "../crypto/keys.ts";

/** What a contact says about sending to one of its addresses (unset = no preference). */
export interface ContactSendSettings {
  encrypt?: boolean;
  encryptUntrusted?: boolean;
  sign?: boolean;
  scheme?: "pgp-mime" | "pgp-inline";
  mimeType?: "text/plain" | "text/html";
  /** Pinned public keys, most preferred first. */
  keys: openpgp.PublicKey[];
}

interface VCardLine {
  group: string;
  name: string;
  params: Map<string, string>;
  value: string;
}

/** Parses vCard text into lines (unfolded; group and names lower-cased). */
function vcardLines(text: string): VCardLine[] {
  const out: VCardLine[] = [];
  const unfolded = text.replace(/\r?\n[ \t]/g, "");
  for (const raw of unfolded.split(/\r?\n/)) {
    const colon = raw.indexOf(":");
    if (colon <= 0) continue;
    const [head, ...paramParts] = raw.slice(0, colon).split(";");
    const dot = head.lastIndexOf(".");
    const params = new Map<string, string>();
    for (const p of paramParts) {
      const eq = p.indexOf("=");
      if (eq > 0) params.set(p.slice(0, eq).toLowerCase(), p.slice(eq + 1));
      else params.set("type", p);
    }
    out.push({
      group: dot > 0 ? head.slice(0, dot).toLowerCase() : "",
      name: (dot > 0 ? head.slice(dot + 1) : head).toLowerCase(),
      params,
      value: raw.slice(colon + 1),
    });
  }
  return out;
}

function bool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  return t === "true" ? true : t === "false" ? false : undefined;
}

/** The key bytes of a `KEY` value (`data:…;base64,` URI or bare base64), or undefined. */
function keyBytes(value: string): Uint8Array | undefined {
  const v = value.trim();
  const b64 = v.startsWith("data:") ? v.slice(v.indexOf(",") + 1) : v;
  try {
    const bytes = fromBase64(b64.replace(/\s+/g, ""));
    return bytes.length > 0 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The settings a vCard gives for `email`, or undefined when the card has no group for it. Keys
 * that cannot be read are skipped.
 */
export async function contactSettingsFromVCard(
  vcard: string,
  email: string,
): Promise<ContactSendSettings | undefined> {
  const lines = vcardLines(vcard);
  const wanted = email.trim().toLowerCase();
  const emailLine = lines.find((l) =>
    l.name === "email" && l.value.trim().toLowerCase() === wanted
  );
  if (!emailLine) return undefined;
  const group = lines.filter((l) => l.group === emailLine.group);
  const get = (name: string) => group.find((l) => l.name === name)?.value;
  const scheme = get("x-pm-scheme")?.trim().toLowerCase();
  const mimeType = get("x-pm-mimetype")?.trim().toLowerCase();
  const keyLines = group.filter((l) => l.name === "key")
    .map((l, i) => ({ l, pref: Number(l.params.get("pref") ?? 100 + i) }))
    .sort((a, b) => a.pref - b.pref);
  const keys: openpgp.PublicKey[] = [];
  for (const { l } of keyLines) {
    const bytes = keyBytes(l.value);
    if (!bytes) continue;
    try {
      keys.push(await readPublicKey(bytes));
    } catch {
      // an unreadable pinned key is ignored
    }
  }
  return {
    encrypt: bool(get("x-pm-encrypt")),
    encryptUntrusted: bool(get("x-pm-encrypt-untrusted")),
    sign: bool(get("x-pm-sign")),
    scheme: scheme === "pgp-mime" || scheme === "pgp-inline" ? scheme : undefined,
    mimeType: mimeType === "text/plain" || mimeType === "text/html" ? mimeType : undefined,
    keys,
  };
}

/**
 * Looks `email` up in the user's contacts and returns the settings of the first signed card (that
 * verifies with `verificationKeys`) naming it; undefined when there is none or the lookup fails.
 */
export async function fetchContactSettings(
  client: ApiClient,
  email: string,
  verificationKeys: openpgp.PublicKey[],
): Promise<ContactSendSettings | undefined> {
  try {
    const wanted = email.trim().toLowerCase();
    const matches = (await getAllContactEmails(client, email))
      .filter((e) => e.Email.trim().toLowerCase() === wanted);
    for (const match of matches) {
      const contact = await getContact(client, match.ContactID);
      for (const card of contact.Cards ?? []) {
        if (card.Type !== CardType.Signed || !card.Signature) continue;
        let valid = false;
        try {
          valid = await verifyDetached(card.Data, card.Signature, verificationKeys);
        } catch {
          valid = false;
        }
        if (!valid) continue;
        const settings = await contactSettingsFromVCard(card.Data, email);
        if (settings) return settings;
      }
    }
  } catch {
    // Contacts only refine the defaults: a failed lookup means "no preferences".
  }
  return undefined;
}
