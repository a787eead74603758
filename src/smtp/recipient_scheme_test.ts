import assert from "node:assert/strict";
import type * as openpgp from "openpgp";
import type { MailSettings } from "../api/types.ts";
import { generateKey, readPublicKey } from "../crypto/keys.ts";
import { chooseScheme, type RecipientInfo, RecipientSchemeError } from "./recipient_scheme.ts";

const keyA = await readPublicKey(
  (await generateKey({ email: "a@x.test", passphrase: "p" })).publicKey,
);
const keyB = await readPublicKey(
  (await generateKey({ email: "b@x.test", passphrase: "p" })).publicKey,
);

const DEFAULTS: MailSettings = {
  DisplayName: "",
  Signature: "",
  DraftMIMEType: "text/html",
  AttachPublicKey: 0,
  Sign: 0,
  PGPScheme: 16,
};

function pick(
  recipient: Partial<RecipientInfo>,
  settings: Partial<MailSettings> = {},
  messageMimeType: "text/plain" | "text/html" = "text/html",
  secured?: "signed" | "encrypted",
) {
  const r = chooseScheme({
    recipient: { email: "r@x.test", internal: false, apiKeys: [], ...recipient },
    settings: { ...DEFAULTS, ...settings },
    messageMimeType,
    secured,
  });
  return [r.scheme, r.signature, r.mimeType, r.publicKey?.getFingerprint() ?? null];
}

const fp = (k: openpgp.PublicKey) => k.getFingerprint();

Deno.test("internal recipients: Internal, signed, the pinned key when the API has it", () => {
  assert.deepEqual(pick({ internal: true, apiKeys: [keyA, keyB] }), [1, 1, "text/html", fp(keyA)]);
  assert.deepEqual(
    pick({
      internal: true,
      apiKeys: [keyA, keyB],
      contact: { keys: [keyB], mimeType: "text/plain" },
    }),
    [1, 1, "text/plain", fp(keyB)],
  );
  assert.deepEqual(pick({ internal: true, apiKeys: [keyA] }, {}, "text/plain"), [
    1,
    1,
    "text/plain",
    fp(keyA),
  ]);
  // The client's own signature does not change how a Proton address gets it.
  assert.deepEqual(pick({ internal: true, apiKeys: [keyA] }, {}, "text/plain", "signed"), [
    1,
    1,
    "text/plain",
    fp(keyA),
  ]);
  assert.throws(() => pick({ internal: true, apiKeys: [] }), RecipientSchemeError);
});

Deno.test("outside recipients without keys: Clear, signed per setting or contact", () => {
  assert.deepEqual(pick({}), [4, 0, "text/html", null]);
  assert.deepEqual(pick({}, {}, "text/plain"), [4, 0, "text/plain", null]);
  assert.deepEqual(pick({}, { DraftMIMEType: "text/plain" }), [4, 0, "text/plain", null]);
  assert.deepEqual(pick({ contact: { keys: [], mimeType: "text/plain" } }), [
    4,
    0,
    "text/plain",
    null,
  ]);
  assert.deepEqual(pick({}, { Sign: 1 }), [32, 1, "multipart/mixed", null]);
  assert.deepEqual(pick({}, { Sign: 1, PGPScheme: 8 }), [4, 1, "text/plain", null]);
  assert.deepEqual(pick({ contact: { keys: [], sign: false } }, { Sign: 1 }), [
    4,
    0,
    "text/html",
    null,
  ]);
  assert.deepEqual(pick({ contact: { keys: [], sign: true, scheme: "pgp-inline" } }), [
    4,
    1,
    "text/plain",
    null,
  ]);
  // A pinned key alone does not encrypt; X-PM-ENCRYPT with it does.
  assert.deepEqual(pick({ contact: { keys: [keyA] } }), [4, 0, "text/html", null]);
  assert.deepEqual(pick({ contact: { keys: [keyA], encrypt: true } }), [
    16,
    1,
    "multipart/mixed",
    fp(keyA),
  ]);
  assert.deepEqual(pick({ contact: { keys: [], encrypt: true } }), [4, 0, "text/html", null]);
});

Deno.test("outside recipients with API (WKD) keys: encrypted unless the contact says no", () => {
  assert.deepEqual(pick({ apiKeys: [keyA] }), [16, 1, "multipart/mixed", fp(keyA)]);
  assert.deepEqual(pick({ apiKeys: [keyA] }, { PGPScheme: 8 }), [8, 1, "text/plain", fp(keyA)]);
  assert.deepEqual(
    pick({ apiKeys: [keyA, keyB], contact: { keys: [keyB], scheme: "pgp-inline" } }),
    [8, 1, "text/plain", fp(keyB)],
  );
  assert.deepEqual(pick({ apiKeys: [keyA], contact: { keys: [], encryptUntrusted: false } }), [
    4,
    0,
    "text/html",
    null,
  ]);
  assert.deepEqual(
    pick({ apiKeys: [keyA], contact: { keys: [], encryptUntrusted: false } }, { Sign: 1 }),
    [32, 1, "multipart/mixed", null],
  );
});

Deno.test("client-signed or encrypted messages always get a MIME package outside", () => {
  assert.deepEqual(pick({}, {}, "text/plain", "signed"), [32, 1, "multipart/mixed", null]);
  assert.deepEqual(pick({}, { PGPScheme: 8, Sign: 1 }, "text/plain", "encrypted"), [
    32,
    1,
    "multipart/mixed",
    null,
  ]);
  assert.deepEqual(pick({ apiKeys: [keyA] }, { PGPScheme: 8 }, "text/plain", "signed"), [
    16,
    1,
    "multipart/mixed",
    fp(keyA),
  ]);
});
