import assert from "node:assert/strict";
import { Reader, type ReaderEvent, type ReaderOptions } from "./reader.ts";
import { formatTokens } from "./token.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function bytes(s: string): Uint8Array {
  // Latin-1 for \x00–\xff escapes in test strings; real UTF-8 via utf8().
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

/** One event as a stable string. */
function show(ev: ReaderEvent): string {
  switch (ev.kind) {
    case "command":
      return `command ${ev.tag} ${ev.name}${ev.args.length ? " " + formatTokens(ev.args) : ""}` +
        ` [${ev.size}b/${ev.lines}]`;
    case "continue":
      return `continue ${ev.tag} ${ev.name} ${ev.literalSize}${ev.binary ? " binary" : ""}${
        ev.append ? " append" : ""
      } args=${formatTokens(ev.args)}`;
    case "literal-start":
      return `literal-start ${ev.tag} ${ev.name} ${ev.size} ${ev.sync ? "sync" : "nonsync"} args=${
        formatTokens(ev.args)
      }`;
    case "literal-chunk":
      return `chunk ${JSON.stringify(dec.decode(ev.data))}`;
    case "line":
      return `line ${JSON.stringify(dec.decode(ev.line))}`;
    case "error":
      return `error ${ev.tag ?? "*"} ${ev.status} [${ev.code}] ${ev.message}${
        ev.fatal ? " FATAL" : ""
      }`;
    default:
      return ev.kind;
  }
}

interface Script {
  /** How many raw lines to read with readLine() after this command event. */
  linesAfter?: (ev: ReaderEvent) => number;
  /** Cancel a synchronizing literal instead of acknowledging it. */
  cancel?: (ev: ReaderEvent) => boolean;
}

const defaultScript: Script = {
  linesAfter: (ev) => {
    if (ev.kind !== "command") return 0;
    if (ev.name === "IDLE") return 1;
    if (ev.name === "AUTHENTICATE" && ev.args.length === 1) return 1;
    return 0;
  },
};

/** Feeds `chunks` one by one, draining events after each; merges consecutive literal chunks. */
function run(chunks: Uint8Array[], options: ReaderOptions = {}, script = defaultScript): string[] {
  const reader = new Reader(options);
  const out: string[] = [];
  let lineMode = 0;
  let chunkBuf = "";
  const flushChunks = () => {
    if (chunkBuf !== "") out.push(`chunk ${JSON.stringify(chunkBuf)}`);
    chunkBuf = "";
  };
  for (const chunk of chunks) {
    reader.feed(chunk);
    for (;;) {
      const ev = lineMode > 0 ? reader.readLine() : reader.next();
      if (ev.kind === "need-more") break;
      if (ev.kind === "literal-chunk") {
        chunkBuf += dec.decode(ev.data);
        continue;
      }
      flushChunks();
      if (lineMode > 0 && (ev.kind === "line" || ev.kind === "error")) lineMode--;
      if (ev.kind === "continue" && script.cancel?.(ev)) {
        assert.equal(reader.cancelLiteral(), true);
        out.push(show(ev) + " CANCELLED");
        continue;
      }
      out.push(show(ev));
      lineMode += script.linesAfter?.(ev) ?? 0;
    }
  }
  flushChunks();
  return out;
}

/** Every way of cutting `input` into two chunks, plus one byte at a time. */
function splits(input: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [];
  for (let i = 0; i <= input.length; i++) all.push([input.subarray(0, i), input.subarray(i)]);
  all.push(Array.from(input, (b) => Uint8Array.of(b)));
  return all;
}

function assertAllSplits(
  input: Uint8Array,
  expected: string[],
  options: ReaderOptions = {},
  script = defaultScript,
): void {
  assert.deepEqual(run([input], options, script), expected, "whole input");
  for (const chunks of splits(input)) {
    const got = run(chunks, options, script);
    assert.deepEqual(got, expected, `split ${chunks.map((c) => c.length).join("+")}`);
  }
}

