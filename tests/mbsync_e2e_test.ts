/**
 * mbsync (isync) against `bridge serve`, backed by the reference API server: what users who mirror
 * their mail into a Maildir depend on.
 *
 * - A first `mbsync -a` pulls every mailbox: per mailbox, the UIDs in mbsync's state file are
 *   exactly the UIDs bridge serves (imaplib `UID SEARCH ALL`), and the Maildir holds one file each.
 * - Mail delivered through the reference server's controls is pulled by the next run as one new
 *   message; nothing already pulled is renamed, re-pulled or removed.
 * - A flag set in the Maildir (`F` in the file name) reaches the API as Starred.
 * - After a SIGTERM and restart of `bridge serve` (new port), mbsync finds the same UIDVALIDITY in
 *   every mailbox (it would stop with "UIDVALIDITY changed" otherwise) and changes nothing.
 *
 * `.ci/run` installs isync; without `mbsync` on the PATH the test is skipped with a note.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startApiServer } from "../src/api_server/mod.ts";
import { runBridge, withTempDir } from "../src/cli/_cli_test_utils.ts";
import { loginToReferenceServer } from "./_bridge_login.ts";
import { eventually } from "./_eventually.ts";
import { IMAPLIB_HELPERS } from "./_imaplib_helpers.ts";
import { runPythonJsonArg } from "./_python_json.ts";
import { refControl, refMessages } from "./_ref_control.ts";
import { eventPollEnv, plainServeArgs, ServeProcess } from "./_serve_process.ts";

const USER = "mira@example.test";
const PASSWORD = "mbsync e2e secret";
const SEEDED = 30;

function hasMbsync(): boolean {
  try {
    return new Deno.Command("mbsync", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const MBSYNC = hasMbsync();
if (!MBSYNC) {
  console.error("mbsync_e2e_test: mbsync is not installed (apt-get install isync); skipped");
}

/** mbsync's configuration: every mailbox of bridge into a Maildir under `dir`. */
function mbsyncrc(dir: string, port: number, user: string, password: string): string {
  return [
    "IMAPAccount bridge",
    "Host 127.0.0.1",
    `Port ${port}`,
    `User ${user}`,
    `Pass ${password}`,
    "SSLType None",
    "AuthMechs LOGIN",
    "",
    "IMAPStore remote",
    "Account bridge",
    "",
    "MaildirStore local",
    `Path ${dir}/mail/`,
    `Inbox ${dir}/mail/INBOX`,
    "SubFolders Verbatim",
    "",
    "Channel bridge",
    "Far :remote:",
    "Near :local:",
    "Patterns *",
    "Create Near",
    "Sync All",
    "Expunge None",
    "SyncState *",
    "",
  ].join("\n");
}

