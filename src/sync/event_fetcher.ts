/**
 * The event loop's {@link MessageFetcher} over the first sync's ports: the message and its
 * attachments are downloaded through a {@link SyncApi} and built by a {@link MessageBuilder}
 * (a `BuildPool`), so a message enters the index the same way from an event as from the sync.
 *
 * @module
 */
import { ApiError, type MessageMetadata } from "../api/mod.ts";
import type { RemoteMessageId } from "../store/mod.ts";
import type { FetchedMessage, MessageFetcher } from "./event_apply.ts";
import type { MessageBuilder } from "./initial_sync.ts";
import type { SyncApi } from "./sync_api.ts";

function gone(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 422 || error.status === 404);
}

/**
 * Downloads (message, then its attachments in order) and builds. A message or attachment the
 * server no longer has (404/422) makes the message `undefined` (gone); other errors propagate
 * (the event is retried). Build failures come back as placeholders (`built.status` `"failed"`).
 *
 * @example
 * ```ts ignore
 * const fetcher = eventMessageFetcher(syncApiFor(client), pool);
 * const loop = new EventLoop({ account, store, source: apiEventSource(client), fetcher, bus });
 * ```
 */
export function eventMessageFetcher(api: SyncApi, builder: MessageBuilder): MessageFetcher {
  return {
    async fetch(remoteId: RemoteMessageId): Promise<FetchedMessage | undefined> {
      try {
        const message = await api.message(remoteId);
        const attachments = new Map<string, Uint8Array>();
        for (const a of Array.isArray(message.Attachments) ? message.Attachments : []) {
          attachments.set(a.ID, await api.attachment(a.ID));
        }
        const output = await builder.build(message, attachments);
        const { literal, ...built } = output;
        const { Header: _h, ParsedHeaders: _p, Body: _b, MIMEType: _t, Attachments: _a, ...meta } =
          message;
        return { metadata: meta as MessageMetadata, built, literal };
      } catch (error) {
        if (gone(error)) return undefined;
        throw error;
      }
    },
  };
}
