/**
 * `bridge serve` started while the API cannot be reached, for an account synced before: it is
 * served from the local index (state `offline`): mail clients log in (also with an alias, from the
 * address list kept by the run before) and read what is here; what
 * needs the API (a flag change here) answers `NO [UNAVAILABLE]`; once the API answers again the
 * account becomes `ready` on its own and the same change goes through. (It used to refuse every
 * login until the API came back.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { runBridge } from "../src/cli/_cli_test_utils.ts";
import { withClientFixture } from "./_client_fixture.ts";
import { eventually } from "./_eventually.ts";
import { IMAPLIB_HELPERS } from "./_imaplib_helpers.ts";
import { runPythonJsonArg } from "./_python_json.ts";
import { refControl, refMessages } from "./_ref_control.ts";

/** Logs in, reads INBOX's first message, tries to flag it: what each step answered. */
const READ_AND_FLAG = IMAPLIB_HELPERS + String.raw`
m = imaplib.IMAP4("127.0.0.1", A["port"])
m.login(A["user"], A["password"])
exists = int(ok(*m.select("INBOX"))[0])
data = ok(*m.fetch("1", "(BODY.PEEK[])"))
body = [x[1] for x in data if isinstance(x, tuple)][0]
typ, flagged = m.store("1", "+FLAGS", "(\\Flagged)")
m.logout()
print(json.dumps({"exists": exists, "size": len(body), "store": typ, "said": s(flagged[0])}))
`;

/** APPENDs a message from someone else to INBOX: the answer. */
const APPEND = IMAPLIB_HELPERS + String.raw`
m = imaplib.IMAP4("127.0.0.1", A["port"])
m.login(A["user"], A["password"])
msg = b"From: Someone <someone@elsewhere.test>\r\nTo: x@example.test\r\nSubject: in\r\n\r\nhi\r\n"
typ, data = m.append("INBOX", None, None, msg)
m.logout()
print(json.dumps({"typ": typ, "said": s(data[0])}))
`;

Deno.test({
  name: "serve with the API unreachable serves the local mail offline, then comes back",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_offline_", "off@example.test", 8, async (f) => {
    // An alias, known from the run before: offline it logs in too (the address list is kept).
    const alias = "off.alias@example.test";
    await refControl(f.server.url, "POST", `users/${f.email}/addresses`, { Email: alias });
    await f.start();
    await f.stop();
    // Every API request fails from now on (the control routes still answer).
    await refControl(f.server.url, "POST", "faults", { Status: 502 });
    await f.start();
    const login = { port: f.port, user: f.imap.username, password: f.imap.password };
    type Reply = { exists: number; size: number; store: string; said: string };
    const offline = await runPythonJsonArg<Reply>(f.home, READ_AND_FLAG, login);
    assert.ok(offline.exists > 0, JSON.stringify(offline));
    assert.ok(offline.size > 0, "the cached message is read");
    assert.equal(offline.store, "NO", JSON.stringify(offline));
    assert.match(offline.said, /\[UNAVAILABLE\]/);
    const status = await runBridge(f.home, {}, "status", "--json", "--data-dir", f.dataArgs[1]);
    assert.equal(status.code, 0, status.stderr);
    const account = JSON.parse(status.stdout).accounts[0];
    assert.equal(account.state, "offline", status.stdout);
    assert.match(account.reason, /cannot be reached/);
    assert.match(f.serveLog, /serving the mail already here/);
    const viaAlias = await runPythonJsonArg<Reply>(f.home, READ_AND_FLAG, {
      ...login,
      user: alias,
    });
    assert.ok(viaAlias.size > 0, JSON.stringify(viaAlias));

    // The API answers again: a change made then (possibly still offline: the client refreshes
    // the session, rotating the refresh token, which the account's own bring-up must then use
    // rather than the one it read at start) goes through; the account is ready on its own.
    await refControl(f.server.url, "DELETE", "faults");
    await eventually(async () => {
      const online = await runPythonJsonArg<Reply>(f.home, READ_AND_FLAG, login);
      assert.equal(online.store, "OK", JSON.stringify(online));
    }, 30_000);
    await eventually(async () => {
      const after = await runBridge(f.home, {}, "status", "--json", "--data-dir", f.dataArgs[1]);
      assert.equal(JSON.parse(after.stdout).accounts[0].state, "ready", after.stdout);
    }, 30_000);
    // A message from someone else APPENDed to INBOX is imported (the connector made offline knows
    // the account's addresses now), not kept in the local recovery mailbox.
    const before = (await refMessages(f.server.url, f.email)).length;
    const appended = await runPythonJsonArg<{ typ: string; said: string }>(f.home, APPEND, login);
    assert.equal(appended.typ, "OK", JSON.stringify(appended));
    assert.doesNotMatch(appended.said, /recovery/i);
    assert.equal((await refMessages(f.server.url, f.email)).length, before + 1);
  });
});
