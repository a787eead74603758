import assert from "node:assert/strict";
import {
  ApiError,
  HumanVerificationRequiredError,
  NetworkError,
  SignedOutError,
  TimeoutError,
} from "./errors.ts";
import {
  ApiClient,
  type ApiClientOptions,
  bridgeAppVersion,
  defaultUserAgent,
} from "./transport.ts";

/** A tiny HTTP fake on 127.0.0.1:0. */
function fake(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: () => server.shutdown(),
  };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** A client with recorded sleeps and no jitter. */
function client(url: string, extra: Partial<ApiClientOptions> = {}) {
  const sleeps: number[] = [];
  const c = new ApiClient({
    baseURL: url,
    appVersion: "linux-bridge@3.21.1",
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0,
    ...extra,
  });
  return { c, sleeps };
}

Deno.test("bridgeAppVersion and defaultUserAgent follow Bridge's formats", () => {
  assert.equal(bridgeAppVersion("3.21.1", "linux"), "linux-bridge@3.21.1");
  assert.equal(bridgeAppVersion("1.0.0", "darwin"), "macos-bridge@1.0.0");
  assert.equal(bridgeAppVersion("1.0.0", "windows"), "windows-bridge@1.0.0");
  assert.equal(defaultUserAgent("linux"), "NoClient/0.0.1 (Linux)");
});

Deno.test("headers: app version, user agent, accept; session headers only when logged in", async () => {
  const seen: Headers[] = [];
  const srv = fake((req) => {
    seen.push(req.headers);
    return json({ Code: 1000, Ok: 1 });
  });
  try {
    const { c } = client(srv.url, { userAgent: "Thunderbird/128.0 (Linux)" });
    assert.deepEqual(await c.get("/tests/ping"), { Code: 1000, Ok: 1 });
    assert.equal(seen[0].get("x-pm-appversion"), "linux-bridge@3.21.1");
    assert.equal(seen[0].get("user-agent"), "Thunderbird/128.0 (Linux)");
    assert.equal(seen[0].get("accept"), "application/vnd.protonmail.v1+json");
    assert.equal(seen[0].get("x-pm-uid"), null);
    assert.equal(seen[0].get("authorization"), null);

    c.setAuth({ uid: "uid-1", accessToken: "acc-1", refreshToken: "ref-1" });
    await c.put("/mail/v4/messages/read", { IDs: ["a"] });
    assert.equal(seen[1].get("x-pm-uid"), "uid-1");
    assert.equal(seen[1].get("authorization"), "Bearer acc-1");
    assert.equal(seen[1].get("content-type"), "application/json");

    await c.post("/auth/v4/info", { Username: "x" }, { auth: false });
    assert.equal(seen[2].get("x-pm-uid"), null);
    assert.equal(seen[2].get("authorization"), null);
  } finally {
    await srv.close();
  }
});

Deno.test("2xx without Code, empty 2xx and multi-status are success", async () => {
  const srv = fake((req) => {
    const p = new URL(req.url).pathname;
    if (p === "/nocode") return json({ Total: 3 });
    if (p === "/empty") return new Response(null, { status: 204 });
    return json({ Code: 1001, Responses: [{ ID: "a", Response: { Code: 1000 } }] });
  });
  try {
    const { c } = client(srv.url);
    assert.deepEqual(await c.get("/nocode"), { Total: 3 });
    assert.deepEqual(await c.get("/empty"), {});
    const multi = await c.get<{ Code: number; Responses: unknown[] }>("/multi");
    assert.equal(multi.Code, 1001);
    assert.equal(multi.Responses.length, 1);
  } finally {
    await srv.close();
  }
});