const SAMPLES: { name: string; input: string; expected: string[] }[] = [
  {
    name: "LOGIN with quoted strings and escapes",
    input: 'a1 LOGIN "user@example.com" "p\\\\a\\"ss w"\r\n',
    expected: ['command a1 LOGIN "user@example.com" "p\\\\a\\"ss w" [42b/1]'],
  },
  {
    name: "APPEND with a synchronizing literal",
    input: 'a2 APPEND INBOX (\\Seen) "05-Mar-2024 10:00:00 +0000" {12}\r\nHello World!\r\n',
    expected: [
      'continue a2 APPEND 12 append args=INBOX (\\Seen) "05-Mar-2024 10:00:00 +0000"',
      'command a2 APPEND INBOX (\\Seen) "05-Mar-2024 10:00:00 +0000" {12}"Hello World!" [73b/2]',
    ],
  },
  {
    name: "APPEND with LITERAL+",
    input: 'a3 APPEND "Drafts" {5+}\r\nHello\r\n',
    expected: ['command a3 APPEND "Drafts" {5+}"Hello" [32b/2]'],
  },
  {
    name: "UID FETCH with sections and partial",
    input:
      "a4 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject)]<0.100> BODY[1.2.MIME] BODY[] BINARY[1]<5>)\r\n",
    expected: [
      "command a4 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject)]<0.100> BODY[1.2.MIME] BODY[] BINARY[1]<5>) [111b/1]",
    ],
  },
  {
    name: "SEARCH with nested lists and literals (charset and inside a list)",
    input:
      'a5 SEARCH CHARSET {5}\r\nUTF-8 (OR (FROM "a") (NOT (SUBJECT {3}\r\nabc))) SINCE 1-Feb-1994\r\n',
    expected: [
      "continue a5 SEARCH 5 args=CHARSET",
      'continue a5 SEARCH 3 args=CHARSET {5}"UTF-8" (OR (FROM "a") (NOT (SUBJECT)))',
      'command a5 SEARCH CHARSET {5}"UTF-8" (OR (FROM "a") (NOT (SUBJECT {3}"abc"))) SINCE 1-Feb-1994 [88b/3]',
    ],
  },
  {
    name: "UID STORE with a flag list",
    input: "a6 UID STORE 1,3:5 +FLAGS.SILENT (\\Seen \\Flagged $Forwarded)\r\n",
    expected: [
      "command a6 UID STORE 1,3:5 +FLAGS.SILENT (\\Seen \\Flagged $Forwarded) [62b/1]",
    ],
  },
  {
    name: "a command with two literals",
    input: "a7 LOGIN {4}\r\nuser {8}\r\npassword\r\n",
    expected: [
      "continue a7 LOGIN 4 args=",
      'continue a7 LOGIN 8 args={4}"user"',
      'command a7 LOGIN {4}"user" {8}"password" [34b/3]',
    ],
  },
  {
    name: "IDLE then DONE",
    input: "a8 IDLE\r\nDONE\r\na9 NOOP\r\n",
    expected: ["command a8 IDLE [9b/1]", 'line "DONE"', "command a9 NOOP [9b/1]"],
  },
  {
    name: "AUTHENTICATE PLAIN with a continuation line",
    input: "b1 AUTHENTICATE PLAIN\r\nAGZvbwBiYXI=\r\n",
    expected: ["command b1 AUTHENTICATE PLAIN [23b/1]", 'line "AGZvbwBiYXI="'],
  },
  {
    name: "AUTHENTICATE PLAIN with SASL-IR, NIL and numbers",
    input: "b2 authenticate PLAIN AGZvbwBiYXI=\r\nb3 select nil\r\nb4 status 2024 (MESSAGES)\r\n",
    expected: [
      "command b2 AUTHENTICATE PLAIN AGZvbwBiYXI= [36b/1]",
      "command b3 SELECT NIL [15b/1]",
      "command b4 STATUS 2024 (MESSAGES) [27b/1]",
    ],
  },
  {
    name: "literal8 and an empty literal",
    input: "b5 APPEND INBOX ~{3+}\r\n\x00\x01\x02 {0}\r\n\r\n",
    expected: [
      'continue b5 APPEND 0 append args=INBOX ~{3+}"\u0000\u0001\u0002"',
      'command b5 APPEND INBOX ~{3+}"\u0000\u0001\u0002" {0}"" [34b/3]',
    ],
  },
  {
    name: "brackets are plain characters outside FETCH; empty lines are ignored; bare LF",
    input: '\r\nc1 SELECT [Gmail]/Sent\r\n\nc2 LIST "" [Gmail]/%\nc3 NOOP\r\n',
    expected: [
      "command c1 SELECT [Gmail]/Sent [24b/1]",
      'command c2 LIST "" [Gmail]/% [21b/1]',
      "command c3 NOOP [9b/1]",
    ],
  },
];

for (const sample of SAMPLES) {
  Deno.test(`reader: ${sample.name} — every split gives the same events`, () => {
    assertAllSplits(bytes(sample.input), sample.expected);
  });
}

Deno.test("reader: all samples back to back, every split", () => {
  const picked = SAMPLES;
  const input = bytes(picked.map((s) => s.input).join(""));
  const expected = picked.flatMap((s) => s.expected);
  assertAllSplits(input, expected);
});

