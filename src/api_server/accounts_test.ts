import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { MemoryDb } from "./db.ts";
import { EventLog } from "./event_log.ts";
import { Accounts, FULL_SCOPE, TWO_FACTOR_SCOPE } from "./accounts.ts";
import { ApiServerError } from "./http.ts";
import { deriveKeyPassword } from "../crypto/key_password.ts";
import { unlockKey } from "../crypto/keys.ts";
import { REFERENCE_MODULUS_B64 } from "../crypto/srp_constants.ts";
import { fromBase64 } from "../crypto/base64.ts";
import { generateProofs } from "../crypto/srp_client.ts";
import { totpCode } from "../crypto/totp.ts";

function setup(now = () => Date.now()) {
  const db = new MemoryDb();
  const events = new EventLog(db);
  const accounts = new Accounts(db, {
    modulusB64: REFERENCE_MODULUS_B64,
    signedModulus: "(signed modulus)",
    accessTokenLifetimeSec: 60,
    events,
    now,
  });
  return { db, events, accounts };
}

function srpLogin(accounts: Accounts, username: string, password: string) {
  const info = accounts.authInfo(username);
  const proofs = generateProofs({
    version: info.Version,
    username,
    password,
    salt: info.Salt,
    modulus: fromBase64(REFERENCE_MODULUS_B64),
    serverEphemeral: info.ServerEphemeral,
  });
  const auth = accounts.login({
    Username: username,
    ClientEphemeral: proofs.clientEphemeral,
    ClientProof: proofs.clientProof,
    SRPSession: info.SRPSession,
  });
  assert.equal(auth.ServerProof, proofs.expectedServerProof);
  return auth;
}

/** Unlocks an address key the way a client does: token decrypted and verified with the user key. */
async function unlockAddressKey(
  userKey: openpgp.PrivateKey,
  key: { PrivateKey: string; Token?: string | null; Signature?: string | null },
) {
  const { data: token } = await openpgp.decrypt({
    message: await openpgp.readMessage({ armoredMessage: key.Token! }),
    decryptionKeys: userKey,
  });
  const verified = await openpgp.verify({
    message: await openpgp.createMessage({ text: token as string }),
    signature: await openpgp.readSignature({ armoredSignature: key.Signature! }),
    verificationKeys: userKey,
    expectSigned: true,
  });
  assert.ok(verified.data);
  return unlockKey(key.PrivateKey, token as string);
}

Deno.test("Accounts.createUser: two-password mode, keys unlock like a client unlocks them", async () => {
  const { accounts } = setup();
  const created = await accounts.createUser({
    email: "alice@example.test",
    password: "login-pass",
    mailboxPassword: "mailbox-pass",
    extraAddresses: ["alias@example.test"],
  });
  assert.equal(created.PasswordMode, 2);
  assert.equal(created.AddressIDs.length, 2);

  const user = accounts.wireUser(created.UserID);
  assert.equal(user.Name, "alice");
  assert.equal(user.Email, "alice@example.test");
  assert.equal(user.Keys.length, 1);
  const salts = accounts.keySalts(created.UserID);
  assert.equal(salts[0].ID, user.Keys[0].ID);
  assert.equal(fromBase64(salts[0].KeySalt!).length, 16);

  const keyPass = deriveKeyPassword("mailbox-pass", salts[0].KeySalt);
  const userKey = await unlockKey(user.Keys[0].PrivateKey, keyPass);
  await assert.rejects(() =>
    unlockKey(user.Keys[0].PrivateKey, deriveKeyPassword("login-pass", salts[0].KeySalt))
  );

  const addresses = accounts.wireAddresses(created.UserID);
  assert.deepEqual(addresses.map((a) => [a.Email, a.Order, a.Type]), [
    ["alice@example.test", 1, 1],
    ["alias@example.test", 2, 2],
  ]);
  for (const a of addresses) {
    const k = a.Keys[0];
    assert.equal(k.Primary, 1);
    assert.equal(k.Active, 1);
    const addrKey = await unlockAddressKey(userKey, k);
    assert.ok(addrKey.isDecrypted());
    // The server's own copy of the key is the same key.
    const serverKey = await accounts.addressKey(a.ID);
    assert.equal(serverKey.getFingerprint(), addrKey.getFingerprint());
    assert.equal(accounts.addressPublicKeys(a.ID).length, 1);
  }
  assert.equal(accounts.findAddress("ALIAS@example.test")?.ID, addresses[1].ID);
  assert.deepEqual(accounts.userIDs(), [created.UserID]);
  assert.equal(accounts.findUserByLogin("alice"), created.UserID);
  assert.equal(accounts.findUserByLogin("Alias@Example.test"), created.UserID);

  await assert.rejects(
    () => accounts.createUser({ email: "alias@example.test", password: "x" }),
    (e) => e instanceof ApiServerError && e.code === 2500,
  );
});

