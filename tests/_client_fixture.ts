/**
 * What the end-to-end tests of real clients (mbsync, offlineimap, imapflow, nodemailer) share: the
 * reference API server in this process with a seeded user, `bridge login`, `bridge serve --json`
 * as a subprocess without TLS on loopback (restartable on new ports), bridge's own view of every
 * mailbox through python3 imaplib, the reference server's controls to deliver mail and to count
 * Starred messages, and the scenario every Maildir mirroring client goes through
 * ({@link mirrorScenario}).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ApiServer, startApiServer } from "../src/api_server/mod.ts";
import { runBridge, withTempDir } from "../src/cli/_cli_test_utils.ts";
import { INDEX_FILE_NAME } from "../src/cli/account_paths.ts";
import { loginToReferenceServer } from "./_bridge_login.ts";
import { eventually } from "./_eventually.ts";
import { IMAPLIB_HELPERS } from "./_imaplib_helpers.ts";
import { runPythonJsonArg } from "./_python_json.ts";
import { refControl, refMessages } from "./_ref_control.ts";
import { eventPollEnv, plainServeArgs, ServeProcess } from "./_serve_process.ts";

/**
 * Whether `command --version` runs (a client installed from Debian package `debianPackage`, see
 * `.ci/run`); when it does not, says that `test` is skipped and how to install it.
 */
export function installed(command: string, debianPackage: string, test: string): boolean {
  let ok = false;
  try {
    ok = new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    ok = false;
  }
  if (!ok) {
    console.error(
      `${test}: ${command} is not installed (apt-get install ${debianPackage}); skipped`,
    );
  }
  return ok;
}

/**
 * Runs `fn` with a {@link ClientFixture} for `email` (seeded with `messages`) in a temporary
 * directory named after `prefix`, and stops serve and the reference server afterwards.
 */
export async function withClientFixture(
  prefix: string,
  email: string,
  messages: number,
  fn: (f: ClientFixture) => Promise<void>,
): Promise<void> {
  await withTempDir(async (home) => {
    const f = await ClientFixture.create(home, email, messages);
    try {
      await fn(f);
    } finally {
      await f.close();
    }
  }, prefix);
}

/** Every selectable mailbox as bridge serves it: name → UIDVALIDITY and `UID SEARCH ALL`. */
export interface Served {
  [name: string]: { uidvalidity: string; uids: number[] };
}

const SERVED = IMAPLIB_HELPERS + String.raw`
import re
m = imaplib.IMAP4("127.0.0.1", A["port"])
m.login(A["user"], A["password"])
out = {}
for line in ok(*m.list()):
    l = s(line)
    mm = re.match(r'\((.*?)\) (?:"."|NIL) "?(.*?)"?$', l)
    if "\\Noselect" in mm.group(1) or "\\NonExistent" in mm.group(1):
        continue
    name = mm.group(2)
    ok(*m.select(q(name), readonly=True))
    uv = s(m.response("UIDVALIDITY")[1][0])
    uids = [int(x) for x in s(ok(*m.uid("SEARCH", "ALL"))[0]).split()]
    out[name] = {"uidvalidity": uv, "uids": uids}
    m.close()
m.logout()
print(json.dumps(out))
`;

/** The reference server, a signed-in account and `bridge serve` for a real client. */
export class ClientFixture {
  readonly home: string;
  readonly email: string;
  readonly server: ApiServer;
  /** IMAP user name and bridge password of the account. */
  imap!: { username: string; password: string };
  /** The IMAP port of the running serve. */
  port = 0;
  /** The SMTP port of the running serve. */
  smtpPort = 0;
  #serve: ServeProcess | undefined;
  #serveArgs: string[] = [];
  /** The options every `bridge` command of this fixture takes (data directory, key store). */
  dataArgs: string[] = [];
  /** The account password on the reference server. */
  readonly password = "mirror e2e secret";

  private constructor(home: string, email: string, server: ApiServer) {
    this.home = home;
    this.email = email;
    this.server = server;
  }

  /** Starts the reference server with `email` seeded with `messages`, and signs bridge in. */
  static async create(home: string, email: string, messages: number): Promise<ClientFixture> {
    const server = await startApiServer({ port: 0, quiet: true });
    const f = new ClientFixture(home, email, server);
    const password = f.password;
    try {
      await server.createUser({ email, password, messages });
      const dataArgs = ["--data-dir", join(home, "bridge-data"), "--key-store", "file"];
      f.dataArgs = dataArgs;
      const login = await loginToReferenceServer(home, server, email, password, dataArgs);
      assert.equal(login.code, 0, login.stderr);
      const info = await runBridge(home, {}, "info", email, "--json", ...dataArgs);
      assert.equal(info.code, 0, info.stderr);
      f.imap = JSON.parse(info.stdout).imap;
      f.#serveArgs = plainServeArgs(server.url, ...dataArgs);
    } catch (e) {
      await server.close();
      throw e;
    }
    return f;
  }

