import assert from "node:assert/strict";
import type { Message } from "../api/mod.ts";
import { eccKey } from "../crypto/_test_keys.ts";
import { encryptAttachment, encryptMessage, KeyRing, toBase64 } from "../crypto/mod.ts";
import { BuildPool } from "./build_pool.ts";
import { buildFromApi, failedBuild } from "./message_build.ts";
import { decompressLiteral } from "../store/literal_cache.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function apiMessage(
  overrides: Partial<Message> = {},
  body = "Hello, Zoë!",
): Promise<Message> {
  const key = await eccKey("owner");
  return {
    ID: "msg-1",
    AddressID: "addr-1",
    LabelIDs: ["0", "5"],
    ExternalID: "abc@example.org",
    Subject: "Grüße",
    Sender: { Name: "Zoë", Address: "zoe@example.org" },
    ToList: [{ Name: "", Address: "owner@example.test" }],
    CCList: [],
    BCCList: [],
    ReplyTos: [],
    Flags: 1,
    Time: 1_700_000_000,
    Size: 100,
    Unread: 1,
    IsReplied: 0,
    IsRepliedAll: 0,
    IsForwarded: 0,
    NumAttachments: 0,
    Header: "",
    ParsedHeaders: { Subject: "Grüße", "Message-Id": "<abc@example.org>" },
    Body: await encryptMessage({ data: body, encryptionKeys: [key.unlocked] }),
    MIMEType: "text/plain",
    Attachments: [],
    ...overrides,
  };
}

async function ring(): Promise<KeyRing> {
  return new KeyRing([(await eccKey("owner")).unlocked]);
}

