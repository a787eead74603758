import assert from "node:assert/strict";
import {
  formatMediaType,
  joinContinuations,
  parseContentDisposition,
  parseContentType,
  parseParams,
} from "./params.ts";

Deno.test("parseContentType() reads type, subtype and parameters", () => {
  const ct = parseContentType('TEXT/Plain; CHARSET="UTF-8" (comment); format=flowed')!;
  assert.equal(ct.type, "text");
  assert.equal(ct.subtype, "plain");
  assert.equal(ct.rawType, "TEXT");
  assert.equal(ct.rawSubtype, "Plain");
  assert.deepEqual(ct.params, [{ name: "CHARSET", value: "UTF-8" }, {
    name: "format",
    value: "flowed",
  }]);
});

Deno.test("parseContentType() tolerates garbage", () => {
  assert.equal(parseContentType("text"), null);
  assert.equal(parseContentType(""), null);
  assert.equal(parseContentType("/plain"), null);
  const ct = parseContentType('application/pdf;; junk; name=my file.pdf ; x="unterminated')!;
  assert.deepEqual(ct.params, [{ name: "name", value: "my file.pdf" }, {
    name: "x",
    value: "unterminated",
  }]);
  assert.deepEqual(parseParams('; a="q\\"uote\\\\"; b = c'), [{ name: "a", value: 'q"uote\\' }, {
    name: "b",
    value: "c",
  }]);
});

Deno.test("parseContentDisposition() reads the disposition type", () => {
  const d = parseContentDisposition('Attachment; filename="a b.txt"')!;
  assert.equal(d.type, "attachment");
  assert.equal(d.value, "Attachment");
  assert.deepEqual(d.params, [{ name: "filename", value: "a b.txt" }]);
  assert.equal(parseContentDisposition(";x=1"), null);
});

Deno.test("joinContinuations() joins like Dovecot", () => {
  assert.deepEqual(
    joinContinuations([
      { name: "a", value: "1" },
      { name: "filename*0*", value: "utf-8''x" },
      { name: "b", value: "2" },
      { name: "filename*1", value: "y" },
      { name: "t*1", value: "2" },
      { name: "t*0", value: "1" },
    ]),
    [
      { name: "a", value: "1" },
      { name: "filename*", value: "utf-8''xy" },
      { name: "b", value: "2" },
      { name: "t", value: "12" },
    ],
  );
});

Deno.test("formatMediaType() matches Go's mime.FormatMediaType", () => {
  assert.equal(
    formatMediaType("Multipart/Mixed", { boundary: "abc" }),
    "multipart/mixed; boundary=abc",
  );
  assert.equal(
    formatMediaType("application/pdf", { name: "=?utf-8?q?caf=C3=A9?=.pdf", filename: "a b" }),
    'application/pdf; filename="a b"; name="=?utf-8?q?caf=C3=A9?=.pdf"',
  );
  assert.equal(formatMediaType("text/plain", { name: 'q"\\' }), 'text/plain; name="q\\"\\\\"');
  assert.equal(
    formatMediaType("text/plain", { name: "café" }),
    "text/plain; name*=utf-8''caf%C3%A9",
  );
  assert.equal(formatMediaType("bad type/x"), "");
  assert.equal(formatMediaType("inline", { filename: "x.png" }), "inline; filename=x.png");
});
