import assert from "node:assert/strict";
import { DecodeError, Decoder, isAtom } from "./decoder.ts";
import { Reader } from "./reader.ts";
import type { Token } from "./token.ts";

const enc = new TextEncoder();

/** Reads one command line (all literals acknowledged) and returns its args. */
function args(line: string): Token[] {
  const r = new Reader();
  r.feed(enc.encode(line + "\r\n"));
  for (;;) {
    const ev = r.next();
    if (ev.kind === "continue") continue;
    if (ev.kind === "command") return ev.args;
    throw new Error(`unexpected ${ev.kind}: ${JSON.stringify(ev)}`);
  }
}

function d(argText: string, utf8Accept = false): Decoder {
  return new Decoder(args("t X " + argText), { utf8Accept });
}

Deno.test("decoder: LOGIN arguments as atoms, quoted strings and literals", () => {
  const x = new Decoder(args('a LOGIN user@example.com "pa ss\\"word"'));
  assert.equal(x.expectAString(), "user@example.com");
  assert.equal(x.expectAString(), 'pa ss"word');
  assert.equal(x.end(), true);
  const y = new Decoder(args("a LOGIN {4}\r\nuser {2}\r\nÿ"));
  assert.equal(y.expectAString(), "user");
  assert.equal(y.expectAString(), "ÿ"); // 2 UTF-8 bytes
  assert.equal(y.end(), true);
});

Deno.test("decoder: sticky first error", () => {
  const x = d("(a) b");
  assert.equal(x.expectAtom(), "");
  assert.equal(x.ok, false);
  assert.ok(x.error instanceof DecodeError);
  assert.equal(x.error.message, "Expected an atom, got a list");
  assert.equal(x.error.code, "CLIENTBUG");
  x.expectNumber();
  assert.equal(x.error.message, "Expected an atom, got a list");
  assert.equal(x.end(), false);
  const y = d("a b");
  y.expectAtom();
  assert.equal(y.end(), false);
  assert.equal(y.error?.message, "Unexpected extra argument (an atom)");
  const z = d("a");
  z.expectAtom();
  z.expectAtom();
  assert.equal(z.error?.message, "Expected an atom, got end of arguments");
});

Deno.test("decoder: atoms and keywords", () => {
  assert.equal(isAtom("FLAGS"), true);
  for (const bad of ["", "a*", "a%", "a\\b", "a]", "é", "a b"]) {
    assert.equal(isAtom(bad), false, bad);
  }
  const x = d("+flags.silent 123 nil body.peek");
  assert.equal(x.expectKeyword("FLAGS", "+FLAGS", "+FLAGS.SILENT"), "+FLAGS.SILENT");
  assert.equal(x.expectAtom(), "123");
  assert.equal(x.optionalNil(), true);
  assert.equal(x.optionalKeyword("BODY"), undefined);
  assert.equal(x.optionalKeyword(), "BODY.PEEK");
  assert.equal(x.end(), true);
  const y = d("foo");
  assert.equal(y.expectKeyword("BAR", "BAZ"), "");
  assert.equal(y.error?.message, "Expected BAR or BAZ, got an atom");
  assert.equal(d("a*").expectAtom(), "");
});

Deno.test("decoder: numbers", () => {
  const x = d("0 4294967295 4294967296 1");
  assert.equal(x.expectNumber(), 0);
  assert.equal(x.expectNumber(), 4294967295);
  assert.equal(x.optionalNumber(), undefined);
  assert.equal(x.expectNumber(), 0);
  assert.equal(x.error?.message, "Expected a number, got a number");
  const y = d("0");
  assert.equal(y.expectNzNumber(), 0);
  assert.equal(y.error?.message, "Expected a non-zero number, got a number");
  const z = d("9223372036854775807 0 9223372036854775808");
  assert.equal(z.expectModSeq(), 9223372036854775807n);
  assert.equal(z.expectModSeq(), 0n);
  assert.equal(z.expectModSeq(), 0n);
  assert.equal(z.ok, false);
  assert.equal(d("0").expectModSeq(false), 0n);
});

