/**
 * The lock that keeps two `bridge serve` processes off one data directory: `<data>/serve.lock`,
 * created exclusively, holding the owner's PID (and, on Linux, the process start time, so a PID
 * reused by an unrelated process is recognised).
 *
 * A lock whose process is gone (the previous `serve` was killed, the machine rebooted) is stale
 * and taken over. To take it over, the stale file is first renamed aside (only one process can
 * rename a given file), checked to be the stale one it read, and then the lock is created anew
 * exclusively, so two processes starting together over a stale lock cannot both win.
 *
 * @module
 */
import { join } from "node:path";

/** File name of the lock inside the data directory. */
export const LOCK_FILE_NAME = "serve.lock";

/** What the lock file holds. */
export interface LockOwner {
  /** PID of the process holding the lock. */
  pid: number;
  /** When it took the lock (ISO 8601). */
  startedAt: string;
  /** Linux: the process start time in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  procStart?: string;
}

/** The data directory is locked by another live process. */
export class LockHeldError extends Error {
  override name = "LockHeldError";
  /** The owner, as read from the file (undefined when the file could not be parsed). */
  readonly owner: LockOwner | undefined;
  /** The lock file. */
  readonly file: string;

  constructor(file: string, owner: LockOwner | undefined, message: string) {
    super(message);
    this.file = file;
    this.owner = owner;
  }
}

/** A held lock. */
export interface Lock {
  /** The lock file. */
  readonly file: string;
  /** What this process wrote into it. */
  readonly owner: LockOwner;
  /** Whether a stale lock (of a dead process) was replaced; its PID. */
  readonly tookOverFrom: number | undefined;
  /** Removes the lock file if it is still ours. Safe to call more than once. */
  release(): Promise<void>;
  /** The same, synchronously (for a process about to exit at once). */
  releaseSync(): void;
}

/** How to tell whether a process is alive (tests inject one). */
export type ProcessProbe = (owner: LockOwner) => Promise<"alive" | "dead">;

/** Options of {@link acquireLock}. */
export interface AcquireOptions {
  /** Is the process of a lock alive; default {@link probeProcess}. */
  probe?: ProcessProbe;
  /** This process's PID; default `Deno.pid`. */
  pid?: number;
}

/**
 * Takes the lock of `dataDir` (creating the directory, mode 0700, if needed).
 *
 * @throws {LockHeldError} when another live process holds it (the message names its PID and the
 * file), or when the file exists but cannot be understood (the message says to remove it).
 *
 * @example
 * ```ts ignore
 * const lock = await acquireLock(dataDir);
 * try {
 *   // … serve
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export async function acquireLock(dataDir: string, options: AcquireOptions = {}): Promise<Lock> {
  const probe = options.probe ?? probeProcess;
  const pid = options.pid ?? Deno.pid;
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, LOCK_FILE_NAME);
  const owner: LockOwner = { pid, startedAt: new Date().toISOString() };
  const procStart = await linuxProcessStart(pid);
  if (procStart !== undefined) owner.procStart = procStart;
  const text = JSON.stringify(owner) + "\n";

  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(file, text)) {
      return makeLock(file, owner, text, tookOverFrom);
    }
    let existing: string;
    try {
      existing = await Deno.readTextFile(file);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // released meanwhile: try again
      throw err;
    }
    const held = parseOwner(existing);
    if (held === undefined) {
      // A half-written file from a process that is starting right now looks the same for a
      // moment; give it that moment before calling the file foreign.
      await new Promise((r) => setTimeout(r, 100));
      const again = await Deno.readTextFile(file).catch(() => undefined);
      if (again === undefined) continue;
      if (again !== existing && parseOwner(again) !== undefined) continue;
      if (again === "" && await takeOverEmpty(file, pid, attempt)) continue;
      throw new LockHeldError(
        file,
        undefined,
        `the lock file ${file} exists but is not a bridge lock; if no \`bridge serve\` is ` +
          "running on this data directory, remove it and start again",
      );
    }
    if (held.pid !== pid && await probe(held) === "alive") {
      throw new LockHeldError(
        file,
        held,
        `another \`bridge serve\` (PID ${held.pid}, started ${held.startedAt}) is already ` +
          `using the data directory ${dataDir}; stop it first (\`kill ${held.pid}\`), or use ` +
          `another --data-dir (if no such process runs, remove ${file})`,
      );
    }
    // Stale: move it aside, and make sure what was moved is the stale lock read above.
    const aside = `${file}.stale-${pid}-${attempt}`;
    try {
      await Deno.rename(file, aside);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // someone else moved it
      throw err;
    }
    const moved = await Deno.readTextFile(aside).catch(() => "");
    if (moved !== existing) {
      // Another process took the stale lock over between our read and rename: put its lock back.
      await Deno.link(aside, file).catch(() => {});
      await Deno.remove(aside).catch(() => {});
      continue;
    }
    await Deno.remove(aside).catch(() => {});
    tookOverFrom = held.pid;
  }
  throw new LockHeldError(
    file,
    undefined,
    `could not take the lock ${file}: other processes keep changing it; is another ` +
      "`bridge serve` starting on this data directory?",
  );
}

/**
 * Moves aside an empty lock file (what an older build could leave after a power cut: created, its
 * text never written to disk); `false` when it changed meanwhile.
 */
async function takeOverEmpty(file: string, pid: number, attempt: number): Promise<boolean> {
  const aside = `${file}.empty-${pid}-${attempt}`;
  try {
    await Deno.rename(file, aside);
  } catch {
    return true; // gone meanwhile: try again
  }
  const moved = await Deno.readTextFile(aside).catch(() => "");
  if (moved !== "") {
    // Another process wrote its lock in between: put it back.
    await Deno.link(aside, file).catch(() => {});
    await Deno.remove(aside).catch(() => {});
    return false;
  }
  await Deno.remove(aside).catch(() => {});
  return true;
}

/** Reads the owner of the lock of `dataDir`, if there is a lock file. */
export async function readLock(dataDir: string): Promise<LockOwner | undefined> {
  try {
    return parseOwner(await Deno.readTextFile(join(dataDir, LOCK_FILE_NAME)));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Whether the process of a lock is alive: signal 0 (Unix; `EPERM` means alive under another
 * user), and on Linux the start time in `/proc/<pid>/stat` must match the one recorded, so a
 * reused PID is not mistaken for the owner. On Windows a lock is assumed alive.
 */
export async function probeProcess(owner: LockOwner): Promise<"alive" | "dead"> {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return "dead";
  if (Deno.build.os === "windows") return "alive";
  if (Deno.build.os === "linux") {
    // /proc gives the start time that tells a reused PID. Deno lets only --allow-all read it, so
    // first check that our own entry is readable; otherwise ask the kernel below.
    if (await linuxProcessStart(Deno.pid) !== undefined) {
      const now = await linuxProcessStat(owner.pid);
      if (now === undefined) return "dead";
      // A zombie (killed, not yet reaped by its parent) or dead task holds nothing any more.
      if (now.state === "Z" || now.state === "X" || now.state === "x") return "dead";
      return owner.procStart !== undefined && now.start !== owner.procStart ? "dead" : "alive";
    }
  }
  try {
    // Signal 0 checks that the process exists without sending anything (kill(2)).
    Deno.kill(owner.pid, 0 as unknown as Deno.Signal);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "dead";
    // EPERM: alive under another user; no permission to ask: assume alive (the message says
    // how to remove a stale lock by hand).
  }
  return "alive";
}

/**
 * `/proc/<pid>/stat` field 22 (start time), or undefined off Linux or when unreadable (Deno allows
 * reading /proc only with --allow-all).
 */
export async function linuxProcessStart(pid: number): Promise<string | undefined> {
  return (await linuxProcessStat(pid))?.start;
}

/**
 * `/proc/<pid>/stat` fields 3 (state: `R`, `S`, `Z` for a zombie…) and 22 (start time), or
 * undefined off Linux or when unreadable.
 */
async function linuxProcessStat(
  pid: number,
): Promise<{ state: string; start: string } | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Field 2 (the command name) is in parentheses and may contain spaces: split after it.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 3… are rest[0…]: field 3 is rest[0], field 22 is rest[19].
    return { state: rest[0], start: rest[19] };
  } catch {
    return undefined;
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text);
    if (
      v === null || typeof v !== "object" || !Number.isInteger(v.pid) || v.pid <= 0 ||
      typeof v.startedAt !== "string"
    ) {
      return undefined;
    }
    const owner: LockOwner = { pid: v.pid, startedAt: v.startedAt };
    if (typeof v.procStart === "string") owner.procStart = v.procStart;
    return owner;
  } catch {
    return undefined;
  }
}

