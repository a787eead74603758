import assert from "node:assert/strict";
import { ArgumentError, parseEnvelopeArgs } from "./envelope_args.ts";

function fails(arg: string, prefix: "FROM" | "TO", code: number, enhanced: string) {
  assert.throws(() => parseEnvelopeArgs(arg, prefix), (e: unknown) => {
    assert.ok(e instanceof ArgumentError);
    assert.equal(e.reply.code, code, arg);
    assert.equal(e.reply.enhanced, enhanced, arg);
    return true;
  });
}

Deno.test("envelope args: paths and parameters", () => {
  const a = parseEnvelopeArgs("FROM:<alice@example.com> SIZE=12 body=8bitmime SMTPUTF8", "FROM");
  assert.equal(a.address, "alice@example.com");
  assert.deepEqual([...a.params], [["SIZE", "12"], ["BODY", "8bitmime"], ["SMTPUTF8", null]]);
  assert.equal(parseEnvelopeArgs("from:<>", "FROM").address, "");
  assert.equal(parseEnvelopeArgs("FROM: <a@b.c>", "FROM").address, "a@b.c");
  assert.equal(parseEnvelopeArgs("TO:b@c.d", "TO").address, "b@c.d");
  assert.equal(parseEnvelopeArgs("TO:<@r1,@r2:b@c.d>", "TO").address, "b@c.d");
  assert.equal(parseEnvelopeArgs('TO:<"john >doe"@c.d>', "TO").address, '"john >doe"@c.d');
  assert.equal(parseEnvelopeArgs("TO:<Postmaster>", "TO").address, "Postmaster");
  assert.equal(parseEnvelopeArgs("TO:<x@[127.0.0.1]>", "TO").address, "x@[127.0.0.1]");
  const u = parseEnvelopeArgs("TO:<jörg@bücher.example>", "TO");
  assert.equal(u.nonAscii, true);
  assert.equal(parseEnvelopeArgs("FROM:<a@b.c>  AUTH=<>", "FROM").params.get("AUTH"), "<>");
});

Deno.test("envelope args: refusals", () => {
  fails("<a@b.c>", "FROM", 501, "5.5.4");
  fails("TO:<a@b.c>", "FROM", 501, "5.5.4");
  fails("FROM:<a@b.c", "FROM", 501, "5.1.7");
  fails("TO:<>", "TO", 501, "5.1.3");
  fails("TO:<nodomain>", "TO", 501, "5.1.3");
  fails("TO:<a@>", "TO", 501, "5.1.3");
  fails("TO:<a b@c.d>", "TO", 501, "5.1.3");
  fails("TO:<a@b..c>", "TO", 501, "5.1.3");
  fails("TO:<a@b.c>x", "TO", 501, "5.1.3");
  fails(`TO:<${"a".repeat(250)}@b.cd>`, "TO", 501, "5.1.3");
  fails("FROM:<a@b.c> SIZE=1 SIZE=2", "FROM", 501, "5.5.4");
  fails("FROM:<a@b.c> =x", "FROM", 501, "5.5.4");
  fails("FROM:<a@b.c> KEY=a=b", "FROM", 501, "5.5.4");
  fails("FROM:", "FROM", 501, "5.1.7");
});
