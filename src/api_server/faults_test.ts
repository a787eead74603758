import assert from "node:assert/strict";
import { Faults, pathMatches } from "./faults.ts";

const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://x${path}`, { headers });

Deno.test("pathMatches: prefixes, patterns, exact", () => {
  assert.ok(pathMatches("/mail/v4", "/mail/v4/messages"));
  assert.ok(pathMatches("/mail/v4/", "/mail/v4"));
  assert.ok(!pathMatches("/mail/v4", "/mail/v40"));
  assert.ok(pathMatches("/mail/v4/messages/:id", "/mail/v4/messages/abc"));
  assert.ok(!pathMatches("/mail/v4/messages/:id", "/mail/v4/messages"));
  assert.ok(pathMatches("/auth/v4", "/auth/v4", true));
  assert.ok(!pathMatches("/auth/v4", "/auth/v4/info", true));
  assert.ok(pathMatches("/", "/anything"));
});

Deno.test("Faults: status with Retry-After and Count", async () => {
  const f = new Faults();
  f.add({ Path: "/core/v4/users", Status: 429, RetryAfter: 3, Count: 2 });
  for (let i = 0; i < 2; i++) {
    const r = await f.apply(get("/core/v4/users"), "/core/v4/users");
    assert.ok(r);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get("Retry-After"), "3");
    assert.equal((await r.json()).Code, 2001);
  }
  assert.equal(await f.apply(get("/core/v4/users"), "/core/v4/users"), undefined);
  assert.deepEqual(f.list(), []);
});

Deno.test("Faults: method and path filters, error rate, latency, clear", async () => {
  const f = new Faults();
  f.add({ Method: "PUT", Path: "/mail/v4/messages/:id", Status: 503 });
  assert.equal(await f.apply(get("/mail/v4/messages/x"), "/mail/v4/messages/x"), undefined);
  const put = new Request("http://x/mail/v4/messages/x", { method: "PUT" });
  assert.equal((await f.apply(put, "/mail/v4/messages/x"))?.status, 503);
  f.clear();
  const id = f.add({ ErrorRate: 0.5, Code: 2500 });
  f.random = () => 0.7;
  assert.equal(await f.apply(get("/a"), "/a"), undefined);
  f.random = () => 0.2;
  const r = await f.apply(get("/a"), "/a");
  assert.equal(r?.status, 500);
  assert.equal((await r!.json()).Code, 2500);
  f.clear(id);
  f.add({ LatencyMs: 60, Count: 1 });
  const t0 = Date.now();
  assert.equal(await f.apply(get("/a"), "/a"), undefined);
  assert.ok(Date.now() - t0 >= 50);
  assert.deepEqual(f.list(), []);
  assert.throws(() => f.add({ ErrorRate: 2 }), RangeError);
  assert.throws(() => f.add({ Path: "nope" }), TypeError);
});

Deno.test("Faults: dropped connection errors the body", async () => {
  const f = new Faults();
  f.add({ Drop: true, Count: 1 });
  const r = await f.apply(get("/a"), "/a");
  assert.ok(r);
  await assert.rejects(() => r.text());
});

Deno.test("Faults: AfterHandling rules fail the reply of a handled request, not the request", async () => {
  const f = new Faults();
  f.add({
    Method: "POST",
    Path: "/mail/v4/messages/:id",
    Drop: true,
    AfterHandling: true,
    Count: 1,
  });
  const post = new Request("http://x/mail/v4/messages/d1", { method: "POST" });
  // Not before the handler…
  assert.equal(await f.apply(post, "/mail/v4/messages/d1"), undefined);
  assert.equal(await f.after(get("/mail/v4/messages/d1"), "/mail/v4/messages/d1"), undefined);
  // …but after it, once.
  const lost = await f.after(post, "/mail/v4/messages/d1");
  assert.ok(lost);
  await assert.rejects(() => lost.text());
  assert.equal(await f.after(post, "/mail/v4/messages/d1"), undefined);
  f.add({ AfterHandling: true, Status: 504, Count: 1 });
  assert.equal((await f.after(get("/a"), "/a"))?.status, 504);
  assert.throws(() => f.add({ AfterHandling: true, LatencyMs: 5, Status: 500 }), RangeError);
  // With LatencyMs alone: the reply made at once arrives late, unchanged.
  f.add({ AfterHandling: true, LatencyMs: 150, Count: 1 });
  const started = Date.now();
  assert.equal(await f.after(get("/b"), "/b"), undefined);
  assert.ok(Date.now() - started >= 140);
  assert.equal(await f.after(get("/b"), "/b"), undefined); // used up
});

Deno.test("Faults: Exact matches the path itself, not what is below it", async () => {
  const f = new Faults();
  f.add({ Method: "POST", Path: "/mail/v4/messages", Exact: true, Status: 503 });
  const post = (path: string) => new Request(`http://x${path}`, { method: "POST" });
  assert.equal(
    await f.apply(post("/mail/v4/messages/import"), "/mail/v4/messages/import"),
    undefined,
  );
  assert.equal((await f.apply(post("/mail/v4/messages"), "/mail/v4/messages"))?.status, 503);
  assert.throws(() => f.add({ Exact: "yes" as unknown as boolean }), TypeError);
});

Deno.test("Faults: human verification demands a token, then passes", async () => {
  const f = new Faults();
  f.requireHumanVerification({ Count: 1 });
  const post = (h: Record<string, string> = {}) =>
    new Request("http://x/auth/v4", { method: "POST", headers: h });
  assert.equal(await f.apply(get("/auth/v4"), "/auth/v4"), undefined);
  assert.equal(await f.apply(post(), "/auth/v4/info"), undefined);
  const r = await f.apply(post(), "/auth/v4");
  assert.equal(r?.status, 422);
  const body = await r!.json();
  assert.equal(body.Code, 9001);
  assert.deepEqual(body.Details.HumanVerificationMethods, ["captcha", "email"]);
  const token = body.Details.HumanVerificationToken;
  const bad = await f.apply(
    post({
      "x-pm-human-verification-token": "forged",
      "x-pm-human-verification-token-type": "captcha",
    }),
    "/auth/v4",
  );
  assert.equal((await bad!.json()).Code, 12087);
  const good = await f.apply(
    post({
      "x-pm-human-verification-token": token,
      "x-pm-human-verification-token-type": "captcha",
    }),
    "/auth/v4",
  );
  assert.equal(good, undefined);
  assert.equal(await f.apply(post(), "/auth/v4"), undefined);
});
