/**
 * The send pipeline behind the SMTP server (proton-api.md §3.6, §1.6, §1.9, §1.10): what happens
 * to a message a client submitted, from its bytes to `POST /mail/v4/messages/{id}`.
 *
 * 1. Take the message apart ({@link parseOutgoing}); a message without a `From:` field is
 *    refused (`554 5.6.0`).
 * 2. Resolve the sender ({@link resolveSender}: `From:` first, `+tag` kept, enabled sending address
 *    of the account, the login address in split mode; else `550 5.7.1`).
 * 3. Duplicate check ({@link SendRecorder.begin}): an identical message to the same envelope
 *    recipients sent within the window is answered with the first send's ID and not sent again.
 *    When such a send was made but its answer lost ({@link UnconfirmedSendError}: `451`, the draft
 *    kept), the retry first asks the API what became of that draft: sent → answered with its ID,
 *    nothing sent again; still a draft → the draft is deleted and the message sent now.
 * 4. Recipients come from the envelope (`RCPT TO`): those in `To:`/`Cc:` keep their place and
 *    display name, all others (named in `Bcc:` or nowhere) go to Bcc; header addresses that are not
 *    envelope recipients are dropped. Bcc never reaches any recipient's copy.
 * 5. In parallel: every recipient's keys and contact settings ({@link lookupRecipient}), and the
 *    parent of a reply or forward ({@link findParent}).
 * 6. Scheme per recipient ({@link chooseScheme}) with the account's mail settings.
 * 7. Create the draft (body encrypted to the sender address' key; `ParentID`, `Action`,
 *    `ExternalID` = the Message-ID; a lost reply is looked up by it, never repeated:
 *    `createDraftOnce`), upload the attachments in order (inline ones with their Content-ID; the
 *    sender's public key too when `AttachPublicKey` is on; a lost reply fails the send with 451
 *    rather than storing an attachment twice), build the packages and send.
 * 8. Record the send (for duplicate checks and APPEND to Sent), delete drafts the references named
 *    (a client that sent a saved draft), answer `250 2.0.0 OK <sent message ID>`.
 *
 * A failure after the draft was created and before it was sent deletes the draft again when the
 * API refused the request outright (nothing was sent); every failure becomes a
 * {@link SubmissionError} (see `send_error.ts`).
 *
 * @module
 */
import { createDraftOnce, encryptDraftBody, sendDraft } from "../api/drafts.ts";
import { uploadAttachment } from "../api/attachments.ts";
import { deleteMessages } from "../api/message_actions.ts";
import { buildSendPackages, type PackageRecipient } from "../api/send_packages.ts";
import { getMessageMetadataPage } from "../api/messages.ts";
import type { ApiClient } from "../api/transport.ts";
import {
  type EmailAddress,
  type Message,
  MessageFlag,
  type MessageMetadata,
  SystemLabel,
} from "../api/types.ts";
import { encryptAttachment } from "../crypto/attachment.ts";
import { fromBase64 } from "../crypto/base64.ts";
import type { KeyRing } from "../crypto/key_ring.ts";
import { decryptSessionKey, type SessionKey } from "../crypto/session_key.ts";
import { newMessageId } from "../mime/mod.ts";
import {
  messageHash,
  SendRecorder,
  type SendTicket,
  type UncertainSend,
} from "../connector/send_recorder.ts";
import {
  type OutgoingAttachment,
  type OutgoingMessage,
  parseOutgoing,
} from "./outgoing_message.ts";
import { findParent, type ParentInfo } from "../connector/parent_lookup.ts";
import { appendToMimeBody, publicKeyAttachment } from "./public_key_attachment.ts";
import { lookupRecipient } from "./recipient_lookup.ts";
import { chooseScheme, type RecipientScheme } from "./recipient_scheme.ts";
import { type ResolvedSender, resolveSender } from "./sender_address.ts";
import type { SendingAccount } from "./sending_account.ts";
import {
  certainlyNotSent,
  isApiRefusal,
  toSubmissionError,
  UnconfirmedSendError,
} from "./send_error.ts";
import { type Submission, SubmissionError, type SubmissionHandler } from "./submission.ts";

