/**
 * The reference server over real HTTP: auth flows, the request pipeline, core routes and the
 * controls, each against `startApiServer({port: 0})`.
 */
import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { type ApiServer, startApiServer } from "./server.ts";
import { REFERENCE_MODULUS_B64 } from "../crypto/srp_constants.ts";
import { fromBase64 } from "../crypto/base64.ts";
import { generateProofs } from "../crypto/srp_client.ts";
import { totpCode } from "../crypto/totp.ts";
import { deriveKeyPassword } from "../crypto/key_password.ts";
import { unlockKey } from "../crypto/keys.ts";

const APP = "linux-bridge@3.21.1";

interface CallOptions {
  body?: unknown;
  auth?: { UID: string; AccessToken: string };
  headers?: Record<string, string>;
  app?: string | null;
}

async function call(s: ApiServer, method: string, path: string, o: CallOptions = {}) {
  const headers: Record<string, string> = { ...o.headers };
  if (o.app !== null) headers["x-pm-appversion"] = o.app ?? APP;
  if (o.auth) {
    headers["x-pm-uid"] = o.auth.UID;
    headers["authorization"] = `Bearer ${o.auth.AccessToken}`;
  }
  let body: string | undefined;
  if (o.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
  }
  const res = await fetch(s.url + path, { method, headers, body });
  const text = await res.text();
  // deno-lint-ignore no-explicit-any
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json };
}

async function login(s: ApiServer, username: string, password: string, headers = {}) {
  const info = await call(s, "POST", "/auth/v4/info", { body: { Username: username } });
  assert.equal(info.status, 200, JSON.stringify(info.json));
  const proofs = generateProofs({
    version: info.json.Version,
    username,
    password,
    salt: info.json.Salt,
    modulus: fromBase64(REFERENCE_MODULUS_B64),
    serverEphemeral: info.json.ServerEphemeral,
  });
  const body = {
    Username: username,
    ClientEphemeral: proofs.clientEphemeral,
    ClientProof: proofs.clientProof,
    SRPSession: info.json.SRPSession,
    FIDO2: null,
  };
  const auth = await call(s, "POST", "/auth/v4", { body, headers });
  return { info: info.json, auth, proofs, body };
}

function withServer(
  name: string,
  fn: (s: ApiServer) => Promise<void>,
  opts: Parameters<typeof startApiServer>[0] = {},
) {
  Deno.test(name, async () => {
    const s = await startApiServer({ port: 0, quiet: true, ...opts });
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  });
}

withServer("SRP login: info → proofs → auth → users, keys unlock", async (s) => {
  await s.createUser({ email: "alice@example.test", password: "secret" });
  const { info, auth, proofs } = await login(s, "alice@example.test", "secret");
  assert.equal(info.Code, 1000);
  assert.equal(info.Version, 4);
  assert.equal(typeof info.SRPSession, "string");
  assert.equal(info["2FA"].Enabled, 0);
  // The modulus is clear-signed by the server's modulus key.
  const verified = await openpgp.verify({
    message: await openpgp.readCleartextMessage({ cleartextMessage: info.Modulus }),
    verificationKeys: await openpgp.readKey({ armoredKey: s.modulusPublicKey }),
    expectSigned: true,
  });
  assert.equal((verified.data as string).trim(), REFERENCE_MODULUS_B64);

  assert.equal(auth.status, 200, JSON.stringify(auth.json));
  const a = auth.json;
  assert.equal(a.Code, 1000);
  assert.equal(a.ServerProof, proofs.expectedServerProof);
  assert.match(a.Scope, /^full self /);
  assert.deepEqual(a["2FA"], { Enabled: 0, FIDO2: null });
  assert.equal(a.PasswordMode, 1);
  for (const k of ["UserID", "UID", "AccessToken", "RefreshToken"]) {
    assert.equal(typeof a[k], "string", k);
  }

  const users = await call(s, "GET", "/core/v4/users", { auth: a });
  assert.equal(users.status, 200);
  assert.equal(users.json.User.ID, a.UserID);
  assert.equal(users.json.User.Email, "alice@example.test");
  const salts = await call(s, "GET", "/core/v4/keys/salts", { auth: a });
  const salt = salts.json.KeySalts.find((x: { ID: string }) => x.ID === users.json.User.Keys[0].ID);
  await unlockKey(users.json.User.Keys[0].PrivateKey, deriveKeyPassword("secret", salt.KeySalt));
  const addrs = await call(s, "GET", "/core/v4/addresses", { auth: a });
  assert.equal(addrs.json.Addresses.length, 1);
  assert.equal(typeof addrs.json.Addresses[0].Keys[0].Token, "string");
  const one = await call(s, "GET", `/core/v4/addresses/${addrs.json.Addresses[0].ID}`, { auth: a });
  assert.equal(one.json.Address.Email, "alice@example.test");
  const modulus = await call(s, "GET", "/auth/v4/modulus");
  assert.equal(modulus.json.Modulus, info.Modulus);
});

