/**
 * The HTTP transport of the Proton API client: headers, session tokens, cookie jar, reply
 * decoding, retries (429/503 with `Retry-After`, 5xx and network errors with capped exponential
 * backoff; for requests that create something, only where the server surely did nothing:
 * {@link RequestOptions.once}), per-request timeouts, the 401 → refresh → retry dance, human
 * verification and the server clock. Facts from go-proton-api `client.go`, `response.go`,
 * `manager_auth.go`, `hv.go` as summarised in `shared/docs/proton-api.md` §1.1–§1.2.
 *
 * The client never logs: no tokens, no bodies. Observers get method, path, status and timing
 * through {@link ApiClientOptions.onRequest}.
 *
 * @example
 * ```ts
 * const client = new ApiClient({ baseURL: "https://mail-api.proton.me",
 *   appVersion: bridgeAppVersion("3.21.1") });
 * const { User } = await client.get<{ User: User }>("/core/v4/users");
 * ```
 *
 * @module
 */
import { CookieJar } from "./cookie_jar.ts";
import {
  ApiError,
  type HumanVerification,
  HumanVerificationRequiredError,
  NetworkError,
  type RequestInfo,
  SignedOutError,
  TimeoutError,
} from "./errors.ts";
import { type Auth, type AuthRefreshReq, CODE_MULTI, CODE_SUCCESS, ErrorCode } from "./types.ts";

/** `Accept` header of every request (go-proton-api `manager_builder.go`). */
export const API_ACCEPT = "application/vnd.protonmail.v1+json";
/** `RedirectURI` of refresh requests (go-proton-api `manager_auth.go`). */
export const REFRESH_REDIRECT_URI = "https://protonmail.ch";

/** `<os>-bridge@<version>` as Bridge sends it in `x-pm-appversion` (os: linux, macos, windows). */
export function bridgeAppVersion(version: string, os: string = Deno.build.os): string {
  const name = os === "darwin" ? "macos" : os === "windows" ? "windows" : "linux";
  return `${name}-bridge@${version}`;
}

/** Bridge's `User-Agent` before any mail client is known: `NoClient/0.0.1 (<platform>)`. */
export function defaultUserAgent(os: string = Deno.build.os): string {
  const platform = os === "darwin" ? "macOS" : os === "windows" ? "Windows" : "Linux";
  return `NoClient/0.0.1 (${platform})`;
}

/** What {@link ApiClientOptions.onRequest} sees of each attempt: never tokens or bodies. */
export interface RequestEvent {
  method: string;
  path: string;
  /** HTTP status, or undefined when no reply arrived. */
  status?: number;
  /** 0 for the first attempt. */
  attempt: number;
  durationMs: number;
  /** Class name of the transport failure, when no reply arrived. */
  error?: string;
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** API base URL, e.g. `https://mail-api.proton.me`; request paths are appended to it. */
  baseURL: string;
  /** `x-pm-appversion`, e.g. `linux-bridge@3.21.1` (see {@link bridgeAppVersion}). */
  appVersion: string;
  /** `User-Agent`; default {@link defaultUserAgent}. */
  userAgent?: string;
  /** Per-attempt timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Retries after the first attempt for 429/503/5xx/network errors (default 3). */
  maxRetries?: number;
  /** Upper bound of one `Retry-After` wait in ms (default 60 000). */
  maxRetryAfterMs?: number;
  /** First backoff step for 5xx/network errors in ms (default 500), doubled per retry. */
  backoffBaseMs?: number;
  /** Upper bound of one backoff step in ms (default 8 000). */
  backoffMaxMs?: number;
  /** Jitter added to every wait: up to this many ms (default 1 000). */
  jitterMs?: number;
  /** The fetch to use (tests). */
  fetch?: typeof fetch;
  /** Waits `ms` (tests inject a recorder). */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1) source for jitter (tests inject a constant). */
  random?: () => number;
  /** Local clock in Unix ms (tests). */
  now?: () => number;
  /** The cookie jar (e.g. restored from the vault); default an empty one. */
  cookieJar?: CookieJar;
  /** Called after every successful token refresh (the vault stores the new refresh token). */
  onAuth?: (uid: string, refreshToken: string) => void | Promise<void>;
  /** Called once when a refresh is refused (the stored session is dead). */
  onSignedOut?: (error: SignedOutError) => void | Promise<void>;
  /** Observer of each attempt (for debug logs; carries no secrets). */
  onRequest?: (event: RequestEvent) => void;
}

