import assert from "node:assert/strict";
import type * as openpgp from "openpgp";
import {
  decryptAndVerifyWithSessionKey,
  decryptMessage,
  decryptSessionKey,
  encryptAttachment,
  fromBase64,
  joinMessage,
  type SessionKey,
} from "../crypto/mod.ts";
import { eccKey } from "../crypto/_test_keys.ts";
import {
  buildSendPackages,
  type PackageRecipient,
  SendPackageError,
  type SendPackagesInput,
} from "./send_packages.ts";
import { EncryptionScheme as S, type MessagePackage, SignatureType as Sig } from "./types.ts";

const dec = new TextDecoder();

interface Fixture {
  sender: openpgp.PrivateKey;
  bob: openpgp.PrivateKey;
  carol: openpgp.PrivateKey;
  attKeys: Record<string, SessionKey>;
}

async function fixture(): Promise<Fixture> {
  const sender = (await eccKey("sender")).unlocked;
  const bob = (await eccKey("bob")).unlocked;
  const carol = (await eccKey("carol")).unlocked;
  const attKeys: Record<string, SessionKey> = {};
  for (const id of ["att-1", "att-2"]) {
    const enc = await encryptAttachment(new TextEncoder().encode(id), sender, sender);
    attKeys[id] = await decryptSessionKey(enc.keyPackets, [sender]);
  }
  return { sender, bob, carol, attKeys };
}

function input(f: Fixture, recipients: PackageRecipient[]): SendPackagesInput {
  return {
    addressKey: f.sender,
    mimeType: "text/html",
    body: "<p>Hello</p>",
    plainBody: "Hello",
    mimeBody: "Content-Type: text/plain\r\n\r\nHello MIME",
    attachmentKeys: f.attKeys,
    recipients,
  };
}

/** Decrypts a package body with the recipient's BodyKeyPacket and the recipient's key. */
async function openWithKeyPacket(pkg: MessagePackage, email: string, key: openpgp.PrivateKey) {
  const rec = pkg.Addresses[email];
  const msg = joinMessage(fromBase64(rec.BodyKeyPacket!), fromBase64(pkg.Body));
  const res = await decryptMessage(msg, [key], [(await eccKey("sender")).unlocked.toPublic()]);
  return { text: dec.decode(res.data), signature: res.signature };
}

async function openWithBodyKey(pkg: MessagePackage) {
  const res = await decryptAndVerifyWithSessionKey(fromBase64(pkg.Body), {
    data: fromBase64(pkg.BodyKey!.Key),
    algorithm: pkg.BodyKey!.Algorithm,
  }, [(await eccKey("sender")).unlocked.toPublic()]);
  return { text: dec.decode(res.data), signature: res.signature };
}

Deno.test("send packages: Internal → encrypted text package, key packets only", async () => {
  const f = await fixture();
  const [pkg, ...rest] = await buildSendPackages(
    input(f, [{
      email: "bob@pm.test",
      scheme: S.Internal,
      signature: Sig.Detached,
      publicKey: f.bob,
    }]),
  );
  assert.equal(rest.length, 0);
  assert.equal(pkg.MIMEType, "text/html");
  assert.equal(pkg.Type, S.Internal);
  assert.equal(pkg.BodyKey, undefined);
  assert.equal(pkg.AttachmentKeys, undefined);
  const rec = pkg.Addresses["bob@pm.test"];
  assert.deepEqual(Object.keys(rec).sort(), [
    "AttachmentKeyPackets",
    "BodyKeyPacket",
    "Signature",
    "Type",
  ]);
  assert.deepEqual([rec.Type, rec.Signature], [S.Internal, Sig.Detached]);
  assert.deepEqual(await openWithKeyPacket(pkg, "bob@pm.test", f.bob), {
    text: "<p>Hello</p>",
    signature: "valid",
  });
  for (const [id, key] of Object.entries(f.attKeys)) {
    const got = await decryptSessionKey(fromBase64(rec.AttachmentKeyPackets![id]), [f.bob]);
    assert.deepEqual(got, key);
  }
  await assert.rejects(() => openWithKeyPacket(pkg, "bob@pm.test", f.carol));
});

