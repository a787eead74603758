import assert from "node:assert/strict";
import { bytesToBinary } from "./_bytes.ts";
import { corpusMessage, corpusNames } from "./_test_corpus.ts";
import { body, bodyStructure } from "./body_structure.ts";
import { MAX_DEPTH, type MimePart, parseMessage } from "./entity.ts";
import { envelopeOf, serializeEnvelope } from "./envelope.ts";
import { sectionBytes } from "./part_bytes.ts";
import { decodeTransfer } from "./transfer_encoding.ts";
import { decodeParams } from "./encoded_word.ts";

const enc = new TextEncoder();

Deno.test("parseMessage() builds the tree of a nested message with offsets into the source", () => {
  const { crlf } = corpusMessage("06_nested_deep.eml");
  const root = parseMessage(crlf);
  assert.equal(root.mimeType, "multipart/mixed");
  assert.deepEqual(root.children.map((c) => c.mimeType), ["multipart/related", "application/pdf"]);
  const related = root.children[0];
  assert.deepEqual(related.path, [1]);
  const alt = related.children[0];
  assert.deepEqual(alt.children.map((c) => c.section), ["1.1.1", "1.1.2"]);
  const plain = alt.children[0];
  assert.equal(plain.encoding, "quoted-printable");
  assert.equal(
    new TextDecoder().decode(decodeTransfer(plain.bodyData(), plain.encoding)),
    "Café with a soft break.",
  );
  const png = related.children[1];
  assert.equal(png.id, "<img1@example.com>");
  assert.equal(png.disposition?.type, "inline");
  assert.equal(png.filename, "pixel.png");
  assert.deepEqual([...decodeTransfer(png.bodyData(), "base64")], [...Array(200).keys()]);
  assert.equal(root.children[1].filename, "report.pdf");
});

Deno.test("parseMessage() gives message/rfc822 parts their encapsulated message", () => {
  const root = parseMessage(corpusMessage("07_rfc822_attachment.eml").crlf);
  const fwd = root.children[1];
  assert.equal(fwd.mimeType, "message/rfc822");
  assert.ok(fwd.message);
  assert.equal(fwd.message.header.get("subject"), "inner message");
  assert.deepEqual(fwd.message.children.map((c) => c.section), ["2.1", "2.2"]);
  assert.equal(envelopeOf(fwd.message.header).messageId, "<inner-1@example.net>");
});

Deno.test("parseMessage() decodes RFC 2231 and RFC 2047 attachment names", () => {
  const root = parseMessage(corpusMessage("14_rfc2231_names.eml").crlf);
  assert.deepEqual(root.children.map((c) => c.filename), [
    undefined,
    "€ rates.txt",
    "café long nameé.txt",
    "école.txt",
  ]);
  assert.deepEqual(root.children[3].language, ["fr", "en-US"]);
  assert.equal(root.children[3].location, "http://example.com/ecole.txt");
});

Deno.test("parseMessage() handles missing and wrong boundaries without children", () => {
  for (
    const name of [
      "11_missing_boundary_param.eml",
      "12_wrong_boundary.eml",
      "22_empty_multipart.eml",
    ]
  ) {
    const root = parseMessage(corpusMessage(name).crlf);
    assert.ok(root.isMultipart, name);
    assert.equal(root.children.length, 0, name);
  }
  const root = parseMessage(corpusMessage("13_missing_final_boundary.eml").crlf);
  assert.equal(root.children.length, 2);
  assert.equal(bytesToBinary(root.children[1].bodyData()), "second part never closed\r\n");
});

Deno.test("parseMessage() parses bare-LF messages", () => {
  const root = parseMessage(corpusMessage("05_bare_lf.eml").raw);
  assert.equal(root.children.length, 2);
  assert.equal(bytesToBinary(root.children[0].bodyData()), "plain part\nline two");
  assert.equal(root.children[0].lines, 1);
  assert.equal(bytesToBinary(root.children[1].bodyData()), "<p>html part</p>");
});

Deno.test("parseMessage() treats nesting past the limit as a leaf", () => {
  const depth = MAX_DEPTH + 30;
  let text = "";
  for (let i = 0; i < depth; i++) {
    text += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
  }
  text += "Content-Type: text/plain\r\n\r\nleaf\r\n";
  const root = parseMessage(enc.encode(text));
  let levels = 0;
  let p: MimePart | undefined = root;
  while (p && p.children.length) {
    levels++;
    p = p.children[0];
  }
  assert.equal(levels, MAX_DEPTH);
  bodyStructure(root);
});

Deno.test("parseMessage() handles empty input, header-only and body-only messages", () => {
  const empty = parseMessage(new Uint8Array(0));
  assert.equal(empty.size, 0);
  assert.equal(empty.header.fields.length, 0);
  const headerOnly = parseMessage(corpusMessage("03_header_only.eml").crlf);
  assert.equal(headerOnly.size, 0);
  assert.equal(headerOnly.header.get("subject"), "header only");
  const noHeader = parseMessage(corpusMessage("24_no_header_blank_line.eml").crlf);
  assert.equal(noHeader.header.fields.length, 0);
  assert.equal(noHeader.body[0], 2);
});

// ---------------------------------------------------------------------------------------------
// Fuzzing: the parser and everything computed from it must never throw.
// ---------------------------------------------------------------------------------------------

