import assert from "node:assert/strict";
import { decryptAttachment, decryptMessage, fromBase64, toBase64 } from "../crypto/mod.ts";
import { startMailTestServer } from "./_mail_test_util.ts";
import type {
  Event,
  Label,
  Message,
  MessageGroupCount,
  MessageMetadata,
  MultiResponseItem,
  UndoToken,
} from "../api/types.ts";

const GET = { "X-HTTP-Method-Override": "GET" };
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("message routes: location rules, flags, undo, delete, events", async () => {
  const srv = startMailTestServer();
  try {
    const u = await srv.dir.addUser(["alice@example.test"]);
    const api = (m: string, p: string, b?: unknown, h?: Record<string, string>) =>
      srv.api(u, m, p, b, h);
    const start = (await api("GET", "/core/v4/events/latest")).json.EventID as string;
    const from = { Name: "Zoë", Address: "zoe@example.org" };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await srv.mail.deliver(u, { From: from, Subject: `m${i}`, Text: `body ${i}` }));
    }
    const meta = async (
      id: string,
    ) => ((await api("GET", `/mail/v4/messages/${id}`)).json.Message as Message);
    assert.deepEqual((await meta(ids[0])).LabelIDs, ["0", "5"]);
    const label =
      (await api("POST", "/core/v4/labels", { Name: "Important", Color: "#f00", Type: 1 }))
        .json.Label as Label;
    const folder = (await api("POST", "/core/v4/labels", { Name: "Work", Color: "#f00", Type: 3 }))
      .json.Label as Label;

    const put = (path: string, body: unknown) => api("PUT", `/mail/v4/messages/${path}`, body);
    // Archive moves out of Inbox; a label adds; star = label 10; a folder moves again.
    let r = await put("label", { LabelID: "6", IDs: [ids[0], ids[1]] });
    assert.equal(r.status, 200);
    assert.equal(r.json.Code, 1001);
    assert.deepEqual(r.json.Responses, [
      { ID: ids[0], Response: { Code: 1000 } },
      { ID: ids[1], Response: { Code: 1000 } },
    ]);
    assert.deepEqual((await meta(ids[0])).LabelIDs, ["6", "5"]);
    await put("label", { LabelID: label.ID, IDs: [ids[0]] });
    await put("label", { LabelID: "10", IDs: [ids[0]] });
    assert.deepEqual((await meta(ids[0])).LabelIDs, ["6", label.ID, "5", "10"]);
    await put("label", { LabelID: folder.ID, IDs: [ids[0]] });
    assert.deepEqual((await meta(ids[0])).LabelIDs, [folder.ID, label.ID, "5", "10"]);
    await put("label", { LabelID: "0", IDs: [ids[0]] });
    assert.deepEqual((await meta(ids[0])).LabelIDs, ["0", label.ID, "5", "10"]);
    await put("unlabel", { LabelID: "10", IDs: [ids[0]] });
    await put("unlabel", { LabelID: label.ID, IDs: [ids[0]] });
    assert.deepEqual((await meta(ids[0])).LabelIDs, ["0", "5"]);
    // All Mail cannot be labelled; unknown labels are refused as a whole.
    assert.equal((await put("label", { LabelID: "5", IDs: [ids[0]] })).json.Code, 2001);
    assert.equal((await put("label", { LabelID: "nope", IDs: [ids[0]] })).json.Code, 2501);
    assert.equal((await put("label", { LabelID: "3", IDs: [] })).status, 422);

    // Partial failure: an unknown ID fails alone; the undo token reverts exactly that request.
    r = await put("label", { LabelID: "3", IDs: [ids[0], "missing", ids[2]] });
    const items = r.json.Responses as MultiResponseItem[];
    assert.deepEqual(items.map((i) => i.Response.Code), [1000, 2501, 1000]);
    assert.deepEqual((await meta(ids[2])).LabelIDs, ["3", "5"]);
    const token = r.json.UndoToken as UndoToken;
    assert.ok(token.ValidUntil > Date.now() / 1000);
    const undo = await api("POST", "/mail/v4/undoactions", token);
    assert.equal(undo.status, 200);
    assert.deepEqual((undo.json.Messages as MessageMetadata[]).map((m) => m.ID), [ids[0], ids[2]]);
    assert.deepEqual((await meta(ids[0])).LabelIDs, ["0", "5"]);
    assert.deepEqual((await meta(ids[1])).LabelIDs, ["6", "5"], "not part of that request");
    assert.deepEqual((await meta(ids[2])).LabelIDs, ["0", "5"]);
    assert.equal((await api("POST", "/mail/v4/undoactions", token)).json.Code, 2001, "used once");

    // Read/unread, forward/unforward.
    r = await put("read", { IDs: [ids[0], "missing"] });
    assert.deepEqual((r.json.Responses as MultiResponseItem[]).map((i) => i.Response.Code), [
      1000,
      2501,
    ]);
    assert.equal((await meta(ids[0])).Unread, 0);
    await put("unread", { IDs: [ids[0]] });
    assert.equal((await meta(ids[0])).Unread, 1);
    r = await put("forward", { IDs: [ids[1]] });
    assert.equal(r.json.Code, 1001);
    assert.equal((await meta(ids[1])).IsForwarded, 1);
    await put("unforward", { IDs: [ids[1]] });
    assert.equal((await meta(ids[1])).IsForwarded, 0);

    // Deleting a folder leaves its messages in All Mail only.
    await put("label", { LabelID: folder.ID, IDs: [ids[1]] });
    await api("DELETE", `/core/v4/labels/${folder.ID}`);
    assert.deepEqual((await meta(ids[1])).LabelIDs, ["5"]);

    // Permanent delete.
    r = await put("delete", { IDs: [ids[2], "missing"] });
    assert.deepEqual((r.json.Responses as MultiResponseItem[]).map((i) => i.Response.Code), [
      1000,
      2501,
    ]);
    const gone = await api("GET", `/mail/v4/messages/${ids[2]}`);
    assert.equal(gone.status, 422);
    assert.equal(gone.json.Code, 2501);

    // The event feed: every change in order, Create → UpdateFlags → Delete.
    const seen: { ID: string; Action: number }[] = [];
    let labelsSeen = 0;
    let cursor = start;
    for (;;) {
      const ev = (await api("GET", `/core/v4/events/${cursor}`)).json as unknown as Event & {
        Code: number;
      };
      assert.equal(ev.Code, 1000);
      if (ev.EventID === cursor) break;
      for (const m of ev.Messages ?? []) {
        seen.push({ ID: m.ID, Action: m.Action });
        if (m.Action === 0) assert.equal(m.Message, undefined);
        else assert.equal(m.Message?.ID, m.ID);
      }
      labelsSeen += ev.Labels?.length ?? 0;
      cursor = ev.EventID;
    }
    assert.deepEqual(seen.slice(0, 3), ids.map((ID) => ({ ID, Action: 1 })));
    assert.ok(seen.slice(3, -1).every((s) => s.Action === 3));
    assert.deepEqual(seen.at(-1), { ID: ids[2], Action: 0 });
    assert.equal(labelsSeen, 3, "two creates and one delete");
  } finally {
    await srv.close();
  }
});

