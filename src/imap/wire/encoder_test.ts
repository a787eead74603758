import assert from "node:assert/strict";
import { type ByteSink, CollectingSink, EncodeError, Encoder } from "./encoder.ts";

const dec = new TextDecoder();

function text(build: (e: Encoder) => void, options = {}): string {
  const e = new Encoder(new CollectingSink(), options);
  build(e);
  return dec.decode(e.toBytes());
}

Deno.test("encoder: atoms, numbers, NIL, spaces, CRLF", () => {
  assert.equal(
    text((e) => e.raw("*").sp().number(3).sp().atom("EXISTS").crlf()),
    "* 3 EXISTS\r\n",
  );
  assert.equal(
    text((e) => e.number(0).sp().number(4294967295).sp().number(2n ** 63n - 1n)),
    "0 4294967295 9223372036854775807",
  );
  assert.equal(text((e) => e.nil()), "NIL");
  assert.throws(() => text((e) => e.atom("a b")), EncodeError);
  assert.throws(() => text((e) => e.atom("")), EncodeError);
  assert.throws(() => text((e) => e.atom("a]")), EncodeError);
  assert.throws(() => text((e) => e.number(-1)), EncodeError);
  assert.throws(() => text((e) => e.number(1.5)), EncodeError);
  assert.throws(() => text((e) => e.raw("a\r\nb")), EncodeError);
});

Deno.test("encoder: string chooses quoted or literal", () => {
  const cases: [string | Uint8Array | null | undefined, string][] = [
    ["", '""'],
    ["hello world", '"hello world"'],
    ['say "hi" \\o/', '"say \\"hi\\" \\\\o/"'],
    [null, "NIL"],
    [undefined, "NIL"],
    ["NIL", '"NIL"'],
    ["line\r\nbreak", "{11}\r\nline\r\nbreak"],
    ["lf\n", "{3}\r\nlf\n"],
    ["café", "{5}\r\ncafé"],
    ["日本語", "{9}\r\n日本語"],
    [Uint8Array.of(0x61, 0x00, 0x62), "{3}\r\na\u0000b"],
    [Uint8Array.of(0x41, 0x42), '"AB"'],
    ["x".repeat(1024), `"${"x".repeat(1024)}"`],
    ["x".repeat(1025), `{1025}\r\n${"x".repeat(1025)}`],
  ];
  for (const [value, expected] of cases) {
    assert.equal(text((e) => e.string(value)), expected, JSON.stringify(value));
  }
  assert.equal(text((e) => e.nstring(null).sp().nstring("a")), 'NIL "a"');
  // Bytes that are not UTF-8 are written exactly.
  const e = new Encoder();
  e.string(Uint8Array.of(0xe9, 0x74, 0xe9));
  assert.deepEqual(e.toBytes(), Uint8Array.of(0x7b, 0x33, 0x7d, 0x0d, 0x0a, 0xe9, 0x74, 0xe9));
});

Deno.test("encoder: UTF-8 mode quotes valid UTF-8 and writes UTF-8 mailbox names", () => {
  const o = { utf8: true };
  assert.equal(text((e) => e.string("café ☕"), o), '"café ☕"');
  assert.equal(
    text((e) => e.string(Uint8Array.of(0xe9)), o),
    "{1}\r\n\xe9".replace("\xe9", "\ufffd"),
  );
  assert.equal(text((e) => e.mailbox("Café ☕"), o), '"Café ☕"');
  assert.equal(text((e) => e.string("a\r\nb"), o), "{4}\r\na\r\nb");
  assert.equal(
    text((e) => e.string("x".repeat(20)), { maxQuotedLength: 10 }),
    `{20}\r\n${"x".repeat(20)}`,
  );
});

Deno.test("encoder: astring and quoted", () => {
  assert.equal(text((e) => e.astring("INBOX")), "INBOX");
  assert.equal(text((e) => e.astring("a]b")), "a]b");
  assert.equal(text((e) => e.astring("nil")), '"nil"');
  assert.equal(text((e) => e.astring("")), '""');
  assert.equal(text((e) => e.astring("Sent Items")), '"Sent Items"');
  assert.equal(text((e) => e.astring("a*")), '"a*"');
  assert.equal(text((e) => e.quoted("x".repeat(2000))).length, 2002);
  assert.throws(() => text((e) => e.quoted("a\nb")), EncodeError);
  assert.throws(() => text((e) => e.quoted("é")), EncodeError);
});

