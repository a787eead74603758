import assert from "node:assert/strict";
import { EventAction } from "../api/mod.ts";
import { Store } from "../store/mod.ts";
import { UpdateBus } from "../connector/update_bus.ts";
import type { UpdateData } from "../connector/updates.ts";
import { applyLabels } from "./apply.ts";
import { coalesceMessageItems } from "./event_coalesce.ts";
import { EventLoop, type EventSource } from "./event_loop.ts";
import {
  event,
  fakeFetcher,
  indexView,
  label,
  metadata,
  SYSTEM_LABELS,
} from "./_event_test_utils.ts";

Deno.test("coalesce: earlier items of a message take its last metadata of the batch", () => {
  const a = metadata("a", { LabelIDs: ["0", "5", "L"] });
  const b = metadata("a", { LabelIDs: ["F", "5"] });
  const other = metadata("o");
  const events = [
    event("e1", { Messages: [{ ID: "a", Action: EventAction.Update, Message: a }] }),
    event("e2", { Messages: [{ ID: "o", Action: EventAction.Create, Message: other }] }),
    event("e3", { Messages: [{ ID: "a", Action: EventAction.Update, Message: b }] }),
  ];
  const out = coalesceMessageItems(events) as typeof events;
  assert.deepEqual(out[0].Messages![0].Message, b);
  assert.equal(out[1], events[1]);
  assert.equal(out[2], events[2]);
  // The input is left alone.
  assert.deepEqual(events[0].Messages![0].Message, a);
});

Deno.test("coalesce: two items of one message in one event", () => {
  const a = metadata("a", { LabelIDs: ["0", "5", "L"] });
  const b = metadata("a", { LabelIDs: ["F", "5"] });
  const events = [event("e1", {
    Messages: [
      { ID: "a", Action: EventAction.Update, Message: a },
      { ID: "a", Action: EventAction.Update, Message: b },
    ],
  })];
  const out = coalesceMessageItems(events) as typeof events;
  assert.deepEqual(out[0].Messages!.map((m) => m.Message), [b, b]);
});

Deno.test("coalesce: items of a message deleted later in the batch are dropped", () => {
  const events = [
    event("e1", { Messages: [{ ID: "a", Action: EventAction.Create, Message: metadata("a") }] }),
    event("e2", { Messages: [{ ID: "a", Action: EventAction.Delete }] }),
  ];
  const out = coalesceMessageItems(events) as typeof events;
  assert.deepEqual(out[0].Messages, []);
  assert.equal(out[1], events[1]);
});

Deno.test("coalesce: odd shapes pass through untouched", () => {
  const odd = [null, 3, { EventID: "x", Messages: "no" }, {
    EventID: "y",
    Messages: [null, { ID: "a", Action: 2, Message: { ID: "b" } }],
  }];
  assert.deepEqual(coalesceMessageItems(odd), odd);
});

Deno.test("event loop: a message moved in two steps while the loop was behind gets no phantom UID", async () => {
  const store = Store.open(":memory:");
  const bus = new UpdateBus({ log: () => {} });
  try {
    const labels = [...SYSTEM_LABELS, label("L", 1, "Tag"), label("F", 3, "Work")];
    applyLabels(store, labels);
    const { fetcher } = fakeFetcher(new Map([["a", "body"]]));
    const batches: unknown[][] = [[
      event("e1", {
        Messages: [{ ID: "a", Action: EventAction.Create, Message: metadata("a") }],
      }),
    ], [
      // label with F (a MOVE's first call), then unlabel L (its second call).
      event("e2", {
        Messages: [{
          ID: "a",
          Action: EventAction.Update,
          Message: metadata("a", { LabelIDs: ["F", "L", "5"] }),
        }],
      }),
      event("e3", {
        Messages: [{
          ID: "a",
          Action: EventAction.Update,
          Message: metadata("a", { LabelIDs: ["F", "5"] }),
        }],
      }),
    ]];
    let served = 0;
    const source: EventSource = {
      latestEventId: () => Promise.resolve("e0"),
      collect: () => {
        const events = served < batches.length ? batches[served++] : [];
        return Promise.resolve({ events, more: false });
      },
    };
    const seen: UpdateData[] = [];
    bus.subscribe("acc", { onUpdate: (u) => void seen.push(u) });
    const loop = new EventLoop({
      account: "acc",
      store,
      source,
      fetcher,
      bus,
      labels,
      startPaused: false,
      intervalMs: 1_000_000,
      jitterMs: 0,
      log: () => {},
    });
    await loop.start();
    await loop.pollNow();
    await loop.pollNow();
    await loop.stop();
    assert.deepEqual(indexView(store), {
      "All Mail": [[1, "a"]],
      "Folders/Work": [[1, "a"]],
    });
    // Inbox lost it once; the label mailbox never got it (no detour through "Labels/Tag").
    assert.equal(store.mailboxes.byName("Labels/Tag")!.uidNext, 1);
  } finally {
    bus.close();
    store.close();
  }
});
