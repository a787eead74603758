import assert from "node:assert/strict";
import { LineBuffer, type LineResult } from "./line_buffer.ts";

const enc = new TextEncoder();
const show = (r: LineResult) => r.kind === "line" ? new TextDecoder().decode(r.bytes) : r.kind;

Deno.test("line buffer: CRLF and LF lines across chunks", () => {
  const b = new LineBuffer();
  b.push(enc.encode("EH"));
  assert.equal(show(b.nextLine(100)), "more");
  b.push(enc.encode("LO x\r"));
  assert.equal(show(b.nextLine(100)), "more");
  b.push(enc.encode("\nNOOP\nRSET\r\n"));
  assert.equal(show(b.nextLine(100)), "EHLO x");
  assert.equal(show(b.nextLine(100)), "NOOP");
  assert.equal(show(b.nextLine(100)), "RSET");
  assert.equal(show(b.nextLine(100)), "more");
  assert.equal(b.length, 0);
});

Deno.test("line buffer: limit includes CRLF", () => {
  const b = new LineBuffer();
  b.push(enc.encode("12345678\r\n123456789\r\nok\r\n"));
  assert.equal(show(b.nextLine(10)), "12345678");
  assert.equal(show(b.nextLine(10)), "too-long");
  assert.equal(show(b.nextLine(10)), "ok");
});

Deno.test("line buffer: an overlong line is skipped over many pushes, not kept", () => {
  const b = new LineBuffer();
  b.push(enc.encode("x".repeat(50)));
  assert.equal(show(b.nextLine(20)), "more");
  assert.equal(b.length, 0);
  b.push(enc.encode("y".repeat(1000)));
  assert.equal(show(b.nextLine(20)), "more");
  assert.equal(b.length, 0);
  b.push(enc.encode("zz\r\nNOOP\r\n"));
  assert.equal(show(b.nextLine(20)), "too-long");
  assert.equal(show(b.nextLine(20)), "NOOP");
});

Deno.test("line buffer: peek, consume, clear", () => {
  const b = new LineBuffer();
  b.push(enc.encode("DATA\r\nbody"));
  assert.equal(show(b.nextLine(100)), "DATA");
  assert.equal(new TextDecoder().decode(b.peek()), "body");
  b.consume(2);
  assert.equal(new TextDecoder().decode(b.peek()), "dy");
  b.clear();
  assert.equal(b.length, 0);
  // Growth with compaction keeps content intact.
  for (let i = 0; i < 2000; i++) b.push(enc.encode(`L${i}\r\n`));
  for (let i = 0; i < 2000; i++) assert.equal(show(b.nextLine(100)), `L${i}`);
});