/** Small deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "\r\n",
  "\n",
  "\r",
  "--",
  "--b",
  "--b--",
  ": ",
  ";",
  "=",
  '"',
  "\\",
  "(",
  ")",
  "<",
  ">",
  "@",
  ",",
  "Content-Type: multipart/mixed; boundary=b\r\n",
  "Content-Type: message/rfc822\r\n",
  'Content-Type: multipart/digest; boundary="b"\r\n',
  "Content-Transfer-Encoding: base64\r\n",
  "Content-Disposition: attachment; filename*0*=utf-8''%E2; filename*1=x\r\n",
  'From: "a" <b@c>, g: d@e;\r\n',
  "Subject: =?utf-8?b?w6k=?= =?x?q?_?=\r\n",
  "\r\n\r\n",
  " ",
  "\t",
  "=?",
  "?=",
  "\x00",
  "\xff",
  "\xe9",
];

function randomMessage(r: () => number): Uint8Array {
  const n = Math.floor(r() * 60);
  let s = "";
  for (let i = 0; i < n; i++) {
    if (r() < 0.6) s += PIECES[Math.floor(r() * PIECES.length)];
    else {
      const len = Math.floor(r() * 12);
      for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(r() * 256));
    }
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  let b = Array.from(src);
  const ops = 1 + Math.floor(r() * 8);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(r() * (b.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0: // flip a byte
        if (b.length) b[at % b.length] = Math.floor(r() * 256);
        break;
      case 1: // delete a chunk
        b.splice(at, Math.floor(r() * 40));
        break;
      case 2: { // duplicate a chunk elsewhere
        const from = Math.floor(r() * (b.length + 1));
        b.splice(at, 0, ...b.slice(from, from + Math.floor(r() * 200)));
        break;
      }
      case 3: // insert a structural piece
        b.splice(
          at,
          0,
          ...Array.from(PIECES[Math.floor(r() * PIECES.length)], (c) => c.charCodeAt(0) & 0xff),
        );
        break;
      case 4: // truncate
        b = b.slice(0, at);
        break;
      default: // swap CRLF for LF somewhere
        for (let i = at; i < b.length; i++) {
          if (b[i] === 13) {
            b.splice(i, 1);
            break;
          }
        }
    }
  }
  return new Uint8Array(b);
}

const SPECS = [
  "",
  "HEADER",
  "TEXT",
  "MIME",
  "HEADER.FIELDS (From Subject)",
  "HEADER.FIELDS.NOT (To)",
];

function exercise(bytes: Uint8Array): void {
  const root = parseMessage(bytes);
  bodyStructure(root);
  body(root);
  serializeEnvelope(envelopeOf(root.header));
  for (const part of root.walk()) {
    const [hs, he] = part.headerBytes;
    const [bs, be] = part.body;
    assert.ok(0 <= hs && hs <= he && he <= bs && bs <= be && be <= bytes.length);
    void part.lines;
    void part.filename;
    decodeTransfer(part.bodyData(), part.encoding);
    if (part.path.length) {
      for (const s of SPECS) sectionBytes(root, part.section + (s ? "." + s : ""));
    }
  }
  for (const s of SPECS) sectionBytes(root, s === "MIME" ? "1.MIME" : s, { offset: 3, length: 10 });
}

Deno.test("parseMessage() never throws on random bytes (fuzz)", () => {
  const r = rng(0x5eed);
  for (let i = 0; i < 2000; i++) {
    const msg = randomMessage(r);
    try {
      exercise(msg);
    } catch (e) {
      throw new Error(`iteration ${i}: ${JSON.stringify(bytesToBinary(msg))}`, { cause: e });
    }
  }
});

Deno.test("parseMessage() never throws on mutated corpus messages (fuzz)", () => {
  const r = rng(0xc0ffee);
  const corpus = corpusNames().map((n) => corpusMessage(n).raw);
  for (let i = 0; i < 2000; i++) {
    const msg = mutate(corpus[i % corpus.length], r);
    try {
      exercise(msg);
    } catch (e) {
      throw new Error(`iteration ${i}: ${JSON.stringify(bytesToBinary(msg))}`, { cause: e });
    }
  }
});

Deno.test("parseMessage() is linear on many parts and long lines", () => {
  let text = "Content-Type: multipart/mixed; boundary=x\r\n\r\n";
  for (let i = 0; i < 20_000; i++) text += "--x\r\nContent-Type: text/plain\r\n\r\npart\r\n";
  text += "--x--\r\n" + "y".repeat(2_000_000);
  const t0 = performance.now();
  const root = parseMessage(enc.encode(text));
  bodyStructure(root);
  assert.equal(root.children.length, 20_000);
  assert.ok(performance.now() - t0 < 5_000);
});

Deno.test("parsing stays fast and safe on pathological headers", () => {
  const big = "x".repeat(300_000);
  const many = Array.from({ length: 20_000 }, (_, i) => `; p${i}*0*=utf-8''a; p${i}*1=b`).join("");
  const addrs = Array.from({ length: 20_000 }, (_, i) => `"N${i}" <u${i}@h.example>`).join(", ");
  const text =
    `From: ${addrs}\r\nTo: ${"(".repeat(50_000)}x@y\r\nSubject: ${
      "=?utf-8?q?a?= ".repeat(20_000)
    }\r\n` +
    `Content-Type: text/plain; name*0*=utf-8''${big}; name*1=${big}${many}\r\n` +
    `Content-Disposition: attachment; filename="${big}\r\nX-Long: ${big}\r\n\r\nbody`;
  const t0 = performance.now();
  const root = parseMessage(enc.encode(text));
  assert.equal(root.filename?.length, 300_000); // the unterminated quoted filename
  assert.equal(decodeParams(root.params).get("name")?.length, 600_000);
  assert.equal(envelopeOf(root.header).from?.length, 20_000);
  bodyStructure(root);
  serializeEnvelope(envelopeOf(root.header));
  root.header.getText("subject");
  assert.ok(performance.now() - t0 < 10_000);
});