Deno.test("errors: JSON body → ApiError fields; no body → HTTP status; 2xx with error Code", async () => {
  const srv = fake((req) => {
    const p = new URL(req.url).pathname;
    if (p === "/json") {
      return json({ Code: 2001, Error: "Invalid value", Details: { Field: "Name" } }, 422);
    }
    if (p === "/garbage") return new Response("<html>bad gateway</html>", { status: 400 });
    if (p === "/ok-but-error") return json({ Code: 2501, Error: "Not found" }, 200);
    return new Response(null, { status: 422 });
  });
  try {
    const { c } = client(srv.url);
    const e1 = await c.get("/json").catch((e) => e);
    assert.ok(e1 instanceof ApiError);
    assert.equal(e1.status, 422);
    assert.equal(e1.code, 2001);
    assert.equal(e1.message, "Invalid value");
    assert.deepEqual(e1.details, { Field: "Name" });
    assert.deepEqual(e1.request, { method: "GET", path: "/json" });
    assert.match(e1.describe(), /GET \/json: Invalid value \(Code=2001, Status=422\)/);

    const e2 = await c.get("/empty").catch((e) => e);
    assert.ok(e2 instanceof ApiError);
    assert.equal(e2.status, 422);
    assert.equal(e2.code, 0);
    assert.ok(e2.message.length > 0);

    const e3 = await c.get("/garbage").catch((e) => e);
    assert.ok(e3 instanceof ApiError);
    assert.equal(e3.status, 400);
    assert.equal(e3.code, 0);

    const e4 = await c.get("/ok-but-error").catch((e) => e);
    assert.ok(e4 instanceof ApiError);
    assert.equal(e4.code, 2501);
  } finally {
    await srv.close();
  }
});

Deno.test("429 honours Retry-After (seconds, default 10, capped) then succeeds", async () => {
  let n = 0;
  const srv = fake(() => {
    n++;
    if (n === 1) return json({ Code: 2028, Error: "Too many" }, 429, { "Retry-After": "2" });
    if (n === 2) return new Response(null, { status: 429 });
    if (n === 3) return new Response(null, { status: 503, headers: { "Retry-After": "3600" } });
    return json({ Code: 1000 });
  });
  try {
    const { c, sleeps } = client(srv.url);
    assert.deepEqual(await c.get("/x"), { Code: 1000 });
    assert.deepEqual(sleeps, [2000, 10000, 60000]);
    assert.equal(n, 4);
  } finally {
    await srv.close();
  }
});

Deno.test("Retry-After wait gets jitter from the injected random source", async () => {
  let n = 0;
  const srv = fake(() => {
    n++;
    return n === 1
      ? new Response(null, { status: 429, headers: { "Retry-After": "1" } })
      : json({ Code: 1000 });
  });
  try {
    const { c, sleeps } = client(srv.url, { random: () => 0.5, jitterMs: 1000 });
    await c.get("/x");
    assert.deepEqual(sleeps, [1500]);
  } finally {
    await srv.close();
  }
});

Deno.test("5xx retried with capped exponential backoff, then surfaced", async () => {
  let n = 0;
  const srv = fake(() => {
    n++;
    return json({ Code: 0, Error: "boom" }, 500);
  });
  try {
    const { c, sleeps } = client(srv.url, { backoffBaseMs: 500, backoffMaxMs: 1500 });
    const e = await c.get("/x").catch((e) => e);
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 500);
    assert.equal(n, 4); // first attempt + 3 retries
    assert.deepEqual(sleeps, [500, 1000, 1500]);
  } finally {
    await srv.close();
  }
});

Deno.test("5xx then success", async () => {
  let n = 0;
  const srv = fake(() => (++n < 3 ? new Response(null, { status: 502 }) : json({ A: 1 })));
  try {
    const { c, sleeps } = client(srv.url);
    assert.deepEqual(await c.get("/x"), { A: 1 });
    assert.deepEqual(sleeps, [500, 1000]);
  } finally {
    await srv.close();
  }
});

