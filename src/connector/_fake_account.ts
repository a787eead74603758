/**
 * Test helper: an in-memory {@link AccountApi} with Proton's one-location-plus-labels rule
 * (enough for the connector's unit tests), a store with the usual mailboxes, and a
 * {@link ConnectorContext} over both. End-to-end behaviour is tested against the reference server
 * in `tests/connector_test.ts`.
 *
 * @module
 */
import type { ParentInfo } from "./parent_lookup.ts";
import { type Label, type MessageMetadata, PartialFailureError } from "../api/mod.ts";
import type { InternalMessageId, RemoteMessageId, Store } from "../store/mod.ts";
import { applyLabels, applyMessage, type BuiltContent } from "../sync/apply.ts";
import { fakeBuilt, label, metadata, SYSTEM_LABELS } from "../sync/_event_test_utils.ts";
import type { AccountApi } from "./account_api.ts";
import type { ConnectorContext } from "./connector_context.ts";
import { UpdateBus } from "./update_bus.ts";
import type { UpdateData } from "./updates.ts";

const LOCATIONS = new Set(["0", "3", "4", "6", "7", "8", "12"]);

/** A fake API over message metadata; `calls` records every call, `fail` makes the next throw. */
export class FakeAccountApi implements AccountApi {
  messages = new Map<string, MessageMetadata>();
  labelList: Label[] = [...SYSTEM_LABELS, label("L", 1, "Tag"), label("F", 3, "Work")];
  calls: string[] = [];
  fail: Error | undefined;
  /** The next call of this name (`delete`, `unlabel 3`…) throws, whatever came before it. */
  failOn: string | undefined;
  /** Unlabelling an ID the fake does not have fails as the API does (else it is ignored). */
  missingFails = false;
  /** Labelling answers OK but leaves out what this says (the API keeps drafts out of INBOX). */
  silentlyRefuse: (m: MessageMetadata, labelId: string) => boolean = () => false;

  #check(call: string): void {
    this.calls.push(call);
    if (this.failOn === call) {
      this.failOn = undefined;
      throw new Error(`${call} failed`);
    }
    const error = this.fail;
    if (error) {
      this.fail = undefined;
      throw error;
    }
  }

  #each(ids: readonly string[], f: (m: MessageMetadata) => void): void {
    for (const id of ids) {
      const m = this.messages.get(id);
      if (m) f(m);
    }
  }

  markRead(ids: readonly string[]) {
    this.#check("read");
    this.#each(ids, (m) => m.Unread = 0);
    return Promise.resolve();
  }
  markUnread(ids: readonly string[]) {
    this.#check("unread");
    this.#each(ids, (m) => m.Unread = 1);
    return Promise.resolve();
  }
  markForwarded(ids: readonly string[]) {
    this.#check("forward");
    this.#each(ids, (m) => m.IsForwarded = 1);
    return Promise.resolve();
  }
  markUnforwarded(ids: readonly string[]) {
    this.#check("unforward");
    this.#each(ids, (m) => m.IsForwarded = 0);
    return Promise.resolve();
  }
  label(ids: readonly string[], labelId: string) {
    this.#check(`label ${labelId}`);
    const folder = LOCATIONS.has(labelId) ||
      this.labelList.some((l) => l.ID === labelId && l.Type === 3);
    this.#each(ids, (m) => {
      if (this.silentlyRefuse(m, labelId)) return;
      let next = m.LabelIDs;
      if (folder) {
        next = next.filter((l) =>
          !LOCATIONS.has(l) && !this.labelList.some((x) => x.ID === l && x.Type === 3)
        );
      }
      if (!next.includes(labelId)) next = [...next, labelId];
      m.LabelIDs = next;
    });
    return Promise.resolve();
  }
  unlabel(ids: readonly string[], labelId: string) {
    this.#check(`unlabel ${labelId}`);
    if (this.missingFails) {
      const missing = ids.filter((id) => !this.messages.has(id));
      if (missing.length > 0) {
        // As the API: per-item 2501 for unknown IDs, the rest of the batch undone.
        const failures = missing.map((id) => ({ id, code: 2501, error: "Message does not exist" }));
        return Promise.reject(new PartialFailureError("unlabel messages", failures, true));
      }
    }
    this.#each(ids, (m) => m.LabelIDs = m.LabelIDs.filter((l) => l !== labelId));
    return Promise.resolve();
  }
  deleteMessages(ids: readonly string[]) {
    this.#check("delete");
    for (const id of ids) this.messages.delete(id);
    return Promise.resolve();
  }
  metadata(ids: readonly string[]) {
    this.#check("metadata");
    return Promise.resolve(
      ids.flatMap((id) => {
        const m = this.messages.get(id);
        return m ? [structuredClone(m)] : [];
      }),
    );
  }
  labels() {
    this.#check("labels");
    return Promise.resolve([...this.labelList]);
  }
  createLabel(): Promise<never> {
    throw new Error("not in the fake");
  }
  updateLabel(): Promise<never> {
    throw new Error("not in the fake");
  }
  deleteLabel(): Promise<never> {
    throw new Error("not in the fake");
  }
  withExternalId(): Promise<MessageMetadata[]> {
    return Promise.resolve([]);
  }

  importMessages(): Promise<never> {
    throw new Error("not in the fake");
  }
  createDraft(): Promise<never> {
    throw new Error("not in the fake");
  }
  uploadAttachment(): Promise<never> {
    throw new Error("not in the fake");
  }
  /** No message is anyone's parent here (what a failed lookup answers too). */
  findParent(): Promise<ParentInfo> {
    return Promise.resolve({ action: 0, draftIDs: [] });
  }
}