Deno.test("reader: quoted strings keep UTF-8 bytes; atoms must be valid UTF-8", () => {
  const out: ReaderEvent[] = [];
  const r = new Reader();
  r.feed(utf8('d1 SELECT "Café ☕"\r\nd2 SELECT Café\r\n'));
  r.feed(bytes("d3 SELECT Caf\xe9\r\n"));
  for (let ev = r.next(); ev.kind !== "need-more"; ev = r.next()) out.push(ev);
  assert.deepEqual(out.map(show), [
    'command d1 SELECT "Café ☕" [23b/1]',
    "command d2 SELECT Café [17b/1]",
    "error d3 BAD [CLIENTBUG] Invalid UTF-8 in an atom",
  ]);
  const first = out[0];
  assert.ok(first.kind === "command" && first.args[0].kind === "quoted");
  assert.deepEqual(first.args[0].bytes, utf8("Café ☕"));
});

Deno.test("reader: token kinds", () => {
  const r = new Reader();
  r.feed(bytes('e1 FETCH 1 (UID BODY.PEEK[HEADER.FIELDS.NOT (A {1}\r\nB)] nil 007 "q")\r\n'));
  assert.equal(r.next().kind, "continue");
  const ev = r.next();
  assert.ok(ev.kind === "command");
  assert.deepEqual(ev.args[0], { kind: "number", text: "1", value: 1 });
  const list = ev.args[1];
  assert.ok(list.kind === "list");
  assert.deepEqual(list.items[0], { kind: "atom", value: "UID" });
  const sec = list.items[1];
  assert.ok(sec.kind === "section");
  assert.equal(sec.name, "BODY.PEEK");
  assert.equal(sec.partial, undefined);
  assert.deepEqual(sec.spec[0], { kind: "atom", value: "HEADER.FIELDS.NOT" });
  assert.ok(sec.spec[1].kind === "list");
  assert.deepEqual(sec.spec[1].items[1], {
    kind: "literal",
    bytes: bytes("B"),
    size: 1,
    sync: true,
    binary: false,
    streamed: false,
  });
  assert.deepEqual(list.items[2], { kind: "nil", text: "nil" });
  assert.deepEqual(list.items[3], { kind: "number", text: "007", value: 7 });
  assert.deepEqual(list.items[4], { kind: "quoted", bytes: bytes("q") });
});

Deno.test("reader: syntax errors answer BAD and the next command still parses", () => {
  const cases: [string, string][] = [
    ["x1  NOOP\r\n", "error x1 BAD [CLIENTBUG] Missing command name"],
    ["x1 NOOP \r\n", "error x1 BAD [CLIENTBUG] Unexpected space at end of line"],
    ["x1 LIST  a b\r\n", "error x1 BAD [CLIENTBUG] Unexpected extra space"],
    ["x1 LIST (a\r\n", "error x1 BAD [CLIENTBUG] Missing ) at end of line"],
    ["x1 LIST a)\r\n", "error x1 BAD [CLIENTBUG] Unexpected )"],
    ["x1 LIST ( a)\r\n", "error x1 BAD [CLIENTBUG] Unexpected extra space"],
    ["x1 LIST (a )\r\n", "error x1 BAD [CLIENTBUG] Unexpected )"],
    ["x1 LIST (a)(b)\r\n", "error x1 BAD [CLIENTBUG] Expected a space between arguments"],
    ['x1 LIST a"b"\r\n', "error x1 BAD [CLIENTBUG] Expected a space between arguments"],
    ['x1 LIST "abc\r\n', "error x1 BAD [CLIENTBUG] Unterminated quoted string"],
    ['x1 LIST "a\\bc"\r\n', "error x1 BAD [CLIENTBUG] Invalid escape in quoted string"],
    ['x1 LIST "a\rb"\r\n', "error x1 BAD [CLIENTBUG] Invalid character in quoted string"],
    ['x1 LIST "a\x00b"\r\n', "error x1 BAD [CLIENTBUG] Invalid character in quoted string"],
    ["x1 LIST a\x01b\r\n", "error x1 BAD [CLIENTBUG] Unexpected control character"],
    ["x1 LIST {5} a\r\n", "error x1 BAD [CLIENTBUG] A literal header must end the line"],
    ["x1 LIST a{5}\r\n", "error x1 BAD [CLIENTBUG] A literal must follow a space or ("],
    ["x1 LIST{5}\r\n", "error x1 BAD [CLIENTBUG] A literal must follow a space or ("],
    ["x1 FETCH 1 BODY[\r\n", "error x1 BAD [CLIENTBUG] Missing ] at end of line"],
    ["x1 FETCH 1 BODY]\r\n", "error x1 BAD [CLIENTBUG] Unexpected ]"],
    [
      "x1 FETCH 1 BODY[]<\r\n",
      "error x1 BAD [CLIENTBUG] Invalid partial range (expected <offset.length>)",
    ],
    [
      "x1 FETCH 1 BODY[]<1.>\r\n",
      "error x1 BAD [CLIENTBUG] Invalid partial range (expected <offset.length>)",
    ],
    [
      "x1 FETCH 1 BODY[]<99999999999>\r\n",
      "error x1 BAD [CLIENTBUG] Invalid partial range (expected <offset.length>)",
    ],
    ["x1 FETCH 1 (BODY[)]\r\n", "error x1 BAD [CLIENTBUG] Unexpected )"],
    ["x1 FETCH 1 [1]\r\n", "error x1 BAD [CLIENTBUG] Unexpected ["],
    ["x1 N@OP\r\n", "error x1 BAD [CLIENTBUG] Invalid character in command name"],
    ["x1 UID\r\n", "error x1 BAD [CLIENTBUG] UID must be followed by a command name"],
    ["x1 UID (FETCH)\r\n", "error x1 BAD [CLIENTBUG] Invalid character in command name"],
    ["x+1 NOOP\r\n", "error * BAD [CLIENTBUG] Invalid character in tag"],
    ["x1\r\n", "error x1 BAD [CLIENTBUG] Missing command name"],
    [" NOOP\r\n", "error * BAD [CLIENTBUG] Missing tag"],
    ["x1 LIST a }\r\n", "command x1 LIST a } [13b/1]"],
  ];
  for (const [line, expected] of cases) {
    const input = bytes(line + "ok NOOP\r\n");
    assertAllSplits(input, [expected, "command ok NOOP [9b/1]"]);
  }
});