/** A raw TCP server: the first `drops` connections are closed without a reply. */
function droppingServer(drops: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const done = (async () => {
    for await (const conn of listener) {
      accepted++;
      if (accepted <= drops) {
        conn.close();
        continue;
      }
      const buf = new Uint8Array(65536);
      await conn.read(buf);
      const body = '{"Code":1000,"Fine":1}';
      await conn.write(
        new TextEncoder().encode(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
            `Connection: close\r\n\r\n${body}`,
        ),
      );
      conn.close();
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    accepted: () => accepted,
    close: async () => {
      listener.close();
      await done;
    },
  };
}

Deno.test("network error (socket closed) retried, then success", async () => {
  const srv = droppingServer(2);
  try {
    const { c, sleeps } = client(srv.url);
    assert.deepEqual(await c.get("/x"), { Code: 1000, Fine: 1 });
    assert.equal(srv.accepted(), 3);
    assert.deepEqual(sleeps, [500, 1000]);
  } finally {
    await srv.close();
  }
});

Deno.test("network error surfaced as NetworkError after the retries", async () => {
  const srv = droppingServer(100);
  try {
    const { c } = client(srv.url, { maxRetries: 2 });
    const e = await c.get("/x").catch((e) => e);
    assert.ok(e instanceof NetworkError, String(e));
    assert.ok(!(e instanceof TimeoutError));
    assert.equal(srv.accepted(), 3);
  } finally {
    await srv.close();
  }
});

Deno.test("once: a request that creates something is not repeated after a 5xx or a lost reply", async () => {
  // 500, 503 and a dropped connection: the server may have acted; a retry could create twice.
  for (const status of [500, 503]) {
    let n = 0;
    const srv = fake(() => {
      n++;
      return json({ Code: 0, Error: "after the work" }, status, { "Retry-After": "1" });
    });
    try {
      const { c } = client(srv.url);
      const e = await c.post("/create", { A: 1 }, { once: true }).catch((e) => e);
      assert.ok(e instanceof ApiError && e.status === status, String(e));
      assert.equal(n, 1, `${status}: one attempt`);
    } finally {
      await srv.close();
    }
  }
  const drop = droppingServer(1);
  try {
    const { c } = client(drop.url);
    const e = await c.post("/create", { A: 1 }, { once: true }).catch((e) => e);
    assert.ok(e instanceof NetworkError, String(e));
    assert.equal(drop.accepted(), 1);
  } finally {
    await drop.close();
  }
  // 429 says nothing was done: retried.
  let n = 0;
  const srv = fake(() => (++n === 1 ? json({ Code: 0 }, 429, { "Retry-After": "1" }) : json({})));
  try {
    const { c } = client(srv.url);
    await c.post("/create", { A: 1 }, { once: true });
    assert.equal(n, 2);
  } finally {
    await srv.close();
  }
  // A connection that was never made: retried (nothing reached the server).
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const { c, sleeps } = client(`http://127.0.0.1:${port}`, { maxRetries: 2 });
  const e = await c.post("/create", { A: 1 }, { once: true }).catch((e) => e);
  assert.ok(e instanceof NetworkError, String(e));
  assert.equal(sleeps.length, 2, "refused connections were retried");
});

Deno.test("per-request timeout → TimeoutError (and a timeout is retried)", async () => {
  let n = 0;
  const srv = fake(async () => {
    n++;
    if (n === 1 || n >= 3) await new Promise((r) => setTimeout(r, 300));
    return json({ Code: 1000 });
  });
  try {
    const { c } = client(srv.url, { timeoutMs: 50 });
    assert.deepEqual(await c.get("/x"), { Code: 1000 }); // attempt 1 times out, attempt 2 fine
    assert.equal(n, 2);
    const e = await c.get("/x", { maxRetries: 0 }).catch((e) => e);
    assert.ok(e instanceof TimeoutError);
    assert.equal(e.timeoutMs, 50);
  } finally {
    await srv.close();
  }
});

Deno.test("caller abort is not retried", async () => {
  const srv = fake(async () => {
    await new Promise((r) => setTimeout(r, 200));
    return json({});
  });
  try {
    const { c, sleeps } = client(srv.url);
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error("stop")), 20);
    const e = await c.get("/x", { signal: ctrl.signal }).catch((e) => e);
    assert.equal(e.message, "stop");
    assert.deepEqual(sleeps, []);
  } finally {
    await srv.close();
  }
});