/** Options of {@link createSubmissionHandler}. */
export interface SubmissionHandlerOptions {
  /**
   * Remembers sends for duplicate suppression and APPEND to Sent; default a new recorder with
   * suppression on and the official bridge's 30-minute window. Share one with the IMAP side.
   */
  recorder?: SendRecorder;
  /** Diagnostics (no message contents, no addresses of recipients); default `console.warn`. */
  log?: (line: string) => void;
  /** Recipient lookups run at most this many at a time (default 4); attachments go one by one. */
  concurrency?: number;
  /**
   * How long after an unconfirmed send whose draft is still a draft a retry is put off, in ms
   * (default {@link UNCONFIRMED_GRACE_MS}; tests use less).
   */
  unconfirmedGraceMs?: number;
}

/** What a send resolved to (for logs and tests). */
interface Outcome {
  messageID: string;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * An address as compared between the envelope and the header: lower case, and a quoted local
 * part unquoted (`RCPT TO:<"john doe"@x>` names the `To: "john doe"@x` the header parser reads as
 * `john doe@x`).
 */
function addressKey(address: string): string {
  const a = address.trim();
  const m = /^"((?:[^"\\]|\\.)*)"(@.*)$/.exec(a);
  return (m ? m[1].replace(/\\(.)/g, "$1") + m[2] : a).toLowerCase();
}

/** The draft's recipient lists from the envelope and the header (see step 4 of the module text). */
export function draftRecipients(
  message: Pick<OutgoingMessage, "to" | "cc" | "bcc">,
  rcptTo: readonly string[],
): { to: EmailAddress[]; cc: EmailAddress[]; bcc: EmailAddress[] } {
  const envelope = new Map<string, string>();
  for (const r of rcptTo) {
    const key = addressKey(r);
    if (key && !envelope.has(key)) envelope.set(key, r.trim());
  }
  const placed = new Set<string>();
  const take = (list: readonly { name: string; address: string }[]): EmailAddress[] => {
    const out: EmailAddress[] = [];
    for (const a of list) {
      const key = addressKey(a.address);
      if (!envelope.has(key) || placed.has(key)) continue;
      placed.add(key);
      // The header's spelling, unless it differs from RCPT's by more than case: the header
      // parser's form drops the quotes of a quoted local part (`"john smith"@x` would go out as
      // another, invalid address), RCPT keeps them.
      const rcpt = envelope.get(key)!;
      const same = rcpt.toLowerCase() === a.address.toLowerCase();
      out.push({ Name: a.name, Address: same ? a.address : rcpt });
    }
    return out;
  };
  const to = take(message.to);
  const cc = take(message.cc);
  const bcc = take(message.bcc);
  for (const [key, address] of envelope) {
    if (!placed.has(key)) {
      placed.add(key);
      bcc.push({ Name: "", Address: address });
    }
  }
  return { to, cc, bcc };
}

/**
 * The submission handler the SMTP server runs for every accepted message (see the module text).
 *
 * @example
 * ```ts ignore
 * const recorder = new SendRecorder({ enabled: config.smtp_send.duplicate_suppression });
 * const server = await startSmtpServer<SendingAccount>({
 *   authenticator,                       // returns SendingAccount objects
 *   submission: createSubmissionHandler({ recorder, log }),
 * });
 * ```
 */
