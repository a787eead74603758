/**
 * Test and demo controls of the reference server, under `/ref/v1/` — a prefix the real API does
 * not have. They need no app version and no auth (the server listens on 127.0.0.1 by default) and
 * are never subject to fault injection. Bodies and replies use the API's envelope and PascalCase.
 * `{user}` is a user ID, a user name or any of the user's addresses.
 *
 * | Route | Body | Does |
 * |---|---|---|
 * | `GET /ref/v1/info` | — | `{ModulusPublicKey, Modulus, ModulusID}`: the key clients must be told to trust |
 * | `GET /ref/v1/users` | — | `{Users: [{ID, Name, Addresses: [{ID, Email, Order, Status}]}]}` |
 * | `POST /ref/v1/users` | `{Email, Password, MailboxPassword?, TotpSecret?, ExtraAddresses?, KeyType?: "ecc"\|"rsa", Messages?}` | creates a user (system labels included; `Messages` seeds that many messages) → `{UserID, Name, AddressIDs, UserKeyID, PasswordMode}` |
 * | `PUT /ref/v1/users/{user}/totp` | `{Secret: base32 \| null}` | turns TOTP on or off |
 * | `PUT /ref/v1/users/{user}/max-space` | `{MaxSpace: bytes}` (integer ≥ 0) | sets the user's `MaxSpace`; when it changes, emits a `User` event with the user as `GET /core/v4/users` returns it → `{User}` |
 * | `POST /ref/v1/users/{user}/addresses` | `{Email, Type?: 2, DisplayName?, KeyType?}` | adds an address with a new key, emits an `Addresses` Create event → `{Address}` |
 * | `PUT /ref/v1/addresses/{id}/disable` | — | Status 0, emits an Update event → `{Address}` |
 * | `PUT /ref/v1/addresses/{id}/enable` | — | Status 1, emits an Update event → `{Address}` |
 * | `DELETE /ref/v1/addresses/{id}` | — | deletes the address, emits a Delete event |
 * | `PUT /ref/v1/users/{user}/mail-settings` | any `MailSettings` fields | changes them, emits a `MailSettings` event → `{MailSettings}` |
 * | `POST /ref/v1/keys` | `{Email, PublicKey, Flags?: 3}` | registers a public key of an external address (`GET /core/v4/keys` then answers it with RecipientType 2) |
 * | `POST /ref/v1/users/{user}/contacts` | `{Name, Emails: [{Email, Name?, Type?}], Cards?}` | adds a contact → `{Contact}` |
 * | `GET /ref/v1/faults` | — | `{Faults}` |
 * | `POST /ref/v1/faults` | a fault rule (see `faults.ts`) | adds it → `{ID}` |
 * | `PUT /ref/v1/faults` | `{Faults: [rule…]}` | replaces all rules → `{IDs}` |
 * | `DELETE /ref/v1/faults` | — | removes every rule and human-verification gate |
 * | `DELETE /ref/v1/faults/{id}` | — | removes one rule or gate |
 * | `POST /ref/v1/human-verification` | `{Method?: "POST", Path?: "/auth/v4", Count?: 1, Methods?: ["captcha","email"]}` | the next matching calls answer 422 Code 9001 until retried with the token → `{ID}` |
 * | `POST /ref/v1/users/{user}/expire-access-tokens` | — | every access token of the user is refused from now on (401; refresh still works) → `{Sessions}` |
 * | `POST /ref/v1/users/{user}/revoke-sessions` | `{RefreshOnly?: false}` | deletes the user's sessions (or only kills their refresh tokens) → `{Sessions}` |
 * | `PUT /ref/v1/settings` | `{AccessTokenLifetimeSec?, MaxEventItems?}` | changes server settings |
 *
 * The mail model adds its own controls under the same prefix (`registerMailControlRoutes`).
 *
 * @module
 */
import { ApiServerError, ok, type Router } from "./http.ts";
import type { Accounts, CreatedUser, CreateUserOptions } from "./accounts.ts";
import { type CoreData, DEFAULT_MAIL_SETTINGS, type NewContact } from "./core_routes.ts";
import type { FaultRule, Faults, HumanVerificationRule } from "./faults.ts";
import type { EventLog } from "./event_log.ts";
import type { MailSettings } from "../api/types.ts";

