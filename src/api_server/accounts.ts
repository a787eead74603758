/**
 * Accounts of the reference server: users with SRP verifiers, user keys and key salts, addresses
 * with token-scheme address keys, and login sessions (access and refresh tokens). Everything is
 * kept in the server's {@link Db} so `bridge api-server --data DIR` survives restarts; only SRP
 * handshakes in flight and unlocked keys live in memory.
 *
 * How a user is built (proton-api.md §2, §3.1; go-proton-api `server/backend/backend.go`):
 * - SRP: a 10-byte random salt and the verifier `g^x mod N` over the reference modulus, password
 *   hashing version 4.
 * - One user key, locked with the key password: bcrypt of the mailbox password (the login password
 *   in one-password mode) with the key's own 16-byte `KeySalt`, last 31 characters.
 * - Per address one key locked with a random token; the token travels encrypted to the user key
 *   (`Token`) with a detached signature by the user key (`Signature`). The server also keeps the
 *   token, which a real server never sees: the reference server needs the unlocked address keys
 *   to encrypt and sign the mail it delivers.
 *
 * Storage figures: `MaxSpace` is kept with the user (1 GiB at creation, changed by
 * {@link Accounts.setMaxSpace}); `UsedSpace` is not stored here but asked of the mail model,
 * which owns the messages it sums (see {@link Accounts.setUsedSpaceSource}).
 *
 * Implements {@link AccountDirectory} for the mail model.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import type { Db, Doc } from "./db.ts";
import type { EventLog } from "./event_log.ts";
import { ApiServerError } from "./http.ts";
import type { AccountDirectory, AddressInfo } from "./directory.ts";
import type { Address, Auth, AuthInfo, Key, KeySalt, User } from "../api/types.ts";
import {
  deriveKeyPassword,
  fromBase64,
  generateKey,
  makeAddressKeyToken,
  toBase64,
  unlockKey,
} from "../crypto/mod.ts";
import { generateVerifier, SrpServerSession } from "../crypto/srp_server.ts";
import { totpStep } from "../crypto/totp.ts";

/** Options of {@link Accounts.createUser}. */
export interface CreateUserOptions {
  /** Primary address; its local part becomes the user `Name`. */
  email: string;
  /** Login password (SRP). */
  password: string;
  /** Separate mailbox password: two-password mode (`PasswordMode` 2). */
  mailboxPassword?: string;
  /** Base32 TOTP secret: the login then needs `POST /auth/v4/2fa`. */
  totpSecret?: string;
  /** More addresses (aliases, `Type` 2), in `Order` after the primary one. */
  extraAddresses?: string[];
  /** Key algorithm of the user and address keys (default `ecc`). */
  keyType?: "ecc" | "rsa";
  /** SRP password hashing version (only 4 is supported). */
  srpVersion?: 4;
  /** `DisplayName` of the user and its addresses (default: the local part). */
  displayName?: string;
}

/** What {@link Accounts.createUser} returns. */
export interface CreatedUser {
  UserID: string;
  Name: string;
  AddressIDs: string[];
  UserKeyID: string;
  PasswordMode: 1 | 2;
}

/** A key as stored: the wire fields plus what only the reference server keeps. */
interface StoredKey {
  ID: string;
  PrivateKey: string;
  PublicKey: string;
  Token: string | null;
  Signature: string | null;
  Primary: 0 | 1;
  Active: 0 | 1;
  Flags: number;
  /** Base64 key salt (user keys only). */
  KeySalt: string | null;
  /** The key's passphrase (key password for user keys, token for address keys). */
  Passphrase: string;
}

interface UserRecord extends Doc {
  ID: string;
  Name: string;
  DisplayName: string;
  Email: string;
  PasswordMode: 1 | 2;
  CreateTime: number;
  SrpVersion: number;
  SrpSalt: string;
  SrpVerifier: string;
  TotpSecret: string | null;
  /** The time step of the last TOTP code accepted: a code is good once (RFC 6238 §5.2). */
  TotpLastStep?: number;
  Keys: StoredKey[];
  MaxSpace: number;
}