Deno.test("Accounts: one-password mode, SRP login, TOTP, refresh rotation, expiry", async () => {
  let now = 1_700_000_000_000;
  const { accounts } = setup(() => now);
  const secret = "JBSWY3DPEHPK3PXP";
  const created = await accounts.createUser({
    email: "bob@example.test",
    password: "pw",
    totpSecret: secret,
    keyType: "ecc",
  });
  assert.equal(created.PasswordMode, 1);
  const user = accounts.wireUser(created.UserID);
  const salt = accounts.keySalts(created.UserID)[0].KeySalt;
  await unlockKey(user.Keys[0].PrivateKey, deriveKeyPassword("pw", salt));

  // Wrong password.
  assert.throws(
    () => srpLogin(accounts, "bob@example.test", "nope"),
    (e) => e instanceof ApiServerError && e.status === 422 && e.code === 8002,
  );
  assert.throws(
    () => accounts.authInfo("nobody"),
    (e) => e instanceof ApiServerError && e.code === 8002,
  );

  const auth = srpLogin(accounts, "bob", "pw");
  assert.equal(auth.Scope, TWO_FACTOR_SCOPE);
  assert.equal(auth["2FA"].Enabled, 1);
  assert.ok(accounts.verifyAccess(auth.UID, auth.AccessToken)?.TwoFactorPending);
  const right = totpCode(secret, now / 1000);
  assert.throws(
    () => accounts.submitTwoFactor(auth.UID, right === "000000" ? "111111" : "000000"),
    (e) => e instanceof ApiServerError && e.code === 8002,
  );
  assert.equal(accounts.submitTwoFactor(auth.UID, right).Scope, FULL_SCOPE);
  assert.equal(accounts.verifyAccess(auth.UID, auth.AccessToken)?.TwoFactorPending, false);
  // A code is good once (RFC 6238 §5.2): a second login cannot reuse it, nor an older code.
  const second = srpLogin(accounts, "bob", "pw");
  for (const used of [right, totpCode(secret, now / 1000 - 30)]) {
    assert.throws(
      () => accounts.submitTwoFactor(second.UID, used),
      (e) => e instanceof ApiServerError && e.code === 8002,
    );
  }
  assert.equal(
    accounts.submitTwoFactor(second.UID, totpCode(secret, now / 1000 + 30)).Scope,
    FULL_SCOPE,
  );
  accounts.deleteSession(second.UID);

  // Refresh rotates both tokens.
  const next = accounts.refresh(auth.UID, auth.RefreshToken);
  assert.equal(next.UID, auth.UID);
  assert.notEqual(next.AccessToken, auth.AccessToken);
  assert.notEqual(next.RefreshToken, auth.RefreshToken);
  assert.equal(accounts.verifyAccess(auth.UID, auth.AccessToken), undefined);
  assert.throws(
    () => accounts.refresh(auth.UID, auth.RefreshToken),
    (e) => e instanceof ApiServerError && e.status === 422 && e.code === 10013,
  );

  // The access token expires after its lifetime (60 s here).
  assert.ok(accounts.verifyAccess(next.UID, next.AccessToken));
  now += 61_000;
  assert.equal(accounts.verifyAccess(next.UID, next.AccessToken), undefined);
  const again = accounts.refresh(next.UID, next.RefreshToken);
  assert.ok(accounts.verifyAccess(again.UID, again.AccessToken));

  // Controls: expire, revoke refresh only, revoke all.
  assert.equal(accounts.expireAccessTokens(created.UserID), 1);
  assert.equal(accounts.verifyAccess(again.UID, again.AccessToken), undefined);
  const third = accounts.refresh(again.UID, again.RefreshToken);
  accounts.revokeSessions(created.UserID, true);
  assert.ok(accounts.verifyAccess(third.UID, third.AccessToken));
  assert.throws(() => accounts.refresh(third.UID, third.RefreshToken), ApiServerError);
  accounts.revokeSessions(created.UserID);
  assert.equal(accounts.verifyAccess(third.UID, third.AccessToken), undefined);
});

