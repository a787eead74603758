/**
 * Assembly of the reference API server: storage, accounts, mail model, events, faults, the
 * routers, and the request pipeline on `Deno.serve`.
 *
 * Pipeline of one request:
 * 1. `/ref/v1/…` goes to the control router (no app version, no auth, no faults).
 * 2. `x-pm-appversion` must be present (else 400 Code 5001) and look like `<name>@<semver>`
 *    (else 400 Code 5003).
 * 3. Fault rules and human-verification gates (`faults.ts`).
 * 4. Routing: unknown path → 404, known path with another method → 405.
 * 5. Authenticated routes need `x-pm-uid` and `Authorization: Bearer <token>` of a live session
 *    (else 401 `{"Code": 401, "Error": "Invalid access token"}`); a session still owing its TOTP
 *    code may only use the routes in {@link TWO_FACTOR_ALLOWED} (else 403 Code 9101).
 * 6. The handler; {@link ApiServerError} becomes its error reply, malformed JSON 400 Code 2001,
 *    anything else 500 Code 2001 (logged without bodies or headers; the server keeps serving).
 * Every reply carries a `Session-Id` cookie valid for 90 days (go-proton-api
 * `setSessionCookie`), kept when the client sends one back.
 *
 * @module
 */
import { type Db, MemoryDb, SqliteDb } from "./db.ts";
import { EventLog } from "./event_log.ts";
import { apiError, type ApiRequest, ApiServerError, Router } from "./http.ts";
import { Accounts, type CreatedUser, type CreateUserOptions, MODULUS_ID } from "./accounts.ts";
import { registerAuthRoutes, TWO_FACTOR_ALLOWED } from "./auth_routes.ts";
import { CoreData, registerCoreRoutes } from "./core_routes.ts";
import { CONTROL_PREFIX, registerControlRoutes } from "./control_routes.ts";
import { Faults } from "./faults.ts";
import { MailBackend } from "./mail_backend.ts";
import { registerMailControlRoutes, registerMailRoutes } from "./mail_routes.ts";
import * as openpgp from "openpgp";
import { fromBase64 } from "../crypto/base64.ts";
import { generateModulusKey, signModulus } from "../crypto/srp_modulus.ts";
import { REFERENCE_MODULUS_B64 } from "../crypto/srp_constants.ts";
import { isLoopback } from "../tls/loopback.ts";

/** Options of {@link startApiServer}. */
export interface ApiServerOptions {
  /** Interface to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Keep state in SQLite in this directory (default: in memory). */
  dataDir?: string;
  /** Most event items merged into one events reply before `More` is set (default 50). */
  maxEventItems?: number;
  /** Access token lifetime in seconds (default 24 h). */
  accessTokenLifetimeSec?: number;
  /** Suppress the log of unexpected errors. */
  quiet?: boolean;
}

/** A running reference server. */
export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (API paths are appended to it). */
  url: string;
  /** Armored public key that signs the SRP modulus; clients must be told to trust it. */
  modulusPublicKey: string;
  accounts: Accounts;
  /** The mail model (labels, messages, attachments; deliver and seed). */
  mail: MailBackend;
  core: CoreData;
  events: EventLog;
  faults: Faults;
  db: Db;
  /** Creates a user with keys, addresses and system labels (and `messages` seeded messages). */
  createUser(opts: CreateUserOptions & { messages?: number }): Promise<CreatedUser>;
  /** Stops listening and closes storage. */
  close(): Promise<void>;
}

const APP_VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*@\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;
const COOKIE_MAX_AGE = 90 * 24 * 3600;

interface ModulusRecord extends Record<string, unknown> {
  PrivateKey: string;
  PublicKey: string;
  Signed: string;
  Modulus: string;
}

/** Loads the modulus signing key and signed modulus from `db`, creating them on first start. */
async function modulusKey(db: Db): Promise<ModulusRecord> {
  const have = db.get<ModulusRecord>("meta", "modulus");
  if (have && have.Modulus === REFERENCE_MODULUS_B64) return have;
  const key = have
    ? {
      privateKey: await openpgp.readPrivateKey({ armoredKey: have.PrivateKey }),
      publicKey: have.PublicKey,
    }
    : await generateModulusKey();
  const rec: ModulusRecord = {
    // Stored unlocked: it signs one text at first start and protects nothing but test logins.
    PrivateKey: key.privateKey.armor(),
    PublicKey: key.publicKey,
    Modulus: REFERENCE_MODULUS_B64,
    Signed: await signModulus(fromBase64(REFERENCE_MODULUS_B64), key.privateKey),
  };
  db.put("meta", "modulus", rec);
  return rec;
}

/**
 * Why a request that a web page made through the user's browser is refused, or `undefined`:
 * the control routes act without authentication (deliver, read the outbox, create users), so a
 * request carrying an `Origin` (a browser's cross-site fetch or form) is refused there, and on a
 * loopback listener any request whose `Host` is not a loopback name (DNS rebinding) is refused.
 * Clients of the API (bridge, curl, scripts) send neither.
 */
function browserRefusal(
  request: Request,
  isControl: boolean,
  loopback: boolean,
): string | undefined {
  if (isControl && request.headers.has("origin")) {
    return "The control routes do not answer web pages (a request with an Origin header)";
  }
  const host = request.headers.get("host");
  if (loopback && host !== null && !isLoopback(host.replace(/:\d+$/, ""))) {
    return `This server listens on loopback and answers only loopback names, not ${host}`;
  }
  return undefined;
}

