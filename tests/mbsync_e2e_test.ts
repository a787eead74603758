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
import { join } from "node:path";
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
