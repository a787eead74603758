import assert from "node:assert/strict";
import { unflow } from "./flowed.ts";

Deno.test("unflow: soft breaks join, hard breaks stay, the signature separator is fixed", () => {
  // What Thunderbird writes for two paragraphs and a signature.
  const text = "Hello Bob,\r\n\r\n" +
    "this is a long paragraph that the client wrapped at seventy-two \r\n" +
    "columns, with a soft break after every full line, and then it \r\n" +
    "ends here.\r\n" +
    "Second line, hard break.\r\n" +
    "-- \r\n" +
    "Alice\r\n";
  assert.equal(
    unflow(text),
    "Hello Bob,\r\n\r\n" +
      "this is a long paragraph that the client wrapped at seventy-two columns, with a soft " +
      "break after every full line, and then it ends here.\r\n" +
      "Second line, hard break.\r\n" +
      "-- \r\n" +
      "Alice\r\n",
  );
});

Deno.test("unflow: space-stuffing is removed, DelSp=yes removes the soft-break space", () => {
  // RFC 3676 §4.4: lines starting with a space, "From " or ">" text are stuffed.
  assert.equal(unflow(" From here\r\n  indented\r\n"), "From here\r\n indented\r\n");
  // §4.2: with DelSp=yes the space before the break was added by the writer (no-space scripts).
  assert.equal(unflow("日本語の \r\n文章\r\n", true), "日本語の文章\r\n");
  assert.equal(unflow("word \r\nword\r\n", false), "word word\r\n");
});

Deno.test("unflow: quoted paragraphs join within a depth and keep their marks", () => {
  const text = "> quoted text that was \r\n" +
    "> wrapped once\r\n" +
    ">> deeper and \r\n" +
    ">> wrapped\r\n" +
    "> flowed line before another depth \r\n" +
    "my answer\r\n";
  assert.equal(
    unflow(text),
    "> quoted text that was wrapped once\r\n" +
      ">> deeper and wrapped\r\n" +
      "> flowed line before another depth \r\n" +
      "my answer\r\n",
  );
});

Deno.test("unflow: LF line ends, no final line end, empty input, a flowed last line", () => {
  assert.equal(unflow("a \nb\n"), "a b\r\n");
  assert.equal(unflow("a \r\nb"), "a b\r\n");
  assert.equal(unflow(""), "");
  assert.equal(unflow("last \r\n"), "last \r\n");
});

Deno.test("unflow: the signature separator after a flowed line, DelSp at a paragraph's end, empty quotes", () => {
  // §4.3: the separator is never joined, even after a flowed line.
  assert.equal(unflow("para \r\n-- \r\nme\r\n"), "para \r\n-- \r\nme\r\n");
  // §4.5: a flowed line before another depth is fixed: with DelSp=yes its space stays too.
  assert.equal(unflow("a \r\n> b\r\n", true), "a \r\n> b\r\n");
  // An empty quoted line has no trailing space.
  assert.equal(unflow(">\r\n> x\r\n"), ">\r\n> x\r\n");
});
