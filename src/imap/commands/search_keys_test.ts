import assert from "node:assert/strict";
import { MessageFlag } from "../../store/mod.ts";
import { Decoder, Reader } from "../wire/mod.ts";
import { parseSearchRequest, searchKeyCost } from "./search_keys.ts";

function parse(keys: string) {
  const reader = new Reader();
  reader.feed(new TextEncoder().encode(`a SEARCH ${keys}\r\n`));
  const ev = reader.next();
  if (ev.kind !== "command") throw new Error(JSON.stringify(ev));
  const d = new Decoder(ev.args);
  const request = parseSearchRequest(d);
  return { request, ok: d.end(), error: d.error?.message };
}

Deno.test("parseSearchRequest: RETURN, CHARSET and a key tree", () => {
  const { request, ok } = parse(
    'RETURN (MIN COUNT) CHARSET utf-8 OR (SEEN ON 1-Feb-2024) NOT HEADER X-A "b" 1:3 UID 5,7',
  );
  assert.ok(ok);
  assert.equal(request.charset, "UTF-8");
  assert.deepEqual([...request.returnOptions!], ["MIN", "COUNT"]);
  assert.equal(request.modseq, false);
  const key = request.key;
  assert.equal(key.kind, "and");
  if (key.kind !== "and") return;
  assert.deepEqual(key.keys.map((k) => k.kind), ["or", "seq", "uid"]);
  const or = key.keys[0];
  if (or.kind !== "or" || or.left.kind !== "and") throw new Error("shape");
  const start = Date.UTC(2024, 1, 1) / 1000;
  assert.deepEqual(or.left.keys, [
    { kind: "index", criteria: { flagsSet: MessageFlag.Seen } },
    { kind: "index", criteria: { since: start, before: start + 86_400 } },
  ]);
  assert.deepEqual(or.right, { kind: "not", key: { kind: "header", field: "x-a", value: "b" } });
  assert.equal(searchKeyCost(key), 1);
});

Deno.test("parseSearchRequest: RETURN () means ALL; MODSEQ marks the request", () => {
  const { request, ok } = parse("RETURN () MODSEQ 5 BODY x");
  assert.ok(ok);
  assert.deepEqual([...request.returnOptions!], ["ALL"]);
  assert.ok(request.modseq);
  assert.equal(searchKeyCost(request.key), 2);
});

Deno.test("parseSearchRequest: errors name the problem", () => {
  assert.equal(parse("FOO").error, "Unknown search key FOO");
  assert.equal(
    parse("RETURN (SAVE) ALL").error,
    "RETURN (SAVE) needs SEARCHRES, which is not offered",
  );
  assert.equal(parse("NOT ".repeat(150) + "ALL").error, "Search keys are nested too deeply");
});
