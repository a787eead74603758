/**
 * Test helper for the mail half of the reference server: a small account directory (users,
 * addresses and real unlocked keys), a {@link MailBackend} on an in-memory Db, and a real HTTP
 * server on `Deno.serve` (port 0) that routes the mail API with a minimal auth shim
 * (`Authorization: Bearer <userID>`) plus the `/ref/v1/` mail controls.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { generateKey, unlockKey } from "../crypto/mod.ts";
import { MemoryDb } from "./db.ts";
import type { AccountDirectory, AddressInfo } from "./directory.ts";
import { EventLog } from "./event_log.ts";
import { apiError, type ApiRequest, ApiServerError, Router } from "./http.ts";
import { MailBackend } from "./mail_backend.ts";
import { registerMailControlRoutes, registerMailRoutes } from "./mail_routes.ts";

interface TestAddress extends AddressInfo {
  key: openpgp.PrivateKey;
  armoredPublic: string;
}

/** An {@link AccountDirectory} with generated keys, for tests. */
export class TestDirectory implements AccountDirectory {
  #addresses: TestAddress[] = [];
  #n = 0;

  /** Adds a user with one address per email; returns its ID. */
  async addUser(emails: string[], displayName = "Test User"): Promise<string> {
    const userID = `user-${++this.#n}`;
    for (const [i, email] of emails.entries()) {
      const passphrase = `pass-${email}`;
      const k = await generateKey({ name: displayName, email, passphrase });
      this.#addresses.push({
        ID: `addr-${this.#n}-${i}`,
        UserID: userID,
        Email: email,
        Send: 1,
        Receive: 1,
        Status: 1,
        Type: 1,
        Order: i + 1,
        DisplayName: displayName,
        key: await unlockKey(k.privateKey, passphrase),
        armoredPublic: k.publicKey,
      });
    }
    return userID;
  }

  userIDs(): string[] {
    return [...new Set(this.#addresses.map((a) => a.UserID))];
  }

  addresses(userID: string): AddressInfo[] {
    return this.#addresses.filter((a) => a.UserID === userID).map(info);
  }

  findAddress(email: string): AddressInfo | undefined {
    const a = this.#addresses.find((a) => a.Email.toLowerCase() === email.toLowerCase());
    return a && info(a);
  }

  addressKey(addressID: string): Promise<openpgp.PrivateKey> {
    const a = this.#addresses.find((a) => a.ID === addressID);
    return a ? Promise.resolve(a.key) : Promise.reject(new Error(`no address ${addressID}`));
  }

  addressPublicKeys(addressID: string): string[] {
    return this.#addresses.filter((a) => a.ID === addressID).map((a) => a.armoredPublic);
  }
}

function info(a: TestAddress): AddressInfo {
  const { key: _k, armoredPublic: _p, ...rest } = a;
  return rest;
}

/** A running mail test server. */
export interface MailTestServer {
  url: string;
  mail: MailBackend;
  dir: TestDirectory;
  events: EventLog;
  /** Sends an API request as `userID`; returns status and parsed JSON (or raw bytes). */
  api(
    userID: string,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: Record<string, unknown>; bytes?: Uint8Array }>;
  close(): Promise<void>;
}

/** Starts a mail test server with an empty directory. */
export function startMailTestServer(maxEventItems = 50): MailTestServer {
  const db = new MemoryDb();
  const events = new EventLog(db, maxEventItems);
  const dir = new TestDirectory();
  const mail = new MailBackend(db, dir, events);
  const api = new Router();
  registerMailRoutes(api, mail);
  const control = new Router();
  registerMailControlRoutes(control, mail);

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const router = url.pathname.startsWith("/ref/v1/") ? control : api;
    const found = router.match(request.method, url.pathname);
    if (found === undefined) return apiError(404, 404, "No route");
    if (found === "method") return apiError(405, 405, "Method not allowed");
    let userID = "";
    if (found.route.auth) {
      const m = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "");
      if (!m) return apiError(401, 401, "Invalid access token");
      userID = m[1];
    }
    const req: ApiRequest = {
      request,
      url,
      params: found.params,
      userID,
      sessionUID: userID,
      async json<T>() {
        try {
          return JSON.parse(await request.text()) as T;
        } catch {
          throw new ApiServerError(400, 2001, "Malformed JSON body");
        }
      },
    };
    try {
      return await found.route.handler(req);
    } catch (err) {
      if (err instanceof ApiServerError) {
        return apiError(err.status, err.code, err.message, err.details);
      }
      console.error(err);
      return apiError(500, 2001, String(err));
    }
  };
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    handler,
  );
  const url = `http://127.0.0.1:${server.addr.port}`;

  return {
    url,
    mail,
    dir,
    events,
    async api(userID, method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: {
          Authorization: `Bearer ${userID}`,
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.headers.get("content-type") === "application/octet-stream") {
        return { status: res.status, json: {}, bytes: new Uint8Array(await res.arrayBuffer()) };
      }
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : {} };
    },
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}
