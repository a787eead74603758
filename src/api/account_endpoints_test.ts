import assert from "node:assert/strict";
import { startFake } from "./_fake_test_server.ts";
import { getAddress, getAddresses } from "./addresses.ts";
import { getAttachment } from "./attachments.ts";
import { getAllContactEmails, getContact, getContactEmails } from "./contacts.ts";
import { ApiError } from "./errors.ts";
import { getKeySalts, getPublicKeys } from "./keys.ts";
import { getMailSettings } from "./mail_settings.ts";
import { getUser } from "./users.ts";

Deno.test("user, addresses (sorted by Order), salts, public keys, settings", async () => {
  const srv = startFake((r) => {
    switch (r.path) {
      case "/core/v4/users":
        return { Code: 1000, User: { ID: "u1", Name: "alice", Keys: [] } };
      case "/core/v4/addresses":
        return {
          Addresses: [
            { ID: "a2", Order: 2, Keys: [] },
            { ID: "a1", Order: 1, Keys: [] },
            { ID: "a3", Order: 2, Keys: [] },
          ],
        };
      case "/core/v4/addresses/a1":
        return { Address: { ID: "a1", Order: 1 } };
      case "/core/v4/keys/salts":
        return { KeySalts: [{ ID: "k1", KeySalt: "c2FsdA==" }] };
      case "/core/v4/keys":
        return { Keys: [{ Flags: 3, PublicKey: "pk" }], RecipientType: 1 };
      case "/mail/v4/settings":
        return { MailSettings: { DisplayName: "A", PGPScheme: 16 } };
      case "/core/v4/empty-user":
        return {};
    }
    return new Response(null, { status: 404 });
  });
  try {
    const c = srv.client();
    assert.equal((await getUser(c)).ID, "u1");
    assert.deepEqual((await getAddresses(c)).map((a) => a.ID), ["a1", "a2", "a3"]);
    assert.equal((await getAddress(c, "a1")).ID, "a1");
    assert.deepEqual(await getKeySalts(c), [{ ID: "k1", KeySalt: "c2FsdA==" }]);
    assert.deepEqual(await getPublicKeys(c, "bob@example.com"), {
      Keys: [{ Flags: 3, PublicKey: "pk" }],
      RecipientType: 1,
    });
    const keysReq = srv.requests.find((r) => r.path === "/core/v4/keys")!;
    assert.equal(keysReq.query.get("Email"), "bob@example.com");
    assert.equal((await getMailSettings(c)).PGPScheme, 16);
  } finally {
    await srv.close();
  }
});

Deno.test("a success reply missing its payload is an ApiError", async () => {
  const srv = startFake(() => ({ Code: 1000 }));
  try {
    const e = await getUser(srv.client()).catch((e) => e);
    assert.ok(e instanceof ApiError);
    assert.match(e.message, /User/);
  } finally {
    await srv.close();
  }
});

Deno.test("contacts: emails paging and one contact; attachments as bytes", async () => {
  const emails = Array.from({ length: 160 }, (_, i) => ({ ID: `ce${i}`, Email: "x@y" }));
  const srv = startFake((r) => {
    if (r.path === "/contacts/v4/emails") {
      const page = Number(r.query.get("Page"));
      const size = Number(r.query.get("PageSize"));
      return { ContactEmails: emails.slice(page * size, page * size + size), Total: emails.length };
    }
    if (r.path === "/contacts/v4/c1") return { Contact: { ID: "c1", Cards: [] } };
    if (r.path === "/mail/v4/attachments/att1") return new Response(new Uint8Array([1, 2, 3]));
    return new Response(null, { status: 404 });
  });
  try {
    const c = srv.client();
    const p0 = await getContactEmails(c, "x@y", 0, 10);
    assert.equal(p0.ContactEmails.length, 10);
    assert.equal(p0.Total, 160);
    assert.equal(srv.requests[0].query.get("Email"), "x@y");
    assert.equal((await getAllContactEmails(c, "x@y")).length, 160);
    await assert.rejects(() => getContactEmails(c, "x@y", 0, 151), RangeError);
    assert.equal((await getContact(c, "c1")).ID, "c1");
    assert.deepEqual(await getAttachment(c, "att1"), new Uint8Array([1, 2, 3]));
  } finally {
    await srv.close();
  }
});