Deno.test("decoder: astrings, strings and nstrings", () => {
  const x = d('a]b "q" NIL 42 {3}\r\nl\u00e9');
  assert.equal(x.expectAString(), "a]b");
  assert.equal(x.expectString(), "q");
  assert.equal(x.expectNString(), null);
  assert.equal(x.expectAString(), "42");
  assert.equal(x.expectNString(), "lé");
  assert.equal(x.end(), true);
  for (const bad of ["a*", "a%b", "\\Seen", "(a)"]) {
    const y = d(bad);
    y.expectAString();
    assert.equal(y.ok, false, bad);
  }
  const z = d("atom");
  z.expectString();
  assert.equal(z.error?.message, "Expected a quoted string or literal, got an atom");
  // Invalid UTF-8 in a literal.
  const r = new Reader();
  r.feed(Uint8Array.of(...enc.encode("t X {1+}\r\n"), 0xff, 13, 10));
  const ev = r.next();
  assert.ok(ev.kind === "command");
  const w = new Decoder(ev.args);
  assert.equal(w.expectAString(), "");
  assert.equal(w.error?.message, "Invalid UTF-8 in a string");
  assert.deepEqual(new Decoder(ev.args).expectAStringBytes(), Uint8Array.of(0xff));
});

Deno.test("decoder: mailbox names (modified UTF-7, INBOX, UTF8=ACCEPT)", () => {
  const x = d('inbox "InBoX" Caf&AOk- "&ZeVnLIqe-" AT&-T INBOX.Sent "Café" Foo&Bar');
  assert.equal(x.expectMailbox(), "INBOX");
  assert.equal(x.expectMailbox(), "INBOX");
  assert.equal(x.expectMailbox(), "Café");
  assert.equal(x.expectMailbox(), "日本語");
  assert.equal(x.expectMailbox(), "AT&T");
  assert.equal(x.expectMailbox(), "INBOX.Sent");
  assert.equal(x.expectMailbox(), "");
  assert.match(x.error!.message, /^Invalid mailbox name: .*modified-UTF-7/);
  const y = d('"Café" Foo&Bar inbox', true);
  assert.equal(y.expectMailbox(), "Café");
  assert.equal(y.expectMailbox(), "Foo&Bar");
  assert.equal(y.expectMailbox(), "INBOX");
  assert.equal(y.end(), true);
  const z = d('"" % Folders/* "Folders/&AOk-*" a\\b');
  assert.equal(z.expectListMailbox(), "");
  assert.equal(z.expectListMailbox(), "%");
  assert.equal(z.expectListMailbox(), "Folders/*");
  assert.equal(z.expectListMailbox(), "Folders/é*");
  assert.equal(z.expectListMailbox(), "");
  assert.equal(z.ok, false);
  // expectMailbox refuses wildcards in atoms (they are not ASTRING-CHARs).
  const w = d("Fold*");
  w.expectMailbox();
  assert.equal(w.ok, false);
});

Deno.test("decoder: lists share the error with their parent", () => {
  const x = d("(FLAGS (a b) UID) tail");
  const l = x.expectList();
  assert.equal(l.expectKeyword(), "FLAGS");
  const inner = l.expectList();
  assert.equal(inner.expectAtom(), "a");
  assert.equal(inner.expectAtom(), "b");
  assert.equal(inner.end(), true);
  assert.equal(l.expectKeyword("UID"), "UID");
  assert.equal(l.end(), true);
  assert.equal(x.isList(), false);
  assert.equal(x.optionalList(), undefined);
  assert.equal(x.expectAtom(), "tail");
  assert.equal(x.end(), true);
  const y = d("(1 x)");
  const yl = y.expectList();
  yl.expectNumber();
  yl.expectNumber();
  assert.equal(y.ok, false);
  assert.equal(y.error?.message, "Expected a number, got an atom");
  const z = d("x");
  const zl = z.expectList();
  assert.equal(zl.atEnd(), true);
  assert.equal(z.error?.message, "Expected a list, got an atom");
});