Deno.test("reader: a syntax error before a non-synchronizing literal skips its data", () => {
  // The literal data contains what would look like a command; it must not run.
  const input = bytes('x1 LIST "a {9+}\r\nz1 NOOP\r\n more\r\nok NOOP\r\n');
  assertAllSplits(input, [
    "error x1 BAD [CLIENTBUG] Unterminated quoted string",
    "command ok NOOP [9b/1]",
  ]);
  // Before a synchronizing literal the command ends: the client waits for "+" and gets BAD.
  assertAllSplits(bytes('x1 LIST ((a"b" {3}\r\nok NOOP\r\n'), [
    "error x1 BAD [CLIENTBUG] Expected a space between arguments",
    "command ok NOOP [9b/1]",
  ]);
  assertAllSplits(bytes("x1 LIST ) {3}\r\nok NOOP\r\n"), [
    "error x1 BAD [CLIENTBUG] Unexpected )",
    "command ok NOOP [9b/1]",
  ]);
});

Deno.test("reader: line too long → TOOBIG, then the next command parses", () => {
  const options = { limits: { maxLineLength: 40 } };
  const long = "t1 SEARCH SUBJECT " + "x".repeat(60) + "\r\n";
  assertAllSplits(bytes(long + "ok NOOP\r\n"), [
    "error t1 BAD [TOOBIG] Command line too long",
    "command ok NOOP [9b/1]",
  ], options);
  // The same over several lines (literal headers do not reset the budget).
  const multi = "t2 X {2+}\r\nab {2+}\r\ncd " + "y".repeat(30) + "\r\n";
  assertAllSplits(bytes(multi + "ok NOOP\r\n"), [
    "error t2 BAD [TOOBIG] Command line too long",
    "command ok NOOP [9b/1]",
  ], options);
  // A long line that ends in a non-synchronizing literal: its data is skipped too.
  const withLit = "t3 X " + "z".repeat(50) + " {4+}\r\nq1 N\r\nok NOOP\r\n";
  assertAllSplits(bytes(withLit), [
    "error t3 BAD [TOOBIG] Command line too long",
    "command ok NOOP [9b/1]",
  ], options);
  // Without a usable tag the error is untagged.
  assertAllSplits(bytes("x".repeat(80) + "\r\nok NOOP\r\n"), [
    "error * BAD [TOOBIG] Command line too long",
    "command ok NOOP [9b/1]",
  ], options);
  // Exactly at the limit is fine (40 bytes including CRLF).
  const exact = "t4 X " + "a".repeat(33) + "\r\n";
  assert.equal(exact.length, 40);
  assertAllSplits(bytes(exact), [`command t4 X ${"a".repeat(33)} [40b/1]`], options);
});

