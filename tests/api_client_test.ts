/**
 * The API client over real HTTP against the reference server (`src/api_server`): SRP login in both
 * password modes, TOTP, modulus and server-proof rejection, refresh on 401, sign-out on a refused
 * refresh, 429/5xx/dropped connections through the server's fault controls, human verification,
 * session resume and logout.
 *
 * Then the mail endpoints: labels, counts, paging 1,000 messages newest to oldest with `EndID`,
 * decrypting every body and attachment, read/unread, label/unlabel with undo on partial failure,
 * forward flags, deletion, events with `More` and `Refresh`, settings, keys and contacts.
 */
import assert from "node:assert/strict";
import { type ApiServer, startApiServer } from "../src/api_server/server.ts";
import { totpCode } from "../src/crypto/totp.ts";
import { CryptoError } from "../src/crypto/errors.ts";
import { decryptAttachment, decryptMessage, fromBase64 } from "../src/crypto/mod.ts";
import {
  ApiClient,
  type ApiClientOptions,
  ApiError,
  collectEvents,
  countMessages,
  createLabel,
  deleteLabel,
  deleteMessages,
  getAddresses,
  getAllMessageIDs,
  getAttachment,
  getContact,
  getContactEmails,
  getEvent,
  getGroupedMessageCount,
  getLabels,
  getLatestEventID,
  getMailSettings,
  getMessage,
  getMessageIDs,
  getMessageMetadataPage,
  getPublicKeys,
  getUser,
  HumanVerificationRequiredError,
  iterateMetadataNewestFirst,
  labelMessages,
  login,
  LoginSecurityError,
  logout,
  markForwarded,
  markRead,
  markUnforwarded,
  markUnread,
  type MessageMetadata,
  PartialFailureError,
  resumeSession,
  SignedOutError,
  submitTotp,
  unlabelMessages,
  unlock,
  unlockWithKeyPassword,
  updateLabel,
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
      authInfo: e.authInfo,
    });
    assert.equal(res.twoFactorRequired, false);
    assert.equal((await getAddresses(client)).length, 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Mail endpoints
// ---------------------------------------------------------------------------------------------

/** Creates a user (optionally with seeded messages), logs in and unlocks. */
async function loggedIn(server: ApiServer, email: string, messages = 0) {
  const created = await server.createUser({ email, password: PASSWORD, messages });
  const c = newClient(server);
  await login(c.client, {
    username: email,
    password: PASSWORD,
    trustedModulusKeys: [server.modulusPublicKey],
  });
  const account = await unlock(c.client, PASSWORD);
  return { ...c, created, account };
}

/** The server's own view of a user's messages (control route), oldest first. */
async function serverMessages(server: ApiServer, userID: string): Promise<MessageMetadata[]> {
  return (await control(server, "GET", `/ref/v1/users/${userID}/messages`)).Messages;
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

Deno.test("paging 1,000 seeded messages newest → oldest with EndID; every body and attachment decrypts", async () => {
  await withServer(async (server) => {
    const { client, created, account, calls } = await loggedIn(server, "kim@example.test", 1000);
    assert.equal(await countMessages(client), 1000);
    const all = (await getGroupedMessageCount(client)).find((c) => c.LabelID === "5");
    assert.equal(all?.Total, 1000);

    calls.length = 0;
    const seen: MessageMetadata[] = [];
    for await (const page of iterateMetadataNewestFirst(client)) seen.push(...page);
    const ids = seen.map((m) => m.ID);
    assert.equal(ids.length, 1000);
    assert.equal(new Set(ids).size, 1000, "every message exactly once");
    const expected = (await serverMessages(server, created.UserID)).map((m) => m.ID).reverse();
    assert.deepEqual(ids, expected, "newest to oldest, in the server's order");
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] > ids[i], "strictly descending");
    // 150 per page, each page after the first repeats its EndID: ⌈(1000 - 1) / 149⌉ requests.
    assert.equal(calls.filter((c) => c.path === "/mail/v4/messages").length, 7);

    // Plain pages agree with the walk.
    const page0 = await getMessageMetadataPage(client, 0, 150, { Desc: 1 });
    assert.deepEqual(page0.Messages.map((m) => m.ID), ids.slice(0, 150));
    assert.equal(page0.Total, 1000);

    // IDs oldest first, 1000 per call.
    assert.deepEqual(await getAllMessageIDs(client), [...ids].reverse());
    assert.deepEqual(await getMessageIDs(client, ids[1], 5), [ids[0]]);
    assert.deepEqual(await getMessageIDs(client, ids[0], 5), []);
    assert.deepEqual(await getMessageIDs(client, ids[999], 2), [ids[998], ids[997]]);

    // Decrypt every body and every attachment with the unlocked address keys.
    let bodies = 0;
    let attachments = 0;
    await pool(ids, 8, async (id) => {
      const msg = await getMessage(client, id);
      const keys = account.addressKeys.get(msg.AddressID);
      assert.ok(keys, `keys of address ${msg.AddressID}`);
      const body = await decryptMessage(msg.Body, [...keys.keys]);
      assert.ok(body.data.length > 0);
      bodies++;
      assert.equal(msg.Attachments.length, msg.NumAttachments);
      for (const att of msg.Attachments) {
        const data = await getAttachment(client, att.ID);
        const plain = await decryptAttachment(fromBase64(att.KeyPackets), data, [...keys.keys]);
        assert.ok(plain.length > 0, att.Name);
        attachments++;
      }
    });
    assert.equal(bodies, 1000);
    assert.ok(attachments > 0);
  });
});

