/**
 * The account commands against a running `bridge serve` (reference server in this process,
 * `bridge login`, `bridge serve` as a subprocess): each tells the serve on the same data
 * directory through its control endpoint (`POST /v1/reload`), so it takes effect at once, without
 * SIGHUP or a restart:
 *
 * - `bridge reset-password`: the old bridge password stops working, the new one works;
 * - a session revoked on the server: serve marks the account signed out and the vault forgets the
 *   session; `bridge login` alone signs it in again in place (mail and bridge password kept), and
 *   `bridge logout` then `bridge login` works too (it used to stay signed out until a restart);
 * - `bridge logout`: mail clients can no longer log in with the bridge password (they could until
 *   the next event poll, on files the command had already deleted).
 *
 * In each case the IMAP sessions open on the account end with `* BYE` (they used to stay open and
 * answer `NO [SERVERBUG]` to everything: the index they read was closed).
 *
 * @module
 */
import assert from "node:assert/strict";
import { runBridge } from "../src/cli/_cli_test_utils.ts";
import { loginToReferenceServer } from "./_bridge_login.ts";
import { withClientFixture } from "./_client_fixture.ts";
import { eventually } from "./_eventually.ts";
import { refControl } from "./_ref_control.ts";

/**
 * A line-based client connection: `send`, `line(prefix)` (the first line starting with it, read
 * as far as needed), `closing(prefix)` (that line within 20 s, then the connection is closed).
 */
async function connect(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
  const writer = conn.writable.getWriter();
  let text = "";
  const close = () => {
    try {
      conn.close();
    } catch {
      // closed already
    }
  };
  const line = async (prefix: string): Promise<string> => {
    for (;;) {
      const at = text.split("\r\n").find((l) => l.startsWith(prefix));
      if (at) return at;
      const { value, done } = await reader.read();
      if (done) throw new Error(`connection closed after ${JSON.stringify(text)}`);
      text += value;
    }
  };
  return {
    send: (data: string) => writer.write(new TextEncoder().encode(data)),
    line,
    close,
    /** The line starting with `prefix` the server sends as it ends the session (20 s at most). */
    closing(prefix: string): Promise<string> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = Promise.race([
        line(prefix),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no ${prefix} after ${JSON.stringify(text)}`)),
            20_000,
          );
        }),
      ]).finally(() => {
        clearTimeout(timer);
        close();
      });
      got.catch(() => {}); // awaited by the test; not unhandled meanwhile
      return got;
    },
  };
}

/** One IMAP LOGIN on a fresh connection: the tagged reply line. */
async function imapLogin(port: number, user: string, password: string): Promise<string> {
  const c = await connect(port);
  try {
    await c.line("* ");
    await c.send(`a1 LOGIN "${user}" "${password}"\r\n`);
    return await c.line("a1 ");
  } finally {
    c.close();
  }
}

/** A session logged in and idling in INBOX; `bye` resolves with the `* BYE` line it gets. */
async function idlingSession(port: number, user: string, password: string) {
  const c = await connect(port);
  await c.line("* ");
  await c.send(`a1 LOGIN "${user}" "${password}"\r\na2 SELECT INBOX\r\na3 IDLE\r\n`);
  await c.line("+ ");
  return { bye: c.closing("* BYE") };
}

/** An SMTP session authenticated and idle; `closed` resolves with the `421` line it gets. */
async function smtpSession(port: number, user: string, password: string) {
  const c = await connect(port);
  await c.line("220 ");
  await c.send(`EHLO client.test\r\nAUTH PLAIN ${btoa(`\0${user}\0${password}`)}\r\n`);
  await c.line("235 ");
  return { closed: c.closing("421 ") };
}

Deno.test({
  name: "account commands reach a running serve at once: reset-password, re-login, logout",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_account_cmds_", "cmd@example.test", 5, async (f) => {
    await f.start();
    const user = f.imap.username;
    const first = f.imap.password;
    assert.match(await imapLogin(f.port, user, first), /^a1 OK/);

    // reset-password: the new password at once, the old one no more, and a session logged in
    // with the old one ends.
    const old = await idlingSession(f.port, user, first);
    const oldSmtp = await smtpSession(f.smtpPort, user, first);
    const reset = await runBridge(f.home, {}, "reset-password", f.email, "--json", ...f.dataArgs);
    assert.equal(reset.code, 0, reset.stderr);
    const second = JSON.parse(reset.stdout).password as string;
    assert.match(reset.stderr, /has taken the change/);
    assert.match(await imapLogin(f.port, user, second), /^a1 OK/);
    assert.match(await imapLogin(f.port, user, first), /^a1 NO/);
    assert.match(await old.bye, /password was changed/);
    assert.match(await oldSmtp.closed, /^421 /);

    // The session revoked on the server: signed out; logout + login brings it back.
    const beforeRevoke = await idlingSession(f.port, user, second);
    await refControl(f.server.url, "POST", `users/${f.email}/revoke-sessions`, {});
    await eventually(async () => {
      // The client's user is told why (the password was right).
      assert.match(
        await imapLogin(f.port, user, second),
        /^a1 NO \[UNAVAILABLE\] Login is not possible right now: .* is signed out: run `bridge login /,
      );
    }, 20_000);
    // A wrong password learns nothing of the account's state.
    assert.match(
      await imapLogin(f.port, user, "wrong-password-0000000"),
      /^a1 NO \[AUTHENTICATIONFAILED\]/,
    );
    // The vault forgot the dead session: `accounts` says so, and `login` signs the account in
    // again in place (no logout: the mail here stays, and so does the bridge password).
    await eventually(async () => {
      const listed = await runBridge(f.home, {}, "accounts", "--json", ...f.dataArgs);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(JSON.parse(listed.stdout).accounts[0].state, "signed-out", listed.stdout);
    }, 10_000);
    const again = await loginToReferenceServer(f.home, f.server, f.email, f.password, f.dataArgs);
    assert.equal(again.code, 0, again.stderr);
    await eventually(async () => {
      assert.match(await imapLogin(f.port, user, second), /^a1 OK/);
    }, 30_000);
    assert.match(f.serveLog, /account signed in again: cmd@example\.test/);
    assert.match(await beforeRevoke.bye, /signed in again/);

    // Logout, then login, works too.
    const out = await runBridge(f.home, {}, "logout", f.email, ...f.dataArgs);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /has taken the change/);
    const login = await loginToReferenceServer(
      f.home,
      f.server,
      f.email,
      f.password,
      f.dataArgs,
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /has taken the change/);
    // Logout archives the bridge password: signing in again gives the same one.
    await eventually(async () => {
      assert.match(await imapLogin(f.port, user, second), /^a1 OK/);
    }, 30_000);
    assert.match(f.serveLog, /account added: cmd@example\.test/);

    // logout: mail clients are refused at once, and the open ones end.
    const open = await idlingSession(f.port, user, second);
    const gone = await runBridge(f.home, {}, "logout", f.email, ...f.dataArgs);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(await imapLogin(f.port, user, second), /^a1 NO/);
    assert.match(await open.bye, /signed out/);
    assert.match(f.serveLog, /account removed: cmd@example\.test/);
  });
});