Deno.test("reader: literal too big for a non-APPEND command", () => {
  const options = { limits: { maxLiteralSize: 10 } };
  // Synchronizing: BAD at once, no "+", the client sends no data; the next line is a command.
  assertAllSplits(bytes("l1 LOGIN {11}\r\nok NOOP\r\n"), [
    "error l1 BAD [TOOBIG] Literal too large (the limit is 10 bytes)",
    "command ok NOOP [9b/1]",
  ], options);
  // Non-synchronizing: the data (with a fake command inside) is skipped, then BAD.
  assertAllSplits(bytes("l2 LOGIN {11+}\r\nz1 NOOP\r\n\r\n x\r\nok NOOP\r\n"), [
    "error l2 BAD [TOOBIG] Literal too large (the limit is 10 bytes)",
    "command ok NOOP [9b/1]",
  ], options);
  // At the limit is fine.
  assertAllSplits(bytes("l3 LOGIN {10+}\r\n0123456789 x\r\n"), [
    'command l3 LOGIN {10+}"0123456789" x [30b/2]',
  ], options);
  // The per-command budget counts lines and literals together.
  assertAllSplits(bytes("l4 X {9+}\r\n012345678 {9+}\r\n012345678\r\nok NOOP\r\n"), [
    "error l4 BAD [TOOBIG] Command too large (the limit is 30 bytes)",
    "command ok NOOP [9b/1]",
  ], { limits: { maxCommandSize: 30 } });
  // LITERAL-: non-synchronizing literals over 4096 are refused, synchronizing ones are fine.
  const minus = { limits: { maxNonSyncLiteralSize: 4, maxLiteralSize: 100 } };
  assertAllSplits(bytes("l5 X {5+}\r\nabcde\r\nl6 X {5}\r\nabcde\r\n"), [
    "error l5 BAD [TOOBIG] Non-synchronizing literal too large (the limit is 4 bytes)",
    "continue l6 X 5 args=",
    'command l6 X {5}"abcde" [17b/2]',
  ], minus);
});

Deno.test("reader: APPEND over APPENDLIMIT", () => {
  const options = { limits: { maxAppendSize: 10, maxLiteralSize: 4 } };
  // Synchronizing: NO [TOOBIG] instead of "+"; the client sends nothing more.
  assertAllSplits(bytes("p1 APPEND INBOX (\\Seen) {11}\r\nok NOOP\r\n"), [
    "error p1 NO [TOOBIG] Message too large (the limit is 10 bytes)",
    "command ok NOOP [9b/1]",
  ], options);
  // Non-synchronizing: the 11 bytes are consumed and dropped, then NO [TOOBIG].
  assertAllSplits(bytes("p2 APPEND INBOX {11+}\r\nz1 NOOP\r\nX\r\nok NOOP\r\n"), [
    "error p2 NO [TOOBIG] Message too large (the limit is 10 bytes)",
    "command ok NOOP [9b/1]",
  ], options);
  // The message may use maxAppendSize, the mailbox literal only maxLiteralSize.
  assertAllSplits(bytes("p3 APPEND {5+}\r\nINBOX {10+}\r\n0123456789\r\nok NOOP\r\n"), [
    "error p3 BAD [TOOBIG] Literal too large (the limit is 4 bytes)",
    "command ok NOOP [9b/1]",
  ], options);
  assertAllSplits(bytes("p4 APPEND {4+}\r\nINBO {10+}\r\n0123456789\r\n"), [
    'command p4 APPEND {4+}"INBO" {10+}"0123456789" [40b/3]',
  ], options);
  // A size that cannot be skipped reliably closes the connection.
  assertAllSplits(bytes("p5 APPEND INBOX {99999999999999999+}\r\nok NOOP\r\n"), [
    "error p5 NO [TOOBIG] Literal size is too large to skip FATAL",
  ], options);
  // …but as a synchronizing literal it is just refused.
  assertAllSplits(bytes("p6 APPEND INBOX {99999999999999999}\r\nok NOOP\r\n"), [
    "error p6 NO [TOOBIG] Message too large (the limit is 10 bytes)",
    "command ok NOOP [9b/1]",
  ], options);
});

Deno.test("reader: setLimits applies to the next literal (e.g. after login)", () => {
  const r = new Reader({ limits: { maxAppendSize: 0 } });
  r.feed(bytes("a APPEND INBOX {3}\r\n"));
  assert.equal(r.next().kind, "error");
  r.setLimits({ maxAppendSize: 3 });
  assert.equal(r.limits.maxAppendSize, 3);
  r.feed(bytes("b APPEND INBOX {3}\r\n"));
  assert.equal(r.next().kind, "continue");
});

