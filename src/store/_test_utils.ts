/**
 * Shared fixtures for the store's tests.
 *
 * @module
 */
import type { RemoteAddressId, RemoteLabelId, RemoteMessageId, Uid } from "./ids.ts";
import type { UidRange } from "./membership.ts";
import type { SyncedMessage } from "./messages.ts";
import { Store, type StoreOptions } from "./store.ts";

/** A built message with recognisable fields; `n` makes IDs and dates distinct. */
export function sampleMessage(n: number, overrides: Partial<SyncedMessage> = {}): SyncedMessage {
  return {
    remoteId: `msg-${n}` as RemoteMessageId,
    addressId: "addr-1" as RemoteAddressId,
    internalDate: 1_700_000_000 + n * 60,
    size: 1000 + n,
    flags: 0,
    envelope: `("date" "subject ${n}" NIL NIL NIL NIL NIL NIL NIL "<${n}@example.org>")`,
    bodyStructure: `("text" "plain" ("charset" "utf-8") NIL NIL "7bit" ${n} 1 NIL NIL NIL NIL)`,
    body: `("text" "plain" ("charset" "utf-8") NIL NIL "7bit" ${n} 1)`,
    header: new TextEncoder().encode(`Subject: subject ${n}\r\n\r\n`),
    ...overrides,
  };
}

/** Label IDs as the API spells system locations. */
export const LABEL = {
  inbox: "0" as RemoteLabelId,
  allMail: "5" as RemoteLabelId,
  trash: "3" as RemoteLabelId,
  starred: "10" as RemoteLabelId,
  work: "label-work" as RemoteLabelId,
};

/** A store in a fresh temporary directory, removed by `cleanup`. */
export function tempStore(options: StoreOptions = {}): {
  store: Store;
  path: string;
  reopen: (more?: StoreOptions) => Store;
  cleanup: () => void;
} {
  const dir = Deno.makeTempDirSync({ prefix: "store_test_" });
  const path = `${dir}/index.sqlite`;
  const opened: Store[] = [];
  const open = (o: StoreOptions) => {
    const s = Store.open(path, o);
    opened.push(s);
    return s;
  };
  return {
    store: open(options),
    path,
    reopen: (more = {}) => {
      opened.forEach((s) => s.close());
      return open({ ...options, ...more });
    },
    cleanup: () => {
      opened.forEach((s) => s.close());
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** A store with INBOX, All Mail, Trash, Starred, a user label and a local mailbox. */
export function withMailboxes(store: Store) {
  const box = (name: string, kind: "system" | "label" | "local", remoteId: RemoteLabelId | null) =>
    store.mailboxes.create({ name, kind, remoteId });
  return {
    inbox: box("INBOX", "system", LABEL.inbox),
    allMail: box("All Mail", "system", LABEL.allMail),
    trash: box("Trash", "system", LABEL.trash),
    starred: box("Starred", "system", LABEL.starred),
    work: box("Labels/Work", "label", LABEL.work),
    recovered: box("Recovered Messages", "local", null),
  };
}

/** A UID range from plain numbers (`last` defaults to `first`). */
export function uidRange(first: number, last = first): UidRange {
  return { first: first as Uid, last: last as Uid };
}
