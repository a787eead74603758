/**
 * The RFC 822 bytes of a message for FETCH (ARCHITECTURE invariant 3: the same bytes every time).
 * They come from the encrypted literal cache; on a miss the message is downloaded and rebuilt with
 * the sync's builder (deterministic: the same message gives the same bytes), cached, and returned.
 * Concurrent misses of one message share one download.
 *
 * A message that exists only here (the recovery mailbox) cannot be rebuilt: its literal lives in
 * the cache alone.
 *
 * @module
 */
import type { InternalMessageId } from "../store/mod.ts";
import { MailboxOperationError } from "./account.ts";
import { apiFailure, type ConnectorContext, refuse } from "./connector_context.ts";

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
   *   `NONEXISTENT` when the message is not in the index.
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
    if (fetched.literal.length !== message.size) {
      log(
        `connector: rebuilt literal of message ${id} has ${fetched.literal.length} bytes, ` +
          `the index says ${message.size}`,
      );
    }
    try {
      await literals.put(id, fetched.literal);
    } catch (error) {
      log(
        `connector: could not cache a literal: ${error instanceof Error ? error.message : error}`,
      );
    }
    return fetched.literal;
  }
}