/** A fake with a session: 401 unless the bearer token is current; a refresh endpoint. */
function sessionServer(opts: { refuse?: { status: number; code: number }; delay?: number }) {
  const state = {
    access: "acc-2",
    refresh: "ref-1",
    refreshCalls: 0,
    refreshBodies: [] as Record<string, unknown>[],
    refreshHeaders: [] as Headers[],
    calls: 0,
  };
  const srv = fake(async (req) => {
    const p = new URL(req.url).pathname;
    if (p === "/auth/v4/refresh") {
      state.refreshCalls++;
      state.refreshBodies.push(await req.json());
      state.refreshHeaders.push(req.headers);
      if (opts.delay) await new Promise((r) => setTimeout(r, opts.delay));
      if (opts.refuse) {
        return json({ Code: opts.refuse.code, Error: "Invalid refresh token" }, opts.refuse.status);
      }
      const body = state.refreshBodies.at(-1)!;
      if (body.RefreshToken !== state.refresh) return json({ Code: 10013, Error: "bad" }, 422);
      state.access = `acc-${state.refreshCalls + 2}`;
      state.refresh = `ref-${state.refreshCalls + 1}`;
      return json({
        Code: 1000,
        UID: "uid-1",
        AccessToken: state.access,
        RefreshToken: state.refresh,
        TokenType: "Bearer",
        Scope: "full mail",
      });
    }
    state.calls++;
    if (req.headers.get("authorization") !== `Bearer ${state.access}`) {
      return new Response(null, { status: 401 });
    }
    return json({ Code: 1000, Path: p });
  });
  return { ...srv, state };
}

