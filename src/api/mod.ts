/**
 * The Proton Mail API client: transport ({@link ApiClient}), errors, cookie jar, SRP login and
 * key unlocking, and one module per API area. Wire types live in `types.ts`.
 *
 * @example
 * ```ts
 * const client = new ApiClient({ baseURL: url, appVersion: bridgeAppVersion("3.21.1") });
 * const { twoFactorRequired, passwordMode } = await login(client, { username, password });
 * if (twoFactorRequired) await submitTotp(client, code);
 * const account = await unlock(client, passwordMode === 2 ? mailboxPassword : password);
 * for await (const page of iterateMetadataNewestFirst(client)) {
 *   // …
 * }
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./errors.ts";
export * from "./cookie_jar.ts";
export * from "./transport.ts";
export * from "./auth.ts";
export * from "./unlock.ts";
export * from "./users.ts";
export * from "./addresses.ts";
export * from "./keys.ts";
export * from "./labels.ts";
export * from "./messages.ts";
export * from "./attachments.ts";
export * from "./multipart.ts";
export * from "./drafts.ts";
export * from "./send_packages.ts";
export * from "./import.ts";
export * from "./message_actions.ts";
export * from "./events.ts";
export * from "./mail_settings.ts";
export * from "./contacts.ts";
