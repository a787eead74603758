import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { bytesToBinary } from "./_bytes.ts";
import { bodyStructure } from "./body_structure.ts";
import {
  type BuildInput,
  buildMessage,
  buildPlaceholder,
  canonicalHeaderKey,
  stripMboxFromLines,
} from "./build.ts";
import { decodeEncodedWords } from "./encoded_word.ts";
import { type MimePart, parseMessage } from "./entity.ts";
import { envelopeOf } from "./envelope.ts";
import { decodeTransfer } from "./transfer_encoding.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function input(over: Partial<BuildInput> = {}): BuildInput {
  return {
    id: "msgID1==",
    subject: "Hello",
    sender: { name: "Alice", address: "alice@example.com" },
    to: [{ name: "", address: "bob@example.org" }],
    cc: [],
    bcc: [],
    replyTos: [],
    time: 1_700_000_000,
    flags: 1,
    isDraft: false,
    parsedHeaders: {
      Subject: "Hello",
      From: "Alice <alice@example.com>",
      To: "bob@example.org",
      Date: "Mon, 7 Feb 1994 21:52:25 -0800",
      "Message-Id": "<orig@example.com>",
      "Mime-Version": "1.0",
    },
    mimeType: "text/plain",
    body: enc.encode("Hi Bob,\r\nsee you.\r\n"),
    attachments: [],
    ...over,
  };
}

function text(bytes: Uint8Array): string {
  return bytesToBinary(bytes);
}

function assertCrlfOnly(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) assert.equal(bytes[i - 1], 13, `bare LF at ${i}`);
    if (bytes[i] === 13) assert.equal(bytes[i + 1], 10, `bare CR at ${i}`);
  }
}

function decodedBody(p: MimePart): string {
  return dec.decode(decodeTransfer(p.bodyData(), p.encoding));
}

Deno.test("buildMessage() writes a single-part message exactly like the bridge", () => {
  const out = text(buildMessage(input({ externalID: "orig@example.com" })));
  assert.equal(
    out,
    [
      "Content-Transfer-Encoding: quoted-printable",
      "Content-Type: text/plain; charset=utf-8",
      "References: <msgID1==@protonmail.internalid>",
      "X-Pm-Date: Tue, 14 Nov 2023 22:13:20 +0000",
      "X-Pm-External-Id: <orig@example.com>",
      "X-Pm-Internal-Id: msgID1==",
      "To: <bob@example.org>",
      'From: "Alice" <alice@example.com>',
      "Subject: Hello",
      "Date: Mon, 7 Feb 1994 21:52:25 -0800",
      "Message-Id: <orig@example.com>",
      "Mime-Version: 1.0",
      "",
      "Hi Bob,",
      "see you.",
      "",
    ].join("\r\n"),
  );
});

Deno.test("buildMessage() is deterministic", () => {
  const msg = input({
    attachments: [
      {
        id: "a1",
        name: "x.png",
        mimeType: "image/png",
        disposition: "inline",
        headers: { "Content-Id": "<c1>" },
        data: new Uint8Array([1, 2, 3]),
      },
      {
        id: "a2",
        name: "y.pdf",
        mimeType: "application/pdf",
        disposition: "attachment",
        headers: {},
        data: new Uint8Array(300),
      },
    ],
  });
  assert.deepEqual(buildMessage(msg), buildMessage(msg));
  assert.deepEqual(
    buildMessage(
      input({ mimeType: "multipart/mixed", body: enc.encode("Content-Type: text/plain\n\nx\n") }),
    ),
    buildMessage(
      input({ mimeType: "multipart/mixed", body: enc.encode("Content-Type: text/plain\n\nx\n") }),
    ),
  );
});