/** A context over a store with the fake's labels, an in-memory literal store and a bus. */
export function fakeContext(store: Store): {
  ctx: ConnectorContext;
  api: FakeAccountApi;
  literals: Map<number, Uint8Array>;
  published: { origin: string | undefined; update: UpdateData }[];
  /**
   * Puts a message on the "server" and into the index (as the sync would); `header` replaces
   * the indexed header block.
   */
  add(id: string, overrides?: Partial<MessageMetadata>, header?: string): InternalMessageId;
} {
  const api = new FakeAccountApi();
  applyLabels(store, api.labelList);
  const literals = new Map<number, Uint8Array>();
  const bus = new UpdateBus({ log: () => {} });
  const published: { origin: string | undefined; update: UpdateData }[] = [];
  bus.subscribe("acc", {
    onUpdate: (u) => {
      const { applied: _a, ack: _k, acked: _d, origin, ...update } = u as unknown as
        & Record<string, unknown>
        & { origin?: string };
      published.push({ origin, update: update as unknown as UpdateData });
    },
  });
  const ctx: ConnectorContext = {
    id: "acc",
    store,
    bus,
    api,
    literals: {
      get: (id) => Promise.resolve(literals.get(id)),
      put: (id, l) => {
        literals.set(id, l);
        return Promise.resolve();
      },
      delete: (id) => {
        literals.delete(id);
        return Promise.resolve();
      },
    },
    fetcher: {
      fetch: (remoteId: RemoteMessageId) => {
        const m = api.messages.get(remoteId);
        return Promise.resolve(
          m ? { ...fakeBuilt(remoteId), metadata: structuredClone(m) } : undefined,
        );
      },
    },
    addresses: [],
    addressKeys: new Map(),
    addressId: "addr",
    combined: true,
    log: () => {},
  };
  return {
    ctx,
    api,
    literals,
    published,
    add(id, overrides = {}, header) {
      const m = metadata(id, overrides);
      api.messages.set(id, structuredClone(m));
      const built: BuiltContent = fakeBuilt(id).built;
      if (header !== undefined) built.headerBytes = new TextEncoder().encode(header);
      const applied = applyMessage(store, m, built);
      literals.set(applied.id, fakeBuilt(id).literal);
      return applied.id;
    },
  };
}