async function mbsync(config: string): Promise<string> {
  const out = await new Deno.Command("mbsync", {
    args: ["-c", config, "-a"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const text = dec.decode(out.stdout) + dec.decode(out.stderr);
  assert.ok(out.success, `mbsync failed (${out.code}):\n${text}`);
  return text;
}

/** One Maildir folder as mbsync left it: its state file and its message files. */
interface Folder {
  farUidValidity: string;
  /** Far (bridge) UIDs mbsync has paired with a local message. */
  farUids: number[];
  /** File names under cur/ and new/. */
  files: string[];
}

/** Every folder under `mail` that has an mbsync state file, by IMAP name. */
function maildir(mail: string): Record<string, Folder> {
  const out: Record<string, Folder> = {};
  const walk = (dir: string, name: string) => {
    let state: string | undefined;
    try {
      state = Deno.readTextFileSync(join(dir, ".mbsyncstate"));
    } catch {
      state = undefined;
    }
    if (state !== undefined) {
      const lines = state.split("\n");
      const header = new Map<string, string>();
      const farUids: number[] = [];
      for (const line of lines) {
        const h = /^([A-Za-z]+) (\S+)$/.exec(line);
        if (h) header.set(h[1], h[2]);
        const e = /^(\d+) (\d+) /.exec(line + " ");
        if (e && Number(e[1]) > 0 && Number(e[2]) > 0) farUids.push(Number(e[1]));
      }
      const files: string[] = [];
      for (const sub of ["cur", "new"]) {
        for (const f of Deno.readDirSync(join(dir, sub))) files.push(`${sub}/${f.name}`);
      }
      out[name] = {
        farUidValidity: header.get("FarUidValidity") ?? "",
        farUids: farUids.sort((a, b) => a - b),
        files: files.sort(),
      };
    }
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isDirectory || ["cur", "new", "tmp"].includes(entry.name)) continue;
      walk(join(dir, entry.name), name === "" ? entry.name : `${name}/${entry.name}`);
    }
  };
  walk(mail, "");
  return out;
}

/** Every selectable mailbox bridge serves: name → UIDs (`UID SEARCH ALL`) and UIDVALIDITY. */
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

interface Served {
  [name: string]: { uidvalidity: string; uids: number[] };
}

Deno.test({
  name: "mbsync mirrors every mailbox with bridge's UIDs, pulls new mail, pushes flags, and " +
    "finds the same UIDVALIDITY after a restart",
  ignore: !MBSYNC,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withTempDir(async (home) => {
    const server = await startApiServer({ port: 0, quiet: true });
    let serve: ServeProcess | undefined;
    try {
      await server.createUser({ email: USER, password: PASSWORD, messages: SEEDED });
      const data = join(home, "bridge-data");
      const dataArgs = ["--data-dir", data, "--key-store", "file"];
      const login = await loginToReferenceServer(home, server, USER, PASSWORD, dataArgs);
      assert.equal(login.code, 0, login.stderr);
      const info = await runBridge(home, {}, "info", USER, "--json", ...dataArgs);
      assert.equal(info.code, 0, info.stderr);
      const imap = JSON.parse(info.stdout).imap as { username: string; password: string };

      const serveArgs = plainServeArgs(server.url, ...dataArgs);
      const start = async () => {
        serve = new ServeProcess(home, serveArgs, { env: eventPollEnv(1) });
        const ready = await serve.waitFor("ready");
        const port = (ready.imap as { port: number }).port;
        const config = join(home, "mbsyncrc");
        await Deno.writeTextFile(config, mbsyncrc(home, port, imap.username, imap.password));
        return { port, config };
      };
      const served = (port: number) =>
        runPythonJsonArg<Served>(home, SERVED, {
          port,
          user: imap.username,
          password: imap.password,
        });
      const mail = join(home, "mail");
      await Deno.mkdir(mail, { recursive: true });

      // 1. The first run mirrors every mailbox, pairing exactly the UIDs bridge serves.
      let { port, config } = await start();
      await mbsync(config);
      const boxes = await served(port);
      let local = maildir(mail);
      assert.ok(boxes["INBOX"].uids.length > 0, JSON.stringify(boxes));
      assert.deepEqual(Object.keys(local).sort(), Object.keys(boxes).sort());
      for (const [name, box] of Object.entries(boxes)) {
        assert.deepEqual(local[name].farUids, box.uids, `${name}: UIDs`);
        assert.equal(local[name].files.length, box.uids.length, `${name}: files`);
        assert.equal(local[name].farUidValidity, box.uidvalidity, `${name}: UIDVALIDITY`);
      }

      // 2. New mail: one new file in INBOX (and All Mail), nothing else touched.
      const before = local;
      const delivered = await refControl<{ MessageID: string }>(server.url, "POST", "deliver", {
        To: USER,
        From: { Name: "New Sender", Address: "new@sender.test" },
        Subject: "mbsync: arrived later",
        Text: "Hello from later.\n",
        Time: Math.floor(Date.now() / 1000),
      });
      await eventually(async () => {
        const now = await served(port);
        assert.equal(now["INBOX"].uids.length, boxes["INBOX"].uids.length + 1);
      }, 20_000);
      await mbsync(config);
      local = maildir(mail);
      for (const name of Object.keys(boxes)) {
        const grew = name === "INBOX" || name === "All Mail";
        const added = local[name].files.filter((f) => !before[name].files.includes(f));
        const gone = before[name].files.filter((f) => !local[name].files.includes(f));
        assert.deepEqual(gone, [], `${name}: files removed or renamed`);
        assert.equal(added.length, grew ? 1 : 0, `${name}: ${added.join(" ")}`);
        if (grew) {
          assert.ok(
            Math.max(...local[name].farUids) > Math.max(...before[name].farUids),
            `${name}: the new message has the highest UID`,
          );
          const text = Deno.readTextFileSync(join(mail, ...name.split("/"), added[0]));
          assert.match(text, /Subject: mbsync: arrived later/);
        }
      }

      // 3. A flag set in the Maildir reaches the API (Starred).
      const inboxDir = join(mail, "INBOX");
      const target = local["INBOX"].files.find((f) => !/:2,[A-Z]*F/.test(f))!;
      const [sub, fileName] = target.split("/");
      const flagged = fileName.replace(
        /:2,([A-Z]*)$/,
        (_, f: string) => `:2,${[...f, "F"].sort().join("")}`,
      );
      assert.notEqual(flagged, fileName);
      await Deno.rename(join(inboxDir, sub, fileName), join(inboxDir, "cur", flagged));
      const starredBefore = (await refMessages(server.url, USER))
        .filter((m) => m.LabelIDs.includes("10")).length;
      await mbsync(config);
      const starredAfter = (await refMessages(server.url, USER))
        .filter((m) => m.LabelIDs.includes("10")).length;
      assert.equal(starredAfter, starredBefore + 1, "the flag reached the API as Starred");
      assert.ok(delivered.MessageID);

      // 4. Restart: same UIDVALIDITY everywhere, and mbsync changes nothing.
      const settled = maildir(mail);
      assert.equal(await serve!.stop("SIGTERM"), 0, serve!.stderr);
      ({ port, config } = await start());
      await mbsync(config);
      const after = maildir(mail);
      const boxesAfter = await served(port);
      for (const [name, box] of Object.entries(boxesAfter)) {
        assert.equal(box.uidvalidity, boxes[name]?.uidvalidity, `${name}: UIDVALIDITY`);
        assert.deepEqual(after[name].files, settled[name].files, `${name}: files`);
        assert.deepEqual(after[name].farUids, box.uids, `${name}: UIDs`);
      }
    } finally {
      if (serve) {
        const code = await serve.stop("SIGTERM");
        if (code !== 0) console.error(`serve exited ${code}:\n${serve.stderr}`);
      }
      await server.close();
    }
  }, "bridge_mbsync_e2e_");
});