Deno.test("Accounts: SRP session is single-use and must match the user", async () => {
  const { accounts } = setup();
  await accounts.createUser({ email: "carol@example.test", password: "pw" });
  await accounts.createUser({ email: "dave@example.test", password: "pw" });
  const info = accounts.authInfo("carol");
  const proofs = generateProofs({
    version: 4,
    username: "carol",
    password: "pw",
    salt: info.Salt,
    modulus: fromBase64(REFERENCE_MODULUS_B64),
    serverEphemeral: info.ServerEphemeral,
  });
  const req = {
    Username: "dave",
    ClientEphemeral: proofs.clientEphemeral,
    ClientProof: proofs.clientProof,
    SRPSession: info.SRPSession,
  };
  assert.throws(
    () => accounts.login(req),
    (e) => e instanceof ApiServerError && e.code === 8002,
  );
  assert.throws(
    () => accounts.login({ ...req, Username: "carol" }),
    (e) => e instanceof ApiServerError && e.code === 2001,
  );
});

Deno.test("Accounts: adding and disabling addresses emits address events", async () => {
  const { accounts, events } = setup();
  const created = await accounts.createUser({ email: "erin@example.test", password: "pw" });
  const start = events.latest(created.UserID);
  const added = await accounts.addAddress(created.UserID, "erin2@example.test");
  assert.equal(added.Order, 2);
  assert.equal(added.Type, 2);
  accounts.setAddressStatus(added.ID, 0);
  const ev = events.next(created.UserID, start);
  assert.deepEqual(ev.Addresses?.map((a) => [a.ID, a.Action, a.Address?.Status]), [
    [added.ID, 1, 1],
    [added.ID, 2, 0],
  ]);
  const userKey = await accounts.userKey(created.UserID);
  await unlockAddressKey(userKey, added.Keys[0]);
  accounts.deleteAddress(added.ID);
  assert.equal(accounts.addresses(created.UserID).length, 1);
});

Deno.test("setMaxSpace: stores the limit, emits User once per change; UsedSpace from its source", async () => {
  const { accounts, events } = setup();
  const { UserID } = await accounts.createUser({ email: "alice@example.test", password: "pw" });
  let u = accounts.wireUser(UserID);
  assert.deepEqual([u.UsedSpace, u.ProductUsedSpace?.Mail, u.MaxSpace], [0, 0, 1024 ** 3]);
  accounts.setUsedSpaceSource((id) => id === UserID ? 4321 : 0);
  u = accounts.wireUser(UserID);
  assert.deepEqual([u.UsedSpace, u.ProductUsedSpace?.Mail], [4321, 4321]);

  const cursor = events.latest(UserID);
  const wire = accounts.setMaxSpace(UserID, 10_000);
  assert.deepEqual(wire, accounts.wireUser(UserID));
  assert.equal(wire.MaxSpace, 10_000);
  const ev = events.next(UserID, cursor);
  assert.deepEqual(ev.User, wire);
  assert.equal(ev.UsedSpace, undefined);
  accounts.setMaxSpace(UserID, 10_000);
  assert.equal(events.next(UserID, ev.EventID).EventID, ev.EventID, "unchanged: no event");
  for (const bad of [-1, 0.5, NaN, Infinity]) {
    assert.throws(
      () => accounts.setMaxSpace(UserID, bad),
      (e) => e instanceof ApiServerError && e.code === 2001,
    );
  }
  assert.throws(
    () => accounts.setMaxSpace("nobody", 1),
    (e) => e instanceof ApiServerError && e.code === 2501,
  );
});
