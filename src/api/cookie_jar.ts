/**
 * A minimal RFC 6265 cookie jar for the API client: parses `Set-Cookie`, applies domain, path,
 * `Secure`, `Expires`/`Max-Age` rules, builds the `Cookie` header, and serialises itself so the
 * vault can keep it (the API sets a `Session-Id` cookie; Bridge keeps its jar in the vault —
 * proton-bridge `internal/vault/types_data.go` `Cookies`).
 *
 * Deliberately not implemented: the public-suffix list and `SameSite` (irrelevant to a
 * non-browser client talking to one API host).
 *
 * @module
 */
import { isLoopback } from "../tls/loopback.ts";

/** One stored cookie (also the persisted shape). */
export interface StoredCookie {
  name: string;
  value: string;
  /** Lower-case domain without a leading dot. */
  domain: string;
  /** True when the cookie had no `Domain` attribute: sent to exactly `domain` only. */
  hostOnly: boolean;
  path: string;
  /** Expiry in Unix milliseconds; absent for session cookies. */
  expires?: number;
  secure: boolean;
  httpOnly: boolean;
  /** Creation time in Unix milliseconds (orders cookies with equal paths). */
  created: number;
}

/** A cookie jar. `now` is injectable for tests. */
export class CookieJar {
  #cookies: StoredCookie[] = [];
  #now: () => number;

  /** Creates an empty jar, or one holding `cookies` (e.g. from {@link CookieJar.deserialize}). */
  constructor(cookies: StoredCookie[] = [], now: () => number = Date.now) {
    this.#now = now;
    for (const c of cookies) this.#store(c);
  }

  /** Applies every `Set-Cookie` header of a reply to `url`. */
  setFromResponse(url: string | URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) this.setCookie(line, url);
  }

  /** Applies one `Set-Cookie` header value received from `url` (RFC 6265 §5.2, §5.3). */
  setCookie(setCookie: string, url: string | URL): void {
    const u = typeof url === "string" ? new URL(url) : url;
    const host = canonicalHost(u.hostname);
    const parts = setCookie.split(";");
    const pair = parts.shift() ?? "";
    const eq = pair.indexOf("=");
    if (eq < 0) return; // §5.2 step 2: no '=' → ignore the whole line
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (name === "") return;

    const now = this.#now();
    let expires: number | undefined;
    let maxAgeSeen = false;
    let domainAttr = "";
    let path = "";
    let secure = false;
    let httpOnly = false;
    for (const raw of parts) {
      const i = raw.indexOf("=");
      const key = (i < 0 ? raw : raw.slice(0, i)).trim().toLowerCase();
      const val = i < 0 ? "" : raw.slice(i + 1).trim();
      switch (key) {
        case "expires": {
          if (maxAgeSeen) break;
          const t = Date.parse(val);
          if (!Number.isNaN(t)) expires = t;
          break;
        }
        case "max-age": {
          if (!/^-?\d+$/.test(val)) break;
          const secs = Number(val);
          expires = secs <= 0 ? 0 : now + secs * 1000;
          maxAgeSeen = true;
          break;
        }
        case "domain":
          domainAttr = val.replace(/^\./, "").toLowerCase();
          break;
        case "path":
          path = val.startsWith("/") ? val : "";
          break;
        case "secure":
          secure = true;
          break;
        case "httponly":
          httpOnly = true;
          break;
      }
    }

    let hostOnly = true;
    let domain = host;
    if (domainAttr !== "") {
      if (!domainMatch(host, domainAttr)) return; // §5.3 step 6: foreign domain → ignore
      hostOnly = false;
      domain = domainAttr;
    }
    if (path === "") path = defaultPath(u.pathname);
    if (secure && !isSecureURL(u)) return; // RFC 6265bis: only secure origins set Secure cookies

    const existing = this.#find(name, domain, path);
    const cookie: StoredCookie = {
      name,
      value,
      domain,
      hostOnly,
      path,
      secure,
      httpOnly,
      created: existing?.created ?? now,
    };
    if (expires !== undefined) cookie.expires = expires;
    this.#remove(name, domain, path);
    if (expires === undefined || expires > now) this.#cookies.push(cookie);
  }

  /** The `Cookie` header value for a request to `url`, or "" when no cookie applies. */
  cookieHeader(url: string | URL): string {
    const u = typeof url === "string" ? new URL(url) : url;
    const host = canonicalHost(u.hostname);
    const now = this.#now();
    this.#cookies = this.#cookies.filter((c) => c.expires === undefined || c.expires > now);
    const secure = isSecureURL(u);
    const matching = this.#cookies.filter((c) =>
      (c.hostOnly ? host === c.domain : domainMatch(host, c.domain)) &&
      pathMatch(u.pathname || "/", c.path) &&
      (!c.secure || secure)
    );
    matching.sort((a, b) => b.path.length - a.path.length || a.created - b.created);
    return matching.map((c) => `${c.name}=${c.value}`).join("; ");
  }

  /** All unexpired cookies (copies). */
  cookies(): StoredCookie[] {
    const now = this.#now();
    return this.#cookies
      .filter((c) => c.expires === undefined || c.expires > now)
      .map((c) => ({ ...c }));
  }

  /** Removes every cookie. */
  clear(): void {
    this.#cookies = [];
  }

  /** JSON of the unexpired cookies, for the vault. */
  serialize(): string {
    return JSON.stringify(this.cookies());
  }

  /** Rebuilds a jar from {@link CookieJar.serialize} output; malformed entries are dropped. */
  static deserialize(text: string, now: () => number = Date.now): CookieJar {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return new CookieJar([], now);
    }
    const list = Array.isArray(raw) ? raw : [];
    const ok = list.filter((c): c is StoredCookie =>
      !!c && typeof c === "object" && typeof c.name === "string" &&
      typeof c.value === "string" && typeof c.domain === "string" &&
      typeof c.path === "string" && typeof c.hostOnly === "boolean" &&
      (c.expires === undefined || typeof c.expires === "number")
    ).map((c) => ({
      ...c,
      secure: !!c.secure,
      httpOnly: !!c.httpOnly,
      created: typeof c.created === "number" ? c.created : 0,
    }));
    return new CookieJar(ok, now);
  }

  #find(name: string, domain: string, path: string): StoredCookie | undefined {
    return this.#cookies.find((c) => c.name === name && c.domain === domain && c.path === path);
  }

  #remove(name: string, domain: string, path: string): void {
    this.#cookies = this.#cookies.filter((c) =>
      !(c.name === name && c.domain === domain && c.path === path)
    );
  }

  #store(c: StoredCookie): void {
    this.#remove(c.name, c.domain, c.path);
    this.#cookies.push({ ...c });
  }
}

function canonicalHost(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
}

function isIP(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

/** RFC 6265 §5.1.3. IP addresses only match themselves. */
function domainMatch(host: string, domain: string): boolean {
  if (host === domain) return true;
  if (isIP(host)) return false;
  return host.endsWith("." + domain);
}

/** RFC 6265 §5.1.4 default-path. */
function defaultPath(path: string): string {
  if (!path.startsWith("/")) return "/";
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatch(reqPath: string, cookiePath: string): boolean {
  if (reqPath === cookiePath) return true;
  if (!reqPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || reqPath[cookiePath.length] === "/";
}

/** https, or plain http to a loopback host (a "potentially trustworthy" origin). */
function isSecureURL(u: URL): boolean {
  if (u.protocol === "https:") return true;
  const h = canonicalHost(u.hostname);
  return h.endsWith(".localhost") || isLoopback(h);
}