Deno.test("reader: nesting too deep", () => {
  const options = { limits: { maxDepth: 3 } };
  assertAllSplits(bytes("n1 X (((a)))\r\n"), ["command n1 X (((a))) [14b/1]"], options);
  assertAllSplits(bytes("n2 X ((((a))))\r\nok NOOP\r\n"), [
    "error n2 BAD [LIMIT] Too many nested lists",
    "command ok NOOP [9b/1]",
  ], options);
  // Sections count as nesting too.
  assertAllSplits(bytes("n3 FETCH 1 ((BODY[X ((a))]))\r\nok NOOP\r\n"), [
    "error n3 BAD [LIMIT] Too many nested lists",
    "command ok NOOP [9b/1]",
  ], options);
  // Default depth is 64.
  const deep = "n4 X " + "(".repeat(64) + ")".repeat(64) + "\r\n";
  assert.equal(run([bytes(deep)])[0].startsWith("command n4"), true);
  const tooDeep = "n5 X " + "(".repeat(65) + ")".repeat(65) + "\r\n";
  assert.deepEqual(run([bytes(tooDeep)]), ["error n5 BAD [LIMIT] Too many nested lists"]);
});

Deno.test("reader: tag, name and quoted length limits", () => {
  const options = { limits: { maxTagLength: 4, maxCommandNameLength: 6, maxQuotedLength: 3 } };
  assertAllSplits(bytes("abcde NOOP\r\nabcd NOOP\r\n"), [
    "error * BAD [CLIENTBUG] Tag too long",
    "command abcd NOOP [11b/1]",
  ], options);
  assertAllSplits(bytes("a LOGOUTX\r\na UID SEARCHX\r\n"), [
    "error a BAD [CLIENTBUG] Command name too long",
    "error a BAD [CLIENTBUG] Command name too long",
  ], options);
  assertAllSplits(bytes('a X "abcd"\r\na X "a\\"c"\r\n'), [
    "error a BAD [TOOBIG] Quoted string too long",
    'command a X "a\\"c" [12b/1]',
  ], options);
});

Deno.test("reader: cancelLiteral abandons the command (e.g. APPEND to a missing mailbox)", () => {
  const input = bytes("c1 APPEND Nope {5}\r\nc2 NOOP\r\n");
  assertAllSplits(
    input,
    [
      "continue c1 APPEND 5 append args=Nope CANCELLED",
      "command c2 NOOP [9b/1]",
    ],
    {},
    { cancel: () => true },
  );
  const r = new Reader();
  assert.equal(r.cancelLiteral(), false);
  r.feed(bytes("c3 NOOP\r\n"));
  r.next();
  assert.equal(r.cancelLiteral(), false);
});

Deno.test("reader: streaming APPEND literals", () => {
  const options = { streamAppendLiterals: true };
  const input = bytes(
    'a1 APPEND INBOX (\\Seen) {12}\r\nHello\r\nWorld"x" {3+}\r\nabc\r\na3 LOGIN {1}\r\nx y\r\n',
  );
  assertAllSplits(input, [
    "continue a1 APPEND 12 append args=INBOX (\\Seen)",
    "literal-start a1 APPEND 12 sync args=INBOX (\\Seen)",
    'chunk "Hello\\r\\nWorld"',
    "literal-end",
    "error a1 BAD [CLIENTBUG] Expected a space between arguments",
    "continue a3 LOGIN 1 args=",
    'command a3 LOGIN {1}"x" y [19b/2]',
  ], options);
  const ok = bytes('a1 APPEND INBOX {12}\r\nHello\r\nWorld\r\na2 APPEND "Sent" {3+}\r\nabc\r\n');
  assertAllSplits(ok, [
    "continue a1 APPEND 12 append args=INBOX",
    "literal-start a1 APPEND 12 sync args=INBOX",
    'chunk "Hello\\r\\nWorld"',
    "literal-end",
    "command a1 APPEND INBOX {12}… [36b/2]",
    'literal-start a2 APPEND 3 nonsync args="Sent"',
    'chunk "abc"',
    "literal-end",
    'command a2 APPEND "Sent" {3+}… [28b/2]',
  ], options);
  // Chunks are copies: feeding a reused buffer does not change earlier chunks.
  const r = new Reader(options);
  const buf = bytes("a APPEND X {4+}\r\nabcd\r\n");
  r.feed(buf);
  const evs: ReaderEvent[] = [];
  for (let ev = r.next(); ev.kind !== "need-more"; ev = r.next()) evs.push(ev);
  buf.fill(0x21);
  const chunk = evs.find((e) => e.kind === "literal-chunk");
  assert.ok(chunk && chunk.kind === "literal-chunk");
  assert.equal(dec.decode(chunk.data), "abcd");
});

