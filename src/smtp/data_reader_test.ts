import assert from "node:assert/strict";
import { DataReader } from "./data_reader.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function readAll(input: string | Uint8Array, chunkSize: number, max = 1 << 20, line = 1000) {
  const bytes = typeof input === "string" ? enc.encode(input) : input;
  const r = new DataReader({ maxMessageSize: max, maxLineLength: line });
  let off = 0;
  while (off < bytes.length && !r.done) {
    const piece = bytes.subarray(off, Math.min(bytes.length, off + chunkSize));
    off += r.push(piece);
  }
  return { r, rest: dec.decode(bytes.subarray(off)), out: r.outcome() };
}

Deno.test("data reader: end marker, unstuffing and leftover at every chunk size", () => {
  const input = "Subject: x\r\n\r\n..one\r\n...two\r\n..\r\n\r\n.x.\r\n.\r\nQUIT\r\n";
  for (const size of [1, 2, 3, 5, 7, 64]) {
    const { r, rest, out } = readAll(input, size);
    assert.ok(r.done, `size ${size}`);
    assert.equal(dec.decode(out.data!), "Subject: x\r\n\r\n.one\r\n..two\r\n.\r\n\r\nx.\r\n");
    assert.equal(rest, "QUIT\r\n");
    assert.equal(out.bareLineEnd, undefined);
    assert.equal(out.eightBit, false);
  }
});

Deno.test("data reader: empty message and a lone dot line", () => {
  assert.equal(readAll(".\r\n", 1).out.data!.length, 0);
  const { out } = readAll("..\r\n.\r\n", 1);
  assert.equal(dec.decode(out.data!), ".\r\n");
});

Deno.test("data reader: only CRLF.CRLF ends the data", () => {
  for (const tricky of ["a\n.\r\n", "a\r.\r\n", "a\n.\n", "a\r\n.\n", "a\r\n.\rb"]) {
    const { r } = readAll(tricky, 1);
    assert.equal(r.done, false, JSON.stringify(tricky));
  }
  for (const size of [1, 3, 64]) {
    const { out } = readAll("a\n.\r\nb\r\n.\r\n", size);
    assert.equal(out.bareLineEnd, 1);
    // The bare LF is written as CRLF; the dot line after it is content, not the end.
    assert.equal(dec.decode(out.data!), "a\r\n.\r\nb\r\n");
  }
});

Deno.test("data reader: bare CR and LF become CRLF; a stuffed dot after them is unstuffed", () => {
  for (const size of [1, 2, 64]) {
    assert.equal(readAll("ok\r\nx\ry\r\n.\r\n", size).out.bareLineEnd, 2);
    assert.equal(dec.decode(readAll("ok\r\nx\ry\r\n.\r\n", size).out.data!), "ok\r\nx\r\ny\r\n");
    const { out } = readAll(".\rz\r\n.\r\n", size);
    assert.equal(out.bareLineEnd, 1);
    assert.equal(dec.decode(out.data!), "\r\nz\r\n");
    // What Python's smtplib sends for as_bytes() with LF ends: stuffed after each LF.
    const python = readAll("Subject: x\n\n..dot\n.. two\nend\n\r\n.\r\n", size).out;
    assert.equal(dec.decode(python.data!), "Subject: x\r\n\r\n.dot\r\n. two\r\nend\r\n\r\n");
  }
});

Deno.test("data reader: line length counted after unstuffing", () => {
  const ok = "." + "x".repeat(998) + "\r\n.\r\n";
  assert.equal(readAll(ok, 100).out.longLine, undefined);
  const long = "a\r\nb\r\n" + "x".repeat(999) + "\r\n.\r\n";
  assert.equal(readAll(long, 100).out.longLine, 3);
});

Deno.test("data reader: 8-bit detection", () => {
  assert.equal(readAll("caf\u00e9\r\n.\r\n", 2).out.eightBit, true);
  assert.equal(readAll("cafe\r\n.\r\n", 2).out.eightBit, false);
});

Deno.test("data reader: oversize is read to the end without keeping it", () => {
  const body = ("y".repeat(98) + "\r\n").repeat(100); // 10 000 octets
  const { r, out, rest } = readAll(body + ".\r\nNOOP\r\n", 333, 5000);
  assert.ok(r.done);
  assert.equal(out.tooBig, true);
  assert.equal(out.data, null);
  assert.equal(out.size, 10_000);
  assert.equal(rest, "NOOP\r\n");
  // Exactly at the limit is fine.
  const exact = readAll(body + ".\r\n", 4096, 10_000).out;
  assert.equal(exact.tooBig, false);
  assert.equal(exact.data!.length, 10_000);
});

Deno.test("data reader: push after done consumes nothing", () => {
  const r = new DataReader({ maxMessageSize: 100, maxLineLength: 1000 });
  assert.equal(r.push(enc.encode(".\r\nX")), 3);
  assert.equal(r.push(enc.encode("X")), 0);
});

Deno.test("data reader: random CRLF messages survive stuffing and random chunking", () => {
  let seed = 42;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const alphabet = ["a", ".", "..", "\r\n", "\u00e9", " ", "\r\n.", "x"];
  for (let round = 0; round < 200; round++) {
    let msg = "";
    for (let i = rnd(40); i > 0; i--) msg += alphabet[rnd(alphabet.length)];
    // Only CRLF line ends, ending with CRLF when non-empty, no lone CR/LF.
    msg = msg.replace(/\r\n\r\n\./g, "\r\n\r\n.");
    if (msg && !msg.endsWith("\r\n")) msg += "\r\n";
    const stuffed = msg.split("\r\n").map((l) => (l.startsWith(".") ? "." + l : l)).join("\r\n");
    const wire = enc.encode(stuffed + ".\r\nNEXT");
    const r = new DataReader({ maxMessageSize: 1 << 20, maxLineLength: 1000 });
    let off = 0;
    while (!r.done) {
      const n = 1 + rnd(7);
      off += r.push(wire.subarray(off, Math.min(wire.length, off + n)));
    }
    assert.equal(dec.decode(r.outcome().data!), msg, JSON.stringify(msg));
    assert.equal(dec.decode(wire.subarray(off)), "NEXT");
    assert.equal(r.outcome().bareLineEnd, undefined);
  }
});