Deno.test("401 → exactly one refresh (body per §1.2) → one retry; onAuth gets the new token", async () => {
  const srv = sessionServer({});
  try {
    const auths: [string, string][] = [];
    const { c } = client(srv.url, { onAuth: (uid, ref) => void auths.push([uid, ref]) });
    c.setAuth({ uid: "uid-1", accessToken: "acc-1", refreshToken: "ref-1" });
    assert.deepEqual(await c.get("/core/v4/users"), { Code: 1000, Path: "/core/v4/users" });
    assert.equal(srv.state.refreshCalls, 1);
    const b = srv.state.refreshBodies[0];
    assert.equal(b.UID, "uid-1");
    assert.equal(b.RefreshToken, "ref-1");
    assert.equal(b.ResponseType, "token");
    assert.equal(b.GrantType, "refresh_token");
    assert.equal(b.RedirectURI, "https://protonmail.ch");
    assert.equal(typeof b.State, "string");
    assert.equal((b.State as string).length, 32);
    assert.equal(srv.state.refreshHeaders[0].get("authorization"), null);
    assert.deepEqual(auths, [["uid-1", "ref-2"]]);
    assert.equal(c.refreshToken, "ref-2");
    assert.equal(srv.state.calls, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("a second 401 after the refresh is surfaced, not refreshed again", async () => {
  let refreshes = 0;
  const srv = fake((req) => {
    if (new URL(req.url).pathname === "/auth/v4/refresh") {
      refreshes++;
      return json({ UID: "u", AccessToken: "a2", RefreshToken: "r2" });
    }
    return new Response(null, { status: 401 });
  });
  try {
    const { c } = client(srv.url);
    c.setAuth({ uid: "u", accessToken: "a1", refreshToken: "r1" });
    const e = await c.get("/x").catch((e) => e);
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 401);
    assert.equal(refreshes, 1);
  } finally {
    await srv.close();
  }
});

Deno.test("concurrent 401s share one refresh", async () => {
  const srv = sessionServer({ delay: 50 });
  try {
    const { c } = client(srv.url);
    c.setAuth({ uid: "uid-1", accessToken: "acc-1", refreshToken: "ref-1" });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.get<{ Path: string }>(`/r/${i}`)),
    );
    assert.deepEqual(results.map((r) => r.Path), Array.from({ length: 8 }, (_, i) => `/r/${i}`));
    assert.equal(srv.state.refreshCalls, 1);
  } finally {
    await srv.close();
  }
});

for (
  const refuse of [{ status: 400, code: 2001 }, { status: 422, code: 2001 }, {
    status: 401,
    code: 10013,
  }]
) {
  Deno.test(`refused refresh (${refuse.status}/${refuse.code}) → SignedOutError, onSignedOut once`, async () => {
    const srv = sessionServer({ refuse });
    try {
      let signedOut = 0;
      const { c } = client(srv.url, { onSignedOut: () => void signedOut++ });
      c.setAuth({ uid: "uid-1", accessToken: "acc-1", refreshToken: "ref-1" });
      const [e1, e2] = await Promise.all([
        c.get("/a").catch((e) => e),
        c.get("/b").catch((e) => e),
      ]);
      assert.ok(e1 instanceof SignedOutError, String(e1));
      assert.ok(e2 instanceof SignedOutError, String(e2));
      assert.equal(e1.status, refuse.status);
      assert.equal(signedOut, 1);
      assert.ok(c.signedOut);
      assert.equal(c.refreshToken, "");
      const callsBefore = srv.state.calls;
      const e3 = await c.get("/c").catch((e) => e);
      assert.ok(e3 instanceof SignedOutError);
      assert.equal(srv.state.calls, callsBefore);
      assert.equal(srv.state.refreshCalls, 1);
    } finally {
      await srv.close();
    }
  });
}

Deno.test("transient refresh failure (500) is not a sign-out", async () => {
  let n = 0;
  const srv = fake((req) => {
    if (new URL(req.url).pathname === "/auth/v4/refresh") {
      n++;
      return json({ Code: 0, Error: "down" }, 500);
    }
    return new Response(null, { status: 401 });
  });
  try {
    const { c } = client(srv.url, { maxRetries: 1 });
    c.setAuth({ uid: "u", accessToken: "a1", refreshToken: "r1" });
    const e = await c.get("/x").catch((e) => e);
    assert.ok(e instanceof ApiError && !(e instanceof SignedOutError));
    assert.equal(e.status, 500);
    assert.equal(n, 2);
    assert.ok(!c.signedOut);
    assert.equal(c.refreshToken, "r1");
  } finally {
    await srv.close();
  }
});

Deno.test("9001 → HumanVerificationRequiredError; withHumanVerification repeats with the headers", async () => {
  const srv = fake((req) => {
    if (req.headers.get("x-pm-human-verification-token") === "tok-123") {
      assert.equal(req.headers.get("x-pm-human-verification-token-type"), "captcha,email");
      return json({ Code: 1000, Verified: 1 });
    }
    return json({
      Code: 9001,
      Error: "Human verification required",
      Details: {
        HumanVerificationMethods: ["captcha", "email"],
        HumanVerificationToken: "tok-123",
      },
    }, 422);
  });
  try {
    const { c } = client(srv.url);
    const e = await c.post("/auth/v4", { Username: "a" }).catch((e) => e);
    assert.ok(e instanceof HumanVerificationRequiredError);
    assert.equal(e.code, 9001);
    assert.deepEqual(e.methods, ["captcha", "email"]);
    assert.equal(e.token, "tok-123");
    assert.equal(
      e.verificationURL,
      "https://verify.proton.me/?methods=captcha,email&token=tok-123",
    );
    const hv = c.withHumanVerification(e.verification);
    assert.deepEqual(await hv.post("/auth/v4", { Username: "a" }), { Code: 1000, Verified: 1 });
    // The view shares the session with its parent.
    hv.setAuth({ uid: "u", accessToken: "a", refreshToken: "r" });
    assert.equal(c.uid, "u");
  } finally {
    await srv.close();
  }
});

Deno.test("cookies: Set-Cookie stored and sent back", async () => {
  const cookies: (string | null)[] = [];
  const srv = fake((req) => {
    cookies.push(req.headers.get("cookie"));
    return new Response("{}", {
      headers: {
        "Set-Cookie": "Session-Id=abc123; Path=/; Max-Age=7776000; Secure; HttpOnly",
        "Content-Type": "application/json",
      },
    });
  });
  try {
    const { c } = client(srv.url);
    await c.get("/a");
    await c.get("/b");
    assert.deepEqual(cookies, [null, "Session-Id=abc123"]);
    assert.equal(c.cookieJar.cookies().length, 1);
  } finally {
    await srv.close();
  }
});

Deno.test("binary download returns the bytes; errors still decoded", async () => {
  const data = new Uint8Array([0, 1, 2, 250, 251, 252, 10, 13]);
  const srv = fake((req) =>
    new URL(req.url).pathname === "/mail/v4/attachments/a1"
      ? new Response(data, { headers: { "Content-Type": "application/octet-stream" } })
      : json({ Code: 2501, Error: "Attachment does not exist" }, 422)
  );
  try {
    const { c } = client(srv.url);
    assert.deepEqual(await c.getBytes("/mail/v4/attachments/a1"), data);
    const e = await c.getBytes("/mail/v4/attachments/zz").catch((e) => e);
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 2501);
  } finally {
    await srv.close();
  }
});

