/**
 * IMAP end to end, through the real program: the reference API server runs in this process with
 * a seeded user plus a few messages delivered through its control endpoint (so their exact
 * content is known), `bridge login` signs in as a subprocess, and `bridge serve --json` runs as a
 * subprocess on free ports (`--security none`, loopback). Real clients then drive it:
 *
 * - curl (`imap://`): LIST, FETCH of one message by UID, SEARCH;
 * - python3 `imaplib`: LIST with special-use (plain and `RETURN (SPECIAL-USE)`), SELECT/STATUS
 *   counts against the API, SEARCH by subject, sender and dates, UID SORT by date, arrival,
 *   subject, sender, display name and size, FETCH `BODY.PEEK[]` decoded and
 *   compared with what the sender sent (text and attachment bytes), a non-PEEK fetch setting
 *   \Seen, STORE \Seen/\Flagged reaching the API, COPY to a label and MOVE to a folder (with
 *   COPYUID), EXPUNGE in Trash deleting for good, APPEND to INBOX importing (APPENDUID), IDLE
 *   seeing a message delivered through the reference server within one event poll (1 s);
 * - stable UIDs: `UID FETCH 1:* (UID ENVELOPE)`, UIDVALIDITY and UIDNEXT of several mailboxes
 *   before and after a SIGTERM + restart of `bridge serve` on the same data directory.
 *
 * Every check of "the API" reads the reference server's own state (`GET /ref/v1/users/…/messages`
 * and `…/labels`), never bridge's index. The subprocesses keep HOME and XDG_CACHE_HOME (Deno's
 * module cache); no BRIDGE_* variable leaks in but the event poll settings.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ApiServer, startApiServer } from "../src/api_server/mod.ts";
import type { Label, MessageMetadata } from "../src/api/types.ts";
import { runBridge, withTempDir } from "../src/cli/_cli_test_utils.ts";
import { loginToReferenceServer } from "./_bridge_login.ts";
import { eventually } from "./_eventually.ts";
import { IMAPLIB_HELPERS } from "./_imaplib_helpers.ts";
import { runPythonJsonArg } from "./_python_json.ts";
import { refControl, refMessages } from "./_ref_control.ts";
import { eventPollEnv, plainServeArgs, ServeProcess } from "./_serve_process.ts";

const ALICE = "alice@example.test";
const PASSWORD = "imap e2e secret";
/** Seeded messages besides the delivered ones (the seed covers folders, labels, Trash, Sent…). */
const SEEDED = 40;
/** Event poll interval given to serve, seconds. */
const POLL_SECONDS = 1;

/** A message delivered through `/ref/v1/deliver` whose content the test knows exactly. */
interface Known {
  key: string;
  subject: string;
  from: { Name: string; Address: string };
  text: string;
  /** Unix seconds. */
  time: number;
  attachment?: { name: string; mime: string; data: Uint8Array };
  /** The API's message ID, once delivered. */
  id?: string;
}

const KNOWN: Known[] = [
  {
    key: "plain",
    subject: "E2E plain hello",
    from: { Name: "Bob Sender", Address: "bob@sender.test" },
    text: "Hello Alice,\n\nthis is the plain message, line two.\n-- \nBob\n",
    time: Date.UTC(2022, 2, 5, 10, 30) / 1000,
  },
  {
    key: "unicode",
    subject: "E2E unicode Grüße aus Zürich ☕",
    from: { Name: "Carol Ünïcode", Address: "carol@sender.test" },
    text: "Grüße! Ça va? Привет, 你好, γειά σου 👋\nA long line that goes on and on " +
      "and on well beyond seventy-six characters so that it has to be wrapped by QP.\n",
    time: Date.UTC(2022, 5, 10, 9, 0) / 1000,
  },
  {
    key: "attachment",
    subject: "E2E with attachment",
    from: { Name: "Dan Files", Address: "dan@sender.test" },
    text: "See the attached notes.\n",
    time: Date.UTC(2022, 8, 15, 16, 45) / 1000,
    attachment: {
      name: "notes-ü.bin",
      mime: "application/octet-stream",
      data: Uint8Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256),
    },
  },
];