Deno.test("delivered text, HTML and attachment bytes round-trip exactly", async () => {
  await withServer(async (server) => {
    const { client, created, account } = await loggedIn(server, "lee@example.test");
    const payload = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
    const { MessageID } = await control(server, "POST", "/ref/v1/deliver", {
      To: "lee@example.test",
      From: { Name: "Zoë Ünïcode", Address: "zoe@elsewhere.test" },
      Subject: "Grüße ✓",
      Text: "Hallo — plain text ✓\r\n",
      Attachments: [{
        Name: "data.bin",
        MIMEType: "application/octet-stream",
        DataBase64: btoa(String.fromCharCode(...payload)),
      }],
    });
    const msg = await getMessage(client, MessageID);
    assert.equal(msg.Subject, "Grüße ✓");
    assert.equal(msg.Sender.Address, "zoe@elsewhere.test");
    assert.equal(msg.MIMEType, "text/plain");
    const keys = [...account.addressKeys.get(msg.AddressID)!.keys];
    const body = new TextDecoder().decode((await decryptMessage(msg.Body, keys)).data);
    assert.match(body, /Hallo — plain text ✓/);
    assert.equal(msg.Attachments.length, 1);
    const att = msg.Attachments[0];
    assert.equal(att.Name, "data.bin");
    const data = await decryptAttachment(
      fromBase64(att.KeyPackets),
      await getAttachment(client, att.ID),
      keys,
    );
    assert.deepEqual(data, payload);
    assert.equal(created.AddressIDs[0], msg.AddressID);

    const missing = await getMessage(client, "does-not-exist").catch((e) => e);
    assert.ok(missing instanceof ApiError, String(missing));
  });
});

