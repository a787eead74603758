import assert from "node:assert/strict";
import { baseSubject } from "./base_subject.ts";

Deno.test("baseSubject: reply and forward markers come off (RFC 5256 §2.1)", () => {
  const cases: [string, string][] = [
    ["hello", "hello"],
    ["Re: hello", "hello"],
    ["RE: Re: re: hello", "hello"],
    ["Fw: hello", "hello"],
    ["FWD: hello", "hello"],
    ["Re [list]: hello", "hello"],
    ["Re:hello", "hello"],
    ["[list] Re: hello", "hello"],
    ["[list] hello", "hello"],
    ["Re: [PATCH] fix it", "fix it"],
    ["hello (fwd)", "hello"],
    ["hello (FWD) (fwd)  ", "hello"],
    ["[Fwd: Re: hello]", "hello"],
    ["[fwd: [fwd: hello (fwd)]]", "hello"],
    ["Re: [Fwd: hello]", "hello"],
  ];
  for (const [input, expected] of cases) assert.equal(baseSubject(input), expected, input);
});

Deno.test("baseSubject: whitespace is normalised, and what is not a marker stays", () => {
  assert.equal(baseSubject("  hello \t  world\r\n again"), "hello world again");
  // A blob alone is the subject (removing it would leave nothing).
  assert.equal(baseSubject("[list]"), "[list]");
  assert.equal(baseSubject("Re: [list]"), "[list]");
  // Words that only start like a marker, or lack the colon, are kept.
  assert.equal(baseSubject("Report"), "Report");
  assert.equal(baseSubject("Fwd hello"), "Fwd hello");
  assert.equal(baseSubject("Reply: hello"), "Reply: hello");
  assert.equal(baseSubject("[Fwd: hello"), "[Fwd: hello");
  assert.equal(baseSubject("Re:"), "");
  assert.equal(baseSubject(""), "");
  assert.equal(baseSubject("Grüße aus Zürich"), "Grüße aus Zürich");
});

Deno.test("baseSubject: long hostile subjects are read once, not rescanned", () => {
  // Each of these took seconds to minutes with a rescanning implementation; a subject is chosen
  // by whoever sends the mail and is read for every message the index takes in.
  assert.equal(baseSubject("[a]".repeat(80_000)), "[a]");
  assert.equal(baseSubject("[a]".repeat(40_000) + "Re: x"), "x");
  assert.equal(baseSubject("x" + "(fwd)".repeat(80_000)), "x");
  assert.equal(baseSubject("[fwd: ".repeat(20_000) + "x" + "]".repeat(20_000)), "x");
  assert.equal(baseSubject("Re: ".repeat(50_000) + "x"), "x");
});
