/**
 * ARCHITECTURE invariant 3 across a builder change: a message whose literal is missing from the
 * cache is rebuilt from the API, and served under its UID only when the rebuild is the literal
 * its UID showed (the SHA-256 the index keeps, or, for a message indexed before digests were kept,
 * the size and FETCH data the index holds). Otherwise the message is replaced: the FETCH ends
 * `NO [EXPUNGEISSUED]`, the old UID is expunged, the message comes back under a new UID, and every
 * other UID keeps its bytes. Run against the reference server with python3 imaplib, after
 * deleting the whole literal cache and making the index look written by other builders.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { CACHE_DIR_NAME } from "../src/cli/account_paths.ts";
import { withClientFixture } from "./_client_fixture.ts";
import { eventually } from "./_eventually.ts";
import { IMAPLIB_HELPERS } from "./_imaplib_helpers.ts";

/**
 * INBOX: every UID's RFC822.SIZE and SHA-256 of BODY.PEEK[], how the FETCH of all ended, and,
 * when it ended `NO`, the UIDs after a NOOP and the bytes of UIDs that are new.
 */
const BODIES = IMAPLIB_HELPERS + String.raw`
import hashlib, re
m = imaplib.IMAP4("127.0.0.1", A["port"])
m.login(A["user"], A["password"])
ok(*m.select("INBOX"))
def bodies(uids):
    typ, data = m.uid("FETCH", uids, "(UID RFC822.SIZE BODY.PEEK[])")
    text = ""
    if typ != "OK":
        # imaplib answers a NO with its text and leaves the FETCH responses untagged.
        text = s(data[-1])
        data = m.untagged_responses.pop("FETCH", [])
    out = {}
    for item in data:
        if isinstance(item, tuple):
            mm = re.search(rb"UID (\d+) RFC822.SIZE (\d+)", item[0])
            out[mm.group(1).decode()] = {
                "size": int(mm.group(2)),
                "length": len(item[1]),
                "sha": hashlib.sha256(item[1]).hexdigest(),
            }
    return typ, text, out
typ, text, out = bodies("1:*")
res = {"typ": typ, "text": text, "bodies": out}
if typ != "OK":
    ok(*m.noop())
    uids = s(ok(*m.uid("SEARCH", "ALL"))[0]).split()
    res["after"] = uids
    new = [u for u in uids if u not in out]
    if new:
        res["new"] = bodies(",".join(new))[2]
    typ2, _, again = bodies("1:*")
    res["again"] = {"typ": typ2, "bodies": again}
m.logout()
print(json.dumps(res))
`;

interface Body {
  size: number;
  length: number;
  sha: string;
}
interface Result {
  typ: string;
  text: string;
  bodies: Record<string, Body>;
  after?: string[];
  new?: Record<string, Body>;
  again?: { typ: string; bodies: Record<string, Body> };
}

