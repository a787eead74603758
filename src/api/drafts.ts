/**
 * Drafts and sending (go-proton-api `message_send.go`, `message_draft_types.go`,
 * `message_send_types.go`; proton-api.md §1.9, §1.10):
 *
 * - create: `POST /mail/v4/messages` (no method override) `{Message, AttachmentKeyPackets,
 *   ParentID?, Action}` → `{Message}`;
 * - update: `PUT /mail/v4/messages/{id}` `{Message, AttachmentKeyPackets}` → `{Message}`;
 * - send: `POST /mail/v4/messages/{id}` `{Packages}` → `{Sent}` (build the packages with
 *   `buildSendPackages` of `send_packages.ts`).
 *
 * The draft `Body` travels armored, encrypted to the sender address' first key and not signed;
 * {@link encryptDraftBody} makes it.
 *
 * @module
 */
import type * as openpgp from "openpgp";
import { encryptMessage } from "../crypto/message.ts";
import { field, seg } from "./_reply.ts";
import { ApiError, NetworkError } from "./errors.ts";
import { getMessage, getMessageMetadataPage } from "./messages.ts";
import type { ApiClient } from "./transport.ts";
import type {
  CreateDraftReq,
  DraftTemplate,
  Message,
  MessagePackage,
  SendDraftReq,
  UpdateDraftReq,
} from "./types.ts";
import { DraftAction, SystemLabel } from "./types.ts";

/** What {@link createDraft} takes: `AttachmentKeyPackets` and `Action` may be left out. */
export interface CreateDraftInput {
  Message: DraftTemplate;
  AttachmentKeyPackets?: string[] | null;
  ParentID?: string;
  /** Default {@link DraftAction.Reply} (0), as go-proton-api's zero value. */
  Action?: number;
}

/** What {@link updateDraft} takes. */
export interface UpdateDraftInput {
  Message: DraftTemplate;
  AttachmentKeyPackets?: string[] | null;
}

/**
 * Encrypts a draft body to the sender address' first key, unsigned and armored, as
 * go-proton-api's `CreateDraft` does.
 */
export function encryptDraftBody(
  plaintext: string,
  addressKey: openpgp.PrivateKey | openpgp.PublicKey,
): Promise<string> {
  return encryptMessage({ data: plaintext, encryptionKeys: [addressKey] });
}

/** The wire form of a template: `ExternalID` omitted when empty. */
function template(t: DraftTemplate): DraftTemplate {
  const out: DraftTemplate = {
    Subject: t.Subject,
    Sender: t.Sender,
    ToList: t.ToList ?? [],
    CCList: t.CCList ?? [],
    BCCList: t.BCCList ?? [],
    Body: t.Body,
    MIMEType: t.MIMEType,
    Unread: t.Unread ? 1 : 0,
  };
  if (t.ExternalID) out.ExternalID = t.ExternalID;
  return out;
}

/** The wire body of draft creation. */
export function createDraftBody(input: CreateDraftInput): CreateDraftReq {
  const req: CreateDraftReq = {
    Message: template(input.Message),
    AttachmentKeyPackets: input.AttachmentKeyPackets ?? null,
    Action: input.Action ?? DraftAction.Reply,
  };
  if (input.ParentID) req.ParentID = input.ParentID;
  return req;
}

/** `POST /mail/v4/messages`: creates a draft (its `Body` must already be encrypted). */
export async function createDraft(client: ApiClient, input: CreateDraftInput): Promise<Message> {
  const path = "/mail/v4/messages";
  return field<Message>(
    await client.post(path, createDraftBody(input), { once: true }),
    "Message",
    "POST",
    path,
  );
}

/**
 * {@link createDraft}, safe against a lost reply. The request is never repeated (a repeat could
 * make a second draft); when it fails where the server may have created the draft all the same
 * (the reply lost or timed out, a 5xx) and the draft has an `ExternalID`, the drafts with that
 * `ExternalID` and subject created since the request began that `isKnown` does not know (the
 * caller's index: an earlier saved version of the same message is never taken for it) are looked
 * up: exactly one is the draft, returned as if the reply had come. Otherwise the original error.
 */
export async function createDraftOnce(
  client: ApiClient,
  input: CreateDraftInput,
  isKnown: (messageID: string) => boolean = () => false,
): Promise<Message> {
  const since = Math.floor(client.serverTime().getTime() / 1000) - 2;
  try {
    return await createDraft(client, input);
  } catch (error) {
    const externalID = input.Message.ExternalID;
    const mayHaveActed = error instanceof NetworkError ||
      (error instanceof ApiError && error.status >= 500);
    if (!externalID || !mayHaveActed) throw error;
    const made = await getMessageMetadataPage(client, 0, 50, {
      ExternalID: externalID,
      LabelID: SystemLabel.AllDrafts,
    }).then(
      (page) =>
        page.Messages.filter((m) =>
          m.Time >= since && m.Subject === input.Message.Subject && !isKnown(m.ID)
        ),
      () => [],
    );
    if (made.length !== 1) throw error;
    return await getMessage(client, made[0].ID).catch(() => {
      throw error;
    });
  }
}

/** `PUT /mail/v4/messages/{id}`: replaces a draft's fields (an empty `Body` keeps the old one). */
export async function updateDraft(
  client: ApiClient,
  draftID: string,
  input: UpdateDraftInput,
): Promise<Message> {
  const path = `/mail/v4/messages/${seg(draftID)}`;
  const body: UpdateDraftReq = {
    Message: template(input.Message),
    AttachmentKeyPackets: input.AttachmentKeyPackets ?? null,
  };
  return field<Message>(await client.put(path, body), "Message", "PUT", path);
}

/**
 * `POST /mail/v4/messages/{id}`: sends a draft with one package per recipient group.
 *
 * @returns The sent message (now in Sent).
 * @throws {ApiError} 422 Code 2001 when the server refuses the packages.
 */
export async function sendDraft(
  client: ApiClient,
  draftID: string,
  req: SendDraftReq | { Packages: MessagePackage[] },
): Promise<Message> {
  const path = `/mail/v4/messages/${seg(draftID)}`;
  // Sending is not idempotent: never repeat it after a 5xx or a dropped connection.
  const reply = await client.post(path, { Packages: req.Packages }, { maxRetries: 0 });
  return field<Message>(reply, "Sent", "POST", path);
}
