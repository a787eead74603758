/**
 * Shared fixtures for the event apply and event loop unit tests: labels, metadata, a fake
 * fetcher that "builds" a message from its metadata, and helpers to read an index back.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Event, Label, MessageMetadata } from "../api/mod.ts";
import type { UpdateData } from "../connector/updates.ts";
import type { RemoteMessageId, Store } from "../store/mod.ts";
import type { BuiltContent } from "./apply.ts";
import type { FetchedMessage, MessageFetcher } from "./event_apply.ts";

/** A label as the API sends it. */
export function label(ID: string, Type: number, Name: string, extra: Partial<Label> = {}): Label {
  return { ID, Type, Name, Path: extra.Path ?? Name, Color: "#f66", ...extra };
}

/** The system labels of a fresh account. */
export const SYSTEM_LABELS: Label[] = [
  ["0", "Inbox"],
  ["1", "All Drafts"],
  ["2", "All Sent"],
  ["3", "Trash"],
  ["4", "Spam"],
  ["5", "All Mail"],
  ["6", "Archive"],
  ["7", "Sent"],
  ["8", "Drafts"],
  ["9", "Outbox"],
  ["10", "Starred"],
  ["12", "Scheduled"],
].map(([id, name]) => label(id, 4, name));

/** Message metadata with recognisable defaults (received, unread, in Inbox). */
export function metadata(id: string, overrides: Partial<MessageMetadata> = {}): MessageMetadata {
  return {
    ID: id,
    AddressID: "addr",
    LabelIDs: ["0", "5"],
    ExternalID: "",
    Subject: "s",
    Sender: { Name: "", Address: "a@b.c" },
    ToList: [],
    CCList: [],
    BCCList: [],
    ReplyTos: [],
    Flags: 1,
    Time: 1_700_000_000,
    Size: 100,
    Unread: 1,
    IsReplied: 0,
    IsRepliedAll: 0,
    IsForwarded: 0,
    NumAttachments: 0,
    ...overrides,
  };
}

/** An event reply with the given items. */
export function event(id: string, changes: Partial<Event> = {}): Event {
  return { EventID: id, Refresh: 0, More: 0, ...changes };
}

/** What the fake fetcher builds: the body text decides the literal. */
export function fakeBuilt(id: string, body = `body of ${id}`): FetchedMessage {
  const literal = new TextEncoder().encode(`Subject: ${id}\r\n\r\n${body}\r\n`);
  const built: BuiltContent = {
    literalSize: literal.length,
    envelope: `(NIL "${id}" NIL NIL NIL NIL NIL NIL NIL NIL)`,
    bodyStructure: `("text" "plain" NIL NIL NIL "7bit" ${literal.length} 1 NIL NIL NIL NIL)`,
    body: `("text" "plain" NIL NIL NIL "7bit" ${literal.length} 1)`,
    headerBytes: new TextEncoder().encode(`Subject: ${id}\r\n\r\n`),
    status: "ok",
    literalSha256: new Uint8Array(createHash("sha256").update(literal).digest()),
  };
  return { metadata: metadata(id), built, literal };
}

/** A fetcher over a map of bodies; IDs not in `bodies` are gone (422). Counts calls. */
export function fakeFetcher(bodies: Map<string, string> = new Map()) {
  const calls: string[] = [];
  const failNext: unknown[] = [];
  const fetcher: MessageFetcher = {
    fetch(remoteId: RemoteMessageId) {
      calls.push(remoteId);
      const error = failNext.shift();
      if (error !== undefined) return Promise.reject(error);
      const body = bodies.get(remoteId);
      return Promise.resolve(body === undefined ? undefined : fakeBuilt(remoteId, body));
    },
  };
  return { fetcher, calls, bodies, failNext };
}

/** `mailbox name → [[uid, remote message ID]…]` for every mailbox with messages. */
export function indexView(store: Store): Record<string, [number, string][]> {
  const out: Record<string, [number, string][]> = {};
  for (const m of store.mailboxes.list()) {
    const rows = store.membership.fetchRows(m.id, [{
      first: 1 as never,
      last: 0xFFFF_FFFF as never,
    }]);
    if (rows.length) out[m.name] = rows.map((r) => [r.uid, r.remoteId ?? ""]);
  }
  return out;
}

/** Updates with mailbox IDs replaced by names (readable assertions). */
export function namedUpdates(store: Store, updates: readonly UpdateData[]): unknown[] {
  const name = (id: number) => store.mailboxes.get(id as never)?.name ?? `#${id}`;
  return updates.map((u) => {
    switch (u.kind) {
      case "MessagesCreated":
      case "MessagesExpunged":
        return [u.kind, name(u.mailbox), u.uids];
      case "MembershipChanged":
        return [
          u.kind,
          u.remoteId,
          u.added.map((r) => [name(r.mailbox), r.uid]),
          u.removed.map((r) => [name(r.mailbox), r.uid]),
        ];
      case "FlagsChanged":
        return [u.kind, u.changes.map((c) => [c.flags, c.memberships.map((r) => name(r.mailbox))])];
      case "MailboxCreated":
        return [u.kind, u.name];
      case "MailboxRenamed":
        return [u.kind, u.oldName, u.newName];
      case "MailboxDeleted":
        return [u.kind, u.name];
      case "UidValidityBumped":
        return [u.kind, u.mailboxes.length];
    }
  });
}
