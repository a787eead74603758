import assert from "node:assert/strict";
import { decodeMailboxName, encodeMailboxName, isValidMailboxName, Utf7Error } from "./utf7.ts";

const PAIRS: [string, string][] = [
  ["INBOX", "INBOX"],
  ["", ""],
  ["&", "&-"],
  ["&&", "&-&-"],
  ["A&B", "A&-B"],
  ["Café ☕", "Caf&AOk- &JhU-"],
  ["日本語", "&ZeVnLIqe-"],
  ["~peter/mail/日本語/台北", "~peter/mail/&ZeVnLIqe-/&U,BTFw-"],
  ["Folders/Ünïcödé", "Folders/&ANw-n&AO8-c&APY-d&AOk-"],
  ["😀", "&2D3eAA-"],
  ["a😀b", "a&2D3eAA-b"],
  ["tab\there", "tab&AAk-here"],
  ["é&ü", "&AOk-&-&APw-"],
  ["Sent Items", "Sent Items"],
  ["x~y\\z", "x~y\\z"],
];

Deno.test("utf7: encode and decode known pairs", () => {
  for (const [plain, enc] of PAIRS) {
    assert.equal(encodeMailboxName(plain), enc, `encode ${JSON.stringify(plain)}`);
    assert.equal(decodeMailboxName(enc), plain, `decode ${enc}`);
  }
});

Deno.test("utf7: round trip of random strings", () => {
  const alphabet = ["a", "&", "-", " ", "/", "é", "☕", "日", "😀", "\u0001", "\u007f", "Z", ","];
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let n = 0; n < 2000; n++) {
    let s = "";
    const len = rnd() % 12;
    for (let i = 0; i < len; i++) s += alphabet[rnd() % alphabet.length];
    const enc = encodeMailboxName(s);
    assert.match(enc, /^[\x20-\x7e]*$/);
    assert.equal(decodeMailboxName(enc), s);
  }
});

Deno.test("utf7: lone surrogates become U+FFFD when encoding", () => {
  assert.equal(decodeMailboxName(encodeMailboxName("a\ud800b")), "a\ufffdb");
});

Deno.test("utf7: invalid input is refused with a clear error", () => {
  const bad: [string, RegExp][] = [
    ["Caf\u00e9", /must be modified-UTF-7 encoded/],
    ["a\tb", /must be modified-UTF-7 encoded/],
    ["&AOk", /unterminated/],
    ["&", /unterminated/],
    ["&AO!-", /invalid base64 character/],
    ["&AOl-", /badly padded/], // non-zero padding bits
    ["&AOkA-", /badly padded/], // a whole extra base64 character
    ["&AGE-", /printable ASCII/], // "a" encoded
    ["&ACY-", /printable ASCII/], // "&" encoded
    ["&AOk-&AOk-", /null shift/],
    ["&2D0-", /surrogate/], // high surrogate alone
    ["&3gA-", /surrogate/], // low surrogate alone
    ["&AOk/-", /invalid base64 character/], // '/' is not in the modified alphabet
  ];
  for (const [input, re] of bad) {
    assert.throws(() => decodeMailboxName(input), (e: unknown) => {
      assert.ok(e instanceof Utf7Error, input);
      assert.match((e as Error).message, re, input);
      return true;
    });
    assert.equal(isValidMailboxName(input), false);
  }
  assert.equal(isValidMailboxName("&-&AOk-"), true);
});