/** What the control routes act on. */
export interface ControlContext {
  accounts: Accounts;
  core: CoreData;
  faults: Faults;
  events: EventLog;
  /** Creates a user including its mail model (system labels, optional seeded messages). */
  createUser(opts: CreateUserOptions & { messages?: number }): Promise<CreatedUser>;
  /** The modulus signing key, armored public key. */
  modulusPublicKey: string;
  /** The clear-signed modulus. */
  signedModulus: string;
  /** The modulus ID. */
  modulusID: string;
}

/** Prefix of every control route. */
export const CONTROL_PREFIX = "/ref/v1/";

function str(v: unknown, name: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== "string" || v === "") throw new ApiServerError(422, 2001, `${name} is required`);
  return v;
}

/** Registers the account, settings and fault controls on `router` (all without auth). */
export function registerControlRoutes(router: Router, ctx: ControlContext): void {
  const { accounts, core, faults } = ctx;
  const add = (
    method: string,
    path: string,
    h: Parameters<Router["add"]>[2],
  ) => router.add(method, path, h, { auth: false });
  const user = (ref: string): string => {
    if (accounts.hasUser(ref)) return ref;
    const id = accounts.findUserByLogin(ref);
    if (!id) throw new ApiServerError(422, 2501, `No user "${ref}"`);
    return id;
  };

  add("GET", "/ref/v1/info", () =>
    ok({
      ModulusPublicKey: ctx.modulusPublicKey,
      Modulus: ctx.signedModulus,
      ModulusID: ctx.modulusID,
    }));

  add("GET", "/ref/v1/users", () =>
    ok({
      Users: accounts.userIDs().map((id) => {
        const u = accounts.wireUser(id);
        return {
          ID: id,
          Name: u.Name,
          Addresses: accounts.addresses(id).map((a) => ({
            ID: a.ID,
            Email: a.Email,
            Order: a.Order,
            Status: a.Status,
          })),
        };
      }),
    }));

  add("POST", "/ref/v1/users", async (req) => {
    const b = await req.json<Record<string, unknown>>();
    const extra = b.ExtraAddresses;
    if (
      extra !== undefined && (!Array.isArray(extra) || extra.some((e) => typeof e !== "string"))
    ) {
      throw new ApiServerError(422, 2001, "ExtraAddresses must be a list of strings");
    }
    if (b.KeyType !== undefined && b.KeyType !== "ecc" && b.KeyType !== "rsa") {
      throw new ApiServerError(422, 2001, 'KeyType must be "ecc" or "rsa"');
    }
    const messages = b.Messages;
    if (messages !== undefined && (!Number.isInteger(messages) || (messages as number) < 0)) {
      throw new ApiServerError(422, 2001, "Messages must be a non-negative integer");
    }
    const created = await ctx.createUser({
      email: str(b.Email, "Email")!,
      password: str(b.Password, "Password")!,
      mailboxPassword: str(b.MailboxPassword, "MailboxPassword", true),
      totpSecret: str(b.TotpSecret, "TotpSecret", true),
      extraAddresses: extra as string[] | undefined,
      keyType: b.KeyType as "ecc" | "rsa" | undefined,
      messages: messages as number | undefined,
    });
    return ok({ ...created });
  });

  add("PUT", "/ref/v1/users/:user/totp", async (req) => {
    const b = await req.json<{ Secret?: unknown }>();
    if (b.Secret !== null && typeof b.Secret !== "string") {
      throw new ApiServerError(422, 2001, "Secret must be a base32 string or null");
    }
    accounts.setTotpSecret(user(req.params.user), b.Secret);
    return ok();
  });

  add("PUT", "/ref/v1/users/:user/max-space", async (req) => {
    const b = await req.json<{ MaxSpace?: unknown }>();
    if (typeof b.MaxSpace !== "number") {
      throw new ApiServerError(422, 2001, "MaxSpace must be a non-negative integer");
    }
    return ok({ User: accounts.setMaxSpace(user(req.params.user), b.MaxSpace) });
  });

  add("POST", "/ref/v1/users/:user/addresses", async (req) => {
    const b = await req.json<Record<string, unknown>>();
    if (b.KeyType !== undefined && b.KeyType !== "ecc" && b.KeyType !== "rsa") {
      throw new ApiServerError(422, 2001, 'KeyType must be "ecc" or "rsa"');
    }
    const address = await accounts.addAddress(user(req.params.user), str(b.Email, "Email")!, {
      type: typeof b.Type === "number" ? b.Type : undefined,
      displayName: str(b.DisplayName, "DisplayName", true),
      keyType: b.KeyType as "ecc" | "rsa" | undefined,
    });
    return ok({ Address: address });
  });
  add(
    "PUT",
    "/ref/v1/addresses/:id/disable",
    (req) => ok({ Address: accounts.setAddressStatus(req.params.id, 0) }),
  );
  add(
    "PUT",
    "/ref/v1/addresses/:id/enable",
    (req) => ok({ Address: accounts.setAddressStatus(req.params.id, 1) }),
  );
  add("DELETE", "/ref/v1/addresses/:id", (req) => {
    accounts.deleteAddress(req.params.id);
    return ok();
  });

  add("PUT", "/ref/v1/users/:user/mail-settings", async (req) => {
    const b = await req.json<Partial<MailSettings>>();
    const unknown = Object.keys(b).filter((k) => !(k in DEFAULT_MAIL_SETTINGS));
    if (unknown.length > 0) {
      throw new ApiServerError(422, 2001, `Unknown mail settings: ${unknown.join(", ")}`);
    }
    return ok({ MailSettings: core.setMailSettings(user(req.params.user), b) });
  });

  add("POST", "/ref/v1/keys", async (req) => {
    const b = await req.json<Record<string, unknown>>();
    const email = str(b.Email, "Email")!;
    const key = str(b.PublicKey, "PublicKey")!;
    if (!key.includes("BEGIN PGP PUBLIC KEY BLOCK")) {
      throw new ApiServerError(422, 2001, "PublicKey must be an armored public key");
    }
    core.addExternalKey(email, key, typeof b.Flags === "number" ? b.Flags : 3);
    return ok();
  });

  add("POST", "/ref/v1/users/:user/contacts", async (req) => {
    const b = await req.json<NewContact>();
    return ok({ Contact: core.addContact(user(req.params.user), b) });
  });

  add("GET", "/ref/v1/faults", () => ok({ Faults: faults.list() }));
  add("POST", "/ref/v1/faults", async (req) => {
    const rule = await req.json<FaultRule>();
    return ok({ ID: wrapRange(() => faults.add(rule)) });
  });
  add("PUT", "/ref/v1/faults", async (req) => {
    const b = await req.json<{ Faults?: FaultRule[] }>();
    if (!Array.isArray(b.Faults)) throw new ApiServerError(422, 2001, "Faults must be a list");
    return ok({ IDs: wrapRange(() => faults.set(b.Faults!)) });
  });
  add("DELETE", "/ref/v1/faults", () => {
    faults.clear();
    return ok();
  });
  add("DELETE", "/ref/v1/faults/:id", (req) => {
    faults.clear(req.params.id);
    return ok();
  });
  add("POST", "/ref/v1/human-verification", async (req) => {
    const text = await req.request.text();
    let rule: HumanVerificationRule = {};
    if (text.trim() !== "") {
      try {
        rule = JSON.parse(text);
      } catch {
        throw new ApiServerError(400, 2001, "Malformed JSON body");
      }
    }
    return ok({ ID: wrapRange(() => faults.requireHumanVerification(rule)) });
  });

  add(
    "POST",
    "/ref/v1/users/:user/expire-access-tokens",
    (req) => ok({ Sessions: accounts.expireAccessTokens(user(req.params.user)) }),
  );
  add("POST", "/ref/v1/users/:user/revoke-sessions", async (req) => {
    const text = await req.request.text();
    let refreshOnly = false;
    if (text.trim() !== "") {
      try {
        refreshOnly = JSON.parse(text).RefreshOnly === true;
      } catch {
        throw new ApiServerError(400, 2001, "Malformed JSON body");
      }
    }
    return ok({ Sessions: accounts.revokeSessions(user(req.params.user), refreshOnly) });
  });

  add("PUT", "/ref/v1/settings", async (req) => {
    const b = await req.json<Record<string, unknown>>();
    const pos = (v: unknown, name: string) => {
      if (v === undefined) return undefined;
      if (!Number.isInteger(v) || (v as number) < 1) {
        throw new ApiServerError(422, 2001, `${name} must be a positive integer`);
      }
      return v as number;
    };
    const life = pos(b.AccessTokenLifetimeSec, "AccessTokenLifetimeSec");
    const items = pos(b.MaxEventItems, "MaxEventItems");
    if (life !== undefined) accounts.accessTokenLifetimeSec = life;
    if (items !== undefined) ctx.events.maxItems = items;
    return ok({
      AccessTokenLifetimeSec: accounts.accessTokenLifetimeSec,
      MaxEventItems: ctx.events.maxItems,
    });
  });
}

function wrapRange<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) {
      throw new ApiServerError(422, 2001, err.message);
    }
    throw err;
  }
}