Deno.test("message routes: deliver, fetch, decrypt body and attachments; count; ids", async () => {
  const srv = startMailTestServer();
  try {
    const u = await srv.dir.addUser(["alice@example.test", "alias@example.test"]);
    const api = (m: string, p: string, b?: unknown, h?: Record<string, string>) =>
      srv.api(u, m, p, b, h);
    const pdf = new Uint8Array(70_000).map((_, i) => (i * 7919) & 255);
    const png = crypto.getRandomValues(new Uint8Array(300));
    const d = await srv.api("", "POST", "/ref/v1/deliver", {
      To: "Alias@example.test",
      From: { Name: "Émilie", Address: "emilie@example.fr" },
      Subject: "Réunion — pièces jointes",
      Text: "Bonjour",
      HTML: '<p>Bonjour <img src="cid:logo@x"></p>',
      Attachments: [
        { Name: "ordre du jour.pdf", MIMEType: "application/pdf", DataBase64: toBase64(pdf) },
        {
          Name: "logo.png",
          MIMEType: "image/png",
          DataBase64: toBase64(png),
          Disposition: "inline",
          ContentID: "logo@x",
        },
      ],
      LabelIDs: ["10"],
    });
    assert.equal(d.status, 200, JSON.stringify(d.json));
    const id = d.json.MessageID as string;
    const r = await api("GET", `/mail/v4/messages/${id}`);
    const m = r.json.Message as Message;
    const address = srv.dir.addresses(u)[1];
    assert.equal(m.AddressID, address.ID);
    assert.equal(m.Subject, "Réunion — pièces jointes");
    assert.equal(m.MIMEType, "text/html");
    assert.equal(m.NumAttachments, 2);
    assert.deepEqual(m.LabelIDs, ["0", "5", "10"]);
    assert.equal(m.ExternalID, String(m.ParsedHeaders["Message-ID"]).slice(1, -1));
    assert.ok(m.Size > pdf.length);
    const key = await srv.dir.addressKey(address.ID);
    assert.equal(
      dec((await decryptMessage(m.Body, [key])).data),
      '<p>Bonjour <img src="cid:logo@x"></p>',
    );
    for (const [att, want] of [[m.Attachments[0], pdf], [m.Attachments[1], png]] as const) {
      const raw = await api("GET", `/mail/v4/attachments/${att.ID}`);
      assert.equal(raw.status, 200);
      assert.ok(raw.bytes);
      assert.equal(att.Size, raw.bytes.length);
      assert.deepEqual(await decryptAttachment(fromBase64(att.KeyPackets), raw.bytes, [key]), want);
    }
    assert.equal(m.Attachments[1].Headers["content-id"], "<logo@x>");
    assert.equal((await api("GET", "/mail/v4/attachments/nope")).json.Code, 2501);

    // Sent mail belongs to the sender address.
    const sentID = await srv.mail.deliver(u, {
      Kind: "sent",
      From: { Name: "A", Address: "alias@example.test" },
      ToList: [{ Name: "", Address: "x@y.z" }],
      Subject: "s",
    });
    assert.equal(srv.mail.findMessage(u, sentID)?.AddressID, address.ID);
    srv.mail.deleteMessages(u, [sentID]);

    // Delivery errors.
    const bad = await srv.api("", "POST", "/ref/v1/deliver", {
      To: "nobody@x.y",
      From: {},
      Subject: "",
    });
    assert.equal(bad.status, 422);

    // Counts and IDs.
    for (let i = 0; i < 4; i++) {
      await srv.mail.deliver(u, { From: { Name: "", Address: "a@b.c" }, Subject: `${i}` });
    }
    const counts = (await api("GET", "/mail/v4/messages/count")).json.Counts as MessageGroupCount[];
    const c = (l: string) => counts.find((x) => x.LabelID === l);
    assert.deepEqual(c("5"), { LabelID: "5", Total: 5, Unread: 5 });
    assert.deepEqual(c("10"), { LabelID: "10", Total: 1, Unread: 1 });
    assert.deepEqual(c("3"), { LabelID: "3", Total: 0, Unread: 0 });
    const all = (await api("GET", "/mail/v4/messages/ids?Limit=1000")).json.IDs as string[];
    assert.equal(all.length, 5);
    assert.deepEqual([...all].sort(), all);
    assert.equal(all[0], id);
    const after = (await api("GET", `/mail/v4/messages/ids?AfterID=${all[1]}&Limit=2`)).json.IDs;
    assert.deepEqual(after, all.slice(2, 4));
    assert.equal((await api("GET", "/mail/v4/messages/ids?Limit=1001")).status, 400);
    assert.equal((await api("GET", "/mail/v4/messages/ids")).status, 400);
    const total = await api("POST", "/mail/v4/messages", { Limit: "0", Desc: 0 }, GET);
    assert.deepEqual(total.json, { Code: 1000, Total: 5 });
    const byAddress = await api("POST", "/mail/v4/messages", {
      Limit: "0",
      AddressID: address.ID,
      Desc: 0,
    }, GET);
    assert.equal(byAddress.json.Total, 1);
  } finally {
    await srv.close();
  }
});