withServer("SRP login: wrong password 422/8002, unknown user 401/8002", async (s) => {
  await s.createUser({ email: "alice@example.test", password: "secret" });
  const { auth } = await login(s, "alice", "wrong");
  assert.equal(auth.status, 422);
  assert.equal(auth.json.Code, 8002);
  const unknown = await call(s, "POST", "/auth/v4/info", { body: { Username: "nobody" } });
  assert.equal(unknown.status, 401);
  assert.equal(unknown.json.Code, 8002);
});

withServer("TOTP: twofactor scope until /auth/v4/2fa passes", async (s) => {
  const secret = "JBSWY3DPEHPK3PXP";
  await s.createUser({
    email: "bob@example.test",
    password: "pw",
    mailboxPassword: "mbox",
    totpSecret: secret,
  });
  const { info, auth } = await login(s, "bob@example.test", "pw");
  assert.equal(info["2FA"].Enabled, 1);
  const a = auth.json;
  assert.equal(a.Scope, "twofactor");
  assert.equal(a["2FA"].Enabled, 1);
  assert.equal(a.PasswordMode, 2);
  assert.equal((await call(s, "GET", "/core/v4/users", { auth: a })).status, 200);
  const blocked = await call(s, "GET", "/core/v4/addresses", { auth: a });
  assert.equal(blocked.status, 403);
  assert.match(blocked.json.Error, /two-factor/i);

  const right = totpCode(secret);
  const wrong = right === "000000" ? "111111" : "000000";
  const bad = await call(s, "POST", "/auth/v4/2fa", { auth: a, body: { TwoFactorCode: wrong } });
  assert.equal(bad.status, 422);
  assert.equal(bad.json.Code, 8002);
  const good = await call(s, "POST", "/auth/v4/2fa", { auth: a, body: { TwoFactorCode: right } });
  assert.equal(good.status, 200);
  assert.match(good.json.Scope, /^full /);
  assert.equal((await call(s, "GET", "/core/v4/addresses", { auth: a })).status, 200);
  const settings = await call(s, "GET", "/core/v4/settings", { auth: a });
  assert.deepEqual(
    [settings.json.UserSettings.Password.Mode, settings.json.UserSettings["2FA"].Enabled],
    [2, 1],
  );
});

withServer("refresh rotates tokens; the old refresh token and access token die", async (s) => {
  await s.createUser({ email: "alice@example.test", password: "secret" });
  const a = (await login(s, "alice", "secret")).auth.json;
  const refreshBody = (rt: string) => ({
    UID: a.UID,
    RefreshToken: rt,
    ResponseType: "token",
    GrantType: "refresh_token",
    RedirectURI: "https://protonmail.ch",
    State: "x",
  });
  const r = await call(s, "POST", "/auth/v4/refresh", { body: refreshBody(a.RefreshToken) });
  assert.equal(r.status, 200);
  assert.equal(r.json.UID, a.UID);
  assert.notEqual(r.json.AccessToken, a.AccessToken);
  assert.notEqual(r.json.RefreshToken, a.RefreshToken);
  assert.equal((await call(s, "GET", "/core/v4/users", { auth: a })).status, 401);
  assert.equal((await call(s, "GET", "/core/v4/users", { auth: r.json })).status, 200);
  const again = await call(s, "POST", "/auth/v4/refresh", { body: refreshBody(a.RefreshToken) });
  assert.equal(again.status, 422);
  assert.equal(again.json.Code, 10013);
});

