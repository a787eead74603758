/**
 * A first sync held up by the server says so at once: a download answered 503 with `Retry-After`
 * makes the account's reason "waiting for the server" while the API client waits to retry it
 * (it used to appear only once the client's own retries were used up: tens of seconds at rate 0
 * without a word), and the reason goes once the sync moves again.
 *
 * @module
 */
import assert from "node:assert/strict";
import { withClientFixture } from "./_client_fixture.ts";
import { refControl } from "./_ref_control.ts";

Deno.test({
  name: "serve: a download refused for now shows 'waiting for the server' while it waits",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withClientFixture("bridge_sync_wait_", "wait@example.test", 6, async (f) => {
    // The first message download is refused with a 6 s Retry-After; its retry succeeds.
    await refControl(f.server.url, "POST", "faults", {
      Method: "GET",
      Path: "/mail/v4/messages/:id",
      Status: 503,
      RetryAfter: 6,
      Count: 1,
    });
    const serve = f.spawn();
    const waiting = await serve.until(
      "an account event saying it waits for the server",
      () =>
        serve.events.find((e) =>
          e.event === "account" && e.state === "syncing" &&
          /waiting for the server/.test(String(e.reason))
        ),
      20_000,
    );
    assert.match(String(waiting.reason), /HTTP 503/);
    // Said before the retry, not after it: nothing was synced yet.
    assert.equal(serve.events.some((e) => e.event === "ready"), false);
    await serve.waitFor("ready", { timeoutMs: 60_000 });
    const last = serve.events.filter((e) => e.event === "account").at(-1)!;
    assert.equal(last.state, "ready", JSON.stringify(last));
    assert.equal(last.reason, null);
  });
});