Deno.test("metadata paging: 1,000 messages newest to oldest with Desc and EndID", async () => {
  const srv = startMailTestServer();
  try {
    const u = await srv.dir.addUser(["alice@example.test"]);
    const api = (m: string, p: string, b?: unknown) => srv.api(u, m, p, b, GET);
    await srv.mail.seedMailbox(u, 1000, 7);
    const ids = srv.mail.messageIDs(u, "", 5000);
    assert.equal(ids.length, 1000);

    // As Bridge's sync does it: 128 per page, EndID = last ID of the previous page, whose
    // repetition at the head of the next page is dropped.
    const got: string[] = [];
    let endID = "";
    for (;;) {
      const r = await api("POST", "/mail/v4/messages", {
        Page: 0,
        PageSize: 128,
        Sort: "ID",
        Desc: 1,
        ...(endID ? { EndID: endID } : {}),
      });
      assert.equal(r.status, 200);
      assert.equal(r.json.Stale, 0);
      assert.equal(r.json.Total, 1000);
      let page = (r.json.Messages as MessageMetadata[]).map((m) => m.ID);
      if (endID) {
        assert.equal(page[0], endID);
        page = page.slice(1);
      }
      if (page.length === 0) break;
      got.push(...page);
      endID = page[page.length - 1];
    }
    assert.deepEqual(got, [...ids].reverse());

    // Page numbers work too, and a filter applies after EndID.
    const p2 = await api("POST", "/mail/v4/messages", { Page: 2, PageSize: 150, Desc: 1 });
    assert.deepEqual(
      (p2.json.Messages as MessageMetadata[]).map((m) => m.ID),
      [...ids].reverse().slice(300, 450),
    );
    const asc = await api("POST", "/mail/v4/messages", {
      Page: 0,
      PageSize: 10,
      Desc: 0,
      EndID: ids[500],
    });
    assert.deepEqual(
      (asc.json.Messages as MessageMetadata[]).map((m) => m.ID),
      ids.slice(500, 510),
    );
    const sent = await api("POST", "/mail/v4/messages", { PageSize: 150, Desc: 1, LabelID: "7" });
    const sentIDs = sent.json.Messages as MessageMetadata[];
    assert.ok(sentIDs.length > 50 && sentIDs.every((m) => m.LabelIDs.includes("7")));
    assert.equal(sent.json.Total, srv.mail.countMessages(u, { LabelID: ["7"] }));

    // EndID deleted in between: the next page starts right after where it was.
    srv.mail.deleteMessages(u, [ids[600]]);
    const after = await api("POST", "/mail/v4/messages", { PageSize: 3, Desc: 1, EndID: ids[600] });
    assert.deepEqual((after.json.Messages as MessageMetadata[]).map((m) => m.ID), [
      ids[599],
      ids[598],
      ids[597],
    ]);

    // Limits and the draft path.
    assert.equal((await api("POST", "/mail/v4/messages", { PageSize: 151, Desc: 1 })).status, 400);
    assert.equal(
      (await api("POST", "/mail/v4/messages", { PageSize: 10, Sort: "Nope" })).status,
      400,
    );
    // Without the override header the path creates drafts (mail_drafts_test.ts): a template
    // without a Sender is refused with the API's error shape.
    const draft = await srv.api(u, "POST", "/mail/v4/messages", { Message: {} });
    assert.deepEqual([draft.status, draft.json.Code], [422, 2001]);
  } finally {
    await srv.close();
  }
});