Deno.test("send packages: Clear → BodyKey and AttachmentKeys in clear, no key packets", async () => {
  const f = await fixture();
  const [pkg] = await buildSendPackages(
    input(f, [{ email: "ext@else.test", scheme: S.Clear, signature: Sig.None }]),
  );
  assert.deepEqual([pkg.MIMEType, pkg.Type], ["text/html", S.Clear]);
  assert.deepEqual(pkg.Addresses["ext@else.test"], { Type: S.Clear, Signature: Sig.None });
  assert.deepEqual(await openWithBodyKey(pkg), { text: "<p>Hello</p>", signature: "valid" });
  assert.deepEqual(Object.keys(pkg.AttachmentKeys!).sort(), ["att-1", "att-2"]);
  assert.deepEqual(fromBase64(pkg.AttachmentKeys!["att-1"].Key), f.attKeys["att-1"].data);
  assert.equal(pkg.AttachmentKeys!["att-1"].Algorithm, f.attKeys["att-1"].algorithm);
});

Deno.test("send packages: Clear with a detached signature → clear-signed text/plain", async () => {
  const f = await fixture();
  const [pkg] = await buildSendPackages(input(f, [{
    email: "ext@else.test",
    scheme: S.Clear,
    signature: Sig.Detached,
    mimeType: "text/plain",
  }]));
  assert.equal(pkg.MIMEType, "text/plain");
  assert.deepEqual(await openWithBodyKey(pkg), { text: "Hello", signature: "valid" });
  await assert.rejects(
    () =>
      buildSendPackages(
        input(f, [{ email: "ext@else.test", scheme: S.Clear, signature: Sig.Detached }]),
      ),
    SendPackageError,
  );
});

Deno.test("send packages: ClearMIME → MIME package with BodyKey, no attachment keys", async () => {
  const f = await fixture();
  const [pkg] = await buildSendPackages(
    input(f, [{ email: "ext@else.test", scheme: S.ClearMIME, signature: Sig.Detached }]),
  );
  assert.deepEqual([pkg.MIMEType, pkg.Type], ["multipart/mixed", S.ClearMIME]);
  assert.deepEqual(pkg.Addresses["ext@else.test"], { Type: S.ClearMIME, Signature: Sig.Detached });
  assert.equal(pkg.AttachmentKeys, undefined);
  assert.deepEqual(await openWithBodyKey(pkg), {
    text: "Content-Type: text/plain\r\n\r\nHello MIME",
    signature: "valid",
  });
});

Deno.test("send packages: PGPMIME → MIME package, BodyKeyPacket only", async () => {
  const f = await fixture();
  const [pkg] = await buildSendPackages(input(f, [{
    email: "carol@else.test",
    scheme: S.PGPMIME,
    signature: Sig.Detached,
    publicKey: f.carol.toPublic(),
  }]));
  assert.deepEqual([pkg.MIMEType, pkg.Type], ["multipart/mixed", S.PGPMIME]);
  assert.equal(pkg.BodyKey, undefined);
  assert.equal(pkg.AttachmentKeys, undefined);
  const rec = pkg.Addresses["carol@else.test"];
  assert.equal(rec.AttachmentKeyPackets, undefined);
  assert.equal(
    (await openWithKeyPacket(pkg, "carol@else.test", f.carol)).text.slice(-10),
    "Hello MIME",
  );
});

Deno.test("send packages: PGPInline → text/plain package with key packets", async () => {
  const f = await fixture();
  const [pkg] = await buildSendPackages(input(f, [{
    email: "carol@else.test",
    scheme: S.PGPInline,
    signature: Sig.Detached,
    publicKey: f.carol,
  }]));
  assert.deepEqual([pkg.MIMEType, pkg.Type], ["text/plain", S.PGPInline]);
  assert.equal(pkg.BodyKey, undefined);
  const rec = pkg.Addresses["carol@else.test"];
  assert.deepEqual(Object.keys(rec.AttachmentKeyPackets!).sort(), ["att-1", "att-2"]);
  assert.deepEqual(await openWithKeyPacket(pkg, "carol@else.test", f.carol), {
    text: "Hello",
    signature: "valid",
  });
});

