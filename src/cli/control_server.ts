/**
 * The control endpoint of a running `bridge serve`, through which `bridge status` asks for the
 * {@link StatusReport}:
 *
 * - serve listens on `127.0.0.1`, a random port, HTTP; `GET /v1/status` answers the report as
 *   JSON to a request carrying `Authorization: Bearer <token>` (compared in constant time; anything
 *   else is 401, unknown paths 404); `POST /v1/reload` does what SIGHUP does (re-reads the
 *   configuration and the vault) and answers what changed: the account commands (`login`,
 *   `logout`, `reset-password`, `mode`) call it so a running serve follows them at once, also
 *   where there are no signals (Windows);
 * - the token is 32 random bytes (base64url) made at each start, written with the URL, the PID and
 *   the start time into `<data dir>/serve.json` (mode 0600, so only the owner of the data
 *   directory can read it), and the file is removed at shutdown.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { atomicWriteText } from "../tls/atomic_write.ts";
import type { StatusReport } from "./status_report.ts";

/** File name of the control file inside the data directory. */
export const CONTROL_FILE_NAME = "serve.json";

/** What the control file holds. */
export interface ControlInfo {
  /** PID of the serving process. */
  pid: number;
  /** Base URL of the control endpoint, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** The bearer token. */
  token: string;
  /** When serve started (ISO 8601). */
  startedAt: string;
  /** The version of the serving program. */
  version: string;
}

/** A running control endpoint. */
export interface ControlServer {
  /** Base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  readonly port: number;
  /** The bearer token requests must carry. */
  readonly token: string;
  /** Stops listening. */
  close(): Promise<void>;
}

/** Options of {@link startControlServer}. */
export interface ControlServerOptions {
  /** Produces the current report. */
  status: () => StatusReport;
  /**
   * Reloads as SIGHUP does and resolves to what changed (JSON), or to `undefined` while serve
   * cannot reload yet (starting); without it `POST /v1/reload` answers 404.
   */
  reload?: () => Promise<unknown>;
  /** Port (default 0: any free one). */
  port?: number;
  /** The token (default: 32 new random bytes, base64url). */
  token?: string;
}

/** A new random control token. */
export function newControlToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

function tokenMatches(header: string | null, token: string): boolean {
  const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header ?? "");
  if (!m) return false;
  const got = Buffer.from(m[1]);
  const want = Buffer.from(token);
  // Compare equal-length buffers only; a length mismatch is a failure either way.
  return got.length === want.length && timingSafeEqual(got, want);
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/**
 * Starts the control endpoint on 127.0.0.1.
 *
 * @example
 * ```ts ignore
 * const control = await startControlServer({ status: () => report() });
 * await writeControlInfo(dataDir, { pid: Deno.pid, url: control.url, token: control.token,
 *   startedAt, version });
 * ```
 */
export function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const token = options.token ?? newControlToken();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
    onError: () => json(500, { error: "internal error" }),
  }, async (request) => {
    const url = new URL(request.url);
    if (!tokenMatches(request.headers.get("authorization"), token)) {
      return json(401, { error: "missing or wrong token (see serve.json in the data directory)" });
    }
    if (url.pathname === "/v1/status" && request.method === "GET") {
      return json(200, options.status());
    }
    if (url.pathname === "/v1/reload" && request.method === "POST" && options.reload) {
      const result = await options.reload();
      if (result === undefined) return json(503, { error: "serve is still starting" });
      return json(200, { reloaded: result });
    }
    return json(404, { error: `no such endpoint: ${request.method} ${url.pathname}` });
  });
  return listening.promise.then((addr) => ({
    url: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    token,
    close: async () => {
      await server.shutdown();
    },
  }));
}

/** The control file of `dataDir`. */
export function controlFilePath(dataDir: string): string {
  return join(dataDir, CONTROL_FILE_NAME);
}

/** Writes the control file (atomically, mode 0600). */
export async function writeControlInfo(dataDir: string, info: ControlInfo): Promise<void> {
  await atomicWriteText(controlFilePath(dataDir), JSON.stringify(info, null, 2) + "\n", 0o600);
}

