/**
 * offlineimap against `bridge serve`, backed by the reference API server (the other Maildir
 * mirroring client users run; see `mbsync_e2e_test.ts` for the first).
 *
 * - A first run pulls every mailbox: per folder, the UIDs offlineimap writes into the file names
 *   (`,U=<uid>`) are exactly the UIDs bridge serves (imaplib `UID SEARCH ALL`), and the
 *   UIDVALIDITY it records is bridge's.
 * - Mail delivered through the reference server's controls is pulled by the next run as one new
 *   file; nothing already pulled is renamed, re-pulled or removed.
 * - A flag set in the Maildir (`F`) reaches the API as Starred.
 * - After a SIGTERM and restart of `bridge serve` (new port) offlineimap finds the same UIDVALIDITY
 *   (it reports a "UID validity problem" otherwise), reports no error and changes nothing.
 *
 * `.ci/run` installs offlineimap3; without `offlineimap` on the PATH the test is skipped with a note.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  installed,
  maildirFolders,
  type MirroredFolder,
  mirrorScenario,
  runClient,
  withClientFixture,
} from "./_client_fixture.ts";

const OFFLINEIMAP = installed("offlineimap", "offlineimap3", "offlineimap_e2e_test");

/** offlineimap's configuration: every folder of bridge into a Maildir under `dir`. */
function offlineimaprc(dir: string, port: number, user: string, password: string): string {
  return [
    "[general]",
    "accounts = bridge",
    `metadata = ${dir}/offlineimap`,
    "ui = basic",
    "",
    "[Account bridge]",
    "localrepository = local",
    "remoterepository = remote",
    "",
    "[Repository local]",
    "type = Maildir",
    `localfolders = ${dir}/mail`,
    "sep = /",
    "",
    "[Repository remote]",
    "type = IMAP",
    "remotehost = 127.0.0.1",
    `remoteport = ${port}`,
    `remoteuser = ${user}`,
    `remotepass = ${password}`,
    "ssl = no",
    "starttls = no",
    "",
  ].join("\n");
}

/**
 * Every folder offlineimap mirrored under `mail`: the UIDs its file names carry (`,U=<uid>`) and
 * the UIDVALIDITY it recorded (its status names use `.` for `/`).
 */
function maildir(home: string, mail: string): Record<string, MirroredFolder> {
  const out: Record<string, MirroredFolder> = {};
  for (const { name, files } of maildirFolders(mail)) {
    const uids = files.map((f) => Number(/,U=(\d+)/.exec(f)?.[1] ?? NaN));
    const validity = join(
      home,
      "offlineimap",
      "Repository-remote",
      "FolderValidity",
      name.replaceAll("/", "."),
    );
    out[name] = {
      files,
      uids: uids.sort((a, b) => a - b),
      uidvalidity: Deno.readTextFileSync(validity).trim(),
    };
  }
  return out;
}

Deno.test({
  name: "offlineimap mirrors every folder with bridge's UIDs, pulls new mail, pushes flags, and " +
    "finds the same UIDVALIDITY after a restart",
  ignore: !OFFLINEIMAP,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_offlineimap_e2e_", "olaf@example.test", 30, async (f) => {
    const home = f.home;
    const mail = join(home, "mail");
    const config = join(home, "offlineimaprc");
    await mirrorScenario(f, {
      name: "offlineimap",
      mail,
      async sync(port) {
        await Deno.writeTextFile(
          config,
          offlineimaprc(home, port, f.imap.username, f.imap.password),
        );
        const out = await runClient("offlineimap", ["-c", config, "-o", "-u", "basic"]);
        // offlineimap reports some problems (a UIDVALIDITY change among them) on its output
        // and still exits 0.
        assert.doesNotMatch(out, /ERROR|validity problem/i, out);
      },
      folders: () => maildir(home, mail),
    });
  });
});