Deno.test("buildFromApi: a plain message builds with its FETCH data", async () => {
  const out = await buildFromApi(await apiMessage(), new Map(), await ring());
  assert.equal(out.status, "ok");
  assert.equal(out.literalSize, out.literal.length);
  const literal = text(out.literal);
  assert.match(literal, /X-Pm-Internal-Id: msg-1/);
  assert.match(literal, /Hello, Zo=C3=AB!/);
  assert.ok(text(out.headerBytes).endsWith("\r\n\r\n"));
  assert.ok(out.envelope.startsWith("("));
  assert.match(out.bodyStructure, /^\("text" "plain"/);
  // Deterministic.
  const again = await buildFromApi(await apiMessage(), new Map(), await ring());
  assert.deepEqual(again.literal, out.literal);
});

Deno.test("buildFromApi: undecryptable parts become the §3.4 forms, other failures placeholders", async () => {
  const stranger = await eccKey("stranger");
  const foreign = await apiMessage({
    Body: await encryptMessage({ data: "secret", encryptionKeys: [stranger.unlocked] }),
  });
  const undecryptable = await buildFromApi(foreign, new Map(), await ring());
  assert.equal(undecryptable.status, "ok");
  assert.match(text(undecryptable.literal), /could not be decrypted/i);

  const noKey = await buildFromApi(await apiMessage(), new Map(), undefined);
  assert.equal(noKey.status, "failed");
  assert.match(noKey.reason!, /no unlocked key/);
  assert.match(text(noKey.literal), /Subject: Message failed to build/);

  const attachment = {
    ID: "att-1",
    Name: "a.bin",
    Size: 3,
    MIMEType: "application/octet-stream",
    Disposition: "attachment",
    Headers: {},
    KeyPackets: "",
    Signature: "",
  };
  const missing = await buildFromApi(
    await apiMessage({ Attachments: [attachment], NumAttachments: 1 }),
    new Map(),
    await ring(),
  );
  assert.equal(missing.status, "failed");
  assert.match(missing.reason!, /not downloaded/);

  const garbage = await buildFromApi({ ID: "x" } as unknown as Message, new Map(), await ring());
  assert.equal(garbage.status, "failed");
  const notEvenAnObject = await buildFromApi(null as unknown as Message, new Map(), undefined);
  assert.equal(notEvenAnObject.status, "failed");
  assert.equal(failedBuild({ ID: "y", Subject: "s", Time: 0 }, "").reason, "unknown error");
});

Deno.test("buildFromApi: attachments decrypt; a bad one becomes <name>.pgp", async () => {
  const owner = await eccKey("owner");
  const data = new TextEncoder().encode("attachment bytes");
  const enc = await encryptAttachment(data, owner.unlocked, owner.unlocked);
  const good = {
    ID: "att-good",
    Name: "Füße.txt",
    Size: data.length,
    MIMEType: "text/plain",
    Disposition: "attachment",
    Headers: {},
    KeyPackets: toBase64(enc.keyPackets),
    Signature: "",
  };
  const bad = { ...good, ID: "att-bad", Name: "bad.bin", KeyPackets: toBase64(new Uint8Array(8)) };
  const message = await apiMessage({ Attachments: [good, bad], NumAttachments: 2 });
  const out = await buildFromApi(
    message,
    new Map([["att-good", enc.dataPacket], ["att-bad", enc.dataPacket]]),
    await ring(),
  );
  assert.equal(out.status, "ok");
  const literal = text(out.literal);
  assert.match(literal, /YXR0YWNobWVudCBieXRlcw==/, "base64 of the decrypted attachment");
  assert.match(literal, /bad\.bin\.pgp/);
  assert.match(out.bodyStructure, /"mixed"/);
});

Deno.test("buildFromApi: a signed PGP/MIME body becomes multipart/signed", async () => {
  const owner = await eccKey("owner");
  const sender = await eccKey("sender");
  const entity = "Content-Type: text/plain; charset=utf-8\r\n\r\nSigned and sealed.\r\n";
  const message = await apiMessage({
    MIMEType: "multipart/mixed",
    Body: await encryptMessage({
      data: entity,
      encryptionKeys: [owner.unlocked],
      signingKeys: [sender.unlocked],
    }),
  });
  const out = await buildFromApi(message, new Map(), await ring());
  assert.equal(out.status, "ok");
  const literal = text(out.literal);
  assert.match(literal, /multipart\/signed;[^]*?micalg=pgp-sha\d+/);
  assert.match(literal, /BEGIN PGP SIGNATURE/);
  assert.match(literal, /Signed and sealed\./);
});

Deno.test({
  name: "BuildPool: workers build exactly what the calling thread builds; closed pool answers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const keys = new Map([["addr-1", await ring()]]);
    const pool = await BuildPool.create({ keys, workers: 1 });
    try {
      assert.equal(pool.size, 1);
      const messages = await Promise.all(
        [1, 2, 3].map((n) => apiMessage({ ID: `m${n}` }, `body ${n}`)),
      );
      const viaPool = await Promise.all(messages.map((m) => pool.build(m, new Map())));
      for (const [i, m] of messages.entries()) {
        const local = await buildFromApi(m, new Map(), keys.get("addr-1"));
        assert.deepEqual(viaPool[i], local);
      }
      const unknownAddress = await pool.build(
        await apiMessage({ AddressID: "other" }),
        new Map(),
      );
      assert.equal(unknownAddress.status, "failed");
      // With compress, the cache's compressed form comes along (and only then).
      assert.equal(viaPool[0].compressed, undefined);
      const compressed = await pool.build(messages[0], new Map(), { compress: true });
      assert.deepEqual(compressed.literal, viaPool[0].literal);
      assert.deepEqual(decompressLiteral(compressed.compressed!), compressed.literal);
    } finally {
      pool.close();
    }
    const closed = await pool.build(await apiMessage(), new Map());
    assert.equal(closed.status, "failed");
    // A full worker hands further messages to the calling thread (one at a time).
    const shared = await BuildPool.create({ keys, workers: 1, perWorker: 1, inline: 1 });
    try {
      const messages = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) => apiMessage({ ID: `s${n}` }, `shared ${n}`)),
      );
      const built = await Promise.all(messages.map((m) => shared.build(m, new Map())));
      for (const [i, m] of messages.entries()) {
        assert.deepEqual(built[i], await buildFromApi(m, new Map(), keys.get("addr-1")));
      }
      assert.ok(shared.builtInline > 0 && shared.builtInline < 6, `${shared.builtInline}`);
    } finally {
      shared.close();
    }
    // Keys added to the map later reach the workers with refreshKeys.
    const growing = new Map(keys);
    growing.delete("addr-1");
    const refreshed = await BuildPool.create({ keys: growing, workers: 1, inline: 0 });
    try {
      const message = await apiMessage({ ID: "late", AddressID: "addr-1" });
      assert.equal((await refreshed.build(message, new Map())).status, "failed");
      growing.set("addr-1", keys.get("addr-1")!);
      await refreshed.refreshKeys();
      const built = await refreshed.build(message, new Map());
      assert.equal(built.status, "ok");
      assert.deepEqual(built, await buildFromApi(message, new Map(), keys.get("addr-1")));
    } finally {
      refreshed.close();
    }
    const noInline = await BuildPool.create({ keys, workers: 1, perWorker: 1, inline: 0 });
    try {
      await Promise.all(
        [1, 2, 3].map(async (n) => noInline.build(await apiMessage({ ID: `n${n}` }), new Map())),
      );
      assert.equal(noInline.builtInline, 0);
    } finally {
      noInline.close();
    }
    const inline = await BuildPool.create({ keys, workers: 0 });
    const built = await inline.build(await apiMessage(), new Map(), { compress: true });
    assert.equal(built.status, "ok");
    assert.deepEqual(decompressLiteral(built.compressed!), built.literal);
    inline.close();
  },
});