Deno.test("events: More when more changes are pending than fit one reply", async () => {
  const srv = startMailTestServer(5);
  try {
    const u = await srv.dir.addUser(["alice@example.test"]);
    const api = (p: string) => srv.api(u, "GET", p);
    let cursor = (await api("/core/v4/events/latest")).json.EventID as string;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(
        await srv.mail.deliver(u, { From: { Name: "", Address: "a@b.c" }, Subject: `${i}` }),
      );
    }
    const replies: Event[] = [];
    for (;;) {
      const ev = (await api(`/core/v4/events/${cursor}`)).json as unknown as Event;
      if (ev.EventID === cursor) break;
      replies.push(ev);
      cursor = ev.EventID;
    }
    assert.deepEqual(replies.map((e) => e.More), [1, 1, 0]);
    assert.deepEqual(replies.flatMap((e) => e.Messages!.map((m) => m.ID)), ids);
    const none = (await api(`/core/v4/events/${cursor}`)).json;
    assert.deepEqual(none, { Code: 1000, EventID: cursor, Refresh: 0, More: 0 });
    const refresh = await srv.api("", "POST", `/ref/v1/users/${u}/refresh`, { Refresh: 255 });
    assert.equal(refresh.status, 200);
    const ev = (await api(`/core/v4/events/${cursor}`)).json as unknown as Event;
    assert.equal(ev.Refresh, 255);
    assert.equal(ev.EventID, refresh.json.EventID);
    assert.equal((await api("/core/v4/events/bogus")).status, 400);
  } finally {
    await srv.close();
  }
});
