/**
 * What the first sync needs from the API, as a small port (proton-bridge `syncservice`
 * `interfaces.go` `APIClient`): labels, the message count, metadata pages newest → oldest, one
 * full message, one attachment. {@link syncApiFor} implements it over the real {@link ApiClient};
 * tests can hand the sync a fake.
 *
 * @module
 */
import {
  type ApiClient,
  getAttachment,
  getGroupedMessageCount,
  getLabels,
  getMessage,
  iterateMetadataNewestFirst,
  type Label,
  MAX_PAGE_SIZE,
  type Message,
  type MessageMetadata,
  SystemLabel,
} from "../api/mod.ts";

/** The API calls of the first sync. */
export interface SyncApi {
  /** System labels, folders and labels (types 4, 3, 1). */
  labels(): Promise<Label[]>;
  /** Messages in the account: the `Total` of All Mail (label 5). */
  messageCount(): Promise<number>;
  /** Metadata pages, newest message first (`Desc` + `EndID`), `pageSize` per page. */
  metadataNewestFirst(pageSize: number): AsyncIterable<MessageMetadata[]>;
  /** A full message. Rejects with an `ApiError` of status 422 when it is gone. */
  message(id: string): Promise<Message>;
  /** An attachment's encrypted data packet. */
  attachment(id: string): Promise<Uint8Array>;
}

/** The {@link SyncApi} of a logged-in client. */
export function syncApiFor(client: ApiClient): SyncApi {
  return {
    labels: () => getLabels(client),
    async messageCount() {
      const counts = await getGroupedMessageCount(client);
      const all = counts.find((c) => c.LabelID === SystemLabel.AllMail);
      return Math.max(0, Number(all?.Total) || 0);
    },
    metadataNewestFirst: (pageSize) =>
      iterateMetadataNewestFirst(client, {}, Math.min(MAX_PAGE_SIZE, Math.max(1, pageSize))),
    message: (id) => getMessage(client, id),
    attachment: (id) => getAttachment(client, id),
  };
}
