/**
 * Core routes of the reference server: the user, addresses, key salts, recipient public keys,
 * mail settings and contacts (proton-api.md §1.3, §1.12), plus the small store behind the last
 * three ({@link CoreData}), which the control routes fill.
 *
 * | Route | Reply |
 * |---|---|
 * | `GET /core/v4/users` | `{User}` (user keys in `Keys`) |
 * | `GET /core/v4/addresses` | `{Addresses}` sorted by `Order` |
 * | `GET /core/v4/addresses/{id}` | `{Address}` |
 * | `GET /core/v4/keys/salts` | `{KeySalts}` |
 * | `GET /core/v4/keys?Email=` | `{Keys, RecipientType}`: 1 with keys for our users, else 2 (with the keys a control registered, if any) |
 * | `GET /core/v4/settings` | `{UserSettings}` (telemetry and crash reports off, password mode, 2FA) |
 * | `GET /core/v4/organizations` | `{Organization}` of a free plan |
 * | `GET /mail/v4/settings` | `{MailSettings}` |
 * | `GET /contacts/v4/emails?Email=&Page=&PageSize=` | `{ContactEmails, Total}` (PageSize ≤ 150) |
 * | `GET /contacts/v4` | `{Contacts, Total}` |
 * | `GET /contacts/v4/{id}` | `{Contact}` with `Cards` |
 * | `GET /tests/ping` | `{}` (no auth) |
 *
 * @module
 */
import type { Db, Doc } from "./db.ts";
import type { EventLog } from "./event_log.ts";
import { ApiServerError, ok, type Router } from "./http.ts";
import type { Accounts } from "./accounts.ts";
import { randomId } from "./accounts.ts";
import type { Card, Contact, ContactEmail, MailSettings, PublicKeyEntry } from "../api/types.ts";

/** Mail settings of a new user (go-proton-api `newMailSettings`; `PGPScheme` 16 = PGP/MIME). */
export const DEFAULT_MAIL_SETTINGS: MailSettings = {
  DisplayName: "",
  Signature: "",
  DraftMIMEType: "text/html",
  AttachPublicKey: 0,
  Sign: 0,
  PGPScheme: 16,
};

/** What a control sends to add a contact. */
export interface NewContact {
  Name: string;
  /** Emails of the contact; `Type` defaults to `[]`. */
  Emails: { Email: string; Name?: string; Type?: string[] }[];
  /** Cards as stored; when absent one clear (Type 0) vCard with FN and EMAIL lines is made. */
  Cards?: Card[];
}

interface ContactRecord extends Doc {
  ID: string;
  UserID: string;
  Name: string;
  UID: string;
  CreateTime: number;
  ModifyTime: number;
  ContactEmails: ContactEmail[];
  LabelIDs: string[];
  Cards: Card[];
}

/** Mail settings, external recipients' public keys and contacts, kept in the {@link Db}. */
export class CoreData {
  #db: Db;
  #events?: EventLog;

  /** Opens the data kept in `db`; changes to settings are announced on `events`. */
  constructor(db: Db, events?: EventLog) {
    this.#db = db;
    this.#events = events;
  }

  /** The user's mail settings. */
  mailSettings(userID: string): MailSettings {
    const s = this.#db.get<MailSettings & Doc>("mailsettings", userID);
    return { ...DEFAULT_MAIL_SETTINGS, ...s };
  }

  /** Changes some mail settings and announces them with a `MailSettings` event. */
  setMailSettings(userID: string, changes: Partial<MailSettings>): MailSettings {
    const next = { ...this.mailSettings(userID) };
    for (const k of Object.keys(DEFAULT_MAIL_SETTINGS) as (keyof MailSettings)[]) {
      const v = changes[k];
      if (v === undefined) continue;
      if (typeof v !== typeof DEFAULT_MAIL_SETTINGS[k]) {
        throw new ApiServerError(422, 2001, `MailSettings.${k} has the wrong type`);
      }
      (next as Record<string, unknown>)[k] = v;
    }
    this.#db.put("mailsettings", userID, { ...next });
    this.#events?.append(userID, { MailSettings: next });
    return next;
  }

  /** Registers public keys for an external address ("external recipient with key", e.g. WKD). */
  addExternalKey(email: string, publicKey: string, flags = 3): void {
    const id = email.trim().toLowerCase();
    const rec = this.#db.get<{ Keys: PublicKeyEntry[] } & Doc>("extkey", id) ?? { Keys: [] };
    rec.Keys.push({ Flags: flags, PublicKey: publicKey });
    this.#db.put("extkey", id, rec);
  }

  /** Public keys registered for an external address. */
  externalKeys(email: string): PublicKeyEntry[] {
    return this.#db.get<{ Keys: PublicKeyEntry[] } & Doc>("extkey", email.trim().toLowerCase())
      ?.Keys ?? [];
  }

