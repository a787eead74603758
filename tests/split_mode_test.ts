/**
 * Split address mode end to end: the reference API server runs in this process with one user who
 * has two addresses (the primary and an alias) and mail on each, delivered through its control
 * endpoint; `bridge login`, then `bridge mode EMAIL split`, then `bridge serve --json` as
 * subprocesses. python3 `imaplib` then logs in as each address with the one bridge password:
 *
 * - each sees only its own address's mail: SELECT counts, `UID SEARCH ALL`, FETCH ENVELOPE
 *   (To/From name that address), Sent holding only that address's sent mail; STATUS (MESSAGES,
 *   UNSEEN, UIDNEXT, UIDVALIDITY) agrees with SELECT; UIDs of the two views are disjoint, under the
 *   same UIDVALIDITY;
 * - a UID of the other address is not there: `UID FETCH` answers nothing and `UID STORE +FLAGS
 *   (\Seen)` leaves the message unread on the server;
 * - APPEND as the alias imports a message for the alias (its `AddressID` on the server), which the
 *   primary's login does not see;
 * - a message delivered to the alias while both logins IDLE in INBOX: the alias's session gets
 *   `EXISTS`, the primary's gets nothing (checked after DONE and a NOOP);
 * - `bridge status --json` lists both IMAP logins and `split`;
 * - `bridge mode EMAIL combined` and SIGHUP: serve says it applied the mode, and both addresses
 *   now log in to all the mail, under the same UIDs as before (the union of the split views).
 *
 * Every check of "the server" reads the reference server's own state. The subprocesses keep HOME
 * and XDG_CACHE_HOME (Deno's module cache); no BRIDGE_* variable leaks in but the poll settings.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startApiServer } from "../src/api_server/mod.ts";
import { runBridge, withTempDir } from "../src/cli/_cli_test_utils.ts";
import { loginToReferenceServer } from "./_bridge_login.ts";
import { IMAPLIB_HELPERS } from "./_imaplib_helpers.ts";
import { runPythonJsonArg } from "./_python_json.ts";
import { refControl, refMessages } from "./_ref_control.ts";
import { eventPollEnv, plainServeArgs, ServeProcess } from "./_serve_process.ts";

const ALICE = "alice@example.test";
const ALIAS = "alias@example.test";
const PASSWORD = "split mode secret";

// ---------------------------------------------------------------------------------------------
// The reference server
// ---------------------------------------------------------------------------------------------

function received(to: string, n: number, unread = true): Record<string, unknown> {
  return {
    To: to,
    From: { Name: `Sender ${n}`, Address: `sender${n}@outside.test` },
    Subject: `Split ${to.split("@")[0]} ${n}`,
    Text: `Message ${n} for ${to}.\n`,
    Unread: unread,
    Time: Date.UTC(2023, 0, n) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// python3 imaplib
// ---------------------------------------------------------------------------------------------

interface Conn {
  port: number;
  password: string;
}

const PRELUDE = IMAPLIB_HELPERS + String.raw`
import base64, imaplib, json, re, sys, time, urllib.request
def connect(user):
    m = imaplib.IMAP4("127.0.0.1", A["port"])
    m.login(user, A["password"])
    return m
`;

/** Logs in as `user` (no exception on refusal) and lists INBOX subjects. */
const TRY_LOGIN = String.raw`
try:
    m = connect(A["user"])
except imaplib.IMAP4.error as e:
    print(json.dumps({"ok": False, "error": str(e)}))
    sys.exit(0)
ok(*m.select("INBOX"))
typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
subjects = [s(d[1]).strip() for d in data if isinstance(d, tuple)]
typ, found = m.uid("SEARCH", "BODY", '"Message 7 for late@example.test"')
m.logout()
print(json.dumps({"ok": True, "subjects": subjects, "bodyHits": s(found[0]).split()}))
`;

function python(home: string, conn: Conn, script: string, args: object = {}) {
  // deno-lint-ignore no-explicit-any
  return runPythonJsonArg<any>(home, PRELUDE + script, { ...conn, ...args });
}

