import assert from "node:assert/strict";
import { sampleMessage } from "../../store/_test_utils.ts";
import { isIndexedSearch, type RemoteAddressId, Store, type Uid } from "../../store/mod.ts";
import { MailboxView } from "../state/mailbox_view.ts";
import { HeaderSearch } from "./header_match.ts";
import type { SearchKey } from "./search_keys.ts";
import { mergeCriteria, runSearch } from "./search_query.ts";

Deno.test("mergeCriteria: bounds tighten, lists add up, contradictions give undefined", () => {
  assert.deepEqual(
    mergeCriteria([
      { since: 10, larger: 5, flagsSet: 1, keywords: ["a"] },
      { since: 20, before: 90, smaller: 50, flagsSet: 2, keywords: ["b"], modseq: 3 },
      { before: 80, larger: 7, notKeywords: ["c"] },
    ]),
    {
      since: 20,
      before: 80,
      larger: 7,
      smaller: 50,
      flagsSet: 3,
      keywords: ["a", "b"],
      notKeywords: ["c"],
      modseq: 3,
    },
  );
  assert.equal(mergeCriteria([{ deleted: true }, { deleted: false }]), undefined);
  assert.equal(mergeCriteria([{ flagsSet: 1 }, { flagsClear: 1 }]), undefined);
  assert.deepEqual(mergeCriteria([]), {});
});

// ---------------------------------------------------------------------------------------------
// Header keys answered from the index's search texts agree with HeaderSearch.contains.

const enc = new TextEncoder();
const A = "addr-a" as RemoteAddressId;

/** Pieces of field values: plain words, folding, 8-bit bytes and encoded words in many charsets. */
const VALUE_PIECES: (string | number[])[] = [
  "report",
  "REPort",
  "rep",
  "ort",
  " ",
  "\t",
  "x y",
  "k",
  "caf",
  "i",
  "ss",
  "@",
  "=?",
  "=?utf-8?B?broken",
  "\r\n ",
  "\n\t",
  "\r",
  "=?utf-8?q?rep=6Frt?=",
  "=?utf-8?b?UkVQT1JU?=",
  "=?iso-8859-1?q?caf=E9?=",
  "=?windows-1252?q?=80uro?=",
  "=?koi8-r?q?=F0=D2=C9=D7=C5=D4?=", // Привет
  "=?shift_jis?q?=93=FA=96=7B?=", // 日本
  "=?iso-2022-jp?b?GyRCRnxLXBsoQg==?=", // 日本
  "=?utf-16le?b?SABpAA==?=", // Hi
  "=?utf-16le?b?SABpAAA=?=", // Hi and half a code unit
  "=?x-unknown?q?abc?=",
  "=?utf-8?q?a=0Ab?=", // a line feed inside the decoded text
  "=?utf-8?q?a=0D=0Ab?=",
  "=?utf-8?q?a=00b?=", // NUL
  "=?utf-8?q?=C4=B0stanbul?=", // İstanbul
  "=?utf-8?q?=CE=A3=CE=A3?=", // ΣΣ: the second lower-cases to a final sigma
  "=?utf-8?b?w59TUw==?=", // ßSS
  [0xc3, 0xa9], // é in UTF-8
  [0xe9], // é in windows-1252
  [0xe2, 0x84, 0xaa], // KELVIN SIGN: lower-cases to an ASCII "k"
  [0xc4, 0xb0], // İ
  [0xce, 0xa3], // Σ
  [0xc3, 0x9f], // ß
  [0xff],
  [0x00],
];

const FIELD_NAMES = [
  "Subject",
  "subject",
  "SUBJECT ",
  "From",
  "To",
  "to",
  "CC",
  "Bcc",
  "X-Subject",
  "Subjectx",
  "Date",
  "Sub ject",
];

const NEEDLES = [
  "report",
  "REPORT",
  "rep ort",
  "port ",
  "k",
  "K",
  "i",
  "İ",
  "i\u0307",
  "istanbul",
  "café",
  "CAFÉ",
  "caf",
  "",
  "=?",
  "x y",
  "σ",
  "ς",
  "Σ",
  "σς",
  "ß",
  "ss",
  "€uro",
  "привет",
  "日本",
  "hi",
  "\ufffd",
  "\u0000",
  "a\nb",
  "\n",
  "a\r",
  "\ud800",
  "  ",
  "@",
  "abc",
];

