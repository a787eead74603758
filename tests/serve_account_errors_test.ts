/**
 * Account conditions that waiting does not heal are reported once, with what to do, instead of
 * being retried every minute: a damaged index, a session issued by another server.
 */
import assert from "node:assert/strict";
import { withClientFixture } from "./_client_fixture.ts";
import type { ServeProcess } from "./_serve_process.ts";
import { openKeyStore, Vault } from "../src/vault/mod.ts";

/** Waits for the account's `error` state and checks it is not retried. */
async function permanentError(serve: ServeProcess): Promise<string> {
  const event = await serve.until(
    "account error",
    () => serve.events.find((e) => e.event === "account" && e.state === "error"),
  );
  const reason = String(event.reason);
  assert.doesNotMatch(reason, /trying again/);
  return reason;
}

Deno.test({
  name: "serve: a damaged index is reported once with the file and the way out",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_damaged_", "damaged@example.test", 20, async (f) => {
    await f.start();
    await f.stop();
    const index = await f.indexPath();
    const size = (await Deno.stat(index)).size;
    await Deno.truncate(index, Math.floor(size / 2));
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(index + suffix).catch(() => {});
    const serve = f.spawn();
    const reason = await permanentError(serve);
    assert.ok(reason.includes(`the account's index ${index} is damaged`), reason);
    assert.match(reason, /move the file aside .*\.damaged/);
    // The file is left as it was (a person decides), and serve keeps running.
    assert.equal((await Deno.stat(index)).size, Math.floor(size / 2));
    assert.equal(
      serve.events.filter((e) => e.event === "account" && e.state === "error").length,
      1,
    );
    await f.stop();

    // The same while the API cannot be reached: serving the local mail finds the damage, and
    // that is what is said, once (not "cannot be reached, trying again").
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    listener.close();
    const offline = f.spawn("--api-url", deadUrl);
    const offlineReason = await permanentError(offline);
    assert.ok(offlineReason.includes(`the account's index ${index} is damaged`), offlineReason);
  });
});

Deno.test({
  name: "serve: an account signed in at another server is not sent there",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_elsewhere_", "elsewhere@example.test", 3, async (f) => {
    const serve = f.spawn("--api-url", "https://mail-api.example.invalid");
    const reason = await permanentError(serve);
    assert.match(
      reason,
      /^elsewhere@example\.test was signed in at http:\/\/127\.0\.0\.1:\d+; its session is not sent to https:\/\/mail-api\.example\.invalid/,
    );
  });
});

Deno.test({
  name: "serve: an account from before servers were recorded records the one that renews it",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_unrecorded_", "unrecorded@example.test", 3, async (f) => {
    const dataDir = f.dataArgs[f.dataArgs.indexOf("--data-dir") + 1];
    const open = async () => Vault.open(dataDir, await openKeyStore(dataDir, { choice: "file" }));
    const before = await open();
    before.setApiUrl(f.email, ""); // as a vault written before the API URL was kept
    await before.save();
    await f.start();
    await f.stop();
    assert.equal((await open()).getAccount(f.email)!.apiUrl, f.server.url);
    // From then on the session goes to that server only.
    const serve = f.spawn("--api-url", "https://mail-api.example.invalid");
    assert.match(await permanentError(serve), /its session is not sent to/);
  });
});

Deno.test({
  name: "serve: a new index does not read the literal cache of the one moved aside",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_new_index_", "newindex@example.test", 4, async (f) => {
    await f.start();
    await f.stop();
    // What the damaged-index message tells the user to do.
    const index = await f.indexPath();
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.rename(index + suffix, `${index}.damaged${suffix}`).catch(() => {});
    }
    await f.start();
    // The new index numbers messages from 1 again: the old cache (keyed by those numbers) went
    // aside instead of serving its entries as the new messages' bodies.
    const names: string[] = [];
    const walk = async (dir: string) => {
      for await (const e of Deno.readDir(dir)) {
        names.push(e.name);
        if (e.isDirectory) await walk(`${dir}/${e.name}`);
      }
    };
    await walk(`${f.home}/bridge-data`);
    assert.ok(names.some((n) => /\.before-/.test(n)), names.join(" "));
    assert.match(f.serveLog, /the literal cache of the earlier one was moved to/);
  });
});
