/**
 * A message an earlier run of serve indexed as a failed build (the "Message failed to build"
 * placeholder, e.g. left by a build worker that stopped) is downloaded and built again when serve
 * next starts: within a poll the placeholder is expunged and the real message takes a new UID
 * (a UID's bytes never change), the recorded failure goes, and the log says how many were
 * rebuilt. Run against the reference server with python3 imaplib.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { withClientFixture } from "./_client_fixture.ts";
import { eventually } from "./_eventually.ts";
import { IMAPLIB_HELPERS } from "./_imaplib_helpers.ts";

const PLACEHOLDER = '(NIL "Message failed to build" NIL NIL NIL NIL NIL NIL NIL NIL)';

/** INBOX as `UID → subject` (python3 imaplib, ENVELOPE). */
const SUBJECTS = IMAPLIB_HELPERS + String.raw`
import re
m = imaplib.IMAP4("127.0.0.1", A["port"])
m.login(A["user"], A["password"])
ok(*m.select("INBOX", readonly=True))
out = {}
for item in ok(*m.uid("FETCH", "1:*", "(UID ENVELOPE)")):
    line = "".join(s(item)) if isinstance(item, tuple) else s(item)
    mm = re.search(r'UID (\d+) ENVELOPE \((NIL|"[^"]*"|\{\d+\}) (NIL|"((?:[^"\\]|\\.)*)")', line)
    if mm:
        out[mm.group(1)] = mm.group(4)
m.logout()
print(json.dumps(out))
`;

Deno.test("serve: a message that failed to build in an earlier run is rebuilt at the next start", async () => {
  await withClientFixture("bridge-failed-retry-", "retry@example.test", 6, async (f) => {
    const subjects = () => f.imaplib<Record<string, string | null>>(SUBJECTS);
    await f.start();
    const before = await subjects();
    await f.stop();

    // What a build worker that stopped leaves: the message's row as a failed build with its
    // placeholder, and the failure recorded.
    const [uid, subject] = Object.entries(before).at(-1)!;
    assert.ok(subject, "the newest INBOX message has a subject");
    const db = new DatabaseSync(await f.indexPath());
    try {
      const row = db.prepare(
        `SELECT mm.message_id AS id, m.remote_id AS remote FROM mailbox_messages mm
           JOIN mailboxes b ON b.id = mm.mailbox_id JOIN messages m ON m.id = mm.message_id
          WHERE b.name = 'INBOX' AND mm.uid = ?`,
      ).get(Number(uid)) as { id: number; remote: string };
      db.prepare(
        `UPDATE messages SET build_status = 'failed', build_error = 'the build worker stopped',
           envelope = ? WHERE id = ?`,
      ).run(PLACEHOLDER, row.id);
      db.prepare(
        "INSERT INTO sync_failures (remote_id, reason, failed_at) VALUES (?, ?, 0)",
      ).run(row.remote, "the build worker stopped");
    } finally {
      db.close();
    }

    await f.start();
    await eventually(
      async () => {
        const now = await subjects();
        assert.equal(now[uid], undefined, `UID ${uid} (the placeholder) is expunged`);
        const added = Object.entries(now).filter(([u]) => !(u in before));
        assert.deepEqual(added.map(([, s]) => s), [subject]);
        assert.ok(Number(added[0][0]) > Number(uid));
      },
      30_000,
      300,
    );
    assert.match(
      f.serveLog,
      /of 1 message\(s\) that failed to build in an earlier run, 1 were rebuilt; 0 still fail/,
    );
    await f.stop();
    const db2 = new DatabaseSync(await f.indexPath());
    try {
      const n = db2.prepare("SELECT count(*) AS n FROM sync_failures").get() as { n: number };
      assert.equal(n.n, 0);
    } finally {
      db2.close();
    }
  });
});