  /** Adds a contact for a user and returns it. */
  addContact(userID: string, c: NewContact): Contact {
    if (typeof c?.Name !== "string" || !Array.isArray(c.Emails)) {
      throw new ApiServerError(422, 2001, "A contact needs Name and Emails");
    }
    const id = randomId();
    const now = Math.floor(Date.now() / 1000);
    const emails: ContactEmail[] = c.Emails.map((e) => ({
      ID: randomId(),
      Name: e.Name ?? c.Name,
      Email: e.Email,
      Type: e.Type ?? [],
      ContactID: id,
      LabelIDs: [],
    }));
    const uid = `proton-web-${crypto.randomUUID()}`;
    const cards = c.Cards ?? [{
      Type: 0,
      Data: [
        "BEGIN:VCARD",
        "VERSION:4.0",
        `FN:${c.Name}`,
        `UID:${uid}`,
        ...c.Emails.map((e, i) => `item${i + 1}.EMAIL;PREF=${i + 1}:${e.Email}`),
        "END:VCARD",
      ].join("\r\n"),
      Signature: null,
    }];
    const rec: ContactRecord = {
      ID: id,
      UserID: userID,
      Name: c.Name,
      UID: uid,
      CreateTime: now,
      ModifyTime: now,
      ContactEmails: emails,
      LabelIDs: [],
      Cards: cards,
    };
    this.#db.put("contact", id, rec);
    return toContact(rec);
  }

  /** A user's contact, or `undefined`. */
  contact(userID: string, id: string): Contact | undefined {
    const rec = this.#db.get<ContactRecord>("contact", id);
    return rec && rec.UserID === userID ? toContact(rec) : undefined;
  }

  /** All contacts of a user, oldest first. */
  contacts(userID: string): Contact[] {
    return this.#db.list<ContactRecord>("contact").filter((c) => c.UserID === userID)
      .map(toContact);
  }

  /** All contact emails of a user, optionally only those for `email` (any case). */
  contactEmails(userID: string, email?: string): ContactEmail[] {
    const want = email?.trim().toLowerCase();
    return this.contacts(userID).flatMap((c) => c.ContactEmails)
      .filter((e) => !want || e.Email.toLowerCase() === want);
  }
}

function toContact(r: ContactRecord): Contact {
  return {
    ID: r.ID,
    Name: r.Name,
    UID: r.UID,
    Size: r.Cards.reduce((n, c) => n + c.Data.length, 0),
    CreateTime: r.CreateTime,
    ModifyTime: r.ModifyTime,
    ContactEmails: r.ContactEmails,
    LabelIDs: r.LabelIDs,
    Cards: r.Cards,
  };
}

/** Reads a non-negative integer query parameter with a default. */
function intParam(url: URL, name: string, dflt: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new ApiServerError(400, 2001, `${name} must be a non-negative integer`);
  }
  return n;
}

function page<T>(url: URL, items: T[]): T[] {
  const p = intParam(url, "Page", 0);
  const size = intParam(url, "PageSize", 100);
  if (size < 1 || size > 150) throw new ApiServerError(400, 2001, "PageSize must be 1..150");
  return items.slice(p * size, p * size + size);
}

/** Registers the core routes on `router`. */
export function registerCoreRoutes(router: Router, accounts: Accounts, core: CoreData): void {
  router.add("GET", "/tests/ping", () => ok(), { auth: false });

  router.add("GET", "/core/v4/users", (req) => ok({ User: accounts.wireUser(req.userID) }));

  router.add(
    "GET",
    "/core/v4/addresses",
    (req) => ok({ Addresses: accounts.wireAddresses(req.userID) }),
  );
  router.add("GET", "/core/v4/addresses/:id", (req) => {
    const a = accounts.wireAddress(req.userID, req.params.id);
    if (!a) throw new ApiServerError(422, 2501, "Address does not exist");
    return ok({ Address: a });
  });

  router.add(
    "GET",
    "/core/v4/keys/salts",
    (req) => ok({ KeySalts: accounts.keySalts(req.userID) }),
  );
  router.add("GET", "/core/v4/keys", (req) => {
    const email = req.url.searchParams.get("Email") ?? "";
    if (email === "") throw new ApiServerError(400, 2001, "Email is required");
    const addr = accounts.findAddress(email);
    if (addr) {
      const Keys = accounts.addressPublicKeys(addr.ID).map((PublicKey, i) => ({
        Flags: 3,
        PublicKey,
        Primary: i === 0 ? 1 : 0,
      }));
      if (Keys.length > 0) return ok({ Keys, RecipientType: 1, MIMEType: "text/html" });
    }
    return ok({ Keys: core.externalKeys(email), RecipientType: 2, MIMEType: "text/html" });
  });

  router.add("GET", "/core/v4/settings", (req) => {
    const login = accounts.loginSettings(req.userID);
    return ok({
      UserSettings: {
        Telemetry: 0,
        CrashReports: 0,
        Locale: "en_US",
        Password: { Mode: login.PasswordMode },
        "2FA": { Enabled: login.TotpEnabled ? 1 : 0 },
      },
    });
  });
  router.add(
    "GET",
    "/core/v4/organizations",
    () => ok({ Organization: { Name: "", DisplayName: "", PlanName: "free", MaxMembers: 1 } }),
  );

  router.add(
    "GET",
    "/mail/v4/settings",
    (req) => ok({ MailSettings: core.mailSettings(req.userID) }),
  );

  router.add("GET", "/contacts/v4/emails", (req) => {
    const all = core.contactEmails(req.userID, req.url.searchParams.get("Email") ?? undefined);
    return ok({ ContactEmails: page(req.url, all), Total: all.length });
  });
  router.add("GET", "/contacts/v4", (req) => {
    const all = core.contacts(req.userID);
    return ok({ Contacts: page(req.url, all), Total: all.length });
  });
  router.add("GET", "/contacts/v4/:id", (req) => {
    const c = core.contact(req.userID, req.params.id);
    if (!c) throw new ApiServerError(422, 2501, "Contact does not exist");
    return ok({ Contact: c });
  });
}
