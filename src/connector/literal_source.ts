/**
 * The RFC 822 bytes of a message for FETCH (ARCHITECTURE invariant 3: the same bytes every time).
 * They come from the encrypted literal cache; on a miss the message is downloaded and rebuilt with
 * the sync's builder (deterministic: the same message gives the same bytes), cached, and returned.
 * Concurrent misses of one message share one download.
 *
 * A rebuild is served only when it is the literal the index describes: the same SHA-256, or, for a
 * message indexed before digests were recorded, the same size, ENVELOPE, BODYSTRUCTURE, BODY and
 * header block (its digest is recorded then). Otherwise (the builder changed since the message was
 * indexed, or a draft changed before its event came) its UIDs must not show the new bytes: the
 * message is replaced (expunged everywhere, added again with new UIDs, as the event loop replaces a
 * changed draft) and the caller gets `EXPUNGEISSUED`; clients see EXPUNGE and EXISTS and fetch the
 * new UID. A rebuild that fails (e.g. its address key is locked now) is not served in place of a
 * message that built, nor of a placeholder with other bytes: `UNAVAILABLE`, try again later.
 *
 * A message that exists only here (the recovery mailbox) cannot be rebuilt: its literal lives in
 * the cache alone.
 *
 * @module
 */
import type { InternalMessageId, StoredMessage } from "../store/mod.ts";
import { builtDiffers, type FetchedMessage, replaceMessage } from "../sync/event_apply.ts";
import { MailboxOperationError } from "./account.ts";
import { apiFailure, type ConnectorContext, publish, refuse } from "./connector_context.ts";

/** Reads literals through the cache, rebuilding on a miss. */
export class LiteralSource {
  #ctx: ConnectorContext;
  #inFlight = new Map<InternalMessageId, Promise<Uint8Array>>();

  constructor(ctx: ConnectorContext) {
    this.#ctx = ctx;
  }

  /**
   * The literal of a message.
   * @throws {MailboxOperationError} `UNAVAILABLE` when it can be neither read nor rebuilt now,
   *   `NONEXISTENT` when the message is not in the index, `EXPUNGEISSUED` when the rebuild was
   *   another literal and replaced the message (see the module notes).
   */
  async literal(id: InternalMessageId): Promise<Uint8Array> {
    const cached = await this.#ctx.literals.get(id).catch(() => undefined);
    if (cached) return cached;
    const running = this.#inFlight.get(id);
    if (running) return await running;
    const job = this.#rebuild(id).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, job);
    return await job;
  }

  async #rebuild(id: InternalMessageId): Promise<Uint8Array> {
    const { store, fetcher, literals, log } = this.#ctx;
    const message = store.messages.get(id);
    if (!message) refuse("NONEXISTENT", "The message no longer exists");
    if (message.remoteId === null) {
      refuse("UNAVAILABLE", "The stored copy of this local message cannot be read");
    }
    let fetched;
    try {
      fetched = await fetcher.fetch(message.remoteId);
    } catch (error) {
      const failure = apiFailure("Downloading the message", error);
      throw failure.code === "CANNOT"
        ? new MailboxOperationError("UNAVAILABLE", failure.message, { cause: error })
        : failure;
    }
    if (!fetched) refuse("UNAVAILABLE", "The message no longer exists on the server");
    const now = store.messages.get(id);
    if (!now || now.remoteId !== message.remoteId) {
      refuse("EXPUNGEISSUED", "The message was expunged while it was being downloaded");
    }
    const differs = builtDiffers(now, fetched.built);
    // A failed rebuild never replaces anything: not a message that built, and not an earlier
    // placeholder either (its text names the reason, which may differ from attempt to attempt;
    // the event loop builds failed messages again and replaces them once they build).
    if (fetched.built.status === "failed" && (now.buildStatus === "ok" || differs)) {
      log(`connector: message ${id} could not be rebuilt: ${fetched.built.reason ?? "unknown"}`);
      refuse("UNAVAILABLE", "The message cannot be rebuilt now; try again later");
    }
    if (differs) {
      await this.#replace(now, fetched);
      refuse(
        "EXPUNGEISSUED",
        "The message was rebuilt with other content than its UID had and now has a new UID",
      );
    }
    if (!now.literalSha256) store.messages.recordLiteralSha256(id, fetched.built.literalSha256);
    try {
      await literals.put(id, fetched.literal);
    } catch (error) {
      log(
        `connector: could not cache a literal: ${error instanceof Error ? error.message : error}`,
      );
    }
    return fetched.literal;
  }

  /** Replaces `message` by its new build (new UIDs), caches the new literal, drops the old. */
  async #replace(message: StoredMessage, fetched: FetchedMessage): Promise<void> {
    const ctx = this.#ctx;
    const { store, literals, log } = ctx;
    log(
      `connector: message ${message.id} was rebuilt with other bytes than it was indexed with ` +
        `(${message.size} then, ${fetched.built.literalSize} now): replaced under new UIDs`,
    );
    // Committed, then cached, then published: the bus holds the updates in between.
    const release = ctx.bus.hold(ctx.id);
    try {
      const replaced = store.transaction(() =>
        replaceMessage(store, fetched.metadata, fetched.built)
      );
      await literals.put(replaced.id, fetched.literal).catch((error) =>
        log(
          `connector: could not cache a literal: ${error instanceof Error ? error.message : error}`,
        )
      );
      if (replaced.replaced !== undefined) {
        await literals.delete(replaced.replaced).catch(() => {});
      }
      publish(ctx, replaced.updates, "connector");
    } finally {
      release();
    }
  }
}