Deno.test("labels: list by type, create, update, delete", async () => {
  await withServer(async (server) => {
    const { client } = await loggedIn(server, "max@example.test");
    const system = await getLabels(client, 4);
    const byID = new Map(system.map((l) => [l.ID, l.Name]));
    for (const id of ["0", "3", "4", "5", "6", "7", "8", "10"]) assert.ok(byID.has(id), id);
    assert.ok(system.every((l) => l.Type === 4));

    const folder = await createLabel(client, { Name: "Work", Color: "#f66", Type: 3 });
    assert.equal(folder.Type, 3);
    assert.equal(folder.Path, "Work");
    const sub = await createLabel(client, {
      Name: "2024",
      Color: "#f66",
      Type: 3,
      ParentID: folder.ID,
    });
    assert.equal(sub.Path, "Work/2024");
    const label = await createLabel(client, { Name: "Important", Color: "#f66", Type: 1 });

    const renamed = await updateLabel(client, folder.ID, { Name: "Job", Color: "#0f0" });
    assert.equal(renamed.Name, "Job");
    assert.equal(renamed.Color, "#0f0");
    const folders = await getLabels(client, 3);
    assert.deepEqual(folders.map((l) => l.Path).sort(), ["Job", "Job/2024"]);
    assert.deepEqual((await getLabels(client, 1)).map((l) => l.ID), [label.ID]);
    assert.deepEqual(
      (await getLabels(client)).map((l) => l.Type),
      [...system.map(() => 4), 3, 3, 1],
    );

    const dup = await createLabel(client, { Name: "Important", Color: "#f66", Type: 1 })
      .catch((e) => e);
    assert.ok(dup instanceof ApiError, String(dup));

    await deleteLabel(client, label.ID);
    assert.deepEqual(await getLabels(client, 1), []);
  });
});

Deno.test("read/unread, forwarded, label/unlabel, delete act on the server's state", async () => {
  await withServer(async (server) => {
    const { client, created } = await loggedIn(server, "ned@example.test", 20);
    const ids = (await serverMessages(server, created.UserID)).map((m) => m.ID);
    const state = async () =>
      new Map((await serverMessages(server, created.UserID)).map((m) => [m.ID, m]));

    await markRead(client, ids.slice(0, 5));
    await markUnread(client, ids.slice(0, 2));
    let s = await state();
    assert.deepEqual(ids.slice(0, 5).map((id) => s.get(id)!.Unread), [1, 1, 0, 0, 0]);

    await markForwarded(client, ids.slice(0, 3));
    await markUnforwarded(client, [ids[0]]);
    s = await state();
    assert.deepEqual(ids.slice(0, 3).map((id) => s.get(id)!.IsForwarded), [0, 1, 1]);
    const fwdErr = await markForwarded(client, ["nope"]).catch((e) => e);
    assert.ok(fwdErr instanceof PartialFailureError, String(fwdErr));
    assert.deepEqual(fwdErr.failedIDs, ["nope"]);

    await labelMessages(client, ids.slice(0, 4), "10");
    s = await state();
    assert.ok(ids.slice(0, 4).every((id) => s.get(id)!.LabelIDs.includes("10")));
    await unlabelMessages(client, ids.slice(0, 2), "10");
    s = await state();
    assert.deepEqual(ids.slice(0, 4).map((id) => s.get(id)!.LabelIDs.includes("10")), [
      false,
      false,
      true,
      true,
    ]);

    // Moving into Archive takes the messages out of their previous location.
    await labelMessages(client, [ids[5]], "6");
    s = await state();
    assert.ok(s.get(ids[5])!.LabelIDs.includes("6"));
    assert.ok(!s.get(ids[5])!.LabelIDs.includes("0"));

    await deleteMessages(client, ids.slice(10, 12));
    s = await state();
    assert.equal(s.size, 18);
    assert.ok(!s.has(ids[10]) && !s.has(ids[11]));
  });
});

Deno.test("partial label failure: earlier chunks undone, server state unchanged", async () => {
  await withServer(async (server) => {
    const { client, created } = await loggedIn(server, "oli@example.test", 200);
    const before = await serverMessages(server, created.UserID);
    const ids = before.map((m) => m.ID);
    // 200 real IDs with a bogus one at position 170: chunk 1 (150) succeeds, chunk 2 fails partly.
    const mixed = [...ids.slice(0, 170), "no-such-message", ...ids.slice(170)];
    for (const labelID of ["10", "6"]) {
      const e = await labelMessages(client, mixed, labelID).catch((e) => e);
      assert.ok(e instanceof PartialFailureError, String(e));
      assert.deepEqual(e.failedIDs, ["no-such-message"]);
      assert.equal(e.undone, true);
      assert.deepEqual(await serverMessages(server, created.UserID), before);
    }

    await labelMessages(client, ids.slice(0, 3), "10");
    const starred = await serverMessages(server, created.UserID);
    const e = await unlabelMessages(client, [...ids.slice(0, 3), "nope"], "10").catch((e) => e);
    assert.ok(e instanceof PartialFailureError, String(e));
    assert.deepEqual(await serverMessages(server, created.UserID), starred);
  });
});

