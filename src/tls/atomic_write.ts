/**
 * Crash-safe file replacement for the certificate files: a temporary file beside the target with
 * the final mode, flushed, then renamed over the target.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/** Writes `text` to `path` atomically with permission bits `mode` (ignored on Windows). */
export async function atomicWriteText(path: string, text: string, mode: number): Promise<void> {
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(6)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const temp = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  const data = new TextEncoder().encode(text);
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode });
    try {
      let written = 0;
      while (written < data.length) written += await file.write(data.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    if (Deno.build.os !== "windows") await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}