/**
 * What A["user"] sees in each mailbox of A["boxes"]: SELECT's EXISTS, UIDVALIDITY, UIDNEXT,
 * `UID SEARCH ALL` and `UNSEEN`, `SEARCH ALL` (sequence numbers), STATUS, and the ENVELOPE of
 * every message by UID; then `UID FETCH` and `UID STORE` of A["probe"] UIDs in INBOX.
 */
const VIEW = String.raw`
m = connect(A["user"])
out = {}
for name in A["boxes"]:
    exists = int(ok(*m.select(q(name)))[0])
    validity = int(s(m.response("UIDVALIDITY")[1][0]))
    uidnext = int(s(m.response("UIDNEXT")[1][0]))
    uids = sorted(int(x) for x in (ok(*m.uid("SEARCH", "ALL"))[0] or b"").split())
    unseen = sorted(int(x) for x in (ok(*m.uid("SEARCH", "UNSEEN"))[0] or b"").split())
    seqs = sorted(int(x) for x in (ok(*m.search(None, "ALL"))[0] or b"").split())
    env = {}
    if exists:
        for item in ok(*m.fetch("1:*", "(UID ENVELOPE)")):
            line = s(item if not isinstance(item, tuple) else item[0] + item[1])
            env[int(re.search(r"UID (\d+)", line).group(1))] = line
    st = s(ok(*m.status(q(name), "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY)"))[0])
    status = {k: int(v) for k, v in re.findall(r"(MESSAGES|UNSEEN|UIDNEXT|UIDVALIDITY) (\d+)", st)}
    out[name] = {"exists": exists, "uidvalidity": validity, "uidnext": uidnext, "uids": uids,
                 "unseen": unseen, "seqs": seqs, "envelopes": env, "status": status}
probe = {}
if A.get("probe"):
    ok(*m.select("INBOX"))
    ids = ",".join(str(u) for u in A["probe"])
    fetched = [s(x) for x in ok(*m.uid("FETCH", ids, "(FLAGS)")) if x is not None]
    typ, stored = m.uid("STORE", ids, "+FLAGS", "(\\Seen)")
    probe = {"fetch": fetched, "store": typ, "storeData": [s(x) for x in stored if x is not None]}
m.logout()
print(json.dumps({"boxes": out, "probe": probe}))
`;

/** APPEND of A["message"] (base64) to INBOX as A["user"]; the APPENDUID response code. */
const APPEND = String.raw`
m = connect(A["user"])
typ, data = m.append("INBOX", None, None, base64.b64decode(A["message"]))
m.logout()
print(json.dumps({"typ": typ, "data": [s(x) for x in data]}))
`;

/**
 * Both users IDLE in INBOX; A["deliver"] is delivered through the reference server; waits for
 * `EXISTS` on A["to"]'s session, then ends the other's IDLE and sends it a NOOP. Answers every
 * untagged line each session saw.
 */
/**
 * Logs in as A["user"] and selects INBOX, disables that address through A["url"], then sends NOOP
 * until the server ends the session (or 20 s pass).
 */
const BYE_ON_DISABLE = String.raw`
m = connect(A["user"])
ok(*m.select("INBOX"))
urllib.request.urlopen(urllib.request.Request(A["url"], method="PUT"))
result = "still open"
for i in range(100):
    time.sleep(0.2)
    try:
        m.noop()
    except (imaplib.IMAP4.abort, OSError) as e:
        result = "closed: " + str(e)
        break
print(json.dumps({"selected": True, "result": result}))
`;

const IDLE_BOTH = String.raw`
sessions = {}
for user in A["users"]:
    m = connect(user)
    exists = int(ok(*m.select("INBOX"))[0])
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    cont = s(m.readline()).strip()
    sessions[user] = {"m": m, "tag": tag, "before": exists, "cont": cont, "seen": []}
req = urllib.request.Request(A["url"], data=json.dumps(A["deliver"]).encode(),
                             headers={"content-type": "application/json"}, method="POST")
urllib.request.urlopen(req).read()
target = sessions[A["to"]]
target["m"].sock.settimeout(30)
while True:
    line = s(target["m"].readline()).strip()
    target["seen"].append(line)
    if re.match(r"\* \d+ EXISTS", line):
        break
for user, x in sessions.items():
    m = x["m"]
    m.send(b"DONE\r\n")
    while True:
        line = s(m.readline()).strip()
        if line.startswith(s(x["tag"])):
            x["done"] = line
            break
        x["seen"].append(line)
    m.untagged_responses.clear()
    ok(*m.noop())
    x["noop"] = {k: [s(v) for v in vs] for k, vs in m.untagged_responses.items()}
    m.logout()
print(json.dumps({u: {k: v for k, v in x.items() if k not in ("m", "tag")}
                  for u, x in sessions.items()}))
`;

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