interface AddressRecord extends Doc {
  ID: string;
  UserID: string;
  Email: string;
  Send: 0 | 1;
  Receive: 0 | 1;
  Status: number;
  Type: number;
  Order: number;
  DisplayName: string;
  Keys: StoredKey[];
}

/** A login session as stored. */
export interface SessionRecord extends Doc {
  UID: string;
  UserID: string;
  AccessToken: string;
  /** Unix milliseconds after which the access token is refused. */
  AccessExpires: number;
  /** `null` once revoked. */
  RefreshToken: string | null;
  /** `true` until the TOTP code has been given. */
  TwoFactorPending: boolean;
  CreateTime: number;
}

interface PendingSrp {
  userID: string;
  server: SrpServerSession;
  expires: number;
}

/** Scope of a fully logged-in session. */
export const FULL_SCOPE =
  "full self parent user loggedin nondelinquent mail verified settings keys payments";
/** Scope of a session that still owes its TOTP code. */
export const TWO_FACTOR_SCOPE = "twofactor";

/** Options of the {@link Accounts} constructor. */
export interface AccountsOptions {
  /** The SRP modulus (base64 of 256 little-endian bytes). */
  modulusB64: string;
  /** The modulus as a PGP clear-signed message (what `/auth/v4/info` sends). */
  signedModulus: string;
  /** Access token lifetime in seconds (default 24 h). */
  accessTokenLifetimeSec?: number;
  /** Where address changes are announced (optional). */
  events?: EventLog;
  /** Clock in Unix milliseconds (tests). */
  now?: () => number;
}

/** The modulus ID of the reference server's only modulus. */
export const MODULUS_ID = "reference-modulus-1";

const SRP_SESSION_TTL_MS = 10 * 60 * 1000;