/**
 * Creates `file` holding `text` unless it exists. The text is written to a file of its own and
 * synced first, then linked into place (atomic, and refused when the name exists): the lock is
 * never seen empty or half-written, also after a power cut (an empty lock left by one kept serve
 * from starting until the user removed it).
 */
async function createExclusive(file: string, text: string): Promise<boolean> {
  const temp = `${file}.new-${Deno.pid}-${crypto.randomUUID()}`;
  const f = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
  try {
    await f.write(new TextEncoder().encode(text));
    await f.sync();
  } finally {
    f.close();
  }
  try {
    await Deno.link(temp, file);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    // A file system without hard links (FAT): create and write in place, synced.
    return await createInPlace(file, text);
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

async function createInPlace(file: string, text: string): Promise<boolean> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(file, { write: true, createNew: true, mode: 0o644 });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    throw err;
  }
  try {
    await f.write(new TextEncoder().encode(text));
    await f.sync();
  } finally {
    f.close();
  }
  return true;
}

function makeLock(
  file: string,
  owner: LockOwner,
  text: string,
  tookOverFrom: number | undefined,
): Lock {
  let released = false;
  return {
    file,
    owner,
    tookOverFrom,
    async release() {
      if (released) return;
      released = true;
      const now = await Deno.readTextFile(file).catch(() => undefined);
      if (now === text) await Deno.remove(file).catch(() => {});
    },
    releaseSync() {
      if (released) return;
      released = true;
      try {
        if (Deno.readTextFileSync(file) === text) Deno.removeSync(file);
      } catch {
        // gone already, or not ours to remove
      }
    },
  };
}