withServer("controls: expire access tokens (401 → refresh) and revoke (signed out)", async (s) => {
  const u = await s.createUser({ email: "alice@example.test", password: "secret" });
  const a = (await login(s, "alice", "secret")).auth.json;
  const exp = await call(s, "POST", `/ref/v1/users/${u.UserID}/expire-access-tokens`);
  assert.equal(exp.json.Sessions, 1);
  assert.equal((await call(s, "GET", "/core/v4/users", { auth: a })).status, 401);
  const r = await call(s, "POST", "/auth/v4/refresh", {
    body: { UID: a.UID, RefreshToken: a.RefreshToken },
  });
  assert.equal(r.status, 200);
  assert.equal((await call(s, "GET", "/core/v4/users", { auth: r.json })).status, 200);
  await call(s, "POST", "/ref/v1/users/alice@example.test/revoke-sessions");
  assert.equal((await call(s, "GET", "/core/v4/users", { auth: r.json })).status, 401);
  const refused = await call(s, "POST", "/auth/v4/refresh", {
    body: { UID: a.UID, RefreshToken: r.json.RefreshToken },
  });
  assert.equal(refused.status, 422);
  assert.equal(refused.json.Code, 10013);
});

withServer("logout kills the session", async (s) => {
  await s.createUser({ email: "alice@example.test", password: "secret" });
  const a = (await login(s, "alice", "secret")).auth.json;
  assert.equal((await call(s, "DELETE", "/auth/v4", { auth: a })).status, 200);
  const after = await call(s, "GET", "/core/v4/users", { auth: a });
  assert.equal(after.status, 401);
  assert.deepEqual(after.json, { Code: 401, Error: "Invalid access token" });
  const r = await call(s, "POST", "/auth/v4/refresh", {
    body: { UID: a.UID, RefreshToken: a.RefreshToken },
  });
  assert.equal(r.status, 422);
});

withServer("pipeline: app version, 401, cookie, 404, 405, malformed JSON", async (s) => {
  const missing = await call(s, "GET", "/tests/ping", { app: null });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.Code, 5001);
  const bad = await call(s, "GET", "/tests/ping", { app: "bridge" });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.Code, 5003);
  const ping = await call(s, "GET", "/tests/ping");
  assert.equal(ping.status, 200);
  assert.match(ping.headers.get("set-cookie") ?? "", /Session-Id=[^;]+; Path=\/; Max-Age=7776000/);
  const kept = await call(s, "GET", "/tests/ping", { headers: { cookie: "Session-Id=abc" } });
  assert.match(kept.headers.get("set-cookie") ?? "", /^Session-Id=abc;/);

  const noAuth = await call(s, "GET", "/core/v4/users");
  assert.equal(noAuth.status, 401);
  assert.equal(noAuth.json.Code, 401);
  const badToken = await call(s, "GET", "/core/v4/users", {
    auth: { UID: "x", AccessToken: "y" },
  });
  assert.equal(badToken.status, 401);
  const nf = await call(s, "GET", "/nope/v4");
  assert.equal(nf.status, 404);
  assert.equal(typeof nf.json.Error, "string");
  const wrongMethod = await call(s, "PATCH", "/core/v4/users");
  assert.equal(wrongMethod.status, 405);
  const malformed = await call(s, "POST", "/auth/v4/info", { body: "{not json" });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.Code, 2001);
});

withServer(
  "an unexpected exception answers 500 in the API shape; the server keeps serving",
  async (s) => {
    await s.createUser({ email: "alice@example.test", password: "secret" });
    const a = (await login(s, "alice", "secret")).auth.json;
    const original = s.accounts.wireUser.bind(s.accounts);
    s.accounts.wireUser = () => {
      throw new TypeError("boom");
    };
    const r = await call(s, "GET", "/core/v4/users", { auth: a });
    assert.equal(r.status, 500);
    assert.equal(typeof r.json.Code, "number");
    assert.equal(typeof r.json.Error, "string");
    s.accounts.wireUser = original;
    assert.equal((await call(s, "GET", "/core/v4/users", { auth: a })).status, 200);
  },
);

