import assert from "node:assert/strict";
import { apiError, ok, Router } from "./http.ts";

Deno.test("Router matches params, distinguishes method mismatch from absence", () => {
  const r = new Router();
  const h = () => ok();
  r.add("GET", "/mail/v4/messages/:id", h);
  r.add("PUT", "/mail/v4/messages/read", h);
  const m = r.match("GET", "/mail/v4/messages/abc%3D%3D");
  assert.ok(m && m !== "method");
  assert.deepEqual(m.params, { id: "abc==" });
  assert.equal(r.match("DELETE", "/mail/v4/messages/x"), "method");
  assert.equal(r.match("GET", "/nope"), undefined);
  const put = r.match("PUT", "/mail/v4/messages/read");
  assert.ok(put && put !== "method" && put.route.pattern === "/mail/v4/messages/read");
});

Deno.test("ok and apiError produce the API envelope", async () => {
  assert.deepEqual(await ok({ A: 1 }).json(), { Code: 1000, A: 1 });
  const e = apiError(422, 2001, "Invalid", { X: 1 });
  assert.equal(e.status, 422);
  assert.deepEqual(await e.json(), { Code: 2001, Error: "Invalid", Details: { X: 1 } });
});
