import assert from "node:assert/strict";
import { type Db, MemoryDb, SqliteDb } from "./db.ts";

function exercise(db: Db) {
  db.put("m", "b", { n: 1 });
  db.put("m", "a", { n: 2 });
  db.put("m", "b", { n: 3 });
  assert.deepEqual(db.get("m", "b"), { n: 3 });
  assert.deepEqual(db.list("m"), [{ n: 3 }, { n: 2 }]);
  db.delete("m", "b");
  assert.equal(db.get("m", "b"), undefined);
  assert.throws(() =>
    db.transaction(() => {
      db.put("m", "c", { n: 4 });
      throw new Error("boom");
    })
  );
}

Deno.test("MemoryDb stores, replaces, lists in order and deletes", () => {
  exercise(new MemoryDb());
});

Deno.test("SqliteDb persists across reopen and rolls back a failed transaction", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const db = new SqliteDb(dir);
    exercise(db);
    assert.equal(db.get("m", "c"), undefined);
    db.close();
    const again = new SqliteDb(dir);
    assert.deepEqual(again.list("m"), [{ n: 2 }]);
    again.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