interface BoxView {
  exists: number;
  uidvalidity: number;
  uidnext: number;
  uids: number[];
  unseen: number[];
  seqs: number[];
  envelopes: Record<string, string>;
  status: Record<string, number>;
}

/** The ENVELOPE's quoted mailbox and host of `email`, as IMAP writes an address. */
function inEnvelope(email: string): RegExp {
  const [local, host] = email.split("@");
  return new RegExp(`"${local}" "${host}"\\)`, "i");
}

Deno.test({
  name: "split mode e2e: each address logs in to its own mail; SIGHUP switches back to combined",
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  await withTempDir(async (home) => {
    const server = await startApiServer({ port: 0, quiet: true });
    let serve: ServeProcess | undefined;
    try {
      const user = await server.createUser({
        email: ALICE,
        password: PASSWORD,
        extraAddresses: [ALIAS],
      });
      const [aliceId, aliasId] = user.AddressIDs;
      for (const n of [1, 2, 3]) {
        await refControl(server.url, "POST", "deliver", received(ALICE, n, n !== 1));
      }
      for (const n of [4, 5]) {
        await refControl(server.url, "POST", "deliver", received(ALIAS, n, n !== 4));
      }
      await refControl(server.url, "POST", "deliver", {
        Kind: "sent",
        From: { Name: "Alias", Address: ALIAS },
        ToList: [{ Name: "Out", Address: "out@outside.test" }],
        Subject: "Split sent by the alias",
        Text: "Sent from the alias.\n",
      });

      const data = join(home, "bridge-data");
      const common = ["--data-dir", data, "--key-store", "file"];
      const login = await loginToReferenceServer(home, server, ALICE, PASSWORD, common);
      assert.equal(login.code, 0, login.stderr);
      const mode = await runBridge(home, {}, "mode", ALICE, "split", ...common);
      assert.equal(mode.code, 0, mode.stderr);
      assert.match(mode.stdout, /split address mode/);

      serve = new ServeProcess(home, plainServeArgs(server.url, ...common), {
        env: eventPollEnv(1),
      });
      const ready = await serve.waitFor("ready");
      const imap = ready.imap as { port: number };
      const conn: Conn = {
        port: imap.port,
        password: (ready.accounts as { password: string }[])[0].password,
      };
      const boxes = ["INBOX", "Sent", "All Mail"];
      const view = async (who: string, probe: number[] = []) =>
        (await python(home, conn, VIEW, { user: who, boxes, probe })) as {
          boxes: Record<string, BoxView>;
          probe: { fetch: string[]; store: string; storeData: string[] };
        };

      let alice!: Record<string, BoxView>;
      let alias!: Record<string, BoxView>;
      await t.step("each address sees only its own mail, with matching counts", async () => {
        alice = (await view(ALICE)).boxes;
        alias = (await view(ALIAS)).boxes;
        assert.equal(alice.INBOX.exists, 3);
        assert.equal(alias.INBOX.exists, 2);
        assert.equal(alice.Sent.exists, 0);
        assert.equal(alias.Sent.exists, 1);
        assert.equal(alice["All Mail"].exists, 3);
        assert.equal(alias["All Mail"].exists, 3);
        for (const [who, other, v] of [[ALICE, ALIAS, alice], [ALIAS, ALICE, alias]] as const) {
          for (const name of boxes) {
            const b = v[name];
            // Counts agree: SELECT, SEARCH (UIDs and sequence numbers), STATUS.
            assert.equal(b.uids.length, b.exists, `${who} ${name}`);
            assert.deepEqual(b.seqs, b.uids.map((_, i) => i + 1), `${who} ${name}`);
            assert.equal(b.status.MESSAGES, b.exists, `${who} ${name}`);
            assert.equal(b.status.UNSEEN, b.unseen.length, `${who} ${name}`);
            assert.equal(b.status.UIDVALIDITY, b.uidvalidity);
            assert.equal(b.status.UIDNEXT, b.uidnext);
            assert.ok(b.uids.every((u) => u < b.uidnext));
            // ENVELOPE names this address (To of received mail, From of sent) and never the other.
            assert.deepEqual(Object.keys(b.envelopes).map(Number).sort((x, y) => x - y), b.uids);
            for (const env of Object.values(b.envelopes)) {
              assert.match(env, inEnvelope(who), `${who} ${name}: ${env}`);
              assert.doesNotMatch(env, inEnvelope(other), `${who} ${name}: ${env}`);
            }
          }
        }
        assert.equal(alice.INBOX.unseen.length, 2);
        assert.equal(alias.INBOX.unseen.length, 1);
        // One mailbox, two views: same UIDVALIDITY, disjoint UIDs.
        assert.equal(alice.INBOX.uidvalidity, alias.INBOX.uidvalidity);
        assert.equal(alice.INBOX.uidnext, alias.INBOX.uidnext);
        const shared = alice.INBOX.uids.filter((u) => alias.INBOX.uids.includes(u));
        assert.deepEqual(shared, []);
      });

      await t.step("a UID of the other address is not there (FETCH, STORE)", async () => {
        const r = await view(ALICE, alias.INBOX.uids);
        assert.deepEqual(r.probe.fetch, []);
        assert.equal(r.probe.store, "OK");
        assert.deepEqual(r.probe.storeData, []);
        const aliasInbox = (await refMessages(server.url, ALICE)).filter((m) =>
          m.AddressID === aliasId && m.LabelIDs.includes("0")
        );
        assert.equal(aliasInbox.length, 2);
        // Message 5 was delivered unread and is still unread on the server.
        assert.equal(aliasInbox.filter((m) => m.Unread === 1).length, 1);
      });

      await t.step("APPEND as the alias imports for the alias only", async () => {
        const message = [
          "From: Outside <appended@outside.test>",
          `To: ${ALIAS}`,
          "Subject: Split appended by the alias",
          "Date: Mon, 02 Jan 2023 10:00:00 +0000",
          "Message-ID: <split-append@outside.test>",
          "",
          "Appended through the alias's login.",
          "",
        ].join("\r\n");
        const r = await python(home, conn, APPEND, {
          user: ALIAS,
          message: btoa(message),
        });
        assert.equal(r.typ, "OK", JSON.stringify(r));
        const uid = Number(/APPENDUID \d+ (\d+)/.exec(r.data.join(" "))?.[1]);
        assert.ok(uid > 0, JSON.stringify(r));
        const imported = (await refMessages(server.url, ALICE)).find((m) =>
          m.Subject === "Split appended by the alias"
        );
        assert.ok(imported, "the server has the appended message");
        assert.equal(imported.AddressID, aliasId);
        const a = (await view(ALICE)).boxes.INBOX;
        const b = (await view(ALIAS)).boxes.INBOX;
        assert.ok(b.uids.includes(uid), `${uid} in ${b.uids}`);
        assert.ok(!a.uids.includes(uid));
        assert.equal(a.exists, 3);
        assert.equal(b.exists, 3);
      });

      await t.step("IDLE: mail for the alias reaches the alias's session only", async () => {
        const r = await python(home, conn, IDLE_BOTH, {
          users: [ALICE, ALIAS],
          to: ALIAS,
          url: `${server.url}/ref/v1/deliver`,
          deliver: received(ALIAS, 6),
        });
        const b = r[ALIAS];
        const a = r[ALICE];
        assert.match(b.cont, /^\+/);
        assert.ok(b.seen.includes(`* ${b.before + 1} EXISTS`), JSON.stringify(b));
        assert.match(a.done, /OK/);
        assert.deepEqual(a.seen.filter((l: string) => /EXISTS/.test(l)), [], JSON.stringify(a));
        assert.equal(a.noop.EXISTS, undefined, JSON.stringify(a));
      });

      await t.step("bridge status --json lists both logins in split mode", async () => {
        const st = await runBridge(home, {}, "status", "--json", "--data-dir", data);
        assert.equal(st.code, 0, st.stderr);
        const account = JSON.parse(st.stdout).accounts[0];
        assert.equal(account.addressMode, "split");
        assert.deepEqual(account.imapLogins, [ALICE, ALIAS]);
      });

      await t.step(
        "disabling an address ends its open session; enabling lets it in again",
        async () => {
          const reloads = () => serve!.stderr.split("addresses reloaded").length - 1;
          const waitReloads = async (n: number) => {
            for (let i = 0; i < 200 && reloads() < n; i++) {
              await new Promise((r) => setTimeout(r, 100));
            }
            assert.ok(reloads() >= n, `reloads: ${reloads()}`);
          };
          const before = reloads();
          const r = await python(home, conn, BYE_ON_DISABLE, {
            user: ALIAS,
            url: `${server.url}/ref/v1/addresses/${aliasId}/disable`,
          });
          assert.equal(r.selected, true, JSON.stringify(r));
          assert.match(r.result, /^closed/, JSON.stringify(r));
          assert.match(serve!.stderr, /ending the session: this address was disabled/);
          await waitReloads(before + 1);
          const refused = await python(home, conn, TRY_LOGIN, { user: ALIAS });
          assert.equal(refused.ok, false, JSON.stringify(refused));
          await refControl(server.url, "PUT", `addresses/${aliasId}/enable`);
          await waitReloads(before + 2);
          const back = await python(home, conn, TRY_LOGIN, { user: ALIAS });
          assert.equal(back.ok, true, JSON.stringify(back));
        },
      );

      await t.step("bridge mode combined + SIGHUP: both addresses see all, same UIDs", async () => {
        const before = {
          alice: (await view(ALICE)).boxes.INBOX.uids,
          alias: (await view(ALIAS)).boxes.INBOX.uids,
        };
        const back = await runBridge(home, {}, "mode", ALICE, "combined", ...common);
        assert.equal(back.code, 0, back.stderr);
        serve!.child.kill("SIGHUP");
        const reload = await serve!.waitFor("reload");
        assert.ok(
          (reload.applied as string[]).includes(`accounts."${ALICE}".address_mode`),
          JSON.stringify(reload),
        );
        const union = [...before.alice, ...before.alias].sort((x, y) => x - y);
        const api = (await refMessages(server.url, ALICE)).filter((m) => m.LabelIDs.includes("0"));
        assert.equal(api.length, union.length);
        assert.ok(api.some((m) => m.AddressID === aliceId));
        for (const who of [ALICE, ALIAS]) {
          const inbox = (await view(who)).boxes.INBOX;
          assert.deepEqual(inbox.uids, union, who);
          assert.equal(inbox.status.MESSAGES, union.length);
        }
      });

      await t.step("an address added while serving logs in after its event", async () => {
        const late = "late@example.test";
        const refused = await python(home, conn, TRY_LOGIN, { user: late });
        assert.equal(refused.ok, false, JSON.stringify(refused));
        await refControl(server.url, "POST", `users/${encodeURIComponent(ALICE)}/addresses`, {
          Email: late,
        });
        await refControl(server.url, "POST", "deliver", received(late, 7));
        const lateReload = /addresses reloaded \(3; 1 new or changed\)/;
        for (let i = 0; i < 200 && !lateReload.test(serve!.stderr); i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.match(serve!.stderr, lateReload);
        // Combined mode: the new address opens all the mail, including the message sent to it
        // (built with the new address's key, which reached the build pool with the event).
        let r: { ok: boolean; subjects: string[]; bodyHits?: string[] } = {
          ok: false,
          subjects: [],
        };
        for (let i = 0; i < 100; i++) {
          r = await python(home, conn, TRY_LOGIN, { user: late });
          if (r.ok && r.subjects.some((x) => x.includes("Split late 7"))) break;
          await new Promise((res) => setTimeout(res, 200));
        }
        assert.equal(r.ok, true, JSON.stringify(r));
        assert.ok(r.subjects.some((x) => x.includes("Split late 7")), JSON.stringify(r));
        // The body decrypted: a placeholder for a message whose key was missing would not match.
        assert.equal(r.bodyHits?.length, 1, JSON.stringify(r));
      });
    } finally {
      const running = serve as ServeProcess | undefined;
      const code = running ? await running.stop() : 0;
      await server.close();
      assert.equal(code, 0, running?.stderr);
    }
  }, "bridge_split_");
});