Deno.test("decoder: sequence sets", () => {
  const x = d("1:* 5 $ 0");
  assert.equal(x.expectSequenceSet().toString(), "1:*");
  assert.equal(x.expectSequenceSet().toString(), "5");
  assert.equal(x.expectSequenceSet(true).isSearchResult, true);
  assert.equal(x.expectSequenceSet().toString(), "");
  assert.match(x.error!.message, /0 is not allowed/);
  const y = d('"1:2"');
  y.expectSequenceSet();
  assert.equal(y.error?.message, "Expected a sequence set, got a quoted string");
});

Deno.test("decoder: date-time and date", () => {
  const x = d('"17-Jul-1996 02:44:25 -0700" 1-Feb-1994 "02-Feb-1994" {10}\r\n3-Feb-1994');
  assert.equal(x.expectDateTime().toISOString(), "1996-07-17T09:44:25.000Z");
  assert.deepEqual(x.expectDate(), { year: 1994, month: 2, day: 1 });
  assert.deepEqual(x.expectDate(), { year: 1994, month: 2, day: 2 });
  x.expectDate();
  assert.equal(x.error?.message, "Expected a date, got a literal");
  const y = d('"yesterday"');
  assert.equal(y.optionalDateTime()?.getTime(), 0);
  assert.match(y.error!.message, /Invalid date-time/);
  assert.equal(d("(\\Seen)").optionalDateTime(), undefined);
});

Deno.test("decoder: flags and flag lists", () => {
  const x = d("(\\seen \\FLAGGED $Forwarded \\Custom) \\Deleted $Junk");
  assert.deepEqual(x.expectFlagList(), ["\\Seen", "\\Flagged", "$Forwarded", "\\Custom"]);
  assert.deepEqual(x.expectFlagList(true), ["\\Deleted", "$Junk"]);
  assert.equal(x.end(), true);
  assert.deepEqual(d("()").expectFlagList(), []);
  for (const bad of ["(\\*)", "(a*)", '("q")', "\\Seen", "(\\)"]) {
    const y = d(bad);
    assert.deepEqual(y.expectFlagList(), [], bad);
    assert.equal(y.ok, false, bad);
  }
  const z = new Decoder([]);
  z.expectFlagList(true);
  assert.equal(z.error?.message, "Expected a flag list, got end of arguments");
});

Deno.test("decoder: FETCH sections and literals", () => {
  const x = new Decoder(args("a FETCH 1 BODY.PEEK[HEADER.FIELDS (From)]<0.10>"));
  assert.equal(x.expectSequenceSet().toString(), "1");
  const s = x.expectSection();
  assert.equal(s.name, "BODY.PEEK");
  assert.deepEqual(s.partial, { offset: 0, length: 10 });
  const spec = new Decoder(s.spec);
  assert.equal(spec.expectKeyword("HEADER.FIELDS"), "HEADER.FIELDS");
  const fields = spec.expectList();
  assert.equal(fields.expectAString(), "From");
  assert.equal(spec.end() && fields.end() && x.end(), true);
  const y = new Decoder(args("a APPEND INBOX {3}\r\nabc"));
  assert.equal(y.expectMailbox(), "INBOX");
  const lit = y.expectLiteral();
  assert.deepEqual(lit.bytes, enc.encode("abc"));
  assert.equal(y.end(), true);
  const z = d("x");
  assert.equal(z.expectSection().name, "");
  assert.equal(z.expectLiteral().size, 0);
  assert.equal(z.error?.message, "Expected a section, got an atom");
});

Deno.test("decoder: take, peek, remaining, fail", () => {
  const x = d("a b");
  assert.equal(x.remaining, 2);
  assert.equal(x.peek()?.kind, "atom");
  assert.deepEqual(x.take(), { kind: "atom", value: "a" });
  assert.equal(x.remaining, 1);
  assert.equal(x.fail("Custom problem"), false);
  x.fail("Second problem");
  assert.equal(x.error?.message, "Custom problem");
});