export function createSubmissionHandler(
  options: SubmissionHandlerOptions = {},
): SubmissionHandler<SendingAccount> {
  const recorder = options.recorder ?? new SendRecorder();
  const log = options.log ?? ((line: string) => console.warn(line));
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const graceMs = Math.max(0, options.unconfirmedGraceMs ?? UNCONFIRMED_GRACE_MS);

  return {
    async submit(submission: Submission<SendingAccount>) {
      const account = submission.account;
      const message = parseOutgoing(submission.data);
      // Without a From: field the envelope sender is the author (RFC 6409 §8.1 lets a
      // submission server add the field; the API writes it from the draft's sender). With the
      // null reverse-path as well there is no author to name.
      if (!message.from && !submission.mailFrom) {
        throw new SubmissionError(
          "the message has no From: header field and MAIL FROM names no sender",
          { code: 554, enhanced: "5.6.0" },
        );
      }
      let addresses;
      try {
        addresses = await account.addresses();
      } catch (e) {
        throw toSubmissionError(e, "look up the account's addresses");
      }
      const sender = resolveSender({
        from: message.from,
        mailFrom: submission.mailFrom,
        username: account.username,
        addresses,
        mode: account.addressMode,
      });
      // Only a message with a Message-ID is taken for a repeat of the same send.
      const begun = await recorder.begin(
        account.id,
        messageHash(submission.data),
        submission.rcptTo,
        { suppress: message.messageID !== undefined },
      );
      if (begun.kind === "duplicate") {
        log(
          `smtp: duplicate send suppressed: identical message to the same recipients was sent ` +
            `as ${begun.messageID} ${Math.round((Date.now() - begun.sentAt) / 1000)} s ago ` +
            `(account ${account.id})`,
        );
        return { queuedAs: begun.messageID };
      }
      if (begun.kind === "busy") {
        throw new SubmissionError(
          "an identical message to the same recipients is still being sent; " +
            "try again in a few minutes",
          { code: 451, enhanced: "4.3.0" },
        );
      }
      let ticket: SendTicket;
      if (begun.kind === "uncertain") {
        const earlier = await earlierSend(account.client, begun, graceMs, log);
        if (earlier === "sent") {
          log(
            `smtp: the unconfirmed earlier send of this message did go out as ${begun.draftID}; ` +
              `not sent again (account ${account.id})`,
          );
          // What the first attempt did not get to after its send: drafts the references name.
          const parent = await findParent(
            account.client,
            message,
            account.addressMode === "split" ? sender.address.ID : undefined,
          );
          await deleteDrafts(account.client, parent, log);
          return { queuedAs: begun.draftID };
        }
        ticket = earlier;
      } else ticket = begun;
      try {
        const outcome = await send(account, submission, message, sender, log, concurrency);
        ticket.sent(outcome.messageID);
        return { queuedAs: outcome.messageID };
      } catch (e) {
        if (e instanceof UnconfirmedSendError) ticket.uncertain(e.draftID);
        else ticket.failed();
        throw e;
      }
    },
  };
}

/**
 * An unconfirmed send that ended less than this long ago and whose draft is still a draft may
 * still be under way on the server (our request timed out, the server's did not): the retry is
 * answered "try again later" rather than sent beside it.
 */
export const UNCONFIRMED_GRACE_MS = 2 * 60 * 1000;

/**
 * What became of an earlier send of the same message that was not confirmed: `"sent"` when its
 * draft is now a sent message (settled as such); a temporary failure when it is still a draft
 * but young (`graceMs`, default {@link UNCONFIRMED_GRACE_MS}) or cannot be looked up (kept as it was: nothing is
 * sent twice on a guess); else a ticket to send now, after deleting the draft it left.
 */
async function earlierSend(
  client: ApiClient,
  earlier: UncertainSend,
  graceMs: number,
  log: (line: string) => void,
): Promise<"sent" | SendTicket> {
  let found: MessageMetadata | undefined;
  try {
    const page = await getMessageMetadataPage(client, 0, 1, { ID: [earlier.draftID] });
    found = page.Messages.find((m) => m.ID === earlier.draftID);
  } catch (e) {
    earlier.keep();
    throw toSubmissionError(e, "check whether an earlier send of this message went out");
  }
  if (found && (found.Flags & MessageFlag.Sent) !== 0) {
    earlier.confirm();
    return "sent";
  }
  if (found && earlier.ageMs < graceMs) {
    earlier.keep();
    throw new SubmissionError(
      "an earlier attempt to send this message may still be under way; " +
        "try again in a few minutes",
      { code: 451, enhanced: "4.3.0" },
    );
  }
  if (found) {
    await deleteMessages(client, [earlier.draftID]).catch((e) =>
      log(`smtp: could not delete the draft of an unconfirmed send (${errorName(e)})`)
    );
  }
  return earlier.retry();
}

/**
 * Whether the message `id` (a draft a send was made from: a sent message keeps its ID) went out,
 * from its metadata; `unknown` when that cannot be read.
 */
async function sendState(client: ApiClient, id: string): Promise<"sent" | "draft" | "unknown"> {
  try {
    const page = await getMessageMetadataPage(client, 0, 1, { ID: [id] });
    const found = page.Messages.find((m) => m.ID === id);
    return found && (found.Flags & MessageFlag.Sent) !== 0 ? "sent" : "draft";
  } catch {
    return "unknown";
  }
}