withServer("human verification: 9001 with a token, retry with the token passes", async (s) => {
  await s.createUser({ email: "alice@example.test", password: "secret" });
  const hv = await call(s, "POST", "/ref/v1/human-verification", { body: { Count: 1 } });
  assert.equal(hv.status, 200);
  const first = await login(s, "alice", "secret");
  assert.equal(first.auth.status, 422);
  assert.equal(first.auth.json.Code, 9001);
  const details = first.auth.json.Details;
  assert.deepEqual(details.HumanVerificationMethods, ["captcha", "email"]);
  const retry = await call(s, "POST", "/auth/v4", {
    body: first.body,
    headers: {
      "x-pm-human-verification-token": details.HumanVerificationToken,
      "x-pm-human-verification-token-type": "captcha",
    },
  });
  assert.equal(retry.status, 200, JSON.stringify(retry.json));
  assert.equal(retry.json.ServerProof, first.proofs.expectedServerProof);
});

withServer("faults: 429 with Retry-After, then normal; 503 on a route pattern", async (s) => {
  const add = await call(s, "POST", "/ref/v1/faults", {
    body: { Path: "/tests/ping", Status: 429, RetryAfter: 2, Count: 1 },
  });
  assert.equal(typeof add.json.ID, "string");
  const r = await call(s, "GET", "/tests/ping");
  assert.equal(r.status, 429);
  assert.equal(r.headers.get("retry-after"), "2");
  assert.equal((await call(s, "GET", "/tests/ping")).status, 200);
  await call(s, "POST", "/ref/v1/faults", {
    body: { Method: "GET", Path: "/contacts/v4/:id", Status: 503 },
  });
  assert.equal((await call(s, "GET", "/contacts/v4/abc")).status, 503);
  assert.equal((await call(s, "GET", "/tests/ping")).status, 200);
  await call(s, "DELETE", "/ref/v1/faults");
  assert.equal((await call(s, "GET", "/contacts/v4/abc")).status, 401);
  const dropped = await call(s, "POST", "/ref/v1/faults", { body: { Drop: true, Count: 1 } });
  assert.equal(dropped.status, 200);
  await assert.rejects(() => call(s, "GET", "/tests/ping"));
  const invalid = await call(s, "POST", "/ref/v1/faults", { body: { ErrorRate: 5 } });
  assert.equal(invalid.status, 422);
});

withServer("core: recipient keys, mail settings, contacts, address controls", async (s) => {
  const u = await s.createUser({
    email: "alice@example.test",
    password: "secret",
    extraAddresses: ["alias@example.test"],
  });
  await s.createUser({ email: "bob@example.test", password: "pw" });
  const a = (await login(s, "alice", "secret")).auth.json;

  const internal = await call(s, "GET", "/core/v4/keys?Email=BOB%40example.test", { auth: a });
  assert.equal(internal.json.RecipientType, 1);
  assert.equal(internal.json.Keys.length, 1);
  assert.match(internal.json.Keys[0].PublicKey, /BEGIN PGP PUBLIC KEY BLOCK/);
  const external = await call(s, "GET", "/core/v4/keys?Email=carol%40else.test", { auth: a });
  assert.deepEqual([external.json.RecipientType, external.json.Keys], [2, []]);
  const carol = await openpgp.generateKey({ userIDs: [{ email: "carol@else.test" }] });
  await call(s, "POST", "/ref/v1/keys", {
    body: { Email: "carol@else.test", PublicKey: carol.publicKey },
  });
  const withKey = await call(s, "GET", "/core/v4/keys?Email=carol%40else.test", { auth: a });
  assert.equal(withKey.json.RecipientType, 2);
  assert.equal(withKey.json.Keys[0].PublicKey, carol.publicKey);

  const settings = await call(s, "GET", "/mail/v4/settings", { auth: a });
  assert.deepEqual(settings.json.MailSettings, {
    DisplayName: "",
    Signature: "",
    DraftMIMEType: "text/html",
    AttachPublicKey: 0,
    Sign: 0,
    PGPScheme: 16,
  });
  await call(s, "PUT", `/ref/v1/users/${u.UserID}/mail-settings`, {
    body: { Sign: 1, PGPScheme: 8 },
  });
  const changed = await call(s, "GET", "/mail/v4/settings", { auth: a });
  assert.equal(changed.json.MailSettings.Sign, 1);
  assert.equal(changed.json.MailSettings.PGPScheme, 8);

  const contact = await call(s, "POST", "/ref/v1/users/alice/contacts", {
    body: { Name: "Carol", Emails: [{ Email: "carol@else.test" }] },
  });
  assert.equal(contact.status, 200);
  const emails = await call(
    s,
    "GET",
    "/contacts/v4/emails?Email=carol%40else.test&Page=0&PageSize=100",
    { auth: a },
  );
  assert.equal(emails.json.Total, 1);
  assert.equal(emails.json.ContactEmails[0].ContactID, contact.json.Contact.ID);
  const full = await call(s, "GET", `/contacts/v4/${contact.json.Contact.ID}`, { auth: a });
  assert.equal(full.json.Contact.Cards[0].Type, 0);
  assert.match(full.json.Contact.Cards[0].Data, /EMAIL.*carol@else\.test/);

  const latest = await call(s, "GET", "/core/v4/events/latest", { auth: a });
  const added = await call(s, "POST", `/ref/v1/users/${u.UserID}/addresses`, {
    body: { Email: "third@example.test" },
  });
  assert.equal(added.json.Address.Order, 3);
  const disabled = await call(s, "PUT", `/ref/v1/addresses/${added.json.Address.ID}/disable`);
  assert.equal(disabled.json.Address.Status, 0);
  const addrs = await call(s, "GET", "/core/v4/addresses", { auth: a });
  assert.deepEqual(addrs.json.Addresses.map((x: { Order: number }) => x.Order), [1, 2, 3]);
  assert.equal(latest.status, 200);
  const ev = await call(s, "GET", `/core/v4/events/${latest.json.EventID}`, { auth: a });
  const actions = ev.json.Addresses.map((x: { Action: number }) => x.Action);
  assert.deepEqual(actions, [1, 2]);
  const info = await call(s, "GET", "/ref/v1/info");
  assert.equal(info.json.ModulusPublicKey, s.modulusPublicKey);
});