const SEARCH_FIELDS = ["subject", "from", "to", "cc", "bcc"];

/** A deterministic pseudo-random source (mulberry32): an integer in [0, n). */
function randomSource(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** A header block with random fields, values, folding and line ends. */
function randomBlock(random: (n: number) => number): Uint8Array {
  const out: number[] = [];
  const push = (p: string | number[]) => {
    if (typeof p === "string") { for (const c of p) out.push(c.charCodeAt(0)); }
    else out.push(...p);
  };
  const eol = () => push(random(4) === 0 ? "\n" : "\r\n");
  const fields = random(8);
  for (let f = 0; f < fields; f++) {
    if (random(15) === 0) {
      push("no colon here");
      eol();
      continue;
    }
    push(FIELD_NAMES[random(FIELD_NAMES.length)]);
    push(random(5) === 0 ? ":" : ": ");
    const pieces = random(7);
    for (let i = 0; i < pieces; i++) {
      push(VALUE_PIECES[random(VALUE_PIECES.length)]);
      if (random(6) === 0) {
        eol();
        push(random(2) ? " " : "\t");
      }
    }
    eol();
  }
  if (random(6) !== 0) eol();
  return new Uint8Array(out);
}

/** What `key` should give, evaluated message by message with HeaderSearch. */
function reference(key: SearchKey, header: HeaderSearch): boolean {
  switch (key.kind) {
    case "header":
      return header.contains(key.field, key.value);
    case "and":
      return key.keys.every((k) => reference(k, header));
    case "or":
      return reference(key.left, header) || reference(key.right, header);
    case "not":
      return !reference(key.key, header);
    default:
      throw new Error(`not generated: ${key.kind}`);
  }
}

function randomKey(random: (n: number) => number, depth: number): SearchKey {
  const r = random(depth >= 3 ? 1 : 5);
  if (r === 0) {
    const fields = [...SEARCH_FIELDS, "x-subject", "date"];
    return {
      kind: "header",
      field: fields[random(fields.length)],
      value: NEEDLES[random(NEEDLES.length)],
    };
  }
  if (r === 1 || r === 2) {
    return { kind: "and", keys: [randomKey(random, depth + 1), randomKey(random, depth + 1)] };
  }
  if (r === 3) {
    return { kind: "or", left: randomKey(random, depth + 1), right: randomKey(random, depth + 1) };
  }
  return { kind: "not", key: randomKey(random, depth + 1) };
}

Deno.test("runSearch: header keys from the index's search texts answer as HeaderSearch.contains", async () => {
  const random = randomSource(7);
  const store = Store.open(":memory:");
  try {
    const box = store.mailboxes.create({ name: "INBOX", kind: "system", remoteId: null });
    const headers = new Map<Uid, Uint8Array>();
    for (let n = 1; n <= 2500; n++) {
      const header = randomBlock(random);
      const addressId = [A, "addr-b" as RemoteAddressId, null][random(3)];
      const id = store.messages.insert({
        ...sampleMessage(n, { header, addressId }),
        keywords: [],
      });
      const [uid] = store.membership.add(box.id, [id]);
      headers.set(uid, header);
    }
    // Holes in the UIDs, some wider than a store query bridges.
    const gone = [...headers.keys()].filter((u) => u % 97 < 40 || u % 13 === 0);
    store.membership.remove(box.id, gone);
    for (const u of gone) headers.delete(u);

    const mailbox = store.mailboxes.require(box.id);
    const views = [
      new MailboxView({ store, mailbox, readOnly: true }),
      new MailboxView({ store: store.forAddress(A), mailbox, readOnly: true }),
    ];
    const source = (view: MailboxView) => ({
      view,
      literal: () => Promise.reject(new Error("header keys never load a literal")),
    });
    const parsed = new Map([...headers].map(([u, h]) => [u, new HeaderSearch(h)]));
    const expect = (view: MailboxView, key: SearchKey) =>
      view.uids.filter((u) => reference(key, parsed.get(u)!));

    let indexed = 0;
    for (const field of SEARCH_FIELDS) {
      for (const value of NEEDLES) {
        const key: SearchKey = { kind: "header", field, value };
        if (isIndexedSearch(field, value)) {
          indexed++;
          // The store's answer on its own, over every UID.
          const all = store.membership.searchField(
            box.id,
            [{
              first: 1 as Uid,
              last: 100_000 as Uid,
            }],
            field,
            value,
          );
          assert.deepEqual(
            all,
            expect(views[0], key),
            `searchField ${field} ${JSON.stringify(value)}`,
          );
        }
        for (const view of views) {
          assert.deepEqual(
            await runSearch(source(view), key),
            expect(view, key),
            `${field} ${JSON.stringify(value)} (${view.store.addressId ?? "all"})`,
          );
        }
      }
    }
    assert.ok(indexed >= SEARCH_FIELDS.length * (NEEDLES.length - 4), `${indexed} indexed`);

    // AND, OR and NOT of indexed keys with keys that still read header blocks.
    for (let round = 0; round < 100; round++) {
      const key = randomKey(random, 0);
      for (const view of views) {
        assert.deepEqual(
          await runSearch(source(view), key),
          expect(view, key),
          JSON.stringify(key),
        );
      }
    }
  } finally {
    store.close();
  }
});

Deno.test("runSearch: SUBJECT … FROM … reads no header block; HEADER Date does", async () => {
  const prepared: string[] = [];
  const store = Store.open(":memory:", { onPrepare: (sql) => prepared.push(sql) });
  try {
    const box = store.mailboxes.create({ name: "INBOX", kind: "system", remoteId: null });
    for (let n = 1; n <= 5; n++) {
      const header = enc.encode(
        `Subject: ${n % 2 ? "report" : "note"} ${n}\r\nFrom: a${n}@x\r\nDate: x\r\n\r\n`,
      );
      const id = store.messages.insert({ ...sampleMessage(n, { header }), keywords: [] });
      store.membership.add(box.id, [id]);
    }
    const view = new MailboxView({
      store,
      mailbox: store.mailboxes.require(box.id),
      readOnly: true,
    });
    const source = { view, literal: () => Promise.reject(new Error("no literal")) };
    const readsBlocks = () => prepared.some((sql) => /\bm\.header\b/.test(sql));
    const key: SearchKey = {
      kind: "and",
      keys: [
        { kind: "header", field: "subject", value: "REPORT" },
        { kind: "not", key: { kind: "header", field: "from", value: "a5@" } },
        { kind: "or", left: { kind: "header", field: "cc", value: "" }, right: { kind: "all" } },
      ],
    };
    assert.deepEqual(await runSearch(source, key), [1, 3]);
    assert.ok(!readsBlocks());
    assert.deepEqual(
      await runSearch(source, { kind: "header", field: "date", value: "x" }),
      [1, 2, 3, 4, 5],
    );
    assert.ok(readsBlocks());
  } finally {
    store.close();
  }
});

Deno.test("runSearch: a UID range narrows the store queries to it; results as without", async () => {
  const store = Store.open(":memory:");
  try {
    const box = store.mailboxes.create({ name: "INBOX", kind: "system", remoteId: null });
    for (let n = 1; n <= 400; n++) {
      const id = store.messages.insert({ ...sampleMessage(n), keywords: [] });
      store.membership.add(box.id, [id]);
    }
    const view = new MailboxView({
      store,
      mailbox: store.mailboxes.require(box.id),
      readOnly: true,
    });
    // Expunged elsewhere but still in this session's snapshot: never a result.
    store.membership.remove(box.id, [5 as Uid]);
    const asked: unknown[] = [];
    const search = store.membership.search.bind(store.membership);
    store.membership.search = (mailbox, criteria) => {
      asked.push(criteria.uids ?? "all");
      return search(mailbox, criteria);
    };
    const source = { view, literal: () => Promise.reject(new Error("no literal")) };
    const range = (first: number, last: number) => ({
      kind: "uid" as const,
      set: { resolve: () => [[first, last]] } as never,
    });
    const unseen: SearchKey = { kind: "index", criteria: { flagsClear: 1 } };
    const narrow: SearchKey = { kind: "and", keys: [range(1, 10), unseen] };
    const got = await runSearch(source, narrow);
    assert.deepEqual(got, [1, 2, 3, 4, 6, 7, 8, 9, 10]);
    assert.deepEqual(asked, [[{ first: 1, last: 10 }], [{ first: 1, last: 10 }]]);
    // The whole mailbox: one query over all of it.
    asked.length = 0;
    assert.equal((await runSearch(source, unseen)).length, 399);
    assert.deepEqual(asked, ["all", "all"]);
  } finally {
    store.close();
  }
});