Deno.test("send packages: mixed recipients → one package per format, keys only where allowed", async () => {
  const f = await fixture();
  const pkgs = await buildSendPackages(input(f, [
    { email: "bob@pm.test", scheme: S.Internal, signature: Sig.Detached, publicKey: f.bob },
    {
      email: "plain@pm.test",
      scheme: S.Internal,
      signature: Sig.Detached,
      publicKey: f.bob,
      mimeType: "text/plain",
    },
    { email: "clear@else.test", scheme: S.Clear, signature: Sig.None },
    { email: "inline@else.test", scheme: S.PGPInline, signature: Sig.Detached, publicKey: f.carol },
    { email: "mime@else.test", scheme: S.PGPMIME, signature: Sig.Detached, publicKey: f.carol },
    { email: "cmime@else.test", scheme: S.ClearMIME, signature: Sig.Detached },
  ]));
  assert.deepEqual(pkgs.map((p) => [p.MIMEType, p.Type, Object.keys(p.Addresses).sort()]), [
    ["multipart/mixed", S.PGPMIME | S.ClearMIME, ["cmime@else.test", "mime@else.test"]],
    ["text/html", S.Internal | S.Clear, ["bob@pm.test", "clear@else.test"]],
    ["text/plain", S.Internal | S.PGPInline, ["inline@else.test", "plain@pm.test"]],
  ]);
  const [mime, html, plain] = pkgs;
  // MIME: clear key because of ClearMIME; PGPMIME still gets its key packet.
  assert.ok(mime.BodyKey);
  assert.ok(mime.Addresses["mime@else.test"].BodyKeyPacket);
  assert.equal(mime.Addresses["cmime@else.test"].BodyKeyPacket, undefined);
  assert.equal(mime.AttachmentKeys, undefined);
  // HTML: Clear recipient → clear keys; Internal → key packets.
  assert.ok(html.BodyKey);
  assert.deepEqual(Object.keys(html.AttachmentKeys!).sort(), ["att-1", "att-2"]);
  assert.ok(html.Addresses["bob@pm.test"].BodyKeyPacket);
  assert.equal(html.Addresses["clear@else.test"].BodyKeyPacket, undefined);
  assert.equal(html.Addresses["clear@else.test"].AttachmentKeyPackets, undefined);
  // Plain: only encrypting recipients → nothing in clear.
  assert.equal(plain.BodyKey, undefined);
  assert.equal(plain.AttachmentKeys, undefined);
  assert.equal((await openWithKeyPacket(plain, "inline@else.test", f.carol)).text, "Hello");
  assert.equal((await openWithKeyPacket(plain, "plain@pm.test", f.bob)).text, "Hello");
  assert.equal((await openWithBodyKey(html)).text, "<p>Hello</p>");
});

Deno.test("send packages: refusals", async () => {
  const f = await fixture();
  const cases: [PackageRecipient[], Partial<SendPackagesInput>, RegExp][] = [
    [[{ email: "a@x", scheme: S.Internal, signature: Sig.Detached }], {}, /public key/],
    [[{ email: "a@x", scheme: S.PGPMIME, signature: Sig.Detached }], {}, /public key/],
    [[{ email: "a@x", scheme: S.Internal, signature: Sig.None, publicKey: f.bob }], {}, /detached/],
    [[{ email: "a@x", scheme: S.ClearMIME, signature: Sig.None }], {}, /signed/],
    [
      [{
        email: "a@x",
        scheme: S.PGPInline,
        signature: Sig.Detached,
        publicKey: f.bob,
        mimeType: "text/html",
      }],
      {},
      /text\/plain/,
    ],
    [
      [{ email: "a@x", scheme: S.ClearMIME, signature: Sig.Detached }],
      { mimeBody: undefined },
      /MIME body/,
    ],
    [[{ email: "a@x", scheme: S.EncryptedOutside, signature: Sig.None }], {}, /not supported/],
    [[{ email: "a@x", scheme: 64, signature: Sig.None }], {}, /unknown encryption scheme/],
    [[{ email: "a@x", scheme: S.Clear, signature: Sig.Attached }], {}, /signature type 2/],
    [
      [{ email: "a@x", scheme: S.Clear, signature: 0 }, {
        email: "A@x",
        scheme: S.Clear,
        signature: 0,
      }],
      {},
      /twice/,
    ],
    [[{ email: "a@x", scheme: S.Clear, signature: 0, mimeType: "text/plain" }], {
      plainBody: undefined,
    }, /no text\/plain body/],
    [[], {}, /no recipients/],
  ];
  for (const [recipients, extra, re] of cases) {
    await assert.rejects(
      () => buildSendPackages({ ...input(f, recipients), ...extra }),
      (e) => e instanceof SendPackageError && re.test(e.message),
      re.source,
    );
  }
});