withServer("createUser wires the mail model: system labels and seeded messages", async (s) => {
  await s.createUser({ email: "alice@example.test", password: "secret", messages: 5 });
  const a = (await login(s, "alice", "secret")).auth.json;
  const labels = await call(s, "GET", "/core/v4/labels?Type=4", { auth: a });
  assert.equal(labels.status, 200);
  assert.ok(labels.json.Labels.some((l: { ID: string }) => l.ID === "0"));
  const counts = await call(s, "GET", "/mail/v4/messages/count", { auth: a });
  const all = counts.json.Counts.find((c: { LabelID: string }) => c.LabelID === "5");
  assert.equal(all.Total, 5);
  const created = await call(s, "POST", "/ref/v1/users", {
    body: { Email: "bob@example.test", Password: "pw", Messages: 2 },
  });
  assert.equal(created.status, 200);
  assert.equal(created.json.AddressIDs.length, 1);
  const dup = await call(s, "POST", "/ref/v1/users", {
    body: { Email: "bob@example.test", Password: "pw" },
  });
  assert.equal(dup.json.Code, 2500);
});

Deno.test("--data keeps users, sessions and the modulus key across restarts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let s = await startApiServer({ port: 0, quiet: true, dataDir: dir });
    await s.createUser({ email: "alice@example.test", password: "secret" });
    const a = (await login(s, "alice", "secret")).auth.json;
    const key = s.modulusPublicKey;
    await s.close();
    s = await startApiServer({ port: 0, quiet: true, dataDir: dir });
    try {
      assert.equal(s.modulusPublicKey, key);
      assert.equal((await call(s, "GET", "/core/v4/users", { auth: a })).status, 200);
      assert.equal((await login(s, "alice", "secret")).auth.status, 200);
    } finally {
      await s.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

withServer(
  "UsedSpace: /core/v4/users and the events follow delivered and deleted messages",
  async (s) => {
    await s.createUser({ email: "alice@example.test", password: "secret" });
    const a = (await login(s, "alice", "secret")).auth.json;
    const user = async () => (await call(s, "GET", "/core/v4/users", { auth: a })).json.User;
    const next = async (id: string) =>
      (await call(s, "GET", `/core/v4/events/${id}`, { auth: a })).json;
    let u = await user();
    assert.deepEqual([u.UsedSpace, u.ProductUsedSpace.Mail, u.MaxSpace], [0, 0, 1024 ** 3]);
    let cursor = (await call(s, "GET", "/core/v4/events/latest", { auth: a })).json.EventID;

    const deliver = async (subject: string, attachment?: number) => {
      const r = await call(s, "POST", "/ref/v1/deliver", {
        body: {
          To: "alice@example.test",
          From: { Name: "Zoë", Address: "zoe@else.test" },
          Subject: subject,
          Text: "hello",
          Attachments: attachment
            ? [{
              Name: "a.bin",
              MIMEType: "application/octet-stream",
              DataBase64: btoa("x".repeat(attachment)),
            }]
            : undefined,
        },
      });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const meta = await call(s, "GET", "/mail/v4/messages/" + r.json.MessageID, { auth: a });
      return { id: r.json.MessageID as string, size: meta.json.Message.Size as number };
    };
    const m1 = await deliver("one", 4000);
    assert.ok(m1.size > 4000, "Size includes the attachment");
    u = await user();
    assert.deepEqual([u.UsedSpace, u.ProductUsedSpace.Mail], [m1.size, m1.size]);
    let ev = await next(cursor);
    assert.deepEqual(ev.Messages.map((i: { ID: string }) => i.ID), [m1.id]);
    assert.equal(ev.UsedSpace, m1.size);
    cursor = ev.EventID;

    const m2 = await deliver("two");
    assert.equal((await user()).UsedSpace, m1.size + m2.size);
    ev = await next(cursor);
    assert.equal(ev.UsedSpace, m1.size + m2.size);
    cursor = ev.EventID;

    // Trash still counts, and a move's event does not carry UsedSpace.
    const moved = await call(s, "PUT", "/mail/v4/messages/label", {
      auth: a,
      body: { LabelID: "3", IDs: [m1.id] },
    });
    assert.equal(moved.status, 200);
    assert.equal((await user()).UsedSpace, m1.size + m2.size);
    ev = await next(cursor);
    assert.equal(ev.Messages.length, 1);
    assert.equal("UsedSpace" in ev, false);
    cursor = ev.EventID;

    // A permanent delete (API) frees the message's Size; so does one by the controls.
    const del = await call(s, "PUT", "/mail/v4/messages/delete", {
      auth: a,
      body: { IDs: [m1.id] },
    });
    assert.equal(del.status, 200);
    u = await user();
    assert.deepEqual([u.UsedSpace, u.ProductUsedSpace.Mail], [m2.size, m2.size]);
    ev = await next(cursor);
    assert.deepEqual(ev.Messages.map((i: { Action: number }) => i.Action), [0]);
    assert.equal(ev.UsedSpace, m2.size);
    cursor = ev.EventID;
    await call(s, "POST", "/ref/v1/users/alice/messages/delete", { body: { IDs: [m2.id] } });
    assert.equal((await user()).UsedSpace, 0);
    assert.equal((await next(cursor)).UsedSpace, 0);
  },
);

withServer("controls: max-space sets MaxSpace and emits a User event", async (s) => {
  const created = await s.createUser({ email: "alice@example.test", password: "secret" });
  const a = (await login(s, "alice", "secret")).auth.json;
  await call(s, "POST", "/ref/v1/deliver", {
    body: { To: "alice@example.test", From: { Name: "", Address: "x@else.test" }, Subject: "s" },
  });
  const before = (await call(s, "GET", "/core/v4/users", { auth: a })).json.User;
  assert.ok(before.UsedSpace > 0);
  const cursor = (await call(s, "GET", "/core/v4/events/latest", { auth: a })).json.EventID;

  const set = await call(s, "PUT", "/ref/v1/users/alice@example.test/max-space", {
    body: { MaxSpace: 500 },
  });
  assert.equal(set.status, 200, JSON.stringify(set.json));
  assert.equal(set.json.Code, 1000);
  const after = (await call(s, "GET", "/core/v4/users", { auth: a })).json.User;
  assert.deepEqual(set.json.User, after);
  assert.deepEqual([after.MaxSpace, after.UsedSpace], [500, before.UsedSpace]);
  const ev = (await call(s, "GET", `/core/v4/events/${cursor}`, { auth: a })).json;
  assert.deepEqual(ev.User, after);
  assert.equal("UsedSpace" in ev, false);
  assert.equal(ev.Messages, undefined);

  // The same value again changes nothing and emits nothing; by user ID or name alike.
  const same = await call(s, "PUT", `/ref/v1/users/${created.UserID}/max-space`, {
    body: { MaxSpace: 500 },
  });
  assert.equal(same.json.User.MaxSpace, 500);
  const quiet = (await call(s, "GET", `/core/v4/events/${ev.EventID}`, { auth: a })).json;
  assert.equal(quiet.EventID, ev.EventID);
  assert.equal(
    (await call(s, "PUT", "/ref/v1/users/alice/max-space", {
      body: { MaxSpace: 0 },
    })).json.User.MaxSpace,
    0,
  );

  for (const body of [{}, { MaxSpace: -1 }, { MaxSpace: 1.5 }, { MaxSpace: "5" }]) {
    const bad = await call(s, "PUT", "/ref/v1/users/alice/max-space", { body });
    assert.deepEqual([bad.status, bad.json.Code], [422, 2001], JSON.stringify(body));
  }
  const nobody = await call(s, "PUT", "/ref/v1/users/nobody/max-space", { body: { MaxSpace: 1 } });
  assert.deepEqual([nobody.status, nobody.json.Code], [422, 2501]);
});

Deno.test("--data keeps UsedSpace and MaxSpace across restarts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let s = await startApiServer({ port: 0, quiet: true, dataDir: dir });
    await s.createUser({ email: "alice@example.test", password: "secret", messages: 20 });
    const seeded = s.mail.usedSpace(s.accounts.findUserByLogin("alice")!);
    assert.ok(seeded > 0);
    const d = await call(s, "POST", "/ref/v1/deliver", {
      body: { To: "alice@example.test", From: { Name: "", Address: "x@else.test" }, Subject: "s" },
    });
    const msgs = (await call(s, "GET", "/ref/v1/users/alice/messages")).json.Messages;
    const first = msgs[0] as { ID: string; Size: number };
    await call(s, "POST", "/ref/v1/users/alice/messages/delete", { body: { IDs: [first.ID] } });
    await call(s, "PUT", "/ref/v1/users/alice/max-space", { body: { MaxSpace: 123_456_789 } });
    const a = (await login(s, "alice", "secret")).auth.json;
    const before = (await call(s, "GET", "/core/v4/users", { auth: a })).json.User;
    const sum = msgs.reduce((n: number, m: { Size: number }) => n + m.Size, 0);
    assert.equal(before.UsedSpace, sum - first.Size);
    assert.ok(msgs.some((m: { ID: string }) => m.ID === d.json.MessageID));
    await s.close();

    s = await startApiServer({ port: 0, quiet: true, dataDir: dir });
    try {
      const after = (await call(s, "GET", "/core/v4/users", { auth: a })).json.User;
      assert.deepEqual([after.UsedSpace, after.ProductUsedSpace.Mail, after.MaxSpace], [
        before.UsedSpace,
        before.UsedSpace,
        123_456_789,
      ]);
    } finally {
      await s.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("controls refuse requests a web page could make (Origin; a non-loopback Host)", async () => {
  const s = await startApiServer({ port: 0, quiet: true });
  try {
    const ok = await fetch(`${s.url}/ref/v1/users`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    // A cross-site form or fetch from a page: the browser adds Origin.
    const page = await fetch(`${s.url}/ref/v1/users`, {
      method: "POST",
      headers: { "content-type": "text/plain", origin: "http://evil.example" },
      body: JSON.stringify({ Email: "x@bridge.test", Password: "p" }),
    });
    assert.equal(page.status, 403);
    assert.match((await page.json()).Error, /do not answer web pages/);
    assert.equal(s.accounts.findAddress("x@bridge.test"), undefined);
    // DNS rebinding: the page's own name in Host, on the loopback listener.
    const port = Number(new URL(s.url).port);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      new TextEncoder().encode(
        "GET /ref/v1/users HTTP/1.1\r\nHost: evil.example:" + port +
          "\r\nConnection: close\r\n\r\n",
      ),
    );
    const reply = new TextDecoder().decode(
      await new Response(conn.readable).arrayBuffer(),
    );
    assert.match(reply, /^HTTP\/1\.1 403/);
    assert.match(reply, /answers only loopback names, not evil\.example/);
  } finally {
    await s.close();
  }
});
