import assert from "node:assert/strict";
import { CookieJar } from "./cookie_jar.ts";

Deno.test("cookie jar: host-only cookie with default path", () => {
  const jar = new CookieJar([], () => 1_000);
  jar.setCookie("a=1", "https://mail-api.proton.me/core/v4/users");
  assert.equal(jar.cookieHeader("https://mail-api.proton.me/core/v4/x"), "a=1");
  assert.equal(jar.cookieHeader("https://mail-api.proton.me/core/v4"), "a=1");
  assert.equal(jar.cookieHeader("https://mail-api.proton.me/mail/v4"), "");
  assert.equal(jar.cookieHeader("https://other.proton.me/core/v4/x"), "");
});

Deno.test("cookie jar: Domain attribute matches subdomains; foreign domains are ignored", () => {
  const jar = new CookieJar();
  jar.setCookie("s=1; Domain=.proton.me; Path=/", "https://mail-api.proton.me/");
  jar.setCookie("evil=1; Domain=example.com; Path=/", "https://mail-api.proton.me/");
  assert.equal(jar.cookieHeader("https://account.proton.me/x"), "s=1");
  assert.equal(jar.cookieHeader("https://proton.me/"), "s=1");
  assert.equal(jar.cookieHeader("https://example.com/"), "");
});

Deno.test("cookie jar: IP hosts match only themselves", () => {
  const jar = new CookieJar();
  jar.setCookie(
    "Session-Id=x; Domain=127.0.0.1; Path=/; Secure; HttpOnly",
    "http://127.0.0.1:8080/a",
  );
  assert.equal(jar.cookieHeader("http://127.0.0.1:9999/b"), "Session-Id=x");
  assert.equal(jar.cookieHeader("http://127.0.0.2/b"), "");
});

Deno.test("cookie jar: Secure cookies only over https or loopback", () => {
  const jar = new CookieJar();
  jar.setCookie("s=1; Secure; Path=/", "https://api.example/");
  assert.equal(jar.cookieHeader("http://api.example/"), "");
  assert.equal(jar.cookieHeader("https://api.example/"), "s=1");
  jar.setCookie("t=1; Secure; Path=/", "http://api.example/"); // not from a secure origin
  assert.equal(jar.cookieHeader("https://api.example/"), "s=1");
});

Deno.test("cookie jar: Max-Age beats Expires; expiry and deletion", () => {
  let now = Date.parse("2025-01-01T00:00:00Z");
  const jar = new CookieJar([], () => now);
  jar.setCookie("a=1; Max-Age=60; Expires=Wed, 01 Jan 2020 00:00:00 GMT; Path=/", "https://h/");
  jar.setCookie("b=2; Expires=Wed, 01 Jan 2020 00:00:00 GMT; Path=/", "https://h/");
  jar.setCookie("c=3; Expires=Thu, 01 Jan 2026 00:00:00 GMT; Path=/", "https://h/");
  assert.equal(jar.cookieHeader("https://h/"), "a=1; c=3");
  now += 61_000;
  assert.equal(jar.cookieHeader("https://h/"), "c=3");
  jar.setCookie("c=gone; Max-Age=0; Path=/", "https://h/");
  assert.equal(jar.cookieHeader("https://h/"), "");
});

Deno.test("cookie jar: replacement keeps one cookie; longer paths first; bad lines ignored", () => {
  const jar = new CookieJar();
  jar.setCookie("a=1; Path=/", "https://h/");
  jar.setCookie("a=2; Path=/", "https://h/");
  jar.setCookie("b=3; Path=/core", "https://h/");
  jar.setCookie("novalue", "https://h/");
  jar.setCookie("=x", "https://h/");
  assert.equal(jar.cookieHeader("https://h/core/v4"), "b=3; a=2");
  assert.equal(jar.cookieHeader("https://h/corex"), "a=2");
});

Deno.test("cookie jar: serialize / deserialize round trip (session cookies too)", () => {
  const jar = new CookieJar();
  jar.setCookie("Session-Id=abc; Path=/; Max-Age=7776000; Secure; HttpOnly", "https://h/");
  jar.setCookie("tmp=1; Path=/", "https://h/");
  const copy = CookieJar.deserialize(jar.serialize());
  assert.equal(copy.cookieHeader("https://h/x"), "Session-Id=abc; tmp=1");
  assert.deepEqual(copy.cookies(), jar.cookies());
  assert.equal(CookieJar.deserialize("not json").cookies().length, 0);
  assert.equal(CookieJar.deserialize('[{"name":1}]').cookies().length, 0);
});

Deno.test("cookie jar: setFromResponse reads every Set-Cookie header", () => {
  const jar = new CookieJar();
  const h = new Headers();
  h.append("Set-Cookie", "a=1; Path=/");
  h.append("Set-Cookie", "b=2; Path=/");
  jar.setFromResponse("https://h/", h);
  assert.equal(jar.cookieHeader("https://h/"), "a=1; b=2");
});