Deno.test("buildMessage() synthesises Subject, addresses and Reply-To", () => {
  const root = parseMessage(buildMessage(input({
    subject: "Grüße – ünïcode",
    sender: { name: "Jürgen", address: "j@example.de" },
    to: [{ name: "A, B", address: "ab@x.y" }, { name: "", address: "c@x.y" }],
    cc: [{ name: "Zoë", address: "z@x.y" }],
    bcc: [{ name: "", address: "hidden@x.y" }],
    replyTos: [{ name: "Replies", address: "r@x.y" }],
    parsedHeaders: {},
  })));
  const h = root.header;
  assert.equal(h.get("subject"), "=?utf-8?q?Gr=C3=BC=C3=9Fe_=E2=80=93_=C3=BCn=C3=AFcode?=");
  assert.equal(h.getText("subject"), "Grüße – ünïcode");
  assert.equal(h.get("from"), "=?utf-8?q?J=C3=BCrgen?= <j@example.de>");
  assert.equal(h.get("to"), '"A, B" <ab@x.y>, <c@x.y>');
  assert.equal(h.get("cc"), "=?utf-8?q?Zo=C3=AB?= <z@x.y>");
  assert.equal(h.get("bcc"), "<hidden@x.y>");
  assert.equal(h.get("reply-to"), '"Replies" <r@x.y>');
  const env = envelopeOf(h);
  assert.equal(decodeEncodedWords(env.from![0].name!), "Jürgen");
  assert.equal(env.replyTo![0].mailbox, "r");
  // Drafts get no Reply-To, nor does a single empty one.
  const draft = parseMessage(
    buildMessage(
      input({ isDraft: true, replyTos: [{ name: "R", address: "r@x.y" }], parsedHeaders: {} }),
    ),
  );
  assert.equal(draft.header.get("reply-to"), undefined);
  const empty = parseMessage(
    buildMessage(input({ replyTos: [{ name: "", address: "" }], parsedHeaders: {} })),
  );
  assert.equal(empty.header.get("reply-to"), undefined);
});

Deno.test("buildMessage() falls back for Message-Id", () => {
  const noId = { Subject: "Hello" };
  assert.equal(
    parseMessage(buildMessage(input({ parsedHeaders: noId }))).header.get("message-id"),
    "<msgID1==@protonmail.internalid>",
  );
  assert.equal(
    parseMessage(buildMessage(input({ parsedHeaders: noId, externalID: "ext@x" }))).header.get(
      "message-id",
    ),
    "<ext@x>",
  );
  assert.equal(
    parseMessage(buildMessage(input({ externalID: "ext@x" }))).header.get("message-id"),
    "<orig@example.com>",
  );
});

Deno.test("buildMessage() sanitises the Date", () => {
  const h1 = parseMessage(buildMessage(input({ parsedHeaders: { Subject: "s" } }))).header;
  assert.equal(h1.get("date"), "Tue, 14 Nov 2023 22:13:20 +0000");
  assert.equal(h1.get("x-original-date"), "Mon, 01 Jan 0001 00:00:00 +0000");
  const h2 =
    parseMessage(buildMessage(input({ parsedHeaders: { Date: "Thu, 1 Jan 1960 10:00:00 +0100" } })))
      .header;
  assert.equal(h2.get("date"), "Tue, 14 Nov 2023 22:13:20 +0000");
  assert.equal(h2.get("x-original-date"), "Fri, 01 Jan 1960 09:00:00 +0000");
  const h3 = parseMessage(
    buildMessage(
      input({ time: 0, parsedHeaders: { Date: "garbage", "X-Original-Date": "kept" } }),
    ),
  ).header;
  assert.equal(h3.get("date"), "Fri, 13 Aug 1982 00:00:00 +0000");
  assert.equal(h3.get("x-original-date"), "kept");
  assert.equal(h3.get("x-pm-date"), "Thu, 01 Jan 1970 00:00:00 +0000");
  const h4 =
    parseMessage(buildMessage(input({ parsedHeaders: { Date: "7 Feb 94 21:52 PST (comment)" } })))
      .header;
  assert.equal(h4.get("date"), "7 Feb 94 21:52 PST (comment)");
  assert.equal(h4.get("x-original-date"), undefined);
});

