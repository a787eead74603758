import assert from "node:assert/strict";
import { generateBridgePassword } from "../vault/mod.ts";
import { AccountDirectory, passwordMatches, VAULT_RECHECK_MS } from "./account_directory.ts";
import { type AccountRuntime, AccountUnavailableError } from "./account_runtime.ts";
import type { MailAccount } from "../connector/account.ts";

/** The part of a runtime the directory uses. */
function fakeRuntime(
  userId: string,
  email: string,
  options: {
    state?: AccountRuntime["state"];
    aliases?: string[];
    mail?: boolean;
    split?: boolean;
  } = {},
) {
  const state = options.state ?? "ready";
  const mail = { id: userId } as unknown as MailAccount;
  const rt = {
    userId,
    email,
    state,
    bridgePassword: generateBridgePassword(),
    addresses: () => [email, ...(options.aliases ?? [])].map((a) => a.toLowerCase()),
    get mailAccount() {
      return state === "ready" && options.mail !== false ? mail : undefined;
    },
    mailAccountFor(username: string) {
      const m = this.mailAccount;
      if (!m || !options.split) return m;
      if (username.startsWith("disabled")) {
        throw new AccountUnavailableError(`${username} is not an enabled address`);
      }
      return { id: userId, addressId: username.toLowerCase() } as unknown as MailAccount;
    },
    unavailable: () => new AccountUnavailableError(`${email} is ${state}`),
    smtpAccount: (username: string) => {
      if (state !== "ready") throw new AccountUnavailableError(`${email} is ${state}`);
      return { id: userId, username };
    },
  };
  return rt as unknown as AccountRuntime & { bridgePassword: string };
}

Deno.test("passwordMatches: exact bridge password only", () => {
  const p = generateBridgePassword();
  assert.ok(passwordMatches(p, p));
  assert.ok(!passwordMatches(p, p.slice(0, -1) + (p.endsWith("A") ? "B" : "A")));
  assert.ok(!passwordMatches(p, ""));
  assert.ok(!passwordMatches(p, p + "x"));
  assert.ok(!passwordMatches(p, "not base64url!!!!!!!!!"));
});

Deno.test("directory: any address of an account, case-insensitive, with its password", async () => {
  const dir = new AccountDirectory();
  const ann = fakeRuntime("u1", "ann@example.test", { aliases: ["Ann.Alias@example.test"] });
  const bob = fakeRuntime("u2", "bob@example.test");
  dir.add(ann);
  dir.add(bob);
  assert.equal(await dir.check("ANN@example.test", ann.bridgePassword), ann);
  assert.equal(await dir.check("ann.alias@example.test ", ann.bridgePassword), ann);
  assert.equal(await dir.check("ann@example.test", bob.bridgePassword), null);
  assert.equal(await dir.check("nobody@example.test", ann.bridgePassword), null);
  const imap = dir.imapAuthenticator();
  assert.deepEqual(await imap.authenticate("bob@example.test", bob.bridgePassword), { id: "u2" });
  assert.equal(await imap.authenticate("bob@example.test", "wrong"), null);
  const smtp = dir.smtpAuthenticator();
  assert.deepEqual(await smtp.authenticate("Ann.Alias@example.test", ann.bridgePassword), {
    id: "u1",
    username: "Ann.Alias@example.test",
  });
  dir.remove("u2");
  assert.equal(await dir.check("bob@example.test", bob.bridgePassword), null);
});

Deno.test("directory: an address two accounts list (it moved) logs in where the password says", async () => {
  // y@ moved from Bob's account to Ann's; Bob's list is stale (signed out, or late events).
  const dir = new AccountDirectory();
  const bob = fakeRuntime("u2", "bob@example.test", { aliases: ["y@example.test"] });
  const ann = fakeRuntime("u1", "ann@example.test", { aliases: ["y@example.test"] });
  dir.add(bob);
  dir.add(ann);
  assert.equal(await dir.check("y@example.test", ann.bridgePassword), ann);
  assert.equal(await dir.check("y@example.test", bob.bridgePassword), bob);
  assert.equal(await dir.check("y@example.test", "wrong"), null);
});

Deno.test("directory: a changed bridge password is reported, so serve can end the old sessions", () => {
  const dir = new AccountDirectory();
  const ann = fakeRuntime("u1", "ann@example.test");
  dir.add(ann);
  const told: string[] = [];
  dir.onPasswordChanged = (userId) => told.push(userId);
  assert.equal(dir.refreshPasswords(new Map([["u1", ann.bridgePassword]])), false);
  assert.deepEqual(told, []);
  assert.equal(dir.refreshPasswords(new Map([["u1", generateBridgePassword()]])), true);
  assert.deepEqual(told, ["u1"]);
});

Deno.test("directory: the right password for an account that cannot serve yet says why", async () => {
  const dir = new AccountDirectory();
  const syncing = fakeRuntime("u1", "s@example.test", { state: "syncing" });
  const noImap = fakeRuntime("u2", "n@example.test", { mail: false });
  dir.add(syncing);
  dir.add(noImap);
  await assert.rejects(
    dir.imapAuthenticator().authenticate("s@example.test", syncing.bridgePassword),
    (e) => e instanceof AccountUnavailableError && /syncing/.test(e.message),
  );
  await assert.rejects(
    dir.smtpAuthenticator().authenticate("s@example.test", syncing.bridgePassword),
    AccountUnavailableError,
  );
  await assert.rejects(
    dir.imapAuthenticator().authenticate("n@example.test", noImap.bridgePassword),
    /no account connector/,
  );
  // A wrong password is still just wrong.
  assert.equal(await dir.imapAuthenticator().authenticate("s@example.test", "x"), null);
});

Deno.test("directory: a password reset in the vault is picked up after a failed login", async () => {
  let t = 0;
  let version = "v1";
  const passwords = new Map<string, string>();
  let reads = 0;
  const dir = new AccountDirectory({
    now: () => t,
    source: {
      version: () => Promise.resolve(version),
      passwords: () => {
        reads++;
        return Promise.resolve(new Map(passwords));
      },
    },
  });
  const ann = fakeRuntime("u1", "ann@example.test");
  dir.add(ann);
  const fresh = generateBridgePassword();
  passwords.set("u1", fresh);
  version = "v2";
  assert.equal(await dir.check("ann@example.test", fresh), ann);
  assert.equal(ann.bridgePassword, fresh);
  assert.equal(reads, 1);
  // Failed logins do not re-read the vault more than once per interval, nor when it is unchanged.
  assert.equal(await dir.check("ann@example.test", "wrong"), null);
  t += VAULT_RECHECK_MS + 1;
  assert.equal(await dir.check("ann@example.test", "wrong"), null);
  assert.equal(reads, 1);
});

Deno.test("directory: in split mode each address's IMAP login gets that address's view", async () => {
  const dir = new AccountDirectory();
  const ann = fakeRuntime("u1", "ann@example.test", {
    aliases: ["alias@example.test", "disabled@example.test"],
    split: true,
  });
  dir.add(ann);
  const imap = dir.imapAuthenticator();
  assert.deepEqual(await imap.authenticate("Alias@example.test", ann.bridgePassword), {
    id: "u1",
    addressId: "alias@example.test",
  });
  assert.deepEqual(await imap.authenticate("ann@example.test", ann.bridgePassword), {
    id: "u1",
    addressId: "ann@example.test",
  });
  await assert.rejects(
    imap.authenticate("disabled@example.test", ann.bridgePassword),
    (e) => e instanceof AccountUnavailableError && /not an enabled address/.test(e.message),
  );
});
