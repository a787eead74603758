/**
 * What the account connector needs from the API, as a small port (like the sync's `SyncApi`):
 * message actions, metadata by ID, labels, import, drafts and attachment upload.
 * {@link accountApiFor} implements it over a logged-in {@link ApiClient}; unit tests hand the
 * connector a fake.
 *
 * @module
 */
import {
  type ApiClient,
  type Attachment,
  type CreateDraftInput,
  createDraftOnce,
  createLabel,
  type CreateLabelReq,
  deleteLabel,
  deleteMessages,
  getLabels,
  getMessageMetadataPage,
  type ImportItem,
  importMessages,
  type ImportResult,
  type Label,
  labelMessages,
  markForwarded,
  markRead,
  markUnforwarded,
  markUnread,
  MAX_PAGE_SIZE,
  type Message,
  type MessageMetadata,
  unlabelMessages,
  updateLabel,
  type UpdateLabelReq,
  uploadAttachment,
} from "../api/mod.ts";
import type { CreateAttachmentReq } from "../api/types.ts";
import { findParent, type ParentInfo, type ReferenceFields } from "./parent_lookup.ts";

/** The API calls of the account connector. */
export interface AccountApi {
  /** `PUT /mail/v4/messages/read`. */
  markRead(ids: readonly string[]): Promise<void>;
  /** `PUT /mail/v4/messages/unread`. */
  markUnread(ids: readonly string[]): Promise<void>;
  /** `PUT /mail/v4/messages/forward`. */
  markForwarded(ids: readonly string[]): Promise<void>;
  /** `PUT /mail/v4/messages/unforward`. */
  markUnforwarded(ids: readonly string[]): Promise<void>;
  /** `PUT /mail/v4/messages/label`: adds a label, or moves into a folder/location. */
  label(ids: readonly string[], labelId: string): Promise<void>;
  /** `PUT /mail/v4/messages/unlabel`. */
  unlabel(ids: readonly string[], labelId: string): Promise<void>;
  /** `PUT /mail/v4/messages/delete`: permanent deletion. */
  deleteMessages(ids: readonly string[]): Promise<void>;
  /** Current metadata of these messages (those the server still has; any order). */
  metadata(ids: readonly string[]): Promise<MessageMetadata[]>;
  /** Metadata of the messages with this `ExternalID` (Message-ID) in this label (50 at most). */
  withExternalId(externalId: string, labelId: string): Promise<MessageMetadata[]>;
  /** Labels of one type (or all types Bridge lists). */
  labels(type?: number): Promise<Label[]>;
  /** `POST /core/v4/labels`. */
  createLabel(req: CreateLabelReq): Promise<Label>;
  /** `PUT /core/v4/labels/{id}`. */
  updateLabel(id: string, req: UpdateLabelReq): Promise<Label>;
  /** `DELETE /core/v4/labels/{id}`. */
  deleteLabel(id: string): Promise<void>;
  /** `POST /mail/v4/messages/import`: one result per item. */
  importMessages(items: readonly ImportItem[]): Promise<ImportResult[]>;
  /**
   * `POST /mail/v4/messages`: a new draft; after a lost reply, found again unless `isKnown`
   * (the index) knows it (`createDraftOnce`).
   */
  createDraft(input: CreateDraftInput, isKnown?: (messageID: string) => boolean): Promise<Message>;
  /** `POST /mail/v4/attachments`: an attachment of a draft. */
  uploadAttachment(req: CreateAttachmentReq): Promise<Attachment>;
  /**
   * The message a reply or forward answers ({@link findParent}; in split mode only `addressId`'s
   * messages). A failed lookup answers "no parent".
   */
  findParent(refs: ReferenceFields, addressId?: string): Promise<ParentInfo>;
}

/** The {@link AccountApi} of a logged-in client. */
export function accountApiFor(client: ApiClient): AccountApi {
  return {
    markRead: (ids) => markRead(client, ids),
    markUnread: (ids) => markUnread(client, ids),
    markForwarded: (ids) => markForwarded(client, ids),
    markUnforwarded: (ids) => markUnforwarded(client, ids),
    label: (ids, labelId) => labelMessages(client, ids, labelId),
    unlabel: (ids, labelId) => unlabelMessages(client, ids, labelId),
    deleteMessages: (ids) => deleteMessages(client, ids),
    async metadata(ids) {
      const out: MessageMetadata[] = [];
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += MAX_PAGE_SIZE) {
        const part = unique.slice(i, i + MAX_PAGE_SIZE);
        const page = await getMessageMetadataPage(client, 0, MAX_PAGE_SIZE, { ID: part });
        out.push(...page.Messages);
      }
      return out;
    },
    withExternalId: async (externalId, labelId) =>
      (await getMessageMetadataPage(client, 0, 50, { ExternalID: externalId, LabelID: labelId }))
        .Messages,
    labels: (type) => type === undefined ? getLabels(client) : getLabels(client, type),
    createLabel: (req) => createLabel(client, req),
    updateLabel: (id, req) => updateLabel(client, id, req),
    deleteLabel: (id) => deleteLabel(client, id),
    importMessages: (items) => importMessages(client, items),
    createDraft: (input, isKnown) => createDraftOnce(client, input, isKnown),
    uploadAttachment: (req) => uploadAttachment(client, req),
    findParent: (refs, addressId) => findParent(client, refs, addressId),
  };
}
