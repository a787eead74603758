/**
 * Failures of the machine's storage rather than of the data: a full disk, an I/O error, a
 * database another process holds locked, a file system gone read-only. They pass when the
 * condition does, so the work that met them is retried as it is — never skipped or applied in
 * part, which would lose what it carried.
 *
 * @module
 */

const STORAGE_FAILURE = new RegExp(
  [
    "database or disk is full",
    "disk I/O error",
    "database is locked",
    "database table is locked",
    "attempt to write a readonly database",
    "unable to open database file",
    "No space left on device",
    "Read-only file system",
    "\\bENOSPC\\b",
    "\\bEIO\\b",
    "\\bEROFS\\b",
    "SQLITE_(?:FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN)",
  ].join("|"),
  "i",
);

/** Whether `error` (SQLite's, or a file operation's) is a failure of storage, not of the data. */
export function isStorageFailure(error: unknown): boolean {
  if (error instanceof Deno.errors.NotCapable) return false;
  return error instanceof Error && STORAGE_FAILURE.test(error.message);
}
