import assert from "node:assert/strict";
import { enhancedMatches, formatReply, sanitizeText } from "./reply.ts";

Deno.test("reply: single and multi-line, with and without enhanced codes", () => {
  assert.equal(
    formatReply({ code: 250, enhanced: "2.1.0", lines: ["Sender OK"] }),
    "250 2.1.0 Sender OK\r\n",
  );
  assert.equal(formatReply({ code: 334, lines: [""] }), "334 \r\n");
  assert.equal(
    formatReply({ code: 250, lines: ["host", "SIZE 10"] }),
    "250-host\r\n250 SIZE 10\r\n",
  );
  assert.equal(
    formatReply({ code: 214, enhanced: "2.0.0", lines: ["a", "b"] }),
    "214-2.0.0 a\r\n214 2.0.0 b\r\n",
  );
  assert.throws(() => formatReply({ code: 99, lines: ["x"] }), RangeError);
  assert.throws(() => formatReply({ code: 250, enhanced: "2.x", lines: ["x"] }), RangeError);
});

Deno.test("reply: text cannot inject lines", () => {
  assert.equal(sanitizeText("bad\r\n250 OK\u0000 caf\u00e9"), "bad 250 OK caf?");
  assert.equal(sanitizeText("x".repeat(1000)).length, 480);
  assert.ok(enhancedMatches(550, "5.7.1"));
  assert.ok(!enhancedMatches(450, "5.7.1"));
});
