import assert from "node:assert/strict";
import { scanKeyLines } from "./key_lines.ts";

Deno.test("scanKeyLines() finds tables and keys", () => {
  const text = [
    "# comment",
    "[imap]",
    "host = '127.0.0.1'",
    "  port=1143 # trailing",
    "",
    '[accounts."a.b@example.com"]',
    'address_mode = "split"',
    "[api]",
    "timeout_seconds = 3",
  ].join("\n");
  const lines = scanKeyLines(text);
  assert.equal(lines.lineOf(["imap"]), 2);
  assert.equal(lines.lineOf(["imap", "host"]), 3);
  assert.equal(lines.lineOf(["imap", "port"]), 4);
  assert.equal(lines.lineOf(["accounts", "a.b@example.com"]), 6);
  assert.equal(lines.lineOf(["accounts", "a.b@example.com", "address_mode"]), 7);
  assert.equal(lines.lineOf(["api", "timeout_seconds"]), 9);
  assert.equal(lines.lineOf(["imap", "missing"]), 2, "falls back to the table line");
  assert.equal(lines.lineOf(["nowhere"]), undefined);
});

Deno.test("scanKeyLines() handles dotted keys and inline tables", () => {
  const text = 'imap.port = 1\nsmtp = { port = 2 }\n"log".level = "info"\n';
  const lines = scanKeyLines(text);
  assert.equal(lines.lineOf(["imap"]), 1);
  assert.equal(lines.lineOf(["imap", "port"]), 1);
  assert.equal(lines.lineOf(["smtp", "port"]), 2);
  assert.equal(lines.lineOf(["log", "level"]), 3);
});

Deno.test("scanKeyLines() ignores key-like text inside multi-line strings and arrays", () => {
  const text = [
    "[api]",
    'trusted_modulus_keys = ["""',
    "-----BEGIN PGP PUBLIC KEY BLOCK-----",
    "fake = 1",
    "-----END PGP PUBLIC KEY BLOCK-----\"\"\", '''",
    "other = 2",
    "''']",
    "url = 'x' # [imap]",
    "[imap]",
    "fake = 3",
  ].join("\n");
  const lines = scanKeyLines(text);
  assert.equal(lines.lineOf(["api", "fake"]), 1);
  assert.equal(lines.lineOf(["api", "other"]), 1);
  assert.equal(lines.lineOf(["api", "url"]), 8);
  assert.equal(lines.lineOf(["imap", "fake"]), 10);
});