Deno.test("events: latest, More when many changes are pending, Refresh, no new events", async () => {
  await withServer(async (server) => {
    const { client, created } = await loggedIn(server, "pat@example.test", 12);
    const msgs = await serverMessages(server, created.UserID);
    const ids = msgs.map((m) => m.ID);
    const start = await getLatestEventID(client);
    assert.deepEqual(await collectEvents(client, start), {
      events: [],
      lastEventID: start,
      more: false,
    });
    assert.equal((await getEvent(client, start)).EventID, start);

    await control(server, "PUT", "/ref/v1/settings", { MaxEventItems: 3 });
    // Flip the read state of ten messages, one request (one event) each.
    for (const m of msgs.slice(0, 10)) {
      await (m.Unread ? markRead : markUnread)(client, [m.ID]);
    }
    const label = await createLabel(client, { Name: "Later", Color: "#f66", Type: 1 });

    const first = await getEvent(client, start);
    assert.equal(first.More, 1);
    const got = await collectEvents(client, start);
    assert.equal(got.more, false);
    assert.equal(got.events.at(-1)!.More, 0);
    assert.ok(got.events.length >= 2);
    const messageIDs = new Set(got.events.flatMap((e) => (e.Messages ?? []).map((m) => m.ID)));
    for (const id of ids.slice(0, 10)) assert.ok(messageIDs.has(id), id);
    assert.ok(got.events.some((e) => (e.Labels ?? []).some((l) => l.ID === label.ID)));
    const updates = got.events.flatMap((e) => e.Messages ?? []).filter((m) => m.ID === ids[0]);
    assert.ok(updates.some((m) => m.Message?.Unread === (msgs[0].Unread ? 0 : 1)));

    // Capped collection reports that more is pending.
    const capped = await collectEvents(client, start, 1);
    assert.equal(capped.events.length, 1);
    assert.equal(capped.more, true);

    // Refresh.
    await control(server, "POST", `/ref/v1/users/${created.UserID}/refresh`, { Refresh: 1 });
    const after = await collectEvents(client, got.lastEventID);
    assert.ok(after.events.some((e) => (e.Refresh & 1) === 1));
    assert.deepEqual(await collectEvents(client, after.lastEventID), {
      events: [],
      lastEventID: after.lastEventID,
      more: false,
    });
  });
});

Deno.test("mail settings, recipient keys and contacts", async () => {
  await withServer(async (server) => {
    const { client, created } = await loggedIn(server, "quinn@example.test");
    await server.createUser({ email: "rosa@example.test", password: PASSWORD });

    const settings = await getMailSettings(client);
    assert.equal(typeof settings.PGPScheme, "number");
    assert.equal(typeof settings.DraftMIMEType, "string");

    const internal = await getPublicKeys(client, "rosa@example.test");
    assert.equal(internal.RecipientType, 1);
    assert.ok(internal.Keys.length >= 1);
    assert.match(internal.Keys[0].PublicKey, /BEGIN PGP PUBLIC KEY BLOCK/);
    const external = await getPublicKeys(client, "someone@elsewhere.test");
    assert.equal(external.RecipientType, 2);
    assert.deepEqual(external.Keys, []);

    const { Contact } = await control(server, "POST", `/ref/v1/users/${created.UserID}/contacts`, {
      Name: "Sam",
      Emails: [{ Email: "sam@elsewhere.test", Name: "Sam" }],
    });
    const page = await getContactEmails(client, "sam@elsewhere.test");
    assert.equal(page.ContactEmails.length, 1);
    assert.equal(page.ContactEmails[0].ContactID, Contact.ID);
    const contact = await getContact(client, Contact.ID);
    assert.equal(contact.Name, "Sam");
    assert.equal(contact.ContactEmails[0].Email, "sam@elsewhere.test");
    assert.deepEqual((await getContactEmails(client, "nobody@elsewhere.test")).ContactEmails, []);
  });
});
