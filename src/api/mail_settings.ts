/**
 * `GET /mail/v4/settings` (go-proton-api `mail_settings.go`; proton-api.md §1.12).
 *
 * @module
 */
import { field } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";
import type { MailSettings } from "./types.ts";

/** The user's mail settings (display name, signature, PGP scheme…). */
export async function getMailSettings(client: ApiClient): Promise<MailSettings> {
  const path = "/mail/v4/settings";
  return field<MailSettings>(await client.get(path), "MailSettings", "GET", path);
}
