import assert from "node:assert/strict";
import { Decoder, Reader } from "../wire/mod.ts";
import { needsFetchRow, parseFetchRequest, setsSeen } from "./fetch_items.ts";

function parse(items: string) {
  const reader = new Reader();
  reader.feed(new TextEncoder().encode(`a FETCH 1 ${items}\r\n`));
  const ev = reader.next();
  if (ev.kind !== "command") throw new Error(JSON.stringify(ev));
  const d = new Decoder(ev.args);
  d.expectSequenceSet();
  const request = parseFetchRequest(d);
  return { request, ok: d.end(), error: d.error?.message };
}

Deno.test("parseFetchRequest: labels, peek, header-only and partial", () => {
  const { request, ok } = parse(
    '(BODY.PEEK[1.2.header.fields (From "X(Y")]<5.10> body[TEXT] BODY[]<0> RFC822 RFC822.HEADER)',
  );
  assert.ok(ok);
  assert.deepEqual(
    request.items.map((i) =>
      typeof i === "string" ? i : [i.label, i.peek, i.headerOnly, i.partial]
    ),
    [
      ['BODY[1.2.HEADER.FIELDS (From "X(Y")]<5>', true, false, { offset: 5, length: 10 }],
      ["BODY[TEXT]", false, false, undefined],
      ["BODY[]<0>", false, false, { offset: 0 }],
      ["RFC822", false, false, undefined],
      ["RFC822.HEADER", true, true, undefined],
    ],
  );
  assert.ok(setsSeen(request));
  // Sections need only the message ID, not the precomputed columns.
  assert.ok(!needsFetchRow(request));
});

Deno.test("parseFetchRequest: macros, duplicates and CHANGEDSINCE", () => {
  const { request, ok } = parse(
    "(FLAGS UID FLAGS BODY.PEEK[HEADER] BODY[HEADER]) (CHANGEDSINCE 12)",
  );
  assert.ok(ok);
  assert.equal(request.changedSince, 12n);
  assert.deepEqual(request.items.slice(0, 2), ["FLAGS", "UID"]);
  // BODY.PEEK[HEADER] and BODY[HEADER] answer under the same name: the first one wins.
  assert.equal(request.items.length, 3);
  assert.ok(!setsSeen(request));
  assert.ok(!needsFetchRow(request));
  assert.ok(needsFetchRow(parse("(UID ENVELOPE)").request));
  assert.deepEqual(parse("FAST").request.items, ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]);
  assert.ok(!needsFetchRow(parse("(UID FLAGS MODSEQ)").request));
});

Deno.test("parseFetchRequest: errors name the problem", () => {
  assert.equal(parse("(FLAGS NOPE)").error, "Unknown FETCH item NOPE");
  assert.equal(parse("BODY[MIME]").error, "MIME needs a part number");
  assert.equal(
    parse("BODY[HEADER.FIELDS]").error,
    "HEADER.FIELDS needs a list of header field names",
  );
  assert.equal(parse('BODY[HEADER.FIELDS ("a:b")]').error, "Invalid header field name");
  // VANISHED parses; FETCH checks that it comes with UID, CHANGEDSINCE and QRESYNC.
  const vanished = parse("FLAGS (CHANGEDSINCE 1 VANISHED)");
  assert.equal(vanished.error, undefined);
  assert.equal(vanished.request.vanished, true);
  assert.equal(vanished.request.changedSince, 1n);
  assert.equal(parse("FLAGS (CHANGEDSINCE 1)").request.vanished, undefined);
});