/** Parses one cookie out of a `Cookie` header. */
function cookie(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/**
 * Starts the reference server and resolves once it listens.
 *
 * @example
 * ```ts
 * const server = await startApiServer({ port: 0 });
 * await server.createUser({ email: "alice@example.test", password: "secret" });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const db: Db = opts.dataDir ? new SqliteDb(opts.dataDir) : new MemoryDb();
  try {
    return await assemble(db, opts);
  } catch (err) {
    db.close();
    throw err;
  }
}

async function assemble(db: Db, opts: ApiServerOptions): Promise<ApiServer> {
  const modulus = await modulusKey(db);
  const events = new EventLog(db, opts.maxEventItems ?? 50);
  const accounts = new Accounts(db, {
    modulusB64: modulus.Modulus,
    signedModulus: modulus.Signed,
    accessTokenLifetimeSec: opts.accessTokenLifetimeSec,
    events,
  });
  const core = new CoreData(db, events);
  const faults = new Faults();
  const mail = new MailBackend(db, accounts, events);
  accounts.setUsedSpaceSource((userID) => mail.usedSpace(userID));

  const createUser = async (o: CreateUserOptions & { messages?: number }) => {
    const created = await accounts.createUser(o);
    mail.initUser(created.UserID);
    if (o.messages && o.messages > 0) await mail.seedMailbox(created.UserID, o.messages);
    return created;
  };

  const api = new Router();
  registerAuthRoutes(api, accounts, modulus.Signed);
  registerCoreRoutes(api, accounts, core);
  registerMailRoutes(api, mail);

  const control = new Router();
  registerControlRoutes(control, {
    accounts,
    core,
    faults,
    events,
    createUser,
    modulusPublicKey: modulus.PublicKey,
    signedModulus: modulus.Signed,
    modulusID: MODULUS_ID,
  });
  registerMailControlRoutes(control, mail);

  const log = (msg: string) => {
    if (!opts.quiet) console.error(`api-server: ${msg}`);
  };

  const listenOn = opts.hostname ?? "127.0.0.1";
  const loopback = isLoopback(listenOn);
  const dispatch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname;
    const isControl = path.startsWith(CONTROL_PREFIX) || path === CONTROL_PREFIX.slice(0, -1);
    const refused = browserRefusal(request, isControl, loopback);
    if (refused) return apiError(403, 2011, refused);
    if (!isControl) {
      const version = request.headers.get("x-pm-appversion");
      if (!version) return apiError(400, 5001, "App version missing");
      if (!APP_VERSION_RE.test(version)) {
        return apiError(
          400,
          5003,
          "This version of the app is no longer supported, please update to continue using the app",
        );
      }
      const fault = await faults.apply(request, path);
      if (fault) return fault;
    }
    const router = isControl ? control : api;
    const found = router.match(request.method, path);
    if (found === undefined) return apiError(404, 404, `No route for ${path}`);
    if (found === "method") return apiError(405, 405, `Method ${request.method} not allowed`);
    const { route, params } = found;
    let userID = "";
    let sessionUID = "";
    if (route.auth) {
      const uid = request.headers.get("x-pm-uid") ?? "";
      const authz = request.headers.get("authorization") ?? "";
      const m = /^Bearer\s+(\S+)$/i.exec(authz);
      const session = uid && m ? accounts.verifyAccess(uid, m[1]) : undefined;
      if (!session) return apiError(401, 401, "Invalid access token");
      if (
        session.TwoFactorPending && !TWO_FACTOR_ALLOWED.has(`${route.method} ${route.pattern}`)
      ) {
        return apiError(403, 9101, "Two-factor authentication is required to use this route");
      }
      userID = session.UserID;
      sessionUID = session.UID;
    }
    let bodyText: Promise<string> | undefined;
    const req: ApiRequest = {
      request,
      url,
      params,
      userID,
      sessionUID,
      async json<T>(): Promise<T> {
        bodyText ??= request.text();
        const text = await bodyText;
        try {
          const v = JSON.parse(text);
          if (v === null || typeof v !== "object") throw new SyntaxError("not an object");
          return v as T;
        } catch {
          throw new ApiServerError(400, 2001, "Malformed JSON body");
        }
      },
    };
    const reply = await route.handler(req);
    return (!isControl && await faults.after(request, path)) || reply;
  };

  const handler = async (request: Request): Promise<Response> => {
    let res: Response;
    try {
      res = await dispatch(request);
    } catch (err) {
      if (err instanceof ApiServerError) {
        res = apiError(err.status, err.code, err.message, err.details);
      } else {
        const path = (() => {
          try {
            return new URL(request.url).pathname;
          } catch {
            return "?";
          }
        })();
        const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        log(`internal error on ${request.method} ${path}: ${what}`);
        res = apiError(500, 2001, "Internal server error");
      }
    }
    const sid = cookie(request.headers.get("cookie"), "Session-Id") ?? crypto.randomUUID();
    try {
      res.headers.append(
        "Set-Cookie",
        `Session-Id=${sid}; Path=/; Max-Age=${COOKIE_MAX_AGE}; HttpOnly`,
      );
    } catch {
      // Immutable headers (never for our own replies); the cookie is a courtesy.
    }
    return res;
  };

  const ac = new AbortController();
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: opts.hostname ?? "127.0.0.1",
    port: opts.port ?? 0,
    signal: ac.signal,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
    onError: (err) => {
      log(`unhandled error: ${err instanceof Error ? err.message : String(err)}`);
      return apiError(500, 2001, "Internal server error");
    },
  }, handler);
  const addr = await listening;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;

  let closed = false;
  return {
    url: `http://${host}:${addr.port}`,
    modulusPublicKey: modulus.PublicKey,
    accounts,
    mail,
    core,
    events,
    faults,
    db,
    createUser,
    async close() {
      if (closed) return;
      closed = true;
      ac.abort();
      await server.finished;
      db.close();
    },
  };
}