  /** Starts `bridge serve` (IMAP on a new free port) and waits for it to be ready. */
  async start(): Promise<void> {
    const serve = new ServeProcess(this.home, this.#serveArgs, { env: eventPollEnv(1) });
    this.#serve = serve;
    const ready = await serve.waitFor("ready");
    this.port = (ready.imap as { port: number }).port;
    this.smtpPort = (ready.smtp as { port: number }).port;
  }

  /**
   * Starts `bridge serve` with the fixture's arguments and `extra` (later flags win) without
   * waiting for anything; {@link stop} and {@link close} stop it.
   */
  spawn(...extra: string[]): ServeProcess {
    const serve = new ServeProcess(this.home, [...this.#serveArgs, ...extra], {
      env: eventPollEnv(1),
    });
    this.#serve = serve;
    return serve;
  }

  /** The path of the account's index file (`index.sqlite`) under serve's data directory. */
  async indexPath(): Promise<string> {
    const find = async (dir: string): Promise<string> => {
      for await (const entry of Deno.readDir(dir)) {
        const path = join(dir, entry.name);
        if (entry.isFile && entry.name === INDEX_FILE_NAME) return path;
        if (entry.isDirectory) {
          const found = await find(path).catch(() => "");
          if (found) return found;
        }
      }
      return "";
    };
    const found = await find(join(this.home, "bridge-data"));
    if (!found) throw new Error(`no ${INDEX_FILE_NAME} under ${this.home}/bridge-data`);
    return found;
  }

  /** What the running serve has written to standard error so far (its log). */
  get serveLog(): string {
    return this.#serve?.stderr ?? "";
  }

  /** Stops serve with SIGTERM and checks it exited cleanly. */
  async stop(): Promise<void> {
    const serve = this.#serve!;
    this.#serve = undefined;
    assert.equal(await serve.stop("SIGTERM"), 0, serve.stderr);
  }

  /** Stops whatever runs (for `finally`). */
  async close(): Promise<void> {
    const serve = this.#serve;
    this.#serve = undefined;
    if (serve) {
      const code = await serve.stop("SIGTERM");
      if (code !== 0) console.error(`serve exited ${code}:\n${serve.stderr}`);
    }
    await this.server.close();
  }

  /**
   * Runs a python3 imaplib script (it starts with `IMAPLIB_HELPERS`) against the running serve:
   * `A` holds `port`, `user` and `password`; returns its JSON result line.
   */
  imaplib<T>(script: string): Promise<T> {
    return runPythonJsonArg<T>(this.home, script, {
      port: this.port,
      user: this.imap.username,
      password: this.imap.password,
    });
  }

  /** Every selectable mailbox as bridge serves it now (python3 imaplib). */
  served(): Promise<Served> {
    return this.imaplib<Served>(SERVED);
  }

  /** Delivers a text message to the account through the reference server's controls. */
  async deliver(subject: string): Promise<string> {
    const r = await refControl<{ MessageID: string }>(this.server.url, "POST", "deliver", {
      To: this.email,
      From: { Name: "New Sender", Address: "new@sender.test" },
      Subject: subject,
      Text: "Hello from later.\n",
      Time: Math.floor(Date.now() / 1000),
    });
    return r.MessageID;
  }

  /** How many of the account's messages the API has in Starred. */
  async starred(): Promise<number> {
    return (await refMessages(this.server.url, this.email))
      .filter((m) => m.LabelIDs.includes("10")).length;
  }
}

/** A Maildir file name with `flag` added to its `:2,` flags (kept sorted, as Maildir wants). */
export function withMaildirFlag(name: string, flag: string): string {
  return name.replace(
    /:2,([A-Z]*)$/,
    (_, f: string) => `:2,${[...new Set([...f, flag])].sort().join("")}`,
  );
}

/** Runs a command and returns its output; fails the test when it fails. */
export async function runClient(command: string, args: readonly string[]): Promise<string> {
  const out = await new Deno.Command(command, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const text = dec.decode(out.stdout) + dec.decode(out.stderr);
  assert.ok(out.success, `${command} failed (${out.code}):\n${text}`);
  return text;
}

/** One folder of a Maildir tree: its IMAP name, its directory and its message file names. */
export interface MaildirFolder {
  name: string;
  dir: string;
  /** File names under `cur/` and `new/` (`cur/…`, `new/…`), sorted. */
  files: string[];
}

/** Every folder (a directory with `cur/`) under the Maildir root `mail`, named with `/`. */
export function maildirFolders(mail: string): MaildirFolder[] {
  const out: MaildirFolder[] = [];
  const walk = (dir: string, name: string) => {
    const entries = [...Deno.readDirSync(dir)];
    if (entries.some((e) => e.isDirectory && e.name === "cur")) {
      const files: string[] = [];
      for (const sub of ["cur", "new"]) {
        for (const f of Deno.readDirSync(join(dir, sub))) files.push(`${sub}/${f.name}`);
      }
      out.push({ name, dir, files: files.sort() });
    }
    for (const e of entries) {
      if (!e.isDirectory || ["cur", "new", "tmp"].includes(e.name)) continue;
      walk(join(dir, e.name), name === "" ? e.name : `${name}/${e.name}`);
    }
  };
  walk(mail, "");
  return out;
}

/** One Maildir folder as a mirroring client left it. */
export interface MirroredFolder {
  /** File names under `cur/` and `new/` (`cur/…`, `new/…`), sorted. */
  files: string[];
  /** The server UIDs the client paired with them, ascending. */
  uids: number[];
  /** The UIDVALIDITY the client recorded for the folder. */
  uidvalidity: string;
}

/** A Maildir mirroring client under test. */
export interface MirrorClient {
  /** Name used in messages and subjects. */
  name: string;
  /** The Maildir root the client writes. */
  mail: string;
  /** One full sync against serve's IMAP port (throws when the client fails). */
  sync(port: number): Promise<void>;
  /** Every folder the client has mirrored, by IMAP name. */
  folders(): Record<string, MirroredFolder>;
}

/**
 * What a Maildir mirror of bridge must see, whatever the client:
 *
 * 1. the first sync mirrors every selectable mailbox, one file per message, paired with exactly
 *    the UIDs bridge serves, under bridge's UIDVALIDITY;
 * 2. mail delivered through the reference server arrives as one new file in INBOX and All Mail,
 *    with the highest UID; nothing already mirrored is renamed or removed;
 * 3. a flag set in the Maildir (`F`) reaches the API as Starred;
 * 4. after a restart of serve (another port) the UIDVALIDITY of every mailbox is the same, the
 *    client syncs without complaint and changes nothing.
 */
export async function mirrorScenario(f: ClientFixture, client: MirrorClient): Promise<void> {
  const sync = () => client.sync(f.port);
  await f.start();
  await sync();
  const boxes = await f.served();
  let local = client.folders();
  assert.ok(boxes["INBOX"].uids.length > 0, JSON.stringify(boxes));
  assert.deepEqual(Object.keys(local).sort(), Object.keys(boxes).sort());
  for (const [name, box] of Object.entries(boxes)) {
    assert.deepEqual(local[name].uids, box.uids, `${name}: UIDs`);
    assert.equal(local[name].files.length, box.uids.length, `${name}: files`);
    assert.equal(local[name].uidvalidity, box.uidvalidity, `${name}: UIDVALIDITY`);
  }

  const before = local;
  const subject = `${client.name}: arrived later`;
  await f.deliver(subject);
  await eventually(async () => {
    const now = await f.served();
    assert.equal(now["INBOX"].uids.length, boxes["INBOX"].uids.length + 1);
  }, 20_000);
  await sync();
  local = client.folders();
  for (const name of Object.keys(boxes)) {
    const grew = name === "INBOX" || name === "All Mail";
    const added = local[name].files.filter((x) => !before[name].files.includes(x));
    const gone = before[name].files.filter((x) => !local[name].files.includes(x));
    assert.deepEqual(gone, [], `${name}: files removed or renamed`);
    assert.equal(added.length, grew ? 1 : 0, `${name}: ${added.join(" ")}`);
    if (grew) {
      assert.ok(
        Math.max(...local[name].uids) > Math.max(...before[name].uids),
        `${name}: the new message has the highest UID`,
      );
      const text = Deno.readTextFileSync(join(client.mail, ...name.split("/"), added[0]));
      assert.ok(text.includes(`Subject: ${subject}`), `${name}: ${added[0]}`);
    }
  }

  const inbox = join(client.mail, "INBOX");
  const target = local["INBOX"].files.find((x) => !/:2,[A-Z]*F/.test(x))!;
  const [sub, fileName] = target.split("/");
  await Deno.rename(join(inbox, sub, fileName), join(inbox, "cur", withMaildirFlag(fileName, "F")));
  const starred = await f.starred();
  await sync();
  assert.equal(await f.starred(), starred + 1, "the flag reached the API as Starred");
  // The flag shows in the message's other folders (All Mail, Starred) from the next sync on.
  await sync();

  const settled = client.folders();
  await f.stop();
  await f.start();
  await sync();
  const after = client.folders();
  for (const [name, box] of Object.entries(await f.served())) {
    assert.equal(box.uidvalidity, boxes[name]?.uidvalidity, `${name}: UIDVALIDITY`);
    assert.deepEqual(after[name], settled[name], `${name}: changed after the restart`);
    assert.deepEqual(after[name].uids, box.uids, `${name}: UIDs`);
  }
}
