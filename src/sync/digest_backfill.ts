/**
 * The literal digests an index written before they were kept lacks (migration 6 leaves them
 * NULL), filled in from the literal cache in the background: the cached literal is what the
 * message's UIDs have shown, so its SHA-256 pins it. Afterwards a literal rebuilt after a cache
 * miss is compared byte for byte (`builtDiffers`) instead of by size and FETCH data, which would
 * miss a builder change that keeps the length and structure but changes body bytes.
 *
 * Runs once per start while there is work, a batch at a time with a turn of the event loop
 * between batches (the thread serves IMAP); messages whose literal is not cached keep no digest
 * until a rebuild records one.
 *
 * @module
 */
import type { InternalMessageId, Store } from "../store/mod.ts";
import { literalSha256 } from "./message_build.ts";

/** Options of {@link backfillLiteralDigests}. */
export interface BackfillOptions {
  /** Messages per batch (default 200). */
  batch?: number;
  /** Stop between batches when this says so (the account is stopping). */
  stopped?: () => boolean;
}

/**
 * Records the SHA-256 of every cached literal whose message has no digest yet. Resolves to the
 * number recorded. Never throws: an unreadable entry is skipped.
 */
export async function backfillLiteralDigests(
  store: Store,
  literals: { get(id: InternalMessageId): Promise<Uint8Array | undefined> },
  options: BackfillOptions = {},
): Promise<number> {
  const batch = Math.max(1, options.batch ?? 200);
  let after = 0;
  let recorded = 0;
  for (;;) {
    if (options.stopped?.()) return recorded;
    let rows: { id: InternalMessageId; size: number }[];
    try {
      rows = store.messages.withoutLiteralSha256(after, batch);
    } catch {
      return recorded; // the index was closed under us
    }
    if (rows.length === 0) return recorded;
    for (const { id, size } of rows) {
      if (options.stopped?.()) return recorded;
      after = id;
      const literal = await literals.get(id).catch(() => undefined);
      if (!literal || options.stopped?.()) continue;
      try {
        // Only a literal of the indexed size (a stale entry, left by a crash between an index
        // change and its cache write in an older version, is not pinned).
        if (literal.length !== size) continue;
        store.messages.recordLiteralSha256(id, literalSha256(literal));
        recorded++;
      } catch {
        return recorded;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
