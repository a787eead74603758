/**
 * The reference API server: a real HTTP server speaking the same Proton Mail API as the real
 * service (real SRP, real OpenPGP), with test and demo controls under `/ref/v1/`. Tests, the
 * benchmarks, `bridge serve --demo` and `bridge api-server` start it with {@link startApiServer}.
 *
 * @example
 * ```ts
 * import { startApiServer } from "./src/api_server/mod.ts";
 *
 * const server = await startApiServer({ port: 0 });
 * const alice = await server.createUser({ email: "alice@example.test", password: "secret" });
 * // Point the client at server.url and trust server.modulusPublicKey.
 * await server.close();
 * ```
 *
 * @module
 */
export { type ApiServer, type ApiServerOptions, startApiServer } from "./server.ts";
export {
  Accounts,
  type CreatedUser,
  type CreateUserOptions,
  FULL_SCOPE,
  MODULUS_ID,
  TWO_FACTOR_SCOPE,
} from "./accounts.ts";
export { CoreData, DEFAULT_MAIL_SETTINGS, type NewContact } from "./core_routes.ts";
export { CONTROL_PREFIX } from "./control_routes.ts";
export { type FaultRule, Faults, type HumanVerificationRule } from "./faults.ts";
export { EventLog } from "./event_log.ts";
export { MailBackend } from "./mail_backend.ts";
export { Outbox, type OutboxAttachment, type OutboxDelivery, type OutboxEntry } from "./outbox.ts";
export { type Db, MemoryDb, SqliteDb } from "./db.ts";
export { ApiServerError } from "./http.ts";
export type { AccountDirectory, AddressInfo } from "./directory.ts";
