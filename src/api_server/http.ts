/**
 * HTTP plumbing of the reference server: a small router with `:param` patterns, the request
 * object handlers receive, and the reply helpers that produce the API's envelope
 * (`{"Code": 1000, …}` on success, `{"Code", "Error", "Details"}` on failure).
 *
 * @module
 */

/** What a route handler receives. */
export interface ApiRequest {
  /** The raw request. */
  request: Request;
  /** The parsed URL (query parameters in `url.searchParams`). */
  url: URL;
  /** Values of the `:name` segments of the route pattern. */
  params: Record<string, string>;
  /** The authenticated user's ID; set on every route registered with `auth: true`. */
  userID: string;
  /** The session UID (`x-pm-uid`) of an authenticated request, else "". */
  sessionUID: string;
  /** Parses the JSON body; a missing or malformed body throws a 400 {@link ApiServerError}. */
  json<T>(): Promise<T>;
}

/** A route handler. Throwing {@link ApiServerError} produces that error reply. */
export type Handler = (req: ApiRequest) => Response | Promise<Response>;

/** Options of a route. */
export interface RouteOptions {
  /** Whether the route needs `x-pm-uid` and `Authorization: Bearer` (default true). */
  auth?: boolean;
}

/** One registered route. */
export interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: Handler;
  auth: boolean;
}

/** An error a handler throws to answer with the API's error shape. */
export class ApiServerError extends Error {
  override name = "ApiServerError";
  /** HTTP status. */
  status: number;
  /** API `Code`. */
  code: number;
  /** API `Details`, if any. */
  details?: unknown;

  /** Creates an error answered as `status` with body `{Code: code, Error: message, Details}`. */
  constructor(status: number, code: number, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** A success reply: `body` plus `"Code": 1000` (or the code given). */
export function ok(body: Record<string, unknown> = {}, code = 1000, status = 200): Response {
  return Response.json({ Code: code, ...body }, { status });
}

/** An error reply in the API's shape. */
export function apiError(
  status: number,
  code: number,
  message: string,
  details?: unknown,
): Response {
  const body: Record<string, unknown> = { Code: code, Error: message };
  if (details !== undefined) body.Details = details;
  return Response.json(body, { status });
}

/** Routes requests by method and path; `:name` segments match any one path segment. */
export class Router {
  #routes: Route[] = [];

  /** Registers a route. Later registrations do not override earlier ones. */
  add(method: string, pattern: string, handler: Handler, opts: RouteOptions = {}): void {
    this.#routes.push({
      method: method.toUpperCase(),
      pattern,
      segments: pattern.split("/").filter(Boolean),
      handler,
      auth: opts.auth ?? true,
    });
  }

  /**
   * Finds the route for a method and path. Returns `"method"` when the path exists only under
   * other methods, and `undefined` when nothing matches.
   */
  match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | "method" | undefined {
    const parts = path.split("/").filter(Boolean).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
    let pathMatched = false;
    for (const route of this.#routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let matched = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = route.segments[i];
        if (seg.startsWith(":")) params[seg.slice(1)] = parts[i];
        else if (seg !== parts[i]) {
          matched = false;
          break;
        }
      }
      if (!matched) continue;
      pathMatched = true;
      if (route.method === method.toUpperCase()) return { route, params };
    }
    return pathMatched ? "method" : undefined;
  }

  /** All routes, for listing. */
  get routes(): readonly Route[] {
    return this.#routes;
  }
}
