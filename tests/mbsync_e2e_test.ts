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
 * - Two-way (`Create Both`, `Expunge Both`): a file moved from the INBOX Maildir to Archive's is a
 *   move on the server, not a second message (mbsync uploads it with an `X-TUID` field added),
 *   and the next run changes nothing.
 *
 * `.ci/run` installs isync; without `mbsync` on the PATH the test is skipped with a note.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { eventually } from "./_eventually.ts";
import { refMessages } from "./_ref_control.ts";
import {
  installed,
  maildirFolders,
  type MirroredFolder,
  mirrorScenario,
  runClient,
  withClientFixture,
} from "./_client_fixture.ts";

const MBSYNC = installed("mbsync", "isync", "mbsync_e2e_test");

/** mbsync's configuration: every mailbox of bridge into a Maildir under `dir`. */
function mbsyncrc(
  dir: string,
  port: number,
  user: string,
  password: string,
  twoWay = false,
): string {
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
    twoWay ? "Create Both" : "Create Near",
    "Sync All",
    twoWay ? "Expunge Both" : "Expunge None",
    "SyncState *",
    "",
  ].join("\n");
}

/** Every folder mbsync mirrored under `mail`: UIDs and UIDVALIDITY from its state file. */
function maildir(mail: string): Record<string, MirroredFolder> {
  const out: Record<string, MirroredFolder> = {};
  for (const { name, dir, files } of maildirFolders(mail)) {
    const header = new Map<string, string>();
    const uids: number[] = [];
    for (const line of Deno.readTextFileSync(join(dir, ".mbsyncstate")).split("\n")) {
      const h = /^([A-Za-z]+) (\S+)$/.exec(line);
      if (h) header.set(h[1], h[2]);
      // "<far UID> <near UID> <flags>": a pair mbsync has made.
      const e = /^(\d+) (\d+) /.exec(line + " ");
      if (e && Number(e[1]) > 0 && Number(e[2]) > 0) uids.push(Number(e[1]));
    }
    out[name] = {
      files,
      uids: uids.sort((a, b) => a - b),
      uidvalidity: header.get("FarUidValidity") ?? "",
    };
  }
  return out;
}

Deno.test({
  name: "mbsync mirrors every mailbox with bridge's UIDs, pulls new mail, pushes flags, and " +
    "finds the same UIDVALIDITY after a restart",
  ignore: !MBSYNC,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_mbsync_e2e_", "mira@example.test", 30, async (f) => {
    const home = f.home;
    const mail = join(home, "mail");
    await Deno.mkdir(mail, { recursive: true });
    const config = join(home, "mbsyncrc");
    await mirrorScenario(f, {
      name: "mbsync",
      mail,
      async sync(port) {
        await Deno.writeTextFile(config, mbsyncrc(home, port, f.imap.username, f.imap.password));
        await runClient("mbsync", ["-c", config, "-a"]);
      },
      folders: () => maildir(mail),
    });
  });
});

Deno.test({
  name: "mbsync: a file moved between Maildir folders is a move on the server, not a copy",
  ignore: !MBSYNC,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_mbsync_move_", "mo@example.test", 12, async (f) => {
    const home = f.home;
    const mail = join(home, "mail");
    await Deno.mkdir(mail, { recursive: true });
    const config = join(home, "mbsyncrc");
    await f.start();
    await Deno.writeTextFile(
      config,
      mbsyncrc(home, f.port, f.imap.username, f.imap.password, true),
    );
    const sync = () => runClient("mbsync", ["-c", config, "-a"]);
    await sync();
    const before = await refMessages(f.server.url, f.email);
    const inbox = join(mail, "INBOX", "cur");
    const file = [...Deno.readDirSync(inbox)].map((e) => e.name).sort()[0];
    const id = /^X-Pm-Internal-Id: (\S+)/m.exec(Deno.readTextFileSync(join(inbox, file)))?.[1];
    assert.ok(id, file);
    // As a mail client moves a file: the UID part of the name stays behind.
    await Deno.rename(
      join(inbox, file),
      join(mail, "Archive", "cur", file.replace(/,U=\d+/, "")),
    );
    await sync();
    const after = await refMessages(f.server.url, f.email);
    assert.equal(after.length, before.length, "no second message on the server");
    const moved = after.find((m) => m.ID === id)!;
    assert.ok(moved.LabelIDs.includes("6"), `in Archive: ${moved.LabelIDs}`);
    assert.ok(!moved.LabelIDs.includes("0"), `out of the Inbox: ${moved.LabelIDs}`);
    // The next runs find nothing to do: one file for it in Archive, none in INBOX.
    await eventually(async () => {
      await sync();
      const archived = [...Deno.readDirSync(join(mail, "Archive", "cur"))]
        .filter((e) => Deno.readTextFileSync(join(mail, "Archive", "cur", e.name)).includes(id));
      assert.equal(archived.length, 1);
    }, 10_000);
    const inboxNow = [...Deno.readDirSync(inbox)]
      .filter((e) => Deno.readTextFileSync(join(inbox, e.name)).includes(id));
    assert.equal(inboxNow.length, 0);
    assert.equal((await refMessages(f.server.url, f.email)).length, before.length);
  });
});