Deno.test("buildMessage() appends the internal ID to References once", () => {
  const h =
    parseMessage(buildMessage(input({ parsedHeaders: { References: "<a@x> <b@x>" } }))).header;
  assert.equal(h.get("references"), "<a@x> <b@x> <msgID1==@protonmail.internalid>");
  const again = parseMessage(
    buildMessage(input({ parsedHeaders: { References: "<msgID1==@protonmail.internalid>" } })),
  ).header;
  assert.deepEqual(again.getAll("references"), ["<msgID1==@protonmail.internalid>"]);
});

Deno.test("buildMessage() keeps API headers raw, in order, including repeated ones", () => {
  const out = text(buildMessage(input({
    parsedHeaders: [
      ["X-Very-Long-Header-Name-That-Is-Longer-Than-Seventy-Six-Characters-For-Sure-Yes", "v"],
      ["Received", "a"],
      ["Received", "b"],
      ["X-Multi", "line1\nline2"],
    ],
  })));
  assert.match(
    out,
    /\r\nX-Very-Long-Header-Name-That-Is-Longer-Than-Seventy-Six-Characters-For-Sure-Yes: v\r\nReceived: a\r\nReceived: b\r\nX-Multi: line1\r\n line2\r\n/,
  );
  const obj = text(
    buildMessage(input({ parsedHeaders: { Received: ["r1", "r2"], "X-Spam": "no" } })),
  );
  assert.match(obj, /\r\nReceived: r1\r\nReceived: r2\r\nX-Spam: no\r\n/);
});

Deno.test("buildMessage() sets charset=utf-8 only for valid UTF-8 bodies", () => {
  const latin = parseMessage(
    buildMessage(input({ body: new Uint8Array([0x63, 0x61, 0x66, 0xe9]) })),
  );
  assert.equal(latin.header.get("content-type"), "text/plain");
  assert.deepEqual([...decodeTransfer(latin.bodyData(), latin.encoding)], [0x63, 0x61, 0x66, 0xe9]);
  const html = parseMessage(
    buildMessage(input({ mimeType: "text/html", body: enc.encode("<p>é</p>") })),
  );
  assert.equal(html.header.get("content-type"), "text/html; charset=utf-8");
  assert.equal(decodedBody(html), "<p>é</p>");
});

