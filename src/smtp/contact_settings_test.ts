import assert from "node:assert/strict";
import { signDetached } from "../crypto/attachment.ts";
import { toBase64 } from "../crypto/base64.ts";
import { generateKey, readPublicKey, unlockKey } from "../crypto/keys.ts";
import { ApiClient } from "../api/transport.ts";
import { contactSettingsFromVCard, fetchContactSettings } from "./contact_settings.ts";

const pinned = await generateKey({ email: "erin@x.test", passphrase: "p" });
const pinnedBytes = (await readPublicKey(pinned.publicKey)).write();

function card(email: string): string {
  return [
    "BEGIN:VCARD",
    "VERSION:4.0",
    "FN:Erin",
    "item1.EMAIL;PREF=1:other@x.test",
    "item1.X-PM-SIGN:false",
    `ITEM2.EMAIL;PREF=2:${email}`,
    "ITEM2.X-PM-ENCRYPT:true",
    "ITEM2.X-PM-ENCRYPT-UNTRUSTED:false",
    "ITEM2.X-PM-SIGN:true",
    "ITEM2.X-PM-SCHEME:pgp-inline",
    "ITEM2.X-PM-MIMETYPE:text/plain",
    "ITEM2.KEY;PREF=2:data:application/pgp-keys;base64,bm90IGEga2V5",
    `ITEM2.KEY;PREF=1:data:application/pgp-keys;base64,${toBase64(pinnedBytes).slice(0, 40)}`,
    ` ${toBase64(pinnedBytes).slice(40)}`,
    "END:VCARD",
  ].join("\r\n");
}

Deno.test("contactSettingsFromVCard reads the group of the email, keys by PREF", async () => {
  const s = await contactSettingsFromVCard(card("Erin@X.test"), "erin@x.test");
  assert.ok(s);
  assert.equal(s.encrypt, true);
  assert.equal(s.encryptUntrusted, false);
  assert.equal(s.sign, true);
  assert.equal(s.scheme, "pgp-inline");
  assert.equal(s.mimeType, "text/plain");
  assert.equal(s.keys.length, 1, "the unreadable key is skipped");
  assert.equal(s.keys[0].getFingerprint(), pinned.fingerprint);
  const other = await contactSettingsFromVCard(card("erin@x.test"), "other@x.test");
  assert.deepEqual({ ...other, keys: other?.keys.length }, {
    encrypt: undefined,
    encryptUntrusted: undefined,
    sign: false,
    scheme: undefined,
    mimeType: undefined,
    keys: 0,
  });
  assert.equal(await contactSettingsFromVCard(card("erin@x.test"), "nobody@x.test"), undefined);
  assert.equal(await contactSettingsFromVCard("garbage", "erin@x.test"), undefined);
});

Deno.test("fetchContactSettings uses only signed cards that verify", async () => {
  const userKey = await unlockKey(
    (await generateKey({ email: "me@x.test", passphrase: "u" })).privateKey,
    "u",
  );
  const stranger = await unlockKey(
    (await generateKey({ email: "s@x.test", passphrase: "u" })).privateKey,
    "u",
  );
  const data = card("erin@x.test");
  let cards: unknown[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/contacts/v4/emails") {
      return Response.json({
        Code: 1000,
        ContactEmails: [{
          ID: "e1",
          Name: "Erin",
          Email: "erin@x.test",
          Type: [],
          ContactID: "c1",
          LabelIDs: [],
        }],
        Total: 1,
      });
    }
    if (url.pathname === "/contacts/v4/c1") {
      return Response.json({ Code: 1000, Contact: { ID: "c1", Cards: cards } });
    }
    return Response.json({ Code: 2501, Error: "nope" }, { status: 422 });
  });
  try {
    const client = new ApiClient({
      baseURL: `http://127.0.0.1:${server.addr.port}`,
      appVersion: "linux-bridge@3.21.1",
      sleep: () => Promise.resolve(),
    });
    client.setAuth({ uid: "uid", accessToken: "acc", refreshToken: "ref" });
    const verify = [userKey.toPublic()];
    cards = [{ Type: 0, Data: data, Signature: null }];
    assert.equal(await fetchContactSettings(client, "erin@x.test", verify), undefined);
    cards = [{
      Type: 2,
      Data: data,
      Signature: await signDetached(data, stranger, { armor: true }),
    }];
    assert.equal(await fetchContactSettings(client, "erin@x.test", verify), undefined);
    cards = [{
      Type: 2,
      Data: data,
      Signature: await signDetached(data, userKey, { armor: true }),
    }];
    const s = await fetchContactSettings(client, "erin@x.test", verify);
    assert.equal(s?.scheme, "pgp-inline");
    // A failing lookup means "no settings".
    assert.equal(await fetchContactSettings(client, "other@x.test", verify), undefined);
  } finally {
    await server.shutdown();
  }
});
