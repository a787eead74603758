import assert from "node:assert/strict";
import { startMailTestServer } from "./_mail_test_util.ts";
import type { Event, Label, MessageMetadata, MultiResponseItem } from "../api/types.ts";

Deno.test("mail controls act like another client and show up in the event feed", async () => {
  // One event per reply, so that the order of label and message changes shows.
  const srv = startMailTestServer(1);
  try {
    const u = await srv.dir.addUser(["alice@example.test"], "Alice");
    const ctl = (m: string, p: string, b?: unknown) => srv.api("", m, `/ref/v1/${p}`, b);
    const cursor = (await srv.api(u, "GET", "/core/v4/events/latest")).json.EventID as string;

    // Deliver: received (by address), and a sent message of the user.
    const d1 = await ctl("POST", "deliver", {
      To: "alice@example.test",
      From: { Name: "Zoë", Address: "zoe@example.org" },
      Subject: "hello",
      Text: "hi",
      Unread: false,
      Time: 1_700_000_000,
      ExternalID: "ext-1@example.org",
    });
    assert.equal(d1.status, 200);
    const id1 = d1.json.MessageID as string;
    const d2 = await ctl("POST", "deliver", {
      Kind: "sent",
      From: { Name: "Alice", Address: "alice@example.test" },
      ToList: [{ Name: "Zoë", Address: "zoe@example.org" }],
      Subject: "Re: hello",
      Text: "hi back",
      Headers: { "In-Reply-To": "<ext-1@example.org>" },
    });
    const id2 = d2.json.MessageID as string;
    assert.equal(
      (await ctl("POST", "deliver", { From: { Address: "a@b.c" }, Subject: "x" })).status,
      422,
    );

    // Users can be named by ID or address.
    const list = async () =>
      (await ctl("GET", "users/alice@example.test/messages")).json.Messages as MessageMetadata[];
    let msgs = await list();
    assert.deepEqual(msgs.map((m) => [m.ID, m.LabelIDs, m.Unread, m.Time, m.ExternalID]), [
      [id1, ["0", "5"], 0, 1_700_000_000, "ext-1@example.org"],
      [id2, ["7", "5", "2"], 0, msgs[1].Time, msgs[1].ExternalID],
    ]);
    assert.equal((await ctl("GET", "users/nobody/messages")).json.Code, 2501);

    // Labels and folders as another client.
    const folder = (await ctl("POST", `users/${u}/labels`, { Name: "Projekte", Type: 3 })).json
      .Label as Label;
    const renamed = await ctl("PUT", `users/${u}/labels/${folder.ID}`, { Name: "Projekte 2024" });
    assert.equal((renamed.json.Label as Label).Path, "Projekte 2024");
    const labels = (await ctl("GET", `users/${u}/labels`)).json.Labels as Label[];
    assert.deepEqual(labels.filter((l) => l.Type !== 4).map((l) => l.Name), ["Projekte 2024"]);

    // Move, label, read/unread, flags.
    assert.equal(
      (await ctl("POST", `users/${u}/messages/move`, { LabelID: "10", IDs: [id1] })).status,
      422,
    );
    let r = await ctl("POST", `users/${u}/messages/move`, { LabelID: folder.ID, IDs: [id1] });
    assert.deepEqual((r.json.Responses as MultiResponseItem[])[0].Response.Code, 1000);
    await ctl("POST", `users/${u}/messages/label`, { LabelID: "10", IDs: [id1] });
    await ctl("POST", `users/${u}/messages/unread`, { IDs: [id1] });
    r = await ctl("POST", `users/${u}/messages/flags`, { IDs: [id1], Set: 32 });
    assert.equal(r.status, 200);
    msgs = await list();
    assert.deepEqual(msgs[0].LabelIDs, [folder.ID, "5", "10"]);
    assert.equal(msgs[0].Unread, 1);
    assert.equal(msgs[0].IsReplied, 1);
    await ctl("POST", `users/${u}/messages/unlabel`, { LabelID: "10", IDs: [id1] });
    await ctl("POST", `users/${u}/messages/read`, { IDs: [id1] });
    await ctl("POST", `users/${u}/messages/flags`, { IDs: [id1], Clear: 32 });
    msgs = await list();
    assert.deepEqual([msgs[0].LabelIDs, msgs[0].Unread, msgs[0].IsReplied], [
      [folder.ID, "5"],
      0,
      0,
    ]);

    await ctl("DELETE", `users/${u}/labels/${folder.ID}`);
    await ctl("POST", `users/${u}/messages/delete`, { IDs: [id2] });
    assert.deepEqual((await list()).map((m) => m.LabelIDs), [["5"]]);

    // Seed through the controls.
    const seeded = await ctl("POST", `users/${u}/seed`, { Count: 15, Seed: 2 });
    assert.deepEqual(seeded.json, { Code: 1000, MessageCount: 16 });
    assert.equal((await ctl("POST", `users/${u}/seed`, { Count: -1 })).status, 422);
    assert.equal((await ctl("POST", `users/${u}/refresh`, { Refresh: 2 })).status, 422);

    // Every control change reached the user's event feed, in order.
    const kinds: string[] = [];
    for (let c = cursor;;) {
      const ev = (await srv.api(u, "GET", `/core/v4/events/${c}`)).json as unknown as Event;
      if (ev.EventID === c) break;
      for (const l of ev.Labels ?? []) kinds.push(`L${l.Action}`);
      for (const m of ev.Messages ?? []) kinds.push(`M${m.Action}`);
      c = ev.EventID;
    }
    assert.deepEqual(kinds.slice(0, 12), [
      "M1", // deliver
      "M1", // sent
      "L1", // folder
      "L2", // rename
      "M3", // move
      "M3", // star
      "M3", // unread
      "M3", // replied
      "M3", // unstar
      "M3", // read
      "M3", // flags cleared
      "L0", // folder deleted…
    ]);
    assert.deepEqual(kinds.slice(12, 14), ["M3", "M0"], "…its message updated; then a delete");
    assert.equal(kinds.filter((k) => k === "M1").length, 17);
  } finally {
    await srv.close();
  }
});