/** Random URL-safe identifier with `n` random bytes. */
export function randomId(n = 24): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(n)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomToken(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(20)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

function wireKey(k: StoredKey, address: boolean): Key {
  const key: Key = {
    ID: k.ID,
    PrivateKey: k.PrivateKey,
    Primary: k.Primary,
    Active: k.Active,
    Flags: k.Flags,
    Version: 3,
  };
  if (address) {
    key.Token = k.Token;
    key.Signature = k.Signature;
  }
  return key;
}

/** Users, addresses, keys and sessions of the reference server. */
export class Accounts implements AccountDirectory {
  #db: Db;
  #opts: AccountsOptions;
  #srp = new Map<string, PendingSrp>();
  #unlocked = new Map<string, Promise<openpgp.PrivateKey>>();
  #usedSpace: (userID: string) => number = () => 0;
  /** Access token lifetime in seconds. */
  accessTokenLifetimeSec: number;

  /** Opens the accounts kept in `db`. */
  constructor(db: Db, opts: AccountsOptions) {
    this.#db = db;
    this.#opts = opts;
    this.accessTokenLifetimeSec = opts.accessTokenLifetimeSec ?? 24 * 3600;
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }

  // -------------------------------------------------------------------------------------------
  // Users and addresses
  // -------------------------------------------------------------------------------------------

  /** Creates a user with its keys and addresses. Throws 2500 if an address is taken. */
  async createUser(opts: CreateUserOptions): Promise<CreatedUser> {
    const email = opts.email.trim();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
      throw new ApiServerError(422, 2001, `Invalid email address "${opts.email}"`);
    }
    if (typeof opts.password !== "string" || opts.password === "") {
      throw new ApiServerError(422, 2001, "The password must not be empty");
    }
    const version = opts.srpVersion ?? 4;
    if (version !== 4) throw new ApiServerError(422, 2001, "Only SRP version 4 is supported");
    const all = [email, ...(opts.extraAddresses ?? []).map((e) => e.trim())];
    const seen = new Set<string>();
    for (const e of all) {
      if (!/^[^@\s]+@[^@\s]+$/.test(e)) {
        throw new ApiServerError(422, 2001, `Invalid email address "${e}"`);
      }
      if (seen.has(e.toLowerCase()) || this.findAddress(e)) {
        throw new ApiServerError(409, 2500, `Address ${e} already exists`);
      }
      seen.add(e.toLowerCase());
    }
    const name = email.split("@")[0];
    if (this.#userByName(name)) {
      throw new ApiServerError(409, 2500, `User name ${name} already exists`);
    }
    const displayName = opts.displayName ?? name;
    const keyType = opts.keyType ?? "ecc";

    const srpSalt = crypto.getRandomValues(new Uint8Array(10));
    const verifier = generateVerifier(
      version,
      opts.password,
      name,
      srpSalt,
      fromBase64(this.#opts.modulusB64),
    );

    const twoPassword = opts.mailboxPassword !== undefined &&
      opts.mailboxPassword !== opts.password;
    const keySalt = toBase64(crypto.getRandomValues(new Uint8Array(16)));
    const keyPassword = deriveKeyPassword(opts.mailboxPassword ?? opts.password, keySalt);
    const userKey = await generateKey({
      email,
      name: displayName,
      type: keyType,
      passphrase: keyPassword,
    });
    const userID = randomId();
    const user: UserRecord = {
      ID: userID,
      Name: name,
      DisplayName: displayName,
      Email: email,
      PasswordMode: twoPassword ? 2 : 1,
      CreateTime: Math.floor(this.#now() / 1000),
      SrpVersion: version,
      SrpSalt: toBase64(srpSalt),
      SrpVerifier: toBase64(verifier),
      TotpSecret: opts.totpSecret ?? null,
      Keys: [{
        ID: randomId(),
        PrivateKey: userKey.privateKey,
        PublicKey: userKey.publicKey,
        Token: null,
        Signature: null,
        Primary: 1,
        Active: 1,
        Flags: 3,
        KeySalt: keySalt,
        Passphrase: keyPassword,
      }],
      MaxSpace: 1024 ** 3,
    };
    const addresses: AddressRecord[] = [];
    for (let i = 0; i < all.length; i++) {
      addresses.push(await this.#buildAddress(user, all[i], i + 1, i === 0 ? 1 : 2, keyType));
    }
    this.#db.transaction(() => {
      this.#db.put("user", user.ID, user);
      for (const a of addresses) this.#db.put("address", a.ID, a);
    });
    return {
      UserID: userID,
      Name: name,
      AddressIDs: addresses.map((a) => a.ID),
      UserKeyID: user.Keys[0].ID,
      PasswordMode: user.PasswordMode,
    };
  }

  async #buildAddress(
    user: UserRecord,
    email: string,
    order: number,
    type: number,
    keyType: "ecc" | "rsa",
    displayName = user.DisplayName,
  ): Promise<AddressRecord> {
    const primary = user.Keys.find((k) => k.Primary) ?? user.Keys[0];
    const userKey = await unlockKey(primary.PrivateKey, primary.Passphrase);
    const token = await makeAddressKeyToken(userKey);
    const key = await generateKey({
      email,
      name: displayName,
      type: keyType,
      passphrase: token.passphrase,
    });
    return {
      ID: randomId(),
      UserID: user.ID,
      Email: email,
      Send: 1,
      Receive: 1,
      Status: 1,
      Type: type,
      Order: order,
      DisplayName: displayName,
      Keys: [{
        ID: randomId(),
        PrivateKey: key.privateKey,
        PublicKey: key.publicKey,
        Token: token.Token,
        Signature: token.Signature,
        Primary: 1,
        Active: 1,
        Flags: 3,
        KeySalt: null,
        Passphrase: token.passphrase,
      }],
    };
  }

  /**
   * Adds an address (with a new key) to a user, after the existing ones in `Order`, and announces
   * it with an `Addresses` Create event.
   */
  async addAddress(
    userID: string,
    email: string,
    opts: { type?: number; displayName?: string; keyType?: "ecc" | "rsa" } = {},
  ): Promise<Address> {
    const user = this.#user(userID);
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
      throw new ApiServerError(422, 2001, `Invalid email address "${email}"`);
    }
    if (this.findAddress(email)) throw new ApiServerError(409, 2500, `Address ${email} exists`);
    const order = Math.max(0, ...this.#addressRecords(userID).map((a) => a.Order)) + 1;
    const rec = await this.#buildAddress(
      user,
      email,
      order,
      opts.type ?? 2,
      opts.keyType ?? "ecc",
      opts.displayName ?? user.DisplayName,
    );
    this.#db.put("address", rec.ID, rec);
    const wire = this.#wireAddress(rec);
    this.#opts.events?.append(userID, { Addresses: [{ ID: rec.ID, Action: 1, Address: wire }] });
    return wire;
  }

  /** Enables (1) or disables (0) an address and announces it with an Update event. */
  setAddressStatus(addressID: string, status: 0 | 1): Address {
    const rec = this.#db.get<AddressRecord>("address", addressID);
    if (!rec) throw new ApiServerError(422, 2501, "Address does not exist");
    rec.Status = status;
    rec.Send = status;
    rec.Receive = status;
    this.#db.put("address", rec.ID, rec);
    const wire = this.#wireAddress(rec);
    this.#opts.events?.append(rec.UserID, {
      Addresses: [{ ID: rec.ID, Action: 2, Address: wire }],
    });
    return wire;
  }

  /** Deletes an address and announces it with a Delete event. */
  deleteAddress(addressID: string): void {
    const rec = this.#db.get<AddressRecord>("address", addressID);
    if (!rec) throw new ApiServerError(422, 2501, "Address does not exist");
    this.#db.delete("address", addressID);
    this.#unlocked.delete(addressID);
    this.#opts.events?.append(rec.UserID, { Addresses: [{ ID: rec.ID, Action: 0 }] });
  }

  /**
   * Names where a user's `UsedSpace` comes from: the mail model's running total of its messages'
   * sizes. Until set, every user uses 0 bytes.
   */
  setUsedSpaceSource(source: (userID: string) => number): void {
    this.#usedSpace = source;
  }

  /**
   * Sets the user's `MaxSpace` in bytes (any non-negative integer, also below `UsedSpace`: tests
   * use that for a full mailbox). When the value changes, announces the user as
   * `GET /core/v4/users` returns it with a `User` event.
   *
   * @returns The user as `GET /core/v4/users` returns it.
   * @throws {ApiServerError} 422 2001 for a value that is not a non-negative integer; 422 2501 for
   * an unknown user.
   */
  setMaxSpace(userID: string, maxSpace: number): User {
    if (!Number.isSafeInteger(maxSpace) || maxSpace < 0) {
      throw new ApiServerError(422, 2001, "MaxSpace must be a non-negative integer");
    }
    const user = this.#user(userID);
    if (user.MaxSpace === maxSpace) return this.wireUser(userID);
    user.MaxSpace = maxSpace;
    this.#db.put("user", user.ID, user);
    const wire = this.wireUser(userID);
    this.#opts.events?.append(userID, { User: wire });
    return wire;
  }

  /** Sets or clears (null) the user's TOTP secret. */
  setTotpSecret(userID: string, secret: string | null): void {
    const user = this.#user(userID);
    user.TotpSecret = secret;
    delete user.TotpLastStep;
    this.#db.put("user", user.ID, user);
  }

  #user(userID: string): UserRecord {
    const u = this.#db.get<UserRecord>("user", userID);
    if (!u) throw new ApiServerError(422, 2501, "User does not exist");
    return u;
  }

  #userByName(name: string): UserRecord | undefined {
    const n = name.toLowerCase();
    return this.#db.list<UserRecord>("user").find((u) => u.Name.toLowerCase() === n);
  }

  /** The user that logs in as `username`: a user name or any of its addresses (any case). */
  findUserByLogin(username: string): string | undefined {
    const u = username.trim();
    if (u.includes("@")) return this.findAddress(u)?.UserID;
    return this.#userByName(u)?.ID;
  }

  /** Whether a user exists. */
  hasUser(userID: string): boolean {
    return this.#db.get("user", userID) !== undefined;
  }

  #addressRecords(userID: string): AddressRecord[] {
    return this.#db.list<AddressRecord>("address").filter((a) => a.UserID === userID)
      .sort((a, b) => a.Order - b.Order);
  }

  #wireAddress(a: AddressRecord): Address {
    return {
      ID: a.ID,
      Email: a.Email,
      Send: a.Send,
      Receive: a.Receive,
      Status: a.Status,
      Type: a.Type,
      Order: a.Order,
      DisplayName: a.DisplayName,
      Keys: a.Keys.map((k) => wireKey(k, true)),
    };
  }

  /** `GET /core/v4/users` → `User`. */
  wireUser(userID: string): User {
    const u = this.#user(userID);
    const primary = this.#addressRecords(userID)[0];
    const used = this.#usedSpace(userID);
    return {
      ID: u.ID,
      Name: u.Name,
      DisplayName: u.DisplayName,
      Email: primary?.Email ?? u.Email,
      Keys: u.Keys.map((k) => wireKey(k, false)),
      UsedSpace: used,
      MaxSpace: u.MaxSpace,
      MaxUpload: 25 * 1024 * 1024,
      Credit: 0,
      Currency: "EUR",
      ProductUsedSpace: { Calendar: 0, Contact: 0, Drive: 0, Mail: used, Pass: 0 },
    };
  }

  /** `GET /core/v4/addresses` → `Addresses`, sorted by `Order`. */
  wireAddresses(userID: string): Address[] {
    return this.#addressRecords(userID).map((a) => this.#wireAddress(a));
  }

  /** `GET /core/v4/addresses/{id}` → `Address`, only if it belongs to `userID`. */
  wireAddress(userID: string, addressID: string): Address | undefined {
    const a = this.#db.get<AddressRecord>("address", addressID);
    return a && a.UserID === userID ? this.#wireAddress(a) : undefined;
  }

  /** `GET /core/v4/keys/salts` → `KeySalts`. */
  keySalts(userID: string): KeySalt[] {
    return this.#user(userID).Keys.map((k) => ({ ID: k.ID, KeySalt: k.KeySalt }));
  }

  /** The user's password mode and whether TOTP is on (for `GET /core/v4/settings`). */
  loginSettings(userID: string): { PasswordMode: 1 | 2; TotpEnabled: boolean } {
    const u = this.#user(userID);
    return { PasswordMode: u.PasswordMode, TotpEnabled: u.TotpSecret !== null };
  }

  /** The armored public key of the user's primary key. */
  userPublicKey(userID: string): string {
    const u = this.#user(userID);
    return (u.Keys.find((k) => k.Primary) ?? u.Keys[0]).PublicKey;
  }

  /** The unlocked primary user key (the server keeps the key password). */
  userKey(userID: string): Promise<openpgp.PrivateKey> {
    const u = this.#user(userID);
    const k = u.Keys.find((k) => k.Primary) ?? u.Keys[0];
    return unlockKey(k.PrivateKey, k.Passphrase);
  }

  // AccountDirectory ----------------------------------------------------------------------------

  /** IDs of all users. */
  userIDs(): string[] {
    return this.#db.list<UserRecord>("user").map((u) => u.ID);
  }

  /** The addresses of a user, sorted by `Order`. */
  addresses(userID: string): AddressInfo[] {
    return this.#addressRecords(userID).map(toInfo);
  }

  /** The address with this email (case-insensitive), or `undefined`. */
  findAddress(email: string): AddressInfo | undefined {
    const e = email.trim().toLowerCase();
    const a = this.#db.list<AddressRecord>("address").find((a) => a.Email.toLowerCase() === e);
    return a ? toInfo(a) : undefined;
  }

  /** The unlocked primary key of an address. */
  addressKey(addressID: string): Promise<openpgp.PrivateKey> {
    let p = this.#unlocked.get(addressID);
    if (!p) {
      const a = this.#db.get<AddressRecord>("address", addressID);
      if (!a) return Promise.reject(new ApiServerError(422, 2501, "Address does not exist"));
      const k = a.Keys.find((k) => k.Primary && k.Active) ?? a.Keys[0];
      p = unlockKey(k.PrivateKey, k.Passphrase);
      p.catch(() => this.#unlocked.delete(addressID));
      this.#unlocked.set(addressID, p);
    }
    return p;
  }

  /** All active public keys of an address, armored, primary first. */
  addressPublicKeys(addressID: string): string[] {
    const a = this.#db.get<AddressRecord>("address", addressID);
    if (!a) return [];
    return a.Keys.filter((k) => k.Active).sort((x, y) => y.Primary - x.Primary)
      .map((k) => k.PublicKey);
  }

  // -------------------------------------------------------------------------------------------
  // SRP login and sessions
  // -------------------------------------------------------------------------------------------

  /**
   * `POST /auth/v4/info`. An unknown user gets HTTP 401 as from go-proton-api's fake server
   * (`withAccName` fails → `AbortWithError(401)`), here with a body: Code 8002.
   */
  authInfo(username: string): AuthInfo {
    const userID = this.findUserByLogin(username ?? "");
    if (!userID) throw loginFailed(401);
    const u = this.#user(userID);
    const server = new SrpServerSession(
      fromBase64(this.#opts.modulusB64),
      fromBase64(u.SrpVerifier),
    );
    const session = randomId(16);
    this.#pruneSrp();
    this.#srp.set(session, { userID, server, expires: this.#now() + SRP_SESSION_TTL_MS });
    return {
      Version: u.SrpVersion,
      Modulus: this.#opts.signedModulus,
      ServerEphemeral: server.serverEphemeral,
      Salt: u.SrpSalt,
      SRPSession: session,
      "2FA": { Enabled: u.TotpSecret ? 1 : 0, FIDO2: null },
    };
  }

  #pruneSrp() {
    const now = this.#now();
    for (const [k, v] of this.#srp) if (v.expires < now) this.#srp.delete(k);
  }

  /** `POST /auth/v4`: checks the SRP proof and opens a session. */
  login(req: {
    Username?: string;
    ClientEphemeral?: string;
    ClientProof?: string;
    SRPSession?: string;
  }): Auth {
    if (
      typeof req.ClientEphemeral !== "string" || typeof req.ClientProof !== "string" ||
      typeof req.SRPSession !== "string"
    ) {
      throw new ApiServerError(
        400,
        2001,
        "ClientEphemeral, ClientProof and SRPSession are required",
      );
    }
    const pending = this.#srp.get(req.SRPSession);
    if (!pending || pending.expires < this.#now()) {
      this.#srp.delete(req.SRPSession);
      throw new ApiServerError(422, 2001, "Invalid or expired SRP session");
    }
    // One proof attempt per handshake, as go-proton-api does.
    this.#srp.delete(req.SRPSession);
    const named = this.findUserByLogin(req.Username ?? "");
    if (req.Username !== undefined && named !== pending.userID) throw loginFailed(422);
    let serverProof: string;
    try {
      serverProof = pending.server.verifyClientProof(req.ClientEphemeral, req.ClientProof);
    } catch {
      throw loginFailed(422);
    }
    const u = this.#user(pending.userID);
    const session = this.#newSession(u.ID, u.TotpSecret !== null);
    return this.#authReply(u, session, serverProof);
  }

  #newSession(userID: string, twoFactor: boolean): SessionRecord {
    const now = this.#now();
    const s: SessionRecord = {
      UID: randomId(20),
      UserID: userID,
      AccessToken: randomToken(),
      AccessExpires: now + this.accessTokenLifetimeSec * 1000,
      RefreshToken: randomToken(),
      TwoFactorPending: twoFactor,
      CreateTime: Math.floor(now / 1000),
    };
    this.#db.put("session", s.UID, s);
    return s;
  }

  #authReply(u: UserRecord, s: SessionRecord, serverProof: string): Auth {
    return {
      UserID: u.ID,
      UID: s.UID,
      AccessToken: s.AccessToken,
      RefreshToken: s.RefreshToken ?? "",
      ServerProof: serverProof,
      Scope: s.TwoFactorPending ? TWO_FACTOR_SCOPE : FULL_SCOPE,
      "2FA": { Enabled: u.TotpSecret ? 1 : 0, FIDO2: null },
      PasswordMode: u.PasswordMode,
      TokenType: "Bearer",
      ExpiresIn: Math.max(0, Math.floor((s.AccessExpires - this.#now()) / 1000)),
    } as Auth;
  }

  /** The live session for `uid` whose access token is `token`, or `undefined`. */
  verifyAccess(uid: string, token: string): SessionRecord | undefined {
    const s = this.#db.get<SessionRecord>("session", uid);
    if (!s || s.AccessToken !== token || s.AccessExpires <= this.#now()) return undefined;
    if (!this.hasUser(s.UserID)) return undefined;
    return s;
  }

  /** `POST /auth/v4/2fa`: checks the TOTP code and lifts the session to full scope. */
  submitTwoFactor(uid: string, code: string): { Scope: string } {
    const s = this.#db.get<SessionRecord>("session", uid);
    if (!s) throw new ApiServerError(401, 401, "Invalid access token");
    const u = this.#user(s.UserID);
    if (!u.TotpSecret) {
      throw new ApiServerError(422, 2001, "Two-factor authentication is not enabled");
    }
    if (!s.TwoFactorPending) return { Scope: FULL_SCOPE };
    const step = typeof code === "string"
      ? totpStep(u.TotpSecret, code, this.#now() / 1000)
      : undefined;
    if (step === undefined || step <= (u.TotpLastStep ?? -1)) {
      // A code already used (or an older one) is refused like a wrong one: a code seen on the
      // wire cannot open a second session.
      throw new ApiServerError(422, 8002, "Incorrect login credentials. Please try again.");
    }
    u.TotpLastStep = step;
    this.#db.put("user", u.ID, u);
    s.TwoFactorPending = false;
    this.#db.put("session", s.UID, s);
    return { Scope: FULL_SCOPE };
  }

  /** `POST /auth/v4/refresh`: rotates both tokens; the old refresh token stops working. */
  refresh(uid: string, refreshToken: string): Auth {
    const s = typeof uid === "string" ? this.#db.get<SessionRecord>("session", uid) : undefined;
    if (
      !s || s.RefreshToken === null || typeof refreshToken !== "string" ||
      s.RefreshToken !== refreshToken || !this.hasUser(s.UserID)
    ) {
      throw new ApiServerError(422, 10013, "Invalid refresh token");
    }
    s.AccessToken = randomToken();
    s.RefreshToken = randomToken();
    s.AccessExpires = this.#now() + this.accessTokenLifetimeSec * 1000;
    this.#db.put("session", s.UID, s);
    return this.#authReply(this.#user(s.UserID), s, "");
  }

  /** Ends one session (logout). */
  deleteSession(uid: string): void {
    this.#db.delete("session", uid);
  }

  /** Sessions of a user. */
  sessions(userID: string): SessionRecord[] {
    return this.#db.list<SessionRecord>("session").filter((s) => s.UserID === userID);
  }

  /** Makes every access token of a user expire now (the next call gets 401, refresh works). */
  expireAccessTokens(userID: string): number {
    const list = this.sessions(userID);
    for (const s of list) {
      s.AccessExpires = 0;
      this.#db.put("session", s.UID, s);
    }
    return list.length;
  }

  /**
   * Revokes the sessions of a user: with `refreshOnly` the refresh tokens die (access tokens work
   * until they expire), else the sessions are deleted outright.
   */
  revokeSessions(userID: string, refreshOnly = false): number {
    const list = this.sessions(userID);
    for (const s of list) {
      if (refreshOnly) {
        s.RefreshToken = null;
        this.#db.put("session", s.UID, s);
      } else {
        this.#db.delete("session", s.UID);
      }
    }
    return list.length;
  }
}

function toInfo(a: AddressRecord): AddressInfo {
  return {
    ID: a.ID,
    UserID: a.UserID,
    Email: a.Email,
    Send: a.Send,
    Receive: a.Receive,
    Status: a.Status,
    Type: a.Type,
    Order: a.Order,
    DisplayName: a.DisplayName,
  };
}

function loginFailed(status: number): ApiServerError {
  return new ApiServerError(status, 8002, "Incorrect login credentials. Please try again.");
}
