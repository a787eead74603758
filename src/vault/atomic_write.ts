/**
 * Crash-safe file replacement: write a temporary file beside the target with the final mode, flush
 * it to disk, rename it over the target, then flush the directory. A reader (or a crash) sees the
 * old file or the new one, never a mix.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` to `path` atomically with permission bits `mode` (ignored on Windows).
 *
 * @example
 * ```ts ignore
 * await atomicWrite("/tmp/x/vault.enc", bytes, 0o600);
 * ```
 */
export async function atomicWrite(path: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(6)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const temp = join(dir, `.${basename(path)}.${suffix}.tmp`);
  const file = await Deno.open(temp, { write: true, createNew: true, mode });
  try {
    try {
      let written = 0;
      while (written < data.length) written += await file.write(data.subarray(written));
      // The umask may have cleared bits of `mode` at creation; make the mode exact.
      if (Deno.build.os !== "windows") await Deno.chmod(temp, mode);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

/** Flushes a directory entry change (the rename) to disk; best effort where unsupported. */
async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  }
}
