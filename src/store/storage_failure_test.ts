import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { isStorageFailure } from "./storage_failure.ts";

Deno.test("isStorageFailure: full disk, I/O errors, locks and read-only files; not bad data", () => {
  for (
    const message of [
      "database or disk is full",
      "disk I/O error",
      "database is locked",
      "attempt to write a readonly database",
      "No space left on device (os error 28)",
    ]
  ) {
    assert.equal(isStorageFailure(new Error(message)), true, message);
  }
  for (
    const message of [
      "UNIQUE constraint failed: mailboxes.name",
      'Mailbox "Folders/x" already exists',
      "database disk image is malformed",
    ]
  ) {
    assert.equal(isStorageFailure(new Error(message)), false, message);
  }
  assert.equal(isStorageFailure("database is locked"), false, "only errors");
});

Deno.test("isStorageFailure: what node:sqlite throws for a database another connection holds", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const a = new DatabaseSync(`${dir}/x.sqlite`);
    const b = new DatabaseSync(`${dir}/x.sqlite`);
    a.exec("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);");
    let caught: unknown;
    try {
      b.exec("BEGIN IMMEDIATE");
    } catch (error) {
      caught = error;
    }
    assert.equal(isStorageFailure(caught), true, String(caught));
    a.exec("ROLLBACK");
    a.close();
    b.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