async function send(
  account: SendingAccount,
  submission: Submission<SendingAccount>,
  message: OutgoingMessage,
  sender: ResolvedSender,
  log: (line: string) => void,
  concurrency: number,
): Promise<Outcome> {
  const client = account.client;
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw toSubmissionError(e, what);
    }
  };
  const [settings, ring] = await Promise.all([
    step("read the mail settings", () => account.mailSettings()),
    step("unlock the sender address' keys", () => account.addressKeys(sender.address)),
  ]);
  const addressKey = ring.first();
  const lists = draftRecipients(message, submission.rcptTo);
  const recipients = [...lists.to, ...lists.cc, ...lists.bcc].map((a) => a.Address);
  if (recipients.length === 0) {
    throw new SubmissionError("the message has no recipients", { code: 554, enhanced: "5.5.1" });
  }
  const verification = account.unlocked.userKeys.publicKeys();
  const [infos, parent] = await Promise.all([
    step(
      "look up the recipients' keys",
      () => mapLimit(recipients, concurrency, (r) => lookupRecipient(client, r, verification)),
    ),
    findParent(
      client,
      message,
      account.addressMode === "split" ? sender.address.ID : undefined,
      (e) => log(`smtp: parent lookup failed (${errorName(e)}); sending without a parent`),
    ),
  ]);
  let schemes: RecipientScheme[];
  try {
    schemes = infos.map((recipient) =>
      chooseScheme({
        recipient,
        settings,
        messageMimeType: message.mimeType,
        secured: message.secured,
      })
    );
  } catch (e) {
    throw toSubmissionError(e, "choose how to send");
  }

  const attachments = [...message.attachments];
  let mimeBody = message.mimeBody;
  if (settings.AttachPublicKey === 1 && !message.secured) {
    const key = publicKeyAttachment(addressKey, sender.address.Email);
    attachments.push(key);
    if (schemes.some((s) => s.mimeType === "multipart/mixed")) {
      mimeBody = appendToMimeBody(mimeBody, key);
    }
  }

  const body = message.mimeType === "text/html" ? message.richBody : message.plainBody;
  const known = account.knownAsOfNow(); // before the request: see createDraftOnce
  const draft = await step("create the draft", async () =>
    createDraftOnce(client, {
      Message: {
        Subject: message.subject,
        Sender: { Name: sender.name, Address: sender.email },
        ToList: lists.to,
        CCList: lists.cc,
        BCCList: lists.bcc,
        Body: await encryptDraftBody(body, addressKey),
        MIMEType: message.mimeType,
        Unread: 0,
        // A message without a Message-ID gets one (RFC 6409 §8.3): the draft is found by it
        // when the reply to its creation is lost (createDraftOnce).
        ExternalID: message.messageID ?? newMessageId(sender.email),
      },
      ParentID: parent.parentID,
      Action: parent.action,
    }, known));
  let sent: Message;
  let sending = false;
  try {
    const attachmentKeys = await step(
      "upload the attachments",
      () => uploadAll(client, draft.ID, attachments, ring),
    );
    const packages = await step("encrypt the message", () =>
      buildSendPackages({
        addressKey,
        mimeType: message.mimeType,
        body,
        plainBody: message.plainBody,
        mimeBody,
        attachmentKeys,
        recipients: schemes.map(packageRecipient),
      }));
    sending = true;
    sent = await step(
      "send the message",
      () => sendDraft(client, draft.ID, { Packages: packages }),
    );
  } catch (e) {
    // Nothing was sent (the send was not tried, or certainly not done: refused, rate limited,
    // unavailable): do not leave the draft behind. After a lost reply, a time-out or another
    // server error the message may have gone out, so the draft stays.
    const cause = e instanceof SubmissionError ? e.cause : e;
    if (sending && isApiRefusal(cause)) {
      // A refusal is also what a send the server had already done gets when it reaches the
      // server again (a proxy repeating it after a lost reply: "Message is not a draft"): look
      // before deleting what may be the sent message.
      const state = await sendState(client, draft.ID);
      if (state === "unknown") throw new UnconfirmedSendError(draft.ID, cause);
      if (state === "sent") {
        log(`smtp: the send of ${draft.ID} was refused, but the message had gone out`);
        await deleteDrafts(client, parent, log);
        await deleteLeftoverDrafts(client, message.messageID, draft.ID, log);
        return { messageID: draft.ID };
      }
    }
    if (!sending || certainlyNotSent(cause)) {
      await deleteMessages(client, [draft.ID]).catch(() => {});
      throw e;
    }
    throw new UnconfirmedSendError(draft.ID, cause);
  }
  await deleteDrafts(client, parent, log);
  await deleteLeftoverDrafts(client, message.messageID, sent.ID, log);
  log(
    `smtp: sent ${sent.ID} (account ${account.id}, ${recipients.length} recipient(s), ` +
      `${attachments.length} attachment(s), schemes ${summary(schemes)})`,
  );
  return { messageID: sent.ID };
}

