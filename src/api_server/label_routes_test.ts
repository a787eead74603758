import assert from "node:assert/strict";
import { startMailTestServer } from "./_mail_test_util.ts";
import type { Event, Label } from "../api/types.ts";

Deno.test("label routes: list by type, create, nest, rename, delete, events", async () => {
  const srv = startMailTestServer();
  try {
    const u = await srv.dir.addUser(["alice@example.test"]);
    const api = (m: string, p: string, b?: unknown) => srv.api(u, m, p, b);
    const latest = (await api("GET", "/core/v4/events/latest")).json.EventID as string;

    // Type is required, one of 1–4.
    for (const q of ["", "?Type=7", "?Type=x", "?Type=1&Type=3"]) {
      const r = await api("GET", `/core/v4/labels${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.json.Code, 2001);
    }
    const system = (await api("GET", "/core/v4/labels?Type=4")).json.Labels as Label[];
    assert.deepEqual(system.map((l) => l.ID), [
      "0",
      "1",
      "2",
      "3",
      "4",
      "5",
      "6",
      "7",
      "8",
      "9",
      "10",
      "12",
    ]);
    assert.equal(system.find((l) => l.ID === "5")?.Name, "All Mail");
    assert.deepEqual((await api("GET", "/core/v4/labels?Type=3")).json.Labels, []);

    const work = (await api("POST", "/core/v4/labels", { Name: "Work", Color: "#f66", Type: 3 }))
      .json.Label as Label;
    assert.equal(work.Path, "Work");
    assert.equal(work.ParentID, undefined);
    const y = await api("POST", "/core/v4/labels", {
      Name: "2024",
      Color: "#f66",
      Type: 3,
      ParentID: work.ID,
    });
    assert.equal(y.status, 200);
    const y2024 = y.json.Label as Label;
    assert.equal(y2024.Path, "Work/2024");
    assert.equal(y2024.ParentID, work.ID);
    const cafe = (await api("POST", "/core/v4/labels", { Name: "Café ☕", Color: "#abc", Type: 1 }))
      .json.Label as Label;
    assert.equal(cafe.Type, 1);

    // Errors: duplicate sibling, label with parent, unknown parent, bad type, bad name.
    const dup = await api("POST", "/core/v4/labels", { Name: "work", Color: "#f66", Type: 3 });
    assert.equal(dup.status, 422);
    assert.equal(dup.json.Code, 2500);
    // Same name under another parent, or as a label, is fine.
    assert.equal((await api("POST", "/core/v4/labels", { Name: "Work", Type: 1 })).status, 200);
    const bad = [
      [{ Name: "x", Type: 1, ParentID: work.ID }, 2001],
      [{ Name: "x", Type: 3, ParentID: "nope" }, 2501],
      [{ Name: "x", Type: 4 }, 2001],
      [{ Name: "a/b", Type: 3 }, 2001],
      [{ Name: " ", Type: 3 }, 2001],
      [{ Name: "x", Type: 3, Color: "red" }, 2001],
    ] as const;
    for (const [body, code] of bad) {
      const r = await api("POST", "/core/v4/labels", body);
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.equal(r.json.Code, code, JSON.stringify(body));
    }

    const folders = (await api("GET", "/core/v4/labels?Type=3")).json.Labels as Label[];
    assert.deepEqual(folders.map((l) => l.Path), ["Work", "Work/2024"]);

    // Rename the parent: the child's path follows and both get Update events.
    const before = (await api("GET", "/core/v4/events/latest")).json.EventID as string;
    const ren = await api("PUT", `/core/v4/labels/${work.ID}`, { Name: "Job", Color: "#123456" });
    assert.equal((ren.json.Label as Label).Path, "Job");
    let ev = (await api("GET", `/core/v4/events/${before}`)).json as unknown as Event;
    assert.deepEqual(ev.Labels?.map((l) => [l.ID, l.Action, l.Label?.Path]), [
      [work.ID, 2, "Job"],
      [y2024.ID, 2, "Job/2024"],
    ]);
    // Move 2024 to the top level; a folder cannot move into itself.
    const top = await api("PUT", `/core/v4/labels/${y2024.ID}`, { Name: "2024", Color: "#f66" });
    assert.equal((top.json.Label as Label).Path, "2024");
    const loop = await api("PUT", `/core/v4/labels/${work.ID}`, { Name: "Job", ParentID: work.ID });
    assert.equal(loop.json.Code, 2001);
    assert.equal((await api("PUT", "/core/v4/labels/0", { Name: "Box" })).json.Code, 2001);
    assert.equal((await api("PUT", "/core/v4/labels/nope", { Name: "Box" })).json.Code, 2501);

    // Delete a parent folder: children go too.
    await api("PUT", `/core/v4/labels/${y2024.ID}`, { Name: "2024", ParentID: work.ID });
    const mark = (await api("GET", "/core/v4/events/latest")).json.EventID as string;
    assert.equal((await api("DELETE", `/core/v4/labels/${work.ID}`)).status, 200);
    ev = (await api("GET", `/core/v4/events/${mark}`)).json as unknown as Event;
    assert.deepEqual(ev.Labels, [{ ID: y2024.ID, Action: 0 }, { ID: work.ID, Action: 0 }]);
    assert.deepEqual((await api("GET", "/core/v4/labels?Type=3")).json.Labels, []);
    assert.equal((await api("DELETE", "/core/v4/labels/5")).json.Code, 2001);
    assert.equal((await api("DELETE", `/core/v4/labels/${work.ID}`)).json.Code, 2501);

    // The whole history from the first event: creates first.
    const all = (await api("GET", `/core/v4/events/${latest}`)).json as unknown as Event;
    assert.deepEqual(all.Labels?.slice(0, 3).map((l) => [l.Action, l.Label?.Name]), [
      [1, "Work"],
      [1, "2024"],
      [1, "Café ☕"],
    ]);
  } finally {
    await srv.close();
  }
});
