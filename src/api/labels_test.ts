import assert from "node:assert/strict";
import { startFake } from "./_fake_test_server.ts";
import { createLabel, deleteLabel, getLabels, updateLabel } from "./labels.ts";

Deno.test("labels: one GET per type in order; create/update/delete shapes", async () => {
  const srv = startFake((r) => {
    if (r.method === "GET") {
      const t = Number(r.query.get("Type"));
      return {
        Code: 1000,
        Labels: [{ ID: `l${t}`, Name: `n${t}`, Path: `n${t}`, Color: "", Type: t }],
      };
    }
    if (r.method === "DELETE") return { Code: 1000 };
    return { Code: 1000, Label: { ID: "new", ...(r.body as object), Path: "x" } };
  });
  try {
    const c = srv.client();
    assert.deepEqual((await getLabels(c)).map((l) => l.ID), ["l4", "l3", "l1"]);
    assert.deepEqual((await getLabels(c, 3)).map((l) => l.ID), ["l3"]);
    const created = await createLabel(c, { Name: "Work", Color: "#f66", Type: 3 });
    assert.equal(created.ID, "new");
    await updateLabel(c, "new", { Name: "Work2", Color: "#f66", ParentID: "p" });
    await deleteLabel(c, "new");
    const rs = srv.requests.slice(4);
    assert.deepEqual(rs.map((r) => [r.method, r.path, r.body]), [
      ["POST", "/core/v4/labels", { Name: "Work", Color: "#f66", Type: 3 }],
      ["PUT", "/core/v4/labels/new", { Name: "Work2", Color: "#f66", ParentID: "p" }],
      ["DELETE", "/core/v4/labels/new", undefined],
    ]);
  } finally {
    await srv.close();
  }
});
