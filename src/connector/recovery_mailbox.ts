/**
 * The local-only mailbox "Recovered Messages" (gluon's recovery mailbox, proton-api.md §5.2;
 * ARCHITECTURE invariant 5): an APPEND the API refuses is kept here, as a message with no remote
 * ID, so the client's data is never lost. The mailbox is created on first use (kind `local`, no
 * remote ID); its messages are parsed with `src/mime` like any built message, so FETCH works from
 * the index and the literal cache. COPY and MOVE into it are refused (`copy_move.ts`); EXPUNGE
 * there deletes the local message. In split address mode the message belongs to the address whose
 * login appended it (other addresses' views do not show it); in combined mode to no address.
 *
 * @module
 */
import type { Mailbox, MailboxId, RemoteAddressId, Store, Uid } from "../store/mod.ts";
import { contentOf } from "../sync/message_build.ts";
import type { AppendResult } from "./account.ts";
import { type ConnectorContext, publish, refuse } from "./connector_context.ts";
import type { ParsedFlags } from "./flag_mapping.ts";
import type { UpdateData } from "./updates.ts";

/** The recovery mailbox's name. */
export const RECOVERY_MAILBOX_NAME = "Recovered Messages";

/** The recovery mailbox, if it exists. */
export function recoveryMailbox(store: Store): Mailbox | undefined {
  const mailbox = store.mailboxes.byName(RECOVERY_MAILBOX_NAME);
  return mailbox && mailbox.kind === "local" ? mailbox : undefined;
}

/**
 * The recovery mailbox, created when missing (synchronous; the caller publishes
 * `MailboxCreated` when `created`).
 * @throws {MailboxOperationError} `CANNOT` when a non-local mailbox holds the name.
 */
export function ensureRecoveryMailbox(store: Store): { mailbox: Mailbox; created: boolean } {
  const existing = store.mailboxes.byName(RECOVERY_MAILBOX_NAME);
  if (existing) {
    if (existing.kind !== "local") {
      refuse("CANNOT", `The mailbox name ${RECOVERY_MAILBOX_NAME} is taken`);
    }
    return { mailbox: existing, created: false };
  }
  return {
    mailbox: store.mailboxes.create({ name: RECOVERY_MAILBOX_NAME, kind: "local", remoteId: null }),
    created: true,
  };
}

/** What {@link storeLocalMessage} takes. */
export interface LocalMessage {
  literal: Uint8Array;
  flags: ParsedFlags;
  /** INTERNALDATE, Unix seconds. */
  internalDate: number;
}

/**
 * Stores a message that exists only here in a local mailbox (the recovery mailbox when
 * `mailboxId` is not given), caches its literal and publishes the new UID.
 *
 * @param reason Why it was not imported (set as `recovered` in the result), if it was refused.
 * @throws {MailboxOperationError} `UNAVAILABLE` when the literal cannot be cached (nothing kept).
 */
export async function storeLocalMessage(
  ctx: ConnectorContext,
  origin: string,
  message: LocalMessage,
  options: { mailboxId?: MailboxId; reason?: string } = {},
): Promise<AppendResult> {
  const { store } = ctx;
  const built = contentOf(message.literal, "ok");
  const updates: UpdateData[] = [];
  // Committed, published after the cache write: the bus knows in between (UpdateBus.hold).
  const release = ctx.bus.hold(ctx.id);
  try {
    const { mailbox, id, uid } = store.transaction(() => {
      let mailbox: Mailbox;
      if (options.mailboxId !== undefined) {
        const found = store.mailboxes.get(options.mailboxId);
        if (!found || found.kind !== "local") refuse("CANNOT", "Not a local mailbox");
        mailbox = found;
      } else {
        const ensured = ensureRecoveryMailbox(store);
        mailbox = ensured.mailbox;
        if (ensured.created) {
          updates.push({
            kind: "MailboxCreated",
            mailbox: mailbox.id,
            name: mailbox.name,
            remoteId: null,
            attributes: mailbox.attributes,
          });
        }
      }
      const id = store.messages.insert({
        remoteId: null,
        // Split mode: the address that appended it, so only its login sees it (another address's
        // view must not show it); combined mode: every login sees the account's mail anyway.
        addressId: ctx.combined ? null : ctx.addressId as RemoteAddressId,
        internalDate: message.internalDate,
        size: built.literalSize,
        envelope: built.envelope,
        bodyStructure: built.bodyStructure,
        body: built.body,
        header: built.headerBytes,
        flags: message.flags.bits,
        keywords: message.flags.keywords,
      });
      const [uid] = store.membership.add(mailbox.id, [id]);
      if (message.flags.deleted) store.membership.setDeleted(mailbox.id, [uid], true);
      return { mailbox, id, uid };
    });
    try {
      await ctx.literals.put(id, message.literal);
    } catch (error) {
      store.transaction(() => store.messages.delete(id));
      publish(ctx, updates, origin);
      refuse("UNAVAILABLE", "The message could not be stored locally; try again", error);
    }
    updates.push({ kind: "MessagesCreated", mailbox: mailbox.id, uids: [uid as Uid] });
    publish(ctx, updates, origin);
    if (options.reason !== undefined) {
      ctx.log(`connector: an appended message was kept in ${mailbox.name}: ${options.reason}`);
    }
    return {
      uidValidity: mailbox.uidValidity,
      uid,
      mailbox: mailbox.id,
      ...(options.reason !== undefined ? { recovered: options.reason } : {}),
    };
  } finally {
    release();
  }
}