Deno.test("reader: buffered APPEND literal arrives in one exact-size buffer", () => {
  const body = new Uint8Array(200_000).map((_, i) => i % 251);
  const r = new Reader();
  r.feed(bytes(`a APPEND INBOX {${body.length}}\r\n`));
  assert.equal(r.next().kind, "continue");
  for (let i = 0; i < body.length; i += 7000) {
    r.feed(body.subarray(i, i + 7000));
    assert.equal(r.next().kind, "need-more");
  }
  r.feed(bytes("\r\n"));
  const ev = r.next();
  assert.ok(ev.kind === "command");
  const lit = ev.args[1];
  assert.ok(lit.kind === "literal");
  assert.equal(lit.bytes.length, body.length);
  assert.equal(lit.bytes.buffer.byteLength, body.length);
  assert.deepEqual(lit.bytes, body);
});

Deno.test("reader: readLine", () => {
  const r = new Reader({ limits: { maxLineLength: 10 } });
  r.feed(bytes("DON"));
  assert.equal(r.readLine().kind, "need-more");
  r.feed(bytes("E\r\n*\r\n0123456789A"));
  assert.equal(show(r.readLine()), 'line "DONE"');
  assert.equal(show(r.readLine()), 'line "*"');
  assert.equal(r.readLine().kind, "need-more");
  r.feed(bytes("BCDEF"));
  assert.equal(r.readLine().kind, "need-more");
  r.feed(bytes("\r\nnext\n"));
  assert.equal(show(r.readLine()), "error * BAD [TOOBIG] Line too long");
  assert.equal(show(r.readLine()), 'line "next"');
  // readLine in the middle of a command is a programming error.
  r.feed(bytes("a X {3}\r\n"));
  assert.equal(r.next().kind, "continue");
  assert.throws(() => r.readLine(), /middle of a command/);
});

Deno.test("reader: TLS ClientHello on a plaintext port", () => {
  const hello = Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03);
  for (const chunks of splits(hello)) {
    const r = new Reader();
    const evs: string[] = [];
    for (const c of chunks) {
      r.feed(c);
      for (let ev = r.next(); ev.kind !== "need-more"; ev = r.next()) evs.push(show(ev));
    }
    assert.deepEqual(evs, ["tls-on-plaintext"]);
    assert.equal(r.closed, true);
    r.feed(bytes("a NOOP\r\n"));
    assert.equal(r.next().kind, "need-more");
  }
  // Not at the start of the connection, or with detection off, it is just a bad line.
  const later = new Reader();
  later.feed(bytes("a NOOP\r\n\x16\x03\x01\r\n"));
  assert.deepEqual([show(later.next()), show(later.next())], [
    "command a NOOP [8b/1]",
    "error * BAD [CLIENTBUG] Invalid character in tag",
  ]);
  const off = new Reader({ detectTls: false });
  off.feed(bytes("\x16\x03\x01\r\n"));
  assert.equal(show(off.next()), "error * BAD [CLIENTBUG] Invalid character in tag");
  // 0x16 followed by something else is not TLS.
  const notTls = new Reader();
  notTls.feed(bytes("\x16"));
  assert.equal(notTls.next().kind, "need-more");
  notTls.feed(bytes("A\r\n"));
  assert.equal(show(notTls.next()), "error * BAD [CLIENTBUG] Invalid character in tag");
});

Deno.test("reader: pendingBytes shows data pipelined after STARTTLS", () => {
  const r = new Reader();
  r.feed(bytes("s1 STARTTLS\r\ns2 LOGIN a b\r\n"));
  assert.equal(show(r.next()), "command s1 STARTTLS [13b/1]");
  assert.equal(r.pendingBytes, 14);
});

// --- Robustness -----------------------------------------------------------------------------

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

/** Feeds in random chunks, answers "+" to everything, never throws; returns the events. */
function drive(input: Uint8Array, rnd: () => number, options: ReaderOptions): string[] {
  const r = new Reader(options);
  const out: string[] = [];
  let pos = 0;
  let steps = 0;
  while (pos < input.length) {
    const n = 1 + (rnd() % 40);
    r.feed(input.subarray(pos, pos + n));
    pos += n;
    for (let ev = r.next(); ev.kind !== "need-more"; ev = r.next()) {
      out.push(ev.kind);
      if (++steps > 100_000) throw new Error("reader does not make progress");
      if (ev.kind === "command" && ev.name === "IDLE") {
        const l = r.readLine();
        if (l.kind !== "need-more") out.push(l.kind);
      }
    }
  }
  return out;
}