/** Per-request options. */
export interface RequestOptions {
  /** Query parameters; undefined values are skipped. */
  query?: Record<string, string | number | undefined>;
  /** JSON body (objects), or a raw body (`FormData`, `Blob`, bytes, string) sent as is; raw
   * bodies must be re-sendable, since retries send them again. */
  body?: unknown;
  /** Extra headers. */
  headers?: Record<string, string>;
  /**
   * `false`: never send session headers and never refresh (login calls). `true`: the call needs a
   * session. Default: send the session when there is one.
   */
  auth?: boolean;
  /** Aborts the request (not retried). */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number;
  /** Overrides the client's retry count. */
  maxRetries?: number;
  /**
   * The request creates something (a draft, an attachment, an imported message): it is retried
   * only where the server surely did not act on it (429, a connection that was never made), never
   * after a lost reply, a time-out or a 5xx, where a retry could create a second one.
   */
  once?: boolean;
}

/** Session tokens of an authenticated client. */
export interface SessionTokens {
  uid: string;
  accessToken: string;
  refreshToken: string;
}

/** A decoded JSON reply: at least the envelope's `Code` (absent when the server omitted it). */
export type ApiReply = { Code?: number; [key: string]: unknown };

/** State shared by a client and its human-verification views. */
interface Shared {
  uid: string;
  accessToken: string;
  refreshToken: string;
  refreshing?: Promise<void>;
  signedOut: boolean;
  timeOffsetMs: number;
  userAgent: string;
  onAuth?: ApiClientOptions["onAuth"];
  onSignedOut?: ApiClientOptions["onSignedOut"];
}

interface RawReply {
  status: number;
  statusText: string;
  headers: Headers;
  body: Uint8Array;
  /** The access token the request carried ("" when none). */
  tokenUsed: string;
}

/** The runtime's fetch (requests that must not be repeated get a connection of their own). */
const defaultFetch: typeof fetch = (input, init) => fetch(input, init);

/** Status codes retried with `Retry-After` (go-proton-api `catchTooManyRequests`). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);
/** `Retry-After` default when absent or unreadable, in seconds (go-proton-api `catchRetryAfter`). */
const DEFAULT_RETRY_AFTER_S = 10;

const decoder = new TextDecoder();

/** Whether a fetch error happened before the request could reach the server (no connection). */
function neverConnected(error: unknown): boolean {
  if (error instanceof TimeoutError) return false;
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return /connection refused|\(connect\)|tcp connect error|dns error|failed to lookup/i.test(text);
}

/** The Proton API client transport. Endpoint functions in `src/api/*.ts` take one of these. */
export class ApiClient {
  /** The cookie jar (persist it with `cookieJar.serialize()`). */
  readonly cookieJar: CookieJar;
  readonly #opts: Required<
    Omit<ApiClientOptions, "onAuth" | "onSignedOut" | "onRequest" | "userAgent" | "cookieJar">
  >;
  readonly #onRequest?: (event: RequestEvent) => void;
  #shared: Shared;
  #extraHeaders: Record<string, string> = {};

