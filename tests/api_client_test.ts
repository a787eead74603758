/**
 * The API client over real HTTP against the reference server (`src/api_server`): SRP login in both
 * password modes, TOTP, modulus and server-proof rejection, refresh on 401, sign-out on a refused
 * refresh, 429/5xx/dropped connections through the server's fault controls, human verification,
 * session resume and logout.
 *
 * Mail endpoints are covered in `api_mail_test.ts`.
 */
import assert from "node:assert/strict";
import { type ApiServer, startApiServer } from "../src/api_server/server.ts";
import { totpCode } from "../src/crypto/totp.ts";
import { CryptoError } from "../src/crypto/errors.ts";
import {
  ApiClient,
  type ApiClientOptions,
  ApiError,
  getAddresses,
  getUser,
  HumanVerificationRequiredError,
  login,
  LoginSecurityError,
  logout,
  resumeSession,
  SignedOutError,
  submitTotp,
  unlock,
  unlockWithKeyPassword,
} from "../src/api/mod.ts";

/** Runs `fn` against a fresh reference server. */
async function withServer(fn: (server: ApiServer) => Promise<void>): Promise<void> {
  const server = await startApiServer({ port: 0, quiet: true });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** A client for `server` with recorded sleeps (no real waiting) and recorded requests. */
function newClient(server: ApiServer, extra: Partial<ApiClientOptions> = {}) {
  const sleeps: number[] = [];
  const calls: { method: string; path: string; status?: number }[] = [];
  const client = new ApiClient({
    baseURL: server.url,
    appVersion: "linux-bridge@3.21.1",
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0,
    onRequest: (e) => calls.push({ method: e.method, path: e.path, status: e.status }),
    ...extra,
  });
  return { client, sleeps, calls };
}

/** Calls a `/ref/v1/` control route. */
async function control(server: ApiServer, method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const PASSWORD = "correct horse battery staple";

Deno.test("SRP login, one-password mode: unlock every address with the login password", async () => {
  await withServer(async (server) => {
    const created = await server.createUser({
      email: "alice@example.test",
      password: PASSWORD,
      extraAddresses: ["alias@example.test"],
    });
    const { client, calls } = newClient(server);
    const res = await login(client, {
      username: "alice@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    assert.equal(res.twoFactorRequired, false);
    assert.equal(res.passwordMode, 1);
    assert.equal(res.auth.UserID, created.UserID);
    assert.ok(client.authenticated);
    assert.deepEqual(calls.slice(0, 2).map((c) => `${c.method} ${c.path}`), [
      "POST /auth/v4/info",
      "POST /auth/v4",
    ]);

    const account = await unlock(client, PASSWORD);
    assert.equal(account.user.ID, created.UserID);
    assert.equal(account.keyPassword.length, 31);
    assert.notEqual(account.keyPassword, PASSWORD);
    assert.deepEqual(account.addresses.map((a) => a.Email), [
      "alice@example.test",
      "alias@example.test",
    ]);
    assert.equal(account.addressKeys.size, 2);
    assert.equal(account.addressKeyErrors.size, 0);
    assert.ok(account.userKeys.size >= 1);

    // Restart path: the stored key password alone unlocks everything.
    const again = await unlockWithKeyPassword(client, account.keyPassword);
    assert.equal(again.addressKeys.size, 2);

    // The jar holds the server's Session-Id cookie.
    assert.ok(client.cookieJar.cookies().some((c) => c.name === "Session-Id"));

    await logout(client);
    assert.equal(client.authenticated, false);
    await assert.rejects(
      () => getUser(client),
      (e) => e instanceof ApiError || e instanceof SignedOutError,
    );
  });
});

Deno.test("SRP login, two-password mode: the mailbox password unlocks, the login password does not", async () => {
  await withServer(async (server) => {
    await server.createUser({
      email: "bob@example.test",
      password: PASSWORD,
      mailboxPassword: "mailbox secret",
    });
    const { client } = newClient(server);
    const res = await login(client, {
      username: "bob@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    assert.equal(res.passwordMode, 2);
    await assert.rejects(() => unlock(client, PASSWORD), CryptoError);
    const account = await unlock(client, "mailbox secret");
    assert.equal(account.addressKeys.size, 1);
  });
});

Deno.test("TOTP: the session is limited until the code is submitted", async () => {
  await withServer(async (server) => {
    const secret = "JBSWY3DPEHPK3PXP";
    await server.createUser({
      email: "carol@example.test",
      password: PASSWORD,
      totpSecret: secret,
    });
    const { client } = newClient(server);
    const res = await login(client, {
      username: "carol@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    assert.equal(res.twoFactorRequired, true);
    const limited = await getAddresses(client).catch((e) => e);
    assert.ok(limited instanceof ApiError, String(limited));
    const wrong = await submitTotp(client, "000000").catch((e) => e);
    assert.ok(wrong instanceof ApiError, String(wrong));
    await submitTotp(client, totpCode(secret));
    assert.equal((await getAddresses(client)).length, 1);
  });
});

Deno.test("wrong password: ApiError, no session", async () => {
  await withServer(async (server) => {
    await server.createUser({ email: "dave@example.test", password: PASSWORD });
    const { client } = newClient(server);
    const e = await login(client, {
      username: "dave@example.test",
      password: "nope",
      trustedModulusKeys: [server.modulusPublicKey],
    }).catch((e) => e);
    assert.ok(e instanceof ApiError, String(e));
    assert.ok(e.status >= 400);
    assert.equal(client.authenticated, false);
  });
});

Deno.test("modulus signature rejection: untrusted key and tampered modulus never reach POST /auth/v4", async () => {
  await withServer(async (server) => {
    await server.createUser({ email: "erin@example.test", password: PASSWORD });

    // Default trust: Proton's modulus key only, which did not sign the reference server's modulus.
    const a = newClient(server);
    const e1 = await login(a.client, { username: "erin@example.test", password: PASSWORD })
      .catch((e) => e);
    assert.ok(e1 instanceof LoginSecurityError, String(e1));
    assert.equal(e1.reason, "modulus");
    assert.ok(!a.calls.some((c) => c.path === "/auth/v4"));

    // Trusted key, but the signed text was altered in transit.
    const tamper: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith("/auth/v4/info")) return res;
      const body = await res.json();
      // Flip the first character of the signed text (the base64 modulus after the blank line).
      const before = body.Modulus;
      body.Modulus = before.replace(
        /\r?\n\r?\n([A-Za-z0-9+/])/,
        (m: string, c: string) => m.slice(0, -1) + (c === "A" ? "B" : "A"),
      );
      assert.notEqual(body.Modulus, before);
      return Response.json(body, { status: res.status, headers: res.headers });
    };
    const b = newClient(server, { fetch: tamper });
    const e2 = await login(b.client, {
      username: "erin@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    }).catch((e) => e);
    assert.ok(e2 instanceof LoginSecurityError, String(e2));
    assert.equal(e2.reason, "modulus");
    assert.ok(!b.calls.some((c) => c.path === "/auth/v4"));
  });
});

Deno.test("server proof mismatch: login aborted and the new session deleted", async () => {
  await withServer(async (server) => {
    await server.createUser({ email: "frank@example.test", password: PASSWORD });
    const forge: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith("/auth/v4") || init?.method !== "POST") return res;
      const body = await res.json();
      body.ServerProof = btoa("x".repeat(256));
      return Response.json(body, { status: res.status, headers: res.headers });
    };
    const { client, calls } = newClient(server, { fetch: forge });
    const e = await login(client, {
      username: "frank@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    }).catch((e) => e);
    assert.ok(e instanceof LoginSecurityError, String(e));
    assert.equal(e.reason, "server-proof");
    assert.ok(
      calls.some((c) => c.method === "DELETE" && c.path === "/auth/v4" && c.status === 200),
    );
    assert.equal(client.authenticated, false);
  });
});

Deno.test("refresh on 401: expired access tokens are refreshed once, onAuth sees the new token", async () => {
  await withServer(async (server) => {
    const created = await server.createUser({ email: "gina@example.test", password: PASSWORD });
    const auths: [string, string][] = [];
    const { client, calls } = newClient(server, {
      onAuth: (uid, ref) => void auths.push([uid, ref]),
    });
    await login(client, {
      username: "gina@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    const oldRefresh = client.refreshToken;
    await control(server, "POST", `/ref/v1/users/${created.UserID}/expire-access-tokens`);
    const [u1, u2, a] = await Promise.all([getUser(client), getUser(client), getAddresses(client)]);
    assert.equal(u1.ID, created.UserID);
    assert.equal(u2.ID, created.UserID);
    assert.equal(a.length, 1);
    assert.equal(calls.filter((c) => c.path === "/auth/v4/refresh").length, 1);
    assert.equal(auths.length, 1);
    assert.equal(auths[0][0], client.uid);
    assert.notEqual(auths[0][1], oldRefresh);
    assert.equal(auths[0][1], client.refreshToken);

    // A restart: a new client resumes from UID + refresh token.
    const { client: resumed } = newClient(server);
    await resumeSession(resumed, client.uid, client.refreshToken);
    assert.equal((await getUser(resumed)).ID, created.UserID);
  });
});

Deno.test("signed out: a refused refresh gives SignedOutError and calls onSignedOut once", async () => {
  await withServer(async (server) => {
    const created = await server.createUser({ email: "hank@example.test", password: PASSWORD });
    let signedOut = 0;
    const { client } = newClient(server, { onSignedOut: () => void signedOut++ });
    await login(client, {
      username: "hank@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    await control(server, "POST", `/ref/v1/users/${created.UserID}/revoke-sessions`, {});
    const e = await getUser(client).catch((e) => e);
    assert.ok(e instanceof SignedOutError, String(e));
    assert.equal(signedOut, 1);
    assert.ok(client.signedOut);
    await assert.rejects(() => getUser(client), SignedOutError);
    assert.equal(signedOut, 1);

    // Resuming with a dead refresh token is refused the same way.
    const { client: other } = newClient(server);
    await assert.rejects(() => resumeSession(other, "nope", "nope"), SignedOutError);
  });
});

Deno.test("faults: 429 Retry-After honoured, 5xx retried then surfaced, dropped connection retried", async () => {
  await withServer(async (server) => {
    await server.createUser({ email: "ivy@example.test", password: PASSWORD });
    const { client, sleeps, calls } = newClient(server);
    await login(client, {
      username: "ivy@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });

    await control(server, "POST", "/ref/v1/faults", {
      Path: "/core/v4/users",
      Status: 429,
      RetryAfter: 3,
      Count: 1,
    });
    await getUser(client);
    assert.deepEqual(sleeps, [3000]);
    assert.deepEqual(calls.filter((c) => c.path === "/core/v4/users").map((c) => c.status), [
      429,
      200,
    ]);

    sleeps.length = 0;
    await control(server, "POST", "/ref/v1/faults", {
      Path: "/core/v4/users",
      Status: 503,
      Count: 1,
    });
    await getUser(client);
    assert.deepEqual(sleeps, [10000]); // no Retry-After: 10 s

    sleeps.length = 0;
    await control(server, "POST", "/ref/v1/faults", {
      Path: "/core/v4/users",
      Status: 500,
      Count: 2,
    });
    await getUser(client);
    assert.deepEqual(sleeps, [500, 1000]);

    sleeps.length = 0;
    await control(server, "POST", "/ref/v1/faults", { Path: "/core/v4/users", Status: 502 });
    const e = await getUser(client).catch((e) => e);
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.status, 502);
    assert.equal(sleeps.length, 3);
    await control(server, "DELETE", "/ref/v1/faults");

    sleeps.length = 0;
    await control(server, "POST", "/ref/v1/faults", {
      Path: "/core/v4/users",
      Drop: true,
      Count: 1,
    });
    await getUser(client);
    assert.equal(sleeps.length, 1);
  });
});

Deno.test("human verification: 9001 surfaced with the URL, login repeated with the token", async () => {
  await withServer(async (server) => {
    await server.createUser({ email: "jane@example.test", password: PASSWORD });
    await control(server, "POST", "/ref/v1/human-verification", { Path: "/auth/v4" });
    const { client } = newClient(server);
    const opts = {
      username: "jane@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    };
    const e = await login(client, opts).catch((e) => e);
    assert.ok(e instanceof HumanVerificationRequiredError, String(e));
    assert.ok(e.methods.length > 0);
    assert.ok(e.token.length > 0);
    assert.equal(
      e.verificationURL,
      `https://verify.proton.me/?methods=${e.methods.join(",")}&token=${e.token}`,
    );
    const res = await login(client, {
      ...opts,
      hv: e.verification,
      authInfo: e.authInfo as never,
    });
    assert.equal(res.twoFactorRequired, false);
    assert.equal((await getAddresses(client)).length, 1);
  });
});