Deno.test("encoder: mailbox names in modified UTF-7", () => {
  const cases: [string, string][] = [
    ["INBOX", '"INBOX"'],
    ["inbox", '"INBOX"'],
    ["Sent", '"Sent"'],
    ["Café ☕", '"Caf&AOk- &JhU-"'],
    ["&", '"&-"'],
    ["Tom & Jerry", '"Tom &- Jerry"'],
    ["日本語", '"&ZeVnLIqe-"'],
    ["Folders/日本語", '"Folders/&ZeVnLIqe-"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["", '""'],
  ];
  for (const [name, expected] of cases) assert.equal(text((e) => e.mailbox(name)), expected, name);
});

Deno.test("encoder: lists, flags, date-time", () => {
  assert.equal(
    text((e) => e.list([1, 2, 3], (w, n) => w.number(n))),
    "(1 2 3)",
  );
  assert.equal(text((e) => e.list([], () => {})), "()");
  assert.equal(
    text((e) => e.flags(["\\Seen", "$Forwarded", "\\*"])),
    "(\\Seen $Forwarded \\*)",
  );
  assert.equal(text((e) => e.flags([])), "()");
  assert.throws(() => text((e) => e.flags(["bad flag"])), EncodeError);
  assert.throws(() => text((e) => e.flags(["\\"])), EncodeError);
  assert.equal(
    text((e) => e.dateTime(Date.UTC(2024, 2, 5, 10, 4, 9), 120)),
    '"05-Mar-2024 12:04:09 +0200"',
  );
  assert.equal(
    text((e) =>
      e.raw("* 1 FETCH ").list(["FLAGS", "UID"], (w, k) => {
        w.atom(k).sp();
        if (k === "FLAGS") w.flags(["\\Seen"]);
        else w.number(42);
      }).crlf()
    ),
    "* 1 FETCH (FLAGS (\\Seen) UID 42)\r\n",
  );
});

Deno.test("encoder: literals are written without copying large bodies", () => {
  const sink = new CollectingSink();
  const e = new Encoder(sink, { inlineLiteralLimit: 8 });
  const big = new Uint8Array(100).fill(0x41);
  e.raw("* 1 FETCH (BODY[] ").literal(big).raw(")").crlf().flush();
  assert.equal(sink.parts.length, 3);
  assert.equal(dec.decode(sink.parts[0]), "* 1 FETCH (BODY[] {100}\r\n");
  assert.equal(sink.parts[1], big); // the very same array
  assert.equal(dec.decode(sink.parts[2]), ")\r\n");
  // Small literals are inlined.
  const s2 = new CollectingSink();
  new Encoder(s2, { inlineLiteralLimit: 8 }).literal(Uint8Array.of(1, 2)).crlf().flush();
  assert.equal(s2.parts.length, 1);
  assert.deepEqual(s2.parts[0], Uint8Array.of(0x7b, 0x32, 0x7d, 13, 10, 1, 2, 13, 10));
  // literal8
  assert.equal(text((e) => e.literal(Uint8Array.of(0x41), true)), "~{1}\r\nA");
});

Deno.test("encoder: streaming a literal in chunks", () => {
  const parts: Uint8Array[] = [];
  const sink: ByteSink = { write: (b) => void parts.push(b) };
  const e = new Encoder(sink, { inlineLiteralLimit: 4 });
  const chunks = [
    new Uint8Array(10).fill(0x61),
    new Uint8Array(3).fill(0x62),
    new Uint8Array(10).fill(0x63),
  ];
  e.raw("* 2 FETCH (BODY[] ").literalStart(23);
  for (const c of chunks) e.literalData(c);
  e.literalEnd().raw(")").crlf().flush();
  assert.equal(parts[1], chunks[0]);
  assert.equal(dec.decode(parts[2]), "bbb");
  assert.equal(parts[3], chunks[2]);
  const all = parts.map((p) => dec.decode(p)).join("");
  assert.equal(
    all,
    "* 2 FETCH (BODY[] {23}\r\n" + "a".repeat(10) + "bbb" + "c".repeat(10) + ")\r\n",
  );
  // Misuse is reported.
  assert.throws(() => new Encoder().literalStart(2).raw("x"), EncodeError);
  assert.throws(() => new Encoder().literalStart(2).literalData(new Uint8Array(3)), EncodeError);
  assert.throws(
    () => new Encoder().literalStart(2).literalData(new Uint8Array(1)).literalEnd(),
    EncodeError,
  );
  assert.throws(() => new Encoder().literalData(new Uint8Array(1)), EncodeError);
  assert.throws(() => new Encoder().literalEnd(), EncodeError);
  assert.throws(() => new Encoder().literalStart(-1), EncodeError);
  assert.throws(() => new Encoder({ write() {} }).parts(), EncodeError);
});

Deno.test("encoder: flush hands out independent parts; buffer growth", () => {
  const sink = new CollectingSink();
  const e = new Encoder(sink);
  e.raw("a").flush();
  e.raw("b").flush();
  e.flush(); // nothing pending: no empty part
  assert.deepEqual(sink.parts.map((p) => dec.decode(p)), ["a", "b"]);
  const long = "x".repeat(5000);
  assert.equal(text((w) => w.raw(long).raw(long)).length, 10000);
  assert.equal(sink.size, 2);
});

Deno.test("encoder: binary writes a binary string's bytes exactly, literals and 8-bit included", () => {
  // An ENVELOPE as the index keeps it: a literal (with its CRLF) and raw 8-bit bytes.
  const stored = '("Mon, 1 Jan 2024" {5}\r\nh\xe9llo NIL "\xff\x00")';
  const e = new Encoder();
  e.raw("* 1 FETCH (ENVELOPE ").binary(stored).raw(")").crlf();
  const bytes = e.toBytes();
  const expected = Uint8Array.from(
    `* 1 FETCH (ENVELOPE ${stored})\r\n`,
    (c) => c.charCodeAt(0),
  );
  assert.deepEqual(bytes, expected);
  // Longer than the initial buffer: it grows.
  const long = "\x80".repeat(5000);
  assert.deepEqual(new Encoder().binary(long).toBytes(), new Uint8Array(5000).fill(0x80));
  assert.throws(() => new Encoder().binary("caf\u00e9\u20ac"), EncodeError);
  assert.throws(() => new Encoder().literalStart(2).binary("ab"), EncodeError);
});