  /** Creates an unauthenticated client; log in with `login()` or restore with {@link setAuth}. */
  constructor(options: ApiClientOptions) {
    if (!options.baseURL) throw new TypeError("ApiClient: baseURL is required");
    if (!options.appVersion) throw new TypeError("ApiClient: appVersion is required");
    this.#opts = {
      baseURL: options.baseURL.replace(/\/+$/, ""),
      appVersion: options.appVersion,
      timeoutMs: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 3,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 8_000,
      jitterMs: options.jitterMs ?? 1_000,
      fetch: options.fetch ?? defaultFetch,
      sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    this.#onRequest = options.onRequest;
    this.cookieJar = options.cookieJar ?? new CookieJar();
    this.#shared = {
      uid: "",
      accessToken: "",
      refreshToken: "",
      signedOut: false,
      timeOffsetMs: 0,
      userAgent: options.userAgent ?? defaultUserAgent(),
      onAuth: options.onAuth,
      onSignedOut: options.onSignedOut,
    };
  }

  /** The API base URL (no trailing slash). */
  get baseURL(): string {
    return this.#opts.baseURL;
  }

  /** The session UID, or "" when not logged in. */
  get uid(): string {
    return this.#shared.uid;
  }

  /** The current refresh token (for the vault), or "". */
  get refreshToken(): string {
    return this.#shared.refreshToken;
  }

  /** Whether the client holds session tokens. */
  get authenticated(): boolean {
    return this.#shared.uid !== "" && this.#shared.accessToken !== "";
  }

  /** Whether a refresh was refused; every session call now throws {@link SignedOutError}. */
  get signedOut(): boolean {
    return this.#shared.signedOut;
  }

  /** Installs session tokens (after login, or restored from the vault with an empty access token
   * followed by {@link refresh}). Clears the signed-out state. */
  setAuth(tokens: SessionTokens): void {
    this.#shared.uid = tokens.uid;
    this.#shared.accessToken = tokens.accessToken;
    this.#shared.refreshToken = tokens.refreshToken;
    this.#shared.signedOut = false;
  }

  /** Forgets the session tokens (after logout). */
  clearAuth(): void {
    this.#shared.uid = "";
    this.#shared.accessToken = "";
    this.#shared.refreshToken = "";
  }

  /** Sets the callback run after each successful refresh. */
  set onAuth(fn: ApiClientOptions["onAuth"]) {
    this.#shared.onAuth = fn;
  }

  /** Sets the callback run once when the session is refused. */
  set onSignedOut(fn: ApiClientOptions["onSignedOut"]) {
    this.#shared.onSignedOut = fn;
  }

  /** Changes the `User-Agent` (Bridge switches it once a mail client identifies itself). */
  setUserAgent(userAgent: string): void {
    this.#shared.userAgent = userAgent;
  }

  /** Server time minus local time in ms, from the last reply's `Date` header. */
  get serverTimeOffsetMs(): number {
    return this.#shared.timeOffsetMs;
  }

  /** The server's clock (local clock corrected by the last `Date` header seen). */
  serverTime(): Date {
    return new Date(this.#opts.now() + this.#shared.timeOffsetMs);
  }

  /**
   * A view of this client (same session, same jar) that sends `x-pm-human-verification-token`
   * and `x-pm-human-verification-token-type` on every request: repeat the refused request
   * through it after the user solved the challenge.
   */
  withHumanVerification(hv: HumanVerification): ApiClient {
    const copy = new ApiClient({
      ...this.#opts,
      cookieJar: this.cookieJar,
      onRequest: this.#onRequest,
    });
    copy.#shared = this.#shared;
    copy.#extraHeaders = {
      ...this.#extraHeaders,
      "x-pm-human-verification-token": hv.token,
      "x-pm-human-verification-token-type": hv.methods.join(","),
    };
    return copy;
  }

  /**
   * A view of this client (same session, same jar) with other retry limits: what a mail client
   * waits on (an IMAP command) gives up sooner than the sync, rather than wait minutes through
   * the default retries while the account's other changes queue behind it.
   */
  withLimits(
    limits: { maxRetries?: number; maxRetryAfterMs?: number; timeoutMs?: number },
  ): ApiClient {
    const copy = new ApiClient({
      ...this.#opts,
      ...limits,
      cookieJar: this.cookieJar,
      onRequest: this.#onRequest,
    });
    copy.#shared = this.#shared;
    copy.#extraHeaders = { ...this.#extraHeaders };
    return copy;
  }

  /** `GET path` → decoded JSON. */
  get<T = ApiReply>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("GET", path, options);
  }

  /** `POST path` with a JSON body → decoded JSON. */
  post<T = ApiReply>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", path, { ...options, body });
  }

  /** `PUT path` with a JSON body → decoded JSON. */
  put<T = ApiReply>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("PUT", path, { ...options, body });
  }

  /** `DELETE path` → decoded JSON. */
  delete<T = ApiReply>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("DELETE", path, options);
  }

  /** `GET path` → the raw reply bytes (attachments). Errors are decoded like JSON calls. */
  async getBytes(path: string, options: RequestOptions = {}): Promise<Uint8Array> {
    const info = { method: "GET", path };
    const raw = await this.#execute("GET", path, options);
    if (raw.status >= 200 && raw.status < 300) return raw.body;
    throw this.#errorFrom(raw, info);
  }

  /**
   * Sends one request and decodes the JSON reply: a 2xx with or without `Code` is success
   * (`Code` 1001 replies come back as they are, `Responses` included); anything else becomes an
   * {@link ApiError} (or a subclass).
   */
  async request<T = ApiReply>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const info = { method, path };
    const raw = await this.#execute(method, path, options);
    return this.#decode(raw, info) as T;
  }

  /**
   * Refreshes the tokens now (`POST /auth/v4/refresh`). Concurrent callers share one refresh.
   * Refused (400/422/Code 10013) → {@link SignedOutError} and `onSignedOut`.
   */
  refresh(): Promise<void> {
    const s = this.#shared;
    if (!s.refreshing) {
      s.refreshing = this.#doRefresh().finally(() => {
        s.refreshing = undefined;
      });
    }
    return s.refreshing;
  }

  async #execute(method: string, path: string, options: RequestOptions): Promise<RawReply> {
    const s = this.#shared;
    if (options.auth !== false && s.signedOut) throw new SignedOutError();
    if (options.auth === true && !s.uid) {
      throw new SignedOutError("not logged in");
    }
    let raw = await this.#send(method, path, options);
    if (raw.status === 401 && options.auth !== false && s.refreshToken) {
      // One refresh (shared with concurrent 401s), then exactly one retry.
      if (s.refreshing) await s.refreshing;
      else if (s.accessToken === raw.tokenUsed) await this.refresh();
      raw = await this.#send(method, path, options);
    }
    return raw;
  }

  async #doRefresh(): Promise<void> {
    const s = this.#shared;
    if (!s.uid || !s.refreshToken) throw new SignedOutError("no session to refresh");
    const body: AuthRefreshReq = {
      UID: s.uid,
      RefreshToken: s.refreshToken,
      ResponseType: "token",
      GrantType: "refresh_token",
      RedirectURI: REFRESH_REDIRECT_URI,
      State: randomState(32),
    };
    const info = { method: "POST", path: "/auth/v4/refresh" };
    let auth: Partial<Auth>;
    try {
      // Session in the body only: go-proton-api's manager adds no x-pm-uid header here.
      const raw = await this.#send("POST", info.path, { body, auth: false });
      auth = this.#decode(raw, info) as Partial<Auth>;
    } catch (e) {
      if (
        e instanceof ApiError &&
        (e.status === 400 || e.status === 422 || e.code === ErrorCode.AuthRefreshTokenInvalid)
      ) {
        await this.#signOut(e);
      }
      throw e;
    }
    if (typeof auth.AccessToken !== "string" || typeof auth.RefreshToken !== "string") {
      throw new ApiError(200, 0, "refresh reply without tokens", undefined, info);
    }
    if (typeof auth.UID === "string" && auth.UID) s.uid = auth.UID;
    s.accessToken = auth.AccessToken;
    s.refreshToken = auth.RefreshToken;
    if (s.onAuth) {
      try {
        await s.onAuth(s.uid, s.refreshToken);
      } catch {
        // The callback's failure is the caller's business; the refresh itself worked.
      }
    }
  }

  async #signOut(cause: ApiError): Promise<never> {
    const s = this.#shared;
    const first = !s.signedOut;
    s.signedOut = true;
    s.accessToken = "";
    s.refreshToken = "";
    const err = new SignedOutError(undefined, cause);
    if (first && s.onSignedOut) {
      try {
        await s.onSignedOut(err);
      } catch {
        // Ignored: the error below is what the caller sees.
      }
    }
    throw err;
  }

  /** One request with transport-level retries; returns the final reply, whatever its status. */
  async #send(method: string, path: string, options: RequestOptions): Promise<RawReply> {
    const o = this.#opts;
    const s = this.#shared;
    const maxRetries = options.maxRetries ?? o.maxRetries;
    const timeoutMs = options.timeoutMs ?? o.timeoutMs;
    const info: RequestInfo = { method, path };
    const url = this.#url(path, options.query);

    for (let attempt = 0;; attempt++) {
      const headers = new Headers({
        "x-pm-appversion": o.appVersion,
        "User-Agent": s.userAgent,
        "Accept": API_ACCEPT,
      });
      let tokenUsed = "";
      if (options.auth !== false) {
        if (s.uid) headers.set("x-pm-uid", s.uid);
        if (s.accessToken) {
          headers.set("Authorization", `Bearer ${s.accessToken}`);
          tokenUsed = s.accessToken;
        }
      }
      for (const [k, v] of Object.entries(this.#extraHeaders)) headers.set(k, v);
      for (const [k, v] of Object.entries(options.headers ?? {})) headers.set(k, v);
      const cookie = this.cookieJar.cookieHeader(url);
      if (cookie) headers.set("Cookie", cookie);
      const body = encodeBody(options.body, headers);

      const started = o.now();
      let reply: RawReply;
      try {
        reply = await this.#fetchOnce(
          url,
          method,
          headers,
          body,
          timeoutMs,
          options.signal,
          options.once === true || maxRetries === 0,
        );
      } catch (e) {
        if (options.signal?.aborted) throw options.signal.reason ?? e;
        const err = e instanceof TimeoutError
          ? new TimeoutError(e.timeoutMs, info)
          : new NetworkError(e instanceof Error ? e.message : String(e), info, e);
        this.#onRequest?.({
          method,
          path,
          attempt,
          durationMs: o.now() - started,
          error: err.name,
        });
        if (attempt < maxRetries && (!options.once || neverConnected(e))) {
          await o.sleep(this.#backoff(attempt));
          continue;
        }
        throw err;
      }
      reply.tokenUsed = tokenUsed;
      this.#onRequest?.({
        method,
        path,
        status: reply.status,
        attempt,
        durationMs: o.now() - started,
      });
      this.#observe(url, reply.headers);

      if (attempt < maxRetries) {
        if (reply.status === 429 || (!options.once && RETRY_AFTER_STATUSES.has(reply.status))) {
          await o.sleep(this.#retryAfter(reply.headers));
          continue;
        }
        if (
          !options.once && reply.status >= 500 && reply.status !== 501 && reply.status !== 505
        ) {
          await o.sleep(this.#backoff(attempt));
          continue;
        }
      }
      return reply;
    }
  }

  async #fetchOnce(
    url: URL,
    method: string,
    headers: Headers,
    body: BodyInit | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    freshConnection: boolean,
  ): Promise<RawReply> {
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, timeoutMs);
    const onAbort = () => ctrl.abort(signal?.reason);
    if (signal) {
      if (signal.aborted) ctrl.abort(signal.reason);
      else signal.addEventListener("abort", onAbort, { once: true });
    }
    // A request that must not be repeated goes on a connection of its own: on a kept-alive
    // connection the server closes before answering, Deno's fetch sends the request again by
    // itself (a send or an import the server had already done would be done twice).
    const client = freshConnection && this.#opts.fetch === defaultFetch
      ? Deno.createHttpClient({ poolMaxIdlePerHost: 0 })
      : undefined;
    try {
      const init: RequestInit & { client?: Deno.HttpClient } = {
        method,
        headers,
        body,
        signal: ctrl.signal,
        redirect: "follow",
      };
      if (client) init.client = client;
      const res = await this.#opts.fetch(url, init);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
        body: bytes,
        tokenUsed: "",
      };
    } catch (e) {
      if (timedOut) throw new TimeoutError(timeoutMs);
      throw e;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      client?.close();
    }
  }

  /** Cookie jar and server clock bookkeeping for every reply. */
  #observe(url: URL, headers: Headers): void {
    this.cookieJar.setFromResponse(url, headers);
    const date = headers.get("Date");
    if (date) {
      const t = Date.parse(date);
      if (!Number.isNaN(t)) this.#shared.timeOffsetMs = t - this.#opts.now();
    }
  }

  /** Wait for 429/503: `Retry-After` seconds (or HTTP date), default 10 s, capped, + jitter. */
  #retryAfter(headers: Headers): number {
    const o = this.#opts;
    const v = headers.get("Retry-After")?.trim() ?? "";
    let ms = DEFAULT_RETRY_AFTER_S * 1000;
    if (/^\d+$/.test(v)) ms = Number(v) * 1000;
    else if (v) {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) ms = Math.max(0, t - (o.now() + this.#shared.timeOffsetMs));
    }
    return Math.min(ms, o.maxRetryAfterMs) + this.#jitter();
  }

  /** Capped exponential backoff for 5xx and network errors, + jitter. */
  #backoff(attempt: number): number {
    const o = this.#opts;
    return Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** attempt) + this.#jitter();
  }

  #jitter(): number {
    return Math.floor(this.#opts.random() * this.#opts.jitterMs);
  }

  #url(path: string, query?: RequestOptions["query"]): URL {
    const url = new URL(this.#opts.baseURL + (path.startsWith("/") ? path : "/" + path));
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url;
  }

  /** Decodes a JSON reply or throws the error it carries. */
  #decode(raw: RawReply, info: RequestInfo): ApiReply {
    if (raw.status < 200 || raw.status >= 300) throw this.#errorFrom(raw, info);
    const text = decoder.decode(raw.body).trim();
    if (text === "") return {};
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(raw.status, 0, "malformed JSON reply", undefined, info);
    }
    if (!json || typeof json !== "object" || Array.isArray(json)) {
      throw new ApiError(raw.status, 0, "unexpected JSON reply", undefined, info);
    }
    const reply = json as ApiReply;
    // go-proton-api ignores the top-level Code on 2xx; an explicit error Code with an `Error`
    // text is still an error, whatever the status says.
    if (
      typeof reply.Code === "number" && reply.Code !== CODE_SUCCESS && reply.Code !== CODE_MULTI &&
      typeof reply.Error === "string"
    ) {
      throw errorFromBody(raw.status, reply, info);
    }
    return reply;
  }

  #errorFrom(raw: RawReply, info: RequestInfo): ApiError {
    let body: unknown;
    try {
      const text = decoder.decode(raw.body).trim();
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (body && typeof body === "object" && typeof (body as ApiReply).Code === "number") {
      return errorFromBody(raw.status, body as ApiReply, info);
    }
    return new ApiError(raw.status, 0, raw.statusText || `HTTP ${raw.status}`, undefined, info);
  }
}

function errorFromBody(status: number, body: ApiReply, info: RequestInfo): ApiError {
  const code = body.Code as number;
  const message = typeof body.Error === "string" ? body.Error : "";
  if (code === ErrorCode.HumanVerificationRequired) {
    return new HumanVerificationRequiredError(status, message, body.Details, info);
  }
  return new ApiError(status, code, message, body.Details, info);
}

function encodeBody(body: unknown, headers: Headers): BodyInit | undefined {
  if (body === undefined) return undefined;
  if (
    body instanceof FormData || body instanceof Uint8Array || typeof body === "string" ||
    body instanceof Blob || body instanceof URLSearchParams
  ) {
    return body as BodyInit;
  }
  headers.set("Content-Type", "application/json");
  return JSON.stringify(body);
}

const STATE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `n` random alphanumeric characters (the refresh `State`). */
function randomState(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = "";
  for (const b of bytes) out += STATE_ALPHABET[b % STATE_ALPHABET.length];
  return out;
}