/** Removes the control file if it is still this process's (by PID and token). */
export async function removeControlInfo(dataDir: string, info: ControlInfo): Promise<void> {
  const now = await readControlInfo(dataDir).catch(() => undefined);
  if (now?.pid === info.pid && now.token === info.token) {
    await Deno.remove(controlFilePath(dataDir)).catch(() => {});
  }
}

/** {@link removeControlInfo}, synchronously (for a process about to exit at once). */
export function removeControlInfoSync(dataDir: string, info: ControlInfo): void {
  try {
    const now = JSON.parse(Deno.readTextFileSync(controlFilePath(dataDir)));
    if (now?.pid === info.pid && now.token === info.token) {
      Deno.removeSync(controlFilePath(dataDir));
    }
  } catch {
    // gone already, or not ours
  }
}

/**
 * Reads the control file; `undefined` when there is none.
 *
 * @throws {Error} when it exists but cannot be read or is not a control file.
 */
export async function readControlInfo(dataDir: string): Promise<ControlInfo | undefined> {
  const file = controlFilePath(dataDir);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  if (
    v === null || typeof v !== "object" || !Number.isInteger(v.pid) ||
    typeof v.url !== "string" || !/^http:\/\/127\.0\.0\.1:\d+$/.test(v.url) ||
    typeof v.token !== "string" || typeof v.startedAt !== "string"
  ) {
    throw new Error(`${file} is not a bridge control file`);
  }
  return {
    pid: v.pid as number,
    url: v.url,
    token: v.token,
    startedAt: v.startedAt,
    version: typeof v.version === "string" ? v.version : "",
  };
}

/** Why {@link requestStatus} got no report. */
export class ControlUnreachableError extends Error {
  override name = "ControlUnreachableError";
  /** Whether it timed out (something may be busy there), rather than nothing answering. */
  readonly timedOut: boolean;

  constructor(message: string, timedOut = false) {
    super(message);
    this.timedOut = timedOut;
  }
}

/** One request to a running serve's control endpoint: the status and the body text. */
async function controlRequest(
  info: ControlInfo,
  method: "GET" | "POST",
  path: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  let response: Response;
  try {
    response = await fetch(`${info.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${info.token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ControlUnreachableError(
      `no answer from ${info.url}: ${err instanceof Error ? err.message : String(err)}`,
      err instanceof DOMException && err.name === "TimeoutError",
    );
  }
  return { status: response.status, text: await response.text() };
}

/**
 * Asks a running serve for its report.
 *
 * @throws {ControlUnreachableError} when nothing answers at the URL (serve is gone) or it times out.
 * @throws {Error} when something answers but refuses (wrong token) or answers nonsense.
 */
export async function requestStatus(info: ControlInfo, timeoutMs = 5_000): Promise<StatusReport> {
  const { status, text } = await controlRequest(info, "GET", "/v1/status", timeoutMs);
  if (status !== 200) {
    throw new Error(`the control endpoint ${info.url} answered HTTP ${status}`);
  }
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    throw new Error(`the control endpoint ${info.url} answered something that is not JSON`);
  }
  if (report === null || typeof report !== "object" || (report as StatusReport).running !== true) {
    throw new Error(`the control endpoint ${info.url} answered something that is not a report`);
  }
  return report as StatusReport;
}

/**
 * Asks a running serve to reload (`POST /v1/reload`) and resolves to what changed.
 *
 * @throws {ControlUnreachableError} when nothing answers at the URL (serve is gone) or it times out.
 * @throws {Error} when it answers but refuses (wrong token, still starting) or answers nonsense.
 */
export async function requestReload(info: ControlInfo, timeoutMs = 30_000): Promise<unknown> {
  const { status, text } = await controlRequest(info, "POST", "/v1/reload", timeoutMs);
  let body: { reloaded?: unknown; error?: unknown } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (status !== 200 || body?.reloaded === undefined) {
    const why = typeof body?.error === "string" ? body.error : `HTTP ${status}`;
    throw new Error(`the control endpoint ${info.url} did not reload: ${why}`);
  }
  return body.reloaded;
}