function packageRecipient(s: RecipientScheme): PackageRecipient {
  return {
    email: s.email,
    scheme: s.scheme,
    signature: s.signature,
    publicKey: s.publicKey,
    mimeType: s.mimeType,
  };
}

function summary(schemes: RecipientScheme[]): string {
  const counts = new Map<number, number>();
  for (const s of schemes) counts.set(s.scheme, (counts.get(s.scheme) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}×${n}`).join(",");
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}

async function uploadAll(
  client: SendingAccount["client"],
  draftID: string,
  attachments: OutgoingAttachment[],
  ring: KeyRing,
): Promise<Record<string, SessionKey>> {
  const key = ring.first();
  // Uploaded one after the other in the message's order (a draft lists its attachments in the
  // order they were created, and that is the order recipients get), the next one encrypted while
  // this one uploads: at most two encrypted attachments in memory.
  const encrypt = (i: number) =>
    i < attachments.length ? encryptAttachment(attachments[i].data, key, key) : undefined;
  let next = encrypt(0);
  next?.catch(() => {}); // awaited below; a failure must not be unhandled meanwhile
  const sessionKeys: Record<string, SessionKey> = {};
  for (const [i, a] of attachments.entries()) {
    const enc = await next!;
    next = encrypt(i + 1);
    next?.catch(() => {});
    const att = await uploadAttachment(client, {
      MessageID: draftID,
      Filename: a.name,
      MIMEType: a.contentType,
      Disposition: a.disposition === "inline" && a.contentID ? "inline" : "attachment",
      ContentID: a.contentID,
      KeyPackets: enc.keyPackets,
      DataPacket: enc.dataPacket,
      Signature: enc.signature,
    });
    sessionKeys[att.ID] = await decryptSessionKey(fromBase64(att.KeyPackets), [...ring.keys]);
  }
  return sessionKeys;
}

/**
 * After a send, the drafts of the same message (same Message-ID) that are still drafts: what an
 * attempt cut short before its send left (bridge stopped, the machine crashed; the client's retry
 * made a new draft), or the client's own saved draft of it. They would stay in Drafts for good,
 * inviting a second send. Nothing is looked up for a message without its own Message-ID (the one
 * bridge gave it is new each time).
 */
async function deleteLeftoverDrafts(
  client: SendingAccount["client"],
  messageID: string | undefined,
  sentID: string,
  log: (line: string) => void,
): Promise<void> {
  if (!messageID) return;
  try {
    const page = await getMessageMetadataPage(client, 0, 50, {
      ExternalID: messageID,
      LabelID: SystemLabel.Drafts,
    });
    const left = page.Messages.filter((m) =>
      m.ID !== sentID && m.ExternalID === messageID &&
      (m.Flags & (MessageFlag.Sent | MessageFlag.Received)) === 0
    ).map((m) => m.ID);
    if (left.length === 0) return;
    await deleteMessages(client, left);
    log(`smtp: deleted ${left.length} draft(s) of the sent message left by an earlier attempt`);
  } catch (e) {
    log(`smtp: could not look for drafts of the sent message (${errorName(e)})`);
  }
}

async function deleteDrafts(
  client: SendingAccount["client"],
  parent: ParentInfo,
  log: (line: string) => void,
): Promise<void> {
  if (parent.draftIDs.length === 0) return;
  try {
    await deleteMessages(client, parent.draftIDs);
  } catch (e) {
    log(`smtp: could not delete the sent draft(s) (${errorName(e)})`);
  }
}