Deno.test("Date header tracks the server clock offset", async () => {
  const serverNow = Date.parse("2030-01-02T03:04:05Z");
  const local = Date.parse("2030-01-02T03:00:00Z");
  const c = new ApiClient({
    baseURL: "http://api.invalid",
    appVersion: "linux-bridge@3.21.1",
    now: () => local,
    fetch: () =>
      Promise.resolve(
        new Response("{}", { headers: { Date: new Date(serverNow).toUTCString() } }),
      ),
  });
  await c.get("/x");
  assert.equal(c.serverTimeOffsetMs, serverNow - local);
  assert.equal(c.serverTime().getTime(), serverNow);
});

Deno.test("query parameters and base URL joining", async () => {
  const urls: string[] = [];
  const c = new ApiClient({
    baseURL: "https://example.test/api/",
    appVersion: "linux-bridge@3.21.1",
    fetch: (input) => {
      urls.push(String(input));
      return Promise.resolve(new Response("{}"));
    },
  });
  await c.get("/core/v4/labels", { query: { Type: 3, Skip: undefined } });
  assert.deepEqual(urls, ["https://example.test/api/core/v4/labels?Type=3"]);
});

Deno.test("auth: true without a session is a SignedOutError, no request made", async () => {
  let calls = 0;
  const c = new ApiClient({
    baseURL: "http://api.invalid",
    appVersion: "x",
    fetch: () => {
      calls++;
      return Promise.resolve(new Response("{}"));
    },
  });
  const e = await c.get("/x", { auth: true }).catch((e) => e);
  assert.ok(e instanceof SignedOutError);
  assert.equal(calls, 0);
});

Deno.test("a request that must not be repeated is sent once when the connection drops unanswered", async () => {
  // A server that answers on a kept-alive connection, then closes one without answering the
  // request it received: Deno's fetch sends a request again by itself when that happens on a
  // reused connection, so a send or an import would reach the server twice.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  const serve = (async () => {
    for await (const conn of listener) {
      (async () => {
        const dec = new TextDecoder();
        let text = "";
        const buf = new Uint8Array(65536);
        try {
          for (;;) {
            const end = text.indexOf("\r\n\r\n");
            if (end >= 0) {
              const head = text.slice(0, end);
              const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
              if (text.length >= end + 4 + length) {
                text = text.slice(end + 4 + length);
                const line = head.split("\r\n")[0];
                seen.push(line);
                if (line.includes("/drop")) break;
                await conn.write(
                  new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"),
                );
                continue;
              }
            }
            const n = await conn.read(buf);
            if (n === null) break;
            text += dec.decode(buf.subarray(0, n));
          }
        } finally {
          conn.close();
        }
      })();
    }
  })();
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const client = new ApiClient({ baseURL: `http://127.0.0.1:${port}`, appVersion: "x@1" });
    await client.request("GET", "/warm"); // leaves a kept-alive connection in the pool
    await assert.rejects(client.request("POST", "/drop", { body: { a: 1 }, once: true }));
    await new Promise((r) => setTimeout(r, 300)); // a repeat would arrive by now
    assert.deepEqual(seen.filter((l) => l.includes("/drop")), ["POST /drop HTTP/1.1"]);
  } finally {
    listener.close();
    await serve.catch(() => {});
  }
});

Deno.test("withLimits: a view with its own retry limits, on the same session", async () => {
  let n = 0;
  const srv = fake(() => {
    n++;
    return json({ Code: 2028, Error: "Too many" }, 429, { "Retry-After": "600" });
  });
  try {
    const { c, sleeps } = client(srv.url, { maxRetries: 3 });
    c.setAuth({ uid: "u1", accessToken: "a1", refreshToken: "r1" });
    const quick = c.withLimits({ maxRetries: 1, maxRetryAfterMs: 10_000 });
    await assert.rejects(quick.get("/x"), (e) => e instanceof ApiError && e.status === 429);
    assert.equal(n, 2);
    assert.deepEqual(sleeps, [10_000]);
    assert.equal(quick.uid, "u1");
    n = 0;
    sleeps.length = 0;
    await assert.rejects(c.get("/x"));
    assert.equal(n, 4, "the client itself keeps its limits");
    assert.deepEqual(sleeps, [60_000, 60_000, 60_000]);
  } finally {
    await srv.close();
  }
});
