/**
 * More of the API client over real HTTP against the reference server, beside
 * `api_client_test.ts`: the exact request shapes the client puts on the wire (headers, login,
 * 2FA and refresh bodies, the listing override, `Limit: "0"`, `Desc`, `EndID`, page sizes,
 * label chunks, undo bodies), the endpoints that test does not call directly (one address, key
 * salts, auth info, every contact email, `undoActions`), request timeouts, and a `--data`
 * restart that keeps users, sessions, messages, events and the modulus key.
 */
import assert from "node:assert/strict";
import { type ApiServer, startApiServer } from "../src/api_server/server.ts";
import { totpCode } from "../src/crypto/totp.ts";
import { decryptMessage, fromBase64 } from "../src/crypto/mod.ts";
import {
  ApiClient,
  type ApiClientOptions,
  ApiError,
  collectEvents,
  countMessages,
  getAddress,
  getAddresses,
  getAllContactEmails,
  getAuthInfo,
  getKeySalts,
  getLatestEventID,
  getMessage,
  getUser,
  iterateMetadataNewestFirst,
  labelMessages,
  login,
  markRead,
  type MessageMetadata,
  resumeSession,
  submitTotp,
  TimeoutError,
  undoActions,
  type UndoToken,
  unlock,
  unlockWithKeyPassword,
} from "../src/api/mod.ts";

const PASSWORD = "correct horse battery staple";
const APP_VERSION = "linux-bridge@3.21.1";

/** One request as the client put it on the wire. */
interface Sent {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

/** A fetch that records every request (JSON bodies parsed) before sending it for real. */
function recordingFetch(sent: Sent[]): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const raw = init?.body;
    sent.push({
      method: init?.method ?? "GET",
      path: url.pathname,
      headers: new Headers(init?.headers),
      body: typeof raw === "string" && raw !== "" ? JSON.parse(raw) : raw,
    });
    return fetch(input, init);
  };
}