Deno.test("buildMessage() lays out attachments: related for inline, mixed for the rest", () => {
  const png = new Uint8Array(200).map((_, i) => i);
  const msg = input({
    mimeType: "text/html",
    body: enc.encode('<img src="cid:c1">'),
    attachments: [
      {
        id: "a1",
        name: "pixel.png",
        mimeType: "image/png",
        disposition: "inline",
        headers: { "Content-Id": "<c1>", "Content-Type": "image/png" },
        data: png,
      },
      {
        id: "a2",
        name: "Résumé.pdf",
        mimeType: "application/pdf",
        disposition: "attachment",
        headers: {},
        data: enc.encode("%PDF"),
      },
      {
        id: "a3",
        name: "fwd.eml",
        mimeType: "message/rfc822",
        disposition: "attachment",
        headers: {},
        data: enc.encode("Subject: inner\n\nbody\n"),
      },
      {
        id: "a5",
        name: "latin.eml",
        mimeType: "message/rfc822",
        disposition: "attachment",
        headers: {},
        data: new Uint8Array([...enc.encode("Subject: 8-bit\n\ncaf"), 0xe9, 0x0a]),
      },
      {
        id: "a4",
        name: "notes.txt",
        mimeType: "text/plain; charset=iso-8859-1",
        disposition: "attachment",
        headers: {},
        data: new Uint8Array([0xe9]),
      },
    ],
  });
  const bytes = buildMessage(msg);
  assertCrlfOnly(bytes);
  const root = parseMessage(bytes);
  const b1 = sha(msg.id);
  const b2 = sha(b1);
  assert.equal(root.header.get("content-type"), `multipart/mixed; boundary=${b1}`);
  assert.equal(root.header.get("content-transfer-encoding"), undefined);
  assert.deepEqual(root.children.map((c) => c.mimeType), [
    "multipart/related",
    "application/pdf",
    "message/rfc822",
    "message/rfc822",
    "text/plain",
  ]);
  const related = root.children[0];
  assert.equal(related.header.get("content-type"), `multipart/related; boundary=${b2}`);
  assert.deepEqual(related.children.map((c) => c.mimeType), ["text/html", "image/png"]);
  assert.equal(decodedBody(related.children[0]), '<img src="cid:c1">');
  const img = related.children[1];
  assert.equal(img.id, "<c1>");
  assert.equal(img.header.get("content-type"), "image/png; filename=pixel.png; name=pixel.png");
  assert.equal(img.header.get("content-disposition"), "inline; filename=pixel.png");
  assert.deepEqual(decodeTransfer(img.bodyData(), img.encoding), png);
  assert.deepEqual(img.header.fields.map((f) => f.name), [
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-Type",
    "Content-Id",
  ]);
  const pdf = root.children[1];
  assert.equal(
    pdf.header.get("content-type"),
    'application/pdf; filename="=?utf-8?q?R=C3=A9sum=C3=A9.pdf?="; name="=?utf-8?q?R=C3=A9sum=C3=A9.pdf?="',
  );
  assert.equal(pdf.filename, "Résumé.pdf");
  const eml = root.children[2];
  assert.equal(eml.encoding, null);
  assert.equal(eml.message?.header.get("subject"), "inner");
  // A message with 8-bit bytes says 8bit (7bit, the default, would be false).
  assert.equal(root.children[3].encoding, "8bit");
  assert.equal(root.children[3].message?.header.get("subject"), "8-bit");
  assert.equal(
    root.children[4].header.get("content-type"),
    "text/plain; charset=iso-8859-1; filename=notes.txt; name=notes.txt",
  );
  // The BODYSTRUCTURE of the result is computable and starts with the related part.
  assert.match(
    text(bodyStructure(root)),
    /^\(\(\("text" "html" \("charset" "utf-8"\) NIL NIL "quoted-printable"/,
  );
});

Deno.test("buildMessage() writes armored placeholders for parts that failed to decrypt", () => {
  const armored = "-----BEGIN PGP MESSAGE-----\n\nwcBMAAAA\n=abcd\n-----END PGP MESSAGE-----\n";
  const root = parseMessage(buildMessage(input({
    body: { error: "no key", armored },
    attachments: [{
      id: "a1",
      name: "doc.pdf",
      mimeType: "application/pdf",
      disposition: "attachment",
      headers: {},
      data: { error: "bad packet", armored },
    }],
  })));
  assert.equal(root.mimeType, "multipart/mixed");
  const [t, a] = root.children;
  assert.equal(t.header.get("content-type"), "text/plain");
  assert.equal(t.encoding, null);
  assert.equal(
    text(t.bodyData()),
    "-----BEGIN PGP MESSAGE-----\r\nComment: This message could not be decrypted: no key\r\n\r\nwcBMAAAA\r\n=abcd\r\n-----END PGP MESSAGE-----\r\n",
  );
  assert.equal(a.header.get("content-type"), "application/octet-stream; name=doc.pdf.pgp");
  assert.equal(a.header.get("content-disposition"), "attachment; filename=doc.pdf.pgp");
  assert.match(text(a.bodyData()), /Comment: This attachment could not be decrypted: bad packet/);
  // A single-part message whose body failed becomes multipart/mixed too.
  const simple = parseMessage(buildMessage(input({ body: { error: "x", armored } })));
  assert.equal(simple.mimeType, "multipart/mixed");
  assert.equal(simple.children.length, 1);
});

const ENTITY = "From nobody Mon Jan  1 00:00:00 2001\r\n" +
  'Content-Type: multipart/alternative; boundary="inner"\r\n' +
  "Content-Transfer-Encoding: 7bit\r\n\r\n" +
  "--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain\r\n" +
  "--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<b>html</b>\r\n--inner--\r\n";

Deno.test("buildMessage() rebuilds PGP/MIME as multipart/signed when a signature is given", () => {
  const sig = "-----BEGIN PGP SIGNATURE-----\n\nwnUE\n=AAAA\n-----END PGP SIGNATURE-----\n";
  const msg = input({
    mimeType: "multipart/mixed",
    body: enc.encode(ENTITY),
    signature: { armored: sig, micalg: "pgp-sha256" },
    parsedHeaders: {
      Subject: "Hello",
      "Content-Type": "multipart/encrypted; boundary=x",
      "Content-Transfer-Encoding": "7bit",
    },
  });
  const bytes = buildMessage(msg);
  assertCrlfOnly(bytes);
  const root = parseMessage(bytes);
  const b = sha(msg.id);
  assert.equal(
    root.header.get("content-type"),
    `multipart/signed; boundary=${b}; micalg=pgp-sha256; protocol="application/pgp-signature"`,
  );
  assert.equal(root.header.get("content-transfer-encoding"), undefined);
  assert.equal(root.header.get("mime-version"), "1.0");
  assert.deepEqual(root.children.map((c) => c.mimeType), [
    "multipart/alternative",
    "application/pgp-signature",
  ]);
  assert.deepEqual(root.children[0].children.map((c) => text(c.bodyData())), [
    "plain",
    "<b>html</b>",
  ]);
  assert.equal(root.children[0].header.fields.some((f) => f.name.startsWith("From ")), false);
  const s = root.children[1];
  assert.equal(s.filename, "OpenPGP_signature");
  assert.equal(s.description, "OpenPGP digital signature");
  assert.equal(text(s.bodyData()), sig.replace(/\n/g, "\r\n"));
});

Deno.test("buildMessage() merges the decrypted entity's header without a signature", () => {
  const root = parseMessage(buildMessage(input({
    mimeType: "multipart/mixed",
    body: enc.encode(ENTITY.replace(/\r\n/g, "\n")),
    parsedHeaders: {
      Subject: "Hello",
      "Content-Type": "multipart/encrypted; boundary=x",
      "Content-Transfer-Encoding": "base64",
    },
  })));
  assert.equal(root.mimeType, "multipart/alternative");
  assert.equal(root.header.get("content-transfer-encoding"), "7bit");
  assert.deepEqual(root.children.map((c) => text(c.bodyData())), ["plain", "<b>html</b>"]);
  assert.equal(root.header.get("subject"), "Hello");
});

Deno.test("buildMessage() wraps an undecryptable PGP/MIME body in multipart/encrypted", () => {
  const armored = "-----BEGIN PGP MESSAGE-----\n\nwcBM\n-----END PGP MESSAGE-----\n";
  const root = parseMessage(
    buildMessage(input({ mimeType: "multipart/mixed", body: { error: "no key", armored } })),
  );
  assert.equal(
    root.header.get("content-type"),
    `multipart/encrypted; boundary=${sha("msgID1==")}; protocol="application/pgp-encrypted"`,
  );
  assert.deepEqual(root.children.map((c) => c.mimeType), [
    "application/pgp-encrypted",
    "application/octet-stream",
  ]);
  assert.equal(text(root.children[0].bodyData()), "Version: 1");
  assert.equal(root.children[1].filename, "encrypted.asc");
  assert.equal(text(root.children[1].bodyData()), armored.replace(/\n/g, "\r\n"));
});

Deno.test("stripMboxFromLines() removes From lines from the header area only", () => {
  const out = text(
    stripMboxFromLines(enc.encode("From a@b Mon\n>From x\nSubject: s\n\nFrom the body\n")),
  );
  assert.equal(out, "Subject: s\n\nFrom the body\n");
});

Deno.test("buildPlaceholder() writes the bridge's failed-message literal", () => {
  const bytes = buildPlaceholder("id-1", "Sübject", "boom", { time: 1_700_000_000 });
  assertCrlfOnly(bytes);
  const root = parseMessage(bytes);
  assert.equal(root.header.get("subject"), "Message failed to build");
  assert.equal(root.header.get("date"), "14 Nov 23 22:13 UTC");
  assert.equal(
    decodedBody(root),
    "Failed to build message: \nSubject:   Sübject\nError:     boom\nMessageID: id-1\n",
  );
  assert.equal(
    parseMessage(buildPlaceholder("x", "s", "e")).header.get("date"),
    "13 Aug 82 00:00 UTC",
  );
});

Deno.test("canonicalHeaderKey() matches Go", () => {
  assert.equal(canonicalHeaderKey("message-id"), "Message-Id");
  assert.equal(canonicalHeaderKey("MIME-VERSION"), "Mime-Version");
  assert.equal(canonicalHeaderKey("x-pm-internal-id"), "X-Pm-Internal-Id");
  assert.equal(canonicalHeaderKey("bad key"), "bad key");
});

Deno.test("buildMessage() output round-trips through the parser for every layout", () => {
  const layouts: Partial<BuildInput>[] = [
    {},
    { mimeType: "text/html", body: enc.encode("x".repeat(500) + "\n" + "é".repeat(100)) },
    {
      attachments: [{
        id: "a",
        name: "a.bin",
        mimeType: "application/octet-stream",
        disposition: "attachment",
        headers: {},
        data: new Uint8Array(10_000),
      }],
    },
    { mimeType: "multipart/mixed", body: enc.encode(ENTITY) },
  ];
  for (const l of layouts) {
    const bytes = buildMessage(input(l));
    assertCrlfOnly(bytes);
    const root = parseMessage(bytes);
    for (const line of text(root.headerData()).split("\r\n")) assert.ok(line.length <= 998);
    assert.equal(envelopeOf(root.header).subject, "Hello");
    bodyStructure(root);
  }
});

Deno.test("buildMessage() never throws and always writes CRLF on hostile input (fuzz)", () => {
  let seed = 42;
  const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const junk = () => {
    const n = Math.floor(r() * 12);
    let s = "";
    for (let i = 0; i < n; i++) {
      const pick = r();
      s += pick < 0.2
        ? "\r\n"
        : pick < 0.3
        ? ":"
        : pick < 0.4
        ? '"'
        : pick < 0.5
        ? "é€"
        : String.fromCharCode(Math.floor(r() * 128));
    }
    return s;
  };
  const addr = () => ({ name: junk(), address: junk() });
  const data = () => r() < 0.2 ? { error: junk(), armored: junk() } : enc.encode(junk());
  for (let i = 0; i < 500; i++) {
    const msg: BuildInput = {
      id: junk() || "id",
      externalID: r() < 0.5 ? junk() : undefined,
      subject: junk(),
      sender: addr(),
      to: [addr()],
      cc: r() < 0.5 ? [addr(), addr()] : [],
      bcc: [],
      replyTos: r() < 0.5 ? [addr()] : [],
      time: Math.floor((r() - 0.2) * 2e9),
      flags: 0,
      isDraft: r() < 0.2,
      parsedHeaders: [[junk() || "X", junk()], ["Date", junk()], ["References", junk()]],
      mimeType: ["text/plain", "text/html", "multipart/mixed", junk()][Math.floor(r() * 4)],
      body: data(),
      attachments: r() < 0.5 ? [] : [
        {
          id: "a",
          name: junk(),
          mimeType: junk(),
          disposition: ["inline", "attachment", junk()][Math.floor(r() * 3)],
          headers: { [junk() || "H"]: junk() },
          data: data(),
        },
        {
          id: "b",
          name: junk(),
          mimeType: "message/rfc822",
          disposition: "attachment",
          headers: {},
          data: data(),
        },
      ],
      signature: r() < 0.3 ? { armored: junk(), micalg: junk() } : undefined,
    };
    let bytes: Uint8Array;
    try {
      bytes = buildMessage(msg);
    } catch (e) {
      throw new Error(`iteration ${i}: ${JSON.stringify(msg)}`, { cause: e });
    }
    assertCrlfOnly(bytes);
    bodyStructure(parseMessage(bytes));
  }
});
