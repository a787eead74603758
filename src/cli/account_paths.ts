/**
 * Where an account's local files live inside the data directory:
 *
 * ```
 * <data dir>/accounts/<user ID>/index.sqlite   the local message index (src/store)
 * <data dir>/accounts/<user ID>/cache/         the encrypted message cache (src/store/literal_cache)
 * ```
 *
 * or, when `paths.cache_dir` is set, the cache in `<cache dir>/<user ID>/`.
 *
 * Everything an account owns is under `<data dir>/accounts/<user ID>/`, so `bridge logout` removes
 * that one folder. The user ID is the API's opaque ID; it is checked so that it can never name a
 * path outside `accounts/`.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";

/** Name of the folder under the data directory that holds one folder per account. */
export const ACCOUNTS_DIR_NAME = "accounts";

/** File name of an account's message index. */
export const INDEX_FILE_NAME = "index.sqlite";

/** Folder name of an account's encrypted message cache. */
export const CACHE_DIR_NAME = "cache";

/** The local paths of one account. */
export interface AccountPaths {
  /** `<data>/accounts/<userID>`: everything the account owns. */
  root: string;
  /** `<data>/accounts/<userID>/index.sqlite`. */
  index: string;
  /** `<data>/accounts/<userID>/cache`. */
  cache: string;
}

/**
 * The paths of the account with Proton user ID `userId` under `dataDir` (absolute).
 *
 * @throws {RangeError} when `userId` is empty, `.`/`..`, or holds a path separator or NUL, so it
 * cannot be a single folder name.
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * const p = accountPaths("/data", "u1");
 * assert.equal(p.index, "/data/accounts/u1/index.sqlite");
 * ```
 */
export function accountPaths(dataDir: string, userId: string, cacheDir = ""): AccountPaths {
  if (userId === "" || userId === "." || userId === ".." || /[/\\\0]/.test(userId)) {
    throw new RangeError(`User ID "${userId}" cannot be used as a folder name`);
  }
  const root = join(resolve(dataDir), ACCOUNTS_DIR_NAME, userId);
  return {
    root,
    index: join(root, INDEX_FILE_NAME),
    cache: cacheDir === "" ? join(root, CACHE_DIR_NAME) : join(resolve(cacheDir), userId),
  };
}

/**
 * Deletes everything the account with `userId` keeps under `dataDir` (its index and cache).
 * Resolves to whether there was anything to delete.
 *
 * @throws {RangeError} for an unusable user ID (see {@link accountPaths}).
 * @throws {Deno.errors.PermissionDenied} (or another file system error) when removal fails.
 */
export async function removeAccountFiles(
  dataDir: string,
  userId: string,
  cacheDir = "",
): Promise<boolean> {
  const { root, cache } = accountPaths(dataDir, userId, cacheDir);
  let removed = false;
  const dirs = cache.startsWith(root) ? [root] : [root, cache];
  // And the caches a new index moved aside (`<cache>.before-<time>`), beside the cache.
  if (!cache.startsWith(root)) {
    const parent = dirname(cache);
    const prefix = `${basename(cache)}.before-`;
    try {
      for await (const e of Deno.readDir(parent)) {
        if (e.name.startsWith(prefix)) dirs.push(join(parent, e.name));
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  for (const dir of dirs) {
    try {
      await Deno.remove(dir, { recursive: true });
      removed = true;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return removed;
}