function known(key: string): Known {
  return KNOWN.find((k) => k.key === key)!;
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

// ---------------------------------------------------------------------------------------------
// The reference server, seen from outside
// ---------------------------------------------------------------------------------------------

async function apiMessages(server: ApiServer): Promise<MessageMetadata[]> {
  return await refMessages(server.url, ALICE);
}

async function apiLabels(server: ApiServer): Promise<Label[]> {
  return (await refControl<{ Labels: Label[] }>(server.url, "GET", `users/${ALICE}/labels`)).Labels;
}

async function apiMessage(server: ApiServer, id: string): Promise<MessageMetadata | undefined> {
  return (await apiMessages(server)).find((m) => m.ID === id);
}

async function deliver(server: ApiServer, k: Known): Promise<string> {
  const r = await refControl<{ MessageID: string }>(server.url, "POST", "deliver", deliverBody(k));
  return r.MessageID;
}

function deliverBody(k: Known): Record<string, unknown> {
  return {
    To: ALICE,
    From: k.from,
    Subject: k.subject,
    Text: k.text,
    Time: k.time,
    Attachments: k.attachment
      ? [{
        Name: k.attachment.name,
        MIMEType: k.attachment.mime,
        DataBase64: b64(k.attachment.data),
      }]
      : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// bridge serve as a subprocess
// ---------------------------------------------------------------------------------------------

/** Waits for serve's `ready` line: the IMAP port and the account's bridge password. */
async function imapReady(serve: ServeProcess): Promise<{ imapPort: number; password: string }> {
  const ready = await serve.waitFor("ready");
  const imap = ready.imap as { port: number } | null;
  assert.ok(imap, `serve is not serving IMAP: ${JSON.stringify(ready)}`);
  const accounts = ready.accounts as { email: string; password: string }[];
  return { imapPort: imap.port, password: accounts[0].password };
}

// ---------------------------------------------------------------------------------------------
// Clients: python3 imaplib and curl
// ---------------------------------------------------------------------------------------------

/** Connection details the python scripts get as `A` (JSON in argv[1]), plus script arguments. */
interface Conn {
  port: number;
  user: string;
  password: string;
}

const PRELUDE = IMAPLIB_HELPERS + String.raw`
import base64, email, imaplib, json, re, sys, time, urllib.request
from email import policy
def connect():
    m = imaplib.IMAP4("127.0.0.1", A["port"])
    m.login(A["user"], A["password"])
    return m
`;

function python(home: string, conn: Conn, script: string, args: object = {}) {
  // deno-lint-ignore no-explicit-any
  return runPythonJsonArg<any>(home, PRELUDE + script, { ...conn, ...args });
}

async function curl(conn: Conn, path: string, ...extra: string[]): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: [
      "--silent",
      "--show-error",
      "--max-time",
      "30",
      "--user",
      `${conn.user}:${conn.password}`,
      ...extra,
      `imap://127.0.0.1:${conn.port}/${path}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.ok(out.success, `curl ${path}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** LIST (plain and RETURN (SPECIAL-USE)): name → attributes. */
const LIST = String.raw`
m = connect()
def parse(lines):
    out = {}
    for l in lines:
        l = s(l)
        mm = re.match(r'\((.*?)\) (?:"."|NIL) (.*)$', l)
        name = mm.group(2)
        if name.startswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[name] = mm.group(1).split()
    return out
plain = parse(ok(*m.list()))
typ, dat = m._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
su = parse(ok(*m._untagged_response(typ, dat, "LIST")))
typ, dat = m._simple_command("LIST", "(SUBSCRIBED)", '""', '"*"', "RETURN", "(SPECIAL-USE)")
sub = parse(ok(*m._untagged_response(typ, dat, "LIST")))
m.logout()
print(json.dumps({"plain": plain, "specialUse": su, "subscribed": sub}))
`;

/** SELECT (EXISTS) and STATUS (MESSAGES UNSEEN) of each mailbox in A["boxes"]. */
const COUNTS = String.raw`
m = connect()
out = {}
for name in A["boxes"]:
    exists = int(ok(*m.select(q(name), readonly=True))[0])
    st = s(ok(*m.status(q(name), "(MESSAGES UNSEEN)"))[0])
    mm = re.search(r"MESSAGES (\d+) UNSEEN (\d+)", st)
    out[name] = {"exists": exists, "messages": int(mm.group(1)), "unseen": int(mm.group(2))}
m.logout()
print(json.dumps(out))
`;

/** UID → Message-ID of every message in A["box"] (from the header only). */
const UID_MAP = String.raw`
m = connect()
ok(*m.select(q(A["box"]), readonly=True))
out = {}
for item in ok(*m.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")):
    if not isinstance(item, tuple):
        continue
    uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
    out[uid] = item[1].decode().split(":", 1)[1].strip()
m.logout()
print(json.dumps(out))
`;

/** UID SEARCH for each criteria string of A["searches"] in INBOX. */
const SEARCH = String.raw`
m = connect()
ok(*m.select("INBOX", readonly=True))
out = {}
for name, crit in A["searches"].items():
    data = ok(*m.uid("SEARCH", crit))
    out[name] = sorted(int(x) for x in (data[0] or b"").split())
m.logout()
print(json.dumps(out))
`;

/** UID SORT (imaplib's `sort`) for each [criteria, search] pair of A["sorts"] in INBOX. */
const SORT = String.raw`
m = connect()
ok(*m.select("INBOX", readonly=True))
out = {}
for name, (crit, search) in A["sorts"].items():
    data = ok(*m.uid("SORT", crit, "UTF-8", search))
    out[name] = [int(x) for x in (data[0] or b"").split()]
m.logout()
print(json.dumps(out))
`;

/** FETCH BODY.PEEK[] of A["uid"] in INBOX twice, parsed; the raw bytes as base64. */
const FETCH_PARSED = String.raw`
m = connect()
ok(*m.select("INBOX"))
def body():
    data = ok(*m.uid("FETCH", str(A["uid"]), "(BODY.PEEK[])"))
    return [x for x in data if isinstance(x, tuple)][0][1]
raw = body()
again = body()
flags = s(ok(*m.uid("FETCH", str(A["uid"]), "(FLAGS)"))[0])
msg = email.message_from_bytes(raw, policy=policy.default)
text = msg.get_body(("plain",)).get_content()
atts = [{"name": a.get_filename(), "type": a.get_content_type(),
         "data": base64.b64encode(a.get_content()).decode()} for a in msg.iter_attachments()]
m.logout()
print(json.dumps({"subject": str(msg["subject"]), "from": str(msg["from"]), "date": str(msg["date"]),
                  "text": text, "attachments": atts, "same": raw == again, "flags": flags,
                  "raw": base64.b64encode(raw).decode()}))
`;

/**
 * A list of operations on one connection; each answers the command's status, data and the
 * untagged responses it caused (EXISTS, EXPUNGE, FETCH, COPYUID, APPENDUID…).
 * Ops: ["select", box] | ["uid", CMD, args…] | ["expunge"] | ["append", box, flags, date, b64].
 */
const OPS = String.raw`
m = connect()
res = []
for op in A["ops"]:
    m.untagged_responses.clear()
    if op[0] == "select":
        typ, data = m.select(q(op[1]))
    elif op[0] == "uid":
        typ, data = m.uid(*op[1:])
    elif op[0] == "expunge":
        typ, data = m.expunge()
    elif op[0] == "append":
        typ, data = m.append(q(op[1]), op[2], op[3], base64.b64decode(op[4]))
    else:
        raise SystemExit("unknown op %r" % (op,))
    res.append({"typ": typ, "data": [s(x) for x in data],
                "untagged": {k: [s(x) for x in v] for k, v in m.untagged_responses.items()}})
m.logout()
print(json.dumps(res))
`;

/**
 * IDLE in INBOX; once the server says "+", delivers A["deliver"] through the reference server's
 * control and waits for the EXISTS. Answers the time it took and the new message's subject.
 */
const IDLE = String.raw`
m = connect()
before = int(ok(*m.select("INBOX"))[0])
tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
cont = m.readline()
req = urllib.request.Request(A["url"], data=json.dumps(A["deliver"]).encode(),
                             headers={"content-type": "application/json"}, method="POST")
t0 = time.time()
urllib.request.urlopen(req).read()
m.sock.settimeout(30)
exists = None
seen = []
while exists is None:
    line = m.readline()
    seen.append(s(line).strip())
    mm = re.match(rb"\* (\d+) EXISTS", line)
    if mm:
        exists = int(mm.group(1))
elapsed = time.time() - t0
m.send(b"DONE\r\n")
while True:
    line = m.readline()
    if line.startswith(tag):
        done = s(line).strip()
        break
data = ok(*m.fetch(str(exists), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
subject = [x for x in data if isinstance(x, tuple)][0][1].decode().split(":", 1)[1].strip()
m.logout()
print(json.dumps({"cont": s(cont).strip(), "before": before, "exists": exists, "elapsed": elapsed,
                  "seen": seen, "done": done, "subject": subject}))
`;

/** UIDVALIDITY, UIDNEXT and `UID FETCH 1:* (UID ENVELOPE)` of every mailbox in A["boxes"]. */
const SNAPSHOT = String.raw`
m = connect()
out = {}
for name in A["boxes"]:
    exists = int(ok(*m.select(q(name), readonly=True))[0])
    validity = s(m.response("UIDVALIDITY")[1][0])
    uidnext = s(m.response("UIDNEXT")[1][0])
    rows = []
    if exists:
        rows = [s(x) for x in ok(*m.uid("FETCH", "1:*", "(UID ENVELOPE)"))]
    out[name] = {"exists": exists, "uidvalidity": validity, "uidnext": uidnext, "rows": rows}
m.logout()
print(json.dumps(out))
`;

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

const BOXES = [
  "INBOX",
  "Sent",
  "Drafts",
  "Trash",
  "Spam",
  "Archive",
  "Starred",
  "All Mail",
  "Folders/Work",
  "Folders/Work/2024",
  "Folders/Receipts",
  "Labels/Important",
  "Labels/Travel",
];

/** IMAP mailbox name → API label ID. */
async function boxLabels(server: ApiServer): Promise<Record<string, string>> {
  const out: Record<string, string> = {
    INBOX: "0",
    Sent: "7",
    Drafts: "8",
    Trash: "3",
    Spam: "4",
    Archive: "6",
    Starred: "10",
    "All Mail": "5",
  };
  for (const l of await apiLabels(server)) {
    if (l.Type === 3) out[`Folders/${l.Path}`] = l.ID;
    if (l.Type === 1) out[`Labels/${l.Path}`] = l.ID;
  }
  return out;
}

Deno.test({
  name: "imap e2e: curl and imaplib against bridge serve backed by the reference server",
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  await withTempDir(async (home) => {
    const server = await startApiServer({ port: 0, quiet: true });
    let serve: ServeProcess | undefined;
    try {
      await server.createUser({ email: ALICE, password: PASSWORD, messages: SEEDED });
      for (const k of KNOWN) k.id = await deliver(server, k);

      const data = join(home, "bridge-data");
      const dataArgs = ["--data-dir", data, "--key-store", "file"];
      const login = await loginToReferenceServer(home, server, ALICE, PASSWORD, dataArgs);
      assert.equal(login.code, 0, login.stderr);
      const info = await runBridge(home, {}, "info", ALICE, "--json", ...dataArgs);
      assert.equal(info.code, 0, info.stderr);
      const imapInfo = JSON.parse(info.stdout).imap as { username: string; password: string };

      const serveArgs = plainServeArgs(server.url, ...dataArgs);
      serve = new ServeProcess(home, serveArgs, { env: eventPollEnv(POLL_SECONDS) });
      const ready = await imapReady(serve);
      assert.equal(ready.password, imapInfo.password);
      const conn: Conn = {
        port: ready.imapPort,
        user: imapInfo.username,
        password: imapInfo.password,
      };
      const labels = await boxLabels(server);
      let inbox = await python(home, conn, UID_MAP, { box: "INBOX" }) as Record<string, string>;
      // Message-ID → UID in INBOX, for the delivered messages (their Message-IDs are the API's).
      const metas = await apiMessages(server);
      const uid = (key: string): number => {
        const ext = metas.find((m) => m.ID === known(key).id)!.ExternalID;
        const hit = Object.entries(inbox).find(([, mid]) => mid === `<${ext}>`);
        assert.ok(hit, `${key} (<${ext}>) not in INBOX: ${JSON.stringify(inbox)}`);
        return Number(hit[0]);
      };

      await t.step("LIST: curl and imaplib show every mailbox with special-use", async () => {
        const text = await curl(conn, "");
        for (const name of ["INBOX", "Sent", "Trash", "Folders/Work", "Labels/Important"]) {
          assert.match(text, new RegExp(`^\\* LIST \\(.*\\) "/" "?${name}"?\\r?$`, "m"), text);
        }
        assert.match(text, /^\* LIST \([^)]*\\Sent[^)]*\) "\/" "?Sent"?\r?$/m);
        const r = await python(home, conn, LIST);
        for (const variant of ["plain", "specialUse", "subscribed"]) {
          const boxes = r[variant] as Record<string, string[]>;
          for (const name of BOXES) assert.ok(name in boxes, `${variant}: no ${name}`);
          assert.ok(boxes["Sent"].includes("\\Sent"), `${variant} Sent ${boxes["Sent"]}`);
          assert.ok(boxes["Trash"].includes("\\Trash"));
          assert.ok(boxes["Drafts"].includes("\\Drafts"));
          assert.ok(boxes["Spam"].includes("\\Junk"));
          assert.ok(boxes["Archive"].includes("\\Archive"));
          assert.ok(boxes["All Mail"].includes("\\All"));
          assert.ok(boxes["Starred"].includes("\\Flagged"));
        }
        assert.ok(r.plain["Folders"].includes("\\Noselect"));
        assert.ok(r.plain["Labels"].includes("\\Noselect"));
        assert.ok(r.plain["Folders/Work"].includes("\\HasChildren"));
        assert.ok("Labels/Café ☕" in r.plain || "Labels/Caf&AOk- &JhU-" in r.plain);
      });

      await t.step("SELECT and STATUS counts match the API", async () => {
        const r = await python(home, conn, COUNTS, { boxes: BOXES });
        const all = await apiMessages(server);
        for (const name of BOXES) {
          const inBox = all.filter((m) => m.LabelIDs.includes(labels[name]));
          const unread = inBox.filter((m) => m.Unread).length;
          assert.deepEqual(
            r[name],
            { exists: inBox.length, messages: inBox.length, unseen: unread },
            name,
          );
        }
        assert.ok(r["INBOX"].exists >= KNOWN.length);
        assert.ok(r["Folders/Work"].exists > 0 && r["Labels/Important"].exists > 0);
      });

      await t.step("SEARCH by subject, sender and dates", async () => {
        const searches = {
          subject: 'SUBJECT "E2E"',
          subjectWord: "SUBJECT unicode",
          from: "FROM carol@sender.test",
          fromName: 'FROM "Bob Sender"',
          since: "SINCE 1-Jun-2022 BEFORE 1-Jan-2023",
          on: "ON 5-Mar-2022",
          senton: "SENTON 15-Sep-2022",
          and: 'SUBJECT "E2E" NOT FROM dan@sender.test SINCE 1-Apr-2022',
          header: 'HEADER Subject "plain hello"',
        };
        const r = await python(home, conn, SEARCH, { searches });
        const [p, u, a] = ["plain", "unicode", "attachment"].map(uid);
        const sorted = (...x: number[]) => x.sort((m, n) => m - n);
        assert.deepEqual(r, {
          subject: sorted(p, u, a),
          subjectWord: [u],
          from: [u],
          fromName: [p],
          since: sorted(u, a),
          on: [p],
          senton: [a],
          and: [u],
          header: [p],
        });
        const viaCurl = await curl(conn, "INBOX?FROM%20dan@sender.test");
        assert.equal(
          viaCurl.trim(),
          `* SEARCH ${
            // curl searches by sequence number: the position of the UID in INBOX.
            Object.keys(inbox).map(Number).sort((m, n) => m - n).indexOf(a) + 1}`,
        );
      });

      await t.step("SORT by date, subject, sender and size (imaplib)", async () => {
        const [p, u, a] = ["plain", "unicode", "attachment"].map(uid);
        const r = await python(home, conn, SORT, {
          sorts: {
            newest: ["(REVERSE DATE)", 'SUBJECT "E2E"'],
            arrival: ["(ARRIVAL)", 'SUBJECT "E2E"'],
            subject: ["(SUBJECT)", 'SUBJECT "E2E"'],
            from: ["(REVERSE FROM)", 'SUBJECT "E2E"'],
            display: ["(DISPLAYFROM)", 'SUBJECT "E2E"'],
            size: ["(REVERSE SIZE)", 'SUBJECT "E2E"'],
            narrowed: ["(DATE)", 'SUBJECT "E2E" NOT FROM dan@sender.test'],
          },
        });
        assert.deepEqual(r, {
          newest: [a, u, p],
          arrival: [p, u, a],
          // "E2E plain hello", "E2E unicode …", "E2E with attachment".
          subject: [p, u, a],
          // dan, carol, bob (the local parts).
          from: [a, u, p],
          // "Bob Sender", "Carol Ünïcode", "Dan Files".
          display: [p, u, a],
          // The attachment's message is the largest, the plain one the smallest.
          size: [a, u, p],
          narrowed: [p, u],
        });
      });

      const raw: Record<string, string> = {};
      await t.step(
        "FETCH BODY.PEEK[]: what the sender sent, the same bytes every time",
        async () => {
          for (const k of KNOWN) {
            const r = await python(home, conn, FETCH_PARSED, { uid: uid(k.key) });
            assert.equal(r.subject, k.subject);
            assert.equal(r.from, `${k.from.Name} <${k.from.Address}>`);
            assert.equal(r.text.replace(/\r\n/g, "\n"), k.text, k.key);
            assert.equal(r.same, true, `${k.key}: BODY[] changed between two fetches`);
            assert.equal(new Date(r.date).getTime() / 1000, k.time);
            assert.doesNotMatch(r.flags, /\\Seen/, `${k.key}: PEEK set \\Seen`);
            if (k.attachment) {
              assert.equal(r.attachments.length, 1);
              assert.equal(r.attachments[0].name, k.attachment.name);
              assert.equal(r.attachments[0].type, k.attachment.mime);
              assert.equal(r.attachments[0].data, b64(k.attachment.data));
            } else {
              assert.equal(r.attachments.length, 0);
            }
            raw[k.key] = r.raw;
          }
          for (const k of KNOWN) assert.equal((await apiMessage(server, k.id!))!.Unread, 1);
        },
      );

      await t.step(
        "curl FETCH by UID (BODY[]): the same bytes, and read on the server",
        async () => {
          const k = known("unicode");
          const viaCurl = await curl(conn, `INBOX/;UID=${uid(k.key)}`);
          assert.equal(b64(new TextEncoder().encode(viaCurl)), raw[k.key]);
          await eventually(async () => assert.equal((await apiMessage(server, k.id!))!.Unread, 0));
        },
      );

      await t.step(
        "imaplib FETCH BODY[] (not PEEK) marks the message read on the server",
        async () => {
          const id = known("attachment").id!;
          assert.equal((await apiMessage(server, id))!.Unread, 1);
          const r = await python(home, conn, OPS, {
            ops: [["select", "INBOX"], ["uid", "FETCH", String(uid("attachment")), "(BODY[])"]],
          });
          assert.equal(r[1].typ, "OK");
          assert.match(r[1].data.join(" "), /\\Seen/, "FETCH BODY[] answers the new \\Seen");
          await eventually(async () => assert.equal((await apiMessage(server, id))!.Unread, 0));
        },
      );

      await t.step("STORE \\Seen and \\Flagged reach the API", async () => {
        const id = known("plain").id!;
        const u = String(uid("plain"));
        const r = await python(home, conn, OPS, {
          ops: [
            ["select", "INBOX"],
            ["uid", "STORE", u, "+FLAGS", "(\\Seen \\Flagged)"],
          ],
        });
        assert.equal(r[1].typ, "OK");
        assert.match(r[1].data.join(" "), /\\Seen/);
        assert.match(r[1].data.join(" "), /\\Flagged/);
        await eventually(async () => {
          const m = (await apiMessage(server, id))!;
          assert.equal(m.Unread, 0);
          assert.ok(m.LabelIDs.includes("10"), `not starred: ${m.LabelIDs}`);
        });
        const r2 = await python(home, conn, OPS, {
          ops: [["select", "INBOX"], ["uid", "STORE", u, "-FLAGS", "(\\Seen)"]],
        });
        assert.equal(r2[1].typ, "OK");
        await eventually(async () => {
          const m = (await apiMessage(server, id))!;
          assert.equal(m.Unread, 1);
          assert.ok(m.LabelIDs.includes("10"));
        });
        // And the Starred mailbox shows it.
        const starred = await python(home, conn, UID_MAP, { box: "Starred" });
        assert.ok(Object.values(starred).includes(inbox[u]));
      });

      await t.step("COPY to a label and MOVE to a folder are seen through the API", async () => {
        const important = labels["Labels/Important"];
        const receipts = labels["Folders/Receipts"];
        const r = await python(home, conn, OPS, {
          ops: [
            ["select", "INBOX"],
            ["uid", "COPY", String(uid("plain")), "Labels/Important"],
            ["uid", "MOVE", String(uid("unicode")), "Folders/Receipts"],
          ],
        });
        assert.equal(r[1].typ, "OK");
        assert.match(r[1].untagged.COPYUID?.[0] ?? "", new RegExp(`^\\d+ ${uid("plain")} \\d+$`));
        assert.equal(r[2].typ, "OK");
        assert.match(r[2].untagged.COPYUID?.[0] ?? "", new RegExp(`^\\d+ ${uid("unicode")} \\d+$`));
        assert.equal(r[2].untagged.EXPUNGE?.length, 1, JSON.stringify(r[2]));
        await eventually(async () => {
          const plain = (await apiMessage(server, known("plain").id!))!;
          assert.ok(plain.LabelIDs.includes(important), `${plain.LabelIDs}`);
          assert.ok(plain.LabelIDs.includes("0"), "COPY keeps the message in INBOX");
          const unicode = (await apiMessage(server, known("unicode").id!))!;
          assert.ok(unicode.LabelIDs.includes(receipts), `${unicode.LabelIDs}`);
          assert.ok(!unicode.LabelIDs.includes("0"), "MOVE takes it out of INBOX");
        });
        // The new UID from COPYUID is fetchable in the target.
        const copied = Number(r[1].untagged.COPYUID[0].split(" ")[2]);
        const target = await python(home, conn, UID_MAP, { box: "Labels/Important" });
        assert.equal(target[copied], inbox[String(uid("plain"))]);
      });

      await t.step("EXPUNGE in Trash deletes the message for good", async () => {
        const id = known("attachment").id!;
        const moved = await python(home, conn, OPS, {
          ops: [["select", "INBOX"], ["uid", "MOVE", String(uid("attachment")), "Trash"]],
        });
        assert.equal(moved[1].typ, "OK");
        const trashUid = Number(moved[1].untagged.COPYUID[0].split(" ")[2]);
        await eventually(async () => {
          assert.ok((await apiMessage(server, id))!.LabelIDs.includes("3"));
        });
        const r = await python(home, conn, OPS, {
          ops: [
            ["select", "Trash"],
            ["uid", "STORE", String(trashUid), "+FLAGS.SILENT", "(\\Deleted)"],
            ["expunge"],
          ],
        });
        assert.equal(r[2].typ, "OK");
        assert.equal(r[2].data.length, 1, JSON.stringify(r[2]));
        await eventually(async () => assert.equal(await apiMessage(server, id), undefined));
      });

      await t.step(
        "APPEND to INBOX imports the message (APPENDUID, visible via the API)",
        async () => {
          const literal = [
            "From: Erin Appender <erin@sender.test>",
            `To: ${ALICE}`,
            "Subject: E2E appended message",
            "Date: Tue, 01 Nov 2022 12:00:00 +0000",
            "Message-ID: <e2e-append-1@sender.test>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            "Appended by imaplib. Ünïcödé too.",
            "",
          ].join("\r\n");
          const r = await python(home, conn, OPS, {
            ops: [[
              "append",
              "INBOX",
              "(\\Seen)",
              '"01-Nov-2022 12:00:00 +0000"',
              b64(new TextEncoder().encode(literal)),
            ]],
          });
          assert.equal(r[0].typ, "OK", JSON.stringify(r));
          const appendUid = r[0].untagged.APPENDUID?.[0]?.split(" ")[1];
          assert.match(appendUid ?? "", /^\d+$/, JSON.stringify(r));
          let imported: MessageMetadata | undefined;
          await eventually(async () => {
            imported = (await apiMessages(server)).find((m) =>
              m.Subject === "E2E appended message"
            );
            assert.ok(imported, "the appended message is not on the server");
          });
          assert.ok(imported!.LabelIDs.includes("0"));
          assert.equal(imported!.Unread, 0);
          assert.equal(imported!.Sender.Address, "erin@sender.test");
          inbox = await python(home, conn, UID_MAP, { box: "INBOX" });
          assert.equal(inbox[appendUid!], "<e2e-append-1@sender.test>");
          const back = await python(home, conn, FETCH_PARSED, { uid: Number(appendUid) });
          assert.equal(back.text.replace(/\r\n/g, "\n"), "Appended by imaplib. Ünïcödé too.\n");
          assert.match(back.flags, /\\Seen/);
        },
      );

      await t.step("IDLE sees a message delivered through the reference server", async () => {
        const subject = "E2E delivered during IDLE";
        const r = await python(home, conn, IDLE, {
          url: `${server.url}/ref/v1/deliver`,
          deliver: {
            To: ALICE,
            From: { Name: "Idle Sender", Address: "idle@sender.test" },
            Subject: subject,
            Text: "Pushed.\n",
          },
        });
        assert.match(r.cont, /^\+/);
        assert.equal(r.exists, r.before + 1, JSON.stringify(r));
        assert.equal(r.subject, subject);
        assert.match(r.done, / OK/);
        // One poll (1 s, no jitter) plus slack for a loaded machine.
        assert.ok(r.elapsed < POLL_SECONDS + 4, `EXISTS after ${r.elapsed} s`);
      });

      await t.step("UIDs are stable across a restart of bridge serve", async () => {
        const boxes = BOXES.filter((b) => b !== "Drafts");
        const before = await python(home, conn, SNAPSHOT, { boxes });
        assert.ok(before["INBOX"].rows.length > 0);
        assert.equal(await serve!.stop("SIGTERM"), 0, serve!.stderr);
        // Mail that arrives while bridge is down gets a new UID; nothing else moves.
        await deliver(server, {
          key: "offline",
          subject: "E2E arrived while bridge was down",
          from: { Name: "Late Sender", Address: "late@sender.test" },
          text: "Hello later.\n",
          time: Math.floor(Date.now() / 1000),
        });
        serve = new ServeProcess(home, serveArgs, { env: eventPollEnv(POLL_SECONDS) });
        const again = await imapReady(serve);
        const after = await python(home, { ...conn, port: again.imapPort }, SNAPSHOT, { boxes });
        for (const name of boxes.filter((b) => b !== "INBOX" && b !== "All Mail")) {
          assert.deepEqual(after[name], before[name], name);
        }
        for (const name of ["INBOX", "All Mail"]) {
          const [b, a] = [before[name], after[name]];
          assert.equal(a.uidvalidity, b.uidvalidity, name);
          assert.equal(a.exists, b.exists + 1, name);
          assert.deepEqual(a.rows.slice(0, -1), b.rows, name);
          const last = a.rows.at(-1) as string;
          assert.match(last, /E2E arrived while bridge was down/);
          assert.ok(Number(/UID (\d+)/.exec(last)![1]) >= Number(b.uidnext), `${name}: ${last}`);
          assert.ok(Number(a.uidnext) > Number(b.uidnext), name);
        }
      });
    } finally {
      if (serve) {
        const code = await serve.stop("SIGTERM");
        if (code !== 0) console.error(`serve exited ${code}:\n${serve.stderr}`);
      }
      await server.close();
    }
  }, "bridge_imap_e2e_");
});