async function withServer(fn: (server: ApiServer) => Promise<void>): Promise<void> {
  const server = await startApiServer({ port: 0, quiet: true });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

function newClient(server: ApiServer, extra: Partial<ApiClientOptions> = {}): ApiClient {
  return new ApiClient({
    baseURL: server.url,
    appVersion: APP_VERSION,
    sleep: () => Promise.resolve(),
    random: () => 0,
    ...extra,
  });
}

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

async function serverMessages(server: ApiServer, userID: string): Promise<MessageMetadata[]> {
  return (await control(server, "GET", `/ref/v1/users/${userID}/messages`)).Messages;
}

const sortedKeys = (o: unknown) => Object.keys(o as Record<string, unknown>).sort();

Deno.test("wire shapes: headers, login/2FA/refresh bodies, listing override, EndID paging, label chunks", async () => {
  await withServer(async (server) => {
    const secret = "JBSWY3DPEHPK3PXP";
    const created = await server.createUser({
      email: "wire@example.test",
      password: PASSWORD,
      totpSecret: secret,
      messages: 160,
    });
    const sent: Sent[] = [];
    const client = newClient(server, { fetch: recordingFetch(sent) });
    const res = await login(client, {
      username: "wire@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    assert.equal(res.twoFactorRequired, true);
    await submitTotp(client, totpCode(secret));

    // Every request names the app; Accept is the API's media type.
    for (const s of sent) {
      assert.equal(s.headers.get("x-pm-appversion"), APP_VERSION, `${s.method} ${s.path}`);
      assert.equal(s.headers.get("accept"), "application/vnd.protonmail.v1+json");
    }

    // Login calls carry no session; POST /auth/v4 sends the SRP fields and the FIDO2 object.
    const [info, auth, twoFA] = sent;
    assert.equal(`${info.method} ${info.path}`, "POST /auth/v4/info");
    assert.deepEqual(info.body, { Username: "wire@example.test" });
    assert.equal(`${auth.method} ${auth.path}`, "POST /auth/v4");
    for (const s of [info, auth]) {
      assert.equal(s.headers.has("authorization"), false);
      assert.equal(s.headers.has("x-pm-uid"), false);
      assert.equal(s.headers.get("content-type"), "application/json");
    }
    const authBody = auth.body as Record<string, unknown>;
    assert.deepEqual(sortedKeys(authBody), [
      "ClientEphemeral",
      "ClientProof",
      "FIDO2",
      "SRPSession",
      "Username",
    ]);
    assert.equal(fromBase64(authBody.ClientEphemeral as string).length, 256);
    assert.equal(fromBase64(authBody.ClientProof as string).length, 256);
    assert.deepEqual(sortedKeys(authBody.FIDO2), [
      "AuthenticationOptions",
      "AuthenticatorData",
      "ClientData",
      "CredentialID",
      "Signature",
    ]);

    // 2FA: a session call with the TOTP code as a string.
    assert.equal(`${twoFA.method} ${twoFA.path}`, "POST /auth/v4/2fa");
    assert.match((twoFA.body as { TwoFactorCode: string }).TwoFactorCode, /^\d{6}$/);
    assert.equal(twoFA.headers.get("x-pm-uid"), client.uid);
    assert.match(twoFA.headers.get("authorization") ?? "", /^Bearer \S+$/);

    // Counting: POST with the GET override, `Limit` as the string "0", `Desc` always sent.
    await unlock(client, PASSWORD);
    sent.length = 0;
    assert.equal(await countMessages(client), 160);
    assert.equal(sent[0].method, "POST");
    assert.equal(sent[0].path, "/mail/v4/messages");
    assert.equal(sent[0].headers.get("x-http-method-override"), "GET");
    assert.deepEqual(sent[0].body, { Desc: 0, Limit: "0" });

    // Paging newest first: page 0, `Sort: "ID"`, `Desc: 1`, then `EndID` = last ID seen.
    sent.length = 0;
    const seen: string[] = [];
    for await (const page of iterateMetadataNewestFirst(client, {}, 50)) {
      seen.push(...page.map((m) => m.ID));
    }
    assert.equal(new Set(seen).size, 160);
    const pages = sent.filter((s) => s.path === "/mail/v4/messages");
    assert.ok(pages.length >= 4);
    assert.deepEqual(pages[0].body, { Desc: 1, Page: 0, PageSize: 50, Sort: "ID" });
    for (const p of pages) {
      assert.equal(p.method, "POST");
      assert.equal(p.headers.get("x-http-method-override"), "GET");
    }
    for (let i = 1; i < pages.length; i++) {
      const b = pages[i].body as { EndID?: string; Desc: number; PageSize: number };
      assert.equal(typeof b.EndID, "string");
      assert.ok(seen.includes(b.EndID!));
      assert.equal(b.Desc, 1);
      assert.ok(b.PageSize <= 150);
    }

    // Label/unlabel: chunks of at most 150 `{LabelID, IDs}`.
    sent.length = 0;
    await labelMessages(client, seen, "10");
    const labels = sent.filter((s) => s.path === "/mail/v4/messages/label");
    assert.deepEqual(labels.map((s) => s.method), ["PUT", "PUT"]);
    assert.deepEqual(
      labels.map((s) => (s.body as { IDs: string[] }).IDs.length),
      [150, 10],
    );
    assert.ok(labels.every((s) => (s.body as { LabelID: string }).LabelID === "10"));

    // Refresh after a 401: the body of §1.2 and no Authorization header.
    await control(server, "POST", `/ref/v1/users/${created.UserID}/expire-access-tokens`);
    sent.length = 0;
    const uidBefore = client.uid;
    const refreshBefore = client.refreshToken;
    await getUser(client);
    assert.deepEqual(sent.map((s) => `${s.method} ${s.path}`), [
      "GET /core/v4/users",
      "POST /auth/v4/refresh",
      "GET /core/v4/users",
    ]);
    const refresh = sent[1];
    assert.equal(refresh.headers.has("authorization"), false);
    assert.equal(refresh.headers.has("x-pm-uid"), false);
    const rb = refresh.body as Record<string, unknown>;
    assert.equal(rb.UID, uidBefore);
    assert.equal(rb.RefreshToken, refreshBefore);
    assert.equal(rb.ResponseType, "token");
    assert.equal(rb.GrantType, "refresh_token");
    assert.equal(rb.RedirectURI, "https://protonmail.ch");
    assert.equal(typeof rb.State, "string");
    assert.equal((rb.State as string).length, 32);
    // The retry carries the new token, and the old one is gone.
    assert.notEqual(sent[2].headers.get("authorization"), sent[0].headers.get("authorization"));
    assert.equal(sent[2].headers.get("x-pm-uid"), client.uid);
  });
});

Deno.test("one address, key salts, auth info, every contact email and undoActions", async () => {
  await withServer(async (server) => {
    const created = await server.createUser({
      email: "sal@example.test",
      password: PASSWORD,
      extraAddresses: ["sal.alias@example.test"],
      messages: 5,
    });
    const client = newClient(server);

    const info = await getAuthInfo(client, "sal@example.test");
    assert.equal(info.Version, 4);
    assert.match(info.Modulus, /^-----BEGIN PGP SIGNED MESSAGE-----/);
    assert.equal(fromBase64(info.ServerEphemeral).length, 256);
    assert.ok(fromBase64(info.Salt).length >= 10);
    assert.equal(typeof info.SRPSession, "string");

    await login(client, {
      username: "sal@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    const account = await unlock(client, PASSWORD);

    // The salt of the primary user key is there, 16 bytes.
    const salts = await getKeySalts(client);
    const primary = account.user.Keys.find((k) => k.Primary === 1) ?? account.user.Keys[0];
    const salt = salts.find((s) => s.ID === primary.ID);
    assert.ok(salt?.KeySalt, "salt of the primary user key");
    assert.equal(fromBase64(salt.KeySalt).length, 16);

    // One address by ID is the same object as in the list.
    const addresses = await getAddresses(client);
    assert.equal(addresses.length, 2);
    for (const a of addresses) assert.deepEqual(await getAddress(client, a.ID), a);

    // More contact emails than one page holds: every one of them, across pages.
    for (let i = 0; i < 151; i++) {
      server.core.addContact(created.UserID, {
        Name: `Twin ${i}`,
        Emails: [{ Email: "twin@elsewhere.test", Name: `Twin ${i}` }],
      });
    }
    const twins = await getAllContactEmails(client, "twin@elsewhere.test");
    assert.equal(twins.length, 151);
    assert.equal(new Set(twins.map((e) => e.ContactID)).size, 151);

    // undoActions takes back what a label call did, given the token it returned.
    const before = await serverMessages(server, created.UserID);
    const ids = before.map((m) => m.ID);
    const reply = await client.put<{ UndoToken?: UndoToken }>("/mail/v4/messages/label", {
      LabelID: "6",
      IDs: ids.slice(0, 3),
    });
    assert.ok(reply.UndoToken?.Token, "the label reply carries an UndoToken");
    assert.notDeepEqual(await serverMessages(server, created.UserID), before);
    assert.equal(await undoActions(client, [reply.UndoToken]), true);
    assert.deepEqual(await serverMessages(server, created.UserID), before);
    // A token past its ValidUntil is not sent and counts as a failure.
    assert.equal(await undoActions(client, [{ Token: "old", ValidUntil: 1 }]), false);

    // A message that is gone answers HTTP 422 (what the sync treats as "skip it").
    const gone = await getMessage(client, "no-such-message").catch((e) => e);
    assert.ok(gone instanceof ApiError, String(gone));
    assert.equal(gone.status, 422);
  });
});

Deno.test("request timeout: a slow reply is a TimeoutError, or retried when retries are allowed", async () => {
  await withServer(async (server) => {
    await server.createUser({ email: "slow@example.test", password: PASSWORD });
    const client = newClient(server);
    await login(client, {
      username: "slow@example.test",
      password: PASSWORD,
      trustedModulusKeys: [server.modulusPublicKey],
    });
    const slowOnce = () =>
      control(server, "POST", "/ref/v1/faults", {
        Path: "/core/v4/users",
        LatencyMs: 1500,
        Count: 1,
      });
    await slowOnce();
    const e = await client.get("/core/v4/users", { timeoutMs: 300, maxRetries: 0 })
      .catch((e) => e);
    assert.ok(e instanceof TimeoutError, String(e));
    assert.equal(e.timeoutMs, 300);

    await slowOnce();
    const reply = await client.get<{ User: { ID: string } }>("/core/v4/users", {
      timeoutMs: 300,
      maxRetries: 1,
    });
    assert.equal(typeof reply.User.ID, "string");
    // Let the abandoned slow replies finish before the server closes.
    await new Promise((r) => setTimeout(r, 1500));
  });
});

Deno.test("--data: a restart keeps users, sessions, messages, events and the modulus key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bridge-api-data-" });
  try {
    let server = await startApiServer({ port: 0, quiet: true, dataDir: dir });
    let uid: string;
    let refreshToken: string;
    let keyPassword: string;
    let fromEvent: string;
    let ids: string[];
    let readID: string;
    let userID: string;
    const modulusKey = server.modulusPublicKey;
    try {
      const created = await server.createUser({
        email: "keep@example.test",
        password: PASSWORD,
        messages: 6,
      });
      userID = created.UserID;
      const client = newClient(server);
      await login(client, {
        username: "keep@example.test",
        password: PASSWORD,
        trustedModulusKeys: [server.modulusPublicKey],
      });
      keyPassword = (await unlock(client, PASSWORD)).keyPassword;
      fromEvent = await getLatestEventID(client);
      ids = [];
      for await (const page of iterateMetadataNewestFirst(client)) {
        ids.push(...page.map((m) => m.ID));
      }
      assert.equal(ids.length, 6);
      const unread = (await serverMessages(server, userID)).find((m) => m.Unread === 1);
      assert.ok(unread, "a seeded unread message");
      readID = unread.ID;
      await markRead(client, [readID]);
      uid = client.uid;
      refreshToken = client.refreshToken;
    } finally {
      await server.close();
    }

    server = await startApiServer({ port: 0, quiet: true, dataDir: dir });
    try {
      assert.equal(server.modulusPublicKey, modulusKey);
      // The session survives: resume with UID + refresh token, unlock with the key password.
      const client = newClient(server);
      await resumeSession(client, uid, refreshToken);
      const account = await unlockWithKeyPassword(client, keyPassword);
      assert.equal(account.user.ID, userID);
      // Messages, in the same order, still decrypt.
      const again: string[] = [];
      for await (const page of iterateMetadataNewestFirst(client)) {
        again.push(...page.map((m) => m.ID));
      }
      assert.deepEqual(again, ids);
      for (const id of ids) {
        const msg = await getMessage(client, id);
        const keys = [...account.addressKeys.get(msg.AddressID)!.keys];
        assert.ok((await decryptMessage(msg.Body, keys)).data.length > 0);
      }
      // The change made before the restart is still in the event log after the old cursor.
      const got = await collectEvents(client, fromEvent);
      const items = got.events.flatMap((e) => e.Messages ?? []);
      assert.ok(items.some((m) => m.ID === readID && m.Message?.Unread === 0));
      // And the password still logs in against the same signed modulus.
      const fresh = newClient(server);
      await login(fresh, {
        username: "keep@example.test",
        password: PASSWORD,
        trustedModulusKeys: [modulusKey],
      });
      assert.equal((await getUser(fresh)).ID, userID);
    } finally {
      await server.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