Deno.test("reader: random garbage never throws and never loops", () => {
  const rnd = lcg(1234);
  const alphabet = bytes(
    'a1 FETCH UID APPEND IDLE ()[]<>{}~+"\\\r\n 0123456789*:,.%\x00\x16\x03\xff',
  );
  const options = {
    limits: { maxLineLength: 200, maxLiteralSize: 50, maxAppendSize: 100, maxDepth: 5 },
  };
  for (let n = 0; n < 3000; n++) {
    const len = rnd() % 120;
    const input = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      input[i] = rnd() % 4 === 0 ? rnd() & 0xff : alphabet[rnd() % alphabet.length];
    }
    drive(input, rnd, options);
    drive(input, rnd, { ...options, streamAppendLiterals: true });
  }
});

Deno.test("reader: mutations of valid commands never throw and keep split-invariance", () => {
  const rnd = lcg(99);
  const base = bytes(SAMPLES.map((s) => s.input).join(""));
  for (let n = 0; n < 1500; n++) {
    const input = base.slice();
    const edits = 1 + (rnd() % 4);
    for (let e = 0; e < edits; e++) input[rnd() % input.length] = rnd() & 0xff;
    const whole = run([input]);
    // A few random splits must agree with the whole-input run.
    for (let k = 0; k < 3; k++) {
      const cut1 = rnd() % (input.length + 1);
      const cut2 = cut1 + (rnd() % (input.length + 1 - cut1));
      const got = run([input.subarray(0, cut1), input.subarray(cut1, cut2), input.subarray(cut2)]);
      assert.deepEqual(got, whole, `mutation ${n} cuts ${cut1}/${cut2}`);
    }
  }
});

Deno.test("reader: an endless line does not grow the buffer", () => {
  const r = new Reader();
  r.feed(bytes("t1 SEARCH TEXT "));
  const junk = new Uint8Array(64 * 1024).fill(0x78);
  let maxPending = 0;
  for (let i = 0; i < 200; i++) {
    r.feed(junk);
    assert.equal(r.next().kind, "need-more");
    maxPending = Math.max(maxPending, r.pendingBytes);
  }
  assert.ok(maxPending <= 64 * 1024 + 64, `pending ${maxPending}`);
  r.feed(bytes("\r\nok NOOP\r\n"));
  assert.equal(show(r.next()), "error t1 BAD [TOOBIG] Command line too long");
  assert.equal(show(r.next()), "command ok NOOP [9b/1]");
  // The same for readLine().
  const l = new Reader();
  for (let i = 0; i < 50; i++) {
    l.feed(junk);
    assert.equal(l.readLine().kind, "need-more");
    assert.ok(l.pendingBytes <= 64 * 1024);
  }
  l.feed(bytes("\r\nDONE\r\n"));
  assert.equal(show(l.readLine()), "error * BAD [TOOBIG] Line too long");
  assert.equal(show(l.readLine()), 'line "DONE"');
});

Deno.test("reader: a client that does not wait for + is still read correctly", () => {
  assertAllSplits(bytes("a LOGIN {4}\r\nuser {4}\r\npass\r\nb NOOP\r\n"), [
    "continue a LOGIN 4 args=",
    'continue a LOGIN 4 args={4}"user"',
    'command a LOGIN {4}"user" {4}"pass" [29b/3]',
    "command b NOOP [8b/1]",
  ]);
});

Deno.test("reader: insertions and deletions never throw and keep split-invariance", () => {
  const rnd = lcg(7);
  const base = bytes(SAMPLES.map((s) => s.input).join(""));
  const pieces = ["{", "}", "{3}", "{2+}", "\r\n", "(", ")", "[", "]", '"', "\\", " ", "~{1}", "<"];
  for (let n = 0; n < 1000; n++) {
    let s = Array.from(base, (b) => String.fromCharCode(b)).join("");
    const edits = 1 + (rnd() % 3);
    for (let e = 0; e < edits; e++) {
      const at = rnd() % (s.length + 1);
      if (rnd() % 2) s = s.slice(0, at) + pieces[rnd() % pieces.length] + s.slice(at);
      else s = s.slice(0, at) + s.slice(at + 1 + (rnd() % 5));
    }
    const input = bytes(s);
    const options = { limits: { maxLiteralSize: 64, maxLineLength: 120 } };
    const whole = run([input], options);
    const cut = rnd() % (input.length + 1);
    assert.deepEqual(run([input.subarray(0, cut), input.subarray(cut)], options), whole);
    const streaming = { ...options, streamAppendLiterals: true };
    assert.deepEqual(
      run([input.subarray(0, cut), input.subarray(cut)], streaming),
      run([input], streaming),
    );
  }
});