Deno.test("serve: a literal rebuilt with other bytes is a new UID, never new bytes under an old one", async () => {
  await withClientFixture("bridge-literal-rebuild-", "rebuild@example.test", 6, async (f) => {
    const fetchAll = () => f.imaplib<Result>(BODIES);
    await f.start();
    const before = await fetchAll();
    assert.equal(before.typ, "OK");
    const uids = Object.keys(before.bodies).map(Number).sort((a, b) => a - b);
    assert.ok(uids.length >= 3, "INBOX has messages");
    for (const b of Object.values(before.bodies)) assert.equal(b.size, b.length);
    await f.stop();

    // The index as earlier builders left it, and the cache lost: `same` indexed before digests
    // were kept (its literal rebuilds the same), `digest` with another builder's digest, `size`
    // before digests and one header line shorter (ba5875f's 8bit line, say).
    const [size, digest, same] = uids.slice(-3);
    const index = await f.indexPath();
    const db = new DatabaseSync(index);
    const messageOf = (uid: number) => inboxMessage(db, uid);
    try {
      assert.equal(messageOf(same).sha?.length, 32, "the sync records the literal's digest");
      db.prepare("UPDATE messages SET literal_sha256 = NULL WHERE id = ?").run(messageOf(same).id);
      db.prepare("UPDATE messages SET literal_sha256 = zeroblob(32) WHERE id = ?")
        .run(messageOf(digest).id);
      const shorter = messageOf(size).id;
      db.prepare("UPDATE messages SET literal_sha256 = NULL, size = size - 33 WHERE id = ?")
        .run(shorter);
      db.prepare("UPDATE mailbox_messages SET size = size - 33 WHERE message_id = ?").run(shorter);
    } finally {
      db.close();
    }
    await Deno.remove(join(dirname(index), CACHE_DIR_NAME), { recursive: true });

    await f.start();
    const after = await fetchAll();
    assert.equal(after.typ, "NO", "the FETCH reports the replaced messages");
    assert.match(after.text, /\[EXPUNGEISSUED\]/);
    const kept = uids.filter((u) => u !== size && u !== digest);
    assert.deepEqual(Object.keys(after.bodies).map(Number).sort((a, b) => a - b), kept);
    for (const u of kept) {
      assert.deepEqual(after.bodies[u], before.bodies[u], `UID ${u} rebuilt to the same bytes`);
    }
    // After the NOOP: the two old UIDs are gone, the messages are back under new ones.
    assert.deepEqual(after.after!.filter((u) => u === String(size) || u === String(digest)), []);
    const added = Object.entries(after.new ?? {}).sort(([a], [b]) => Number(a) - Number(b));
    assert.equal(added.length, 2);
    for (const [uid, body] of added) {
      assert.ok(Number(uid) > uids.at(-1)!);
      assert.equal(body.size, body.length, "RFC822.SIZE is the served literal's length");
    }
    // The builder did not really change: the same bytes as before, under the new UIDs.
    assert.deepEqual(
      added.map(([, b]) => b.sha).sort(),
      [before.bodies[size].sha, before.bodies[digest].sha].sort(),
    );
    // Nothing is replaced twice: a second FETCH of all is complete and OK.
    assert.equal(after.again!.typ, "OK");
    for (const [uid, body] of added) assert.deepEqual(after.again!.bodies[uid], body);
    assert.equal(f.serveLog.match(/replaced under new UIDs/g)?.length, 2);
    await f.stop();
    // The untouched old row got its digest once its rebuild proved the same.
    const db2 = new DatabaseSync(index);
    try {
      assert.equal(inboxMessage(db2, same).sha?.length, 32);
      // Once more, for SEARCH: another builder's digest on `same`, and the cache lost again.
      db2.prepare("UPDATE messages SET literal_sha256 = zeroblob(32) WHERE id = ?")
        .run(inboxMessage(db2, same).id);
    } finally {
      db2.close();
    }
    await Deno.remove(join(dirname(index), CACHE_DIR_NAME), { recursive: true });
    await f.start();
    const searched = await f.imaplib<{ first: string[]; again: string[] }>(SEARCH_BODY);
    // The body search read every literal: the replaced one is left out and said so; after the
    // NOOP its new UID is found.
    assert.equal(searched.first[0], "NO");
    assert.match(searched.first[1], /\[EXPUNGEISSUED\]/);
    const newest = Number(searched.again.at(-1));
    assert.equal(searched.again.includes(String(same)), false);
    assert.ok(newest > Number(added.at(-1)![0]), JSON.stringify(searched));
    await f.stop();

    // An index from before digests, with its cache: serve records them in the background.
    const db3 = new DatabaseSync(index);
    db3.exec("UPDATE messages SET literal_sha256 = NULL");
    db3.close();
    await f.start();
    await eventually(
      () => {
        const db4 = new DatabaseSync(index, { readOnly: true });
        try {
          // INBOX's literals are cached (the searches above read them all).
          for (const uid of searched.again) {
            assert.equal(inboxMessage(db4, Number(uid)).sha?.length, 32, `UID ${uid}`);
          }
        } finally {
          db4.close();
        }
        return Promise.resolve();
      },
      20_000,
      200,
    );
    await f.stop();
  });
});

/** `UID SEARCH BODY ""` (every message; reads every literal), NOOP, the same again. */
const SEARCH_BODY = IMAPLIB_HELPERS + String.raw`
m = imaplib.IMAP4("127.0.0.1", A["port"])
m.login(A["user"], A["password"])
ok(*m.select("INBOX"))
typ, data = m.uid("SEARCH", "BODY", '""')
first = [typ, s(data[-1])]
# imaplib keeps the untagged SEARCH of a command that ended NO; the next would return it.
m.untagged_responses.clear()
ok(*m.noop())
again = s(ok(*m.uid("SEARCH", "BODY", '""'))[0]).split()
m.logout()
print(json.dumps({"first": first, "again": again}))
`;

/** The internal ID and literal digest of an INBOX UID, from the index file. */
function inboxMessage(db: DatabaseSync, uid: number): { id: number; sha: Uint8Array | null } {
  return db.prepare(
    `SELECT mm.message_id AS id, m.literal_sha256 AS sha FROM mailbox_messages mm
       JOIN mailboxes b ON b.id = mm.mailbox_id JOIN messages m ON m.id = mm.message_id
      WHERE b.name = 'INBOX' AND mm.uid = ?`,
  ).get(uid) as { id: number; sha: Uint8Array | null };
}
