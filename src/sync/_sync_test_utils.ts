/**
 * Shared fixtures of the first-sync tests and scripts: a logged-in, unlocked client for an
 * account on a reference server (in-process or a URL), fresh store + literal cache directories,
 * and a canonical dump of an index (messages, UIDs per mailbox, flags, UIDVALIDITY, literal
 * digests) to compare two syncs byte for byte.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  ApiClient,
  type ApiClientOptions,
  login,
  unlock,
  type UnlockedAccount,
} from "../api/mod.ts";
import { type InternalMessageId, LiteralCache, Store } from "../store/mod.ts";
import { DownloadThrottle } from "./download_throttle.ts";

/** A logged-in client and its unlocked account. */
export interface LoggedIn {
  client: ApiClient;
  account: UnlockedAccount;
  throttle: DownloadThrottle;
}

/** Logs in to `url` as `email` and unlocks the keys. Short retry waits unless overridden. */
export async function loginTo(
  url: string,
  modulusPublicKey: string,
  email: string,
  password: string,
  extra: Partial<ApiClientOptions> = {},
): Promise<LoggedIn> {
  const throttle = new DownloadThrottle();
  const client = new ApiClient({
    baseURL: url,
    appVersion: "linux-bridge@3.21.1",
    backoffBaseMs: 20,
    backoffMaxMs: 200,
    jitterMs: 20,
    onRequest: (e) => throttle.observe(e),
    ...extra,
  });
  await login(client, { username: email, password, trustedModulusKeys: [modulusPublicKey] });
  const account = await unlock(client, password);
  return { client, account, throttle };
}

/** A store and literal cache in a fresh temporary directory. */
export interface TempIndex {
  dir: string;
  store: Store;
  cache: LiteralCache;
  /** Closes the store and removes the directory. */
  cleanup(): Promise<void>;
}

/** A fixed cache secret for tests (32 bytes). */
export const TEST_CACHE_SECRET = new Uint8Array(32).fill(7);

/** Opens the index in `dir` (created if missing). */
export async function openIndex(dir: string): Promise<{ store: Store; cache: LiteralCache }> {
  await Deno.mkdir(dir, { recursive: true });
  const store = Store.open(`${dir}/index.sqlite`);
  const cache = await LiteralCache.open(`${dir}/cache`, TEST_CACHE_SECRET);
  return { store, cache };
}

/** A fresh index in a temporary directory. */
export async function tempIndex(): Promise<TempIndex> {
  const dir = await Deno.makeTempDir({ prefix: "bridge-sync-" });
  const { store, cache } = await openIndex(dir);
  return {
    dir,
    store,
    cache,
    async cleanup() {
      store.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * A canonical, comparable description of an index: mailboxes (name, remote ID, UIDVALIDITY,
 * UIDNEXT, their UID → remote message ID lists with flags), messages by remote ID (size, flags,
 * status, FETCH strings' digest, literal digest). Internal IDs, mod-sequences and timestamps are
 * left out: they may differ between two correct syncs.
 */
export async function dumpIndex(store: Store, cache: LiteralCache): Promise<string> {
  const lines: string[] = [];
  const remoteOf = new Map<InternalMessageId, string>();
  for (const mailbox of store.mailboxes.list()) {
    lines.push(
      `mailbox ${JSON.stringify(mailbox.name)} remote=${mailbox.remoteId} kind=${mailbox.kind} ` +
        `attrs=${mailbox.attributes.join(",")} uidvalidity=${mailbox.uidValidity} ` +
        `uidnext=${mailbox.uidNext}`,
    );
    const rows = store.membership.fetchRows(mailbox.id, [{
      first: 1 as never,
      last: 0xFFFFFFFF as never,
    }]);
    for (const row of rows) {
      remoteOf.set(row.messageId, row.remoteId ?? "");
      lines.push(
        `  uid ${row.uid} ${row.remoteId} flags=${row.flags} deleted=${row.deleted} ` +
          `keywords=${row.keywords.join(",")}`,
      );
    }
  }
  const messages = [...remoteOf.entries()].sort((a, b) => a[1] < b[1] ? -1 : 1);
  for (const [id, remoteId] of messages) {
    const m = store.messages.get(id)!;
    const literal = await cache.get(id);
    lines.push(
      `message ${remoteId} date=${m.internalDate} size=${m.size} flags=${m.flags} ` +
        `status=${m.buildStatus} fetch=${
          digest(new TextEncoder().encode(m.envelope + "\n" + m.bodyStructure + "\n" + m.body))
        } header=${digest(m.header)} literal=${literal ? digest(literal) : "MISSING"} ` +
        `literalSize=${literal?.length ?? -1}`,
    );
  }
  lines.push(`messages ${store.messages.count()}`);
  lines.push(`failures ${store.sync.failures().map((f) => f.remoteId).sort().join(",")}`);
  return lines.join("\n");
}

function digest(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 16);
}
