/**
 * Test helper: a tiny `Deno.serve` fake on port 0 that records every request (method, path,
 * query, headers, JSON body) and answers through a handler. Not a test file itself.
 *
 * @module
 */
import { ApiClient, type ApiClientOptions } from "./transport.ts";

/** One recorded request. */
export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

/** Handler of the fake: gets the recorded request, returns a Response or a JSON value. */
export type FakeHandler = (req: Recorded) => Response | unknown | Promise<Response | unknown>;

/** Starts the fake; `client()` builds an ApiClient logged in with dummy tokens. */
export function startFake(handler: FakeHandler) {
  const requests: Recorded[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const text = await req.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const rec: Recorded = {
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    requests.push(rec);
    const out = await handler(rec);
    if (out instanceof Response) return out;
    return Response.json(out ?? { Code: 1000 });
  });
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return {
    url,
    requests,
    client(extra: Partial<ApiClientOptions> = {}) {
      const c = new ApiClient({
        baseURL: url,
        appVersion: "linux-bridge@3.21.1",
        sleep: () => Promise.resolve(),
        random: () => 0,
        ...extra,
      });
      c.setAuth({ uid: "uid", accessToken: "acc", refreshToken: "ref" });
      return c;
    },
    close: () => server.shutdown(),
  };
}
